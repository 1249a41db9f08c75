//! Table-driven A32 decoder: every instruction word is rejected (with a reason), or simulated.
//!
//! Decoding is data. [`A32`] is the top of a tree of `&'static [Entry]` tables that mirrors
//! the ARM ARM (ARMv7-A, chapter A5): each [`Entry`] is a `(mask, value)` pattern plus what a
//! match means — a sub-table to continue in, a rejection with a [`RejectReason`], or a
//! [`SimKind`] the step engine runs — and, for supported instructions, the field rules that
//! make a register combination UNPREDICTABLE (a register field that must not be PC, a base
//! that may be PC only without writeback, should-be-zero/one bits, and the cross-field
//! checks in [`Check`]). The first matching entry in a table wins; a word no entry of a
//! table matches is UNDEFINED there. Behaviour lives in [`crate::step`]; analysis (the
//! stack-use checker, control-flow facts) is separate again, here.
//!
//! Why every supported class is simulated and none emulated: each one — including the
//! media, parallel, saturating and multiply classes Linux runs out of line — is specified
//! exactly by integer pseudo-code, so simulating it in Rust is exact, is tested on the host,
//! needs no executable slot, no cache maintenance and no register-remapping at probe time,
//! and cannot leak a high register into a slot. Running a rewritten copy out of line is
//! therefore no part of the default stepping path; [`crate::step::emulation`] keeps it as an
//! opt-in fallback for register-only classes.

use crate::insn::Insn;
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
    /// CPS/SETEND: changes processor mode, interrupt masks or endianness.
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
}

impl RejectReason {
    /// Every reason, in declaration order (an index for counting).
    pub const ALL: [RejectReason; 15] = [
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
    ];
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
                "CPS/SETEND: changes processor mode, interrupt masks or endianness"
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

/// What a register field of a supported instruction may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegRule {
    /// The bits are not a register field (an immediate, a list, fixed bits).
    NotRegister,
    /// Any of r0–r15; PC reads as the instruction's address + 8.
    Any,
    /// r0–r14; PC is UNPREDICTABLE.
    NotPc,
    /// A load/store base: PC only without writeback (P == 1 and W == 0).
    PcWithoutWriteback,
}

/// The four register-field positions an [`Entry`] constrains, as bit offsets of a nibble:
/// bits 19:16, 15:12, 11:8 and 3:0 (usually Rn, Rd/Rt, Rs, Rm; multiplies put Rd at 19:16).
pub const REG_FIELDS: [u32; 4] = [16, 12, 8, 0];

/// Cross-field conditions whose failure makes a supported encoding UNPREDICTABLE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Check {
    /// Single load/store with writeback (P == 0 or W == 1): Rn (19:16) differs from Rt (15:12).
    WritebackBaseNotTransferred,
    /// LDRD/STRD: Rt (15:12) is even and not r14.
    EvenPair,
    /// LDRD/STRD with writeback: Rn differs from Rt and Rt+1.
    WritebackBaseNotInPair,
    /// LDRD (register): Rm (3:0) differs from Rt and Rt+1.
    OffsetNotInPair,
    /// Long multiplies: the two destinations (19:16 and 15:12) differ.
    DistinctDestinations,
    /// LDM/STM: the register list (15:0) is not empty.
    NonEmptyList,
    /// LDM with writeback (W == 1): the base is not in the list.
    LoadBaseNotInListWithWriteback,
    /// STM with writeback: the base is in the list only as its lowest register.
    StoreBaseLowestWithWriteback,
    /// BFI/BFC: msb (20:16) is not below lsb (11:7).
    MsbNotBelowLsb,
    /// SBFX/UBFX: lsb (11:7) + widthm1 (20:16) stays within bit 31.
    FieldWithinWord,
}

/// What a matching [`Entry`] means.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    /// Continue in this sub-table (every entry in it refines this entry's pattern).
    Table(&'static [Entry]),
    /// The instruction cannot be probed.
    Reject(RejectReason),
    /// The step engine simulates the instruction.
    Simulate(SimKind),
}

/// One row of a decode table: `word & mask == value` selects it.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The instruction (or group) the row stands for, as the ARM ARM names it.
    pub name: &'static str,
    /// Bits that select the row.
    pub mask: u32,
    /// Their value.
    pub value: u32,
    /// What a match means.
    pub action: Action,
    /// Rules for the register fields at [`REG_FIELDS`] (leaf rows of supported classes).
    pub regs: [RegRule; 4],
    /// Bits the encoding marks `(0)`: any of them set is UNPREDICTABLE.
    pub should_be_zero: u32,
    /// Bits the encoding marks `(1)`: any of them clear is UNPREDICTABLE.
    pub should_be_one: u32,
    /// Cross-field conditions (supported classes only).
    pub checks: &'static [Check],
}

const NR: RegRule = RegRule::NotRegister;
const ANY: RegRule = RegRule::Any;
const NPC: RegRule = RegRule::NotPc;
const PNW: RegRule = RegRule::PcWithoutWriteback;

impl Entry {
    const fn new(name: &'static str, mask: u32, value: u32, action: Action) -> Entry {
        Entry {
            name,
            mask,
            value,
            action,
            regs: [NR; 4],
            should_be_zero: 0,
            should_be_one: 0,
            checks: &[],
        }
    }

    /// Register rules for bits 19:16, 15:12, 11:8, 3:0.
    const fn regs(mut self, r16: RegRule, r12: RegRule, r8: RegRule, r0: RegRule) -> Entry {
        self.regs = [r16, r12, r8, r0];
        self
    }

    const fn sbz(mut self, bits: u32) -> Entry {
        self.should_be_zero = bits;
        self
    }

    const fn sbo(mut self, bits: u32) -> Entry {
        self.should_be_one = bits;
        self
    }

    const fn checks(mut self, checks: &'static [Check]) -> Entry {
        self.checks = checks;
        self
    }

    /// Whether `word` selects this row.
    pub const fn matches(&self, word: u32) -> bool {
        word & self.mask == self.value
    }
}

const fn table(name: &'static str, mask: u32, value: u32, t: &'static [Entry]) -> Entry {
    Entry::new(name, mask, value, Action::Table(t))
}

const fn reject(name: &'static str, mask: u32, value: u32, r: RejectReason) -> Entry {
    Entry::new(name, mask, value, Action::Reject(r))
}

const fn sim(name: &'static str, mask: u32, value: u32, k: SimKind) -> Entry {
    Entry::new(name, mask, value, Action::Simulate(k))
}

use RejectReason as R;
use SimKind as S;

/// The whole A32 space (ARM ARM A5.1): the unconditional space first, so every later row
/// sees a condition other than 0xF.
pub static A32: &[Entry] = &[
    table(
        "unconditional instructions",
        0xf000_0000,
        0xf000_0000,
        UNCONDITIONAL,
    ),
    table(
        "data-processing and miscellaneous",
        0x0c00_0000,
        0x0000_0000,
        DATA_PROCESSING_AND_MISC,
    ),
    table("media instructions", 0x0e00_0010, 0x0600_0010, MEDIA),
    table(
        "load/store word and unsigned byte",
        0x0c00_0000,
        0x0400_0000,
        LOAD_STORE_WORD_BYTE,
    ),
    table(
        "branch, branch with link, block transfer",
        0x0c00_0000,
        0x0800_0000,
        BRANCH_AND_BLOCK,
    ),
    table(
        "coprocessor instructions and SVC",
        0x0c00_0000,
        0x0c00_0000,
        COPROCESSOR_AND_SVC,
    ),
];

/// A5.2: op (25), op1 (24:20), op2 (7:4).
const DATA_PROCESSING_AND_MISC: &[Entry] = &[
    sim("MOVW", 0x0ff0_0000, 0x0300_0000, S::MoveWide).regs(NR, NPC, NR, NR),
    sim("MOVT", 0x0ff0_0000, 0x0340_0000, S::MoveTop).regs(NR, NPC, NR, NR),
    table(
        "MSR (immediate) and hints",
        0x0fb0_0000,
        0x0320_0000,
        MSR_IMMEDIATE_AND_HINTS,
    ),
    table(
        "data-processing (immediate)",
        0x0e00_0000,
        0x0200_0000,
        DATA_PROCESSING_IMMEDIATE,
    ),
    table(
        "miscellaneous instructions",
        0x0f90_0080,
        0x0100_0000,
        MISCELLANEOUS,
    ),
    table(
        "halfword multiply and multiply accumulate",
        0x0f90_0090,
        0x0100_0080,
        HALFWORD_MULTIPLY,
    ),
    table(
        "multiply and multiply accumulate",
        0x0f00_00f0,
        0x0000_0090,
        MULTIPLY,
    ),
    table(
        "synchronization primitives",
        0x0f00_00f0,
        0x0100_0090,
        SYNCHRONIZATION,
    ),
    table(
        "extra load/store instructions",
        0x0e00_0090,
        0x0000_0090,
        EXTRA_LOAD_STORE,
    ),
    table(
        "data-processing (register-shifted register)",
        0x0e00_0090,
        0x0000_0010,
        DATA_PROCESSING_REGISTER_SHIFTED,
    ),
    table(
        "data-processing (register)",
        0x0e00_0010,
        0x0000_0000,
        DATA_PROCESSING_REGISTER,
    ),
];

