//! The branch classes: B, BL, BLX (immediate and register) and BX, with ARM-state
//! interworking.

use super::frame::StepFrame;
use super::{Insn, StepError, op_bit, psr};

impl StepFrame {
    /// B, BL.
    #[inline(always)]
    pub(super) fn branch(&mut self, insn: Insn) -> Result<(), StepError> {
        // imm24:'00', sign-extended.
        let offset = ((insn.imm24() << 8) as i32 >> 6) as u32;
        // Bit 24 set is BL (A5.7, op = 11xxxx).
        if op_bit(insn, 24) {
            self.set(14, self.addr.wrapping_add(4));
        }
        self.branch_write_pc(self.r(15).wrapping_add(offset));
        Ok(())
    }

    /// BLX (immediate): call into Thumb.
    #[inline(always)]
    pub(super) fn branch_link_exchange_immediate(&mut self, insn: Insn) -> Result<(), StepError> {
        // imm24:H:'0', sign-extended: H is bit 24.
        let offset = ((insn.imm24() << 8) as i32 >> 6) as u32 | (insn.word() >> 23) & 2;
        self.set(14, self.addr.wrapping_add(4));
        self.f.cpsr |= psr::T;
        self.f.pc = self.r(15).wrapping_add(offset);
        self.pc_written = true;
        Ok(())
    }

    /// BX.
    #[inline(always)]
    pub(super) fn branch_exchange(&mut self, insn: Insn) -> Result<(), StepError> {
        self.bx_write_pc(self.r(insn.rm() as usize))
    }

    /// BLX (register).
    #[inline(always)]
    pub(super) fn branch_link_exchange_register(&mut self, insn: Insn) -> Result<(), StepError> {
        let target = self.r(insn.rm() as usize);
        self.bx_write_pc(target)?;
        self.set(14, self.addr.wrapping_add(4));
        Ok(())
    }
}
