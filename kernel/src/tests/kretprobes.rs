//! Return probes on the real machine: arguments and results, a Thumb caller, recursion
//! 50 deep, a tail call, pool exhaustion, 4 cores at once, and unregistering while other
//! cores are inside the probed function.
//!
//! The probed functions are assembly, so their first instruction (`push {r4, lr}`, the
//! entry breakpoint's site) and their frames are exactly what the tests assume.

use crate::platform::PLATFORM;
use crate::probes::{KPROBES, KRETPROBES};
use crate::testing::TestResult;
use crate::tests::kprobes::KernelSymbols;
use crate::{ensure, smp};
use alloc::format;
use alloc::vec::Vec;
use armv7_kprobes::TrapFrame;
use armv7_kprobes::kprobe::{KprobeError, Mechanism, SymbolLookup};
use armv7_kprobes::kretprobe::{
    Kretprobe, KretprobeError, KretprobeInstance, KretprobePool, Kretprobes, OnEntry,
};
use armv7_kprobes::optprobe::Variant;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

// SAFETY: each is an AAPCS function (arguments in r0/r1, result in r0, r4 and sp
// preserved, return through lr or a tail call to another of them); kr_wait only reads the
// word its argument points at, which its callers keep alive until it returns.
core::arch::global_asm!(
    ".pushsection .text.kr_targets, \"ax\", %progbits",
    ".arm",
    ".p2align 2",
    ".global kr_add",
    ".type kr_add, %function",
    "kr_add:",              // u32 kr_add(a, b) = a + b
    "    push  {{r4, lr}}", // entry breakpoint site
    "    add   r0, r0, r1",
    "    pop   {{r4, pc}}",
    ".global kr_recurse",
    ".type kr_recurse, %function",
    "kr_recurse:", // u32 kr_recurse(n) = n, through n nested calls of itself
    "    push  {{r4, lr}}",
    "    movs  r4, r0",
    "    beq   1f",
    "    sub   r0, r0, #1",
    "    bl    kr_recurse",
    "    add   r0, r0, #1",
    "1:  pop   {{r4, pc}}",
    ".global kr_tail",
    ".type kr_tail, %function",
    "kr_tail:", // u32 kr_tail(a) = kr_leaf(a + 1), leaving with a tail call
    "    push  {{r4, lr}}",
    "    add   r0, r0, #1",
    "    pop   {{r4, lr}}",
    "    b     kr_leaf",
    ".global kr_leaf",
    ".type kr_leaf, %function",
    "kr_leaf:", // u32 kr_leaf(a) = 2a
    "    push  {{r4, lr}}",
    "    add   r0, r0, r0",
    "    pop   {{r4, pc}}",
    ".global kr_wait",
    ".type kr_wait, %function",
    "kr_wait:", // u32 kr_wait(*flag): waits until *flag != 0 and returns it
    "    push  {{r4, lr}}",
    "1:  ldr   r4, [r0]",
    "    yield",
    "    cmp   r4, #0",
    "    beq   1b",
    "    mov   r0, r4",
    "    pop   {{r4, pc}}",
    ".thumb",
    ".global kr_thumb_add",
    ".type kr_thumb_add, %function",
    ".thumb_func",
    "kr_thumb_add:", // u32 kr_thumb_add(a, b) = kr_add(a, b), called from Thumb state
    "    push  {{r4, lr}}",
    "    blx   kr_add",
    "    pop   {{r4, pc}}",
    ".arm",
    ".popsection",
);

unsafe extern "C" {
    fn kr_add(a: u32, b: u32) -> u32;
    fn kr_recurse(n: u32) -> u32;
    fn kr_tail(a: u32) -> u32;
    fn kr_leaf(a: u32) -> u32;
    fn kr_wait(flag: *const AtomicU32) -> u32;
    fn kr_thumb_add(a: u32, b: u32) -> u32;
}

/// `a + b` through the probed-able `kr_add` (the benchmark's return-probe target).
pub fn add(a: u32, b: u32) -> u32 {
    // SAFETY: kr_add is the AAPCS function above.
    unsafe { kr_add(a, b) }
}

/// The address of `kr_add`'s first instruction.
pub fn add_addr() -> usize {
    kr_add as *const () as usize
}

fn recurse(n: u32) -> u32 {
    // SAFETY: kr_recurse is the AAPCS function above; n levels use 8n bytes of stack.
    unsafe { kr_recurse(n) }
}

