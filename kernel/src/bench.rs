//! The probe-cost benchmark: what a probe hit, arming a probe and a rendezvous cost,
//! counted in guest instructions (one CPU under `-icount shift=0`, where the PMU cycle
//! counter counts instructions exactly), and the 4-CPU rendezvous in QEMU wall-clock
//! nanoseconds (a second boot without icount).
//!
//! Output: a markdown table, one line per measured row (`| row | unit | n | per op |
//! over unprobed | rendezvous per op | Linux 6.1 |`, the last a reference figure). The
//! instruction boot prints the header and its rows last, the SMP boot prints only its rows, so `qemu-runner.sh --mode bench` makes
//! one table by appending the second boot's rows to the first boot's output.
//!
//! Per-call rows run the function `N` and `2N` times in the same assembly loop and take
//! the difference, so the loop's entry and the counter reads cancel exactly; the loop's
//! own three instructions per iteration are measured the same way and subtracted. What is
//! left is the `blx` and everything the call costs after it. An operation (registering,
//! a rendezvous) is one call of a closure through the same assembly, minus one call of
//! an empty closure.

use crate::events::{EVENTS, EventSymbols};
use crate::platform::PLATFORM;
use crate::probes::{KPROBES, KRETPROBES, RENDEZVOUS};
use crate::tests::kretprobes;
use crate::{kprintln, pmu, smp, trap};
use alloc::format;
use alloc::string::String;
use armv7_kprobes::TrapFrame;
use armv7_kprobes::arch::memory::DirectMemory;
use armv7_kprobes::decode::{self, Decoded};
use armv7_kprobes::glue::ExceptionFrame;
use armv7_kprobes::insn::Insn;
use armv7_kprobes::kprobe::{Kprobe, Mechanism};
use armv7_kprobes::optprobe::Variant;
use armv7_kprobes::step;
use armv7_kprobes::stop_machine::RunOn;
use armv7_kprobes::trace::events::Change;
use armv7_kprobes::trace::record::{CaptureReader, Frame};
use core::cell::Cell;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Probeable words in `bench_filler`, where the "probes registered elsewhere" go.
const FILLER_WORDS: usize = 10_240;
/// The most probes registered elsewhere in one row.
const FILLER_PROBES: usize = 10_000;

// The benchmark's probe targets, in probeable text.
// SAFETY: `bench_fn` and the Thumb `bench_thumb_fn`/`bench_thumb_wide_fn`/
// `bench_thumb_branch_fn` (`.thumb_func`: their symbols have bit 0 set, so `blx` to them
// interworks) are AAPCS functions (argument and result in r0, nothing else touched); the
// block ends in A32 state. `bench_udf` is one only while the trap handler of
// `und_round_trip` is installed: it resumes after the undefined word, then `bench_udf`
// returns with r0 unchanged; it is
// called nowhere else. `bench_filler` is never executed: its words exist to carry
// probes (it is still a well-formed function that adds 10,240 to r0).
core::arch::global_asm!(
    ".pushsection .text.bench_targets, \"ax\", %progbits",
    ".arm",
    ".p2align 2",
    ".global bench_fn",
    "bench_fn:",              // u32 bench_fn(a) = a + 1
    "    add   r0, r0, #1",   // +0: the probe site of every hit row
    "    bx    lr",
    ".global bench_udf",
    "bench_udf:",
    "    .inst 0xe7f000f0",   // udf #0: und_round_trip's handler skips it
    "    bx    lr",
    ".global bench_filler",
    "bench_filler:",
    "    .rept {filler}",
    "    add   r0, r0, #1",   // one probe site per word
    "    .endr",
    "    bx    lr",
    ".syntax unified",
    ".thumb",
    ".p2align 2",
    ".global bench_thumb_fn",
    ".type bench_thumb_fn, %function",
    ".thumb_func",
    "bench_thumb_fn:",        // u32 bench_thumb_fn(a) = a + 1, in Thumb
    "    adds  r0, r0, #1",   // +0: 16-bit, the Thumb rows' probe site
    "    bx    lr",
    ".p2align 2",
    ".global bench_thumb_wide_fn",
    ".type bench_thumb_wide_fn, %function",
    ".thumb_func",
    "bench_thumb_wide_fn:",   // the same with a 32-bit instruction
    "    add.w r0, r0, #1",   // +0: 32-bit
    "    bx    lr",
    ".p2align 2",
    ".global bench_thumb_branch_fn",
    ".type bench_thumb_branch_fn, %function",
    ".thumb_func",
    "bench_thumb_branch_fn:", // the same behind a 32-bit branch (which reads PC)
    "    b.w   1f",           // +0: 32-bit, stepped when probed
    "1:  adds  r0, r0, #1",
    "    bx    lr",
    ".arm",
    ".popsection",
    filler = const FILLER_WORDS,
);