/// A5.2.3: opcode (24:21), S (20). Test/compare with S == 0 is MOVW/MOVT/MSR, matched before.
const DATA_PROCESSING_IMMEDIATE: &[Entry] = &[
    sim(
        "TST/TEQ/CMP/CMN (immediate)",
        0x0f90_0000,
        0x0310_0000,
        S::DataProcessingImmediate,
    )
    .regs(ANY, NR, NR, NR)
    .sbz(0x0000_f000),
    reject(
        "SUBS pc, lr and related (immediate)",
        0x0e10_f000,
        0x0210_f000,
        R::ExceptionReturn,
    ),
    sim(
        "MOV/MVN (immediate)",
        0x0fa0_0000,
        0x03a0_0000,
        S::DataProcessingImmediate,
    )
    .regs(NR, ANY, NR, NR)
    .sbz(0x000f_0000),
    sim(
        "AND…BIC (immediate), ADR",
        0x0e00_0000,
        0x0200_0000,
        S::DataProcessingImmediate,
    )
    .regs(ANY, ANY, NR, NR),
];

/// A5.2.1: opcode (24:21), S (20), imm5 (11:7), type (6:5).
const DATA_PROCESSING_REGISTER: &[Entry] = &[
    sim(
        "TST/TEQ/CMP/CMN (register)",
        0x0f90_0010,
        0x0110_0000,
        S::DataProcessingRegister,
    )
    .regs(ANY, NR, NR, ANY)
    .sbz(0x0000_f000),
    reject(
        "SUBS pc, lr and related (register)",
        0x0e10_f010,
        0x0010_f000,
        R::ExceptionReturn,
    ),
    sim(
        "MOV/MVN and shifts (register)",
        0x0fa0_0010,
        0x01a0_0000,
        S::DataProcessingRegister,
    )
    .regs(NR, ANY, NR, ANY)
    .sbz(0x000f_0000),
    sim(
        "AND…BIC (register)",
        0x0e00_0010,
        0x0000_0000,
        S::DataProcessingRegister,
    )
    .regs(ANY, ANY, NR, ANY),
];

/// A5.2.2: as the register form, with Rs (11:8) giving the shift; PC anywhere is UNPREDICTABLE.
const DATA_PROCESSING_REGISTER_SHIFTED: &[Entry] = &[
    sim(
        "TST/TEQ/CMP/CMN (register-shifted register)",
        0x0f90_0090,
        0x0110_0010,
        S::DataProcessingRegisterShifted,
    )
    .regs(NPC, NR, NPC, NPC)
    .sbz(0x0000_f000),
    sim(
        "MOV/MVN and shifts (register-shifted register)",
        0x0fa0_0090,
        0x01a0_0010,
        S::DataProcessingRegisterShifted,
    )
    .regs(NR, NPC, NPC, NPC)
    .sbz(0x000f_0000),
    sim(
        "AND…BIC (register-shifted register)",
        0x0e00_0090,
        0x0000_0010,
        S::DataProcessingRegisterShifted,
    )
    .regs(NPC, NPC, NPC, NPC),
];

/// A5.2.11: op (22), op1 (19:16), op2 (7:0).
const MSR_IMMEDIATE_AND_HINTS: &[Entry] = &[
    table("hints", 0x0fff_0000, 0x0320_0000, HINTS),
    reject("MSR (immediate)", 0x0fb0_0000, 0x0320_0000, R::StatusWrite),
];

const fn hint(name: &'static str, op2: u32) -> Entry {
    sim(name, 0x0fff_00ff, 0x0320_0000 | op2, S::Hint)
        .sbo(0x0000_f000)
        .sbz(0x0000_0f00)
}

/// A5.2.11 with op == 0, op1 == 0000: op2 (7:0) names the hint.
const HINTS: &[Entry] = &[
    hint("NOP", 0x00),
    hint("YIELD", 0x01),
    hint("WFE", 0x02),
    hint("WFI", 0x03),
    hint("SEV", 0x04),
    reject("DBG", 0x0fff_00f0, 0x0320_00f0, R::ReservedHint),
    reject("reserved hint", 0x0fff_0000, 0x0320_0000, R::ReservedHint),
];

/// A5.2.12: op (22:21), op1 (19:16), op2 (6:4), B (9).
const MISCELLANEOUS: &[Entry] = &[
    reject(
        "MRS/MSR (banked register)",
        0x0f90_02f0,
        0x0100_0200,
        R::BankedRegister,
    ),
    sim("MRS", 0x0ff0_02f0, 0x0100_0000, S::ReadStatus)
        .regs(NR, NPC, NR, NR)
        .sbo(0x000f_0000)
        .sbz(0x0000_0d0f),
    reject("MRS SPSR", 0x0ff0_02f0, 0x0140_0000, R::BankedRegister),
    reject("MSR (register)", 0x0fb0_02f0, 0x0120_0000, R::StatusWrite),
    sim("BX", 0x0ff0_00f0, 0x0120_0010, S::BranchExchange)
        .regs(NR, NR, NR, ANY)
        .sbo(0x000f_ff00),
    sim("CLZ", 0x0ff0_00f0, 0x0160_0010, S::CountLeadingZeros)
        .regs(NR, NPC, NR, NPC)
        .sbo(0x000f_0f00),
    reject("BXJ", 0x0ff0_00f0, 0x0120_0020, R::Jazelle),
    sim(
        "BLX (register)",
        0x0ff0_00f0,
        0x0120_0030,
        S::BranchLinkExchangeRegister,
    )
    .regs(NR, NR, NR, NPC)
    .sbo(0x000f_ff00),
    sim(
        "QADD/QSUB/QDADD/QDSUB",
        0x0f90_00f0,
        0x0100_0050,
        S::SaturatingAddSubtract,
    )
    .regs(NPC, NPC, NR, NPC)
    .sbz(0x0000_0f00),
    reject("ERET", 0x0ff0_00f0, 0x0160_0060, R::ExceptionReturn),
    reject("BKPT", 0x0ff0_00f0, 0x0120_0070, R::ExceptionGenerating),
    reject("HVC", 0x0ff0_00f0, 0x0140_0070, R::ExceptionGenerating),
    reject("SMC", 0x0ff0_00f0, 0x0160_0070, R::ExceptionGenerating),
];

/// A5.2.7: op1 (22:21), op (5). Rd 19:16, Ra 15:12, Rm 11:8, Rn 3:0.
const HALFWORD_MULTIPLY: &[Entry] = &[
    sim("SMLA<x><y>", 0x0ff0_0090, 0x0100_0080, S::HalfwordMultiply).regs(NPC, NPC, NPC, NPC),
    sim(
        "SMLAW<y>",
        0x0ff0_00b0,
        0x0120_0080,
        S::WordHalfwordMultiply,
    )
    .regs(NPC, NPC, NPC, NPC),
    sim(
        "SMULW<y>",
        0x0ff0_00b0,
        0x0120_00a0,
        S::WordHalfwordMultiply,
    )
    .regs(NPC, NR, NPC, NPC)
    .sbz(0x0000_f000),
    sim(
        "SMLAL<x><y>",
        0x0ff0_0090,
        0x0140_0080,
        S::HalfwordMultiplyLong,
    )
    .regs(NPC, NPC, NPC, NPC)
    .checks(&[Check::DistinctDestinations]),
    sim("SMUL<x><y>", 0x0ff0_0090, 0x0160_0080, S::HalfwordMultiply)
        .regs(NPC, NR, NPC, NPC)
        .sbz(0x0000_f000),
];

