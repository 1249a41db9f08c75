//! The A32 decode tables (ARM ARM ARMv7-A chapter A5), one row a line: the data the
//! decoder walks, kept apart so the encodings read like the manual's tables.
//!
//! Each row's encoding is an ARM ARM bit pattern (see `pattern`): `0`/`1` are the bits that
//! select the row, letters are bits it does not look at — `cccc` the condition and, on
//! supported rows, the register fields its rules constrain (`nnnn` Rn, `dddd` Rd, `tttt` Rt,
//! `ssss` Rs, `mmmm` Rm, `aaaa` Ra, `hhhh`/`llll` RdHi/RdLo), `x` anything else. Should-be
//! bits (`(0)`, `(1)` in the manual) are not part of the pattern: `sbz`/`sbo` give them.

use super::entry::{ANY, Check, Entry, NPC, NR, PNW, reject, sim, table};
use super::{RejectReason as R, SimKind as S};

/// The whole A32 space (ARM ARM A5.1): the unconditional space first, so every later row
/// sees a condition other than 0xF.
#[rustfmt::skip]
pub static A32: &[Entry] = &[
    table("unconditional instructions", "1111 xxxx xxxx xxxx xxxx xxxx xxxx xxxx", UNCONDITIONAL),
    table("data-processing and miscellaneous", "cccc 00xx xxxx xxxx xxxx xxxx xxxx xxxx", DATA_PROCESSING_AND_MISC),
    table("media instructions", "cccc 011x xxxx xxxx xxxx xxxx xxx1 xxxx", MEDIA),
    table("load/store word and unsigned byte", "cccc 01xx xxxx xxxx xxxx xxxx xxxx xxxx", LOAD_STORE_WORD_BYTE),
    table("branch, branch with link, block transfer", "cccc 10xx xxxx xxxx xxxx xxxx xxxx xxxx", BRANCH_AND_BLOCK),
    table("coprocessor instructions and SVC", "cccc 11xx xxxx xxxx xxxx xxxx xxxx xxxx", COPROCESSOR_AND_SVC),
];

/// A5.2: op (25), op1 (24:20), op2 (7:4).
#[rustfmt::skip]
const DATA_PROCESSING_AND_MISC: &[Entry] = &[
    sim("MOVW", "cccc 0011 0000 xxxx dddd xxxx xxxx xxxx", S::MoveWide).regs(NR, NPC, NR, NR),
    sim("MOVT", "cccc 0011 0100 xxxx dddd xxxx xxxx xxxx", S::MoveTop).regs(NR, NPC, NR, NR),
    table("MSR (immediate) and hints", "cccc 0011 0x10 xxxx xxxx xxxx xxxx xxxx", MSR_IMMEDIATE_AND_HINTS),
    table("data-processing (immediate)", "cccc 001x xxxx xxxx xxxx xxxx xxxx xxxx", DATA_PROCESSING_IMMEDIATE),
    table("miscellaneous instructions", "cccc 0001 0xx0 xxxx xxxx xxxx 0xxx xxxx", MISCELLANEOUS),
    table("halfword multiply and multiply accumulate", "cccc 0001 0xx0 xxxx xxxx xxxx 1xx0 xxxx", HALFWORD_MULTIPLY),
    table("multiply and multiply accumulate", "cccc 0000 xxxx xxxx xxxx xxxx 1001 xxxx", MULTIPLY),
    table("synchronization primitives", "cccc 0001 xxxx xxxx xxxx xxxx 1001 xxxx", SYNCHRONIZATION),
    table("extra load/store instructions", "cccc 000x xxxx xxxx xxxx xxxx 1xx1 xxxx", EXTRA_LOAD_STORE),
    table("data-processing (register-shifted register)", "cccc 000x xxxx xxxx xxxx xxxx 0xx1 xxxx", DATA_PROCESSING_REGISTER_SHIFTED),
    table("data-processing (register)", "cccc 000x xxxx xxxx xxxx xxxx xxx0 xxxx", DATA_PROCESSING_REGISTER),
];

/// A5.2.3: opcode (24:21), S (20). Test/compare with S == 0 is MOVW/MOVT/MSR, matched before.
#[rustfmt::skip]
const DATA_PROCESSING_IMMEDIATE: &[Entry] = &[
    sim("TST/TEQ/CMP/CMN (immediate)", "cccc 0011 0xx1 nnnn xxxx xxxx xxxx xxxx", S::DataProcessingImmediate).regs(ANY, NR, NR, NR).sbz(0x0000_f000),
    reject("SUBS pc, lr and related (immediate)", "cccc 001x xxx1 xxxx 1111 xxxx xxxx xxxx", R::ExceptionReturn),
    sim("MOV/MVN (immediate)", "cccc 0011 1x1x xxxx dddd xxxx xxxx xxxx", S::DataProcessingImmediate).regs(NR, ANY, NR, NR).sbz(0x000f_0000),
    sim("AND…BIC (immediate), ADR", "cccc 001x xxxx nnnn dddd xxxx xxxx xxxx", S::DataProcessingImmediate).regs(ANY, ANY, NR, NR),
];

