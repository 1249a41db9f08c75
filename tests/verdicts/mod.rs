//! Counting the decoder's verdicts per reject reason and simulated kind, shared by the
//! sampled sweep test and the full 2^32 sweep (`examples/decode_sweep.rs`).
#![allow(dead_code)] // each user takes the part it needs

use armv7_kprobes::decode::{Decoded, RejectReason, SimKind, decode};
use armv7_kprobes::insn::Insn;

pub const REASONS: usize = RejectReason::ALL.len();
pub const KINDS: usize = SimKind::ALL.len();

/// Verdict counts: every rejection reason, then every simulated kind.
pub type Counts = [u64; REASONS + KINDS];

pub fn slot(d: Decoded) -> usize {
    match d {
        Decoded::Rejected(r) => r as usize,
        Decoded::Simulate(k) => REASONS + k as usize,
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
    let total: u64 = counts.iter().sum();
    let rejected: u64 = counts[..REASONS].iter().sum();
    println!(
        "{title}: {total} words, {rejected} rejected, {} simulated",
        total - rejected
    );
    for (i, r) in RejectReason::ALL.iter().enumerate() {
        println!("  rejected  {:>11}  {r:?}", counts[i]);
    }
    for (i, k) in SimKind::ALL.iter().enumerate() {
        println!("  simulate  {:>11}  {k:?}", counts[REASONS + i]);
    }
}