/// A5.2.5: op (23:20). Rd/RdHi 19:16, Ra/RdLo 15:12, Rm 11:8, Rn 3:0.
const MULTIPLY: &[Entry] = &[
    sim("MUL", 0x0fe0_00f0, 0x0000_0090, S::Multiply)
        .regs(NPC, NR, NPC, NPC)
        .sbz(0x0000_f000),
    sim("MLA", 0x0fe0_00f0, 0x0020_0090, S::Multiply).regs(NPC, NPC, NPC, NPC),
    sim(
        "UMAAL",
        0x0ff0_00f0,
        0x0040_0090,
        S::MultiplyAccumulateAccumulateLong,
    )
    .regs(NPC, NPC, NPC, NPC)
    .checks(&[Check::DistinctDestinations]),
    sim("MLS", 0x0ff0_00f0, 0x0060_0090, S::MultiplySubtract).regs(NPC, NPC, NPC, NPC),
    sim(
        "UMULL/UMLAL/SMULL/SMLAL",
        0x0f80_00f0,
        0x0080_0090,
        S::MultiplyLong,
    )
    .regs(NPC, NPC, NPC, NPC)
    .checks(&[Check::DistinctDestinations]),
];

/// A5.2.10: op (23:20).
const SYNCHRONIZATION: &[Entry] = &[
    reject("SWP/SWPB", 0x0fb0_00f0, 0x0100_0090, R::Swap),
    reject(
        "LDREX/STREX (all sizes)",
        0x0f80_00f0,
        0x0180_0090,
        R::Exclusive,
    ),
];

const SINGLE_WB: &[Check] = &[Check::WritebackBaseNotTransferred];
const DUAL_IMM: &[Check] = &[Check::EvenPair, Check::WritebackBaseNotInPair];
const LDRD_REG: &[Check] = &[
    Check::EvenPair,
    Check::WritebackBaseNotInPair,
    Check::OffsetNotInPair,
];

/// A5.2.8 and A5.2.9: op2 (6:5), I (22), L (20); P (24) and W (21) give the indexing.
const EXTRA_LOAD_STORE: &[Entry] = &[
    reject("STRHT/LDRHT", 0x0f20_00f0, 0x0020_00b0, R::Unprivileged),
    reject("LDRSBT/LDRSHT", 0x0f30_00d0, 0x0030_00d0, R::Unprivileged),
    reject(
        "LDRD/STRD post-indexed with W",
        0x0f30_00d0,
        0x0020_00d0,
        R::Unpredictable,
    ),
    sim(
        "STRH (register)",
        0x0e50_00f0,
        0x0000_00b0,
        S::LoadStoreHalfRegister,
    )
    .regs(PNW, NPC, NR, NPC)
    .sbz(0x0000_0f00)
    .checks(SINGLE_WB),
    sim(
        "STRH (immediate)",
        0x0e50_00f0,
        0x0040_00b0,
        S::LoadStoreHalfImmediate,
    )
    .regs(PNW, NPC, NR, NR)
    .checks(SINGLE_WB),
    sim(
        "LDRH (register)",
        0x0e50_00f0,
        0x0010_00b0,
        S::LoadStoreHalfRegister,
    )
    .regs(PNW, NPC, NR, NPC)
    .sbz(0x0000_0f00)
    .checks(SINGLE_WB),
    sim(
        "LDRH (immediate, literal)",
        0x0e50_00f0,
        0x0050_00b0,
        S::LoadStoreHalfImmediate,
    )
    .regs(PNW, NPC, NR, NR)
    .checks(SINGLE_WB),
    sim(
        "LDRD (register)",
        0x0e50_00f0,
        0x0000_00d0,
        S::LoadStoreDualRegister,
    )
    .regs(PNW, ANY, NR, NPC)
    .sbz(0x0000_0f00)
    .checks(LDRD_REG),
    sim(
        "LDRD (immediate, literal)",
        0x0e50_00f0,
        0x0040_00d0,
        S::LoadStoreDualImmediate,
    )
    .regs(PNW, ANY, NR, NR)
    .checks(DUAL_IMM),
    sim(
        "LDRSB (register)",
        0x0e50_00f0,
        0x0010_00d0,
        S::LoadStoreHalfRegister,
    )
    .regs(PNW, NPC, NR, NPC)
    .sbz(0x0000_0f00)
    .checks(SINGLE_WB),
    sim(
        "LDRSB (immediate, literal)",
        0x0e50_00f0,
        0x0050_00d0,
        S::LoadStoreHalfImmediate,
    )
    .regs(PNW, NPC, NR, NR)
    .checks(SINGLE_WB),
    sim(
        "STRD (register)",
        0x0e50_00f0,
        0x0000_00f0,
        S::LoadStoreDualRegister,
    )
    .regs(PNW, ANY, NR, NPC)
    .sbz(0x0000_0f00)
    .checks(DUAL_IMM),
    sim(
        "STRD (immediate)",
        0x0e50_00f0,
        0x0040_00f0,
        S::LoadStoreDualImmediate,
    )
    .regs(PNW, ANY, NR, NR)
    .checks(DUAL_IMM),
    sim(
        "LDRSH (register)",
        0x0e50_00f0,
        0x0010_00f0,
        S::LoadStoreHalfRegister,
    )
    .regs(PNW, NPC, NR, NPC)
    .sbz(0x0000_0f00)
    .checks(SINGLE_WB),
    sim(
        "LDRSH (immediate, literal)",
        0x0e50_00f0,
        0x0050_00f0,
        S::LoadStoreHalfImmediate,
    )
    .regs(PNW, NPC, NR, NR)
    .checks(SINGLE_WB),
];

/// A5.3: A (25), op1 (24:20) = P U B W L; B (4) is 0 here (media took A == 1, B == 1).
const LOAD_STORE_WORD_BYTE: &[Entry] = &[
    reject(
        "STRT/LDRT/STRBT/LDRBT",
        0x0d20_0000,
        0x0420_0000,
        R::Unprivileged,
    ),
    sim(
        "STR (immediate)",
        0x0e50_0000,
        0x0400_0000,
        S::LoadStoreImmediate,
    )
    .regs(PNW, ANY, NR, NR)
    .checks(SINGLE_WB),
    sim(
        "STR (register)",
        0x0e50_0010,
        0x0600_0000,
        S::LoadStoreRegister,
    )
    .regs(PNW, ANY, NR, NPC)
    .checks(SINGLE_WB),
    sim(
        "STRB (immediate)",
        0x0e50_0000,
        0x0440_0000,
        S::LoadStoreImmediate,
    )
    .regs(PNW, NPC, NR, NR)
    .checks(SINGLE_WB),
    sim(
        "STRB (register)",
        0x0e50_0010,
        0x0640_0000,
        S::LoadStoreRegister,
    )
    .regs(PNW, NPC, NR, NPC)
    .checks(SINGLE_WB),
    sim(
        "LDR (immediate, literal)",
        0x0e50_0000,
        0x0410_0000,
        S::LoadStoreImmediate,
    )
    .regs(PNW, ANY, NR, NR)
    .checks(SINGLE_WB),
    sim(
        "LDR (register)",
        0x0e50_0010,
        0x0610_0000,
        S::LoadStoreRegister,
    )
    .regs(PNW, ANY, NR, NPC)
    .checks(SINGLE_WB),
    sim(
        "LDRB (immediate, literal)",
        0x0e50_0000,
        0x0450_0000,
        S::LoadStoreImmediate,
    )
    .regs(PNW, NPC, NR, NR)
    .checks(SINGLE_WB),
    sim(
        "LDRB (register)",
        0x0e50_0010,
        0x0650_0000,
        S::LoadStoreRegister,
    )
    .regs(PNW, NPC, NR, NPC)
    .checks(SINGLE_WB),
];