/// A5.2.1: opcode (24:21), S (20), imm5 (11:7), type (6:5).
#[rustfmt::skip]
const DATA_PROCESSING_REGISTER: &[Entry] = &[
    sim("TST/TEQ/CMP/CMN (register)", "cccc 0001 0xx1 nnnn xxxx xxxx xxx0 mmmm", S::DataProcessingRegister).regs(ANY, NR, NR, ANY).sbz(0x0000_f000),
    reject("SUBS pc, lr and related (register)", "cccc 000x xxx1 xxxx 1111 xxxx xxx0 xxxx", R::ExceptionReturn),
    sim("MOV/MVN and shifts (register)", "cccc 0001 1x1x xxxx dddd xxxx xxx0 mmmm", S::DataProcessingRegister).regs(NR, ANY, NR, ANY).sbz(0x000f_0000),
    sim("AND…BIC (register)", "cccc 000x xxxx nnnn dddd xxxx xxx0 mmmm", S::DataProcessingRegister).regs(ANY, ANY, NR, ANY),
];

/// A5.2.2: as the register form, with Rs (11:8) giving the shift; PC anywhere is UNPREDICTABLE.
#[rustfmt::skip]
const DATA_PROCESSING_REGISTER_SHIFTED: &[Entry] = &[
    sim("TST/TEQ/CMP/CMN (register-shifted register)", "cccc 0001 0xx1 nnnn xxxx ssss 0xx1 mmmm", S::DataProcessingRegisterShifted).regs(NPC, NR, NPC, NPC).sbz(0x0000_f000),
    sim("MOV/MVN and shifts (register-shifted register)", "cccc 0001 1x1x xxxx dddd ssss 0xx1 mmmm", S::DataProcessingRegisterShifted).regs(NR, NPC, NPC, NPC).sbz(0x000f_0000),
    sim("AND…BIC (register-shifted register)", "cccc 000x xxxx nnnn dddd ssss 0xx1 mmmm", S::DataProcessingRegisterShifted).regs(NPC, NPC, NPC, NPC),
];

/// A5.2.11: op (22), op1 (19:16), op2 (7:0).
#[rustfmt::skip]
const MSR_IMMEDIATE_AND_HINTS: &[Entry] = &[
    table("hints", "cccc 0011 0010 0000 xxxx xxxx xxxx xxxx", HINTS),
    reject("MSR (immediate)", "cccc 0011 0x10 xxxx xxxx xxxx xxxx xxxx", R::StatusWrite),
];

/// A hint: `cccc 0011 0010 0000 (1)(1)(1)(1) (0)(0)(0)(0) op2`.
const fn hint(name: &'static str, encoding: &'static str) -> Entry {
    sim(name, encoding, S::Hint)
        .sbo(0x0000_f000)
        .sbz(0x0000_0f00)
}

/// A5.2.11 with op == 0, op1 == 0000: op2 (7:0) names the hint.
#[rustfmt::skip]
const HINTS: &[Entry] = &[
    hint("NOP", "cccc 0011 0010 0000 xxxx xxxx 0000 0000"),
    hint("YIELD", "cccc 0011 0010 0000 xxxx xxxx 0000 0001"),
    hint("WFE", "cccc 0011 0010 0000 xxxx xxxx 0000 0010"),
    hint("WFI", "cccc 0011 0010 0000 xxxx xxxx 0000 0011"),
    hint("SEV", "cccc 0011 0010 0000 xxxx xxxx 0000 0100"),
    reject("DBG", "cccc 0011 0010 0000 xxxx xxxx 1111 xxxx", R::ReservedHint),
    reject("reserved hint", "cccc 0011 0010 0000 xxxx xxxx xxxx xxxx", R::ReservedHint),
];

