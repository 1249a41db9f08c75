//! The dispatch of a decoded instruction to its class: one arm per [`SimKind`], each a
//! call into the file of the class family (the bodies are `#[inline(always)]`, so the
//! compiled step is the single match it always was).

use super::frame::StepFrame;
use super::{Insn, Memory, SimKind, StepError};

impl StepFrame {
    /// Runs the instruction `insn`, decoded as `kind`, whose condition has passed.
    pub(super) fn execute(
        &mut self,
        kind: SimKind,
        insn: Insn,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        match kind {
            SimKind::DataProcessingImmediate => self.data_processing_immediate(insn),
            SimKind::DataProcessingRegister => self.data_processing_register(insn),
            SimKind::DataProcessingRegisterShifted => self.data_processing_register_shifted(insn),
            SimKind::MoveWide => self.move_wide(insn),
            SimKind::MoveTop => self.move_top(insn),
            SimKind::Multiply => self.multiply(insn),
            SimKind::MultiplySubtract => self.multiply_subtract(insn),
            SimKind::MultiplyLong => self.multiply_long(insn),
            SimKind::MultiplyAccumulateAccumulateLong => {
                self.multiply_accumulate_accumulate_long(insn)
            }
            SimKind::HalfwordMultiply => self.halfword_multiply(insn),
            SimKind::WordHalfwordMultiply => self.word_halfword_multiply(insn),
            SimKind::HalfwordMultiplyLong => self.halfword_multiply_long(insn),
            SimKind::DualMultiply => self.dual_multiply(insn),
            SimKind::DualMultiplyLong => self.dual_multiply_long(insn),
            SimKind::MostSignificantMultiply => self.most_significant_multiply(insn),
            SimKind::Divide => self.divide(insn),
            SimKind::SaturatingAddSubtract => self.saturating_add_subtract(insn),
            SimKind::ParallelAddSubtract => self.parallel_add_subtract(insn),
            SimKind::Saturate => self.saturate(insn),
            SimKind::Saturate16 => self.saturate16(insn),
            SimKind::Extend => self.extend(insn),
            SimKind::PackHalfword => self.pack_halfword(insn),
            SimKind::SelectBytes => self.select_bytes(insn),
            SimKind::Reverse => self.reverse(insn),
            SimKind::SumAbsoluteDifferences => self.sum_absolute_differences(insn),
            SimKind::BitFieldExtract => self.bit_field_extract(insn),
            SimKind::BitFieldInsert => self.bit_field_insert(insn),
            SimKind::CountLeadingZeros => self.count_leading_zeros(insn),
            SimKind::LoadStoreImmediate => self.load_store_immediate(insn, mem),
            SimKind::LoadStoreRegister => self.load_store_register(insn, mem),
            SimKind::LoadStoreHalfImmediate => self.load_store_half_immediate(insn, mem),
            SimKind::LoadStoreHalfRegister => self.load_store_half_register(insn, mem),
            SimKind::LoadStoreDualImmediate => self.load_store_dual_immediate(insn, mem),
            SimKind::LoadStoreDualRegister => self.load_store_dual_register(insn, mem),
            SimKind::LoadStoreMultiple => self.load_store_multiple(insn, mem),
            SimKind::Branch => self.branch(insn),
            SimKind::BranchLinkExchangeImmediate => self.branch_link_exchange_immediate(insn),
            SimKind::BranchExchange => self.branch_exchange(insn),
            SimKind::BranchLinkExchangeRegister => self.branch_link_exchange_register(insn),
            SimKind::ReadStatus => self.read_status(insn),
            SimKind::Hint => self.hint(insn, mem),
            SimKind::Preload => Ok(()), // PLD, PLDW, PLI: no architectural effect.
            SimKind::Barrier => self.barrier(insn, mem),
        }
    }
}
