//! Runs the decoder over A32 words and counts the verdicts: the whole 2^32 space in the
//! ignored release sweep (`cargo test --release --test decode_sweep -- --ignored
//! decode_sweep_all_words --nocapture`, run by `.ci/run`), a sample of it in every
//! `cargo test`, where each sampled word the decoder accepts is also stepped, so an
//! overflow or a bad shift in the step engine panics in a debug build.

use armv7_kprobes::TrapFrame;
use armv7_kprobes::decode::{Decoded, RejectReason, SimKind, decode};
use armv7_kprobes::insn::Insn;
use armv7_kprobes::step::{Access, Barrier, Hint, Memory, MemoryFault, StepError, step};
use std::time::Instant;

const REASONS: usize = RejectReason::ALL.len();
const KINDS: usize = SimKind::ALL.len();

/// Verdict counts: every rejection reason, then every simulated kind.
type Counts = [u64; REASONS + KINDS];

fn slot(d: Decoded) -> usize {
    match d {
        Decoded::Rejected(r) => r as usize,
        Decoded::Simulate(k) => REASONS + k as usize,
    }
}

fn count_range(words: impl Iterator<Item = u32>) -> Counts {
    let mut counts = [0; REASONS + KINDS];
    for w in words {
        counts[slot(decode(Insn(w)))] += 1;
    }
    counts
}

fn print_counts(title: &str, counts: &Counts) {
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

#[test]
fn verdict_slots_follow_declaration_order() {
    for (i, r) in RejectReason::ALL.iter().enumerate() {
        assert_eq!(slot(Decoded::Rejected(*r)), i);
    }
    for (i, k) in SimKind::ALL.iter().enumerate() {
        assert_eq!(slot(Decoded::Simulate(*k)), REASONS + i);
    }
}

#[test]
#[ignore = "all 2^32 words: run in release, from .ci/run"]
fn decode_sweep_all_words() {
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
        assert!(counts[i] > 0, "{r:?} never decoded");
    }
}

/// Memory that answers every address (a value made from the address) and accepts every store.
struct Anywhere;

impl Memory for Anywhere {
    fn read_u8(&mut self, address: u32) -> Result<u8, MemoryFault> {
        Ok(address as u8 ^ 0x5a)
    }
    fn read_u16(&mut self, address: u32) -> Result<u16, MemoryFault> {
        Ok(address as u16 ^ 0xa55a)
    }
    fn read_u32(&mut self, address: u32) -> Result<u32, MemoryFault> {
        if address >= 0xffff_fff0 {
            return Err(MemoryFault {
                address,
                access: Access::Read,
            });
        }
        Ok(address.rotate_left(7) ^ 0x1234_5679)
    }
    fn write_u8(&mut self, _: u32, _: u8) -> Result<(), MemoryFault> {
        Ok(())
    }
    fn write_u16(&mut self, _: u32, _: u16) -> Result<(), MemoryFault> {
        Ok(())
    }
    fn write_u32(&mut self, _: u32, _: u32) -> Result<(), MemoryFault> {
        Ok(())
    }
    fn barrier(&mut self, _: Barrier) {}
    fn hint(&mut self, _: Hint) {}
}

#[test]
fn sampled_words_decode_and_step_without_panic() {
    let mut counts = [0; REASONS + KINDS];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut stepped = 0u64;
    // Every 4093rd word: about a million words spread over the whole space.
    for w in (0..=u32::MAX).step_by(4093) {
        let d = decode(Insn(w));
        counts[slot(d)] += 1;
        if let Decoded::Simulate(_) = d {
            let mut f = TrapFrame::default();
            for n in 0..16 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                f.set_reg(n, (seed >> 11) as u32);
            }
            // Flags and GE vary with the seed; ARM state, SVC mode.
            f.cpsr = (seed as u32 & 0xf80f_0000) | 0x1d3;
            let before = f;
            match step(Insn(w), 0x8000, &mut f, &mut Anywhere) {
                Ok(()) => stepped += 1,
                Err(
                    StepError::AlignmentFault { .. }
                    | StepError::UnpredictablePcWrite { .. }
                    | StepError::UnalignedPcLoad { .. }
                    | StepError::Memory(_),
                ) => assert_eq!(f, before, "{w:#010x}: a failed step changed the frame"),
                Err(e) => panic!("{w:#010x}: {e}"),
            }
        }
    }
    print_counts("sampled words", &counts);
    println!("  {stepped} stepped");
    assert!(stepped > 100_000);
}
