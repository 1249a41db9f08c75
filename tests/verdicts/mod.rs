//! Counting the decoders' verdicts per reject reason and simulated kind, shared by the
//! sampled sweep test and the full sweep (`examples/decode_sweep.rs`): A32 words, T32
//! halfword pairs and T16 halfwords.
#![allow(dead_code)] // each user takes the part it needs

use armv7_kprobes::decode::{
    Decoded, ItPosition, RejectReason, SimKind, T16Decoded, T16Kind, T32Decoded, T32Kind, decode,
    decode_t16, decode_t32,
};
use armv7_kprobes::insn::Insn;
use std::fmt::Debug;

pub const REASONS: usize = RejectReason::ALL.len();
pub const KINDS: usize = SimKind::ALL.len();
pub const T32_KINDS: usize = T32Kind::ALL.len();
pub const T16_KINDS: usize = T16Kind::ALL.len();
/// T32 verdict slots: every reason, then every [`T32Kind`].
pub const T32_SLOTS: usize = REASONS + T32_KINDS;
/// T16 verdict slots: every reason, every [`T16Kind`], then "first half of a T32".
pub const T16_SLOTS: usize = REASONS + T16_KINDS + 1;

/// Verdict counts: every rejection reason, then every simulated kind.
pub type Counts = [u64; REASONS + KINDS];

pub fn slot(d: Decoded) -> usize {
    match d {
        Decoded::Rejected(r) => r as usize,
        Decoded::Simulate(k) => REASONS + k as usize,
    }
}

pub fn slot_t32(d: T32Decoded) -> usize {
    match d {
        T32Decoded::Rejected(r) => r as usize,
        T32Decoded::Simulate(k) => REASONS + k as usize,
    }
}

pub fn slot_t16(d: T16Decoded) -> usize {
    match d {
        T16Decoded::Rejected(r) => r as usize,
        T16Decoded::Simulate(k) => REASONS + k as usize,
        T16Decoded::FirstHalfOfT32 => REASONS + T16_KINDS,
    }
}

pub fn count_range(words: impl Iterator<Item = u32>) -> Counts {
    let mut counts = [0; REASONS + KINDS];
    for w in words {
        counts[slot(decode(Insn(w)))] += 1;
    }
    counts
}

pub fn print_counts(title: &str, counts: &Counts) {
    print_slots(title, "words", counts, SimKind::ALL.iter(), None);
}

/// Prints `counts` (reasons, then `kinds`, then the `extra` slot if named) in the A32 layout.
fn print_slots<K: Debug + 'static>(
    title: &str,
    unit: &str,
    counts: &[u64],
    kinds: impl Iterator<Item = &'static K>,
    extra: Option<&str>,
) {
    let total: u64 = counts.iter().sum();
    let rejected: u64 = counts[..REASONS].iter().sum();
    let other = extra.map_or(0, |_| counts[counts.len() - 1]);
    print!(
        "{title}: {total} {unit}, {rejected} rejected, {} simulated",
        total - rejected - other
    );
    match extra {
        Some(name) => println!(", {other} {name}"),
        None => println!(),
    }
    for (i, r) in RejectReason::ALL.iter().enumerate() {
        println!("  rejected  {:>11}  {r:?}", counts[i]);
    }
    for (i, k) in kinds.enumerate() {
        println!("  simulate  {:>11}  {k:?}", counts[REASONS + i]);
    }
    if let Some(name) = extra {
        println!("  other     {other:>11}  {name}");
    }
}

/// Thumb verdict counts at the IT positions swept, and how the IT block changes verdicts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ItCounts<const N: usize> {
    /// Per position of [`ItPosition::ALL`], per verdict slot (all zero for a position not
    /// swept).
    pub at: [[u64; N]; 3],
    /// Per position, per verdict slot *outside* an IT block: how many instructions with that
    /// verdict outside are refused as UNPREDICTABLE at the position instead.
    pub unpredictable_at: [[u64; N]; 3],
}

impl<const N: usize> Default for ItCounts<N> {
    fn default() -> Self {
        ItCounts {
            at: [[0; N]; 3],
            unpredictable_at: [[0; N]; 3],
        }
    }
}

impl<const N: usize> ItCounts<N> {
    pub fn add(&mut self, other: &Self) {
        for (mine, theirs) in self.at.iter_mut().zip(&other.at) {
            for (c, n) in mine.iter_mut().zip(theirs) {
                *c += n;
            }
        }
        for (mine, theirs) in self
            .unpredictable_at
            .iter_mut()
            .zip(&other.unpredictable_at)
        {
            for (c, n) in mine.iter_mut().zip(theirs) {
                *c += n;
            }
        }
    }

