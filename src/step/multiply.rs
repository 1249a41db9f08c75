//! The multiply classes (A5.2.5, A5.4.4 signed multiplies, SDIV/UDIV): MUL…UMAAL, the
//! halfword, dual and most-significant-word multiplies, and divides.

use super::frame::StepFrame;
use super::pseudocode::sext16;
use super::{StepError, bit, field};

impl StepFrame {
    /// MUL, MLA.
    #[inline(always)]
    pub(super) fn multiply(&mut self, w: u32) -> Result<(), StepError> {
        let mut result = self.r(field(w, 0)).wrapping_mul(self.r(field(w, 8)));
        if bit(w, 21) {
            result = result.wrapping_add(self.r(field(w, 12)));
        }
        self.set(field(w, 16), result);
        if bit(w, 20) {
            self.set_nz(result);
        }
        Ok(())
    }

    /// MLS.
    #[inline(always)]
    pub(super) fn multiply_subtract(&mut self, w: u32) -> Result<(), StepError> {
        let product = self.r(field(w, 0)).wrapping_mul(self.r(field(w, 8)));
        self.set(field(w, 16), self.r(field(w, 12)).wrapping_sub(product));
        Ok(())
    }

    /// UMULL, UMLAL, SMULL, SMLAL.
    #[inline(always)]
    pub(super) fn multiply_long(&mut self, w: u32) -> Result<(), StepError> {
        let (n, m) = (self.r(field(w, 0)), self.r(field(w, 8)));
        let (hi, lo) = (field(w, 16), field(w, 12));
        let mut result = if bit(w, 22) {
            (i64::from(n as i32) * i64::from(m as i32)) as u64
        } else {
            u64::from(n) * u64::from(m)
        };
        if bit(w, 21) {
            let acc = u64::from(self.r(hi)) << 32 | u64::from(self.r(lo));
            result = result.wrapping_add(acc);
        }
        self.set(hi, (result >> 32) as u32);
        self.set(lo, result as u32);
        if bit(w, 20) {
            self.set_nz64(result);
        }
        Ok(())
    }

    /// UMAAL.
    #[inline(always)]
    pub(super) fn multiply_accumulate_accumulate_long(&mut self, w: u32) -> Result<(), StepError> {
        let (hi, lo) = (field(w, 16), field(w, 12));
        let result = u64::from(self.r(field(w, 0))) * u64::from(self.r(field(w, 8)))
            + u64::from(self.r(hi))
            + u64::from(self.r(lo));
        self.set(hi, (result >> 32) as u32);
        self.set(lo, result as u32);
        Ok(())
    }

    /// `SMLA<x><y>`, `SMUL<x><y>`.
    #[inline(always)]
    pub(super) fn halfword_multiply(&mut self, w: u32) -> Result<(), StepError> {
        let n = self.r(field(w, 0));
        let m = self.r(field(w, 8));
        let op1 = sext16(if bit(w, 5) { n >> 16 } else { n });
        let op2 = sext16(if bit(w, 6) { m >> 16 } else { m });
        let product = op1 * op2;
        if (w >> 21) & 3 == 0b11 {
            self.set(field(w, 16), product as u32);
        } else {
            let result = product + i64::from(self.r(field(w, 12)) as i32);
            self.set(field(w, 16), result as u32);
            self.set_q_if(result != i64::from(result as i32));
        }
        Ok(())
    }

    /// `SMLAW<y>`, `SMULW<y>`.
    #[inline(always)]
    pub(super) fn word_halfword_multiply(&mut self, w: u32) -> Result<(), StepError> {
        let m = self.r(field(w, 8));
        let op2 = sext16(if bit(w, 6) { m >> 16 } else { m });
        let product = i64::from(self.r(field(w, 0)) as i32) * op2;
        if bit(w, 5) {
            self.set(field(w, 16), (product >> 16) as u32);
        } else {
            let result = product + (i64::from(self.r(field(w, 12)) as i32) << 16);
            let d = (result >> 16) as u32;
            self.set(field(w, 16), d);
            self.set_q_if(result >> 16 != i64::from(d as i32));
        }
        Ok(())
    }

