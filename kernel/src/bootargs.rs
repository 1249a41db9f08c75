//! Words the runner places in RAM before boot (QEMU `-device loader`): what to run.
//!
//! Layout at `board::BOOTARGS`: `[MAGIC, mode, inject, cpus]`, and a packed corpus at
//! [`CORPUS`] in corpus mode. Without the magic (plain
//! `qemu-system-arm -kernel`), the kernel runs its tests.

use crate::board::BOOTARGS;

/// Where the runner loads a packed instruction corpus (`--corpus`).
pub const CORPUS: usize = BOOTARGS + 0x1000;
/// Bytes available there (up to the end of the mapped RAM).
pub const CORPUS_BYTES: usize = 0x00ff_f000;

const MAGIC: u32 = 0x4b50_5242; // "KPRB"

/// What the kernel does after boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Run the in-kernel test registry and exit with its verdict.
    Tests,
    /// The demo a user meets first.
    Demo,
    /// Run the user corpus the runner loaded at [`CORPUS`].
    Corpus,
    /// The probe-cost benchmark rows counted in guest instructions (one CPU, icount).
    BenchInstructions,
    /// The benchmark rows that need every CPU (no icount: wall-clock time).
    BenchSmp,
}

/// A deliberate fault, for proving that the harness notices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inject {
    /// Nothing injected.
    None,
    /// Add a test that fails.
    FailingTest,
    /// Hang after boot (the runner's timeout must catch it).
    Hang,
}

fn word(i: usize) -> u32 {
    // SAFETY: BOOTARGS is RAM the image never uses (link.ld asserts it), mapped
    // read-write; reading a word there is always defined (zero if nothing was loaded).
    unsafe { core::ptr::read_volatile((BOOTARGS + 4 * i) as *const u32) }
}

/// The requested mode.
pub fn mode() -> Mode {
    match (word(0) == MAGIC, word(1)) {
        (true, 1) => Mode::Demo,
        (true, 2) => Mode::Corpus,
        (true, 3) => Mode::BenchInstructions,
        (true, 4) => Mode::BenchSmp,
        _ => Mode::Tests,
    }
}

/// The requested injection.
pub fn inject() -> Inject {
    match (word(0) == MAGIC, word(2)) {
        (true, 1) => Inject::FailingTest,
        (true, 2) => Inject::Hang,
        _ => Inject::None,
    }
}

/// The CPUs QEMU was given (`-smp`), so boot waits only for those; all of them when the
/// runner did not say.
pub fn cpus() -> usize {
    match (word(0) == MAGIC, word(3) as usize) {
        (true, n @ 1..=crate::smp::MAX_CORES) => n,
        _ => crate::smp::MAX_CORES,
    }
}
