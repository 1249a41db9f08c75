//! The branch classes: B, BL, BLX (immediate and register) and BX, with ARM-state
//! interworking.

use super::frame::StepFrame;
use super::{StepError, bit, field, psr};

impl StepFrame {
    /// B, BL.
    #[inline(always)]
    pub(super) fn branch(&mut self, w: u32) -> Result<(), StepError> {
        let offset = ((w << 8) as i32 >> 6) as u32;
        if bit(w, 24) {
            self.set(14, self.addr.wrapping_add(4));
        }
        self.branch_write_pc(self.r(15).wrapping_add(offset));
        Ok(())
    }

    /// BLX (immediate): call into Thumb.
    #[inline(always)]
    pub(super) fn branch_link_exchange_immediate(&mut self, w: u32) -> Result<(), StepError> {
        let offset = ((w << 8) as i32 >> 6) as u32 | (w >> 23) & 2;
        self.set(14, self.addr.wrapping_add(4));
        self.f.cpsr |= psr::T;
        self.f.pc = self.r(15).wrapping_add(offset);
        self.pc_written = true;
        Ok(())
    }

    /// BX.
    #[inline(always)]
    pub(super) fn branch_exchange(&mut self, w: u32) -> Result<(), StepError> {
        self.bx_write_pc(self.r(field(w, 0)))
    }

    /// BLX (register).
    #[inline(always)]
    pub(super) fn branch_link_exchange_register(&mut self, w: u32) -> Result<(), StepError> {
        let target = self.r(field(w, 0));
        self.bx_write_pc(target)?;
        self.set(14, self.addr.wrapping_add(4));
        Ok(())
    }
}
