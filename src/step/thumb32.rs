//! The T32 step engine: runs a 32-bit Thumb instruction the T32 decoder classed as a
//! [`T32Kind`] over a [`TrapFrame`] and [`Memory`], as the ARMv7-A ARM pseudo-code does,
//! ITSTATE included (issue 19).
//!
//! As in T16 (see `thumb16`): PC reads as the instruction's address + 4 (`Align(PC, 4)` for
//! the literal forms and ADR), ITSTATE supplies the condition inside an IT block and advances
//! after every instruction, executed or skipped, and the instruction is decoded again at the
//! frame's IT position so that an UNPREDICTABLE placement is refused, not run. What differs:
//! the next instruction is at address + 4; a T32 data-processing instruction sets the flags
//! exactly when its S bit is set, in or out of an IT block; B encoding T3 carries its own
//! condition (it cannot sit in an IT block); and BLX (immediate) switches to ARM state at
//! `Align(PC, 4) + imm32`.
//!
//! Why the register-only media and multiply classes (multiplies, divide, extend, pack, reverse,
//! CLZ, SEL, parallel and saturating arithmetic) run as their A32 twin: they read and write
//! only general registers (never PC or SP, `BadReg`), their A32 encodings compute the same
//! function of the same registers, and the A32 engine's code for them is proven on hardware;
//! so `register_only_a32_twin` moves the fields to their A32 places and the A32 decoder and
//! engine do the rest (an A32 refusal is reported, never bypassed).

use super::frame::StepFrame;
use super::pseudocode::{
    Shift, alu, decode_imm_shift, sext8, sext16, shift_c, signed_sat, unsigned_sat,
};
use super::thumb16::step_in_it_block;
use super::{Barrier, Hint, Memory, StepError, psr};
use super::{it_position, it_state};
use crate::decode::{Decoded, ItPosition, T32Decoded, T32Kind, decode, decode_t32};
use crate::frame::TrapFrame;
use crate::insn::{Cond, Insn};

/// Single-steps the 32-bit Thumb instruction `hw1:hw2` at `addr`, decoded at the IT position
/// the frame's ITSTATE gives. On return `frame.pc` is where execution continues.
///
/// # Errors
///
/// [`StepError::Rejected`] when the decoder refuses the instruction there, and every error of
/// [`simulate_t32`].
pub fn step_t32(
    hw1: u16,
    hw2: u16,
    addr: u32,
    frame: &mut TrapFrame,
    mem: &mut (impl Memory + ?Sized),
) -> Result<(), StepError> {
    match decode_t32(hw1, hw2, it_position(it_state(frame.cpsr))) {
        T32Decoded::Simulate(kind) => simulate_t32(kind, hw1, hw2, addr, frame, mem),
        T32Decoded::Rejected(reason) => Err(StepError::Rejected(reason)),
    }
}

/// Runs the 32-bit Thumb instruction `hw1:hw2` (decoded as `kind`) at `addr` over `frame` and
/// `mem`: checks the condition, executes, sets the next PC and advances ITSTATE.
///
/// # Errors
///
/// [`StepError::ArmState`] when CPSR.T is clear, [`StepError::Rejected`] when the decoder
/// refuses the instruction at the frame's IT position, [`StepError::KindMismatch`] when it is
/// not a `kind`, [`StepError::Memory`], [`StepError::AlignmentFault`] (LDRD, STRD, LDM, STM, PUSH, POP),
/// [`StepError::UnalignedPcLoad`] (LDR to PC) and [`StepError::UnpredictablePcWrite`] (a load
/// to PC of an address with bits 1:0 == 0b10). The frame is unchanged then.
pub fn simulate_t32(
    kind: T32Kind,
    hw1: u16,
    hw2: u16,
    addr: u32,
    frame: &mut TrapFrame,
    mem: &mut (impl Memory + ?Sized),
) -> Result<(), StepError> {
    if frame.cpsr & psr::T == 0 {
        return Err(StepError::ArmState);
    }
    let it = it_state(frame.cpsr);
    match decode_t32(hw1, hw2, it_position(it)) {
        T32Decoded::Simulate(k) if k == kind => {}
        T32Decoded::Rejected(reason) => return Err(StepError::Rejected(reason)),
        T32Decoded::Simulate(_) => return Err(StepError::KindMismatch),
    }
    let insn = Thumb32(u32::from(hw1) << 16 | u32::from(hw2));
    step_in_it_block(frame, addr, 4, it, |stepped, _| {
        stepped.execute_t32(kind, insn, mem)
    })
}

