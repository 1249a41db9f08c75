//! Table-driven T32 decoder: every 32-bit Thumb instruction (`hw1:hw2`) is rejected (with a
//! reason) or simulated, so a Thumb-2 probe can be refused or stepped (issue 19).
//!
//! Built the way the A32 and T16 decoders are: [`T32`] is the top of a tree of
//! `&'static [T32Entry]` tables that mirrors the ARM ARM (ARMv7-A, section A6.3, "32-bit Thumb
//! instruction encoding", and its subsections); each row is an ARM ARM bit pattern over
//! `hw1:hw2` (hw1, the halfword at the lower address, in the upper 16 bits, so the pattern reads
//! as the manual draws it) plus what a match means — a sub-table, a rejection with a
//! [`RejectReason`], or a [`T32Kind`] the step engine will run — and the field rules
//! ([`T32Check`], should-be bits) that make a register combination UNPREDICTABLE. The first
//! matching row of a table wins; an instruction no row of a table matches is UNDEFINED there.
//!
//! Why a row type of its own: T32 register fields sit at four fixed positions
//! ([`T32RegisterField`]), and its UNPREDICTABLE rules are stricter than A32's — most operands
//! must not be SP or PC (`BadReg`) — and, as in T16, some depend on the IT block the
//! instruction sits in ([`ItPosition`]): a conditional `B<c>.W` is UNPREDICTABLE inside one,
//! and branches and loads to PC are allowed only as its last instruction.
//!
//! Only a halfword pair whose first halfword is a 32-bit prefix (bits 15:11 0b11101, 0b11110 or
//! 0b11111, [`T16Decoded::FirstHalfOfT32`](super::T16Decoded::FirstHalfOfT32)) is a T32
//! instruction; any other `hw1` is reported UNDEFINED here (it is a T16 instruction).

mod decoder;
mod entry;
mod tables;
#[cfg(test)]
mod tests;

pub use decoder::{T32Classification, classify_t32, decode_t32};
pub use entry::{T32Action, T32Check, T32Entry, T32RegisterField};
pub use tables::T32;

use super::{ItPosition, RejectReason};

/// What the T32 decoder makes of one 32-bit Thumb instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum T32Decoded {
    /// The instruction cannot be probed; the reason says why.
    Rejected(RejectReason),
    /// The step engine is to simulate the instruction.
    Simulate(T32Kind),
}

