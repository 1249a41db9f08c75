//! The T16 step engine: runs a 16-bit Thumb instruction the T16 decoder classed as a
//! [`T16Kind`] over a [`TrapFrame`] and [`Memory`], as the ARMv7-A ARM pseudo-code does,
//! ITSTATE included (issue 19).
//!
//! What differs from the A32 engine, all from the ARM ARM: PC reads as the instruction's
//! address + 4 (`Align(PC, 4)` for LDR literal, ADR); the next instruction is at address + 2;
//! inside an IT block (ITSTATE, CPSR bits 26:25 and 15:10, B1.3.3) the condition is
//! ITSTATE\[7:4\], flag-setting data processing does not set flags (`setflags =
//! !InITBlock()`), and ITSTATE advances (`ITAdvance`) after every instruction, executed or
//! skipped. PC writes are `BranchWritePC` (B, CBZ/CBNZ, and ADD/MOV to PC: `ALUWritePC` is
//! `BranchWritePC` in Thumb state, bit 0 ignored) or `BXWritePC` (BX, BLX, POP {pc}:
//! interworking, bit 0 clear returns to ARM state).
//!
//! Why the halfword is decoded again on each step: the decoder's verdict depends on where the
//! halfword sits in an IT block, which only the frame's ITSTATE says; re-decoding at that
//! position refuses the UNPREDICTABLE placements (CBZ inside a block, a PC write before its
//! last instruction…) and a `kind` that does not belong to the halfword, instead of running
//! them.

use super::frame::StepFrame;
use super::pseudocode::{Shift, add_with_carry, alu, decode_imm_shift, sext8, sext16, shift_c};
use super::{Hint, Memory, StepError, copy_frame, psr};
use crate::decode::{ItPosition, T16Decoded, T16Kind, decode_t16};
use crate::frame::TrapFrame;
use crate::insn::Cond;

/// ITSTATE\[7:0\] of `cpsr`: IT\[7:2\] are bits 15:10, IT\[1:0\] bits 26:25.
pub const fn it_state(cpsr: u32) -> u8 {
    ((cpsr >> 8) & 0xfc | (cpsr >> 25) & 0x3) as u8
}

/// `cpsr` with ITSTATE replaced by `it`.
pub const fn with_it_state(cpsr: u32, it: u8) -> u32 {
    let it = it as u32;
    cpsr & !psr::IT | (it & 0xfc) << 8 | (it & 0x3) << 25
}

/// `ITAdvance()` (B1.3.3): the ITSTATE after an instruction that ran (or was skipped) under
/// `it`.
pub const fn it_advance(it: u8) -> u8 {
    if it & 0b111 == 0 {
        0
    } else {
        it & 0xe0 | (it << 1) & 0x1f
    }
}

/// Where ITSTATE `it` puts the current instruction: `InITBlock()` is IT\[3:0\] != 0,
/// `LastInITBlock()` IT\[3:0\] == 0b1000.
pub const fn it_position(it: u8) -> ItPosition {
    match it & 0xf {
        0 => ItPosition::Outside,
        0b1000 => ItPosition::Last,
        _ => ItPosition::Inside,
    }
}

/// Single-steps the 16-bit Thumb instruction `hw` at `addr`, decoded at the IT position the
/// frame's ITSTATE gives. On return `frame.pc` is where execution continues.
///
/// # Errors
///
/// [`StepError::Rejected`] when the decoder refuses `hw` there, [`StepError::KindMismatch`]
/// for the first halfword of a 32-bit instruction, and every error of [`simulate_t16`].
pub fn step_t16(
    hw: u16,
    addr: u32,
    frame: &mut TrapFrame,
    mem: &mut (impl Memory + ?Sized),
) -> Result<(), StepError> {
    match decode_t16(hw, it_position(it_state(frame.cpsr))) {
        T16Decoded::Simulate(kind) => simulate_t16(kind, hw, addr, frame, mem),
        T16Decoded::Rejected(reason) => Err(StepError::Rejected(reason)),
        T16Decoded::FirstHalfOfT32 => Err(StepError::KindMismatch),
    }
}

