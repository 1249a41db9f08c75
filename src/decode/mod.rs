//! Table-driven A32 decoder: every instruction word is rejected (with a reason), or simulated.
//!
//! Decoding is data. [`A32`] is the top of a tree of `&'static [Entry]` tables that mirrors
//! the ARM ARM (ARMv7-A, chapter A5): each [`Entry`] is an ARM ARM bit pattern (turned into a
//! `(mask, value)` pair at compile time) plus what a match means — a sub-table to continue
//! in, a rejection with a [`RejectReason`], or a [`SimKind`] the step engine runs — and, for
//! supported instructions, the field rules that make a register combination UNPREDICTABLE (a
//! register field that must not be PC, a base that may be PC only without writeback,
//! should-be-zero/one bits, and the cross-field checks in [`Check`]). The first matching
//! entry in a table wins; a word no entry of a table matches is UNDEFINED there. Behaviour
//! lives in [`crate::step`]; analysis (the stack-use checker, control-flow facts) is separate
//! again, here.
//!
//! The module is split by concern: this file holds the verdict types, `entry` the row type,
//! `pattern` the bit-pattern parser, `tables` the tables themselves, `decoder` the walk and
//! the field checks ([`decode`], [`classify`]), and `analysis` the questions asked of a
//! decoded word ([`writes_pc`], [`uses_pc`], [`stack_use`], …). `t16` is the 16-bit Thumb
//! decoder built the same way ([`decode_t16`]; ARM ARM A6.2), sharing the verdict reasons and
//! the bit-pattern parser; `t32` the 32-bit Thumb decoder ([`decode_t32`]; A6.3), the same
//! way.
//!
//! Why every supported class is simulated and none emulated: each one — including the
//! media, parallel, saturating and multiply classes Linux runs out of line — is specified
//! exactly by integer pseudo-code, so simulating it in Rust is exact, is tested on the host,
//! needs no executable slot, no cache maintenance and no register-remapping at probe time,
//! and cannot leak a high register into a slot. Running a rewritten copy out of line is
//! therefore no part of the default stepping path; [`crate::step::emulation`] keeps it as an
//! opt-in fallback for register-only classes.

mod analysis;
mod decoder;
mod entry;
mod pattern;
mod t16;
mod t32;
mod tables;
#[cfg(test)]
mod tests;

pub use analysis::{
    StackUse, is_branch, stack_use, stack_use_t16, stack_use_t32, uses_pc, uses_pc_t32, writes_pc,
};
pub(crate) use analysis::{stack_use_decoded, uses_pc_classified};
pub use decoder::{Classification, classify, decode};
pub use entry::{Action, Check, Entry, REG_FIELDS, RegRule};
pub use t16::{
    ItPosition, T16, T16Action, T16Check, T16Classification, T16Decoded, T16Entry, T16Kind,
    classify_t16, decode_t16,
};
pub use t32::{
    T32, T32Action, T32Check, T32Classification, T32Decoded, T32Entry, T32Kind, T32RegisterField,
    classify_t32, decode_t32,
};
pub use tables::A32;

use core::fmt;

/// What the decoder makes of one instruction word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decoded {
    /// The instruction cannot be probed; the reason says why.
    Rejected(RejectReason),
    /// The step engine simulates the instruction in Rust ([`crate::step::simulate`]).
    Simulate(SimKind),
}

/// Why an instruction cannot be probed. `Display` gives a sentence a user can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// UNDEFINED, unallocated or permanently undefined (UDF): it traps where it stands.
    Undefined,
    /// An UNPREDICTABLE register or field combination: no behaviour to reproduce.
    Unpredictable,
    /// LDREX/STREX/CLREX and the other exclusives: a step would break the exclusive monitor.
    Exclusive,
    /// SWP/SWPB: a simulated swap would not be atomic.
    Swap,
    /// MSR: writes the program status registers.
    StatusWrite,
    /// Reads or writes a banked register or an SPSR the trap frame does not hold
    /// (MRS SPSR, MRS/MSR banked, SRS).
    BankedRegister,
    /// CPS/SETEND, and Thumb's ENTERX/LEAVEX: changes processor mode, interrupt masks,
    /// endianness or the instruction set state (ThumbEE).
    ProcessorState,
    /// An exception return (`SUBS pc, lr` and the other flag-setting writes to PC, LDM with
    /// `^` and PC, RFE, ERET).
    ExceptionReturn,
    /// LDM/STM with `^` and no PC: transfers the User-mode banked registers.
    UserRegisters,
    /// LDRT/STRT and the other `*T` loads and stores: unprivileged accesses.
    Unprivileged,
    /// SVC, SMC, HVC, BKPT: generates an exception.
    ExceptionGenerating,
    /// MCR/MRC/LDC/STC/CDP/MCRR/MRRC and their `2` forms: coprocessor space.
    Coprocessor,
    /// VFP or Advanced SIMD (coprocessors 10/11 and the unconditional SIMD space).
    FloatingPointOrSimd,
    /// BXJ: its behaviour depends on the Jazelle configuration.
    Jazelle,
    /// A reserved or debug hint (not NOP/YIELD/WFE/WFI/SEV), or an unallocated memory hint:
    /// ARMv7 executes them as NOPs, but later architectures give them meanings a simulated
    /// NOP would not reproduce.
    ReservedHint,
    /// IT (Thumb only): opens an IT block, setting ITSTATE for up to four following
    /// instructions; probing it is refused until the step engine advances ITSTATE.
    IfThen,
}

