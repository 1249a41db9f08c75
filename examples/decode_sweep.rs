//! Classifies every one of the 2^32 A32 words, every 32-bit Thumb instruction (each of the
//! 6,144 first halfwords with a 32-bit prefix times each of the 65,536 second halfwords) and
//! every one of the 65,536 T16 halfwords, and prints the count per verdict; the Thumb ones
//! outside an IT block, inside one and as its last instruction. Panics (exit status
//! non-zero) if anything panics the decoders, a total is wrong, some reason or kind is never
//! produced, or an IT block makes a verdict anything but the one outside or UNPREDICTABLE.
//! `.ci/run` runs it in release: `cargo run --release --example decode_sweep`.

#[path = "../tests/verdicts/mod.rs"]
mod verdicts;

use armv7_kprobes::decode::{
    ItPosition, RejectReason, SimKind, T16Decoded, T16Kind, T32Kind, decode_t16,
};
use std::time::Instant;
use verdicts::{
    ItCounts, KINDS, REASONS, T16_KINDS, T32_SLOTS, count_range, count_t16, count_t32,
    print_counts, print_t16_counts, print_t32_counts,
};

/// The first halfwords of the 32-bit Thumb instructions: bits 15:11 0b11101, 0b11110, 0b11111.
const T32_FIRST: std::ops::RangeInclusive<u16> = 0xe800..=0xffff;

/// Reasons no Thumb instruction gives: SWP/SWPB do not exist in Thumb (no T16 or T32
/// encoding), and Thumb's LDM/STM have no `^` form, so no Thumb load or store multiple
/// transfers the User-mode registers.
fn never_in_thumb(r: RejectReason) -> bool {
    matches!(r, RejectReason::Swap | RejectReason::UserRegisters)
}

/// Runs `count(t)` on each of `threads` threads and collects the results.
fn on_threads<C: Send>(threads: u32, count: impl Fn(u32) -> C + Sync) -> Vec<C> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let count = &count;
                s.spawn(move || count(t))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn main() {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;

    let start = Instant::now();
    let parts = on_threads(threads, |t| {
        // Interleave 2^24-word blocks so every thread gets a mix of the space.
        let blocks = (0..256u32).filter(move |b| b % threads == t);
        count_range(blocks.flat_map(|b| (b << 24)..=(b << 24 | 0x00ff_ffff)))
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

    // Every T32 pair at every IT position: the positions change verdicts (a conditional B.W
    // is UNPREDICTABLE in a block; B.W, BL, BLX, TBB/TBH and a load to PC are allowed only
    // as its last instruction), and the three decodes cost little next to the A32 sweep
    // (measured on 2 shared cores: 19–28 s against its 53–87 s; outside only, a third).
    let start = Instant::now();
    let parts = on_threads(threads, |t| {
        // Interleave the first halfwords (65,536 pairs each) the same way.
        let firsts = T32_FIRST.filter(move |h| u32::from(*h) % threads == t);
        count_t32(
            firsts.flat_map(|hw1| (0..=u16::MAX).map(move |hw2| (hw1, hw2))),
            true,
        )
    });
    let mut t32 = ItCounts::<T32_SLOTS>::default();
    for p in &parts {
        t32.add(p);
    }
    print_t32_counts("all T32 pairs", &t32);
    println!(
        "  ({threads} threads, {:.1} s)",
        start.elapsed().as_secs_f64()
    );
    let pairs = T32_FIRST.len() as u64 * 65_536;
    assert_eq!(pairs, 402_653_184);
    for (p, at) in ItPosition::ALL.iter().zip(&t32.at) {
        assert_eq!(at.iter().sum::<u64>(), pairs, "T32 total at {p:?}");
    }
    // Each position other than Outside must change some verdict.
    for p in 1..3 {
        assert!(t32.unpredictable_at[p].iter().sum::<u64>() > 0);
    }
    for (i, k) in T32Kind::ALL.iter().enumerate() {
        assert!(t32.at[0][REASONS + i] > 0, "{k:?} never decoded");
    }
    for (i, r) in RejectReason::ALL.iter().enumerate() {
        // IT is a T16 instruction: no T32 pair is one.
        let possible = !never_in_thumb(*r) && *r != RejectReason::IfThen;
        assert_eq!(t32.at[0][i] > 0, possible, "T32 {r:?}: {}", t32.at[0][i]);
    }

    let start = Instant::now();
    let t16 = count_t16(0..=u16::MAX, true);
    print_t16_counts("all T16 halfwords", &t16);
    println!("  (1 thread, {:.3} s)", start.elapsed().as_secs_f64());
    for (p, at) in ItPosition::ALL.iter().zip(&t16.at) {
        assert_eq!(at.iter().sum::<u64>(), 65_536, "T16 total at {p:?}");
    }
    for p in 1..3 {
        assert!(t16.unpredictable_at[p].iter().sum::<u64>() > 0);
    }
    for (i, k) in T16Kind::ALL.iter().enumerate() {
        assert!(t16.at[0][REASONS + i] > 0, "{k:?} never decoded");
    }
    // Exactly the 32-bit prefixes are first halves, wherever the halfword sits.
    for hw in 0..=u16::MAX {
        for p in ItPosition::ALL {
            let first = decode_t16(hw, p) == T16Decoded::FirstHalfOfT32;
            assert_eq!(first, T32_FIRST.contains(&hw), "{hw:#06x} at {p:?}");
        }
    }
    assert_eq!(t16.at[0][REASONS + T16_KINDS], T32_FIRST.len() as u64);
    // Every reason Thumb can give comes from a T32 pair or a T16 halfword (IT, CPS, SVC, BKPT
    // and UDF are T16 ones).
    for (i, r) in RejectReason::ALL.iter().enumerate() {
        let seen = t32.at[0][i] + t16.at[0][i] > 0;
        assert_eq!(seen, !never_in_thumb(*r), "Thumb {r:?}");
    }
}