/// [`step_t16`] for a caller that decoded `hw` as `kind` outside an IT block once (the
/// probe registry, at registration): when the frame's ITSTATE puts the instruction
/// outside a block too, that decode stands and the table is not walked again; inside
/// one, `hw` is decoded at its position, as [`step_t16`] does.
///
/// # Errors
///
/// As [`step_t16`].
pub fn step_t16_decoded(
    kind: T16Kind,
    hw: u16,
    addr: u32,
    frame: &mut TrapFrame,
    mem: &mut (impl Memory + ?Sized),
) -> Result<(), StepError> {
    let it = it_state(frame.cpsr);
    if frame.cpsr & psr::T == 0 || it_position(it) != ItPosition::Outside {
        return step_t16(hw, addr, frame, mem);
    }
    debug_assert_eq!(
        decode_t16(hw, ItPosition::Outside),
        T16Decoded::Simulate(kind),
        "step_t16_decoded: {hw:#06x} is not a {kind:?}"
    );
    step_in_it_block(frame, addr, 2, it, |stepped, in_it_block| {
        stepped.execute_t16(kind, Thumb16(hw), !in_it_block, mem)
    })
}

/// Runs the 16-bit Thumb instruction `hw` (decoded as `kind`) at `addr` over `frame` and
/// `mem`: checks the IT condition, executes, sets the next PC and advances ITSTATE.
///
/// # Errors
///
/// [`StepError::ArmState`] when CPSR.T is clear, [`StepError::Rejected`] when the decoder
/// refuses `hw` at the frame's IT position, [`StepError::KindMismatch`] when `hw` is not a
/// `kind`, [`StepError::Memory`], [`StepError::AlignmentFault`] (LDM, STM, PUSH, POP) and
/// [`StepError::UnpredictablePcWrite`] (BX, BLX, POP {pc} to an address with bits 1:0 ==
/// 0b10). The frame is unchanged then.
pub fn simulate_t16(
    kind: T16Kind,
    hw: u16,
    addr: u32,
    frame: &mut TrapFrame,
    mem: &mut (impl Memory + ?Sized),
) -> Result<(), StepError> {
    if frame.cpsr & psr::T == 0 {
        return Err(StepError::ArmState);
    }
    let it = it_state(frame.cpsr);
    match decode_t16(hw, it_position(it)) {
        T16Decoded::Simulate(k) if k == kind => {}
        T16Decoded::Rejected(reason) => return Err(StepError::Rejected(reason)),
        _ => return Err(StepError::KindMismatch),
    }
    step_in_it_block(frame, addr, 2, it, |stepped, in_it_block| {
        stepped.execute_t16(kind, Thumb16(hw), !in_it_block, mem)
    })
}

/// The part of a Thumb step both sizes share: on a copy of `frame`, runs `execute` (told
/// whether the instruction is inside an IT block) when the IT block's condition passes
/// (ConditionPassed(): ITSTATE[7:4] inside a block, where 0b1111 holds (A8.3), as
/// `Unconditional` does; always outside one), moves pc past the `len`-byte instruction
/// unless it wrote pc, advances ITSTATE (ITAdvance) whether it ran or not, and writes the
/// copy back only on success (a failed step leaves `frame` as it was).
pub(super) fn step_in_it_block(
    frame: &mut TrapFrame,
    addr: u32,
    len: u32,
    it: u8,
    execute: impl FnOnce(&mut StepFrame, bool) -> Result<(), StepError>,
) -> Result<(), StepError> {
    let mut stepped = StepFrame {
        f: TrapFrame::default(),
        addr,
        pc_written: false,
    };
    copy_frame(&mut stepped.f, frame);
    let in_it_block = it_position(it).in_it_block();
    if !in_it_block || Cond::from_bits(u32::from(it >> 4)).passes(frame.cpsr) {
        execute(&mut stepped, in_it_block)?;
    }
    if !stepped.pc_written {
        stepped.f.pc = addr.wrapping_add(len);
    }
    stepped.f.cpsr = with_it_state(stepped.f.cpsr, it_advance(it));
    copy_frame(frame, &stepped.f);
    Ok(())
}

