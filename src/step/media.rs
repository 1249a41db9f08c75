//! The media and saturating classes (A5.4, QADD…QDSUB, CLZ): parallel add/subtract, SSAT/USAT,
//! extends, pack, select, reverse, USAD8, bit fields and count leading zeros.

use super::frame::StepFrame;
use super::pseudocode::{decode_imm_shift, sext8, sext16, shift_c, signed_sat, unsigned_sat};
use super::{Insn, StepError, op_bit, psr};

impl StepFrame {
    /// QADD, QSUB, QDADD, QDSUB.
    #[inline(always)]
    pub(super) fn saturating_add_subtract(&mut self, insn: Insn) -> Result<(), StepError> {
        let n = i64::from(self.r(insn.rn() as usize) as i32);
        let m = i64::from(self.r(insn.rm() as usize) as i32);
        // op, bits 22:21 (A5.2.6): bit 22 set doubles (QDADD, QDSUB), bit 21 set subtracts.
        let (operand, doubled_sat) = if op_bit(insn, 22) {
            signed_sat(2 * n, 32)
        } else {
            (n, false)
        };
        let (result, sat) = if op_bit(insn, 21) {
            signed_sat(m - operand, 32)
        } else {
            signed_sat(m + operand, 32)
        };
        self.set(insn.rd() as usize, result as u32);
        self.set_q_if(sat || doubled_sat);
        Ok(())
    }

    /// The 36 parallel add/subtract instructions (S, Q, SH, U, UQ, UH × ADD16…SUB8).
    #[inline(always)]
    pub(super) fn parallel_add_subtract(&mut self, insn: Insn) -> Result<(), StepError> {
        self.parallel(insn);
        Ok(())
    }

    /// SSAT, USAT.
    #[inline(always)]
    pub(super) fn saturate(&mut self, insn: Insn) -> Result<(), StepError> {
        let (shift, n) = if insn.sh() {
            decode_imm_shift(2, insn.imm5())
        } else {
            decode_imm_shift(0, insn.imm5())
        };
        // Rn is at 3:0 here.
        let (operand, _) = shift_c(self.r(insn.reg_at(0) as usize), shift, n, self.flag(psr::C));
        let sat_imm = insn.sat_imm();
        // Bit 22 set is USAT.
        let (result, sat) = if op_bit(insn, 22) {
            unsigned_sat(i64::from(operand as i32), sat_imm)
        } else {
            signed_sat(i64::from(operand as i32), sat_imm + 1)
        };
        self.set(insn.rd() as usize, result as u32);
        self.set_q_if(sat);
        Ok(())
    }

    /// SSAT16, USAT16.
    #[inline(always)]
    pub(super) fn saturate16(&mut self, insn: Insn) -> Result<(), StepError> {
        // Rn is at 3:0 here.
        let n = self.r(insn.reg_at(0) as usize);
        let sat_imm = insn.sat_imm4();
        let sat = |half: u32| {
            // Bit 22 set is USAT16.
            if op_bit(insn, 22) {
                unsigned_sat(sext16(half), sat_imm)
            } else {
                signed_sat(sext16(half), sat_imm + 1)
            }
        };
        let (lo, sat_lo) = sat(n);
        let (hi, sat_hi) = sat(n >> 16);
        self.set(insn.rd() as usize, (hi as u32) << 16 | (lo as u32) & 0xffff);
        self.set_q_if(sat_lo || sat_hi);
        Ok(())
    }

    /// SXTAB, SXTAB16, SXTAH, UXTAB, UXTAB16, UXTAH and their non-accumulating forms.
    #[inline(always)]
    pub(super) fn extend(&mut self, insn: Insn) -> Result<(), StepError> {
        let rotated = self.r(insn.rm() as usize).rotate_right(8 * insn.rotate());
        // Bit 22 set is the unsigned UXT* forms.
        let signed = !op_bit(insn, 22);
        let ext8 = |x: u32| if signed { sext8(x) as u32 } else { x & 0xff };
        let n = insn.rn() as usize;
        let base = if n == 15 { 0 } else { self.r(n) };
        // Bits 21:20 (op1's low bits, A5.4.3): 00 the 16-bit pair, 10 byte, 11 halfword.
        let result = match (insn.word() >> 20) & 3 {
            0b00 => {
                let lo = base.wrapping_add(ext8(rotated)) & 0xffff;
                let hi = (base >> 16).wrapping_add(ext8(rotated >> 16)) & 0xffff;
                hi << 16 | lo
            }
            0b10 => base.wrapping_add(ext8(rotated)),
            _ => {
                let half = if signed {
                    sext16(rotated) as u32
                } else {
                    rotated & 0xffff
                };
                base.wrapping_add(half)
            }
        };
        self.set(insn.rd() as usize, result);
        Ok(())
    }

    /// PKHBT, PKHTB.
    #[inline(always)]
    pub(super) fn pack_halfword(&mut self, insn: Insn) -> Result<(), StepError> {
        let tb = insn.tb();
        let (shift, amount) = decode_imm_shift(if tb { 2 } else { 0 }, insn.imm5());
        let (operand, _) = shift_c(self.r(insn.rm() as usize), shift, amount, self.flag(psr::C));
        let n = self.r(insn.rn() as usize);
        let result = if tb {
            n & 0xffff_0000 | operand & 0xffff
        } else {
            operand & 0xffff_0000 | n & 0xffff
        };
        self.set(insn.rd() as usize, result);
        Ok(())
    }

    /// SEL.
    #[inline(always)]
    pub(super) fn select_bytes(&mut self, insn: Insn) -> Result<(), StepError> {
        let (n, m) = (self.r(insn.rn() as usize), self.r(insn.rm() as usize));
        let mut mask = 0;
        for i in 0..4 {
            if self.f.cpsr & (1 << (16 + i)) != 0 {
                mask |= 0xff << (8 * i);
            }
        }
        self.set(insn.rd() as usize, n & mask | m & !mask);
        Ok(())
    }