/// [`step_t32`] for a caller that decoded `hw1`, `hw2` as `kind` outside an IT block once
/// (the probe registry, at registration): when the frame's ITSTATE puts the instruction
/// outside a block too, that decode stands and the table is not walked again; inside
/// one, the instruction is decoded at its position, as [`step_t32`] does.
///
/// # Errors
///
/// As [`step_t32`].
pub fn step_t32_decoded(
    kind: T32Kind,
    hw1: u16,
    hw2: u16,
    addr: u32,
    frame: &mut TrapFrame,
    mem: &mut (impl Memory + ?Sized),
) -> Result<(), StepError> {
    let it = it_state(frame.cpsr);
    if frame.cpsr & psr::T == 0 || it_position(it) != ItPosition::Outside {
        return step_t32(hw1, hw2, addr, frame, mem);
    }
    debug_assert_eq!(
        decode_t32(hw1, hw2, ItPosition::Outside),
        T32Decoded::Simulate(kind),
        "step_t32_decoded: {hw1:#06x} {hw2:#06x} is not a {kind:?}"
    );
    let insn = Thumb32(u32::from(hw1) << 16 | u32::from(hw2));
    step_in_it_block(frame, addr, 4, it, |stepped, _| {
        stepped.execute_t32(kind, insn, mem)
    })
}

/// One 32-bit Thumb instruction as `hw1:hw2` (hw1 in the upper half, as the ARM ARM draws
/// it), with the fields at the positions T32 uses.
#[derive(Clone, Copy)]
struct Thumb32(u32);

impl Thumb32 {
    /// Bits `lsb + width - 1 : lsb` of `hw1:hw2`.
    const fn bits(self, lsb: u32, width: u32) -> u32 {
        (self.0 >> lsb) & ((1 << width) - 1)
    }

    const fn bit(self, n: u32) -> bool {
        self.bits(n, 1) != 0
    }

    /// Rn, hw1 3:0.
    const fn rn(self) -> usize {
        self.bits(16, 4) as usize
    }

    /// Rt (also RdLo, Ra), hw2 15:12.
    const fn rt(self) -> usize {
        self.bits(12, 4) as usize
    }

    /// Rd (also RdHi, Rt2), hw2 11:8.
    const fn rd(self) -> usize {
        self.bits(8, 4) as usize
    }

    /// Rm, hw2 3:0.
    const fn rm(self) -> usize {
        self.bits(0, 4) as usize
    }

    /// S, hw1 bit 4.
    const fn s(self) -> bool {
        self.bit(20)
    }

    /// `i:imm3:imm8` (hw1 bit 10, hw2 14:12, hw2 7:0).
    const fn imm12(self) -> u32 {
        self.bits(26, 1) << 11 | self.bits(12, 3) << 8 | self.bits(0, 8)
    }

    /// `imm3:imm2` (hw2 14:12, 7:6): a shift amount or a bit-field lsb.
    const fn imm5(self) -> u32 {
        self.bits(12, 3) << 2 | self.bits(6, 2)
    }