/// A5.2.12: op (22:21), op1 (19:16), op2 (6:4), B (9).
#[rustfmt::skip]
const MISCELLANEOUS: &[Entry] = &[
    reject("MRS/MSR (banked register)", "cccc 0001 0xx0 xxxx xxxx xx1x 0000 xxxx", R::BankedRegister),
    sim("MRS", "cccc 0001 0000 xxxx dddd xx0x 0000 xxxx", S::ReadStatus).regs(NR, NPC, NR, NR).sbo(0x000f_0000).sbz(0x0000_0d0f),
    reject("MRS SPSR", "cccc 0001 0100 xxxx xxxx xx0x 0000 xxxx", R::BankedRegister),
    reject("MSR (register)", "cccc 0001 0x10 xxxx xxxx xx0x 0000 xxxx", R::StatusWrite),
    sim("BX", "cccc 0001 0010 xxxx xxxx xxxx 0001 mmmm", S::BranchExchange).regs(NR, NR, NR, ANY).sbo(0x000f_ff00),
    sim("CLZ", "cccc 0001 0110 xxxx dddd xxxx 0001 mmmm", S::CountLeadingZeros).regs(NR, NPC, NR, NPC).sbo(0x000f_0f00),
    reject("BXJ", "cccc 0001 0010 xxxx xxxx xxxx 0010 xxxx", R::Jazelle),
    sim("BLX (register)", "cccc 0001 0010 xxxx xxxx xxxx 0011 mmmm", S::BranchLinkExchangeRegister).regs(NR, NR, NR, NPC).sbo(0x000f_ff00),
    sim("QADD/QSUB/QDADD/QDSUB", "cccc 0001 0xx0 nnnn dddd xxxx 0101 mmmm", S::SaturatingAddSubtract).regs(NPC, NPC, NR, NPC).sbz(0x0000_0f00),
    reject("ERET", "cccc 0001 0110 xxxx xxxx xxxx 0110 xxxx", R::ExceptionReturn),
    reject("BKPT", "cccc 0001 0010 xxxx xxxx xxxx 0111 xxxx", R::ExceptionGenerating),
    reject("HVC", "cccc 0001 0100 xxxx xxxx xxxx 0111 xxxx", R::ExceptionGenerating),
    reject("SMC", "cccc 0001 0110 xxxx xxxx xxxx 0111 xxxx", R::ExceptionGenerating),
];

/// A5.2.7: op1 (22:21), op (5). Rd 19:16, Ra 15:12, Rm 11:8, Rn 3:0.
#[rustfmt::skip]
const HALFWORD_MULTIPLY: &[Entry] = &[
    sim("SMLA<x><y>", "cccc 0001 0000 dddd aaaa mmmm 1xx0 nnnn", S::HalfwordMultiply).regs(NPC, NPC, NPC, NPC),
    sim("SMLAW<y>", "cccc 0001 0010 dddd aaaa mmmm 1x00 nnnn", S::WordHalfwordMultiply).regs(NPC, NPC, NPC, NPC),
    sim("SMULW<y>", "cccc 0001 0010 dddd xxxx mmmm 1x10 nnnn", S::WordHalfwordMultiply).regs(NPC, NR, NPC, NPC).sbz(0x0000_f000),
    sim("SMLAL<x><y>", "cccc 0001 0100 hhhh llll mmmm 1xx0 nnnn", S::HalfwordMultiplyLong).regs(NPC, NPC, NPC, NPC).checks(&[Check::DistinctDestinations]),
    sim("SMUL<x><y>", "cccc 0001 0110 dddd xxxx mmmm 1xx0 nnnn", S::HalfwordMultiply).regs(NPC, NR, NPC, NPC).sbz(0x0000_f000),
];

/// A5.2.5: op (23:20). Rd/RdHi 19:16, Ra/RdLo 15:12, Rm 11:8, Rn 3:0.
#[rustfmt::skip]
const MULTIPLY: &[Entry] = &[
    sim("MUL", "cccc 0000 000x dddd xxxx mmmm 1001 nnnn", S::Multiply).regs(NPC, NR, NPC, NPC).sbz(0x0000_f000),
    sim("MLA", "cccc 0000 001x dddd aaaa mmmm 1001 nnnn", S::Multiply).regs(NPC, NPC, NPC, NPC),
    sim("UMAAL", "cccc 0000 0100 hhhh llll mmmm 1001 nnnn", S::MultiplyAccumulateAccumulateLong).regs(NPC, NPC, NPC, NPC).checks(&[Check::DistinctDestinations]),
    sim("MLS", "cccc 0000 0110 dddd aaaa mmmm 1001 nnnn", S::MultiplySubtract).regs(NPC, NPC, NPC, NPC),
    sim("UMULL/UMLAL/SMULL/SMLAL", "cccc 0000 1xxx hhhh llll mmmm 1001 nnnn", S::MultiplyLong).regs(NPC, NPC, NPC, NPC).checks(&[Check::DistinctDestinations]),
];

/// A5.2.10: op (23:20).
#[rustfmt::skip]
const SYNCHRONIZATION: &[Entry] = &[
    reject("SWP/SWPB", "cccc 0001 0x00 xxxx xxxx xxxx 1001 xxxx", R::Swap),
    reject("LDREX/STREX (all sizes)", "cccc 0001 1xxx xxxx xxxx xxxx 1001 xxxx", R::Exclusive),
];

const SINGLE_WB: &[Check] = &[Check::WritebackBaseNotTransferred];
const DUAL_IMM: &[Check] = &[Check::EvenPair, Check::WritebackBaseNotInPair];
const LDRD_REG: &[Check] = &[
    Check::EvenPair,
    Check::WritebackBaseNotInPair,
    Check::OffsetNotInPair,
];

