//! The decode-table row: [`Entry`], what a match means ([`Action`]) and the field rules a
//! supported row carries ([`RegRule`], [`Check`]), with the `const` builders the tables use.

use super::pattern::pattern;
use super::{RejectReason, SimKind};

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
    /// Bits that select the row (the `0`s and `1`s of its bit pattern).
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

pub(super) const NR: RegRule = RegRule::NotRegister;
pub(super) const ANY: RegRule = RegRule::Any;
pub(super) const NPC: RegRule = RegRule::NotPc;
pub(super) const PNW: RegRule = RegRule::PcWithoutWriteback;

impl Entry {
    const fn new(name: &'static str, encoding: &'static str, action: Action) -> Entry {
        let (mask, value) = pattern(encoding);
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
    pub(super) const fn regs(
        mut self,
        r16: RegRule,
        r12: RegRule,
        r8: RegRule,
        r0: RegRule,
    ) -> Entry {
        self.regs = [r16, r12, r8, r0];
        self
    }

    pub(super) const fn sbz(mut self, bits: u32) -> Entry {
        self.should_be_zero = bits;
        self
    }

    pub(super) const fn sbo(mut self, bits: u32) -> Entry {
        self.should_be_one = bits;
        self
    }

    pub(super) const fn checks(mut self, checks: &'static [Check]) -> Entry {
        self.checks = checks;
        self
    }

    /// Whether `word` selects this row.
    pub const fn matches(&self, word: u32) -> bool {
        word & self.mask == self.value
    }
}

/// A row that continues in sub-table `t`; `encoding` is an ARM ARM bit pattern (see
/// `pattern`), checked when the crate is built.
pub(super) const fn table(
    name: &'static str,
    encoding: &'static str,
    t: &'static [Entry],
) -> Entry {
    Entry::new(name, encoding, Action::Table(t))
}

/// A row whose words are rejected for reason `r`.
pub(super) const fn reject(name: &'static str, encoding: &'static str, r: RejectReason) -> Entry {
    Entry::new(name, encoding, Action::Reject(r))
}

/// A row whose words the step engine simulates as `k` (once the field rules hold).
pub(super) const fn sim(name: &'static str, encoding: &'static str, k: SimKind) -> Entry {
    Entry::new(name, encoding, Action::Simulate(k))
}