    /// The branch offset `S:I1:I2:imm10:imm11:'0'` (B T4, BL), with `I1 = NOT(J1 XOR S)` and
    /// `I2 = NOT(J2 XOR S)`, sign-extended.
    const fn branch_offset(self) -> u32 {
        let s = self.bits(26, 1);
        let i1 = !(self.bits(13, 1) ^ s) & 1;
        let i2 = !(self.bits(11, 1) ^ s) & 1;
        let offset =
            s << 24 | i1 << 23 | i2 << 22 | self.bits(16, 10) << 12 | self.bits(0, 11) << 1;
        ((offset << 7) as i32 >> 7) as u32
    }
}

/// ThumbExpandImm_C (A6.3.2): the 32-bit value of a modified immediate and its carry out.
pub(super) const fn thumb_expand_imm_c(imm12: u32, carry_in: bool) -> (u32, bool) {
    let imm8 = imm12 & 0xff;
    if imm12 >> 10 == 0 {
        let value = match (imm12 >> 8) & 3 {
            0 => imm8,
            1 => imm8 << 16 | imm8,
            2 => imm8 << 24 | imm8 << 8,
            _ => imm8 * 0x0101_0101,
        };
        (value, carry_in)
    } else {
        let value = (0x80 | imm12 & 0x7f).rotate_right(imm12 >> 7);
        (value, value >> 31 != 0)
    }
}