/// A5.2.8 and A5.2.9: op2 (6:5), I (22), L (20); P (24) and W (21) give the indexing.
#[rustfmt::skip]
const EXTRA_LOAD_STORE: &[Entry] = &[
    reject("STRHT/LDRHT", "cccc 0000 xx1x xxxx xxxx xxxx 1011 xxxx", R::Unprivileged),
    reject("LDRSBT/LDRSHT", "cccc 0000 xx11 xxxx xxxx xxxx 11x1 xxxx", R::Unprivileged),
    reject("LDRD/STRD post-indexed with W", "cccc 0000 xx10 xxxx xxxx xxxx 11x1 xxxx", R::Unpredictable),
    sim("STRH (register)", "cccc 000x x0x0 nnnn tttt xxxx 1011 mmmm", S::LoadStoreHalfRegister).regs(PNW, NPC, NR, NPC).sbz(0x0000_0f00).checks(SINGLE_WB),
    sim("STRH (immediate)", "cccc 000x x1x0 nnnn tttt xxxx 1011 xxxx", S::LoadStoreHalfImmediate).regs(PNW, NPC, NR, NR).checks(SINGLE_WB),
    sim("LDRH (register)", "cccc 000x x0x1 nnnn tttt xxxx 1011 mmmm", S::LoadStoreHalfRegister).regs(PNW, NPC, NR, NPC).sbz(0x0000_0f00).checks(SINGLE_WB),
    sim("LDRH (immediate, literal)", "cccc 000x x1x1 nnnn tttt xxxx 1011 xxxx", S::LoadStoreHalfImmediate).regs(PNW, NPC, NR, NR).checks(SINGLE_WB),
    sim("LDRD (register)", "cccc 000x x0x0 nnnn tttt xxxx 1101 mmmm", S::LoadStoreDualRegister).regs(PNW, ANY, NR, NPC).sbz(0x0000_0f00).checks(LDRD_REG),
    sim("LDRD (immediate, literal)", "cccc 000x x1x0 nnnn tttt xxxx 1101 xxxx", S::LoadStoreDualImmediate).regs(PNW, ANY, NR, NR).checks(DUAL_IMM),
    sim("LDRSB (register)", "cccc 000x x0x1 nnnn tttt xxxx 1101 mmmm", S::LoadStoreHalfRegister).regs(PNW, NPC, NR, NPC).sbz(0x0000_0f00).checks(SINGLE_WB),
    sim("LDRSB (immediate, literal)", "cccc 000x x1x1 nnnn tttt xxxx 1101 xxxx", S::LoadStoreHalfImmediate).regs(PNW, NPC, NR, NR).checks(SINGLE_WB),
    sim("STRD (register)", "cccc 000x x0x0 nnnn tttt xxxx 1111 mmmm", S::LoadStoreDualRegister).regs(PNW, ANY, NR, NPC).sbz(0x0000_0f00).checks(DUAL_IMM),
    sim("STRD (immediate)", "cccc 000x x1x0 nnnn tttt xxxx 1111 xxxx", S::LoadStoreDualImmediate).regs(PNW, ANY, NR, NR).checks(DUAL_IMM),
    sim("LDRSH (register)", "cccc 000x x0x1 nnnn tttt xxxx 1111 mmmm", S::LoadStoreHalfRegister).regs(PNW, NPC, NR, NPC).sbz(0x0000_0f00).checks(SINGLE_WB),
    sim("LDRSH (immediate, literal)", "cccc 000x x1x1 nnnn tttt xxxx 1111 xxxx", S::LoadStoreHalfImmediate).regs(PNW, NPC, NR, NR).checks(SINGLE_WB),
];

/// A5.3: A (25), op1 (24:20) = P U B W L; B (4) is 0 here (media took A == 1, B == 1).
#[rustfmt::skip]
const LOAD_STORE_WORD_BYTE: &[Entry] = &[
    reject("STRT/LDRT/STRBT/LDRBT", "cccc 01x0 xx1x xxxx xxxx xxxx xxxx xxxx", R::Unprivileged),
    sim("STR (immediate)", "cccc 010x x0x0 nnnn tttt xxxx xxxx xxxx", S::LoadStoreImmediate).regs(PNW, ANY, NR, NR).checks(SINGLE_WB),
    sim("STR (register)", "cccc 011x x0x0 nnnn tttt xxxx xxx0 mmmm", S::LoadStoreRegister).regs(PNW, ANY, NR, NPC).checks(SINGLE_WB),
    sim("STRB (immediate)", "cccc 010x x1x0 nnnn tttt xxxx xxxx xxxx", S::LoadStoreImmediate).regs(PNW, NPC, NR, NR).checks(SINGLE_WB),
    sim("STRB (register)", "cccc 011x x1x0 nnnn tttt xxxx xxx0 mmmm", S::LoadStoreRegister).regs(PNW, NPC, NR, NPC).checks(SINGLE_WB),
    sim("LDR (immediate, literal)", "cccc 010x x0x1 nnnn tttt xxxx xxxx xxxx", S::LoadStoreImmediate).regs(PNW, ANY, NR, NR).checks(SINGLE_WB),
    sim("LDR (register)", "cccc 011x x0x1 nnnn tttt xxxx xxx0 mmmm", S::LoadStoreRegister).regs(PNW, ANY, NR, NPC).checks(SINGLE_WB),
    sim("LDRB (immediate, literal)", "cccc 010x x1x1 nnnn tttt xxxx xxxx xxxx", S::LoadStoreImmediate).regs(PNW, NPC, NR, NR).checks(SINGLE_WB),
    sim("LDRB (register)", "cccc 011x x1x1 nnnn tttt xxxx xxx0 mmmm", S::LoadStoreRegister).regs(PNW, NPC, NR, NPC).checks(SINGLE_WB),
];

