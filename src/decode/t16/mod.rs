//! Table-driven T16 decoder: every 16-bit Thumb halfword is rejected (with a reason), simulated,
//! or recognised as the first halfword of a 32-bit Thumb instruction.
//!
//! The foundation of Thumb probes (issue 19), built the way the A32 decoder is: [`T16`] is the
//! top of a tree of `&'static [T16Entry]` tables that mirrors the ARM ARM (ARMv7-A, section
//! A6.2, "16-bit Thumb instruction encoding"); each row is an ARM ARM bit pattern (16 bits,
//! turned into a `(mask, value)` pair at compile time) plus what a match means — a sub-table,
//! a rejection with a [`RejectReason`], a [`T16Kind`] the step engine will run, or "first half
//! of a 32-bit instruction" — and the field rules ([`T16Check`], should-be bits) that make a
//! register combination UNPREDICTABLE. The first matching row of a table wins; a halfword no
//! row of a table matches is UNDEFINED there.
//!
//! Why a row type of its own rather than the A32 [`Entry`](super::Entry): an A32 row holds an
//! A32 [`SimKind`](super::SimKind), register rules for the four A32 nibble positions and
//! A32 cross-field checks, none of which fits T16, whose register fields are three bits wide
//! at varying positions (four, with a high bit apart, in the special data group) and whose
//! UNPREDICTABLE rules depend on the IT block the halfword sits in. The shape is the same
//! (pattern, action, should-be bits, checks) and the bit patterns go through the same parser.
//!
//! Some T16 rules depend on where the halfword sits relative to an IT block (CBZ inside one is
//! UNPREDICTABLE, BX only as its last instruction, …), which the halfword alone cannot say; the
//! decoder takes that position as an [`ItPosition`]. At registration the position is not known
//! (the CPU's ITSTATE is, at the hit), so a caller asks for the position it can vouch for.

mod decoder;
mod entry;
mod tables;
#[cfg(test)]
mod tests;

pub use decoder::{T16Classification, classify_t16, decode_t16};
pub use entry::{T16Action, T16Check, T16Entry};
pub use tables::T16;

use super::RejectReason;

/// Where a halfword sits relative to an IT block: the ARM ARM's `InITBlock()` and
/// `LastInITBlock()`, which some T16 and T32 encodings need to say whether they are
/// UNPREDICTABLE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItPosition {
    /// Not in an IT block.
    Outside,
    /// In an IT block, not its last instruction.
    Inside,
    /// The last instruction of an IT block.
    Last,
}

impl ItPosition {
    /// Every position, for tests and sweeps.
    pub const ALL: [ItPosition; 3] = [ItPosition::Outside, ItPosition::Inside, ItPosition::Last];

    /// `InITBlock()`.
    pub const fn in_it_block(self) -> bool {
        !matches!(self, ItPosition::Outside)
    }

    /// `InITBlock() && !LastInITBlock()`: the position where a PC write is UNPREDICTABLE.
    pub const fn inside_not_last(self) -> bool {
        matches!(self, ItPosition::Inside)
    }
}

/// What the T16 decoder makes of one halfword.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum T16Decoded {
    /// The halfword is the first of a 32-bit Thumb instruction (bits 15:11 are 0b11101,
    /// 0b11110 or 0b11111): it is not an instruction by itself, and its verdict belongs to the
    /// 32-bit decoder.
    FirstHalfOfT32,
    /// The instruction cannot be probed; the reason says why.
    Rejected(RejectReason),
    /// The step engine is to simulate the instruction.
    Simulate(T16Kind),
}

