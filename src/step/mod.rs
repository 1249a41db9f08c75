//! The single-step engine: makes a probed instruction behave exactly as if it had run in place.
//!
//! [`step`] decodes an instruction and [`simulate`]s it over a [`TrapFrame`] and a
//! [`Memory`] accessor: the condition is checked against the frame's flags (a failing
//! condition only advances the PC), PC operands read as the instruction's address + 8,
//! results, NZCV, Q and GE\[3:0\] are written as the ARMv7 ARM pseudo-code writes them, and a
//! write to PC interworks as ARMv7 does in ARM state (BXWritePC for loads, LDM, BX/BLX and
//! data-processing results; bit 0 set selects Thumb by setting CPSR.T).
//!
//! Everything here is pure Rust, so every class runs in host tests; the only effects outside
//! the frame go through [`Memory`] — loads, stores, barriers and the hints whose effect
//! reaches other CPUs (SEV) or the power state (WFE/WFI).
//!
//! Why simulation and not emulation in a slot: every supported class has integer pseudo-code
//! we can follow bit for bit, so simulating is exact and testable here, costs no executable
//! memory and no cache maintenance per probe, and works before any slot region exists. The
//! few things simulation cannot reproduce (atomicity of exclusives and SWP, banked state the
//! frame does not hold, coprocessors) are rejected by the decoder instead. On failure the
//! frame is left untouched (stores already performed by an STM stay, as a data abort would
//! leave them).
//!
//! [`emulation`] still offers the slot rewrite (registers renamed onto r0–r3, the slot
//! words, loading and storing the frame) for register-only classes, as an opt-in fallback;
//! host tests prove it equivalent to simulation on every conformance case, and `arch::emulate`
//! (ARM builds) runs the slot on the CPU, where the test kernel proves it equal to both
//! simulation and native execution.
//!
//! The files: [`simulate`] sets up a `StepFrame` (the frame being stepped) and `dispatch`
//! sends each [`SimKind`] to the file of its class family — `data_processing`, `multiply`,
//! `media` (saturating, parallel, extend/pack/reverse, bit fields, CLZ), `load_store`,
//! `load_store_multiple`, `branch` and `system` (MRS, hints, barriers, preloads). The ARM
//! ARM pseudo-code functions they share are in `pseudocode`, the [`Memory`] seam in
//! `memory`, [`StepError`] in `error`, the slot rewrite in `slot_rewrite`.

mod branch;
mod data_processing;
mod dispatch;
mod error;
mod frame;
mod load_store;
mod load_store_multiple;
mod media;
mod memory;
mod multiply;
mod pseudocode;
mod slot_rewrite;
mod system;

pub use error::StepError;
pub use memory::{Access, Barrier, Hint, Memory, MemoryFault};
pub use slot_rewrite::{
    EMULATION_SLOT_BYTES, EMULATION_SLOT_INSN, EMULATION_SLOT_WORDS, Emulation, EmulationBlock,
    emulation, slot_words,
};

use crate::decode::{Decoded, SimKind, decode};
use crate::frame::TrapFrame;
use crate::insn::Insn;
use frame::StepFrame;

/// CPSR bits the engine reads or writes.
pub mod psr {
    /// Negative.
    pub const N: u32 = 1 << 31;
    /// Zero.
    pub const Z: u32 = 1 << 30;
    /// Carry.
    pub const C: u32 = 1 << 29;
    /// Overflow.
    pub const V: u32 = 1 << 28;
    /// Sticky saturation.
    pub const Q: u32 = 1 << 27;
    /// GE\[3:0\], bits 19:16.
    pub const GE: u32 = 0xf << 16;
    /// Big-endian data.
    pub const E: u32 = 1 << 9;
    /// Thumb state.
    pub const T: u32 = 1 << 5;
    /// The If-Then state, IT\[1:0\] (bits 26:25) and IT\[7:2\] (bits 15:10).
    pub const IT: u32 = 0x0600_fc00;
    /// What MRS returns of the CPSR in a privileged mode: the execution-state bits (IT, J,
    /// T) read as zero.
    pub const MRS_MASK: u32 = 0xf8ff_03df;
}

/// Single-steps the instruction `insn`, which sits at `addr`, over `frame` and `mem`, as if
/// it had run in place. On return `frame.pc` is where execution continues.
///
/// # Errors
///
/// [`StepError::Rejected`] when the decoder refuses `insn`, and every error of
/// [`simulate`]. The frame is unchanged then.
pub fn step(
    insn: Insn,
    addr: u32,
    frame: &mut TrapFrame,
    mem: &mut (impl Memory + ?Sized),
) -> Result<(), StepError> {
    match decode(insn) {
        Decoded::Rejected(reason) => Err(StepError::Rejected(reason)),
        Decoded::Simulate(kind) => simulate(kind, insn, addr, frame, mem),
    }
}

/// Runs `insn` (already decoded as `kind`) at `addr` over `frame` and `mem`. The kprobe path
/// decodes once at registration and calls this on every hit.
///
/// # Errors
///
/// [`StepError::ThumbState`] when CPSR.T is set, [`StepError::Memory`] when an access
/// faults, [`StepError::AlignmentFault`], [`StepError::UnpredictablePcWrite`] or
/// [`StepError::UnalignedPcLoad`] where the instruction would not run as defined in
/// place. The frame is unchanged then.
pub fn simulate(
    kind: SimKind,
    insn: Insn,
    addr: u32,
    frame: &mut TrapFrame,
    mem: &mut (impl Memory + ?Sized),
) -> Result<(), StepError> {
    if frame.cpsr & psr::T != 0 {
        return Err(StepError::ThumbState);
    }
    let mut stepped = StepFrame {
        f: TrapFrame::default(),
        addr,
        pc_written: false,
    };
    copy_frame(&mut stepped.f, frame);
    if insn.cond().passes(frame.cpsr) {
        stepped.execute(kind, insn.word(), mem)?;
    }
    if !stepped.pc_written {
        stepped.f.pc = addr.wrapping_add(4);
    }
    copy_frame(frame, &stepped.f);
    Ok(())
}