/// A5.4: op1 (24:20), op2 (7:5), Rd (15:12), Rn (3:0).
#[rustfmt::skip]
const MEDIA: &[Entry] = &[
    table("parallel addition and subtraction", "cccc 0110 0xxx xxxx xxxx xxxx xxx1 xxxx", PARALLEL_ADD_SUBTRACT),
    table("packing, unpacking, saturation and reversal", "cccc 0110 1xxx xxxx xxxx xxxx xxx1 xxxx", PACKING),
    table("signed multiply, signed and unsigned divide", "cccc 0111 0xxx xxxx xxxx xxxx xxx1 xxxx", SIGNED_MULTIPLY),
    sim("USAD8", "cccc 0111 1000 dddd 1111 mmmm 0001 nnnn", S::SumAbsoluteDifferences).regs(NPC, NR, NPC, NPC),
    sim("USADA8", "cccc 0111 1000 dddd aaaa mmmm 0001 nnnn", S::SumAbsoluteDifferences).regs(NPC, NPC, NPC, NPC),
    sim("SBFX", "cccc 0111 101x xxxx dddd xxxx x101 nnnn", S::BitFieldExtract).regs(NR, NPC, NR, NPC).checks(&[Check::FieldWithinWord]),
    sim("BFC", "cccc 0111 110x xxxx dddd xxxx x001 1111", S::BitFieldInsert).regs(NR, NPC, NR, NR).checks(&[Check::MsbNotBelowLsb]),
    sim("BFI", "cccc 0111 110x xxxx dddd xxxx x001 nnnn", S::BitFieldInsert).regs(NR, NPC, NR, NPC).checks(&[Check::MsbNotBelowLsb]),
    sim("UBFX", "cccc 0111 111x xxxx dddd xxxx x101 nnnn", S::BitFieldExtract).regs(NR, NPC, NR, NPC).checks(&[Check::FieldWithinWord]),
    reject("UDF", "cccc 0111 1111 xxxx xxxx xxxx 1111 xxxx", R::Undefined),
];

/// A parallel add/subtract: `cccc 0110 0U op1 Rn Rd (1)(1)(1)(1) op2 1 Rm`.
const fn parallel(name: &'static str, encoding: &'static str) -> Entry {
    sim(name, encoding, S::ParallelAddSubtract)
        .regs(NPC, NPC, NR, NPC)
        .sbo(0x0000_0f00)
}

/// A5.4.1 and A5.4.2: U (22), op1 (21:20) picks S/Q/SH or U/UQ/UH; op2 (7:5) the operation.
#[rustfmt::skip]
const PARALLEL_ADD_SUBTRACT: &[Entry] = &[
    reject("parallel add/subtract, op1 == 00", "cccc 0110 0x00 xxxx xxxx xxxx xxx1 xxxx", R::Undefined),
    parallel("<p>ADD16", "cccc 0110 0xxx nnnn dddd xxxx 0001 mmmm"),
    parallel("<p>ASX", "cccc 0110 0xxx nnnn dddd xxxx 0011 mmmm"),
    parallel("<p>SAX", "cccc 0110 0xxx nnnn dddd xxxx 0101 mmmm"),
    parallel("<p>SUB16", "cccc 0110 0xxx nnnn dddd xxxx 0111 mmmm"),
    parallel("<p>ADD8", "cccc 0110 0xxx nnnn dddd xxxx 1001 mmmm"),
    parallel("<p>SUB8", "cccc 0110 0xxx nnnn dddd xxxx 1111 mmmm"),
];

/// An extend without accumulation: `cccc 0110 1 op1 1111 Rd rotate (0)(0) 0111 Rm`.
const fn extend(name: &'static str, encoding: &'static str) -> Entry {
    sim(name, encoding, S::Extend)
        .regs(NR, NPC, NR, NPC)
        .sbz(0x0000_0300)
}