// The measuring loops: never probed, so nothing of the measurement itself can trap.
// SAFETY: all three are AAPCS functions: they save and restore the callee-saved r4-r6
// and lr and keep the stack 8-byte aligned (four words pushed). `bench_calls(f, count)`
// calls `f(i)` for i = count..1 with `blx`, which is sound for any `f` that is itself an
// AAPCS function of one u32 argument; `bench_loop(f, count)` runs the same loop without
// the call (it never calls `f`). `bench_time(f, count, runner)` reads the PMU cycle
// counter (PMCCNTR, readable at PL1, after an ISB so it is not read early), calls
// `runner(f, count)` (one of the other two) and returns the counter difference: the
// instructions between the two reads are fixed here, not left to the compiler.
core::arch::global_asm!(
    ".pushsection .text.noprobe.bench, \"ax\", %progbits",
    ".arm",
    ".p2align 2",
    ".global bench_time",
    "bench_time:",
    "    push  {{r4, r5, r6, lr}}",
    "    mov   r4, r2", // the runner
    "    isb",
    "    mrc   p15, 0, r5, c9, c13, 0", // PMCCNTR before
    "    blx   r4",                     // runner(f, count): r0, r1 passed through
    "    isb",
    "    mrc   p15, 0, r0, c9, c13, 0", // PMCCNTR after
    "    sub   r0, r0, r5",
    "    pop   {{r4, r5, r6, pc}}",
    ".global bench_calls",
    "bench_calls:",
    "    push  {{r4, r5, r6, lr}}",
    "    mov   r4, r0", // the function
    "    movs  r5, r1", // calls left
    "    beq   2f",
    "1:  mov   r0, r5", // loop: 3 instructions + the call
    "    blx   r4",
    "    subs  r5, r5, #1",
    "    bne   1b",
    "2:  pop   {{r4, r5, r6, pc}}",
    ".global bench_loop",
    "bench_loop:",
    "    push  {{r4, r5, r6, lr}}",
    "    mov   r4, r0",
    "    movs  r5, r1",
    "    beq   2f",
    "1:  mov   r0, r5", // the same loop without the call
    "    subs  r5, r5, #1",
    "    bne   1b",
    "2:  pop   {{r4, r5, r6, pc}}",
    ".popsection",
);

type Target = unsafe extern "C" fn(u32) -> u32;

unsafe extern "C" {
    fn bench_fn(a: u32) -> u32;
    fn bench_thumb_fn(a: u32) -> u32;
    fn bench_thumb_wide_fn(a: u32) -> u32;
    fn bench_thumb_branch_fn(a: u32) -> u32;
    fn bench_udf(a: u32) -> u32;
    fn bench_filler(a: u32) -> u32;
    fn bench_calls(f: Target, count: u32);
    fn bench_loop(f: Target, count: u32);
    fn bench_time(f: Target, count: u32, runner: Runner) -> u32;
}

type Runner = unsafe extern "C" fn(Target, u32);

fn addr(f: Target) -> usize {
    f as *const () as usize
}

/// What one row measured: `total` over `count` repetitions, and the rendezvous they ran.
#[derive(Clone, Copy, Debug)]
pub struct Measurement {
    /// Counter ticks (instructions, or nanoseconds in the SMP boot) of all repetitions.
    pub total: u64,
    /// Repetitions averaged.
    pub count: u32,
    /// Rendezvous run by all repetitions together.
    pub rendezvous: u32,
}

/// How a row's figure relates to the unprobed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One call of a function: its overhead is the figure minus the unprobed call's.
    Call,
    /// One operation (registering, a rendezvous, a step): no unprobed counterpart.
    Operation,
}

/// One line of the table.
pub struct Row {
    /// What it measures, as the table prints it.
    pub name: &'static str,
    /// Call or operation.
    pub kind: Kind,
    /// Runs the measurement (leaving the registry and text as it found them).
    pub measure: fn() -> Result<Measurement, String>,
}

