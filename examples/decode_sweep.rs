//! Classifies every one of the 2^32 A32 words and prints the count per verdict; panics
//! (exit status non-zero) if any word panics the decoder, the total is wrong, or some
//! reason or kind is never produced. `.ci/run` runs it in release:
//! `cargo run --release --example decode_sweep`.

#[path = "../tests/verdicts/mod.rs"]
mod verdicts;

use armv7_kprobes::decode::{RejectReason, SimKind};
use std::time::Instant;
use verdicts::{Counts, KINDS, REASONS, count_range, print_counts};

fn main() {
    let start = Instant::now();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
    let parts: Vec<Counts> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    // Interleave 2^24-word blocks so every thread gets a mix of the space.
                    let blocks = (0..256u32).filter(move |b| b % threads == t);
                    count_range(blocks.flat_map(|b| (b << 24)..=(b << 24 | 0x00ff_ffff)))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut counts = [0; REASONS + KINDS];
    for p in &parts {
        for (c, n) in counts.iter_mut().zip(p) {
            *c += n;
        }
    }
    print_counts("all A32 words", &counts);
    println!(
        "  ({threads} threads, {:.1} s)",
        start.elapsed().as_secs_f64()
    );
    assert_eq!(counts.iter().sum::<u64>(), 1 << 32);
    for (i, k) in SimKind::ALL.iter().enumerate() {
        assert!(counts[REASONS + i] > 0, "{k:?} never decoded");
    }
    for (i, r) in RejectReason::ALL.iter().enumerate() {
        // No A32 word gives a Thumb-only reason (IT).
        assert!(counts[i] > 0 || r.is_thumb_only(), "{r:?} never decoded");
    }
}