impl StepFrame {
    /// Runs `insn`, decoded as `kind`, whose condition has passed.
    fn execute_t32(
        &mut self,
        kind: T32Kind,
        insn: Thumb32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let c = self.flag(psr::C);
        match kind {
            T32Kind::DataProcessingModifiedImmediate => {
                let (value, carry) = thumb_expand_imm_c(insn.imm12(), c);
                self.data_processing_t32(insn, value, carry);
            }
            T32Kind::DataProcessingShiftedRegister => {
                let (shift, n) = decode_imm_shift(insn.bits(4, 2), insn.imm5());
                let (value, carry) = shift_c(self.tr(insn.rm()), shift, n, c);
                self.data_processing_t32(insn, value, carry);
            }
            T32Kind::ShiftRegister => {
                // type (hw1 6:5): LSL, LSR, ASR, ROR; the amount is Rm's bottom byte.
                let shift = match insn.bits(21, 2) {
                    0 => Shift::Lsl,
                    1 => Shift::Lsr,
                    2 => Shift::Asr,
                    _ => Shift::Ror,
                };
                let amount = self.tr(insn.rm()) & 0xff;
                let (result, carry) = shift_c(self.tr(insn.rn()), shift, amount, c);
                self.set(insn.rd(), result);
                if insn.s() {
                    self.set_nz(result);
                    self.set_flag(psr::C, carry);
                }
            }
            T32Kind::AddSubtractWideImmediate => {
                // hw1 bit 7 set is SUBW.
                let n = self.tr(insn.rn());
                let imm = insn.imm12();
                let result = if insn.bit(23) {
                    n.wrapping_sub(imm)
                } else {
                    n.wrapping_add(imm)
                };
                self.set(insn.rd(), result);
            }
            T32Kind::GeneratePcRelativeAddress => {
                // hw1 bit 7 set is encoding T2, Align(PC, 4) - imm12.
                let base = self.aligned_pc();
                let imm = insn.imm12();
                let result = if insn.bit(23) {
                    base.wrapping_sub(imm)
                } else {
                    base.wrapping_add(imm)
                };
                self.set(insn.rd(), result);
            }
            T32Kind::MoveWideImmediate => {
                // imm4 (hw1 3:0):i:imm3:imm8; hw1 bit 7 set is MOVT.
                let imm16 = insn.bits(16, 4) << 12 | insn.imm12();
                let d = insn.rd();
                let result = if insn.bit(23) {
                    imm16 << 16 | self.tr(d) & 0xffff
                } else {
                    imm16
                };
                self.set(d, result);
            }
            T32Kind::Saturate => self.saturate_t32(insn),
            T32Kind::BitfieldExtract => {
                let lsb = insn.imm5();
                let width = insn.bits(0, 5) + 1;
                let n = self.tr(insn.rn());
                // hw1 bit 7 set is UBFX; the decoder guarantees lsb + width <= 32.
                let result = if insn.bit(23) {
                    (n >> lsb) & (u32::MAX >> (32 - width))
                } else {
                    (((n << (32 - lsb - width)) as i32) >> (32 - width)) as u32
                };
                self.set(insn.rd(), result);
            }
            T32Kind::BitfieldInsert => {
                // The decoder guarantees msb >= lsb; Rn == 1111 is BFC.
                let lsb = insn.imm5();
                let msb = insn.bits(0, 5);
                let mask = (u32::MAX >> (31 - msb)) & (u32::MAX << lsb);
                let n = insn.rn();
                let src = if n == 15 { 0 } else { self.tr(n) << lsb };
                let d = insn.rd();
                self.set(d, self.tr(d) & !mask | src & mask);
            }
            T32Kind::ConditionalBranch => {
                // cond (hw1 9:6); offset S:J2:J1:imm6:imm11:'0', sign-extended.
                if Cond::from_bits(insn.bits(22, 4)).passes(self.f.cpsr) {
                    let offset = insn.bits(26, 1) << 20
                        | insn.bits(11, 1) << 19
                        | insn.bits(13, 1) << 18
                        | insn.bits(16, 6) << 12
                        | insn.bits(0, 11) << 1;
                    let offset = ((offset << 11) as i32 >> 11) as u32;
                    self.thumb_branch_write_pc(self.tr(15).wrapping_add(offset));
                }
            }
            T32Kind::Branch => {
                self.thumb_branch_write_pc(self.tr(15).wrapping_add(insn.branch_offset()));
            }
            T32Kind::BranchWithLink => {
                self.set(14, self.addr.wrapping_add(4) | 1);
                self.thumb_branch_write_pc(self.tr(15).wrapping_add(insn.branch_offset()));
            }
            T32Kind::BranchWithLinkExchange => {
                // imm10L (hw2 10:1) ends in '00': the offset is branch_offset with bit 1 clear.
                let target = self.aligned_pc().wrapping_add(insn.branch_offset() & !3);
                self.set(14, self.addr.wrapping_add(4) | 1);
                self.f.cpsr &= !psr::T;
                self.f.pc = target;
                self.pc_written = true;
            }
            T32Kind::MoveFromStatus => self.set(insn.rd(), self.f.cpsr & psr::MRS_MASK),
            T32Kind::Hint => mem.hint(match insn.bits(0, 8) {
                1 => Hint::Yield,
                2 => Hint::Wfe,
                3 => Hint::Wfi,
                4 => Hint::Sev,
                _ => Hint::Nop,
            }),
            T32Kind::Barrier => {
                let option = insn.bits(0, 4) as u8;
                mem.barrier(match insn.bits(4, 4) {
                    0b0100 => Barrier::Dsb(option),
                    0b0101 => Barrier::Dmb(option),
                    _ => Barrier::Isb(option),
                });
            }
            // PLD, PLDW, PLI: no architectural effect.
            T32Kind::PreloadData | T32Kind::PreloadInstruction => {}
            T32Kind::StoreMultiple | T32Kind::LoadMultiple | T32Kind::Push | T32Kind::Pop => {
                self.load_store_multiple_t32(insn, mem)?
            }
            T32Kind::LoadStoreDual | T32Kind::LoadDualLiteral => {
                self.load_store_dual_t32(insn, mem)?;
            }
            T32Kind::TableBranch => {
                // H (hw2 bit 4): TBH, halfword entries at Rn + Rm * 2.
                let n = self.tr(insn.rn());
                let m = self.tr(insn.rm());
                let entry = if insn.bit(4) {
                    self.load16(mem, n.wrapping_add(m << 1))?
                } else {
                    u32::from(mem.read_u8(n.wrapping_add(m))?)
                };
                self.thumb_branch_write_pc(self.tr(15).wrapping_add(entry * 2));
            }
            T32Kind::LoadLiteral
            | T32Kind::LoadImmediate
            | T32Kind::LoadRegister
            | T32Kind::StoreImmediate
            | T32Kind::StoreRegister => self.load_store_single_t32(insn, mem)?,
            T32Kind::PackHalfword
            | T32Kind::Extend
            | T32Kind::ParallelAddSubtract
            | T32Kind::SaturatingAddSubtract
            | T32Kind::Reverse
            | T32Kind::SelectBytes
            | T32Kind::CountLeadingZeros
            | T32Kind::Multiply
            | T32Kind::SignedMultiply
            | T32Kind::SumOfAbsoluteDifferences
            | T32Kind::LongMultiply
            | T32Kind::Divide => {
                let word = Insn(register_only_a32_twin(kind, insn));
                match decode(word) {
                    Decoded::Simulate(a32_kind) => self.execute(a32_kind, word, mem)?,
                    Decoded::Rejected(reason) => return Err(StepError::Rejected(reason)),
                }
            }
        }
        Ok(())
    }