fn e(err: KretprobeError) -> alloc::string::String {
    format!("{err}")
}

fn bench_return(_: &Kretprobe, _: &mut KretprobeInstance<'_>, _: &mut TrapFrame) {}

static BENCH_POOL: KretprobePool<4, 0> = KretprobePool::new();

/// A return probe with empty handlers, for the benchmark: register it on [`add_addr`]
/// with [`KRETPROBES`] and time [`add`] (entry trap + trampoline + return path per call).
pub static BENCH: Kretprobe = Kretprobe::new(None, bench_return, &BENCH_POOL, 0);

// Arguments, result and where the call returned to, as the last return handler saw them.
static ARGS: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];

fn args_entry(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) -> OnEntry {
    c.data_mut()[..4].copy_from_slice(&f.r[0].to_ne_bytes());
    c.data_mut()[4..8].copy_from_slice(&f.r[1].to_ne_bytes());
    OnEntry::Track
}

fn args_return(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) {
    let word = |i: usize| {
        u32::from_ne_bytes([
            c.data()[i],
            c.data()[i + 1],
            c.data()[i + 2],
            c.data()[i + 3],
        ])
    };
    ARGS[0].store(word(0), Ordering::Relaxed);
    ARGS[1].store(word(4), Ordering::Relaxed);
    ARGS[2].store(f.r[0], Ordering::Relaxed);
    ARGS[3].store(f.pc, Ordering::Relaxed);
    f.r[0] += 1000;
}

static ARGS_POOL: KretprobePool<4, 8> = KretprobePool::new();
static ARGS_PROBE: Kretprobe = Kretprobe::new(Some(args_entry), args_return, &ARGS_POOL, 1);

pub fn return_handler_sees_arguments_and_result_and_changes_it() -> TestResult {
    KRETPROBES
        .register(&KPROBES, &ARGS_PROBE, add_addr())
        .map_err(e)?;
    let r = add(20, 22);
    let seen: Vec<u32> = ARGS.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    // From Thumb state: the real return address has bit 0 set.
    // SAFETY: kr_thumb_add is the AAPCS (Thumb) function above.
    let t = unsafe { kr_thumb_add(3, 4) };
    let thumb_ret = ARGS[3].load(Ordering::Relaxed);
    let counts = (
        ARGS_PROBE.hits(),
        ARGS_PROBE.missed(),
        ARGS_PROBE.outstanding(),
    );
    let in_flight = KRETPROBES.unregister(&KPROBES, &ARGS_PROBE).map_err(e)?;
    ensure!(
        r == 1042,
        "result {r}: the return handler's change was lost"
    );
    ensure!(seen[..3] == [20, 22, 42], "handler saw {seen:?}");
    ensure!(t == 1007, "Thumb caller got {t}");
    ensure!(thumb_ret & 1 == 1, "Thumb return address {thumb_ret:#x}");
    ensure!(counts == (2, 0, 0), "hits/missed/outstanding {counts:?}");
    ensure!(in_flight == 0, "{in_flight} in flight");
    ensure!(add(20, 22) == 42, "unprobed result");
    Ok(())
}

// Levels in the order their returns were reported.
static LEVELS: [AtomicU32; 64] = [const { AtomicU32::new(u32::MAX) }; 64];
static REPORTED: AtomicU32 = AtomicU32::new(0);

fn level_entry(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) -> OnEntry {
    c.data_mut()[..4].copy_from_slice(&f.r[0].to_ne_bytes());
    OnEntry::Track
}

fn level_return(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) {
    let n = u32::from_ne_bytes([c.data()[0], c.data()[1], c.data()[2], c.data()[3]]);
    // The level's own argument is its result: a mismatch is recorded as u32::MAX - 1.
    let v = if f.r[0] == n { n } else { u32::MAX - 1 };
    let i = REPORTED.fetch_add(1, Ordering::Relaxed) as usize;
    if i < LEVELS.len() {
        LEVELS[i].store(v, Ordering::Relaxed);
    }
}

static DEEP_POOL: KretprobePool<64, 4> = KretprobePool::new();
static DEEP: Kretprobe = Kretprobe::new(Some(level_entry), level_return, &DEEP_POOL, 2);

fn reset_levels() {
    REPORTED.store(0, Ordering::Relaxed);
    for l in &LEVELS {
        l.store(u32::MAX, Ordering::Relaxed);
    }
}