/// `*dst = *src`, as a 64-byte copy of r0–r15 and a word for the CPSR: LLVM's ARM
/// backend expands a constant copy of up to 64 bytes inline (LDM/STM), but calls
/// `memcpy` for the 68-byte frame — two of those were a third of a probe hit.
#[inline(always)]
fn copy_frame(dst: &mut TrapFrame, src: &TrapFrame) {
    const REGS: usize = 16;
    const _: () = assert!(TrapFrame::OFFSET_CPSR == 4 * REGS);
    // SAFETY: TrapFrame is #[repr(C)] with only u32 fields: r[0..13], sp, lr, pc are
    // its first 16 words, contiguous and 4-byte aligned (asserted above: cpsr follows at
    // 64), so both pointers are valid, aligned views of [u32; 16] inside the two
    // frames, which are distinct objects (a &mut and a & cannot alias).
    unsafe {
        *(dst as *mut TrapFrame).cast::<[u32; REGS]>() =
            *(src as *const TrapFrame).cast::<[u32; REGS]>();
    }
    dst.cpsr = src.cpsr;
}

/// Bits `lsb + 3..=lsb` of `w`: a register field.
const fn field(w: u32, lsb: u32) -> usize {
    ((w >> lsb) & 0xf) as usize
}

/// Bit `n` of `w`.
const fn bit(w: u32, n: u32) -> bool {
    w & (1 << n) != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::RejectReason;
    use crate::step::slot_rewrite::APSR_BITS;
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
    fn adds_sets_negative_and_overflow_on_signed_wrap() {
        let f = run(0xe091_0002, &[(1, 0x7fff_ffff), (2, 1)], SVC); // adds r0, r1, r2
        assert_eq!(f.r[0], 0x8000_0000);
        assert_eq!(f.cpsr, SVC | flags(true, false, false, true));
        assert_eq!(f.pc, ADDR + 4);
    }

    #[test]
    fn subs_of_equal_operands_sets_zero_and_carry() {
        let f = run(0xe051_0002, &[(1, 5), (2, 5)], SVC); // subs r0, r1, r2
        assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
    }

    #[test]
    fn carry_using_arithmetic_reads_the_carry_flag() {
        let f = run(0xe0c1_0002, &[(1, 10), (2, 3)], SVC); // sbc r0, r1, r2, C = 0
        assert_eq!(f.r[0], 6);
        let f = run(0xe0e1_0002, &[(1, 10), (2, 3)], SVC | psr::C); // rsc r0, r1, r2
        assert_eq!(f.r[0], (-7i32) as u32);
        let f = run(0xe0a1_0002, &[(1, 10), (2, 3)], SVC | psr::C); // adc r0, r1, r2
        assert_eq!(f.r[0], 14);
        assert_eq!(f.cpsr, SVC | psr::C, "no S bit: flags unchanged");
    }

    #[test]
    fn immediate_shifts_follow_decode_imm_shift() {
        // movs r0, r1, lsl #1: carry out is bit 31; V is left alone.
        let f = run(0xe1b0_0081, &[(1, 0x8000_0001)], SVC | psr::V);
        assert_eq!((f.r[0], f.cpsr), (2, SVC | flags(false, false, true, true)));
        // lsr #0 encodes lsr #32.
        let f = run(0xe1b0_0021, &[(1, 0x8000_0000)], SVC);
        assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
        // asr #0 encodes asr #32.
        let f = run(0xe1b0_0041, &[(1, 0x8000_0000)], SVC);
        assert_eq!(
            (f.r[0], f.cpsr),
            (u32::MAX, SVC | flags(true, false, true, false))
        );
        // ror #0 encodes rrx.
        let f = run(0xe1b0_0061, &[(1, 1)], SVC | psr::C);
        assert_eq!(
            (f.r[0], f.cpsr),
            (0x8000_0000, SVC | flags(true, false, true, false))
        );
    }

    #[test]
    fn register_shifts_use_the_bottom_byte_of_rs() {
        let lsl = 0xe1b0_0211; // movs r0, r1, lsl r2
        let f = run(lsl, &[(1, 3), (2, 32)], SVC);
        assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
        let f = run(lsl, &[(1, 3), (2, 33)], SVC | psr::C);
        assert_eq!(
            (f.r[0], f.cpsr),
            (0, SVC | flags(false, true, false, false))
        );
        let f = run(lsl, &[(1, 3), (2, 0x100)], SVC | psr::C);
        assert_eq!((f.r[0], f.cpsr), (3, SVC | psr::C), "shift by 0 keeps C");
        let f = run(0xe1b0_0271, &[(1, 0x8000_0000), (2, 32)], SVC); // ror r2 == 32
        assert_eq!(
            (f.r[0], f.cpsr),
            (0x8000_0000, SVC | flags(true, false, true, false))
        );
        let f = run(0xe1b0_0251, &[(1, 0x8000_0000), (2, 40)], SVC); // asr by 40
        assert_eq!(
            (f.r[0], f.cpsr),
            (u32::MAX, SVC | flags(true, false, true, false))
        );
    }

    #[test]
    fn rotated_immediates_set_carry_only_when_rotated() {
        let f = run(0xe3b0_0102, &[], SVC); // movs r0, #0x80000000
        assert_eq!(
            (f.r[0], f.cpsr),
            (0x8000_0000, SVC | flags(true, false, true, false))
        );
        let f = run(0xe211_00ff, &[(1, 0x100)], SVC | psr::C); // ands r0, r1, #0xff
        assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
        let f = run(0xe351_0005, &[(1, 3)], SVC); // cmp r1, #5
        assert_eq!(f.cpsr, SVC | flags(true, false, false, false));
        assert_eq!(f.r[0], 0, "compare writes no register");
    }

    #[test]
    fn alu_write_to_pc_interworks() {
        let f = run(0xe1a0_f00e, &[(14, 0x2001)], SVC); // mov pc, lr
        assert_eq!((f.pc, f.cpsr), (0x2000, SVC | psr::T));
        let f = run(0xe1a0_f00e, &[(14, 0x2000)], SVC);
        assert_eq!((f.pc, f.cpsr), (0x2000, SVC));
        let mut f = frame(&[(14, 0x2002)], SVC);
        let before = f;
        let err = step(Insn(0xe1a0_f00e), ADDR, &mut f, &mut Ram::new());
        assert_eq!(err, Err(StepError::UnpredictablePcWrite { target: 0x2002 }));
        assert_eq!(f, before, "a failed step leaves the frame alone");
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

    #[test]
    fn movw_and_movt_build_a_constant() {
        let f = run(0xe301_0234, &[(0, 0xffff_ffff)], SVC);
        assert_eq!(f.r[0], 0x1234);
        let f = run(0xe34a_0bcd, &[(0, 0x1234)], SVC);
        assert_eq!(f.r[0], 0xabcd_1234);
    }

    #[test]
    fn multiplies_and_long_multiplies() {
        let f = run(0xe010_0291, &[(1, 0x1_0000), (2, 0x1_0000)], SVC | psr::C); // muls r0, r1, r2
        assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
        let f = run(0xe020_3291, &[(1, 3), (2, 4), (3, 5)], SVC); // mla
        assert_eq!(f.r[0], 17);
        let f = run(0xe060_3291, &[(1, 3), (2, 4), (3, 5)], SVC); // mls
        assert_eq!(f.r[0], (-7i32) as u32);
        let f = run(0xe081_0392, &[(2, u32::MAX), (3, u32::MAX)], SVC); // umull r0, r1, r2, r3
        assert_eq!((f.r[0], f.r[1]), (1, 0xffff_fffe));
        let f = run(0xe0c1_0392, &[(2, u32::MAX), (3, u32::MAX)], SVC); // smull
        assert_eq!((f.r[0], f.r[1]), (1, 0));
        let f = run(0xe0f1_0392, &[(2, (-2i32) as u32), (3, 3)], SVC); // smlals from 0
        assert_eq!((f.r[0], f.r[1]), (0xffff_fffa, u32::MAX));
        assert_eq!(f.cpsr, SVC | psr::N);
        let f = run(0xe0a1_0392, &[(0, u32::MAX), (1, 1), (2, 1), (3, 1)], SVC); // umlal
        assert_eq!((f.r[0], f.r[1]), (0, 2));
        let all = u32::MAX;
        let f = run(0xe041_0392, &[(0, all), (1, all), (2, all), (3, all)], SVC); // umaal
        assert_eq!((f.r[0], f.r[1]), (all, all));
    }

    #[test]
    fn halfword_multiplies_set_q_on_accumulate_overflow() {
        // smlabb r0, r1, r2, r3: 0x8000 * 0x8000 + 2^30 == 2^31 overflows.
        let f = run(
            0xe100_3281,
            &[(1, 0x8000), (2, 0x8000), (3, 0x4000_0000)],
            SVC,
        );
        assert_eq!((f.r[0], f.cpsr), (0x8000_0000, SVC | psr::Q));
        let f = run(0xe160_02e1, &[(1, 0xffff_0000), (2, 0x0005_0000)], SVC); // smultt
        assert_eq!((f.r[0], f.cpsr), ((-5i32) as u32, SVC));
        let f = run(0xe120_32c1, &[(1, 0x2_0000), (2, 0x3_0000), (3, 10)], SVC); // smlawt
        assert_eq!(f.r[0], 16);
        let f = run(0xe120_02a1, &[(1, 0xffff_0000), (2, 3)], SVC); // smulwb
        assert_eq!(f.r[0], (-3i32) as u32);
        let f = run(0xe141_0382, &[(0, 5), (1, 0), (2, 0xffff), (3, 2)], SVC); // smlalbb
        assert_eq!((f.r[0], f.r[1]), (3, 0));
        let f = run(0xe141_0382, &[(0, 1), (1, 0), (2, 0xffff), (3, 2)], SVC);
        assert_eq!((f.r[0], f.r[1]), (u32::MAX, u32::MAX));
    }

    #[test]
    fn dual_multiplies() {
        let f = run(0xe700_f211, &[(1, 0x8000_8000), (2, 0x8000_8000)], SVC); // smuad
        assert_eq!((f.r[0], f.cpsr), (0x8000_0000, SVC | psr::Q));
        let f = run(
            0xe700_3251,
            &[(1, 0x0003_0002), (2, 0x0005_0004), (3, 100)],
            SVC,
        ); // smlsd
        assert_eq!((f.r[0], f.cpsr), (93, SVC));
        let f = run(0xe700_f271, &[(1, 0x0003_0002), (2, 0x0005_0004)], SVC); // smusdx
        assert_eq!(f.r[0], (-2i32) as u32);
        let f = run(
            0xe741_0312,
            &[(0, u32::MAX), (1, 0), (2, 0x0002_0003), (3, 0x0004_0005)],
            SVC,
        ); // smlald
        assert_eq!((f.r[0], f.r[1]), (0x16, 1));
        let f = run(
            0xe741_0352,
            &[(0, 0), (1, 0), (2, 0x0002_0003), (3, 0x0004_0005)],
            SVC,
        ); // smlsld
        assert_eq!((f.r[0], f.r[1]), (7, 0));
    }

    #[test]
    fn most_significant_word_multiplies_round_when_asked() {
        let f = run(0xe750_f211, &[(1, 0x4000_0000), (2, 0x4000_0000)], SVC); // smmul
        assert_eq!(f.r[0], 0x1000_0000);
        let f = run(0xe750_f211, &[(1, 1), (2, 0x8000_0000)], SVC);
        assert_eq!(f.r[0], u32::MAX);
        let f = run(0xe750_f231, &[(1, 1), (2, 0x8000_0000)], SVC); // smmulr
        assert_eq!(f.r[0], 0);
        let f = run(
            0xe750_3211,
            &[(1, 0x4000_0000), (2, 0x4000_0000), (3, 5)],
            SVC,
        ); // smmla
        assert_eq!(f.r[0], 0x1000_0005);
        let f = run(
            0xe750_32d1,
            &[(1, 0x4000_0000), (2, 0x4000_0000), (3, 5)],
            SVC,
        ); // smmls
        assert_eq!(f.r[0], 0xf000_0005);
    }

    #[test]
    fn divides_round_toward_zero_and_divide_by_zero_gives_zero() {
        let sdiv = 0xe710_f211;
        assert_eq!(
            run(sdiv, &[(1, (-7i32) as u32), (2, 2)], SVC).r[0],
            (-3i32) as u32
        );
        assert_eq!(run(sdiv, &[(0, 9), (1, 7), (2, 0)], SVC).r[0], 0);
        assert_eq!(
            run(sdiv, &[(1, 0x8000_0000), (2, u32::MAX)], SVC).r[0],
            0x8000_0000
        );
        assert_eq!(
            run(0xe730_f211, &[(1, u32::MAX), (2, 2)], SVC).r[0],
            0x7fff_ffff
        );
    }

    #[test]
    fn saturating_add_subtract_sets_q() {
        let f = run(0xe102_0051, &[(1, 0x7fff_ffff), (2, 1)], SVC); // qadd r0, r1, r2
        assert_eq!((f.r[0], f.cpsr), (0x7fff_ffff, SVC | psr::Q));
        let f = run(0xe122_0051, &[(1, 0x8000_0000), (2, 1)], SVC); // qsub
        assert_eq!((f.r[0], f.cpsr), (0x8000_0000, SVC | psr::Q));
        let f = run(0xe142_0051, &[(1, u32::MAX), (2, 0x4000_0000)], SVC); // qdadd
        assert_eq!((f.r[0], f.cpsr), (0x7fff_fffe, SVC | psr::Q));
        let f = run(0xe162_0051, &[(1, 0), (2, 3)], SVC); // qdsub
        assert_eq!((f.r[0], f.cpsr), ((-6i32) as u32, SVC));
    }

    const GE: u32 = 16;

    #[test]
    fn parallel_add_subtract_lanes_and_ge_flags() {
        let f = run(0xe611_0f12, &[(1, 0xffff_0001), (2, 1)], SVC | 0xc << GE); // sadd16
        assert_eq!((f.r[0], f.cpsr), (0xffff_0002, SVC | 0b0011 << GE));
        let f = run(0xe651_0f92, &[(1, 0xff01_8000), (2, 0x0101_8000)], SVC); // uadd8
        assert_eq!((f.r[0], f.cpsr), (0x0002_0000, SVC | 0b1010 << GE));
        let f = run(0xe651_0ff2, &[(1, 0x0105_00ff), (2, 0x0205_0100)], SVC); // usub8
        assert_eq!((f.r[0], f.cpsr), (0xff00_ffff, SVC | 0b0101 << GE));
        let f = run(
            0xe621_0ff2,
            &[(1, 0x807f_0010), (2, 0x01ff_0020)],
            SVC | 0x5 << GE,
        ); // qsub8
        assert_eq!(
            (f.r[0], f.cpsr),
            (0x807f_00f0, SVC | 0x5 << GE),
            "Q forms leave GE"
        );
        let f = run(0xe631_0f12, &[(1, 0x7fff_fffe), (2, 0x7fff_fffc)], SVC); // shadd16
        assert_eq!(f.r[0], 0x7fff_fffd);
        let f = run(0xe671_0f72, &[(1, 1), (2, 0x0001_0003)], SVC); // uhsub16
        assert_eq!(f.r[0], u32::MAX);
        let f = run(0xe661_0f12, &[(1, 0xfff0_0001), (2, 0x0020_0001)], SVC); // uqadd16
        assert_eq!(f.r[0], 0xffff_0002);
        let f = run(0xe611_0f32, &[(1, 0x0005_0003), (2, 0x0004_0002)], SVC); // sasx
        assert_eq!((f.r[0], f.cpsr), (0x0007_ffff, SVC | 0b1100 << GE));
        let f = run(0xe651_0f52, &[(1, 0x0001_ffff), (2, 0x0002_0001)], SVC); // usax
        assert_eq!((f.r[0], f.cpsr), (0x0000_0001, SVC | 0b1111 << GE));
    }

    #[test]
    fn saturate_instructions_clamp_and_set_q() {
        let f = run(0xe6a7_0011, &[(1, 300)], SVC); // ssat r0, #8, r1
        assert_eq!((f.r[0], f.cpsr), (127, SVC | psr::Q));
        let f = run(0xe6a7_0251, &[(1, 0x7f0)], SVC); // ssat r0, #8, r1, asr #4
        assert_eq!((f.r[0], f.cpsr), (127, SVC));
        let f = run(0xe6e8_0011, &[(1, (-5i32) as u32)], SVC); // usat r0, #8, r1
        assert_eq!((f.r[0], f.cpsr), (0, SVC | psr::Q));
        let f = run(0xe6e8_0011, &[(1, 255)], SVC);
        assert_eq!((f.r[0], f.cpsr), (255, SVC));
        let f = run(0xe6a7_0f31, &[(1, 0x0100_ff00)], SVC); // ssat16 r0, #8, r1
        assert_eq!((f.r[0], f.cpsr), (0x007f_ff80, SVC | psr::Q));
        let f = run(0xe6e4_0f31, &[(1, 0xffff_0010)], SVC); // usat16 r0, #4, r1
        assert_eq!((f.r[0], f.cpsr), (0x0000_000f, SVC | psr::Q));
    }

    #[test]
    fn extends_rotate_then_extend_then_add() {
        assert_eq!(run(0xe6af_0071, &[(1, 0x80)], SVC).r[0], 0xffff_ff80); // sxtb
        assert_eq!(run(0xe6af_0471, &[(1, 0x8000)], SVC).r[0], 0xffff_ff80); // sxtb ror #8
        let f = run(0xe6f2_0471, &[(1, 0x1234_5678), (2, 0x1_0000)], SVC); // uxtah ror #8
        assert_eq!(f.r[0], 0x0001_3456);
        let f = run(0xe682_0071, &[(1, 0x0080_00ff), (2, 0x0001_0001)], SVC); // sxtab16
        assert_eq!(f.r[0], 0xff81_0000);
        assert_eq!(run(0xe6cf_0071, &[(1, 0x1234_5678)], SVC).r[0], 0x0034_0078); // uxtb16
        assert_eq!(run(0xe6bf_0071, &[(1, 0x8000)], SVC).r[0], 0xffff_8000); // sxth
        assert_eq!(run(0xe6e2_0071, &[(1, 0xff), (2, 0x100)], SVC).r[0], 0x1ff); // uxtab
    }

    #[test]
    fn pack_select_and_reverse() {
        let regs = [(1, 0x1111_2222), (2, 0x3333_4444)];
        assert_eq!(run(0xe681_0812, &regs, SVC).r[0], 0x4444_2222); // pkhbt lsl #16
        assert_eq!(run(0xe681_0852, &regs, SVC).r[0], 0x1111_3333); // pkhtb asr #16
        let f = run(0xe681_0052, &[(1, 0x1111_2222), (2, 0x8000_0000)], SVC); // pkhtb asr #32
        assert_eq!(f.r[0], 0x1111_ffff);
        let f = run(
            0xe681_0fb2,
            &[(1, 0x1122_3344), (2, 0xaabb_ccdd)],
            SVC | 0b0101 << GE,
        ); // sel
        assert_eq!(f.r[0], 0xaa22_cc44);
        assert_eq!(run(0xe6bf_0f31, &[(1, 0x1234_5678)], SVC).r[0], 0x7856_3412); // rev
        assert_eq!(run(0xe6bf_0fb1, &[(1, 0x1234_5678)], SVC).r[0], 0x3412_7856); // rev16
        assert_eq!(run(0xe6ff_0f31, &[(1, 1)], SVC).r[0], 0x8000_0000); // rbit
        assert_eq!(run(0xe6ff_0fb1, &[(1, 0x80)], SVC).r[0], 0xffff_8000); // revsh
    }

    #[test]
    fn sum_of_absolute_differences() {
        let regs = [(1, 0x0102_ff00), (2, 0x0301_00ff), (3, 10)];
        assert_eq!(run(0xe780_f211, &regs, SVC).r[0], 513); // usad8
        assert_eq!(run(0xe780_3211, &regs, SVC).r[0], 523); // usada8
    }

    #[test]
    fn bit_field_extract_insert_clear() {
        assert_eq!(run(0xe7a7_0251, &[(1, 0xf80)], SVC).r[0], 0xffff_fff8); // sbfx #4, #8
        assert_eq!(run(0xe7e7_0251, &[(1, 0xf80)], SVC).r[0], 0xf8); // ubfx #4, #8
        assert_eq!(run(0xe7ff_0051, &[(1, 0xdead_beef)], SVC).r[0], 0xdead_beef); // ubfx #0, #32
        let f = run(0xe7cf_0411, &[(0, u32::MAX), (1, 0x12)], SVC); // bfi r0, r1, #8, #8
        assert_eq!(f.r[0], 0xffff_12ff);
        assert_eq!(run(0xe7df_001f, &[(0, u32::MAX)], SVC).r[0], 0); // bfc #0, #32
    }

    #[test]
    fn count_leading_zeros() {
        assert_eq!(run(0xe16f_0f11, &[(1, 0)], SVC).r[0], 32);
        assert_eq!(run(0xe16f_0f11, &[(1, 1)], SVC).r[0], 31);
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
    fn word_and_byte_transfers_in_every_addressing_mode() {
        let mut ram = Ram::new();
        let f = run_mem(
            0xe581_0004,
            ADDR,
            &[(0, 0xcafe_f00d), (1, RAM)],
            SVC,
            &mut ram,
        )
        .unwrap(); // str r0, [r1, #4]
        assert_eq!((ram.word(RAM + 4), f.r[1]), (0xcafe_f00d, RAM));
        let f = run_mem(
            0xe52d_e004,
            ADDR,
            &[(13, RAM + 0x80), (14, 0x1234)],
            SVC,
            &mut ram,
        )
        .unwrap(); // str lr, [sp, #-4]!
        assert_eq!((ram.word(RAM + 0x7c), f.sp), (0x1234, RAM + 0x7c));
        let f = run_mem(0xe491_0004, ADDR, &[(1, RAM + 4)], SVC, &mut ram).unwrap(); // ldr r0, [r1], #4
        assert_eq!((f.r[0], f.r[1]), (0xcafe_f00d, RAM + 8));
        ram.put(RAM + 8, 0x5555_aaaa);
        let f = run_mem(0xe711_0102, ADDR, &[(1, RAM + 0x10), (2, 2)], SVC, &mut ram).unwrap(); // ldr r0, [r1, -r2, lsl #2]
        assert_eq!(f.r[0], 0x5555_aaaa);
        ram.put(RAM + 0x10, 0x600d_cafe);
        let f = run_mem(0xe59f_0008, RAM, &[], SVC, &mut ram).unwrap(); // ldr r0, [pc, #8] at RAM
        assert_eq!(f.r[0], 0x600d_cafe);
        run_mem(0xe581_f000, ADDR, &[(1, RAM + 0x20)], SVC, &mut ram).unwrap(); // str pc, [r1]
        assert_eq!(ram.word(RAM + 0x20), ADDR + 8);
        let f = run_mem(0xe5d1_0003, ADDR, &[(1, RAM + 0x40)], SVC, &mut ram).unwrap(); // ldrb r0, [r1, #3]
        assert_eq!(f.r[0], 0x43);
        run_mem(
            0xe5c1_0001,
            ADDR,
            &[(0, 0x1ff), (1, RAM + 0x40)],
            SVC,
            &mut ram,
        )
        .unwrap(); // strb r0, [r1, #1]
        assert_eq!(ram.word(RAM + 0x40), 0x4342_ff40);
    }

    #[test]
    fn load_to_pc_interworks_and_needs_word_alignment() {
        let mut ram = Ram::new();
        ram.put(RAM, 0x2001);
        let f = run_mem(0xe591_f000, ADDR, &[(1, RAM)], SVC, &mut ram).unwrap(); // ldr pc, [r1]
        assert_eq!((f.pc, f.cpsr), (0x2000, SVC | psr::T));
        let err = run_mem(0xe591_f000, ADDR, &[(1, RAM + 1)], SVC, &mut ram);
        assert_eq!(err, Err(StepError::UnalignedPcLoad { address: RAM + 1 }));
    }

    #[test]
    fn halfword_signed_and_dual_transfers() {
        let mut ram = Ram::new();
        ram.put(RAM, 0x8081_f0f1);
        let f = run_mem(0xe1d1_00b2, ADDR, &[(1, RAM)], SVC, &mut ram).unwrap(); // ldrh r0, [r1, #2]
        assert_eq!(f.r[0], 0x8081);
        let f = run_mem(0xe191_00f2, ADDR, &[(1, RAM), (2, 2)], SVC, &mut ram).unwrap(); // ldrsh r0, [r1, r2]
        assert_eq!(f.r[0], 0xffff_8081);
        let f = run_mem(0xe171_00d1, ADDR, &[(1, RAM + 1)], SVC, &mut ram).unwrap(); // ldrsb r0, [r1, #-1]!
        assert_eq!((f.r[0], f.r[1]), (0xffff_fff1, RAM));
        let f = run_mem(
            0xe0c1_00b2,
            ADDR,
            &[(0, 0x1_2345), (1, RAM + 8)],
            SVC,
            &mut ram,
        )
        .unwrap(); // strh r0, [r1], #2
        assert_eq!((ram.word(RAM + 8) & 0xffff, f.r[1]), (0x2345, RAM + 10));
        ram.put(RAM + 0x18, 11);
        ram.put(RAM + 0x1c, 22);
        let f = run_mem(0xe1c1_20d8, ADDR, &[(1, RAM + 0x10)], SVC, &mut ram).unwrap(); // ldrd r2, r3, [r1, #8]
        assert_eq!((f.r[2], f.r[3]), (11, 22));
        let f = run_mem(
            0xe161_20f8,
            ADDR,
            &[(1, RAM + 0x30), (2, 7), (3, 8)],
            SVC,
            &mut ram,
        )
        .unwrap(); // strd r2, r3, [r1, #-8]!
        assert_eq!(
            (ram.word(RAM + 0x28), ram.word(RAM + 0x2c), f.r[1]),
            (7, 8, RAM + 0x28)
        );
        let f = run_mem(0xe181_20d0, ADDR, &[(0, 8), (1, RAM + 0x10)], SVC, &mut ram).unwrap(); // ldrd r2, r3, [r1, r0]
        assert_eq!((f.r[2], f.r[3]), (11, 22));
        let err = run_mem(0xe1c1_20d8, ADDR, &[(1, RAM + 2)], SVC, &mut ram);
        assert_eq!(err, Err(StepError::AlignmentFault { address: RAM + 10 }));
    }

    #[test]
    fn load_store_multiple_in_all_modes() {
        let mut ram = Ram::new();
        let regs = [(0, 10), (1, 11), (13, RAM + 0x80), (14, 0x3001)];
        let f = run_mem(0xe92d_4003, ADDR, &regs, SVC, &mut ram).unwrap(); // push {r0, r1, lr}
        assert_eq!(f.sp, RAM + 0x74);
        assert_eq!(
            [
                ram.word(RAM + 0x74),
                ram.word(RAM + 0x78),
                ram.word(RAM + 0x7c)
            ],
            [10, 11, 0x3001]
        );
        let f = run_mem(0xe8bd_8003, ADDR, &[(13, RAM + 0x74)], SVC, &mut ram).unwrap(); // pop {r0, r1, pc}
        assert_eq!(
            (f.r[0], f.r[1], f.sp, f.pc, f.cpsr),
            (10, 11, RAM + 0x80, 0x3000, SVC | psr::T)
        );
        run_mem(
            0xe981_000c,
            ADDR,
            &[(1, RAM), (2, 2), (3, 3)],
            SVC,
            &mut ram,
        )
        .unwrap(); // stmib r1, {r2, r3}
        assert_eq!((ram.word(RAM + 4), ram.word(RAM + 8)), (2, 3));
        let f = run_mem(0xe831_000c, ADDR, &[(1, RAM + 8)], SVC, &mut ram).unwrap(); // ldmda r1!, {r2, r3}
        assert_eq!((f.r[2], f.r[3], f.r[1]), (2, 3, RAM));
        let f = run_mem(
            0xe92d_6000,
            ADDR,
            &[(13, RAM + 0x90), (14, 5)],
            SVC,
            &mut ram,
        )
        .unwrap(); // stmdb sp!, {sp, lr}
        assert_eq!(
            (ram.word(RAM + 0x88), ram.word(RAM + 0x8c), f.sp),
            (RAM + 0x90, 5, RAM + 0x88)
        );
        run_mem(0xe881_8000, ADDR, &[(1, RAM + 0xa0)], SVC, &mut ram).unwrap(); // stmia r1, {pc}
        assert_eq!(ram.word(RAM + 0xa0), ADDR + 8);
        let f = run_mem(0xe891_0003, ADDR, &[(1, RAM + 0x74)], SVC, &mut ram).unwrap(); // ldmia r1, {r0, r1}
        assert_eq!(
            (f.r[0], f.r[1]),
            (10, 11),
            "base in list without writeback is loaded"
        );
        let err = run_mem(0xe891_0003, ADDR, &[(1, RAM + 2)], SVC, &mut ram);
        assert_eq!(err, Err(StepError::AlignmentFault { address: RAM + 2 }));
    }

    #[test]
    fn branches_link_and_exchange() {
        let f = run(0xeaff_fffe, &[], SVC); // b .
        assert_eq!(f.pc, ADDR);
        let f = run(0xeb00_0040, &[], SVC); // bl . + 0x108
        assert_eq!((f.pc, f.lr), (ADDR + 0x108, ADDR + 4));
        let f = run(0xfb00_0000, &[], SVC); // blx . + 10 (H = 1)
        assert_eq!((f.pc, f.lr, f.cpsr), (ADDR + 10, ADDR + 4, SVC | psr::T));
        let f = run(0xe12f_ff1e, &[(14, 0x3001)], SVC); // bx lr
        assert_eq!((f.pc, f.cpsr), (0x3000, SVC | psr::T));
        let f = run(0xe12f_ff33, &[(3, 0x4000)], SVC); // blx r3
        assert_eq!((f.pc, f.lr, f.cpsr), (0x4000, ADDR + 4, SVC));
        let f = run(0xe12f_ff3e, &[(14, 0x4001)], SVC); // blx lr: target read before lr is written
        assert_eq!((f.pc, f.lr, f.cpsr), (0x4000, ADDR + 4, SVC | psr::T));
    }

    #[test]
    fn mrs_hides_execution_state_bits() {
        let f = run(0xe10f_0000, &[], 0xfe0f_fdd3); // mrs r0, apsr with IT/J bits set
        assert_eq!(f.r[0], 0xf80f_01d3);
    }

    #[test]
    fn hints_and_barriers_reach_memory_and_preloads_do_nothing() {
        let mut ram = Ram::new();
        for w in [
            0xe320_f000,
            0xe320_f001,
            0xe320_f002,
            0xe320_f003,
            0xe320_f004,
        ] {
            run_mem(w, ADDR, &[], SVC, &mut ram).unwrap();
        }
        assert_eq!(
            ram.hints,
            [Hint::Nop, Hint::Yield, Hint::Wfe, Hint::Wfi, Hint::Sev]
        );
        for w in [0xf57f_f05f, 0xf57f_f04e, 0xf57f_f06f] {
            run_mem(w, ADDR, &[], SVC, &mut ram).unwrap();
        }
        assert_eq!(
            ram.barriers,
            [Barrier::Dmb(0xf), Barrier::Dsb(0xe), Barrier::Isb(0xf)]
        );
        let before = ram.bytes;
        let f = run_mem(
            0xf5d0_f000,
            ADDR,
            &[(0, 0xdead_0000)],
            SVC | psr::Z,
            &mut ram,
        )
        .unwrap(); // pld [r0]
        assert_eq!((f.pc, ram.bytes), (ADDR + 4, before));
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

    #[test]
    fn emulation_renames_registers_onto_r0_to_r3() {
        // smlal r4(lo), r9(hi), r10, r11 → r0..r3 in field order 19:16, 15:12, 11:8, 3:0.
        let e = emulation(Insn(0xe0e9_4b9a)).unwrap();
        assert_eq!(e.map, [Some(9), Some(4), Some(11), Some(10)]);
        assert_eq!(e.word, 0xe0e0_1293);
        // add r8, r8, r8, lsl #3: one register, used three times.
        let e = emulation(Insn(0xe088_8188)).unwrap();
        assert_eq!((e.word, e.map), (0xe080_0180, [Some(8), None, None, None]));
        assert_eq!(emulation(Insn(0xe08f_0001)), None, "PC operand");
        assert_eq!(emulation(Insn(0xe591_0000)), None, "memory");
        assert_eq!(
            emulation(Insn(0xe10f_0000)),
            None,
            "MRS reads the real CPSR"
        );
        assert_eq!(emulation(Insn(0xef00_0000)), None, "rejected");
    }

    /// What capstone, an independent A32 disassembler, reads in `word`: "mnemonic operands".
    fn capstone_text(cs: &capstone::Capstone, word: u32) -> String {
        let insns = cs.disasm_all(&word.to_le_bytes(), 0x1000).unwrap();
        let insn = insns.iter().next().expect("capstone decodes the word");
        format!("{} {}", insn.mnemonic().unwrap(), insn.op_str().unwrap())
    }

    fn a32_capstone() -> capstone::Capstone {
        use capstone::arch::BuildsCapstone;
        capstone::Capstone::new()
            .arm()
            .mode(capstone::arch::arm::ArchMode::Arm)
            .build()
            .unwrap()
    }

    #[test]
    fn emulation_slot_disassembles_as_its_documented_sequence() {
        let cs = a32_capstone();
        // smlal r1, r0, r3, r2: the rewrite of smlal r4, r9, r10, r11 above.
        let text: Vec<String> = slot_words(0xe0e0_1293)
            .iter()
            .map(|w| capstone_text(&cs, *w))
            .collect();
        assert_eq!(
            text,
            [
                "mov ip, r0",
                "ldr r0, [ip, #0x10]",
                "msr apsr_nzcvqg, r0",
                "ldm ip, {r0, r1, r2, r3}",
                "smlal r1, r0, r3, r2",
                "stm ip, {r0, r1, r2, r3}",
                "mrs r0, apsr",
                "str r0, [ip, #0x10]",
                "bx lr",
            ]
        );
    }

    #[test]
    fn emulation_block_layout_matches_the_offsets_the_slot_uses() {
        assert_eq!(
            core::mem::offset_of!(EmulationBlock, regs),
            0,
            "ldm/stm r12"
        );
        assert_eq!(
            core::mem::offset_of!(EmulationBlock, apsr),
            16,
            "[r12, #16]"
        );
        assert_eq!(core::mem::size_of::<EmulationBlock>(), 20);
        assert_eq!(EMULATION_SLOT_BYTES, 36);
    }

    #[test]
    fn slot_words_change_only_the_instruction_word() {
        let e = emulation(Insn(0xe0e9_4b9a)).unwrap();
        let words = e.slot_words();
        assert_eq!(words, slot_words(e.word));
        for (i, (w, t)) in words.iter().zip(slot_words(0xe320_f000)).enumerate() {
            let want = if i == EMULATION_SLOT_INSN { e.word } else { t };
            assert_eq!(*w, want, "word {i}");
        }
    }

    #[test]
    fn every_rewritten_conformance_word_names_only_r0_to_r3_for_capstone() {
        let cs = a32_capstone();
        let high = [
            "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "sb", "sl", "fp", "ip", "sp",
            "lr", "pc",
        ];
        let mut checked = 0;
        for case in crate::conformance::cases().filter(crate::conformance::Case::runs) {
            let Some(e) = emulation(Insn(case.word)) else {
                continue;
            };
            let text = capstone_text(&cs, e.word);
            let operands = text.split_once(' ').map_or("", |(_, ops)| ops);
            let named_high = operands
                .split(|c: char| !c.is_ascii_alphanumeric())
                .find(|token| high.contains(token));
            assert_eq!(
                named_high, None,
                "{:#010x} → {:#010x} ({text})",
                case.word, e.word
            );
            checked += 1;
        }
        assert!(checked > 1000, "{checked}");
    }

    /// A stand-in for the slot on the host: run the rewritten word through the simulator on
    /// a frame holding only r0–r3 and the APSR.
    fn run_in_fake_slot(e: &Emulation, block: &mut EmulationBlock) {
        let mut f = TrapFrame {
            cpsr: SVC | block.apsr,
            ..TrapFrame::default()
        };
        f.r[..4].copy_from_slice(&block.regs);
        step(Insn(e.word), 0x100, &mut f, &mut Ram::new()).unwrap();
        block.regs.copy_from_slice(&f.r[..4]);
        block.apsr = f.cpsr & APSR_BITS;
    }

    #[test]
    fn emulated_rewrite_matches_simulating_the_original() {
        let mut checked = 0;
        for case in crate::conformance::cases().filter(crate::conformance::Case::runs) {
            let Some(e) = emulation(Insn(case.word)) else {
                continue;
            };
            let layout = crate::conformance::Layout {
                insn: ADDR,
                buffer: RAM,
                mode: SVC,
            };
            for scenario in 0..16 {
                let start = case.frame(&layout, scenario);
                let mut simulated = start;
                step(Insn(case.word), ADDR, &mut simulated, &mut Ram::new()).unwrap();
                let mut block = e.load(&start);
                run_in_fake_slot(&e, &mut block);
                let mut emulated = start;
                e.store(&block, &mut emulated, ADDR);
                assert_eq!(
                    emulated, simulated,
                    "{:#010x} → {:#010x}",
                    case.word, e.word
                );
                checked += 1;
            }
        }
        assert!(checked > 16 * 1000, "{checked}");
    }
}