    /// A6.3.1 and A6.3.11 data processing, given the second operand and the shifter carry:
    /// op (hw1 8:5); Rd == 1111 (with S) is TST, TEQ, CMN, CMP; Rn == 1111 makes ORR MOV and
    /// ORN MVN. Flags only with S.
    fn data_processing_t32(&mut self, insn: Thumb32, op2: u32, shifter_carry: bool) {
        let op = insn.bits(21, 4);
        let n = if insn.rn() == 15 && matches!(op, 0b0010 | 0b0011) {
            0
        } else {
            self.tr(insn.rn())
        };
        let c = self.flag(psr::C);
        let (result, carry, overflow) = if op == 0b0011 {
            // ORN, which A32 does not have.
            (n | !op2, shifter_carry, None)
        } else {
            let opcode = match op {
                0b0000 => 0x0, // AND, TST
                0b0001 => 0xe, // BIC
                0b0010 => 0xc, // ORR, MOV
                0b0100 => 0x1, // EOR, TEQ
                0b1000 => 0x4, // ADD, CMN
                0b1010 => 0x5, // ADC
                0b1011 => 0x6, // SBC
                0b1101 => 0x2, // SUB, CMP
                _ => 0x3,      // RSB
            };
            alu(opcode, n, op2, shifter_carry, c)
        };
        if insn.s() {
            self.set_nz(result);
            self.set_flag(psr::C, carry);
            if let Some(v) = overflow {
                self.set_flag(psr::V, v);
            }
        }
        if insn.rd() != 15 {
            self.set(insn.rd(), result);
        }
    }

    /// SSAT, USAT (shifted by `sh` (hw1 bit 5) and `imm3:imm2`), SSAT16, USAT16 (`sh` set with
    /// a zero shift); hw1 bit 7 set is unsigned. The saturation width is hw2 4:0.
    fn saturate_t32(&mut self, insn: Thumb32) {
        let unsigned = insn.bit(23);
        let sat_imm = insn.bits(0, 5);
        let n = self.tr(insn.rn());
        let halves = insn.bit(21) && insn.imm5() == 0;
        let saturate = |x: i64, bits: u32| {
            if unsigned {
                unsigned_sat(x, bits)
            } else {
                signed_sat(x, bits + 1)
            }
        };
        let (result, saturated) = if halves {
            // The width is hw2 3:0 (bit 4 is (0)).
            let bits = sat_imm & 0xf;
            let (lo, lo_sat) = saturate(sext16(n), bits);
            let (hi, hi_sat) = saturate(sext16(n >> 16), bits);
            ((hi as u32) << 16 | lo as u32 & 0xffff, lo_sat || hi_sat)
        } else {
            let (shift, amount) = decode_imm_shift(insn.bits(20, 2), insn.imm5());
            let (operand, _) = shift_c(n, shift, amount, self.flag(psr::C));
            let (r, s) = saturate(i64::from(operand as i32), sat_imm);
            (r as u32, s)
        };
        self.set(insn.rd(), result);
        self.set_q_if(saturated);
    }