/// One 16-bit Thumb halfword, with the register fields at the positions T16 uses.
#[derive(Clone, Copy)]
struct Thumb16(u16);

impl Thumb16 {
    /// Bits `lsb + width - 1 : lsb`.
    const fn bits(self, lsb: u32, width: u32) -> u32 {
        (self.0 as u32 >> lsb) & ((1 << width) - 1)
    }

    const fn bit(self, n: u32) -> bool {
        self.bits(n, 1) != 0
    }

    /// A low register field (3 bits) at `lsb`.
    const fn low(self, lsb: u32) -> usize {
        self.bits(lsb, 3) as usize
    }

    /// `DN:Rdn` of the special data group (bit 7 over bits 2:0).
    const fn high_rdn(self) -> usize {
        (self.bits(7, 1) << 3 | self.bits(0, 3)) as usize
    }

    /// Rm (6:3) of the special data group.
    const fn high_rm(self) -> usize {
        self.bits(3, 4) as usize
    }
}

impl StepFrame {
    /// R\[n\] in Thumb state: PC reads as the instruction's address + 4.
    pub(super) fn tr(&self, n: usize) -> u32 {
        if n == 15 {
            self.addr.wrapping_add(4)
        } else {
            self.f.reg(n)
        }
    }

    /// `Align(PC, 4)`.
    pub(super) fn aligned_pc(&self) -> u32 {
        self.addr.wrapping_add(4) & !3
    }

    /// BranchWritePC in Thumb state: bit 0 ignored, stays in Thumb.
    pub(super) fn thumb_branch_write_pc(&mut self, target: u32) {
        self.f.pc = target & !1;
        self.pc_written = true;
    }

    /// BXWritePC from Thumb state: bit 0 clear returns to ARM state (bits 1:0 == 0b10 are
    /// UNPREDICTABLE there).
    pub(super) fn thumb_bx_write_pc(&mut self, target: u32) -> Result<(), StepError> {
        if target & 1 != 0 {
            self.f.pc = target & !1;
        } else if target & 2 == 0 {
            self.f.cpsr &= !psr::T;
            self.f.pc = target;
        } else {
            return Err(StepError::UnpredictablePcWrite { target });
        }
        self.pc_written = true;
        Ok(())
    }

    /// Sets N, Z, C and (for arithmetic) V, when `setflags`.
    fn set_flags_if(&mut self, setflags: bool, result: u32, carry: bool, overflow: Option<bool>) {
        if setflags {
            self.set_nz(result);
            self.set_flag(psr::C, carry);
            if let Some(v) = overflow {
                self.set_flag(psr::V, v);
            }
        }
    }