    /// `SMLAL<x><y>`.
    #[inline(always)]
    pub(super) fn halfword_multiply_long(&mut self, w: u32) -> Result<(), StepError> {
        let n = self.r(field(w, 0));
        let m = self.r(field(w, 8));
        let op1 = sext16(if bit(w, 5) { n >> 16 } else { n });
        let op2 = sext16(if bit(w, 6) { m >> 16 } else { m });
        let (hi, lo) = (field(w, 16), field(w, 12));
        let acc = (u64::from(self.r(hi)) << 32 | u64::from(self.r(lo))) as i64;
        let result = acc.wrapping_add(op1 * op2) as u64;
        self.set(hi, (result >> 32) as u32);
        self.set(lo, result as u32);
        Ok(())
    }

    /// SMLAD, SMUAD, SMLSD, SMUSD.
    #[inline(always)]
    pub(super) fn dual_multiply(&mut self, w: u32) -> Result<(), StepError> {
        let (p1, p2) = self.dual_products(w);
        let mut result = if bit(w, 6) { p1 - p2 } else { p1 + p2 };
        let a = field(w, 12);
        if a != 15 {
            result += i64::from(self.r(a) as i32);
        }
        self.set(field(w, 16), result as u32);
        self.set_q_if(result != i64::from(result as i32));
        Ok(())
    }

    /// SMLALD, SMLSLD.
    #[inline(always)]
    pub(super) fn dual_multiply_long(&mut self, w: u32) -> Result<(), StepError> {
        let (p1, p2) = self.dual_products(w);
        let (hi, lo) = (field(w, 16), field(w, 12));
        let acc = (u64::from(self.r(hi)) << 32 | u64::from(self.r(lo))) as i64;
        let sum = if bit(w, 6) { p1 - p2 } else { p1 + p2 };
        let result = acc.wrapping_add(sum) as u64;
        self.set(hi, (result >> 32) as u32);
        self.set(lo, result as u32);
        Ok(())
    }

    /// SMMLA, SMMUL, SMMLS (and their rounding forms).
    #[inline(always)]
    pub(super) fn most_significant_multiply(&mut self, w: u32) -> Result<(), StepError> {
        let product = i64::from(self.r(field(w, 0)) as i32) * i64::from(self.r(field(w, 8)) as i32);
        let a = field(w, 12);
        let acc = if a == 15 {
            0
        } else {
            i64::from(self.r(a) as i32) << 32
        };
        let mut result = if bit(w, 6) {
            acc.wrapping_sub(product)
        } else {
            acc.wrapping_add(product)
        };
        if bit(w, 5) {
            result = result.wrapping_add(0x8000_0000);
        }
        self.set(field(w, 16), (result >> 32) as u32);
        Ok(())
    }

    /// SDIV, UDIV.
    #[inline(always)]
    pub(super) fn divide(&mut self, w: u32) -> Result<(), StepError> {
        let n = self.r(field(w, 0));
        let m = self.r(field(w, 8));
        // ARMv7-A has no divide-by-zero trap: the quotient is zero.
        let q = if m == 0 {
            0
        } else if bit(w, 21) {
            n / m
        } else {
            (n as i32).wrapping_div(m as i32) as u32
        };
        self.set(field(w, 16), q);
        Ok(())
    }

    /// The two 16 × 16 products of SMLAD/SMLSD/SMLALD/SMLSLD (M, bit 5, swaps Rm's halves).
    fn dual_products(&self, w: u32) -> (i64, i64) {
        let n = self.r(field(w, 0));
        let m = self.r(field(w, 8));
        let m = if bit(w, 5) { m.rotate_right(16) } else { m };
        (sext16(n) * sext16(m), sext16(n >> 16) * sext16(m >> 16))
    }
}