    /// The single loads and stores (A6.3.7–A6.3.10): size (hw1 6:5: byte, halfword, word),
    /// signed (hw1 bit 8), L (hw1 bit 4). Addressing: Rn == 1111 literal (U hw1 bit 7,
    /// `Align(PC, 4)`), hw1 bit 7 a 12-bit offset, else hw2 bit 11 the 8-bit `1PUW` forms, else
    /// `[Rn, Rm, LSL #imm2]`.
    fn load_store_single_t32(
        &mut self,
        insn: Thumb32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let n = insn.rn();
        let (address, wback) = if n == 15 {
            let base = self.aligned_pc();
            let imm = insn.bits(0, 12);
            let address = if insn.bit(23) {
                base.wrapping_add(imm)
            } else {
                base.wrapping_sub(imm)
            };
            (address, None)
        } else if insn.bit(23) {
            (self.tr(n).wrapping_add(insn.bits(0, 12)), None)
        } else if insn.bit(11) {
            let (index, add, wback) = (insn.bit(10), insn.bit(9), insn.bit(8));
            let base = self.tr(n);
            let imm = insn.bits(0, 8);
            let offset_addr = if add {
                base.wrapping_add(imm)
            } else {
                base.wrapping_sub(imm)
            };
            (
                if index { offset_addr } else { base },
                wback.then_some(offset_addr),
            )
        } else {
            let offset = self.tr(insn.rm()) << insn.bits(4, 2);
            (self.tr(n).wrapping_add(offset), None)
        };
        let t = insn.rt();
        let size = insn.bits(21, 2);
        if insn.bit(20) {
            let signed = insn.bit(24);
            let data = match (size, signed) {
                (0, false) => u32::from(mem.read_u8(address)?),
                (0, true) => sext8(u32::from(mem.read_u8(address)?)) as u32,
                (1, false) => self.load16(mem, address)?,
                (1, true) => sext16(self.load16(mem, address)?) as u32,
                _ => self.load32(mem, address)?,
            };
            if t == 15 && address & 3 != 0 {
                return Err(StepError::UnalignedPcLoad { address });
            }
            if let Some(a) = wback {
                self.set(n, a);
            }
            if t == 15 {
                // LoadWritePC is BXWritePC.
                self.thumb_bx_write_pc(data)?;
            } else {
                self.set(t, data);
            }
        } else {
            let data = self.tr(t);
            match size {
                0 => mem.write_u8(address, data as u8)?,
                1 => self.store16(mem, address, data)?,
                _ => self.store32(mem, address, data)?,
            }
            if let Some(a) = wback {
                self.set(n, a);
            }
        }
        Ok(())
    }

    /// LDRD, STRD (immediate and literal): `1110 100P U1WL`, Rt and Rt2 (hw2 15:12, 11:8),
    /// `imm8 × 4`; word-aligned, as the A32 engine requires.
    fn load_store_dual_t32(
        &mut self,
        insn: Thumb32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let (index, add, wback) = (insn.bit(24), insn.bit(23), insn.bit(21));
        let n = insn.rn();
        let base = if n == 15 {
            self.aligned_pc()
        } else {
            self.tr(n)
        };
        let imm = insn.bits(0, 8) * 4;
        let offset_addr = if add {
            base.wrapping_add(imm)
        } else {
            base.wrapping_sub(imm)
        };
        let address = if index { offset_addr } else { base };
        if address & 3 != 0 {
            return Err(StepError::AlignmentFault { address });
        }
        let (t, t2) = (insn.rt(), insn.rd());
        let be = self.big_endian();
        let swap = |v: u32| if be { v.swap_bytes() } else { v };
        if insn.bit(20) {
            let [a, b] = mem.read_pair(address)?;
            if wback {
                self.set(n, offset_addr);
            }
            self.set(t, swap(a));
            self.set(t2, swap(b));
        } else {
            mem.write_pair(address, [swap(self.tr(t)), swap(self.tr(t2))])?;
            if wback {
                self.set(n, offset_addr);
            }
        }
        Ok(())
    }

