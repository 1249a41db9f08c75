//! Host tests of the engine: a RAM fake of [`Memory`], the helpers every class's tests use,
//! and the cross-class behaviour (conditions, PC operands, endianness, errors). Each class
//! family's tests are in the file of the same name.

mod branch_and_system;
mod data_processing;
mod load_store;
mod media;
mod multiply;
mod slot_rewrite;
mod thumb16;
mod thumb32;
mod thumb32_assembled;
mod thumb32_register_only;

use super::*;
use crate::decode::RejectReason;
use std::vec::Vec;

const ADDR: u32 = 0x8000;
const RAM: u32 = 0x1000;
/// SVC mode, IRQ and FIQ masked, flags clear.
const SVC: u32 = 0x1d3;

/// 256 bytes of little-endian memory at `RAM`, recording barriers and hints.
struct Ram {
    bytes: [u8; 256],
    barriers: Vec<Barrier>,
    hints: Vec<Hint>,
}

impl Ram {
    fn new() -> Ram {
        let mut bytes = [0; 256];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        Ram {
            bytes,
            barriers: Vec::new(),
            hints: Vec::new(),
        }
    }

    fn index(&self, address: u32, len: u32, access: Access) -> Result<usize, MemoryFault> {
        let off = address.wrapping_sub(RAM);
        if off.checked_add(len).is_some_and(|end| end <= 256) {
            Ok(off as usize)
        } else {
            Err(MemoryFault { address, access })
        }
    }

    fn word(&self, address: u32) -> u32 {
        let i = (address - RAM) as usize;
        u32::from_le_bytes(self.bytes[i..i + 4].try_into().unwrap())
    }

    fn put(&mut self, address: u32, value: u32) {
        let i = (address - RAM) as usize;
        self.bytes[i..i + 4].copy_from_slice(&value.to_le_bytes());
    }
}

impl Memory for Ram {
    fn read_u8(&mut self, address: u32) -> Result<u8, MemoryFault> {
        Ok(self.bytes[self.index(address, 1, Access::Read)?])
    }
    fn read_u16(&mut self, address: u32) -> Result<u16, MemoryFault> {
        let i = self.index(address, 2, Access::Read)?;
        Ok(u16::from_le_bytes([self.bytes[i], self.bytes[i + 1]]))
    }
    fn read_u32(&mut self, address: u32) -> Result<u32, MemoryFault> {
        self.index(address, 4, Access::Read)?;
        Ok(self.word(address))
    }
    fn write_u8(&mut self, address: u32, value: u8) -> Result<(), MemoryFault> {
        let i = self.index(address, 1, Access::Write)?;
        self.bytes[i] = value;
        Ok(())
    }
    fn write_u16(&mut self, address: u32, value: u16) -> Result<(), MemoryFault> {
        let i = self.index(address, 2, Access::Write)?;
        self.bytes[i..i + 2].copy_from_slice(&value.to_le_bytes());
        Ok(())
    }
    fn write_u32(&mut self, address: u32, value: u32) -> Result<(), MemoryFault> {
        self.index(address, 4, Access::Write)?;
        self.put(address, value);
        Ok(())
    }
    fn barrier(&mut self, barrier: Barrier) {
        self.barriers.push(barrier);
    }
    fn hint(&mut self, hint: Hint) {
        self.hints.push(hint);
    }
}

fn frame(regs: &[(usize, u32)], cpsr: u32) -> TrapFrame {
    let mut f = TrapFrame {
        pc: ADDR,
        cpsr,
        ..TrapFrame::default()
    };
    for &(n, v) in regs {
        f.set_reg(n, v);
    }
    f
}

/// Steps `word` at `ADDR`; panics on an error.
fn run(word: u32, regs: &[(usize, u32)], cpsr: u32) -> TrapFrame {
    let mut f = frame(regs, cpsr);
    step(Insn(word), ADDR, &mut f, &mut Ram::new()).unwrap();
    f
}

