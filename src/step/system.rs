//! The classes that reach no general data: MRS, and the hints and barriers handed to
//! [`Memory`]. (Preloads have no effect; `dispatch` completes them.)

use super::frame::StepFrame;
use super::{Barrier, Hint, Memory, StepError, field, psr};

impl StepFrame {
    /// MRS from CPSR.
    #[inline(always)]
    pub(super) fn read_status(&mut self, w: u32) -> Result<(), StepError> {
        self.set(field(w, 12), self.f.cpsr & psr::MRS_MASK);
        Ok(())
    }

    /// NOP, YIELD, WFE, WFI, SEV: handed to [`crate::step::Memory::hint`].
    #[inline(always)]
    pub(super) fn hint(
        &mut self,
        w: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        mem.hint(match w & 0xff {
            1 => Hint::Yield,
            2 => Hint::Wfe,
            3 => Hint::Wfi,
            4 => Hint::Sev,
            _ => Hint::Nop,
        });
        Ok(())
    }

    /// DMB, DSB, ISB: handed to [`crate::step::Memory::barrier`].
    #[inline(always)]
    pub(super) fn barrier(
        &mut self,
        w: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let option = (w & 0xf) as u8;
        mem.barrier(match (w >> 4) & 0xf {
            0b0100 => Barrier::Dsb(option),
            0b0101 => Barrier::Dmb(option),
            _ => Barrier::Isb(option),
        });
        Ok(())
    }
}