    /// Runs `hw`, decoded as `kind`, whose condition has passed; `setflags` is
    /// `!InITBlock()`.
    fn execute_t16(
        &mut self,
        kind: T16Kind,
        hw: Thumb16,
        setflags: bool,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let c = self.flag(psr::C);
        match kind {
            T16Kind::ShiftImmediate => {
                // op (12:11): LSL, LSR, ASR; imm5 (10:6), Rm (5:3), Rd (2:0).
                let (shift, n) = decode_imm_shift(hw.bits(11, 2), hw.bits(6, 5));
                let (result, carry) = shift_c(self.tr(hw.low(3)), shift, n, c);
                self.set(hw.low(0), result);
                self.set_flags_if(setflags, result, carry, None);
            }
            T16Kind::AddSubtractRegister => {
                // Bit 9: SUB; Rm (8:6), Rn (5:3), Rd (2:0).
                let opcode = if hw.bit(9) { 0x2 } else { 0x4 };
                let (result, carry, overflow) =
                    alu(opcode, self.tr(hw.low(3)), self.tr(hw.low(6)), c, c);
                self.set(hw.low(0), result);
                self.set_flags_if(setflags, result, carry, overflow);
            }
            T16Kind::AddSubtractImmediate => {
                // 0001 11o iii nnn ddd (3-bit) or 0011 o ddd iiiiiiii (8-bit, Rdn).
                let (sub, n, d, imm) = if hw.bit(13) {
                    (hw.bit(11), hw.low(8), hw.low(8), hw.bits(0, 8))
                } else {
                    (hw.bit(9), hw.low(3), hw.low(0), hw.bits(6, 3))
                };
                let opcode = if sub { 0x2 } else { 0x4 };
                let (result, carry, overflow) = alu(opcode, self.tr(n), imm, c, c);
                self.set(d, result);
                self.set_flags_if(setflags, result, carry, overflow);
            }
            T16Kind::MoveImmediate => {
                let result = hw.bits(0, 8);
                self.set(hw.low(8), result);
                self.set_flags_if(setflags, result, c, None);
            }
            T16Kind::CompareImmediate => {
                let (result, carry, overflow) = alu(0xa, self.tr(hw.low(8)), hw.bits(0, 8), c, c);
                self.set_flags_if(true, result, carry, overflow);
            }
            T16Kind::DataProcessingRegister => self.data_processing_t16(hw, setflags),
            T16Kind::ShiftRegister => {
                // opcode (9:6): 0010 LSL, 0011 LSR, 0100 ASR, 0111 ROR.
                let shift = match hw.bits(6, 4) {
                    0b0010 => Shift::Lsl,
                    0b0011 => Shift::Lsr,
                    0b0100 => Shift::Asr,
                    _ => Shift::Ror,
                };
                let d = hw.low(0);
                let n = self.tr(hw.low(3)) & 0xff;
                let (result, carry) = shift_c(self.tr(d), shift, n, c);
                self.set(d, result);
                self.set_flags_if(setflags, result, carry, None);
            }
            T16Kind::Multiply => {
                // MUL: Rn (5:3), Rdm (2:0); N and Z only (C unchanged in ARMv7).
                let d = hw.low(0);
                let result = self.tr(hw.low(3)).wrapping_mul(self.tr(d));
                self.set(d, result);
                if setflags {
                    self.set_nz(result);
                }
            }
            T16Kind::AddHighRegisters => {
                let d = hw.high_rdn();
                let (result, _, _) = add_with_carry(self.tr(d), self.tr(hw.high_rm()), false);
                self.write_alu_result(d, result);
            }
            T16Kind::CompareHighRegisters => {
                let (result, carry, overflow) =
                    alu(0xa, self.tr(hw.high_rdn()), self.tr(hw.high_rm()), c, c);
                self.set_flags_if(true, result, carry, overflow);
            }
            T16Kind::MoveHighRegisters => {
                let result = self.tr(hw.high_rm());
                self.write_alu_result(hw.high_rdn(), result);
            }
            T16Kind::BranchExchange => self.thumb_bx_write_pc(self.tr(hw.high_rm()))?,
            T16Kind::BranchLinkExchangeRegister => {
                let target = self.tr(hw.high_rm());
                self.thumb_bx_write_pc(target)?;
                self.set(14, self.addr.wrapping_add(2) | 1);
            }
            T16Kind::LoadLiteral => {
                let address = self.aligned_pc().wrapping_add(hw.bits(0, 8) * 4);
                let data = self.load32(mem, address)?;
                self.set(hw.low(8), data);
            }
            T16Kind::LoadStoreRegister => {
                let address = self.tr(hw.low(3)).wrapping_add(self.tr(hw.low(6)));
                self.load_store_t16(hw.bits(9, 3), hw.low(0), address, mem)?;
            }
            T16Kind::LoadStoreImmediate => {
                // opA (15:12): 0110 word, 0111 byte, 1000 halfword; L is bit 11.
                let imm5 = hw.bits(6, 5);
                let load = hw.bit(11);
                let (op, scale) = match (hw.bits(12, 4), load) {
                    (0b0110, false) => (0b000, 4),
                    (0b0110, true) => (0b100, 4),
                    (0b0111, false) => (0b010, 1),
                    (0b0111, true) => (0b110, 1),
                    (_, false) => (0b001, 2),
                    (_, true) => (0b101, 2),
                };
                let address = self.tr(hw.low(3)).wrapping_add(imm5 * scale);
                self.load_store_t16(op, hw.low(0), address, mem)?;
            }
            T16Kind::LoadStoreStack => {
                let address = self.tr(13).wrapping_add(hw.bits(0, 8) * 4);
                let op = if hw.bit(11) { 0b100 } else { 0b000 };
                self.load_store_t16(op, hw.low(8), address, mem)?;
            }
            T16Kind::GeneratePcRelativeAddress => {
                self.set(hw.low(8), self.aligned_pc().wrapping_add(hw.bits(0, 8) * 4));
            }
            T16Kind::GenerateSpRelativeAddress => {
                self.set(hw.low(8), self.tr(13).wrapping_add(hw.bits(0, 8) * 4));
            }
            T16Kind::AdjustStackPointer => {
                let imm = hw.bits(0, 7) * 4;
                let sp = self.tr(13);
                self.set(
                    13,
                    if hw.bit(7) {
                        sp.wrapping_sub(imm)
                    } else {
                        sp.wrapping_add(imm)
                    },
                );
            }
            T16Kind::CompareAndBranch => {
                // op (11): CBNZ; i (9), imm5 (7:3): offset i:imm5:'0'; Rn (2:0).
                let offset = hw.bits(9, 1) << 6 | hw.bits(3, 5) << 1;
                if hw.bit(11) != (self.tr(hw.low(0)) == 0) {
                    self.thumb_branch_write_pc(self.tr(15).wrapping_add(offset));
                }
            }
            T16Kind::Extend => {
                // opc (7:6): SXTH, SXTB, UXTH, UXTB; rotation 0.
                let m = self.tr(hw.low(3));
                let result = match hw.bits(6, 2) {
                    0b00 => sext16(m) as u32,
                    0b01 => sext8(m) as u32,
                    0b10 => m & 0xffff,
                    _ => m & 0xff,
                };
                self.set(hw.low(0), result);
            }
            T16Kind::Reverse => {
                // opc (7:6): REV, REV16, (10 unallocated), REVSH.
                let m = self.tr(hw.low(3));
                let result = match hw.bits(6, 2) {
                    0b00 => m.swap_bytes(),
                    0b01 => (m & 0x00ff_00ff) << 8 | (m >> 8) & 0x00ff_00ff,
                    _ => sext16(u32::from((m as u16).swap_bytes())) as u32,
                };
                self.set(hw.low(0), result);
            }
            T16Kind::Push => {
                let list = hw.bits(0, 8) | hw.bits(8, 1) << 14;
                let sp = self.tr(13);
                let start = sp.wrapping_sub(4 * list.count_ones());
                self.store_multiple_t16(start, list, mem)?;
                self.set(13, start);
            }
            T16Kind::Pop => {
                let list = hw.bits(0, 8) | hw.bits(8, 1) << 15;
                self.load_multiple_t16(13, list, true, mem)?;
            }
            T16Kind::StoreMultiple => {
                let n = hw.low(8);
                let list = hw.bits(0, 8);
                let base = self.tr(n);
                self.store_multiple_t16(base, list, mem)?;
                self.set(n, base.wrapping_add(4 * list.count_ones()));
            }
            T16Kind::LoadMultiple => {
                let n = hw.low(8);
                let list = hw.bits(0, 8);
                self.load_multiple_t16(n, list, list & (1 << n) == 0, mem)?;
            }
            T16Kind::Hint => mem.hint(match hw.bits(4, 4) {
                1 => Hint::Yield,
                2 => Hint::Wfe,
                3 => Hint::Wfi,
                4 => Hint::Sev,
                _ => Hint::Nop,
            }),
            T16Kind::ConditionalBranch => {
                if Cond::from_bits(hw.bits(8, 4)).passes(self.f.cpsr) {
                    // imm8:'0', sign-extended.
                    let offset = ((hw.bits(0, 8) << 24) as i32 >> 23) as u32;
                    self.thumb_branch_write_pc(self.tr(15).wrapping_add(offset));
                }
            }
            T16Kind::Branch => {
                // imm11:'0', sign-extended.
                let offset = ((hw.bits(0, 11) << 21) as i32 >> 20) as u32;
                self.thumb_branch_write_pc(self.tr(15).wrapping_add(offset));
            }
        }
        Ok(())
    }

