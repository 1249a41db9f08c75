//! Words the runner places in RAM before boot (QEMU `-device loader`): what to run.
//!
//! Layout at `board::BOOTARGS`: `[MAGIC, mode, inject, cpus, filter length, rounds,
//! non-broadcast, capture path length, event definitions length]`, the test
//! filter's bytes at [`FILTER`] (`--only`), the host path a probe-event capture goes to
//! at [`CAPTURE_PATH`] (demo and events modes), and a packed corpus (corpus mode) or the
//! event definitions' text (events mode) at [`CORPUS`]. Without the magic (plain
//! `qemu-system-arm -kernel`), the kernel runs its tests.

use crate::board::BOOTARGS;

/// Where the runner loads a packed instruction corpus (`--corpus`).
pub const CORPUS: usize = BOOTARGS + 0x1000;
/// Bytes available there (up to the end of the mapped RAM).
pub const CORPUS_BYTES: usize = 0x00ff_f000;
/// Where the runner puts the test filter's bytes (`--only SUBSTRING`).
const FILTER: usize = BOOTARGS + 0x40;
/// The longest filter the runner passes.
pub const FILTER_MAX: usize = 64;
/// Where the runner puts the capture's host path (`--capture`).
const CAPTURE_PATH: usize = BOOTARGS + 0x80;
/// The longest capture path the runner passes.
pub const CAPTURE_PATH_MAX: usize = 128;
const _: () =
    assert!(FILTER + FILTER_MAX <= CAPTURE_PATH && CAPTURE_PATH + CAPTURE_PATH_MAX <= CORPUS);

/// The first word of the area when the runner wrote it (also read by the park loop).
pub const MAGIC: u32 = 0x4b50_5242; // "KPRB"

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
    /// Define the probe events the runner loaded at [`CORPUS`], run a workload on every
    /// core and write the captures to [`capture_path`].
    Events,
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
        (true, 5) => Mode::Events,
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
        (true, n @ 1..=crate::cpu::MAX_CORES) => n,
        _ => crate::cpu::MAX_CORES,
    }
}

/// The test filter (`--only SUBSTRING`): only tests whose name contains it run. `None`
/// when the runner gave none (or a filter that is not ASCII text of at most
/// [`FILTER_MAX`] bytes, which the runner refuses to pass).
pub fn filter() -> Option<&'static str> {
    let len = match (word(0) == MAGIC, word(4) as usize) {
        (true, n @ 1..=FILTER_MAX) => n,
        _ => return None,
    };
    text(FILTER, len).filter(|s| s.is_ascii())
}

/// `len` bytes at `at` in the boot-argument area as text, if they are UTF-8.
fn text(at: usize, len: usize) -> Option<&'static str> {
    // SAFETY: the callers' ranges lie in the boot-argument area (FILTER, CAPTURE_PATH:
    // bounded by their maxima below CORPUS; CORPUS: bounded by CORPUS_BYTES): RAM the
    // image never uses (link.ld asserts it), mapped for the kernel's lifetime, written
    // only by QEMU's loader before boot and never by the kernel, so a shared 'static
    // view of those bytes is sound.
    let bytes = unsafe { core::slice::from_raw_parts(at as *const u8, len) };
    core::str::from_utf8(bytes).ok()
}

/// The host path the runner wants the probe-event capture written to (`--capture`,
/// through semihosting), if it gave one.
pub fn capture_path() -> Option<&'static str> {
    match (word(0) == MAGIC, word(7) as usize) {
        (true, n @ 1..=CAPTURE_PATH_MAX) => text(CAPTURE_PATH, n),
        _ => None,
    }
}

/// The event definitions of the events mode (`--events FILE`: one per line).
pub fn event_definitions() -> Option<&'static str> {
    match (word(0) == MAGIC, word(8) as usize) {
        (true, n @ 1..=CORPUS_BYTES) => text(CORPUS, n),
        _ => None,
    }
}

/// Whether the runner asked for the per-CPU cache-maintenance path (`--non-broadcast`:
/// the kernel's cache operations then report maintenance as not broadcast).
pub fn non_broadcast() -> bool {
    word(0) == MAGIC && word(6) == 1
}

/// The rounds a churn or stress test runs (`--rounds N`): `default` unless the runner
/// asked for another number (e.g. fewer, for boots under multi-threaded TCG).
pub fn rounds(default: u32) -> u32 {
    match (word(0) == MAGIC, word(5)) {
        (true, n @ 1..) => n,
        _ => default,
    }
}