/// A class of 16-bit Thumb instructions the step engine will simulate, named as the ARM ARM's
/// A6.2 tables name them; operands are read from the halfword itself. Flag-setting classes set
/// the flags outside an IT block only (the ARM ARM's `setflags = !InITBlock()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum T16Kind {
    /// LSL, LSR, ASR (immediate); also MOVS Rd, Rm (encoded as LSL #0).
    ShiftImmediate,
    /// ADD, SUB (register) with three low registers.
    AddSubtractRegister,
    /// ADD, SUB (immediate): 3-bit immediate to a second register, or 8-bit to the same one.
    AddSubtractImmediate,
    /// MOV (immediate), 8-bit.
    MoveImmediate,
    /// CMP (immediate), 8-bit.
    CompareImmediate,
    /// AND, EOR, ADC, SBC, TST, RSB (NEG), CMP, CMN, ORR, BIC, MVN with two low registers.
    DataProcessingRegister,
    /// LSL, LSR, ASR, ROR (register): shift by the bottom byte of a register.
    ShiftRegister,
    /// MUL (MULS): sets N and Z only.
    Multiply,
    /// ADD (register) encoding T2 and ADD (SP plus register): any of r0–r15, no flags; with
    /// Rd = PC, a branch.
    AddHighRegisters,
    /// CMP (register) encoding T2: at least one high register.
    CompareHighRegisters,
    /// MOV (register) encoding T1: any of r0–r15, no flags; with Rd = PC, a branch.
    MoveHighRegisters,
    /// BX.
    BranchExchange,
    /// BLX (register).
    BranchLinkExchangeRegister,
    /// LDR (literal): a word from `Align(PC, 4) + imm8 × 4`.
    LoadLiteral,
    /// STR, STRH, STRB, LDRSB, LDR, LDRH, LDRB, LDRSH with a register offset.
    LoadStoreRegister,
    /// STR, LDR, STRB, LDRB, STRH, LDRH with a 5-bit immediate offset.
    LoadStoreImmediate,
    /// STR, LDR (immediate) SP-relative: `[SP, #imm8 × 4]`.
    LoadStoreStack,
    /// ADR: Generate PC-relative address.
    GeneratePcRelativeAddress,
    /// ADD (SP plus immediate) to a low register: Generate SP-relative address.
    GenerateSpRelativeAddress,
    /// ADD SP, SP, #imm7 × 4 and SUB SP, SP, #imm7 × 4: Adjust SP.
    AdjustStackPointer,
    /// CBZ, CBNZ: Compare and Branch on Zero / Nonzero.
    CompareAndBranch,
    /// SXTH, SXTB, UXTH, UXTB.
    Extend,
    /// REV, REV16, REVSH.
    Reverse,
    /// PUSH: Push Multiple Registers (r0–r7 and LR).
    Push,
    /// POP: Pop Multiple Registers (r0–r7 and PC; with PC, an interworking branch).
    Pop,
    /// STM (STMIA, STMEA) with writeback.
    StoreMultiple,
    /// LDM (LDMIA, LDMFD); writeback unless the base is in the list.
    LoadMultiple,
    /// NOP, YIELD, WFE, WFI, SEV: handed to the platform's hint handler, as A32's
    /// [`SimKind::Hint`](super::SimKind::Hint) is.
    Hint,
    /// B encoding T1: Conditional Branch.
    ConditionalBranch,
    /// B encoding T2: Unconditional Branch.
    Branch,
}

impl T16Kind {
    /// Every kind, in declaration order (an index for counting).
    pub const ALL: [T16Kind; 30] = [
        T16Kind::ShiftImmediate,
        T16Kind::AddSubtractRegister,
        T16Kind::AddSubtractImmediate,
        T16Kind::MoveImmediate,
        T16Kind::CompareImmediate,
        T16Kind::DataProcessingRegister,
        T16Kind::ShiftRegister,
        T16Kind::Multiply,
        T16Kind::AddHighRegisters,
        T16Kind::CompareHighRegisters,
        T16Kind::MoveHighRegisters,
        T16Kind::BranchExchange,
        T16Kind::BranchLinkExchangeRegister,
        T16Kind::LoadLiteral,
        T16Kind::LoadStoreRegister,
        T16Kind::LoadStoreImmediate,
        T16Kind::LoadStoreStack,
        T16Kind::GeneratePcRelativeAddress,
        T16Kind::GenerateSpRelativeAddress,
        T16Kind::AdjustStackPointer,
        T16Kind::CompareAndBranch,
        T16Kind::Extend,
        T16Kind::Reverse,
        T16Kind::Push,
        T16Kind::Pop,
        T16Kind::StoreMultiple,
        T16Kind::LoadMultiple,
        T16Kind::Hint,
        T16Kind::ConditionalBranch,
        T16Kind::Branch,
    ];
}