/// The rows counted in guest instructions, in table order. The first is the baseline of
/// the "over unprobed" column.
pub const INSTRUCTION_ROWS: &[Row] = &[
    Row {
        name: "unprobed call (blx + add + bx lr)",
        kind: Kind::Call,
        measure: unprobed,
    },
    Row {
        name: "breakpoint probe, empty pre handler",
        kind: Kind::Call,
        measure: breakpoint_empty_pre,
    },
    Row {
        name: EVENT_ROW,
        kind: Kind::Call,
        measure: event_two_registers,
    },
    Row {
        name: "optimized probe, direct execution, empty pre handler",
        kind: Kind::Call,
        measure: optimized_direct,
    },
    Row {
        name: "optimized probe, step path, empty pre and post handlers",
        kind: Kind::Call,
        measure: optimized_step,
    },
    Row {
        name: "disabled probe (registered, then disabled)",
        kind: Kind::Call,
        measure: disabled,
    },
    Row {
        name: "breakpoint hit, 1 other probe registered",
        kind: Kind::Call,
        measure: hit_with_1_other,
    },
    Row {
        name: "breakpoint hit, 100 other probes registered",
        kind: Kind::Call,
        measure: hit_with_100_others,
    },
    Row {
        name: "breakpoint hit, 10,000 other probes registered",
        kind: Kind::Call,
        measure: hit_with_10000_others,
    },
    Row {
        name: "register + arm one probe",
        kind: Kind::Operation,
        measure: register_and_arm,
    },
    Row {
        name: "register + arm one probe, 10,000 others registered",
        kind: Kind::Operation,
        measure: register_and_arm_with_10000_others,
    },
    Row {
        name: "unregister + disarm one probe",
        kind: Kind::Operation,
        measure: unregister_and_disarm,
    },
    Row {
        name: "optimize 1 probe (one batch)",
        kind: Kind::Operation,
        measure: optimize_1,
    },
    Row {
        name: "optimize 100 probes (one batch)",
        kind: Kind::Operation,
        measure: optimize_100,
    },
    Row {
        name: "optimize 1,000 probes (one batch)",
        kind: Kind::Operation,
        measure: optimize_1000,
    },
    Row {
        name: "kretprobe, empty return handler (breakpoint entry + return trampoline)",
        kind: Kind::Call,
        measure: kretprobe_breakpoint_entry,
    },
    Row {
        name: "kretprobe, empty return handler, optimized entry",
        kind: Kind::Call,
        measure: kretprobe_optimized_entry,
    },
    Row {
        name: "one rendezvous, 1 CPU",
        kind: Kind::Operation,
        measure: rendezvous_one,
    },
    // Where the breakpoint hit's instructions go.
    Row {
        name: "breakdown: UND trap round trip only (the kernel's handler skips the word)",
        kind: Kind::Call,
        measure: und_round_trip,
    },
    Row {
        name: "breakdown: breakpoint probe, no handlers",
        kind: Kind::Call,
        measure: breakpoint_no_handlers,
    },
    // Not a part of the hit any more: the decode-and-simulate path a planned step
    // (decoded once, at registration) replaces.
    Row {
        name: "comparison: step::simulate of add r0, r0, #1, which the planned step replaces (a call doing only that)",
        kind: Kind::Call,
        measure: simulate_add,
    },
    // The general registry path, which every site with more than one probe (or a
    // disabled one beside an enabled one) takes: the fast paths above must not cost more.
    Row {
        name: "general path: breakpoint, two empty pre handlers at one address",
        kind: Kind::Call,
        measure: breakpoint_two_probes,
    },
    Row {
        name: "general path: optimized direct, two empty pre handlers at one address",
        kind: Kind::Call,
        measure: optimized_two_probes,
    },
    Row {
        name: "Thumb: unprobed call (blx + adds + bx lr)",
        kind: Kind::Call,
        measure: thumb_unprobed,
    },
    Row {
        name: "Thumb: breakpoint probe on a 16-bit instruction (udf), empty pre handler",
        kind: Kind::Call,
        measure: thumb_breakpoint_empty_pre,
    },
    Row {
        name: "Thumb: breakpoint probe on a 32-bit instruction (udf.w), empty pre handler",
        kind: Kind::Call,
        measure: thumb_wide_breakpoint_empty_pre,
    },
    Row {
        name: "Thumb: optimized probe on a 32-bit instruction (b.w, run in the slot), empty pre handler",
        kind: Kind::Call,
        measure: thumb_optimized_direct,
    },
    Row {
        name: "Thumb: optimized probe on a 32-bit branch (b.w over b.w, stepped), empty pre handler",
        kind: Kind::Call,
        measure: thumb_optimized_step,
    },
];

/// The rows that need every CPU, measured without icount in QEMU wall-clock nanoseconds.
pub const SMP_ROWS: &[Row] = &[Row {
    name: "one rendezvous, 4 CPUs (second boot: -smp 4, no icount)",
    kind: Kind::Operation,
    measure: rendezvous_all,
}];

/// Calls per half of a per-call measurement (the row runs `3 * HIT_CALLS` calls).
pub const HIT_CALLS: u32 = 1000;
/// Repetitions averaged for an operation.
const OP_REPS: u32 = 100;
/// Repetitions averaged for a wall-clock row (which varies run to run).
const WALL_REPS: u32 = 1000;

fn err(e: impl core::fmt::Display) -> String {
    format!("{e}")
}

/// Counter ticks of `runner(f, count)`, the counter reads placed by `bench_time`.
fn timed(f: Target, count: u32, runner: Runner) -> u64 {
    // SAFETY: bench_time calls `runner`, bench_calls or bench_loop, which call only `f`:
    // an AAPCS function of one argument (every `Target` here is one of those declared
    // above, `simulate_once` or `run_op`).
    u64::from(unsafe { bench_time(f, count, runner) })
}

/// The cost of `n` iterations of `runner`'s loop: `2n` minus `n` iterations, so the
/// entry and the counter reads cancel exactly.
fn iterations(f: Target, n: u32, runner: Runner) -> u64 {
    timed(f, 2 * n, runner).saturating_sub(timed(f, n, runner))
}

/// Per call of `f` (the `blx` and everything after it), the loop's own instructions
/// subtracted. Runs `3n` calls.
pub fn calls(f: Target, n: u32) -> Measurement {
    let c0 = RENDEZVOUS.completed();
    let with = iterations(f, n, bench_calls);
    let rendezvous = RENDEZVOUS.completed().wrapping_sub(c0);
    Measurement {
        total: with.saturating_sub(iterations(f, n, bench_loop)),
        count: n,
        rendezvous,
    }
}