fn levels() -> Vec<u32> {
    let n = (REPORTED.load(Ordering::Relaxed) as usize).min(LEVELS.len());
    LEVELS[..n]
        .iter()
        .map(|l| l.load(Ordering::Relaxed))
        .collect()
}

pub fn recursion_50_deep_returns_correctly_and_reports_every_level() -> TestResult {
    reset_levels();
    KRETPROBES
        .register(&KPROBES, &DEEP, kr_recurse as *const () as usize)
        .map_err(e)?;
    let r = recurse(49); // 50 nested calls: n = 49 down to 0
    let counts = (DEEP.hits(), DEEP.missed(), DEEP.outstanding());
    KRETPROBES.unregister(&KPROBES, &DEEP).map_err(e)?;
    ensure!(r == 49, "result {r}");
    let got = levels();
    ensure!(
        got == (0..50).collect::<Vec<u32>>(),
        "levels reported {got:?} (innermost first expected)"
    );
    ensure!(counts == (50, 0, 0), "hits/missed/outstanding {counts:?}");
    Ok(())
}

static SMALL_POOL: KretprobePool<4, 4> = KretprobePool::new();
static SMALL: Kretprobe = Kretprobe::new(Some(level_entry), level_return, &SMALL_POOL, 3);

pub fn an_exhausted_pool_counts_missed_and_the_calls_still_return() -> TestResult {
    reset_levels();
    KRETPROBES
        .register(&KPROBES, &SMALL, kr_recurse as *const () as usize)
        .map_err(e)?;
    let r = recurse(9); // 10 nested calls, 4 instances: the 4 outermost are followed
    let counts = (SMALL.hits(), SMALL.missed(), SMALL.outstanding());
    let again = recurse(2);
    let after = (SMALL.hits(), SMALL.missed());
    KRETPROBES.unregister(&KPROBES, &SMALL).map_err(e)?;
    ensure!(r == 9 && again == 2, "results {r} {again}");
    ensure!(counts == (4, 6, 0), "hits/missed/outstanding {counts:?}");
    ensure!(after == (7, 6), "instances not back in the pool: {after:?}");
    let got = levels();
    ensure!(got == [6, 7, 8, 9, 0, 1, 2], "levels reported {got:?}");
    Ok(())
}

static TAIL_ORDER: AtomicU32 = AtomicU32::new(0);

fn tail_return(p: &Kretprobe, _: &mut KretprobeInstance<'_>, f: &mut TrapFrame) {
    // Appends the probe's digit; both see kr_leaf's result.
    if f.r[0] == 12 {
        TAIL_ORDER.store(
            TAIL_ORDER.load(Ordering::Relaxed) * 10 + p.data() as u32,
            Ordering::Relaxed,
        );
    }
}

static TAIL_POOL: KretprobePool<2, 0> = KretprobePool::new();
static LEAF_POOL: KretprobePool<2, 0> = KretprobePool::new();
static TAIL: Kretprobe = Kretprobe::new(None, tail_return, &TAIL_POOL, 1);
static LEAF: Kretprobe = Kretprobe::new(None, tail_return, &LEAF_POOL, 2);

pub fn a_tail_call_between_probed_functions_returns_through_both() -> TestResult {
    TAIL_ORDER.store(0, Ordering::Relaxed);
    KRETPROBES
        .register(&KPROBES, &TAIL, kr_tail as *const () as usize)
        .map_err(e)?;
    KRETPROBES
        .register(&KPROBES, &LEAF, kr_leaf as *const () as usize)
        .map_err(e)?;
    // SAFETY: kr_tail is the AAPCS function above.
    let r = unsafe { kr_tail(5) };
    let hits = (
        TAIL.hits(),
        LEAF.hits(),
        TAIL.outstanding() + LEAF.outstanding(),
    );
    KRETPROBES.unregister(&KPROBES, &TAIL).map_err(e)?;
    KRETPROBES.unregister(&KPROBES, &LEAF).map_err(e)?;
    ensure!(r == 12, "result {r}");
    ensure!(hits == (1, 1, 0), "hits {hits:?}");
    let order = TAIL_ORDER.load(Ordering::Relaxed);
    ensure!(
        order == 21,
        "return handlers ran as {order} (leaf 2, then tail 1)"
    );
    Ok(())
}

static RETURNS: AtomicU64 = AtomicU64::new(0);
static WRONG: AtomicU32 = AtomicU32::new(0);

