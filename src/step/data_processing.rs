//! The data-processing classes: AND…MVN with an immediate, an immediate-shifted register or
//! a register-shifted register operand (A5.2.1–A5.2.3), and MOVW/MOVT.

use super::frame::StepFrame;
use super::pseudocode::{alu, decode_imm_shift, decode_reg_shift, shift_c};
use super::{Insn, StepError, psr};

impl StepFrame {
    /// AND…MVN with a rotated 8-bit immediate (also ADR).
    #[inline(always)]
    pub(super) fn data_processing_immediate(&mut self, insn: Insn) -> Result<(), StepError> {
        let imm12 = insn.imm12();
        let rotation = 2 * (imm12 >> 8);
        let value = (imm12 & 0xff).rotate_right(rotation);
        let carry = if rotation == 0 {
            self.flag(psr::C)
        } else {
            value >> 31 != 0
        };
        self.data_processing(insn, value, carry)
    }

    /// AND…MVN with a register shifted by an immediate (also LSL/LSR/ASR/ROR/RRX, MOV pc).
    #[inline(always)]
    pub(super) fn data_processing_register(&mut self, insn: Insn) -> Result<(), StepError> {
        let (shift, n) = decode_imm_shift(insn.shift_type(), insn.imm5());
        let (value, carry) = shift_c(self.r(insn.rm() as usize), shift, n, self.flag(psr::C));
        self.data_processing(insn, value, carry)
    }

    /// AND…MVN with a register shifted by a register.
    #[inline(always)]
    pub(super) fn data_processing_register_shifted(&mut self, insn: Insn) -> Result<(), StepError> {
        let n = self.r(insn.rs() as usize) & 0xff;
        let shift = decode_reg_shift(insn.shift_type());
        let (value, carry) = shift_c(self.r(insn.rm() as usize), shift, n, self.flag(psr::C));
        self.data_processing(insn, value, carry)
    }

    /// MOVW: 16-bit immediate to the low half, high half cleared.
    #[inline(always)]
    pub(super) fn move_wide(&mut self, insn: Insn) -> Result<(), StepError> {
        self.set(insn.rd() as usize, insn.imm4_imm12());
        Ok(())
    }

    /// MOVT: 16-bit immediate to the high half.
    #[inline(always)]
    pub(super) fn move_top(&mut self, insn: Insn) -> Result<(), StepError> {
        let d = insn.rd() as usize;
        self.set(d, insn.imm4_imm12() << 16 | self.r(d) & 0xffff);
        Ok(())
    }

    /// AND…MVN (A8.8 data-processing pseudo-code) given the shifter operand and carry.
    fn data_processing(
        &mut self,
        insn: Insn,
        op2: u32,
        shifter_carry: bool,
    ) -> Result<(), StepError> {
        let opcode = insn.opcode();
        let n = self.r(insn.rn() as usize);
        let c = self.flag(psr::C);
        let (result, carry, overflow) = alu(opcode, n, op2, shifter_carry, c);
        if insn.s() {
            self.set_nz(result);
            self.set_flag(psr::C, carry);
            if let Some(v) = overflow {
                self.set_flag(psr::V, v);
            }
        }
        if (0x8..=0xb).contains(&opcode) {
            Ok(())
        } else {
            self.set_or_interwork(insn.rd() as usize, result)
        }
    }
}
