//! The multiply classes (A5.2.5, A5.4.4 signed multiplies, SDIV/UDIV): MUL…UMAAL, the
//! halfword, dual and most-significant-word multiplies, and divides.
//!
//! Multiplies place their registers differently from data-processing, so they are read with
//! [`Insn::reg_at`]: Rd (or RdHi) at 19:16, Ra (or RdLo) at 15:12, Rm at 11:8, Rn at 3:0.

use super::frame::StepFrame;
use super::pseudocode::sext16;
use super::{Insn, StepError, op_bit};

impl StepFrame {
    /// MUL, MLA.
    #[inline(always)]
    pub(super) fn multiply(&mut self, insn: Insn) -> Result<(), StepError> {
        let mut result = self
            .r(insn.reg_at(0) as usize)
            .wrapping_mul(self.r(insn.reg_at(8) as usize));
        // Bit 21 set is MLA.
        if op_bit(insn, 21) {
            result = result.wrapping_add(self.r(insn.reg_at(12) as usize));
        }
        self.set(insn.reg_at(16) as usize, result);
        if insn.s() {
            self.set_nz(result);
        }
        Ok(())
    }

    /// MLS.
    #[inline(always)]
    pub(super) fn multiply_subtract(&mut self, insn: Insn) -> Result<(), StepError> {
        let product = self
            .r(insn.reg_at(0) as usize)
            .wrapping_mul(self.r(insn.reg_at(8) as usize));
        self.set(
            insn.reg_at(16) as usize,
            self.r(insn.reg_at(12) as usize).wrapping_sub(product),
        );
        Ok(())
    }

    /// UMULL, UMLAL, SMULL, SMLAL.
    #[inline(always)]
    pub(super) fn multiply_long(&mut self, insn: Insn) -> Result<(), StepError> {
        let (n, m) = (
            self.r(insn.reg_at(0) as usize),
            self.r(insn.reg_at(8) as usize),
        );
        let (hi, lo) = (insn.reg_at(16) as usize, insn.reg_at(12) as usize);
        // Bit 22 set is SMULL/SMLAL, bit 21 set accumulates (UMLAL/SMLAL).
        let mut result = if op_bit(insn, 22) {
            (i64::from(n as i32) * i64::from(m as i32)) as u64
        } else {
            u64::from(n) * u64::from(m)
        };
        if op_bit(insn, 21) {
            let acc = u64::from(self.r(hi)) << 32 | u64::from(self.r(lo));
            result = result.wrapping_add(acc);
        }
        self.set(hi, (result >> 32) as u32);
        self.set(lo, result as u32);
        if insn.s() {
            self.set_nz64(result);
        }
        Ok(())
    }

    /// UMAAL.
    #[inline(always)]
    pub(super) fn multiply_accumulate_accumulate_long(
        &mut self,
        insn: Insn,
    ) -> Result<(), StepError> {
        let (hi, lo) = (insn.reg_at(16) as usize, insn.reg_at(12) as usize);
        let result = u64::from(self.r(insn.reg_at(0) as usize))
            * u64::from(self.r(insn.reg_at(8) as usize))
            + u64::from(self.r(hi))
            + u64::from(self.r(lo));
        self.set(hi, (result >> 32) as u32);
        self.set(lo, result as u32);
        Ok(())
    }

    /// `SMLA<x><y>`, `SMUL<x><y>`.
    #[inline(always)]
    pub(super) fn halfword_multiply(&mut self, insn: Insn) -> Result<(), StepError> {
        let n = self.r(insn.reg_at(0) as usize);
        let m = self.r(insn.reg_at(8) as usize);
        let op1 = sext16(if insn.halfword_n() { n >> 16 } else { n });
        let op2 = sext16(if insn.halfword_m() { m >> 16 } else { m });
        let product = op1 * op2;
        // op1, bits 22:21 (A5.2.7): 11 is SMUL<x><y>, 00 SMLA<x><y>.
        if (insn.word() >> 21) & 3 == 0b11 {
            self.set(insn.reg_at(16) as usize, product as u32);
        } else {
            let result = product + i64::from(self.r(insn.reg_at(12) as usize) as i32);
            self.set(insn.reg_at(16) as usize, result as u32);
            self.set_q_if(result != i64::from(result as i32));
        }
        Ok(())
    }

    /// `SMLAW<y>`, `SMULW<y>`.
    #[inline(always)]
    pub(super) fn word_halfword_multiply(&mut self, insn: Insn) -> Result<(), StepError> {
        let m = self.r(insn.reg_at(8) as usize);
        let op2 = sext16(if insn.halfword_m() { m >> 16 } else { m });
        let product = i64::from(self.r(insn.reg_at(0) as usize) as i32) * op2;
        // op, bit 5 (A5.2.7): set is SMULW<y>.
        if op_bit(insn, 5) {
            self.set(insn.reg_at(16) as usize, (product >> 16) as u32);
        } else {
            let result = product + (i64::from(self.r(insn.reg_at(12) as usize) as i32) << 16);
            let d = (result >> 16) as u32;
            self.set(insn.reg_at(16) as usize, d);
            self.set_q_if(result >> 16 != i64::from(d as i32));
        }
        Ok(())
    }

