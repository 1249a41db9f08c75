//! The data-processing classes: AND…MVN with an immediate, an immediate-shifted register or
//! a register-shifted register operand (A5.2.1–A5.2.3), and MOVW/MOVT.

use super::frame::StepFrame;
use super::pseudocode::{add_with_carry, decode_imm_shift, decode_reg_shift, shift_c};
use super::{StepError, bit, field, psr};

impl StepFrame {
    /// AND…MVN with a rotated 8-bit immediate (also ADR).
    #[inline(always)]
    pub(super) fn data_processing_immediate(&mut self, w: u32) -> Result<(), StepError> {
        let imm12 = w & 0xfff;
        let rotation = 2 * (imm12 >> 8);
        let value = (imm12 & 0xff).rotate_right(rotation);
        let carry = if rotation == 0 {
            self.flag(psr::C)
        } else {
            value >> 31 != 0
        };
        self.data_processing(w, value, carry)
    }

    /// AND…MVN with a register shifted by an immediate (also LSL/LSR/ASR/ROR/RRX, MOV pc).
    #[inline(always)]
    pub(super) fn data_processing_register(&mut self, w: u32) -> Result<(), StepError> {
        let (shift, n) = decode_imm_shift(w >> 5, (w >> 7) & 0x1f);
        let (value, carry) = shift_c(self.r(field(w, 0)), shift, n, self.flag(psr::C));
        self.data_processing(w, value, carry)
    }

    /// AND…MVN with a register shifted by a register.
    #[inline(always)]
    pub(super) fn data_processing_register_shifted(&mut self, w: u32) -> Result<(), StepError> {
        let n = self.r(field(w, 8)) & 0xff;
        let shift = decode_reg_shift(w >> 5);
        let (value, carry) = shift_c(self.r(field(w, 0)), shift, n, self.flag(psr::C));
        self.data_processing(w, value, carry)
    }

    /// MOVW: 16-bit immediate to the low half, high half cleared.
    #[inline(always)]
    pub(super) fn move_wide(&mut self, w: u32) -> Result<(), StepError> {
        self.set(field(w, 12), (w >> 4) & 0xf000 | w & 0xfff);
        Ok(())
    }

    /// MOVT: 16-bit immediate to the high half.
    #[inline(always)]
    pub(super) fn move_top(&mut self, w: u32) -> Result<(), StepError> {
        let d = field(w, 12);
        let imm16 = (w >> 4) & 0xf000 | w & 0xfff;
        self.set(d, imm16 << 16 | self.r(d) & 0xffff);
        Ok(())
    }

    /// AND…MVN (A8.8 data-processing pseudo-code) given the shifter operand and carry.
    fn data_processing(&mut self, w: u32, op2: u32, shifter_carry: bool) -> Result<(), StepError> {
        let opcode = (w >> 21) & 0xf;
        let n = self.r(field(w, 16));
        let c = self.flag(psr::C);
        let logical = |r: u32| (r, shifter_carry, None);
        let arith = |(r, c, v): (u32, bool, bool)| (r, c, Some(v));
        let (result, carry, overflow) = match opcode {
            0x0 | 0x8 => logical(n & op2),
            0x1 | 0x9 => logical(n ^ op2),
            0x2 | 0xa => arith(add_with_carry(n, !op2, true)),
            0x3 => arith(add_with_carry(!n, op2, true)),
            0x4 | 0xb => arith(add_with_carry(n, op2, false)),
            0x5 => arith(add_with_carry(n, op2, c)),
            0x6 => arith(add_with_carry(n, !op2, c)),
            0x7 => arith(add_with_carry(!n, op2, c)),
            0xc => logical(n | op2),
            0xd => logical(op2),
            0xe => logical(n & !op2),
            _ => logical(!op2),
        };
        if bit(w, 20) {
            self.set_nz(result);
            self.set_flag(psr::C, carry);
            if let Some(v) = overflow {
                self.set_flag(psr::V, v);
            }
        }
        if (0x8..=0xb).contains(&opcode) {
            Ok(())
        } else {
            self.set_or_interwork(field(w, 12), result)
        }
    }
}