    /// REV, REV16, REVSH, RBIT.
    #[inline(always)]
    pub(super) fn reverse(&mut self, insn: Insn) -> Result<(), StepError> {
        let m = self.r(insn.rm() as usize);
        // Bit 22 (op1) and bit 7 (op2) pick REV, REV16, RBIT, REVSH (A5.4.3).
        let result = match (op_bit(insn, 22), op_bit(insn, 7)) {
            (false, false) => m.swap_bytes(),
            (false, true) => (m & 0x00ff_00ff) << 8 | (m >> 8) & 0x00ff_00ff,
            (true, false) => m.reverse_bits(),
            (true, true) => (((m & 0xff) << 8 | (m >> 8) & 0xff) as u16 as i16) as u32,
        };
        self.set(insn.rd() as usize, result);
        Ok(())
    }

    /// USAD8, USADA8.
    #[inline(always)]
    pub(super) fn sum_absolute_differences(&mut self, insn: Insn) -> Result<(), StepError> {
        // The multiply layout: Rd 19:16, Ra 15:12, Rm 11:8, Rn 3:0.
        let (n, m) = (
            self.r(insn.reg_at(0) as usize),
            self.r(insn.reg_at(8) as usize),
        );
        let a = insn.reg_at(12) as usize;
        let mut sum = if a == 15 { 0 } else { self.r(a) };
        for i in 0..4 {
            let x = (n >> (8 * i)) & 0xff;
            let y = (m >> (8 * i)) & 0xff;
            sum = sum.wrapping_add(x.abs_diff(y));
        }
        self.set(insn.reg_at(16) as usize, sum);
        Ok(())
    }

    /// SBFX, UBFX.
    #[inline(always)]
    pub(super) fn bit_field_extract(&mut self, insn: Insn) -> Result<(), StepError> {
        let lsb = insn.imm5();
        let width = insn.widthm1() + 1;
        // Rn is at 3:0 here.
        let n = self.r(insn.reg_at(0) as usize);
        // Bit 22 set is UBFX.
        let result = if op_bit(insn, 22) {
            (n >> lsb) & (u32::MAX >> (32 - width))
        } else {
            (((n << (32 - lsb - width)) as i32) >> (32 - width)) as u32
        };
        self.set(insn.rd() as usize, result);
        Ok(())
    }

    /// BFI, BFC.
    #[inline(always)]
    pub(super) fn bit_field_insert(&mut self, insn: Insn) -> Result<(), StepError> {
        let lsb = insn.imm5();
        let msb = insn.msb();
        let mask = (u32::MAX >> (31 - msb)) & (u32::MAX << lsb);
        // Rn is at 3:0 here; 15 is BFC.
        let n = insn.reg_at(0) as usize;
        let src = if n == 15 { 0 } else { self.r(n) << lsb };
        let d = insn.rd() as usize;
        self.set(d, self.r(d) & !mask | src & mask);
        Ok(())
    }

    /// CLZ.
    #[inline(always)]
    pub(super) fn count_leading_zeros(&mut self, insn: Insn) -> Result<(), StepError> {
        self.set(
            insn.rd() as usize,
            self.r(insn.rm() as usize).leading_zeros(),
        );
        Ok(())
    }

    /// The 36 parallel add/subtract instructions: U (22), prefix (21:20), operation (7:5).
    fn parallel(&mut self, insn: Insn) {
        let unsigned = op_bit(insn, 22);
        let prefix = (insn.word() >> 20) & 3;
        let op = (insn.word() >> 5) & 7;
        let n = self.r(insn.rn() as usize);
        let m = self.r(insn.rm() as usize);
        let bytes = op == 0b100 || op == 0b111;
        let width = if bytes { 8 } else { 16 };
        let lanes = 32 / width;
        let lane = |x: u32, i: u32| -> i64 {
            let v = (x >> (width * i)) & ((1 << width) - 1);
            match (unsigned, bytes) {
                (true, _) => i64::from(v),
                (false, true) => sext8(v),
                (false, false) => sext16(v),
            }
        };
        let mut result = 0u32;
        let mut ge = 0u32;
        for i in 0..lanes {
            // (sum or difference, whether it is a sum) for lane i.
            let (v, add) = match op {
                0b000 | 0b100 => (lane(n, i) + lane(m, i), true),
                0b011 | 0b111 => (lane(n, i) - lane(m, i), false),
                // ASX: low lane n.lo - m.hi, high lane n.hi + m.lo.
                0b001 if i == 0 => (lane(n, 0) - lane(m, 1), false),
                0b001 => (lane(n, 1) + lane(m, 0), true),
                // SAX: low lane n.lo + m.hi, high lane n.hi - m.lo.
                0b010 if i == 0 => (lane(n, 0) + lane(m, 1), true),
                _ => (lane(n, 1) - lane(m, 0), false),
            };
            let out = match prefix {
                0b01 => {
                    let ge_set = if unsigned && add {
                        v >= 1 << width
                    } else {
                        v >= 0
                    };
                    if ge_set {
                        let per_lane = if bytes { 1 } else { 3 };
                        ge |= per_lane << (i * (width / 8));
                    }
                    v
                }
                0b10 if unsigned => unsigned_sat(v, width).0,
                0b10 => signed_sat(v, width).0,
                _ => v >> 1,
            };
            result |= ((out as u32) & ((1 << width) - 1)) << (width * i);
        }
        self.set(insn.rd() as usize, result);
        if prefix == 0b01 {
            self.f.cpsr = self.f.cpsr & !psr::GE | ge << 16;
        }
    }
}