/// A class of 32-bit Thumb instructions the step engine will simulate, named after the ARM
/// ARM's A6.3 tables; operands are read from the instruction itself. Unlike T16, a T32
/// data-processing instruction sets the flags only when its S bit says so, in or out of an IT
/// block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum T32Kind {
    /// AND, TST, BIC, ORR, MOV, ORN, MVN, EOR, TEQ, ADD, CMN, ADC, SBC, SUB, CMP, RSB with a
    /// modified immediate (ThumbExpandImm), A6.3.1.
    DataProcessingModifiedImmediate,
    /// ADDW, SUBW: a 12-bit plain immediate (A6.3.3).
    AddSubtractWideImmediate,
    /// ADR encodings T2 and T3: `Align(PC, 4) ± imm12`.
    GeneratePcRelativeAddress,
    /// MOVW, MOVT: a 16-bit immediate to the low or high half.
    MoveWideImmediate,
    /// SSAT, USAT, SSAT16, USAT16.
    Saturate,
    /// SBFX, UBFX: Bit T32RegisterField Extract.
    BitfieldExtract,
    /// BFI, BFC: Bit T32RegisterField Insert and Clear.
    BitfieldInsert,
    /// AND, TST, BIC, ORR, MOV, LSL/LSR/ASR/ROR/RRX (immediate), ORN, MVN, EOR, TEQ, ADD, CMN,
    /// ADC, SBC, SUB, CMP, RSB with a register shifted by an immediate (A6.3.11).
    DataProcessingShiftedRegister,
    /// PKHBT, PKHTB: Pack Halfword.
    PackHalfword,
    /// LSL, LSR, ASR, ROR (register): shift by the bottom byte of a register.
    ShiftRegister,
    /// SXTH, UXTH, SXTB16, UXTB16, SXTB, UXTB and their add forms (SXTAH …), with rotation.
    Extend,
    /// The signed and unsigned parallel add and subtract instructions (A6.3.13, A6.3.14):
    /// SADD16 … UHSUB8.
    ParallelAddSubtract,
    /// QADD, QDADD, QSUB, QDSUB: saturating add and subtract.
    SaturatingAddSubtract,
    /// REV, REV16, RBIT, REVSH.
    Reverse,
    /// SEL: Select Bytes by the GE flags.
    SelectBytes,
    /// CLZ: Count Leading Zeros.
    CountLeadingZeros,
    /// MUL, MLA, MLS (32-bit results, no flags).
    Multiply,
    /// `SMLA<x><y>`, `SMUL<x><y>`, `SMLAW<y>`, `SMULW<y>`, SMLAD, SMUAD, SMLSD, SMUSD, SMMLA,
    /// SMMUL, SMMLS: the signed halfword and most-significant-word multiplies.
    SignedMultiply,
    /// USAD8, USADA8: Unsigned Sum of Absolute Differences.
    SumOfAbsoluteDifferences,
    /// SMULL, UMULL, SMLAL, UMLAL, UMAAL, `SMLAL<x><y>`, SMLALD, SMLSLD: 64-bit results.
    LongMultiply,
    /// SDIV, UDIV.
    Divide,
    /// B encoding T3: Conditional Branch, ±1 MiB.
    ConditionalBranch,
    /// B encoding T4: Unconditional Branch, ±16 MiB.
    Branch,
    /// BL (immediate): Branch with Link, staying in Thumb.
    BranchWithLink,
    /// BLX (immediate): Branch with Link and Exchange to ARM.
    BranchWithLinkExchange,
    /// MRS from the APSR (CPSR).
    MoveFromStatus,
    /// NOP.W, YIELD.W, WFE.W, WFI.W, SEV.W: handed to the platform's hint handler.
    Hint,
    /// DMB, DSB, ISB.
    Barrier,
    /// STM (STMIA, STMEA) and STMDB (STMFD) encoding T1/T2, except PUSH.
    StoreMultiple,
    /// LDM (LDMIA, LDMFD) and LDMDB (LDMEA), except POP; with PC in the list, a branch.
    LoadMultiple,
    /// PUSH encoding T2 (STMDB SP! of two or more registers).
    Push,
    /// POP encoding T2 (LDMIA SP! of two or more registers).
    Pop,
    /// LDRD, STRD (immediate).
    LoadStoreDual,
    /// LDRD (literal).
    LoadDualLiteral,
    /// TBB, TBH: Table Branch Byte / Halfword.
    TableBranch,
    /// LDR, LDRB, LDRSB, LDRH, LDRSH (literal): `Align(PC, 4) ± imm12`.
    LoadLiteral,
    /// LDR, LDRB, LDRSB, LDRH, LDRSH (immediate), 12-bit offset or 8-bit offset with index and
    /// writeback (POP encoding T3 included).
    LoadImmediate,
    /// LDR, LDRB, LDRSB, LDRH, LDRSH (register): `[Rn, Rm, LSL #imm2]`.
    LoadRegister,
    /// STR, STRB, STRH (immediate), as the loads (PUSH encoding T3 included).
    StoreImmediate,
    /// STR, STRB, STRH (register).
    StoreRegister,
    /// PLD, PLDW (immediate, literal, register).
    PreloadData,
    /// PLI (immediate, literal, register).
    PreloadInstruction,
}

impl T32Kind {
    /// Every kind, in declaration order (an index for counting).
    pub const ALL: [T32Kind; 42] = [
        T32Kind::DataProcessingModifiedImmediate,
        T32Kind::AddSubtractWideImmediate,
        T32Kind::GeneratePcRelativeAddress,
        T32Kind::MoveWideImmediate,
        T32Kind::Saturate,
        T32Kind::BitfieldExtract,
        T32Kind::BitfieldInsert,
        T32Kind::DataProcessingShiftedRegister,
        T32Kind::PackHalfword,
        T32Kind::ShiftRegister,
        T32Kind::Extend,
        T32Kind::ParallelAddSubtract,
        T32Kind::SaturatingAddSubtract,
        T32Kind::Reverse,
        T32Kind::SelectBytes,
        T32Kind::CountLeadingZeros,
        T32Kind::Multiply,
        T32Kind::SignedMultiply,
        T32Kind::SumOfAbsoluteDifferences,
        T32Kind::LongMultiply,
        T32Kind::Divide,
        T32Kind::ConditionalBranch,
        T32Kind::Branch,
        T32Kind::BranchWithLink,
        T32Kind::BranchWithLinkExchange,
        T32Kind::MoveFromStatus,
        T32Kind::Hint,
        T32Kind::Barrier,
        T32Kind::StoreMultiple,
        T32Kind::LoadMultiple,
        T32Kind::Push,
        T32Kind::Pop,
        T32Kind::LoadStoreDual,
        T32Kind::LoadDualLiteral,
        T32Kind::TableBranch,
        T32Kind::LoadLiteral,
        T32Kind::LoadImmediate,
        T32Kind::LoadRegister,
        T32Kind::StoreImmediate,
        T32Kind::StoreRegister,
        T32Kind::PreloadData,
        T32Kind::PreloadInstruction,
    ];
}