    /// Records one instruction: `outside` is its verdict outside an IT block, `at(p)` its
    /// verdict at position `p`, asked for the other positions when `all_positions`. An IT
    /// block only ever forbids (the ARM ARM's `InITBlock()` rules make an encoding
    /// UNPREDICTABLE, never valid): so a verdict inside a block is the one outside or
    /// UNPREDICTABLE, and whatever is UNPREDICTABLE as the last instruction of a block is
    /// UNPREDICTABLE before it too. Panics, naming `what`, when that does not hold.
    fn record<D: Copy + PartialEq + Debug>(
        &mut self,
        what: impl Fn() -> String,
        all_positions: bool,
        slot: impl Fn(D) -> usize,
        at: impl Fn(ItPosition) -> D,
        unpredictable: D,
    ) {
        let outside = at(ItPosition::Outside);
        let s = slot(outside);
        self.at[0][s] += 1;
        if !all_positions {
            return;
        }
        let mut changed_last = false;
        for (i, p) in [(2, ItPosition::Last), (1, ItPosition::Inside)] {
            let v = at(p);
            self.at[i][slot(v)] += 1;
            if v != outside {
                assert_eq!(
                    v,
                    unpredictable,
                    "{}: {outside:?} outside, {v:?} at {p:?}",
                    what()
                );
                self.unpredictable_at[i][s] += 1;
                changed_last |= i == 2;
            } else {
                assert!(
                    !changed_last || v == unpredictable,
                    "{}: UNPREDICTABLE last in an IT block but {v:?} inside it",
                    what()
                );
            }
        }
    }
}

pub type T32Counts = ItCounts<T32_SLOTS>;
pub type T16Counts = ItCounts<T16_SLOTS>;

/// Decodes every pair `hw1:hw2` of `pairs` outside an IT block and, when `all_positions`,
/// inside one and as its last instruction too.
pub fn count_t32(pairs: impl Iterator<Item = (u16, u16)>, all_positions: bool) -> T32Counts {
    let mut counts = T32Counts::default();
    for (hw1, hw2) in pairs {
        counts.record(
            || format!("{hw1:#06x} {hw2:#06x}"),
            all_positions,
            slot_t32,
            |p| decode_t32(hw1, hw2, p),
            T32Decoded::Rejected(RejectReason::Unpredictable),
        );
    }
    counts
}

/// [`count_t32`] for T16 halfwords.
pub fn count_t16(halfwords: impl Iterator<Item = u16>, all_positions: bool) -> T16Counts {
    let mut counts = T16Counts::default();
    for hw in halfwords {
        counts.record(
            || format!("{hw:#06x}"),
            all_positions,
            slot_t16,
            |p| decode_t16(hw, p),
            T16Decoded::Rejected(RejectReason::Unpredictable),
        );
    }
    counts
}

/// Prints the verdicts outside an IT block in the A32 layout, then for each other position
/// swept how many of each verdict outside become UNPREDICTABLE there.
fn print_it_counts<K: Debug + 'static, const N: usize>(
    title: &str,
    unit: &str,
    counts: &ItCounts<N>,
    kinds: &'static [K],
    extra: Option<&str>,
) {
    print_slots(
        &format!("{title}, outside an IT block"),
        unit,
        &counts.at[0],
        kinds.iter(),
        extra,
    );
    for (i, p) in ItPosition::ALL.iter().enumerate().skip(1) {
        let total: u64 = counts.at[i].iter().sum();
        if total == 0 {
            continue;
        }
        let changed: u64 = counts.unpredictable_at[i].iter().sum();
        let place = match p {
            ItPosition::Last => "last in an IT block",
            _ => "inside an IT block, not last",
        };
        println!("{title}, {place}: {total} {unit}, {changed} more UNPREDICTABLE:");
        for (s, n) in counts.unpredictable_at[i].iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let name = if s < REASONS {
                format!("rejected {:?}", RejectReason::ALL[s])
            } else if s - REASONS < kinds.len() {
                format!("simulate {:?}", kinds[s - REASONS])
            } else {
                extra.unwrap_or("other").to_string()
            };
            println!("  {n:>11}  {name}");
        }
    }
}

pub fn print_t32_counts(title: &str, counts: &T32Counts) {
    print_it_counts(title, "pairs", counts, &T32Kind::ALL, None);
}

pub fn print_t16_counts(title: &str, counts: &T16Counts) {
    print_it_counts(
        title,
        "halfwords",
        counts,
        &T16Kind::ALL,
        Some("FirstHalfOfT32"),
    );
}