fn check_level(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) {
    let n = u32::from_ne_bytes([c.data()[0], c.data()[1], c.data()[2], c.data()[3]]);
    if f.r[0] != n {
        WRONG.fetch_add(1, Ordering::Relaxed);
    }
    RETURNS.fetch_add(1, Ordering::Relaxed);
}

static SMP_POOL: KretprobePool<32, 4> = KretprobePool::new();
static SMP_PROBE: Kretprobe = Kretprobe::new(Some(level_entry), check_level, &SMP_POOL, 4);
const CALLS: u32 = 5_000;

pub fn four_cores_calling_a_probed_recursion_count_exactly() -> TestResult {
    RETURNS.store(0, Ordering::Relaxed);
    WRONG.store(0, Ordering::Relaxed);
    KRETPROBES
        .register(&KPROBES, &SMP_PROBE, kr_recurse as *const () as usize)
        .map_err(e)?;
    let wrong_results = AtomicU32::new(0);
    // Core c calls kr_recurse(c + 1): c + 2 nested calls, 2 + 3 + 4 + 5 = 14 at most
    // in flight at once.
    smp::on_each_cpu(&|cpu| {
        for i in 0..CALLS {
            let n = cpu as u32 + 1;
            if recurse(n) != n {
                wrong_results.fetch_add(1, Ordering::Relaxed);
            }
            if i % 64 == 0 {
                core::hint::spin_loop();
            }
        }
    });
    let cores = smp::online_mask().count_ones() as u64;
    let expect: u64 = (0..cores).map(|c| (c + 2) * CALLS as u64).sum();
    let counts = (
        SMP_PROBE.hits(),
        RETURNS.load(Ordering::Relaxed),
        SMP_PROBE.missed(),
    );
    let in_flight = KRETPROBES.unregister(&KPROBES, &SMP_PROBE).map_err(e)?;
    ensure!(cores == 4, "{cores} cores online");
    ensure!(
        wrong_results.load(Ordering::Relaxed) == 0 && WRONG.load(Ordering::Relaxed) == 0,
        "{} wrong results, {} wrong return values seen",
        wrong_results.load(Ordering::Relaxed),
        WRONG.load(Ordering::Relaxed)
    );
    ensure!(
        counts == (expect, expect, 0),
        "hits/returns/missed {counts:?}, want {expect} calls"
    );
    ensure!(in_flight == 0, "{in_flight} in flight");
    Ok(())
}

static WAIT_POOL: KretprobePool<8, 0> = KretprobePool::new();
static WAIT_PROBE: Kretprobe = Kretprobe::new(None, count_return, &WAIT_POOL, 5);
static WAIT_RETURNS: AtomicU32 = AtomicU32::new(0);

fn count_return(_: &Kretprobe, _: &mut KretprobeInstance<'_>, _: &mut TrapFrame) {
    WAIT_RETURNS.fetch_add(1, Ordering::Relaxed);
}

static CHURN_POOL: KretprobePool<16, 4> = KretprobePool::new();
static CHURN: Kretprobe = Kretprobe::new(Some(level_entry), check_level, &CHURN_POOL, 6);
const CHURN_ROUNDS: u32 = 200;