    /// ADD/MOV (register) to any register: to PC, `ALUWritePC`, which is `BranchWritePC` in
    /// Thumb state.
    fn write_alu_result(&mut self, d: usize, result: u32) {
        if d == 15 {
            self.thumb_branch_write_pc(result);
        } else {
            self.set(d, result);
        }
    }

    /// A6.2.2 data processing on two low registers (the shifts and MUL excepted); the
    /// compares always set flags, the rest when `setflags`.
    fn data_processing_t16(&mut self, hw: Thumb16, setflags: bool) {
        let c = self.flag(psr::C);
        let op = hw.bits(6, 4);
        // (A32 opcode for `alu`, whether the result is written.)
        let (opcode, writes) = match op {
            0b0000 => (0x0, true),  // AND
            0b0001 => (0x1, true),  // EOR
            0b0101 => (0x5, true),  // ADC
            0b0110 => (0x6, true),  // SBC
            0b1000 => (0x8, false), // TST
            0b1001 => (0x3, true),  // RSB #0 (NEG)
            0b1010 => (0xa, false), // CMP
            0b1011 => (0xb, false), // CMN
            0b1100 => (0xc, true),  // ORR
            0b1110 => (0xe, true),  // BIC
            _ => (0xf, true),       // MVN
        };
        let rdn = hw.low(0);
        let rm = self.tr(hw.low(3));
        // RSB (immediate) T1 is Rd = 0 - Rn with Rn in bits 5:3.
        let (n, op2) = if op == 0b1001 {
            (rm, 0)
        } else {
            (self.tr(rdn), rm)
        };
        let (result, carry, overflow) = alu(opcode, n, op2, c, c);
        if writes {
            self.set(rdn, result);
        }
        self.set_flags_if(setflags || !writes, result, carry, overflow);
    }