/// An extend and add: `cccc 0110 1 op1 Rn Rd rotate (0)(0) 0111 Rm`.
const fn extend_accumulate(name: &'static str, encoding: &'static str) -> Entry {
    sim(name, encoding, S::Extend)
        .regs(NPC, NPC, NR, NPC)
        .sbz(0x0000_0300)
}

/// A reversal: `cccc 0110 1 op1 (1)(1)(1)(1) Rd (1)(1)(1)(1) op2 1 Rm`.
const fn reverse(name: &'static str, encoding: &'static str) -> Entry {
    sim(name, encoding, S::Reverse)
        .regs(NR, NPC, NR, NPC)
        .sbo(0x000f_0f00)
}

/// A5.4.3: op1 (22:20), op2 (7:5), A (19:16).
#[rustfmt::skip]
const PACKING: &[Entry] = &[
    sim("PKHBT/PKHTB", "cccc 0110 1000 nnnn dddd xxxx xx01 mmmm", S::PackHalfword).regs(NPC, NPC, NR, NPC),
    extend("SXTB16", "cccc 0110 1000 1111 dddd xxxx 0111 mmmm"),
    extend_accumulate("SXTAB16", "cccc 0110 1000 nnnn dddd xxxx 0111 mmmm"),
    sim("SEL", "cccc 0110 1000 nnnn dddd xxxx 1011 mmmm", S::SelectBytes).regs(NPC, NPC, NR, NPC).sbo(0x0000_0f00),
    sim("SSAT", "cccc 0110 101x xxxx dddd xxxx xx01 nnnn", S::Saturate).regs(NR, NPC, NR, NPC),
    sim("SSAT16", "cccc 0110 1010 xxxx dddd xxxx 0011 nnnn", S::Saturate16).regs(NR, NPC, NR, NPC).sbo(0x0000_0f00),
    extend("SXTB", "cccc 0110 1010 1111 dddd xxxx 0111 mmmm"),
    extend_accumulate("SXTAB", "cccc 0110 1010 nnnn dddd xxxx 0111 mmmm"),
    reverse("REV", "cccc 0110 1011 xxxx dddd xxxx 0011 mmmm"),
    extend("SXTH", "cccc 0110 1011 1111 dddd xxxx 0111 mmmm"),
    extend_accumulate("SXTAH", "cccc 0110 1011 nnnn dddd xxxx 0111 mmmm"),
    reverse("REV16", "cccc 0110 1011 xxxx dddd xxxx 1011 mmmm"),
    extend("UXTB16", "cccc 0110 1100 1111 dddd xxxx 0111 mmmm"),
    extend_accumulate("UXTAB16", "cccc 0110 1100 nnnn dddd xxxx 0111 mmmm"),
    sim("USAT", "cccc 0110 111x xxxx dddd xxxx xx01 nnnn", S::Saturate).regs(NR, NPC, NR, NPC),
    sim("USAT16", "cccc 0110 1110 xxxx dddd xxxx 0011 nnnn", S::Saturate16).regs(NR, NPC, NR, NPC).sbo(0x0000_0f00),
    extend("UXTB", "cccc 0110 1110 1111 dddd xxxx 0111 mmmm"),
    extend_accumulate("UXTAB", "cccc 0110 1110 nnnn dddd xxxx 0111 mmmm"),
    reverse("RBIT", "cccc 0110 1111 xxxx dddd xxxx 0011 mmmm"),
    extend("UXTH", "cccc 0110 1111 1111 dddd xxxx 0111 mmmm"),
    extend_accumulate("UXTAH", "cccc 0110 1111 nnnn dddd xxxx 0111 mmmm"),
    reverse("REVSH", "cccc 0110 1111 xxxx dddd xxxx 1011 mmmm"),
];

/// A5.4.4: op1 (22:20), op2 (7:5), A (15:12). Rd 19:16, Ra 15:12, Rm 11:8, Rn 3:0.
#[rustfmt::skip]
const SIGNED_MULTIPLY: &[Entry] = &[
    sim("SMUAD", "cccc 0111 0000 dddd 1111 mmmm 00x1 nnnn", S::DualMultiply).regs(NPC, NR, NPC, NPC),
    sim("SMLAD", "cccc 0111 0000 dddd aaaa mmmm 00x1 nnnn", S::DualMultiply).regs(NPC, NPC, NPC, NPC),
    sim("SMUSD", "cccc 0111 0000 dddd 1111 mmmm 01x1 nnnn", S::DualMultiply).regs(NPC, NR, NPC, NPC),
    sim("SMLSD", "cccc 0111 0000 dddd aaaa mmmm 01x1 nnnn", S::DualMultiply).regs(NPC, NPC, NPC, NPC),
    sim("SDIV", "cccc 0111 0001 dddd xxxx mmmm 0001 nnnn", S::Divide).regs(NPC, NR, NPC, NPC).sbo(0x0000_f000),
    sim("UDIV", "cccc 0111 0011 dddd xxxx mmmm 0001 nnnn", S::Divide).regs(NPC, NR, NPC, NPC).sbo(0x0000_f000),
    sim("SMLALD", "cccc 0111 0100 hhhh llll mmmm 00x1 nnnn", S::DualMultiplyLong).regs(NPC, NPC, NPC, NPC).checks(&[Check::DistinctDestinations]),
    sim("SMLSLD", "cccc 0111 0100 hhhh llll mmmm 01x1 nnnn", S::DualMultiplyLong).regs(NPC, NPC, NPC, NPC).checks(&[Check::DistinctDestinations]),
    sim("SMMUL", "cccc 0111 0101 dddd 1111 mmmm 00x1 nnnn", S::MostSignificantMultiply).regs(NPC, NR, NPC, NPC),
    sim("SMMLA", "cccc 0111 0101 dddd aaaa mmmm 00x1 nnnn", S::MostSignificantMultiply).regs(NPC, NPC, NPC, NPC),
    sim("SMMLS", "cccc 0111 0101 dddd aaaa mmmm 11x1 nnnn", S::MostSignificantMultiply).regs(NPC, NPC, NPC, NPC),
];

