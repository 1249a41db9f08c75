//! The decoder proper: walks the tables for one word ([`classify`], [`decode`]) and applies a
//! matching row's field rules — should-be bits, register rules and cross-field checks.

use super::entry::{Action, Check, Entry, REG_FIELDS, RegRule};
use super::tables::A32;
use super::{Decoded, RejectReason};
use crate::insn::Insn;

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
                if fields_allowed(entry, insn) {
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
const fn indexed_writeback(insn: Insn) -> bool {
    !insn.p() || insn.w()
}

/// Whether the should-be bits, register rules and cross-field checks of `entry` hold.
fn fields_allowed(entry: &Entry, insn: Insn) -> bool {
    let word = insn.word();
    if word & entry.should_be_zero != 0 || !word & entry.should_be_one != 0 {
        return false;
    }
    for (rule, lsb) in entry.regs.iter().zip(REG_FIELDS) {
        let pc = insn.reg_at(lsb) == 15;
        let bad = match rule {
            RegRule::NotRegister | RegRule::Any => false,
            RegRule::NotPc => pc,
            RegRule::PcWithoutWriteback => pc && indexed_writeback(insn),
        };
        if bad {
            return false;
        }
    }
    entry.checks.iter().all(|c| check_holds(*c, insn))
}

fn check_holds(check: Check, insn: Insn) -> bool {
    let n = insn.rn();
    let t = insn.rt();
    let m = insn.rm();
    let list = insn.reglist();
    match check {
        Check::WritebackBaseNotTransferred => !(indexed_writeback(insn) && n == t),
        Check::EvenPair => t & 1 == 0 && t != 14,
        Check::WritebackBaseNotInPair => !(indexed_writeback(insn) && (n == t || n == t + 1)),
        Check::OffsetNotInPair => m != t && m != t + 1,
        Check::DistinctDestinations => n != t,
        Check::NonEmptyList => list != 0,
        Check::LoadBaseNotInListWithWriteback => !(insn.w() && list & (1 << n) != 0),
        Check::StoreBaseLowestWithWriteback => {
            !(insn.w() && list & (1 << n) != 0 && list.trailing_zeros() != n)
        }
        Check::MsbNotBelowLsb => insn.msb() >= insn.imm5(),
        Check::FieldWithinWord => insn.imm5() + insn.widthm1() <= 31,
    }
}