/// A5.4: op1 (24:20), op2 (7:5), Rd (15:12), Rn (3:0).
const MEDIA: &[Entry] = &[
    table(
        "parallel addition and subtraction",
        0x0f80_0010,
        0x0600_0010,
        PARALLEL_ADD_SUBTRACT,
    ),
    table(
        "packing, unpacking, saturation and reversal",
        0x0f80_0010,
        0x0680_0010,
        PACKING,
    ),
    table(
        "signed multiply, signed and unsigned divide",
        0x0f80_0010,
        0x0700_0010,
        SIGNED_MULTIPLY,
    ),
    sim("USAD8", 0x0ff0_f0f0, 0x0780_f010, S::SumAbsoluteDifferences).regs(NPC, NR, NPC, NPC),
    sim(
        "USADA8",
        0x0ff0_00f0,
        0x0780_0010,
        S::SumAbsoluteDifferences,
    )
    .regs(NPC, NPC, NPC, NPC),
    sim("SBFX", 0x0fe0_0070, 0x07a0_0050, S::BitFieldExtract)
        .regs(NR, NPC, NR, NPC)
        .checks(&[Check::FieldWithinWord]),
    sim("BFC", 0x0fe0_007f, 0x07c0_001f, S::BitFieldInsert)
        .regs(NR, NPC, NR, NR)
        .checks(&[Check::MsbNotBelowLsb]),
    sim("BFI", 0x0fe0_0070, 0x07c0_0010, S::BitFieldInsert)
        .regs(NR, NPC, NR, NPC)
        .checks(&[Check::MsbNotBelowLsb]),
    sim("UBFX", 0x0fe0_0070, 0x07e0_0050, S::BitFieldExtract)
        .regs(NR, NPC, NR, NPC)
        .checks(&[Check::FieldWithinWord]),
    reject("UDF", 0x0ff0_00f0, 0x07f0_00f0, R::Undefined),
];

const fn parallel(name: &'static str, op2: u32) -> Entry {
    sim(
        name,
        0x0f80_00f0,
        0x0600_0010 | op2 << 5,
        S::ParallelAddSubtract,
    )
    .regs(NPC, NPC, NR, NPC)
    .sbo(0x0000_0f00)
}

/// A5.4.1 and A5.4.2: U (22), op1 (21:20) picks S/Q/SH or U/UQ/UH; op2 (7:5) the operation.
const PARALLEL_ADD_SUBTRACT: &[Entry] = &[
    reject(
        "parallel add/subtract, op1 == 00",
        0x0fb0_0010,
        0x0600_0010,
        R::Undefined,
    ),
    parallel("<p>ADD16", 0b000),
    parallel("<p>ASX", 0b001),
    parallel("<p>SAX", 0b010),
    parallel("<p>SUB16", 0b011),
    parallel("<p>ADD8", 0b100),
    parallel("<p>SUB8", 0b111),
];

const fn extend(name: &'static str, op1: u32, accumulate: bool) -> Entry {
    let value = 0x0680_0070 | op1 << 20;
    if accumulate {
        sim(name, 0x0ff0_00f0, value, S::Extend)
            .regs(NPC, NPC, NR, NPC)
            .sbz(0x0000_0300)
    } else {
        sim(name, 0x0fff_00f0, value | 0x000f_0000, S::Extend)
            .regs(NR, NPC, NR, NPC)
            .sbz(0x0000_0300)
    }
}

const fn reverse(name: &'static str, op1: u32, op2: u32) -> Entry {
    sim(
        name,
        0x0ff0_00f0,
        0x0680_0010 | op1 << 20 | op2 << 5,
        S::Reverse,
    )
    .regs(NR, NPC, NR, NPC)
    .sbo(0x000f_0f00)
}

/// A5.4.3: op1 (22:20), op2 (7:5), A (19:16).
const PACKING: &[Entry] = &[
    sim("PKHBT/PKHTB", 0x0ff0_0030, 0x0680_0010, S::PackHalfword).regs(NPC, NPC, NR, NPC),
    extend("SXTB16", 0b000, false),
    extend("SXTAB16", 0b000, true),
    sim("SEL", 0x0ff0_00f0, 0x0680_00b0, S::SelectBytes)
        .regs(NPC, NPC, NR, NPC)
        .sbo(0x0000_0f00),
    sim("SSAT", 0x0fe0_0030, 0x06a0_0010, S::Saturate).regs(NR, NPC, NR, NPC),
    sim("SSAT16", 0x0ff0_00f0, 0x06a0_0030, S::Saturate16)
        .regs(NR, NPC, NR, NPC)
        .sbo(0x0000_0f00),
    extend("SXTB", 0b010, false),
    extend("SXTAB", 0b010, true),
    reverse("REV", 0b011, 0b001),
    extend("SXTH", 0b011, false),
    extend("SXTAH", 0b011, true),
    reverse("REV16", 0b011, 0b101),
    extend("UXTB16", 0b100, false),
    extend("UXTAB16", 0b100, true),
    sim("USAT", 0x0fe0_0030, 0x06e0_0010, S::Saturate).regs(NR, NPC, NR, NPC),
    sim("USAT16", 0x0ff0_00f0, 0x06e0_0030, S::Saturate16)
        .regs(NR, NPC, NR, NPC)
        .sbo(0x0000_0f00),
    extend("UXTB", 0b110, false),
    extend("UXTAB", 0b110, true),
    reverse("RBIT", 0b111, 0b001),
    extend("UXTH", 0b111, false),
    extend("UXTAH", 0b111, true),
    reverse("REVSH", 0b111, 0b101),
];

/// A5.4.4: op1 (22:20), op2 (7:5), A (15:12). Rd 19:16, Ra 15:12, Rm 11:8, Rn 3:0.
const SIGNED_MULTIPLY: &[Entry] = &[
    sim("SMUAD", 0x0ff0_f0d0, 0x0700_f010, S::DualMultiply).regs(NPC, NR, NPC, NPC),
    sim("SMLAD", 0x0ff0_00d0, 0x0700_0010, S::DualMultiply).regs(NPC, NPC, NPC, NPC),
    sim("SMUSD", 0x0ff0_f0d0, 0x0700_f050, S::DualMultiply).regs(NPC, NR, NPC, NPC),
    sim("SMLSD", 0x0ff0_00d0, 0x0700_0050, S::DualMultiply).regs(NPC, NPC, NPC, NPC),
    sim("SDIV", 0x0ff0_00f0, 0x0710_0010, S::Divide)
        .regs(NPC, NR, NPC, NPC)
        .sbo(0x0000_f000),
    sim("UDIV", 0x0ff0_00f0, 0x0730_0010, S::Divide)
        .regs(NPC, NR, NPC, NPC)
        .sbo(0x0000_f000),
    sim("SMLALD", 0x0ff0_00d0, 0x0740_0010, S::DualMultiplyLong)
        .regs(NPC, NPC, NPC, NPC)
        .checks(&[Check::DistinctDestinations]),
    sim("SMLSLD", 0x0ff0_00d0, 0x0740_0050, S::DualMultiplyLong)
        .regs(NPC, NPC, NPC, NPC)
        .checks(&[Check::DistinctDestinations]),
    sim(
        "SMMUL",
        0x0ff0_f0d0,
        0x0750_f010,
        S::MostSignificantMultiply,
    )
    .regs(NPC, NR, NPC, NPC),
    sim(
        "SMMLA",
        0x0ff0_00d0,
        0x0750_0010,
        S::MostSignificantMultiply,
    )
    .regs(NPC, NPC, NPC, NPC),
    sim(
        "SMMLS",
        0x0ff0_00d0,
        0x0750_00d0,
        S::MostSignificantMultiply,
    )
    .regs(NPC, NPC, NPC, NPC),
];

const STM_CHECKS: &[Check] = &[Check::NonEmptyList, Check::StoreBaseLowestWithWriteback];
const LDM_CHECKS: &[Check] = &[Check::NonEmptyList, Check::LoadBaseNotInListWithWriteback];

const fn multiple(name: &'static str, pu: u32, load: bool) -> Entry {
    let value = 0x0800_0000 | pu << 23 | (load as u32) << 20;
    let checks = if load { LDM_CHECKS } else { STM_CHECKS };
    sim(name, 0x0fd0_0000, value, S::LoadStoreMultiple)
        .regs(NPC, NR, NR, NR)
        .checks(checks)
}

/// A5.5: op (25:20), R (15).
const BRANCH_AND_BLOCK: &[Entry] = &[
    sim("B", 0x0f00_0000, 0x0a00_0000, S::Branch),
    sim("BL", 0x0f00_0000, 0x0b00_0000, S::Branch),
    reject(
        "LDM (exception return)",
        0x0e50_8000,
        0x0850_8000,
        R::ExceptionReturn,
    ),
    reject(
        "LDM/STM (User registers)",
        0x0e40_0000,
        0x0840_0000,
        R::UserRegisters,
    ),
    multiple("STMDA", 0b00, false),
    multiple("LDMDA", 0b00, true),
    multiple("STM (STMIA)", 0b01, false),
    multiple("LDM (LDMIA, POP)", 0b01, true),
    multiple("STMDB (PUSH)", 0b10, false),
    multiple("LDMDB", 0b10, true),
    multiple("STMIB", 0b11, false),
    multiple("LDMIB", 0b11, true),
];