const STM_CHECKS: &[Check] = &[Check::NonEmptyList, Check::StoreBaseLowestWithWriteback];
const LDM_CHECKS: &[Check] = &[Check::NonEmptyList, Check::LoadBaseNotInListWithWriteback];

/// A store multiple: `cccc 100P U0W0 Rn register_list`.
const fn stm(name: &'static str, encoding: &'static str) -> Entry {
    sim(name, encoding, S::LoadStoreMultiple)
        .regs(NPC, NR, NR, NR)
        .checks(STM_CHECKS)
}

/// A load multiple: `cccc 100P U0W1 Rn register_list`.
const fn ldm(name: &'static str, encoding: &'static str) -> Entry {
    sim(name, encoding, S::LoadStoreMultiple)
        .regs(NPC, NR, NR, NR)
        .checks(LDM_CHECKS)
}

/// A5.5: op (25:20), R (15).
#[rustfmt::skip]
const BRANCH_AND_BLOCK: &[Entry] = &[
    sim("B", "cccc 1010 xxxx xxxx xxxx xxxx xxxx xxxx", S::Branch),
    sim("BL", "cccc 1011 xxxx xxxx xxxx xxxx xxxx xxxx", S::Branch),
    reject("LDM (exception return)", "cccc 100x x1x1 xxxx 1xxx xxxx xxxx xxxx", R::ExceptionReturn),
    reject("LDM/STM (User registers)", "cccc 100x x1xx xxxx xxxx xxxx xxxx xxxx", R::UserRegisters),
    stm("STMDA", "cccc 1000 00x0 nnnn xxxx xxxx xxxx xxxx"),
    ldm("LDMDA", "cccc 1000 00x1 nnnn xxxx xxxx xxxx xxxx"),
    stm("STM (STMIA)", "cccc 1000 10x0 nnnn xxxx xxxx xxxx xxxx"),
    ldm("LDM (LDMIA, POP)", "cccc 1000 10x1 nnnn xxxx xxxx xxxx xxxx"),
    stm("STMDB (PUSH)", "cccc 1001 00x0 nnnn xxxx xxxx xxxx xxxx"),
    ldm("LDMDB", "cccc 1001 00x1 nnnn xxxx xxxx xxxx xxxx"),
    stm("STMIB", "cccc 1001 10x0 nnnn xxxx xxxx xxxx xxxx"),
    ldm("LDMIB", "cccc 1001 10x1 nnnn xxxx xxxx xxxx xxxx"),
];

/// A5.6: op1 (25:20), coproc (11:8).
#[rustfmt::skip]
const COPROCESSOR_AND_SVC: &[Entry] = &[
    reject("SVC", "cccc 1111 xxxx xxxx xxxx xxxx xxxx xxxx", R::ExceptionGenerating),
    reject("coprocessor op1 == 00000x", "cccc 1100 000x xxxx xxxx xxxx xxxx xxxx", R::Undefined),
    reject("VFP/Advanced SIMD (coprocessor 10, 11)", "cccc 11xx xxxx xxxx xxxx 101x xxxx xxxx", R::FloatingPointOrSimd),
    reject("LDC/STC/MCR/MRC/MCRR/MRRC/CDP", "cccc 11xx xxxx xxxx xxxx xxxx xxxx xxxx", R::Coprocessor),
];

