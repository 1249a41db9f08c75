//! The classes that reach no general data: MRS, and the hints and barriers handed to
//! [`Memory`]. (Preloads have no effect; `dispatch` completes them.)

use super::frame::StepFrame;
use super::{Barrier, Hint, Insn, Memory, StepError, psr};

impl StepFrame {
    /// MRS from CPSR.
    #[inline(always)]
    pub(super) fn read_status(&mut self, insn: Insn) -> Result<(), StepError> {
        self.set(insn.rd() as usize, self.f.cpsr & psr::MRS_MASK);
        Ok(())
    }

    /// NOP, YIELD, WFE, WFI, SEV: handed to [`crate::step::Memory::hint`].
    #[inline(always)]
    pub(super) fn hint(
        &mut self,
        insn: Insn,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        // op2, bits 7:0 of the hint space (A5.2.11).
        mem.hint(match insn.word() & 0xff {
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
        insn: Insn,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let option = insn.option() as u8;
        // op2, bits 7:4 of the miscellaneous table (A5.7.1), tells DSB, DMB and ISB apart.
        mem.barrier(match (insn.word() >> 4) & 0xf {
            0b0100 => Barrier::Dsb(option),
            0b0101 => Barrier::Dmb(option),
            _ => Barrier::Isb(option),
        });
        Ok(())
    }
}