/// A5.6: op1 (25:20), coproc (11:8).
const COPROCESSOR_AND_SVC: &[Entry] = &[
    reject("SVC", 0x0f00_0000, 0x0f00_0000, R::ExceptionGenerating),
    reject(
        "coprocessor op1 == 00000x",
        0x0fe0_0000,
        0x0c00_0000,
        R::Undefined,
    ),
    reject(
        "VFP/Advanced SIMD (coprocessor 10, 11)",
        0x0c00_0e00,
        0x0c00_0a00,
        R::FloatingPointOrSimd,
    ),
    reject(
        "LDC/STC/MCR/MRC/MCRR/MRRC/CDP",
        0x0c00_0000,
        0x0c00_0000,
        R::Coprocessor,
    ),
];

/// A5.7: op1 (27:20), op (4).
const UNCONDITIONAL: &[Entry] = &[
    table(
        "memory hints, Advanced SIMD, miscellaneous",
        0xf800_0000,
        0xf000_0000,
        UNCONDITIONAL_MISC,
    ),
    reject("SRS", 0xfe50_0000, 0xf840_0000, R::BankedRegister),
    reject("RFE", 0xfe50_0000, 0xf810_0000, R::ExceptionReturn),
    sim(
        "BLX (immediate)",
        0xfe00_0000,
        0xfa00_0000,
        S::BranchLinkExchangeImmediate,
    ),
    reject(
        "unconditional op1 == 1100000x",
        0xffe0_0000,
        0xfc00_0000,
        R::Undefined,
    ),
    reject(
        "STC2/LDC2/MCRR2/MRRC2",
        0xfe00_0000,
        0xfc00_0000,
        R::Coprocessor,
    ),
    reject("CDP2/MCR2/MRC2", 0xff00_0000, 0xfe00_0000, R::Coprocessor),
];

/// A5.7.1: op1 (26:20), op2 (7:4), Rn (19:16).
const UNCONDITIONAL_MISC: &[Entry] = &[
    reject("CPS", 0xfff1_0020, 0xf100_0000, R::ProcessorState),
    reject("SETEND", 0xfff1_00f0, 0xf101_0000, R::ProcessorState),
    reject(
        "Advanced SIMD data-processing",
        0xfe00_0000,
        0xf200_0000,
        R::FloatingPointOrSimd,
    ),
    reject(
        "Advanced SIMD element or structure load/store",
        0xff10_0000,
        0xf400_0000,
        R::FloatingPointOrSimd,
    ),
    reject(
        "unallocated memory hint (immediate)",
        0xff70_0000,
        0xf410_0000,
        R::ReservedHint,
    ),
    sim(
        "PLI (immediate, literal)",
        0xff70_0000,
        0xf450_0000,
        S::Preload,
    )
    .sbo(0x0000_f000),
    reject("PLDW (literal)", 0xff7f_0000, 0xf51f_0000, R::Unpredictable),
    sim("PLDW (immediate)", 0xff70_0000, 0xf510_0000, S::Preload).sbo(0x0000_f000),
    sim(
        "PLD (immediate, literal)",
        0xff70_0000,
        0xf550_0000,
        S::Preload,
    )
    .sbo(0x0000_f000),
    reject(
        "unconditional op1 == 1010011",
        0xfff0_0000,
        0xf530_0000,
        R::Unpredictable,
    ),
    table("barriers and CLREX", 0xfff0_0000, 0xf570_0000, BARRIERS),
    reject(
        "unconditional op1 == 1011x11",
        0xffb0_0000,
        0xf5b0_0000,
        R::Unpredictable,
    ),
    reject(
        "unallocated memory hint (register)",
        0xff70_0010,
        0xf610_0000,
        R::ReservedHint,
    ),
    sim("PLI (register)", 0xff70_0010, 0xf650_0000, S::Preload)
        .regs(NR, NR, NR, NPC)
        .sbo(0x0000_f000),
    sim("PLDW (register)", 0xff70_0010, 0xf710_0000, S::Preload)
        .regs(NPC, NR, NR, NPC)
        .sbo(0x0000_f000),
    sim("PLD (register)", 0xff70_0010, 0xf750_0000, S::Preload)
        .regs(ANY, NR, NR, NPC)
        .sbo(0x0000_f000),
    reject(
        "unconditional op1 == 11xxx11, op2 == xxx0",
        0xfe30_0010,
        0xf630_0000,
        R::Unpredictable,
    ),
    reject(
        "UDF (unconditional)",
        0xfff0_00f0,
        0xf7f0_00f0,
        R::Undefined,
    ),
];

const fn barrier(name: &'static str, op2: u32) -> Entry {
    sim(name, 0xfff0_00f0, 0xf570_0000 | op2 << 4, S::Barrier)
        .sbo(0x000f_f000)
        .sbz(0x0000_0f00)
}

/// A5.7.1 with op1 == 1010111: op2 (7:4).
const BARRIERS: &[Entry] = &[
    reject("CLREX", 0xfff0_00f0, 0xf570_0010, R::Exclusive),
    barrier("DSB", 0b0100),
    barrier("DMB", 0b0101),
    barrier("ISB", 0b0110),
    reject(
        "barrier space, other op2",
        0xfff0_0000,
        0xf570_0000,
        R::Unpredictable,
    ),
];

/// Where a word ended up in the tables and what that means.
#[derive(Clone, Copy, Debug)]
pub struct Classification {
    /// The leaf row that matched, `None` when a table had no row for the word (UNDEFINED).
    pub entry: Option<&'static Entry>,
    /// The verdict, after the leaf's field rules.
    pub decoded: Decoded,
}

/// Decodes one instruction word.
pub fn decode(insn: Insn) -> Decoded {
    classify(insn).decoded
}

/// Decodes one instruction word and says which table row decided it.
pub fn classify(insn: Insn) -> Classification {
    let word = insn.word();
    let mut rows = A32;
    loop {
        let Some(entry) = rows.iter().find(|e| e.matches(word)) else {
            return Classification {
                entry: None,
                decoded: Decoded::Rejected(RejectReason::Undefined),
            };
        };
        let decoded = match entry.action {
            Action::Table(sub) => {
                rows = sub;
                continue;
            }
            Action::Reject(reason) => Decoded::Rejected(reason),
            Action::Simulate(kind) => {
                if fields_allowed(entry, word) {
                    Decoded::Simulate(kind)
                } else {
                    Decoded::Rejected(RejectReason::Unpredictable)
                }
            }
        };
        return Classification {
            entry: Some(entry),
            decoded,
        };
    }
}

/// Single loads/stores write the base back when post-indexed (P == 0) or when W == 1.
const fn indexed_writeback(word: u32) -> bool {
    word & (1 << 24) == 0 || word & (1 << 21) != 0
}

const fn field(word: u32, lsb: u32) -> u32 {
    (word >> lsb) & 0xf
}

/// Whether the should-be bits, register rules and cross-field checks of `entry` hold.
fn fields_allowed(entry: &Entry, word: u32) -> bool {
    if word & entry.should_be_zero != 0 || !word & entry.should_be_one != 0 {
        return false;
    }
    for (rule, lsb) in entry.regs.iter().zip(REG_FIELDS) {
        let pc = field(word, lsb) == 15;
        let bad = match rule {
            RegRule::NotRegister | RegRule::Any => false,
            RegRule::NotPc => pc,
            RegRule::PcWithoutWriteback => pc && indexed_writeback(word),
        };
        if bad {
            return false;
        }
    }
    entry.checks.iter().all(|c| check_holds(*c, word))
}

fn check_holds(check: Check, word: u32) -> bool {
    let n = field(word, 16);
    let t = field(word, 12);
    let m = field(word, 0);
    let list = word & 0xffff;
    let wback_bit = word & (1 << 21) != 0;
    match check {
        Check::WritebackBaseNotTransferred => !(indexed_writeback(word) && n == t),
        Check::EvenPair => t & 1 == 0 && t != 14,
        Check::WritebackBaseNotInPair => !(indexed_writeback(word) && (n == t || n == t + 1)),
        Check::OffsetNotInPair => m != t && m != t + 1,
        Check::DistinctDestinations => n != t,
        Check::NonEmptyList => list != 0,
        Check::LoadBaseNotInListWithWriteback => !(wback_bit && list & (1 << n) != 0),
        Check::StoreBaseLowestWithWriteback => {
            !(wback_bit && list & (1 << n) != 0 && list.trailing_zeros() != n)
        }
        Check::MsbNotBelowLsb => (word >> 16) & 0x1f >= (word >> 7) & 0x1f,
        Check::FieldWithinWord => ((word >> 7) & 0x1f) + ((word >> 16) & 0x1f) <= 31,
    }
}