    /// One single load/store, opB of A6.2.4: 000 STR, 001 STRH, 010 STRB, 011 LDRSB, 100 LDR,
    /// 101 LDRH, 110 LDRB, 111 LDRSH. Rt is a low register.
    fn load_store_t16(
        &mut self,
        op: u32,
        t: usize,
        address: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let data = match op {
            0b000 => return self.store32(mem, address, self.tr(t)),
            0b001 => return self.store16(mem, address, self.tr(t)),
            0b010 => return Ok(mem.write_u8(address, self.tr(t) as u8)?),
            0b011 => sext8(u32::from(mem.read_u8(address)?)) as u32,
            0b100 => self.load32(mem, address)?,
            0b101 => self.load16(mem, address)?,
            0b110 => u32::from(mem.read_u8(address)?),
            _ => sext16(self.load16(mem, address)?) as u32,
        };
        self.set(t, data);
        Ok(())
    }

    /// STMIA / PUSH body: the registers of `list`, lowest first, from `start` up.
    fn store_multiple_t16(
        &mut self,
        start: u32,
        list: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        if start & 3 != 0 {
            return Err(StepError::AlignmentFault { address: start });
        }
        let mut a = start;
        for i in (0..15usize).filter(|i| list & (1 << i) != 0) {
            self.store32(mem, a, self.tr(i))?;
            a = a.wrapping_add(4);
        }
        Ok(())
    }

    /// LDMIA / POP from R\[n\]: loads every register of `list` (PC by `LoadWritePC`, i.e.
    /// `BXWritePC`), then writes the base back when `wback`.
    fn load_multiple_t16(
        &mut self,
        n: usize,
        list: u32,
        wback: bool,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let base = self.tr(n);
        if base & 3 != 0 {
            return Err(StepError::AlignmentFault { address: base });
        }
        let mut loaded = [0u32; 16];
        let mut a = base;
        for (i, slot) in loaded.iter_mut().enumerate() {
            if list & (1 << i) != 0 {
                *slot = self.load32(mem, a)?;
                a = a.wrapping_add(4);
            }
        }
        for (i, &value) in loaded.iter().enumerate().take(15) {
            if list & (1 << i) != 0 {
                self.set(i, value);
            }
        }
        if wback {
            self.set(n, a);
        }
        if list & (1 << 15) != 0 {
            self.thumb_bx_write_pc(loaded[15])?;
        }
        Ok(())
    }
}