    /// `SMLAL<x><y>`.
    #[inline(always)]
    pub(super) fn halfword_multiply_long(&mut self, insn: Insn) -> Result<(), StepError> {
        let n = self.r(insn.reg_at(0) as usize);
        let m = self.r(insn.reg_at(8) as usize);
        let op1 = sext16(if insn.halfword_n() { n >> 16 } else { n });
        let op2 = sext16(if insn.halfword_m() { m >> 16 } else { m });
        let (hi, lo) = (insn.reg_at(16) as usize, insn.reg_at(12) as usize);
        let acc = (u64::from(self.r(hi)) << 32 | u64::from(self.r(lo))) as i64;
        let result = acc.wrapping_add(op1 * op2) as u64;
        self.set(hi, (result >> 32) as u32);
        self.set(lo, result as u32);
        Ok(())
    }

    /// SMLAD, SMUAD, SMLSD, SMUSD.
    #[inline(always)]
    pub(super) fn dual_multiply(&mut self, insn: Insn) -> Result<(), StepError> {
        let (p1, p2) = self.dual_products(insn);
        // Bit 6 set subtracts the products (SMLSD, SMUSD).
        let mut result = if op_bit(insn, 6) { p1 - p2 } else { p1 + p2 };
        let a = insn.reg_at(12) as usize;
        if a != 15 {
            result += i64::from(self.r(a) as i32);
        }
        self.set(insn.reg_at(16) as usize, result as u32);
        self.set_q_if(result != i64::from(result as i32));
        Ok(())
    }

    /// SMLALD, SMLSLD.
    #[inline(always)]
    pub(super) fn dual_multiply_long(&mut self, insn: Insn) -> Result<(), StepError> {
        let (p1, p2) = self.dual_products(insn);
        let (hi, lo) = (insn.reg_at(16) as usize, insn.reg_at(12) as usize);
        let acc = (u64::from(self.r(hi)) << 32 | u64::from(self.r(lo))) as i64;
        // Bit 6 set subtracts the products (SMLSLD).
        let sum = if op_bit(insn, 6) { p1 - p2 } else { p1 + p2 };
        let result = acc.wrapping_add(sum) as u64;
        self.set(hi, (result >> 32) as u32);
        self.set(lo, result as u32);
        Ok(())
    }

    /// SMMLA, SMMUL, SMMLS (and their rounding forms).
    #[inline(always)]
    pub(super) fn most_significant_multiply(&mut self, insn: Insn) -> Result<(), StepError> {
        let product = i64::from(self.r(insn.reg_at(0) as usize) as i32)
            * i64::from(self.r(insn.reg_at(8) as usize) as i32);
        let a = insn.reg_at(12) as usize;
        let acc = if a == 15 {
            0
        } else {
            i64::from(self.r(a) as i32) << 32
        };
        // Bit 6 set subtracts (SMMLS).
        let mut result = if op_bit(insn, 6) {
            acc.wrapping_sub(product)
        } else {
            acc.wrapping_add(product)
        };
        if insn.round() {
            result = result.wrapping_add(0x8000_0000);
        }
        self.set(insn.reg_at(16) as usize, (result >> 32) as u32);
        Ok(())
    }

    /// SDIV, UDIV.
    #[inline(always)]
    pub(super) fn divide(&mut self, insn: Insn) -> Result<(), StepError> {
        let n = self.r(insn.reg_at(0) as usize);
        let m = self.r(insn.reg_at(8) as usize);
        // ARMv7-A has no divide-by-zero trap: the quotient is zero.
        let q = if m == 0 {
            0
        // Bit 21 set is UDIV.
        } else if op_bit(insn, 21) {
            n / m
        } else {
            (n as i32).wrapping_div(m as i32) as u32
        };
        self.set(insn.reg_at(16) as usize, q);
        Ok(())
    }

    /// The two 16 × 16 products of SMLAD/SMLSD/SMLALD/SMLSLD (M, bit 5, swaps Rm's halves).
    fn dual_products(&self, insn: Insn) -> (i64, i64) {
        let n = self.r(insn.reg_at(0) as usize);
        let m = self.r(insn.reg_at(8) as usize);
        let m = if insn.dual_m() { m.rotate_right(16) } else { m };
        (sext16(n) * sext16(m), sext16(n >> 16) * sext16(m >> 16))
    }
}