impl RejectReason {
    /// Every reason, in declaration order (an index for counting).
    pub const ALL: [RejectReason; 16] = [
        RejectReason::Undefined,
        RejectReason::Unpredictable,
        RejectReason::Exclusive,
        RejectReason::Swap,
        RejectReason::StatusWrite,
        RejectReason::BankedRegister,
        RejectReason::ProcessorState,
        RejectReason::ExceptionReturn,
        RejectReason::UserRegisters,
        RejectReason::Unprivileged,
        RejectReason::ExceptionGenerating,
        RejectReason::Coprocessor,
        RejectReason::FloatingPointOrSimd,
        RejectReason::Jazelle,
        RejectReason::ReservedHint,
        RejectReason::IfThen,
    ];

    /// Whether only Thumb code gives this reason (no A32 word does): A32 has no IT.
    pub const fn is_thumb_only(self) -> bool {
        matches!(self, RejectReason::IfThen)
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RejectReason::Undefined => "undefined or unallocated instruction: it traps wherever it runs",
            RejectReason::Unpredictable => {
                "UNPREDICTABLE register or field combination: there is no behaviour to reproduce"
            }
            RejectReason::Exclusive => {
                "exclusive access (LDREX/STREX/CLREX…): stepping it would break the exclusive monitor"
            }
            RejectReason::Swap => "SWP/SWPB: a stepped swap would not be atomic",
            RejectReason::StatusWrite => "MSR: writes the program status registers",
            RejectReason::BankedRegister => {
                "accesses a banked register or an SPSR that the trap frame does not hold"
            }
            RejectReason::ProcessorState => {
                "CPS/SETEND/ENTERX/LEAVEX: changes processor mode, interrupt masks, endianness or \
                 instruction set state"
            }
            RejectReason::ExceptionReturn => {
                "exception return (SUBS pc, lr / LDM with ^ and pc / RFE / ERET)"
            }
            RejectReason::UserRegisters => "LDM/STM with ^: transfers the User-mode banked registers",
            RejectReason::Unprivileged => "unprivileged load/store (LDRT, STRT and the other *T forms)",
            RejectReason::ExceptionGenerating => "SVC/SMC/HVC/BKPT: generates an exception",
            RejectReason::Coprocessor => "coprocessor instruction",
            RejectReason::FloatingPointOrSimd => {
                "floating-point or Advanced SIMD instruction: the trap frame holds no VFP state"
            }
            RejectReason::Jazelle => "BXJ: its behaviour depends on the Jazelle configuration",
            RejectReason::ReservedHint => {
                "reserved or debug hint: later architectures give it a meaning a NOP would not keep"
            }
            RejectReason::IfThen => {
                "IT: probing the instruction that opens an IT block is not supported yet"
            }
        })
    }
}

