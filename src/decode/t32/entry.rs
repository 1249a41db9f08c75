//! The T32 decode-table row: [`T32Entry`], what a match means ([`T32Action`]) and the rules that
//! make a matching instruction UNPREDICTABLE ([`T32Check`], should-be bits), with the `const`
//! builders the tables use.

use super::super::RejectReason;
use super::super::pattern::pattern;
use super::T32Kind;

/// A 4-bit register field of a 32-bit Thumb instruction, by its position in `hw1:hw2` (the
/// ARM ARM puts the same position under different names: RdLo and Ra sit where Rt does, RdHi
/// and Rt2 where Rd does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum T32RegisterField {
    /// hw1 bits 3:0 (word bits 19:16): Rn.
    N,
    /// hw2 bits 15:12: Rt, RdLo, Ra.
    T,
    /// hw2 bits 11:8: Rd, RdHi, Rt2.
    D,
    /// hw2 bits 3:0: Rm.
    M,
}

impl T32RegisterField {
    /// The register number the field holds in `word` (`hw1:hw2`).
    pub const fn of(self, word: u32) -> u32 {
        let shift = match self {
            T32RegisterField::N => 16,
            T32RegisterField::T => 12,
            T32RegisterField::D => 8,
            T32RegisterField::M => 0,
        };
        (word >> shift) & 0xf
    }
}

/// Conditions whose failure makes an instruction UNPREDICTABLE. They apply to rejected rows
/// too, as T16's do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum T32Check {
    /// The ARM ARM's `BadReg(field)`: the field is neither SP nor PC.
    NotSpOrPc(T32RegisterField),
    /// The field is not PC.
    NotPc(T32RegisterField),
    /// The field is not SP.
    NotSp(T32RegisterField),
    /// `if InITBlock() then UNPREDICTABLE` (B encoding T3).
    NotInItBlock,
    /// `if InITBlock() && !LastInITBlock() then UNPREDICTABLE` (B T4, BL, BLX, TBB/TBH).
    OutsideOrLastInItBlock,
    /// A load to PC (Rt, hw2 15:12, == 15) only outside an IT block or as its last instruction.
    LoadPcOutsideOrLastInItBlock,
    /// LDM/POP with PC (list bit 15) only outside an IT block or as its last instruction.
    ListPcOutsideOrLastInItBlock,
    /// The data-processing modified immediate (`i:imm3:imm8`) is not one ThumbExpandImm calls
    /// UNPREDICTABLE (a replicated pattern of a zero byte).
    ModifiedImmediateValid,
    /// ADD/SUB with a destination (Rd): from SP (Rn == 13) Rd is not PC, otherwise not SP or
    /// PC (`ADD (SP plus immediate)` versus `ADD (immediate)`).
    AddSubtractDestination,
    /// ADD/SUB (register) and the SP forms: with Rd == SP the shift is LSL #0–#3.
    StackDestinationShiftLimited,
    /// MOV (register) encoding T3 (shift amount and type zero): with S, neither Rd nor Rm is SP
    /// or PC; without, neither is PC and not both SP.
    MoveRegisterOperands,
    /// LDM/STM/PUSH/POP: at least two registers in the list (hw2 15:0).
    AtLeastTwoRegisters,
    /// LDM/POP: not both PC and LR (bits 15 and 14) in the list.
    NotBothPcAndLr,
    /// With writeback (W, hw1 bit 5), the base Rn is not in the list.
    WritebackBaseNotInList,
    /// Single load/store immediate with writeback (hw2 bit 8 in the `1PUW` forms): Rn != Rt.
    WritebackBaseNotTransferred,
    /// LDRD/STRD: with writeback (W, hw1 bit 5), Rn is neither Rt nor Rt2.
    DualWritebackBaseNotTransferred,
    /// LDRD: Rt != Rt2.
    DualDistinctRegisters,
    /// LDRD (literal): no writeback (W, hw1 bit 5, clear).
    NoWriteback,
    /// REV, REV16, RBIT, REVSH, CLZ: Rm appears twice (hw1 3:0 and hw2 3:0), equal.
    ConsistentRm,
    /// Long multiplies: RdHi != RdLo.
    DistinctDestinations,
    /// SBFX/UBFX: `lsb + widthminus1 <= 31`.
    ExtractFieldInWord,
    /// BFI/BFC: `msb >= lsb`.
    InsertFieldNotReversed,
    /// MSR: the mask (hw2 11:8) is not zero.
    StatusMaskNotEmpty,
}

/// What a matching [`T32Entry`] means.
#[derive(Clone, Copy, Debug)]
pub enum T32Action {
    /// Continue in this sub-table (every row in it refines this row's pattern).
    Table(&'static [T32Entry]),
    /// The instruction cannot be probed.
    Reject(RejectReason),
    /// The step engine simulates the instruction.
    Simulate(T32Kind),
}

/// One row of a T32 decode table: `(hw1 << 16 | hw2) & mask == value` selects it.
#[derive(Clone, Copy, Debug)]
pub struct T32Entry {
    /// The instruction (or group) the row stands for, as the ARM ARM names it.
    pub name: &'static str,
    /// Bits of `hw1:hw2` that select the row (the `0`s and `1`s of its bit pattern).
    pub mask: u32,
    /// Their value.
    pub value: u32,
    /// What a match means.
    pub action: T32Action,
    /// Bits the encoding marks `(0)`: any of them set is UNPREDICTABLE.
    pub should_be_zero: u32,
    /// Bits the encoding marks `(1)`: any of them clear is UNPREDICTABLE.
    pub should_be_one: u32,
    /// Conditions that must hold (leaf rows only).
    pub checks: &'static [T32Check],
}

impl T32Entry {
    const fn new(name: &'static str, encoding: &'static str, action: T32Action) -> T32Entry {
        // The ARM ARM draws a 32-bit Thumb encoding as hw1 then hw2: the first four groups of
        // the pattern are hw1, the last four hw2.
        let (mask, value) = pattern(encoding);
        T32Entry {
            name,
            mask,
            value,
            action,
            should_be_zero: 0,
            should_be_one: 0,
            checks: &[],
        }
    }

    pub(super) const fn sbz(mut self, bits: u32) -> T32Entry {
        self.should_be_zero = bits;
        self
    }

    pub(super) const fn sbo(mut self, bits: u32) -> T32Entry {
        self.should_be_one = bits;
        self
    }

    pub(super) const fn checks(mut self, checks: &'static [T32Check]) -> T32Entry {
        self.checks = checks;
        self
    }

    /// Whether `word` (`hw1:hw2`) selects this row.
    pub const fn matches(&self, word: u32) -> bool {
        word & self.mask == self.value
    }
}

/// A row that continues in sub-table `t`; `encoding` is a 32-bit ARM ARM bit pattern, hw1
/// then hw2 (see `pattern`), checked when the crate is built.
pub(super) const fn table(
    name: &'static str,
    encoding: &'static str,
    t: &'static [T32Entry],
) -> T32Entry {
    T32Entry::new(name, encoding, T32Action::Table(t))
}

/// A row whose instructions are rejected for reason `r`.
pub(super) const fn reject(
    name: &'static str,
    encoding: &'static str,
    r: RejectReason,
) -> T32Entry {
    T32Entry::new(name, encoding, T32Action::Reject(r))
}

/// A row whose instructions the step engine simulates as `k` (once the rules hold).
pub(super) const fn sim(name: &'static str, encoding: &'static str, k: T32Kind) -> T32Entry {
    T32Entry::new(name, encoding, T32Action::Simulate(k))
}
