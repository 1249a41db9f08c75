//! The T16 decoder proper: walks the tables for one halfword ([`classify_t16`],
//! [`decode_t16`]) and applies a matching leaf's rules — should-be bits and [`T16Check`]s.

use super::entry::{T16Action, T16Check, T16Entry};
use super::tables::T16;
use super::{ItPosition, RejectReason, T16Decoded};

/// Where a halfword ended up in the tables and what that means.
#[derive(Clone, Copy, Debug)]
pub struct T16Classification {
    /// The leaf row that matched, `None` when a table had no row for the halfword (UNDEFINED).
    pub entry: Option<&'static T16Entry>,
    /// The verdict, after the leaf's rules.
    pub decoded: T16Decoded,
}

/// Decodes one 16-bit Thumb halfword sitting at position `it` relative to an IT block.
pub fn decode_t16(halfword: u16, it: ItPosition) -> T16Decoded {
    classify_t16(halfword, it).decoded
}

/// Decodes one 16-bit Thumb halfword and says which table row decided it.
pub fn classify_t16(halfword: u16, it: ItPosition) -> T16Classification {
    let mut rows = T16;
    loop {
        let Some(entry) = rows.iter().find(|e| e.matches(halfword)) else {
            return T16Classification {
                entry: None,
                decoded: T16Decoded::Rejected(RejectReason::Undefined),
            };
        };
        let decoded = match entry.action {
            T16Action::Table(sub) => {
                rows = sub;
                continue;
            }
            T16Action::FirstHalfOfT32 => T16Decoded::FirstHalfOfT32,
            _ if !rules_hold(entry, halfword, it) => {
                T16Decoded::Rejected(RejectReason::Unpredictable)
            }
            T16Action::Reject(reason) => T16Decoded::Rejected(reason),
            T16Action::Simulate(kind) => T16Decoded::Simulate(kind),
        };
        return T16Classification {
            entry: Some(entry),
            decoded,
        };
    }
}

/// Whether the should-be bits and checks of `entry` hold for `halfword` at `it`.
fn rules_hold(entry: &T16Entry, halfword: u16, it: ItPosition) -> bool {
    halfword & entry.should_be_zero == 0
        && !halfword & entry.should_be_one == 0
        && entry.checks.iter().all(|c| check_holds(*c, halfword, it))
}

/// `DN:Rdn` of the special data group: bit 7 over bits 2:0.
const fn high_rdn(halfword: u16) -> u16 {
    (halfword >> 4) & 0b1000 | halfword & 0b111
}

/// Rm (6:3) of the special data group.
const fn high_rm(halfword: u16) -> u16 {
    (halfword >> 3) & 0xf
}

fn check_holds(check: T16Check, halfword: u16, it: ItPosition) -> bool {
    let list = halfword & 0xff;
    match check {
        T16Check::NotInItBlock => !it.in_it_block(),
        T16Check::OutsideOrLastInItBlock => !it.inside_not_last(),
        T16Check::PcDestinationOutsideOrLastInItBlock => {
            !(high_rdn(halfword) == 15 && it.inside_not_last())
        }
        T16Check::PopPcOutsideOrLastInItBlock => !(halfword & 0x0100 != 0 && it.inside_not_last()),
        T16Check::NotPcPlusPc => !(high_rdn(halfword) == 15 && high_rm(halfword) == 15),
        T16Check::CompareNotPc => high_rdn(halfword) != 15 && high_rm(halfword) != 15,
        T16Check::TargetNotPc => high_rm(halfword) != 15,
        T16Check::NonEmptyPushPopList => halfword & 0x01ff != 0,
        T16Check::NonEmptyList => list != 0,
        T16Check::StoreBaseLowest => {
            let n = (halfword >> 8) & 0b111;
            list & (1 << n) == 0 || list.trailing_zeros() == u32::from(n)
        }
        T16Check::CpsFlagsNotEmpty => halfword & 0b111 != 0,
        T16Check::ItConditionAllowed => {
            let firstcond = (halfword >> 4) & 0xf;
            let mask = halfword & 0xf;
            firstcond != 0b1111 && (firstcond != 0b1110 || mask.count_ones() == 1)
        }
    }
}