fn empty_pre(_: &Kprobe, _: &mut TrapFrame) {}

static HIT: Kprobe = Kprobe::new(Some(empty_pre), None, 0);
static BARE: Kprobe = Kprobe::new(None, None, 0);
static FILLER: [Kprobe; FILLER_PROBES] = [const { Kprobe::new(None, None, 0) }; FILLER_PROBES];

/// The i-th probe site of `bench_filler`.
pub fn filler_site(i: usize) -> usize {
    assert!(i < FILLER_WORDS);
    addr(bench_filler) + 4 * i
}

fn check_result(f: Target) -> Result<(), String> {
    // SAFETY: every `Target` here is an AAPCS function of one argument.
    let r = unsafe { f(41) };
    if r == 42 {
        Ok(())
    } else {
        Err(format!("the probed function returned {r} for 41"))
    }
}

/// Registers `probe` on `bench_fn`, lets `prepare` turn it into the mechanism the row
/// measures (nothing to do for a breakpoint), measures calls, checks the result and the
/// hit count, unregisters.
fn probed_calls(
    probe: &'static Kprobe,
    prepare: impl FnOnce(&'static Kprobe) -> Result<(), String>,
) -> Result<Measurement, String> {
    probed_calls_of(bench_fn, probe, prepare)
}

/// [`probed_calls`] on `f` (a Thumb function's address has bit 0 set: a Thumb probe).
fn probed_calls_of(
    f: Target,
    probe: &'static Kprobe,
    prepare: impl FnOnce(&'static Kprobe) -> Result<(), String>,
) -> Result<Measurement, String> {
    KPROBES.register(probe, addr(f)).map_err(err)?;
    let measured = prepare(probe).map(|()| calls(f, HIT_CALLS));
    let checked = check_result(f);
    let hits = probe.hits();
    KPROBES.unregister(probe).map_err(err)?;
    let m = measured?;
    checked?;
    // `calls` makes 3n calls (n, then 2n; its loop-only half makes none), check_result one.
    let want = 3 * u64::from(HIT_CALLS) + 1;
    if hits != want {
        return Err(format!("the probe counted {hits} hits, expected {want}"));
    }
    Ok(m)
}

/// A breakpoint probe needs nothing after registration.
fn breakpoint(_: &'static Kprobe) -> Result<(), String> {
    Ok(())
}

fn unprobed() -> Result<Measurement, String> {
    Ok(calls(bench_fn, HIT_CALLS))
}

fn breakpoint_empty_pre() -> Result<Measurement, String> {
    probed_calls(&HIT, breakpoint)
}

fn breakpoint_no_handlers() -> Result<Measurement, String> {
    probed_calls(&BARE, breakpoint)
}

fn thumb_unprobed() -> Result<Measurement, String> {
    Ok(calls(bench_thumb_fn, HIT_CALLS))
}

fn thumb_breakpoint_empty_pre() -> Result<Measurement, String> {
    probed_calls_of(bench_thumb_fn, &HIT, breakpoint)
}

fn thumb_wide_breakpoint_empty_pre() -> Result<Measurement, String> {
    probed_calls_of(bench_thumb_wide_fn, &HIT, breakpoint)
}

fn thumb_optimized_direct() -> Result<Measurement, String> {
    probed_calls_of(bench_thumb_wide_fn, &HIT, |p| {
        optimize_as(p, Variant::Direct)
    })
}

fn thumb_optimized_step() -> Result<Measurement, String> {
    probed_calls_of(bench_thumb_branch_fn, &HIT, |p| {
        optimize_as(p, Variant::StepOnly)
    })
}

/// The probe-event row: the figure is its cost over [`BREAKPOINT_ROW`].
const EVENT_ROW: &str = "probe event, two register fetch args (%r0, %r1), breakpoint probe";
/// The bare probe the event row is compared with.
const BREAKPOINT_ROW: &str = "breakpoint probe, empty pre handler";
/// The most the event may add over the bare probe (issue 17).
const EVENT_TARGET: i64 = 40;

/// An event defined through the text interface on `bench_fn`, recording `r0` and `r1`
/// on every call; then drained: every hit is a record (none dropped), the last one the
/// checking call's `r0` (41).
fn event_two_registers() -> Result<Measurement, String> {
    let change = EVENTS
        .define(
            "p:bench_event bench_fn %r0 %r1",
            &KPROBES,
            &KRETPROBES,
            &EventSymbols,
        )
        .map_err(err)?;
    let Change::Defined { id } = change else {
        return Err(format!("defining the event did {change:?}"));
    };
    let measured = calls(bench_fn, HIT_CALLS);
    let checked = check_result(bench_fn);
    let hits = EVENTS.hits(id).map_err(err)?.unwrap_or(0);
    let mut capture = alloc::vec::Vec::new();
    let drained = EVENTS.drain(&mut |b: &[u8]| capture.extend_from_slice(b));
    EVENTS
        .define("-:bench_event", &KPROBES, &KRETPROBES, &EventSymbols)
        .map_err(err)?;
    let m = measured;
    checked?;
    let report = drained.map_err(err)?;
    let want = 3 * u64::from(HIT_CALLS) + 1;
    if (hits, report.records, report.dropped) != (want, want, 0) {
        return Err(format!(
            "{hits} hits, {} records and {} dropped, expected {want}, {want} and 0",
            report.records, report.dropped
        ));
    }
    let mut last = None;
    for frame in CaptureReader::new(&capture) {
        if let Frame::Record(r) = frame.map_err(err)?.1 {
            last = Some(r.values[0]);
        }
    }
    if last != Some(41) {
        return Err(format!("the last record's r0 is {last:?}, expected 41"));
    }
    Ok(m)
}

fn disabled() -> Result<Measurement, String> {
    KPROBES.register(&HIT, addr(bench_fn)).map_err(err)?;
    KPROBES.disable(&HIT).map_err(err)?;
    let m = calls(bench_fn, HIT_CALLS);
    let hits = HIT.hits();
    KPROBES.unregister(&HIT).map_err(err)?;
    if hits != 0 {
        return Err(format!("a disabled probe counted {hits} hits"));
    }
    Ok(m)
}

/// Registers the return probe [`kretprobes::BENCH`] (no entry handler, an empty return
/// handler) on `bench_fn`, optimizes its entry probe when `optimize` says so, and
/// measures calls: entry hit, trampoline and return path per call.
fn kretprobe_calls(optimize: bool) -> Result<Measurement, String> {
    let probe = &kretprobes::BENCH;
    KRETPROBES
        .register(&KPROBES, probe, addr(bench_fn))
        .map_err(err)?;
    let prepared = if optimize {
        KPROBES.optimize_pending().map_err(err).and_then(|r| {
            if r.optimized == 1 {
                Ok(())
            } else {
                Err(format!("the entry probe was not optimized: {r:?}"))
            }
        })
    } else {
        Ok(())
    };
    let measured = prepared.map(|()| calls(bench_fn, HIT_CALLS));
    let checked = check_result(bench_fn);
    let (hits, missed) = (probe.hits(), probe.missed());
    KRETPROBES.unregister(&KPROBES, probe).map_err(err)?;
    let m = measured?;
    checked?;
    let want = 3 * u64::from(HIT_CALLS) + 1;
    if (hits, missed) != (want, 0) {
        return Err(format!(
            "the return probe followed {hits} calls and missed {missed}, expected {want} and 0"
        ));
    }
    Ok(m)
}

fn kretprobe_breakpoint_entry() -> Result<Measurement, String> {
    kretprobe_calls(false)
}

fn kretprobe_optimized_entry() -> Result<Measurement, String> {
    kretprobe_calls(true)
}

/// Runs `measure` with `others` probes registered on `bench_filler` (the measured probe
/// then goes into the fuller registry last, as a late registration would), and removes
/// them again.
pub fn with_others(
    others: usize,
    measure: impl FnOnce() -> Result<Measurement, String>,
) -> Result<Measurement, String> {
    let mut registered = 0;
    let mut result = Ok(());
    for (i, p) in FILLER[..others].iter().enumerate() {
        if let Err(e) = KPROBES.register(p, filler_site(i)) {
            result = Err(format!("filler probe {i}: {e}"));
            break;
        }
        registered += 1;
    }
    let m = result.and_then(|()| measure());
    for p in &FILLER[..registered] {
        KPROBES.unregister(p).map_err(err)?;
    }
    m
}

fn hit_with_others(others: usize) -> Result<Measurement, String> {
    with_others(others, || probed_calls(&HIT, breakpoint))
}

fn hit_with_1_other() -> Result<Measurement, String> {
    hit_with_others(1)
}

fn hit_with_100_others() -> Result<Measurement, String> {
    hit_with_others(100)
}

fn hit_with_10000_others() -> Result<Measurement, String> {
    hit_with_others(FILLER_PROBES)
}

/// The operation `run_op` calls: the address of a `&dyn Fn()` on `op_ticks`'s stack, or 0.
static CURRENT_OP: AtomicUsize = AtomicUsize::new(0);

/// Runs the current operation: a `Target`, so `bench_time` can place the counter reads.
extern "C" fn run_op(a: u32) -> u32 {
    let p = CURRENT_OP.load(Ordering::Acquire) as *const &dyn Fn();
    // SAFETY: `op_ticks` stores the address of a live `&dyn Fn()` on its own stack for
    // exactly the duration of the `timed` call that reaches here (one CPU, no reentry).
    if let Some(op) = unsafe { p.as_ref() } {
        op();
    }
    a
}

/// Counter ticks of one call of `op`, through `run_op` and `bench_time`: the same
/// instructions around it whatever `op` is.
fn op_ticks(op: &dyn Fn()) -> u64 {
    CURRENT_OP.store(&op as *const &dyn Fn() as usize, Ordering::Release);
    let t = timed(run_op, 1, bench_calls);
    CURRENT_OP.store(0, Ordering::Release);
    t
}

/// `reps` rounds of `setup`, then `op` measured, then `teardown`. The figure is one call
/// of `op` minus one call of an empty operation.
fn operation(
    reps: u32,
    setup: impl Fn() -> Result<(), String>,
    op: impl Fn() -> Result<(), String>,
    teardown: impl Fn() -> Result<(), String>,
) -> Result<Measurement, String> {
    let mut m = Measurement {
        total: 0,
        count: reps,
        rendezvous: 0,
    };
    // The least of several: a wall-clock read can be stretched by QEMU switching vCPUs
    // (under icount they are all equal).
    let empty = (0..10).map(|_| op_ticks(&|| {})).min().unwrap_or(0);
    for _ in 0..reps {
        setup()?;
        let c0 = RENDEZVOUS.completed();
        let error = Cell::new(None);
        let t = op_ticks(&|| {
            if let Err(e) = op() {
                error.set(Some(e));
            }
        });
        m.rendezvous += RENDEZVOUS.completed().wrapping_sub(c0);
        if let Some(e) = error.into_inner() {
            return Err(e);
        }
        m.total += t.saturating_sub(empty);
        teardown()?;
    }
    Ok(m)
}

fn ok() -> Result<(), String> {
    Ok(())
}

fn register_and_arm() -> Result<Measurement, String> {
    operation(
        OP_REPS,
        ok,
        || KPROBES.register(&BARE, addr(bench_fn)).map_err(err),
        || KPROBES.unregister(&BARE).map_err(err),
    )
}

fn register_and_arm_with_10000_others() -> Result<Measurement, String> {
    with_others(FILLER_PROBES, register_and_arm)
}

/// Optimizes the registered probe; `variant` is the trampoline it must get.
fn optimize_as(probe: &'static Kprobe, variant: Variant) -> Result<(), String> {
    let report = KPROBES.optimize_pending().map_err(err)?;
    let m = KPROBES.mechanism_of(probe).map_err(err)?;
    if report.optimized != 1 || m != Mechanism::Optimized(variant) {
        return Err(format!("not optimized: {report:?}, {m}"));
    }
    Ok(())
}

fn optimized_direct() -> Result<Measurement, String> {
    probed_calls(&HIT, |p| optimize_as(p, Variant::Direct))
}

static HIT_POST: Kprobe = Kprobe::new(Some(empty_pre), Some(empty_pre), 0);

/// A second probe at `bench_fn`: the site's list has two entries, so hits take the
/// general path.
static SECOND: Kprobe = Kprobe::new(Some(empty_pre), None, 1);

/// [`probed_calls`] of [`HIT`] with [`SECOND`] registered first at the same address;
/// both count every call.
fn two_probes(
    prepare: impl FnOnce(&'static Kprobe) -> Result<(), String>,
) -> Result<Measurement, String> {
    KPROBES.register(&SECOND, addr(bench_fn)).map_err(err)?;
    let m = probed_calls(&HIT, prepare);
    let hits = SECOND.hits();
    KPROBES.unregister(&SECOND).map_err(err)?;
    let m = m?;
    let want = 3 * u64::from(HIT_CALLS) + 1;
    if hits != want {
        return Err(format!(
            "the first probe counted {hits} hits, expected {want}"
        ));
    }
    Ok(m)
}

fn breakpoint_two_probes() -> Result<Measurement, String> {
    two_probes(breakpoint)
}

fn optimized_two_probes() -> Result<Measurement, String> {
    // The site was a candidate since SECOND's registration: one batch optimizes it.
    two_probes(|p| optimize_as(p, Variant::Direct))
}

fn optimized_step() -> Result<Measurement, String> {
    // A post handler makes the trampoline hand the instruction to the step.
    probed_calls(&HIT_POST, |p| optimize_as(p, Variant::Direct))
}

/// One batch of `n` candidates on filler words, measured once (under icount every run
/// is the same); the rendezvous column is the batch's rendezvous count.
fn optimize_batch(n: usize) -> Result<Measurement, String> {
    operation(
        1,
        || {
            for (i, p) in FILLER[..n].iter().enumerate() {
                KPROBES.register(p, filler_site(i)).map_err(err)?;
            }
            Ok(())
        },
        || {
            let r = KPROBES.optimize_pending().map_err(err)?;
            if r.optimized != n {
                return Err(format!("optimized {} of {n}", r.optimized));
            }
            Ok(())
        },
        || {
            for p in &FILLER[..n] {
                KPROBES.unregister(p).map_err(err)?;
            }
            Ok(())
        },
    )
}

fn optimize_1() -> Result<Measurement, String> {
    optimize_batch(1)
}

fn optimize_100() -> Result<Measurement, String> {
    optimize_batch(100)
}

fn optimize_1000() -> Result<Measurement, String> {
    optimize_batch(1000)
}

fn unregister_and_disarm() -> Result<Measurement, String> {
    operation(
        OP_REPS,
        || KPROBES.register(&BARE, addr(bench_fn)).map_err(err),
        || KPROBES.unregister(&BARE).map_err(err),
        ok,
    )
}

fn empty_rendezvous() -> Result<(), String> {
    RENDEZVOUS
        .run(&PLATFORM, RunOn::OneCpu(smp::cpu_id()), &|_| {})
        .map_err(err)
}

fn rendezvous_one() -> Result<Measurement, String> {
    operation(OP_REPS, ok, empty_rendezvous, ok)
}

fn rendezvous_all() -> Result<Measurement, String> {
    let online = smp::online_mask().count_ones();
    if online != 4 {
        return Err(format!("{online} CPUs online, this row needs 4"));
    }
    // Untimed first: QEMU translates the rendezvous code on each vCPU at its first run,
    // which would otherwise dominate the mean.
    for _ in 0..10 {
        empty_rendezvous()?;
    }
    operation(WALL_REPS, ok, empty_rendezvous, ok)
}

/// The kernel's whole undefined-instruction handling during `und_round_trip`: skip the
/// benchmark's `udf`, hand anything else to the normal handling.
fn skip_bench_udf(entry: &mut ExceptionFrame) {
    if entry.frame.pc as usize != addr(bench_udf) {
        return trap::registry_first(entry);
    }
    entry.frame.pc += 4;
}

fn und_round_trip() -> Result<Measurement, String> {
    trap::set_undefined_handler(Some(skip_bench_udf));
    let m = calls(bench_udf, HIT_CALLS);
    trap::set_undefined_handler(None);
    Ok(m)
}

/// What `simulate_once` steps: the probe site's instruction, decoded, and a frame.
struct SimulateInput {
    kind: decode::SimKind,
    insn: Insn,
    at: u32,
    frame: TrapFrame,
    failed: bool,
}

struct SimulateCell(core::cell::UnsafeCell<Option<SimulateInput>>);

// SAFETY: only the benchmark touches it, on core 0 alone (the instruction boot has one
// CPU), and never from two places at once: `simulate_add` fills it before the measured
// calls and reads it after them.
unsafe impl Sync for SimulateCell {}

static SIMULATE: SimulateCell = SimulateCell(core::cell::UnsafeCell::new(None));

/// Steps `add r0, r0, #1` once over the prepared frame, as a probe hit would.
extern "C" fn simulate_once(a: u32) -> u32 {
    // SAFETY: see SimulateCell's Sync impl: no other reference exists during the calls.
    let Some(s) = (unsafe { &mut *SIMULATE.0.get() }) else {
        return a;
    };
    s.frame.pc = s.at;
    if step::simulate(s.kind, s.insn, s.at, &mut s.frame, &mut DirectMemory).is_err() {
        s.failed = true;
    }
    a
}

fn simulate_add() -> Result<Measurement, String> {
    let at = addr(bench_fn);
    // SAFETY: bench_fn is kernel text, mapped readable.
    let insn = Insn(unsafe { core::ptr::read_volatile(at as *const u32) });
    let Decoded::Simulate(kind) = decode::decode(insn) else {
        return Err(format!("{:#010x} does not decode as simulated", insn.0));
    };
    let frame = TrapFrame {
        pc: at as u32,
        cpsr: 0x1f, // SYS mode, flags clear: `al` passes
        ..TrapFrame::default()
    };
    let input = SimulateInput {
        kind,
        insn,
        at: at as u32,
        frame,
        failed: false,
    };
    // SAFETY: see SimulateCell's Sync impl.
    unsafe { *SIMULATE.0.get() = Some(input) };
    let m = calls(simulate_once, HIT_CALLS);
    // SAFETY: the calls are over.
    let Some(done) = (unsafe { (*SIMULATE.0.get()).take() }) else {
        return Err(String::from("the simulation input vanished"));
    };
    if done.failed || done.frame.r[0] != 3 * HIT_CALLS {
        return Err(format!(
            "simulated add gave r0 = {} after {} steps",
            done.frame.r[0],
            3 * HIT_CALLS
        ));
    }
    Ok(m)
}

/// `value / count`: an integer when it divides, otherwise with two decimals.
fn per_op(value: i64, count: u32) -> String {
    let count = i64::from(count);
    if value % count == 0 {
        return format!("{}", value / count);
    }
    let hundredths = (value * 100 + value.signum() * count / 2) / count;
    let sign = if hundredths < 0 { "-" } else { "" };
    let h = hundredths.unsigned_abs();
    format!("{sign}{}.{:02}", h / 100, h % 100)
}

/// Linux 6.1's figure for the same row, where it has one: Debian's 6.1 armmp kernel on the
/// same QEMU `virt` Cortex-A15 under `-icount shift=0`, a module whose kprobe/kretprobe
/// handlers are empty, guest instructions per call over the unprobed call (or per
/// operation), measured once with `../shared/linux-anchor/` and agreeing to the
/// instruction with a gdb single-step count (method: docs/performance.md). Reference
/// figures, not measurements of this boot.
fn linux_6_1(row: &str) -> &'static str {
    match row {
        "unprobed call (blx + add + bx lr)" | "disabled probe (registered, then disabled)" => "+0",
        "breakpoint probe, empty pre handler"
        | "breakpoint hit, 1 other probe registered"
        | "breakpoint hit, 100 other probes registered"
        | "breakpoint hit, 10,000 other probes registered" => "+364",
        "optimized probe, direct execution, empty pre handler" => "+89",
        // Linux keeps a probe with a post handler a breakpoint.
        "optimized probe, step path, empty pre and post handlers" => "+407",
        "register + arm one probe" => "~82000",
        "kretprobe, empty return handler (breakpoint entry + return trampoline)" => "+577",
        "kretprobe, empty return handler, optimized entry" => "+302",
        "breakdown: UND trap round trip only (the kernel's handler skips the word)" => "+74",
        "breakdown: breakpoint probe, no handlers" => "+351",
        _ => "-",
    }
}

fn print_row(row: &Row, unit: &str, m: &Measurement, baseline: Option<&Measurement>) {
    let over = match (row.kind, baseline) {
        (Kind::Call, Some(b)) => {
            // Both averaged over the same count in every call row.
            let over = m.total as i64 * i64::from(b.count) - b.total as i64 * i64::from(m.count);
            let sign = if over < 0 { "" } else { "+" };
            format!("{sign}{}", per_op(over, m.count * b.count))
        }
        _ => String::from("-"),
    };
    kprintln!(
        "| {} | {} | {} | {} | {} | {} | {} |",
        row.name,
        unit,
        m.count,
        per_op(m.total as i64, m.count),
        over,
        per_op(m.rendezvous as i64, m.count),
        linux_6_1(row.name)
    );
}

/// The loop of `bench_loop` is three instructions per iteration: if the counter does not
/// say so, it is not counting instructions (no `-icount shift=0`).
fn check_clock() -> Result<(), String> {
    let n = HIT_CALLS;
    let ticks = iterations(bench_fn, n, bench_loop);
    if ticks == 3 * u64::from(n) {
        Ok(())
    } else {
        Err(format!(
            "{n} iterations of a 3-instruction loop counted {ticks}: the cycle counter is \
             not counting instructions (run QEMU with -icount shift=0)"
        ))
    }
}

/// Measures every row of `rows`, in order.
fn measure_all(
    rows: &'static [Row],
) -> Result<alloc::vec::Vec<(&'static Row, Measurement)>, String> {
    rows.iter()
        .map(|row| {
            (row.measure)()
                .map(|m| (row, m))
                .map_err(|e| format!("row \"{}\": {e}", row.name))
        })
        .collect()
}

/// Prints the measured rows; the first is the "over unprobed" baseline when
/// `with_baseline`.
fn print_all(measured: &[(&'static Row, Measurement)], unit: &str, with_baseline: bool) {
    let baseline = measured.first().filter(|_| with_baseline).map(|(_, m)| m);
    for (row, m) in measured {
        print_row(row, unit, m, baseline);
    }
}

/// The probe event's cost over the bare probe it runs on, against the target.
fn print_event_cost(measured: &[(&'static Row, Measurement)]) {
    let find = |name: &str| {
        measured
            .iter()
            .find(|(r, _)| r.name == name)
            .map(|(_, m)| *m)
    };
    if let (Some(event), Some(bare)) = (find(EVENT_ROW), find(BREAKPOINT_ROW)) {
        let over =
            event.total as i64 * i64::from(bare.count) - bare.total as i64 * i64::from(event.count);
        kprintln!(
            "bench: a probe event with two register fetch args costs +{} instructions over the \
             same breakpoint probe with an empty pre handler (issue 17's target: at most +{EVENT_TARGET})",
            per_op(over, event.count * bare.count)
        );
    }
}

/// The instruction boot: one CPU under icount; prints the table header and its rows.
pub fn run_instructions() -> Result<(), String> {
    let online = smp::online_mask().count_ones();
    if online != 1 {
        return Err(format!(
            "{online} CPUs online: the instruction rows run on exactly one (-smp 1)"
        ));
    }
    pmu::start_cycle_counter();
    check_clock()?;
    // Measured first, printed after the notes: the table must end the boot's output
    // (the SMP boot's rows are appended to it).
    let measured = measure_all(INSTRUCTION_ROWS)?;
    print_event_cost(&measured);
    kprintln!(
        "bench: clock: PMU cycle counter under -icount shift=0, checked to count one per \
         guest instruction"
    );
    kprintln!(
        "bench: per op = the {HIT_CALLS}-call average of one call (from blx to return), or \
         of one operation ({OP_REPS} repetitions)"
    );
    kprintln!();
    kprintln!("| row | unit | n | per op | over unprobed | rendezvous per op | Linux 6.1 |");
    kprintln!("|---|---|---:|---:|---:|---:|---:|");
    print_all(&measured, "insn", true);
    Ok(())
}

/// The SMP boot: every CPU, no icount; prints only its rows (appended to the table).
pub fn run_smp() -> Result<(), String> {
    pmu::start_cycle_counter();
    print_all(&measure_all(SMP_ROWS)?, "ns wall", false);
    kprintln!();
    kprintln!(
        "bench: \"ns wall\" rows come from a second boot with 4 CPUs and no icount: QEMU \
         wall-clock nanoseconds on this host under round-robin TCG (they vary run to run), \
         not instructions"
    );
    Ok(())
}