/// A5.7: op1 (27:20), op (4).
#[rustfmt::skip]
const UNCONDITIONAL: &[Entry] = &[
    table("memory hints, Advanced SIMD, miscellaneous", "1111 0xxx xxxx xxxx xxxx xxxx xxxx xxxx", UNCONDITIONAL_MISC),
    reject("SRS", "1111 100x x1x0 xxxx xxxx xxxx xxxx xxxx", R::BankedRegister),
    reject("RFE", "1111 100x x0x1 xxxx xxxx xxxx xxxx xxxx", R::ExceptionReturn),
    sim("BLX (immediate)", "1111 101x xxxx xxxx xxxx xxxx xxxx xxxx", S::BranchLinkExchangeImmediate),
    reject("unconditional op1 == 1100000x", "1111 1100 000x xxxx xxxx xxxx xxxx xxxx", R::Undefined),
    reject("STC2/LDC2/MCRR2/MRRC2", "1111 110x xxxx xxxx xxxx xxxx xxxx xxxx", R::Coprocessor),
    reject("CDP2/MCR2/MRC2", "1111 1110 xxxx xxxx xxxx xxxx xxxx xxxx", R::Coprocessor),
];

/// A5.7.1: op1 (26:20), op2 (7:4), Rn (19:16).
#[rustfmt::skip]
const UNCONDITIONAL_MISC: &[Entry] = &[
    reject("CPS", "1111 0001 0000 xxx0 xxxx xxxx xx0x xxxx", R::ProcessorState),
    reject("SETEND", "1111 0001 0000 xxx1 xxxx xxxx 0000 xxxx", R::ProcessorState),
    reject("Advanced SIMD data-processing", "1111 001x xxxx xxxx xxxx xxxx xxxx xxxx", R::FloatingPointOrSimd),
    reject("Advanced SIMD element or structure load/store", "1111 0100 xxx0 xxxx xxxx xxxx xxxx xxxx", R::FloatingPointOrSimd),
    reject("unallocated memory hint (immediate)", "1111 0100 x001 xxxx xxxx xxxx xxxx xxxx", R::ReservedHint),
    sim("PLI (immediate, literal)", "1111 0100 x101 xxxx xxxx xxxx xxxx xxxx", S::Preload).sbo(0x0000_f000),
    reject("PLDW (literal)", "1111 0101 x001 1111 xxxx xxxx xxxx xxxx", R::Unpredictable),
    sim("PLDW (immediate)", "1111 0101 x001 xxxx xxxx xxxx xxxx xxxx", S::Preload).sbo(0x0000_f000),
    sim("PLD (immediate, literal)", "1111 0101 x101 xxxx xxxx xxxx xxxx xxxx", S::Preload).sbo(0x0000_f000),
    reject("unconditional op1 == 1010011", "1111 0101 0011 xxxx xxxx xxxx xxxx xxxx", R::Unpredictable),
    table("barriers and CLREX", "1111 0101 0111 xxxx xxxx xxxx xxxx xxxx", BARRIERS),
    reject("unconditional op1 == 1011x11", "1111 0101 1x11 xxxx xxxx xxxx xxxx xxxx", R::Unpredictable),
    reject("unallocated memory hint (register)", "1111 0110 x001 xxxx xxxx xxxx xxx0 xxxx", R::ReservedHint),
    sim("PLI (register)", "1111 0110 x101 xxxx xxxx xxxx xxx0 mmmm", S::Preload).regs(NR, NR, NR, NPC).sbo(0x0000_f000),
    sim("PLDW (register)", "1111 0111 x001 nnnn xxxx xxxx xxx0 mmmm", S::Preload).regs(NPC, NR, NR, NPC).sbo(0x0000_f000),
    sim("PLD (register)", "1111 0111 x101 nnnn xxxx xxxx xxx0 mmmm", S::Preload).regs(ANY, NR, NR, NPC).sbo(0x0000_f000),
    reject("unconditional op1 == 11xxx11, op2 == xxx0", "1111 011x xx11 xxxx xxxx xxxx xxx0 xxxx", R::Unpredictable),
    reject("UDF (unconditional)", "1111 0111 1111 xxxx xxxx xxxx 1111 xxxx", R::Undefined),
];

/// A barrier: `1111 0101 0111 (1)(1)(1)(1) (1)(1)(1)(1) (0)(0)(0)(0) op2 option`.
const fn barrier(name: &'static str, encoding: &'static str) -> Entry {
    sim(name, encoding, S::Barrier)
        .sbo(0x000f_f000)
        .sbz(0x0000_0f00)
}

/// A5.7.1 with op1 == 1010111: op2 (7:4).
#[rustfmt::skip]
const BARRIERS: &[Entry] = &[
    reject("CLREX", "1111 0101 0111 xxxx xxxx xxxx 0001 xxxx", R::Exclusive),
    barrier("DSB", "1111 0101 0111 xxxx xxxx xxxx 0100 xxxx"),
    barrier("DMB", "1111 0101 0111 xxxx xxxx xxxx 0101 xxxx"),
    barrier("ISB", "1111 0101 0111 xxxx xxxx xxxx 0110 xxxx"),
    reject("barrier space, other op2", "1111 0101 0111 xxxx xxxx xxxx xxxx xxxx", R::Unpredictable),
];
