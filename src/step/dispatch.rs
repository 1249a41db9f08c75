//! The dispatch of a decoded instruction to its class: one arm per [`SimKind`], each a
//! call into the file of the class family (the bodies are `#[inline(always)]`, so the
//! compiled step is the single match it always was).

use super::frame::StepFrame;
use super::{Memory, SimKind, StepError};

impl StepFrame {
    /// Runs the instruction word `w`, decoded as `kind`, whose condition has passed.
    pub(super) fn execute(
        &mut self,
        kind: SimKind,
        w: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        match kind {
            SimKind::DataProcessingImmediate => self.data_processing_immediate(w),
            SimKind::DataProcessingRegister => self.data_processing_register(w),
            SimKind::DataProcessingRegisterShifted => self.data_processing_register_shifted(w),
            SimKind::MoveWide => self.move_wide(w),
            SimKind::MoveTop => self.move_top(w),
            SimKind::Multiply => self.multiply(w),
            SimKind::MultiplySubtract => self.multiply_subtract(w),
            SimKind::MultiplyLong => self.multiply_long(w),
            SimKind::MultiplyAccumulateAccumulateLong => {
                self.multiply_accumulate_accumulate_long(w)
            }
            SimKind::HalfwordMultiply => self.halfword_multiply(w),
            SimKind::WordHalfwordMultiply => self.word_halfword_multiply(w),
            SimKind::HalfwordMultiplyLong => self.halfword_multiply_long(w),
            SimKind::DualMultiply => self.dual_multiply(w),
            SimKind::DualMultiplyLong => self.dual_multiply_long(w),
            SimKind::MostSignificantMultiply => self.most_significant_multiply(w),
            SimKind::Divide => self.divide(w),
            SimKind::SaturatingAddSubtract => self.saturating_add_subtract(w),
            SimKind::ParallelAddSubtract => self.parallel_add_subtract(w),
            SimKind::Saturate => self.saturate(w),
            SimKind::Saturate16 => self.saturate16(w),
            SimKind::Extend => self.extend(w),
            SimKind::PackHalfword => self.pack_halfword(w),
            SimKind::SelectBytes => self.select_bytes(w),
            SimKind::Reverse => self.reverse(w),
            SimKind::SumAbsoluteDifferences => self.sum_absolute_differences(w),
            SimKind::BitFieldExtract => self.bit_field_extract(w),
            SimKind::BitFieldInsert => self.bit_field_insert(w),
            SimKind::CountLeadingZeros => self.count_leading_zeros(w),
            SimKind::LoadStoreImmediate => self.load_store_immediate(w, mem),
            SimKind::LoadStoreRegister => self.load_store_register(w, mem),
            SimKind::LoadStoreHalfImmediate => self.load_store_half_immediate(w, mem),
            SimKind::LoadStoreHalfRegister => self.load_store_half_register(w, mem),
            SimKind::LoadStoreDualImmediate => self.load_store_dual_immediate(w, mem),
            SimKind::LoadStoreDualRegister => self.load_store_dual_register(w, mem),
            SimKind::LoadStoreMultiple => self.load_store_multiple(w, mem),
            SimKind::Branch => self.branch(w),
            SimKind::BranchLinkExchangeImmediate => self.branch_link_exchange_immediate(w),
            SimKind::BranchExchange => self.branch_exchange(w),
            SimKind::BranchLinkExchangeRegister => self.branch_link_exchange_register(w),
            SimKind::ReadStatus => self.read_status(w),
            SimKind::Hint => self.hint(w, mem),
            SimKind::Preload => Ok(()), // PLD, PLDW, PLI: no architectural effect.
            SimKind::Barrier => self.barrier(w, mem),
        }
    }
}