pub fn unregistering_while_other_cores_are_inside_loses_no_return() -> TestResult {
    // Three cores wait inside kr_wait; core 0 unregisters, then lets them go.
    WAIT_RETURNS.store(0, Ordering::Relaxed);
    let go = AtomicU32::new(0);
    let results = [const { AtomicU32::new(0) }; 4];
    let (in_flight, outstanding_after) = (AtomicU32::new(99), AtomicU32::new(99));
    let failure = AtomicU32::new(0);
    KRETPROBES
        .register(&KPROBES, &WAIT_PROBE, kr_wait as *const () as usize)
        .map_err(e)?;
    smp::on_each_cpu(&|cpu| {
        if cpu == 0 {
            while WAIT_PROBE.outstanding() < 3 {
                core::hint::spin_loop();
            }
            match KRETPROBES.unregister(&KPROBES, &WAIT_PROBE) {
                Ok(n) => in_flight.store(n as u32, Ordering::Relaxed),
                Err(_) => failure.store(1, Ordering::Relaxed),
            }
            go.store(7, Ordering::Release);
        } else {
            // SAFETY: kr_wait is the AAPCS function above; `go` outlives the call.
            let r = unsafe { kr_wait(&go) };
            results[cpu].store(r, Ordering::Relaxed);
        }
    });
    outstanding_after.store(WAIT_PROBE.outstanding() as u32, Ordering::Relaxed);
    ensure!(failure.load(Ordering::Relaxed) == 0, "unregister failed");
    ensure!(
        in_flight.load(Ordering::Relaxed) == 3,
        "unregister reported {} calls in flight",
        in_flight.load(Ordering::Relaxed)
    );
    let got: Vec<u32> = results[1..]
        .iter()
        .map(|r| r.load(Ordering::Relaxed))
        .collect();
    ensure!(got == [7, 7, 7], "the waiting calls returned {got:?}");
    ensure!(
        outstanding_after.load(Ordering::Relaxed) == 0,
        "instances leaked"
    );
    ensure!(
        WAIT_RETURNS.load(Ordering::Relaxed) == 0,
        "return handler ran after unregister"
    );

    // Churn: core 0 registers and unregisters while three cores recurse through it.
    RETURNS.store(0, Ordering::Relaxed);
    WRONG.store(0, Ordering::Relaxed);
    let stop = AtomicBool::new(false);
    let (wrong, calls, churn_failure) = (AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0));
    smp::on_each_cpu(&|cpu| {
        if cpu == 0 {
            for _ in 0..CHURN_ROUNDS {
                let r = KRETPROBES
                    .register(&KPROBES, &CHURN, kr_recurse as *const () as usize)
                    .and_then(|_| KRETPROBES.unregister(&KPROBES, &CHURN));
                if r.is_err() {
                    churn_failure.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
            stop.store(true, Ordering::Release);
        } else {
            while !stop.load(Ordering::Acquire) {
                if recurse(3) != 3 {
                    wrong.fetch_add(1, Ordering::Relaxed);
                }
                calls.fetch_add(1, Ordering::Relaxed);
                core::hint::spin_loop();
            }
        }
    });
    ensure!(churn_failure.load(Ordering::Relaxed) == 0, "churn failed");
    ensure!(
        wrong.load(Ordering::Relaxed) == 0 && WRONG.load(Ordering::Relaxed) == 0,
        "{} wrong results, {} wrong values seen",
        wrong.load(Ordering::Relaxed),
        WRONG.load(Ordering::Relaxed)
    );
    ensure!(
        CHURN.outstanding() == 0,
        "{} instances leaked",
        CHURN.outstanding()
    );
    ensure!(
        calls.load(Ordering::Relaxed) > 0,
        "the other cores made no calls"
    );
    crate::kprint!(
        "\n     churn: {CHURN_ROUNDS} register/unregister rounds while 3 cores made {} calls ({} returns handled) ",
        calls.load(Ordering::Relaxed),
        RETURNS.load(Ordering::Relaxed)
    );
    Ok(())
}

static SECOND_TABLE: Kretprobes = Kretprobes::new(&PLATFORM);
static ERR_POOL: KretprobePool<1, 0> = KretprobePool::new();
static ERR_PROBE: Kretprobe = Kretprobe::new(None, count_return, &ERR_POOL, 7);

pub fn kretprobe_errors_leave_probe_and_text_unchanged() -> TestResult {
    let a = add_addr();
    // SAFETY: kernel text is mapped readable.
    let word = || unsafe { core::ptr::read_volatile(a as *const u32) };
    let original = word();
    let tables = KRETPROBES.len();
    let misaligned = KRETPROBES.register(&KPROBES, &ERR_PROBE, a + 2);
    ensure!(
        misaligned
            == Err(KretprobeError::Kprobe(KprobeError::Misaligned {
                addr: a + 2
            })),
        "{misaligned:?}"
    );
    let outside = &ERR_PROBE as *const Kretprobe as usize & !3;
    let r = KRETPROBES.register(&KPROBES, &ERR_PROBE, outside);
    ensure!(
        r == Err(KretprobeError::Kprobe(KprobeError::OutsideText {
            addr: outside
        })),
        "{r:?}"
    );
    let r = KRETPROBES.unregister(&KPROBES, &ERR_PROBE);
    ensure!(r == Err(KretprobeError::NotRegistered), "{r:?}");
    KRETPROBES.register(&KPROBES, &ERR_PROBE, a).map_err(e)?;
    let r = KRETPROBES.register(&KPROBES, &ERR_PROBE, a);
    ensure!(
        r == Err(KretprobeError::AlreadyRegistered { addr: a }),
        "{r:?}"
    );
    // One trampoline, one table: a second table cannot register anything.
    static OTHER_POOL: KretprobePool<1, 0> = KretprobePool::new();
    static OTHER: Kretprobe = Kretprobe::new(None, count_return, &OTHER_POOL, 8);
    let r = SECOND_TABLE.register(&KPROBES, &OTHER, a);
    ensure!(r == Err(KretprobeError::ReturnPathTaken), "{r:?}");
    ensure!(
        !OTHER.is_registered() && SECOND_TABLE.is_empty(),
        "second table changed"
    );
    KRETPROBES.unregister(&KPROBES, &ERR_PROBE).map_err(e)?;
    ensure!(word() == original, "text not restored: {:#x}", word());
    ensure!(KRETPROBES.len() == tables, "table entries leaked");
    ensure!(add(1, 2) == 3, "unprobed result");
    Ok(())
}

pub fn the_benchmark_probe_follows_every_call_with_a_frame_and_in_a_leaf() -> TestResult {
    // kr_add returns with `pop {r4, pc}`; the kprobe tests' kp_add is a leaf that
    // returns with `bx lr` (as the benchmark's target does).
    let leaf = KernelSymbols
        .lookup("kp_add")
        .ok_or("no kp_add symbol")?
        .start;
    type Call = fn(u32, u32) -> u32;
    let targets: [(usize, Call); 2] = [(add_addr(), add), (leaf, crate::tests::kprobes::add)];
    for (at, f) in targets {
        KRETPROBES.register(&KPROBES, &BENCH, at).map_err(e)?;
        let wrong = (0..1000u32).filter(|&i| f(i, 1) != i + 1).count();
        let counts = (BENCH.hits(), BENCH.missed(), BENCH.outstanding());
        KRETPROBES.unregister(&KPROBES, &BENCH).map_err(e)?;
        ensure!(wrong == 0, "{at:#x}: {wrong} wrong results");
        ensure!(
            counts == (1000, 0, 0),
            "{at:#x}: hits/missed/outstanding {counts:?}"
        );
    }
    Ok(())
}

/// The mechanism the kprobe registry lists for `addr`.
fn mechanism_at(addr: usize) -> Option<Mechanism> {
    let mut found = None;
    KPROBES
        .list(|i| {
            if i.addr == addr {
                found = Some(i.mechanism);
            }
        })
        .ok()?;
    found
}

pub fn optimized_entry_probes_follow_recursion_and_tail_calls() -> TestResult {
    reset_levels();
    TAIL_ORDER.store(0, Ordering::Relaxed);
    let (deep, tail, leaf) = (
        kr_recurse as *const () as usize,
        kr_tail as *const () as usize,
        kr_leaf as *const () as usize,
    );
    KRETPROBES.register(&KPROBES, &DEEP, deep).map_err(e)?;
    KRETPROBES.register(&KPROBES, &TAIL, tail).map_err(e)?;
    KRETPROBES.register(&KPROBES, &LEAF, leaf).map_err(e)?;
    let report = KPROBES.optimize_pending().map_err(|x| format!("{x}"))?;
    let mechanisms = [mechanism_at(deep), mechanism_at(tail), mechanism_at(leaf)];
    let r = recurse(49);
    // SAFETY: kr_tail is the AAPCS function above.
    let t = unsafe { kr_tail(5) };
    let counts = (DEEP.hits(), TAIL.hits(), LEAF.hits());
    for p in [&DEEP, &TAIL, &LEAF] {
        KRETPROBES.unregister(&KPROBES, p).map_err(e)?;
    }
    ensure!(report.optimized == 3, "optimize report {report:?}");
    ensure!(
        mechanisms
            .iter()
            .all(|m| *m == Some(Mechanism::Optimized(Variant::Direct))),
        "entry probes are {mechanisms:?}"
    );
    ensure!(r == 49 && t == 12, "results {r} {t}");
    let got = levels();
    ensure!(
        got == (0..50).collect::<Vec<u32>>(),
        "levels reported {got:?} (innermost first expected)"
    );
    ensure!(counts == (50, 1, 1), "hits {counts:?}");
    let order = TAIL_ORDER.load(Ordering::Relaxed);
    ensure!(
        order == 21,
        "return handlers ran as {order} (leaf 2, then tail 1)"
    );
    Ok(())
}
