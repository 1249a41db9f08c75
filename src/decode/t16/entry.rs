//! The T16 decode-table row: [`T16Entry`], what a match means ([`T16Action`]) and the rules that
//! make a matching halfword UNPREDICTABLE ([`T16Check`], should-be bits), with the `const`
//! builders the tables use.

use super::super::RejectReason;
use super::super::pattern::pattern16;
use super::T16Kind;

/// Conditions whose failure makes a halfword UNPREDICTABLE. Unlike A32's checks they apply to
/// rejected rows too, so an UNPREDICTABLE form of CPS or IT reports `Unpredictable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum T16Check {
    /// `if InITBlock() then UNPREDICTABLE` (CBZ/CBNZ, B encoding T1, MOVS Rd, Rm, IT, CPS,
    /// SETEND).
    NotInItBlock,
    /// `if InITBlock() && !LastInITBlock() then UNPREDICTABLE` (BX, BLX, B encoding T2).
    OutsideOrLastInItBlock,
    /// ADD/MOV (register) to PC (`DN:Rdn`, bits 7 and 2:0, == 15) only outside an IT block or
    /// as its last instruction.
    PcDestinationOutsideOrLastInItBlock,
    /// POP with PC (bit 8) only outside an IT block or as its last instruction.
    PopPcOutsideOrLastInItBlock,
    /// ADD (register) encoding T2: not both `DN:Rdn` and Rm (6:3) PC.
    NotPcPlusPc,
    /// CMP (register) encoding T2: neither `N:Rn` nor Rm (6:3) is PC.
    CompareNotPc,
    /// BLX (register): Rm (6:3) is not PC.
    TargetNotPc,
    /// PUSH/POP: the list (bits 7:0 and the LR/PC bit 8) is not empty.
    NonEmptyPushPopList,
    /// LDM/STM: the list (bits 7:0) is not empty.
    NonEmptyList,
    /// STM (always writeback): the base (10:8) is in the list only as its lowest register.
    /// Otherwise the ARM ARM stores an UNKNOWN value for it: no behaviour to reproduce, so it
    /// is rejected as UNPREDICTABLE, as the A32 table does.
    StoreBaseLowest,
    /// CPS: at least one of A, I, F (2:0) is set.
    CpsFlagsNotEmpty,
    /// IT: firstcond (7:4) is not 0b1111, and with 0b1110 (AL) the mask (3:0) has one bit
    /// set (no Else for an always condition).
    ItConditionAllowed,
}

/// What a matching [`T16Entry`] means.
#[derive(Clone, Copy, Debug)]
pub enum T16Action {
    /// Continue in this sub-table (every row in it refines this row's pattern).
    Table(&'static [T16Entry]),
    /// The first halfword of a 32-bit instruction.
    FirstHalfOfT32,
    /// The instruction cannot be probed.
    Reject(RejectReason),
    /// The step engine simulates the instruction.
    Simulate(T16Kind),
}

/// One row of a T16 decode table: `halfword & mask == value` selects it.
#[derive(Clone, Copy, Debug)]
pub struct T16Entry {
    /// The instruction (or group) the row stands for, as the ARM ARM names it.
    pub name: &'static str,
    /// Bits that select the row (the `0`s and `1`s of its bit pattern).
    pub mask: u16,
    /// Their value.
    pub value: u16,
    /// What a match means.
    pub action: T16Action,
    /// Bits the encoding marks `(0)`: any of them set is UNPREDICTABLE.
    pub should_be_zero: u16,
    /// Bits the encoding marks `(1)`: any of them clear is UNPREDICTABLE.
    pub should_be_one: u16,
    /// Conditions that must hold (leaf rows only).
    pub checks: &'static [T16Check],
}

impl T16Entry {
    const fn new(name: &'static str, encoding: &'static str, action: T16Action) -> T16Entry {
        let (mask, value) = pattern16(encoding);
        T16Entry {
            name,
            mask,
            value,
            action,
            should_be_zero: 0,
            should_be_one: 0,
            checks: &[],
        }
    }

    pub(super) const fn sbz(mut self, bits: u16) -> T16Entry {
        self.should_be_zero = bits;
        self
    }

    pub(super) const fn sbo(mut self, bits: u16) -> T16Entry {
        self.should_be_one = bits;
        self
    }

    pub(super) const fn checks(mut self, checks: &'static [T16Check]) -> T16Entry {
        self.checks = checks;
        self
    }

    /// Whether `halfword` selects this row.
    pub const fn matches(&self, halfword: u16) -> bool {
        halfword & self.mask == self.value
    }
}

/// A row that continues in sub-table `t`; `encoding` is a 16-bit ARM ARM bit pattern (see
/// `pattern16`), checked when the crate is built.
pub(super) const fn table(
    name: &'static str,
    encoding: &'static str,
    t: &'static [T16Entry],
) -> T16Entry {
    T16Entry::new(name, encoding, T16Action::Table(t))
}

/// A row of first halfwords of 32-bit instructions.
pub(super) const fn first_half_of_t32(name: &'static str, encoding: &'static str) -> T16Entry {
    T16Entry::new(name, encoding, T16Action::FirstHalfOfT32)
}

/// A row whose halfwords are rejected for reason `r`.
pub(super) const fn reject(
    name: &'static str,
    encoding: &'static str,
    r: RejectReason,
) -> T16Entry {
    T16Entry::new(name, encoding, T16Action::Reject(r))
}

/// A row whose halfwords the step engine simulates as `k` (once the rules hold).
pub(super) const fn sim(name: &'static str, encoding: &'static str, k: T16Kind) -> T16Entry {
    T16Entry::new(name, encoding, T16Action::Simulate(k))
}