/// Whether the instruction, when its condition passes, may write the PC other than by
/// advancing it: branches, data-processing with Rd == PC, loads of PC, LDM with PC in the
/// list, and the rejected exception returns and BXJ. UNDEFINED and UNPREDICTABLE words say
/// `false`.
pub fn writes_pc(insn: Insn) -> bool {
    let w = insn.word();
    let c = classify(insn);
    match c.decoded {
        Decoded::Simulate(kind) => match kind {
            SimKind::Branch
            | SimKind::BranchLinkExchangeImmediate
            | SimKind::BranchExchange
            | SimKind::BranchLinkExchangeRegister => true,
            SimKind::DataProcessingImmediate | SimKind::DataProcessingRegister => {
                // TST/TEQ/CMP/CMN (opcode 10xx) have no destination.
                field(w, 12) == 15 && (w >> 23) & 3 != 0b10
            }
            SimKind::LoadStoreImmediate | SimKind::LoadStoreRegister => {
                w & (1 << 20) != 0 && field(w, 12) == 15
            }
            SimKind::LoadStoreMultiple => w & (1 << 20) != 0 && w & (1 << 15) != 0,
            _ => false,
        },
        Decoded::Rejected(RejectReason::ExceptionReturn | RejectReason::Jazelle) => true,
        Decoded::Rejected(_) => false,
    }
}

/// Whether the instruction is a branch: B, BL, BLX, BX, and the rejected BXJ.
pub fn is_branch(insn: Insn) -> bool {
    match decode(insn) {
        Decoded::Simulate(kind) => kind.is_branch(),
        Decoded::Rejected(reason) => reason == RejectReason::Jazelle,
    }
}

/// Whether a supported instruction reads or writes PC in any way: a register field that
/// names r15 (as operand, base, offset, stored value or destination), r15 in an LDM/STM
/// list, or a branch. Such an instruction behaves differently when a copy of it runs
/// anywhere but its own address, so the optimized-probe trampoline never executes it
/// directly. Rejected words say `true` (nothing may run them out of place).
pub fn uses_pc(insn: Insn) -> bool {
    let w = insn.word();
    let c = classify(insn);
    let (Decoded::Simulate(kind), Some(entry)) = (c.decoded, c.entry) else {
        return true;
    };
    kind.is_branch()
        || (kind == SimKind::LoadStoreMultiple && w & (1 << 15) != 0)
        || entry
            .regs
            .iter()
            .zip(REG_FIELDS)
            .any(|(rule, lsb)| *rule != RegRule::NotRegister && field(w, lsb) == 15)
}

/// How many bytes below the stack pointer an instruction may write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StackUse {
    /// It writes nothing below SP.
    None,
    /// It may write up to this many bytes below SP.
    Bytes(u32),
    /// It may write below SP by an amount only known at run time (a register offset), or it
    /// is not an instruction the step engine runs.
    Unknown,
}