    /// LDM, LDMDB, STM, STMDB, PUSH, POP (A6.3.5): hw1 bit 8 set is decrement-before, W
    /// (bit 5) writeback, L (bit 4) load; a loaded PC is `LoadWritePC` (`BXWritePC`).
    fn load_store_multiple_t32(
        &mut self,
        insn: Thumb32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let n = insn.rn();
        let list = insn.bits(0, 16);
        let base = self.tr(n);
        let size = 4 * list.count_ones();
        let (start, wback_addr) = if insn.bit(24) {
            let start = base.wrapping_sub(size);
            (start, start)
        } else {
            (base, base.wrapping_add(size))
        };
        if start & 3 != 0 {
            return Err(StepError::AlignmentFault { address: start });
        }
        let mut a = start;
        if insn.bit(20) {
            let mut loaded = [0u32; 16];
            for (i, slot) in loaded.iter_mut().enumerate() {
                if list & (1 << i) != 0 {
                    *slot = self.load32(mem, a)?;
                    a = a.wrapping_add(4);
                }
            }
            if insn.bit(21) {
                self.set(n, wback_addr);
            }
            for (i, &value) in loaded.iter().enumerate().take(15) {
                if list & (1 << i) != 0 {
                    self.set(i, value);
                }
            }
            if list & (1 << 15) != 0 {
                self.thumb_bx_write_pc(loaded[15])?;
            }
        } else {
            for i in (0..15usize).filter(|i| list & (1 << i) != 0) {
                self.store32(mem, a, self.tr(i))?;
                a = a.wrapping_add(4);
            }
            if insn.bit(21) {
                self.set(n, wback_addr);
            }
        }
        Ok(())
    }
}

