//! The T32 decoder proper: walks the tables for one halfword pair ([`classify_t32`],
//! [`decode_t32`]) and applies a matching leaf's rules — should-be bits and [`T32Check`]s.

use super::entry::{T32Action, T32Check, T32Entry, T32RegisterField};
use super::tables::T32;
use super::{ItPosition, RejectReason, T32Decoded};

/// Where an instruction ended up in the tables and what that means.
#[derive(Clone, Copy, Debug)]
pub struct T32Classification {
    /// The leaf row that matched, `None` when a table had no row for the instruction
    /// (UNDEFINED).
    pub entry: Option<&'static T32Entry>,
    /// The verdict, after the leaf's rules.
    pub decoded: T32Decoded,
}

/// Decodes the 32-bit Thumb instruction `hw1:hw2` (`hw1` at the lower address) sitting at
/// position `it` relative to an IT block.
pub fn decode_t32(hw1: u16, hw2: u16, it: ItPosition) -> T32Decoded {
    classify_t32(hw1, hw2, it).decoded
}

/// Decodes the 32-bit Thumb instruction `hw1:hw2` and says which table row decided it.
pub fn classify_t32(hw1: u16, hw2: u16, it: ItPosition) -> T32Classification {
    let word = u32::from(hw1) << 16 | u32::from(hw2);
    let mut rows = T32;
    loop {
        let Some(entry) = rows.iter().find(|e| e.matches(word)) else {
            return T32Classification {
                entry: None,
                decoded: T32Decoded::Rejected(RejectReason::Undefined),
            };
        };
        let decoded = match entry.action {
            T32Action::Table(sub) => {
                rows = sub;
                continue;
            }
            _ if !rules_hold(entry, word, it) => T32Decoded::Rejected(RejectReason::Unpredictable),
            T32Action::Reject(reason) => T32Decoded::Rejected(reason),
            T32Action::Simulate(kind) => T32Decoded::Simulate(kind),
        };
        return T32Classification {
            entry: Some(entry),
            decoded,
        };
    }
}

/// Whether the should-be bits and checks of `entry` hold for `word` at `it`.
fn rules_hold(entry: &T32Entry, word: u32, it: ItPosition) -> bool {
    word & entry.should_be_zero == 0
        && !word & entry.should_be_one == 0
        && entry.checks.iter().all(|c| check_holds(*c, word, it))
}

/// ThumbExpandImm's UNPREDICTABLE case: `imm12<11:10> == '00'`, `imm12<9:8> != '00'` and a
/// zero `imm8` (a replicated byte pattern of zero).
const fn modified_immediate_valid(word: u32) -> bool {
    let imm12 = (word >> 15) & 0x800 | (word >> 4) & 0x700 | word & 0xff;
    !(imm12 >> 10 == 0 && (imm12 >> 8) & 0b11 != 0 && imm12 & 0xff == 0)
}

/// `imm3:imm2` (hw2 14:12 and 7:6): the shift amount or the least significant bit.
const fn imm3_imm2(word: u32) -> u32 {
    (word >> 10) & 0b11100 | (word >> 6) & 0b11
}

fn check_holds(check: T32Check, word: u32, it: ItPosition) -> bool {
    let list = word & 0xffff;
    let writeback = word & (1 << 21) != 0;
    let n = T32RegisterField::N.of(word);
    let t = T32RegisterField::T.of(word);
    let d = T32RegisterField::D.of(word);
    match check {
        T32Check::NotSpOrPc(f) => !matches!(f.of(word), 13 | 15),
        T32Check::NotPc(f) => f.of(word) != 15,
        T32Check::NotSp(f) => f.of(word) != 13,
        T32Check::NotInItBlock => !it.in_it_block(),
        T32Check::OutsideOrLastInItBlock => !it.inside_not_last(),
        T32Check::LoadPcOutsideOrLastInItBlock => !(t == 15 && it.inside_not_last()),
        T32Check::ListPcOutsideOrLastInItBlock => !(list & 0x8000 != 0 && it.inside_not_last()),
        T32Check::ModifiedImmediateValid => modified_immediate_valid(word),
        T32Check::AddSubtractDestination => {
            if n == 13 {
                d != 15
            } else {
                !matches!(d, 13 | 15)
            }
        }
        T32Check::StackDestinationShiftLimited => {
            // type (hw2 5:4) LSL and imm3:imm2 at most 3.
            d != 13 || (word & 0x30 == 0 && imm3_imm2(word) <= 3)
        }
        T32Check::MoveRegisterOperands => {
            let m = T32RegisterField::M.of(word);
            if word & (1 << 20) != 0 {
                !matches!(d, 13 | 15) && !matches!(m, 13 | 15)
            } else {
                d != 15 && m != 15 && !(d == 13 && m == 13)
            }
        }
        T32Check::AtLeastTwoRegisters => list.count_ones() >= 2,
        T32Check::NotBothPcAndLr => list & 0xc000 != 0xc000,
        T32Check::WritebackBaseNotInList => !writeback || list & (1 << n) == 0,
        T32Check::WritebackBaseNotTransferred => word & (1 << 8) == 0 || n != t,
        T32Check::DualWritebackBaseNotTransferred => !writeback || (n != t && n != d),
        T32Check::DualDistinctRegisters => t != d,
        T32Check::NoWriteback => !writeback,
        T32Check::ConsistentRm => n == T32RegisterField::M.of(word),
        T32Check::DistinctDestinations => t != d,
        T32Check::ExtractFieldInWord => imm3_imm2(word) + (word & 0x1f) <= 31,
        T32Check::InsertFieldNotReversed => word & 0x1f >= imm3_imm2(word),
        T32Check::StatusMaskNotEmpty => d != 0,
    }
}