/// The stack checker the optimized-probe path needs: how far below SP `insn` may store.
///
/// Only stores addressed from SP count, as in the kernel's own stack discipline (frame
/// pointers point above SP). Rejected instructions answer [`StackUse::Unknown`].
pub fn stack_use(insn: Insn) -> StackUse {
    let w = insn.word();
    let kind = match decode(insn) {
        Decoded::Simulate(kind) => kind,
        Decoded::Rejected(_) => return StackUse::Unknown,
    };
    let sp_based = field(w, 16) == 13;
    let load = w & (1 << 20) != 0;
    let pre = w & (1 << 24) != 0;
    let up = w & (1 << 23) != 0;
    let below = |offset: u32| {
        if pre && !up && offset != 0 {
            StackUse::Bytes(offset)
        } else {
            StackUse::None
        }
    };
    match kind {
        SimKind::LoadStoreImmediate if sp_based && !load => below(w & 0xfff),
        SimKind::LoadStoreHalfImmediate if sp_based && !load => below((w >> 4) & 0xf0 | w & 0xf),
        SimKind::LoadStoreDualImmediate if sp_based && w & (1 << 5) != 0 => {
            below((w >> 4) & 0xf0 | w & 0xf)
        }
        SimKind::LoadStoreRegister | SimKind::LoadStoreHalfRegister if sp_based && !load => {
            if pre {
                StackUse::Unknown
            } else {
                StackUse::None
            }
        }
        SimKind::LoadStoreDualRegister if sp_based && w & (1 << 5) != 0 => {
            if pre {
                StackUse::Unknown
            } else {
                StackUse::None
            }
        }
        SimKind::LoadStoreMultiple if sp_based && !load && !up => {
            let count = (w & 0xffff).count_ones();
            // DB starts 4 × count below the base, DA one word higher.
            let bytes = if pre { 4 * count } else { 4 * count - 4 };
            if bytes == 0 {
                StackUse::None
            } else {
                StackUse::Bytes(bytes)
            }
        }
        _ => StackUse::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether every word of the cube `(mask, value)` matches some cube in `by`.
    fn covered(mask: u32, value: u32, by: &[(u32, u32)]) -> bool {
        let Some((&(m, v), rest)) = by.split_first() else {
            return false;
        };
        if (value ^ v) & mask & m != 0 {
            return covered(mask, value, rest);
        }
        let free = m & !mask;
        if free == 0 {
            return true;
        }
        let b = 1 << free.trailing_zeros();
        covered(mask | b, value, by) && covered(mask | b, value | b, by)
    }

    /// Walks every table, checking each row against its parent and against every row a word
    /// must pass before reaching it (earlier rows here and earlier siblings of its ancestors).
    fn walk(
        rows: &'static [Entry],
        parent: (u32, u32),
        before: &mut Vec<(u32, u32)>,
        leaves: &mut usize,
    ) {
        let depth = before.len();
        for e in rows {
            assert_eq!(e.value & !e.mask, 0, "{}: value outside its mask", e.name);
            assert_eq!(
                e.mask & parent.0,
                parent.0,
                "{}: mask does not refine its parent's",
                e.name
            );
            assert_eq!(
                e.value & parent.0,
                parent.1,
                "{}: value disagrees with its parent's",
                e.name
            );
            assert!(
                !covered(e.mask, e.value, before),
                "{}: shadowed by an earlier row",
                e.name
            );
            assert_eq!(
                e.should_be_zero & e.should_be_one,
                0,
                "{}: (0) and (1) overlap",
                e.name
            );
            assert_eq!(
                (e.should_be_zero | e.should_be_one) & e.mask,
                0,
                "{}: should-be bits inside the mask",
                e.name
            );
            match e.action {
                Action::Table(sub) => {
                    assert!(
                        e.regs == [NR; 4]
                            && e.checks.is_empty()
                            && e.should_be_zero | e.should_be_one == 0
                    );
                    walk(sub, (e.mask, e.value), before, leaves);
                }
                Action::Reject(_) => {
                    assert!(
                        e.regs == [NR; 4] && e.checks.is_empty(),
                        "{}: rules on a rejection",
                        e.name
                    );
                    *leaves += 1;
                }
                Action::Simulate(_) => {
                    for (rule, lsb) in e.regs.iter().zip(REG_FIELDS) {
                        let nibble = 0xf << lsb;
                        if *rule != RegRule::NotRegister {
                            assert_eq!(
                                e.mask & nibble,
                                0,
                                "{}: register field at {lsb} is fixed",
                                e.name
                            );
                        }
                    }
                    *leaves += 1;
                }
            }
            before.push((e.mask, e.value));
        }
        before.truncate(depth);
    }

    #[test]
    fn tables_are_self_consistent_and_no_row_is_shadowed() {
        let mut leaves = 0;
        walk(A32, (0, 0), &mut Vec::new(), &mut leaves);
        assert!(leaves > 150, "{leaves} leaf rows");
    }

    #[test]
    fn shadow_check_finds_a_covered_row() {
        // 0b1x is covered by 0b10 ∪ 0b11, not by 0b10 alone.
        assert!(covered(0b10, 0b10, &[(0b11, 0b10), (0b11, 0b11)]));
        assert!(!covered(0b10, 0b10, &[(0b11, 0b10)]));
        assert!(!covered(0b10, 0b10, &[(0b10, 0b00)]));
    }

    fn all_leaves(rows: &'static [Entry], out: &mut Vec<&'static Entry>) {
        for e in rows {
            match e.action {
                Action::Table(sub) => all_leaves(sub, out),
                _ => out.push(e),
            }
        }
    }

    #[test]
    fn every_kind_and_reason_has_a_row() {
        let mut leaves = Vec::new();
        all_leaves(A32, &mut leaves);
        for kind in SimKind::ALL {
            assert!(
                leaves
                    .iter()
                    .any(|e| matches!(e.action, Action::Simulate(k) if k == kind)),
                "{kind:?} has no row"
            );
        }
        for reason in RejectReason::ALL {
            assert!(
                leaves
                    .iter()
                    .any(|e| matches!(e.action, Action::Reject(r) if r == reason)),
                "{reason:?} has no row"
            );
        }
    }

    use Decoded::{Rejected as Rej, Simulate as Sim};

    /// Words assembled by hand from the ARM ARM encoding diagrams, with what they must decode to.
    const VECTORS: &[(u32, Decoded)] = &[
        (0xe1a0_f00e, Sim(S::DataProcessingRegister)), // mov pc, lr
        (0xe1a0_0000, Sim(S::DataProcessingRegister)), // mov r0, r0
        (0xe08f_f100, Sim(S::DataProcessingRegister)), // add pc, pc, r0, lsl #2
        (0xe28f_0008, Sim(S::DataProcessingImmediate)), // adr r0, . + 16
        (0xe351_0000, Sim(S::DataProcessingImmediate)), // cmp r1, #0
        (0xe351_1000, Rej(R::Unpredictable)),          // cmp with Rd field != 0
        (0xe081_0312, Sim(S::DataProcessingRegisterShifted)), // add r0, r1, r2, lsl r3
        (0xe081_f312, Rej(R::Unpredictable)),          // ... with Rd = pc
        (0xe25e_f004, Rej(R::ExceptionReturn)),        // subs pc, lr, #4
        (0xe1b0_f00e, Rej(R::ExceptionReturn)),        // movs pc, lr
        (0xe301_0234, Sim(S::MoveWide)),               // movw r0, #0x1234
        (0xe34a_0bcd, Sim(S::MoveTop)),                // movt r0, #0xabcd
        (0xe30f_f000, Rej(R::Unpredictable)),          // movw pc, #0
        (0xe000_0091, Sim(S::Multiply)),               // mul r0, r1, r0
        (0xe020_3291, Sim(S::Multiply)),               // mla r0, r1, r2, r3
        (0xe060_3291, Sim(S::MultiplySubtract)),       // mls r0, r1, r2, r3
        (0xe081_0392, Sim(S::MultiplyLong)),           // umull r0, r1, r2, r3
        (0xe080_0392, Rej(R::Unpredictable)),          // umull r0, r0, ...
        (0xe041_0392, Sim(S::MultiplyAccumulateAccumulateLong)), // umaal r0, r1, r2, r3
        (0xe100_3281, Sim(S::HalfwordMultiply)),       // smlabb r0, r1, r2, r3
        (0xe160_02e1, Sim(S::HalfwordMultiply)),       // smultt r0, r1, r2
        (0xe120_32c1, Sim(S::WordHalfwordMultiply)),   // smlawt r0, r1, r2, r3
        (0xe141_0382, Sim(S::HalfwordMultiplyLong)),   // smlalbb r0, r1, r2, r3
        (0xe700_f211, Sim(S::DualMultiply)),           // smuad r0, r1, r2
        (0xe740_1312, Sim(S::DualMultiplyLong)),       // smlald r1, r0, r2, r3
        (0xe750_f211, Sim(S::MostSignificantMultiply)), // smmul r0, r1, r2
        (0xe710_f211, Sim(S::Divide)),                 // sdiv r0, r1, r2
        (0xe730_f211, Sim(S::Divide)),                 // udiv r0, r1, r2
        (0xe102_0051, Sim(S::SaturatingAddSubtract)),  // qadd r0, r1, r2
        (0xe611_0f12, Sim(S::ParallelAddSubtract)),    // sadd16 r0, r1, r2
        (0xe651_0ff2, Sim(S::ParallelAddSubtract)),    // usub8 r0, r1, r2
        (0xe601_0f12, Rej(R::Undefined)),              // parallel op1 == 00
        (0xe6a7_0011, Sim(S::Saturate)),               // ssat r0, #8, r1
        (0xe6e8_0011, Sim(S::Saturate)),               // usat r0, #8, r1
        (0xe6a7_0f31, Sim(S::Saturate16)),             // ssat16 r0, #8, r1
        (0xe6af_0071, Sim(S::Extend)),                 // sxtb r0, r1
        (0xe6f2_0471, Sim(S::Extend)),                 // uxtah r0, r2, r1, ror #8
        (0xe681_0012, Sim(S::PackHalfword)),           // pkhbt r0, r1, r2
        (0xe681_0fb2, Sim(S::SelectBytes)),            // sel r0, r1, r2
        (0xe6bf_0f31, Sim(S::Reverse)),                // rev r0, r1
        (0xe6ff_0f31, Sim(S::Reverse)),                // rbit r0, r1
        (0xe780_f211, Sim(S::SumAbsoluteDifferences)), // usad8 r0, r1, r2
        (0xe7e7_0051, Sim(S::BitFieldExtract)),        // ubfx r0, r1, #0, #8
        (0xe7e7_0c51, Rej(R::Unpredictable)),          // ubfx r0, r1, #24, #8 is fine ...
        (0xe7df_001f, Sim(S::BitFieldInsert)),         // bfc r0, #0, #32
        (0xe7c0_0411, Rej(R::Unpredictable)),          // bfi with msb < lsb
        (0xe16f_0f11, Sim(S::CountLeadingZeros)),      // clz r0, r1
        (0xe52d_e004, Sim(S::LoadStoreImmediate)),     // str lr, [sp, #-4]!
        (0xe59f_0004, Sim(S::LoadStoreImmediate)),     // ldr r0, [pc, #4]
        (0xe5bf_0004, Rej(R::Unpredictable)),          // ldr r0, [pc, #4]!
        (0xe5b0_0004, Rej(R::Unpredictable)),          // ldr r0, [r0, #4]!
        (0xe791_0102, Sim(S::LoadStoreRegister)),      // ldr r0, [r1, r2, lsl #2]
        (0xe791_010f, Rej(R::Unpredictable)),          // ... with Rm = pc
        (0xe4b0_1004, Rej(R::Unprivileged)),           // ldrt r1, [r0], #4
        (0xe1d0_10b2, Sim(S::LoadStoreHalfImmediate)), // ldrh r1, [r0, #2]
        (0xe191_00f2, Sim(S::LoadStoreHalfRegister)),  // ldrsh r0, [r1, r2]
        (0xe0f0_10b2, Rej(R::Unprivileged)),           // ldrht r1, [r0], #2
        (0xe1c0_20d0, Sim(S::LoadStoreDualImmediate)), // ldrd r2, r3, [r0]
        (0xe1c0_30d0, Rej(R::Unpredictable)),          // ldrd r3, ...: odd Rt
        (0xe1c0_e0d0, Rej(R::Unpredictable)),          // ldrd lr, ...: Rt2 = pc
        (0xe180_20f1, Sim(S::LoadStoreDualRegister)),  // strd r2, r3, [r0, r1]
        (0xe180_20d2, Rej(R::Unpredictable)),          // ldrd r2, r3, [r0, r2]
        (0xe92d_4010, Sim(S::LoadStoreMultiple)),      // push {r4, lr}
        (0xe8bd_8010, Sim(S::LoadStoreMultiple)),      // pop {r4, pc}
        (0xe8bd_2010, Rej(R::Unpredictable)),          // pop {r4, sp}
        (0xe8bd_0000, Rej(R::Unpredictable)),          // pop {}
        (0xe92d_2001, Rej(R::Unpredictable)),          // stmdb sp!, {r0, sp}
        (0xe92d_6000, Sim(S::LoadStoreMultiple)),      // stmdb sp!, {sp, lr}
        (0xe8fd_8000, Rej(R::ExceptionReturn)),        // ldm sp!, {pc}^
        (0xe8dd_2000, Rej(R::UserRegisters)),          // ldm sp, {sp}^
        (0xea00_0000, Sim(S::Branch)),                 // b . + 8
        (0xeb00_0000, Sim(S::Branch)),                 // bl . + 8
        (0xfa00_0000, Sim(S::BranchLinkExchangeImmediate)), // blx . + 8
        (0xe12f_ff1e, Sim(S::BranchExchange)),         // bx lr
        (0xe12f_ff3c, Sim(S::BranchLinkExchangeRegister)), // blx ip
        (0xe12f_ff3f, Rej(R::Unpredictable)),          // blx pc
        (0xe12f_ff2e, Rej(R::Jazelle)),                // bxj lr
        (0xe10f_0000, Sim(S::ReadStatus)),             // mrs r0, apsr
        (0xe14f_0000, Rej(R::BankedRegister)),         // mrs r0, spsr
        (0xe100_0200, Rej(R::BankedRegister)),         // mrs r0, r8_usr
        (0xe129_f000, Rej(R::StatusWrite)),            // msr cpsr_fc, r0
        (0xe321_f0d3, Rej(R::StatusWrite)),            // msr cpsr_c, #0xd3
        (0xe320_f000, Sim(S::Hint)),                   // nop
        (0xe320_f003, Sim(S::Hint)),                   // wfi
        (0xe320_f004, Sim(S::Hint)),                   // sev
        (0xe320_f0f0, Rej(R::ReservedHint)),           // dbg #0
        (0xe320_f014, Rej(R::ReservedHint)),           // csdb
        (0xe320_0000, Rej(R::Unpredictable)),          // nop with (1) bits clear
        (0xf57f_f05f, Sim(S::Barrier)),                // dmb sy
        (0xf57f_f04f, Sim(S::Barrier)),                // dsb sy
        (0xf57f_f06f, Sim(S::Barrier)),                // isb sy
        (0xf57f_f01f, Rej(R::Exclusive)),              // clrex
        (0xf5d0_f000, Sim(S::Preload)),                // pld [r0]
        (0xf590_f000, Sim(S::Preload)),                // pldw [r0]
        (0xf4d0_f000, Sim(S::Preload)),                // pli [r0]
        (0xf7d0_f001, Sim(S::Preload)),                // pld [r0, r1]
        (0xe190_0f9f, Rej(R::Exclusive)),              // ldrex r0, [r0]
        (0xe180_0f91, Rej(R::Exclusive)),              // strex r0, r1, [r0]
        (0xe100_3092, Rej(R::Swap)),                   // swp r3, r2, [r0]
        (0xf10c_0080, Rej(R::ProcessorState)),         // cpsid i
        (0xf101_0200, Rej(R::ProcessorState)),         // setend be
        (0xf8bd_0a00, Rej(R::ExceptionReturn)),        // rfeia sp!
        (0xf96d_0513, Rej(R::BankedRegister)),         // srsdb sp!, #19
        (0xe160_006e, Rej(R::ExceptionReturn)),        // eret
        (0xef00_0000, Rej(R::ExceptionGenerating)),    // svc #0
        (0xe120_0070, Rej(R::ExceptionGenerating)),    // bkpt #0
        (0xe160_0070, Rej(R::ExceptionGenerating)),    // smc #0
        (0xe140_0070, Rej(R::ExceptionGenerating)),    // hvc #0
        (0xe7f0_00f0, Rej(R::Undefined)),              // udf #0
        (0x07f0_01f8, Rej(R::Undefined)),              // our breakpoint word
        (0xe050_0090, Rej(R::Undefined)),              // multiply op 0101
        (0xee11_0f10, Rej(R::Coprocessor)),            // mrc p15, 0, r0, c1, c0, 0
        (0xfe00_0000, Rej(R::Coprocessor)),            // cdp2
        (0xed90_0a00, Rej(R::FloatingPointOrSimd)),    // vldr s0, [r0]
        (0xf200_0000, Rej(R::FloatingPointOrSimd)),    // vhadd.s8 d0, d0, d0
        (0xf420_070f, Rej(R::FloatingPointOrSimd)),    // vld1.8 {d0}, [r0]
    ];

    #[test]
    fn hand_assembled_words_decode_as_the_arm_arm_says() {
        for &(word, want) in VECTORS {
            if word == 0xe7e7_0c51 {
                // ubfx r0, r1, #24, #8: lsb + width - 1 == 31, allowed; widthm1 9 is not.
                assert_eq!(decode(Insn(word)), Sim(S::BitFieldExtract));
                assert_eq!(decode(Insn(0xe7e8_0c51)), Rej(R::Unpredictable));
                continue;
            }
            assert_eq!(decode(Insn(word)), want, "{word:#010x}");
        }
    }

    #[test]
    fn every_reject_reason_reads_as_a_distinct_sentence() {
        let texts: Vec<String> = RejectReason::ALL.iter().map(|r| r.to_string()).collect();
        for (i, t) in texts.iter().enumerate() {
            assert!(t.len() > 10, "{t}");
            assert!(!texts[..i].contains(t), "{t} repeated");
        }
        // Each reason is produced by at least one hand-assembled word.
        for reason in RejectReason::ALL {
            assert!(
                VECTORS.iter().any(|&(_, d)| d == Rej(reason)),
                "{reason:?} untested"
            );
        }
    }

    #[test]
    fn classify_names_the_row_and_falls_through_to_undefined() {
        let c = classify(Insn(0xe92d_4010));
        assert_eq!(c.entry.map(|e| e.name), Some("STMDB (PUSH)"));
        let none = classify(Insn(0xe070_0090)); // multiply op 0111: no row
        assert!(none.entry.is_none());
        assert_eq!(none.decoded, Rej(R::Undefined));
    }

    #[test]
    fn pc_writers_and_branches_are_recognised() {
        for w in [
            0xe1a0_f00e,
            0xe08f_f100,
            0xe8bd_8010,
            0xe49d_f004,
            0xea00_0000,
            0xfa00_0000,
            0xe12f_ff1e,
            0xe25e_f004,
        ] {
            assert!(writes_pc(Insn(w)), "{w:#010x}");
        }
        for w in [
            0xe1a0_0000,
            0xe351_0000,
            0xe92d_8000,
            0xe58d_f000,
            0xe80d_8000,
            0xef00_0000,
        ] {
            assert!(!writes_pc(Insn(w)), "{w:#010x}");
        }
        assert!(
            S::Branch.is_branch()
                && S::BranchExchange.is_branch()
                && !S::LoadStoreMultiple.is_branch()
        );
    }

    #[test]
    fn stack_use_counts_bytes_below_sp() {
        let cases: &[(u32, StackUse)] = &[
            (0xe52d_e004, StackUse::Bytes(4)),  // str lr, [sp, #-4]!
            (0xe50d_0010, StackUse::Bytes(16)), // str r0, [sp, #-16]
            (0xe58d_0010, StackUse::None),      // str r0, [sp, #16]
            (0xe48d_0010, StackUse::None),      // str r0, [sp], #16 (writes at sp)
            (0xe40d_0010, StackUse::None),      // str r0, [sp], #-16 (writes at sp, then moves)
            (0xe54d_0001, StackUse::Bytes(1)),  // strb r0, [sp, #-1]
            (0xe14d_00b2, StackUse::Bytes(2)),  // strh r0, [sp, #-2]
            (0xe14d_00f8, StackUse::Bytes(8)),  // strd r0, r1, [sp, #-8]
            (0xe14d_00d8, StackUse::None),      // ldrd r0, r1, [sp, #-8]
            (0xe78d_0001, StackUse::Unknown),   // str r0, [sp, r1]
            (0xe18d_00b1, StackUse::Unknown),   // strh r0, [sp, r1]
            (0xe92d_4010, StackUse::Bytes(8)),  // push {r4, lr}
            (0xe82d_4010, StackUse::Bytes(4)),  // stmda sp!, {r4, lr}
            (0xe80d_0001, StackUse::None),      // stmda sp, {r0}
            (0xe88d_4010, StackUse::None),      // stmia sp, {r4, lr}
            (0xe51d_0004, StackUse::None),      // ldr r0, [sp, #-4]
            (0xe500_0004, StackUse::None),      // str r0, [r0, #-4]: not SP-based
            (0xe24d_d008, StackUse::None),      // sub sp, sp, #8
            (0xef00_0000, StackUse::Unknown),   // svc: rejected
        ];
        for &(w, want) in cases {
            assert_eq!(stack_use(Insn(w)), want, "{w:#010x}");
        }
    }
}