/// The A32 word (condition AL) that computes what the register-only T32 instruction `insn`
/// (of `kind`) computes: the same registers moved to their A32 fields and the operation bits
/// mapped through the ARM ARM tables (A6.3.12–A6.3.17 against A5.2.7–A5.4).
fn register_only_a32_twin(kind: T32Kind, insn: Thumb32) -> u32 {
    const AL: u32 = 0xe000_0000;
    let (n, t, d, m) = (
        insn.rn() as u32,
        insn.rt() as u32,
        insn.rd() as u32,
        insn.rm() as u32,
    );
    // The multiply layout (A5.2.5, A5.4.4): Rd/RdHi 19:16, Ra/RdLo 15:12, Rm 11:8, Rn 3:0.
    let multiply = |head: u32, d: u32, a: u32| AL | head | d << 16 | a << 12 | m << 8 | n;
    // The media layout (A5.4): Rn 19:16, Rd 15:12, Rm 3:0.
    let media = |head: u32| AL | head | n << 16 | d << 12 | m;
    let op1 = insn.bits(20, 3);
    let op2 = insn.bits(4, 4);
    match kind {
        // MUL, MLA (op2 0000; Ra == 1111 is MUL), MLS (0001).
        T32Kind::Multiply => match (op2, t) {
            (0b0000, 15) => multiply(0x0000_0090, d, 0),
            (0b0000, _) => multiply(0x0020_0090, d, t),
            _ => multiply(0x0060_0090, d, t),
        },
        T32Kind::SignedMultiply => {
            // N (hw2 bit 5), M (bit 4) select halves; M is also X (swap) and R (round).
            let (nb, mb) = (insn.bits(5, 1), insn.bits(4, 1));
            match (op1, t) {
                (0b001, 15) => multiply(0x0160_0080 | mb << 6 | nb << 5, d, 0),
                (0b001, _) => multiply(0x0100_0080 | mb << 6 | nb << 5, d, t),
                (0b010, _) => multiply(0x0700_0010 | mb << 5, d, t),
                (0b011, 15) => multiply(0x0120_00a0 | mb << 6, d, 0),
                (0b011, _) => multiply(0x0120_0080 | mb << 6, d, t),
                (0b100, _) => multiply(0x0700_0050 | mb << 5, d, t),
                (0b101, _) => multiply(0x0750_0010 | mb << 5, d, t),
                _ => multiply(0x0750_00d0 | mb << 5, d, t),
            }
        }
        // USAD8 is USADA8 with Ra == 1111 in both sets.
        T32Kind::SumOfAbsoluteDifferences => multiply(0x0780_0010, d, t),
        T32Kind::LongMultiply => {
            // RdLo is at Rt's place, RdHi at Rd's.
            let (nb, mb) = (insn.bits(5, 1), insn.bits(4, 1));
            let head = match (op1, op2) {
                (0b000, _) => 0x00c0_0090,                                   // SMULL
                (0b010, _) => 0x0080_0090,                                   // UMULL
                (0b100, 0b0000) => 0x00e0_0090,                              // SMLAL
                (0b100, 0b1000..=0b1011) => 0x0140_0080 | mb << 6 | nb << 5, // SMLALxy
                (0b100, _) => 0x0740_0010 | mb << 5,                         // SMLALD
                (0b101, _) => 0x0740_0050 | mb << 5,                         // SMLSLD
                (_, 0b0000) => 0x00a0_0090,                                  // UMLAL
                _ => 0x0040_0090,                                            // UMAAL
            };
            multiply(head, d, t)
        }
        // SDIV (op1 001), UDIV (011): Rd 19:16, 1111, Rm 11:8, Rn 3:0.
        T32Kind::Divide => multiply(0x0710_f010 | (op1 & 0b010) << 20, d, 0xf),
        T32Kind::Extend => {
            // op1: SXTAH, UXTAH, SXTAB16, UXTAB16, SXTAB, UXTAB (Rn == 1111 without add).
            let op = [0x6b, 0x6f, 0x68, 0x6c, 0x6a, 0x6e][(op1 as usize).min(5)];
            media(op << 20 | insn.bits(4, 2) << 10 | 0x70)
        }
        T32Kind::ParallelAddSubtract => {
            // op1 (hw1 6:4) names the operation, hw2 bit 6 U, hw2 5:4 the prefix (plain, Q, H).
            let operation = [0b100, 0b000, 0b001, 0, 0b111, 0b011, 0b010, 0][op1 as usize];
            let prefix = insn.bits(4, 2) + 1;
            media(0x0600_0f10 | insn.bits(6, 1) << 22 | prefix << 20 | operation << 5)
        }
        // QADD, QDADD, QSUB, QDSUB (hw2 5:4) to A32 op (22:21): QADD, QSUB, QDADD, QDSUB.
        T32Kind::SaturatingAddSubtract => {
            let op = [0b00, 0b10, 0b01, 0b11][insn.bits(4, 2) as usize];
            media(0x0100_0050 | op << 21)
        }
        // REV, REV16, RBIT, REVSH (hw2 5:4); Rn is Rm again there, A32 has 1111.
        T32Kind::Reverse => {
            let head =
                [0x06bf_0f30, 0x06bf_0fb0, 0x06ff_0f30, 0x06ff_0fb0][insn.bits(4, 2) as usize];
            AL | head | d << 12 | m
        }
        T32Kind::SelectBytes => media(0x0680_0fb0),
        T32Kind::CountLeadingZeros => AL | 0x016f_0f10 | d << 12 | m,
        // PKHBT, PKHTB (tb, hw2 bit 5) with the shift imm3:imm2.
        _ => media(0x0680_0010 | insn.imm5() << 7 | insn.bits(5, 1) << 6),
    }
}