fn flags(n: bool, z: bool, c: bool, v: bool) -> u32 {
    (n as u32) << 31 | (z as u32) << 30 | (c as u32) << 29 | (v as u32) << 28
}

#[test]
fn pc_operand_reads_address_plus_eight() {
    let f = run(0xe08f_f100, &[(0, 1)], SVC); // add pc, pc, r0, lsl #2
    assert_eq!(f.pc, ADDR + 12);
    let f = run(0xe28f_0008, &[], SVC); // adr r0, . + 16
    assert_eq!(f.r[0], ADDR + 16);
}

#[test]
fn failing_condition_only_advances_pc() {
    let f = run(0x03a0_0001, &[(0, 7)], SVC); // moveq r0, #1 with Z clear
    assert_eq!((f.r[0], f.pc, f.cpsr), (7, ADDR + 4, SVC));
    let f = run(0x03a0_0001, &[(0, 7)], SVC | psr::Z);
    assert_eq!(f.r[0], 1);
    let f = run(0x1a00_0010, &[(14, 9)], SVC | psr::Z); // bne not taken
    assert_eq!((f.pc, f.lr), (ADDR + 4, 9));
}

fn run_mem(
    word: u32,
    at: u32,
    regs: &[(usize, u32)],
    cpsr: u32,
    ram: &mut Ram,
) -> Result<TrapFrame, StepError> {
    let mut f = frame(regs, cpsr);
    f.pc = at;
    step(Insn(word), at, &mut f, ram).map(|()| f)
}

#[test]
fn big_endian_data_is_byte_swapped() {
    let mut ram = Ram::new();
    ram.put(RAM, 0x0403_0201);
    let be = SVC | psr::E;
    assert_eq!(
        run_mem(0xe591_0000, ADDR, &[(1, RAM)], be, &mut ram)
            .unwrap()
            .r[0],
        0x0102_0304
    );
    assert_eq!(
        run_mem(0xe1d1_00b0, ADDR, &[(1, RAM)], be, &mut ram)
            .unwrap()
            .r[0],
        0x0102
    );
    run_mem(
        0xe581_0004,
        ADDR,
        &[(0, 0x0a0b_0c0d), (1, RAM)],
        be,
        &mut ram,
    )
    .unwrap();
    assert_eq!(ram.bytes[4..8], [0x0a, 0x0b, 0x0c, 0x0d]);
}

#[test]
fn every_step_error_is_reported_and_leaves_the_frame() {
    let mut ram = Ram::new();
    type ErrorCase = (u32, &'static [(usize, u32)], u32, StepError);
    let cases: [ErrorCase; 6] = [
        (
            0xef00_0000,
            &[],
            SVC,
            StepError::Rejected(RejectReason::ExceptionGenerating),
        ),
        (0xe1a0_0000, &[], SVC | psr::T, StepError::ThumbState),
        (
            0xe591_0000,
            &[(1, 0)],
            SVC,
            StepError::Memory(MemoryFault {
                address: 0,
                access: Access::Read,
            }),
        ),
        (
            0xe581_0000,
            &[(1, 0)],
            SVC,
            StepError::Memory(MemoryFault {
                address: 0,
                access: Access::Write,
            }),
        ),
        (
            0xe891_0003,
            &[(1, RAM + 1)],
            SVC,
            StepError::AlignmentFault { address: RAM + 1 },
        ),
        (
            0xe12f_ff12,
            &[(2, 0x2)],
            SVC,
            StepError::UnpredictablePcWrite { target: 2 },
        ),
    ];
    let mut texts = Vec::new();
    for (w, regs, cpsr, want) in cases {
        let mut f = frame(regs, cpsr);
        let before = f;
        assert_eq!(
            step(Insn(w), ADDR, &mut f, &mut ram),
            Err(want),
            "{w:#010x}"
        );
        assert_eq!(f, before);
        texts.push(want.to_string());
    }
    texts.push(StepError::UnalignedPcLoad { address: 1 }.to_string());
    for (i, t) in texts.iter().enumerate() {
        assert!(!texts[..i].contains(t), "{t}");
    }
}