/// A class of instructions the step engine simulates; the engine reads the operands from the
/// word itself. One variant per behaviour, so each can be tested on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SimKind {
    /// AND…MVN with a rotated 8-bit immediate (also ADR).
    DataProcessingImmediate,
    /// AND…MVN with a register shifted by an immediate (also LSL/LSR/ASR/ROR/RRX, MOV pc).
    DataProcessingRegister,
    /// AND…MVN with a register shifted by a register.
    DataProcessingRegisterShifted,
    /// MOVW: 16-bit immediate to the low half, high half cleared.
    MoveWide,
    /// MOVT: 16-bit immediate to the high half.
    MoveTop,
    /// MUL, MLA.
    Multiply,
    /// MLS.
    MultiplySubtract,
    /// UMULL, UMLAL, SMULL, SMLAL.
    MultiplyLong,
    /// UMAAL.
    MultiplyAccumulateAccumulateLong,
    /// `SMLA<x><y>`, `SMUL<x><y>`.
    HalfwordMultiply,
    /// `SMLAW<y>`, `SMULW<y>`.
    WordHalfwordMultiply,
    /// `SMLAL<x><y>`.
    HalfwordMultiplyLong,
    /// SMLAD, SMUAD, SMLSD, SMUSD.
    DualMultiply,
    /// SMLALD, SMLSLD.
    DualMultiplyLong,
    /// SMMLA, SMMUL, SMMLS (and their rounding forms).
    MostSignificantMultiply,
    /// SDIV, UDIV.
    Divide,
    /// QADD, QSUB, QDADD, QDSUB.
    SaturatingAddSubtract,
    /// The 36 parallel add/subtract instructions (S, Q, SH, U, UQ, UH × ADD16…SUB8).
    ParallelAddSubtract,
    /// SSAT, USAT.
    Saturate,
    /// SSAT16, USAT16.
    Saturate16,
    /// SXTAB, SXTAB16, SXTAH, UXTAB, UXTAB16, UXTAH and their non-accumulating forms.
    Extend,
    /// PKHBT, PKHTB.
    PackHalfword,
    /// SEL.
    SelectBytes,
    /// REV, REV16, REVSH, RBIT.
    Reverse,
    /// USAD8, USADA8.
    SumAbsoluteDifferences,
    /// SBFX, UBFX.
    BitFieldExtract,
    /// BFI, BFC.
    BitFieldInsert,
    /// CLZ.
    CountLeadingZeros,
    /// LDR, LDRB, STR, STRB with an immediate offset (also LDR literal).
    LoadStoreImmediate,
    /// LDR, LDRB, STR, STRB with a shifted register offset.
    LoadStoreRegister,
    /// LDRH, LDRSB, LDRSH, STRH with an immediate offset (also literal).
    LoadStoreHalfImmediate,
    /// LDRH, LDRSB, LDRSH, STRH with a register offset.
    LoadStoreHalfRegister,
    /// LDRD, STRD with an immediate offset (also LDRD literal).
    LoadStoreDualImmediate,
    /// LDRD, STRD with a register offset.
    LoadStoreDualRegister,
    /// LDM/STM in all four modes (also PUSH/POP).
    LoadStoreMultiple,
    /// B, BL.
    Branch,
    /// BLX (immediate): call into Thumb.
    BranchLinkExchangeImmediate,
    /// BX.
    BranchExchange,
    /// BLX (register).
    BranchLinkExchangeRegister,
    /// MRS from CPSR.
    ReadStatus,
    /// NOP, YIELD, WFE, WFI, SEV: handed to [`crate::step::Memory::hint`].
    Hint,
    /// PLD, PLDW, PLI: no architectural effect.
    Preload,
    /// DMB, DSB, ISB: handed to [`crate::step::Memory::barrier`].
    Barrier,
}

impl SimKind {
    /// Every kind, in declaration order (an index for counting).
    pub const ALL: [SimKind; 43] = [
        SimKind::DataProcessingImmediate,
        SimKind::DataProcessingRegister,
        SimKind::DataProcessingRegisterShifted,
        SimKind::MoveWide,
        SimKind::MoveTop,
        SimKind::Multiply,
        SimKind::MultiplySubtract,
        SimKind::MultiplyLong,
        SimKind::MultiplyAccumulateAccumulateLong,
        SimKind::HalfwordMultiply,
        SimKind::WordHalfwordMultiply,
        SimKind::HalfwordMultiplyLong,
        SimKind::DualMultiply,
        SimKind::DualMultiplyLong,
        SimKind::MostSignificantMultiply,
        SimKind::Divide,
        SimKind::SaturatingAddSubtract,
        SimKind::ParallelAddSubtract,
        SimKind::Saturate,
        SimKind::Saturate16,
        SimKind::Extend,
        SimKind::PackHalfword,
        SimKind::SelectBytes,
        SimKind::Reverse,
        SimKind::SumAbsoluteDifferences,
        SimKind::BitFieldExtract,
        SimKind::BitFieldInsert,
        SimKind::CountLeadingZeros,
        SimKind::LoadStoreImmediate,
        SimKind::LoadStoreRegister,
        SimKind::LoadStoreHalfImmediate,
        SimKind::LoadStoreHalfRegister,
        SimKind::LoadStoreDualImmediate,
        SimKind::LoadStoreDualRegister,
        SimKind::LoadStoreMultiple,
        SimKind::Branch,
        SimKind::BranchLinkExchangeImmediate,
        SimKind::BranchExchange,
        SimKind::BranchLinkExchangeRegister,
        SimKind::ReadStatus,
        SimKind::Hint,
        SimKind::Preload,
        SimKind::Barrier,
    ];

    /// Whether the class changes control flow by itself (B, BL, BLX, BX): the branch group.
    pub const fn is_branch(self) -> bool {
        matches!(
            self,
            SimKind::Branch
                | SimKind::BranchLinkExchangeImmediate
                | SimKind::BranchExchange
                | SimKind::BranchLinkExchangeRegister
        )
    }
}
