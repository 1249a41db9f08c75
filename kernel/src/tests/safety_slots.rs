//! Items 4 and 5 of the safety contract on the real machine: every crate entry point
//! stays within its stack budget on 16 KiB stacks, and an instruction slot is reused
//! only after every CPU has been seen outside it — under churn with other cores calling.

use super::kprobes::{text_snapshot, word};
use super::thumb_probes;
use crate::events::{EVENTS, EventSymbols};
use crate::probes::{KPROBES, KRETPROBES};
use crate::testing::TestResult;
use crate::{ensure, kprint, smp, text};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use armv7_kprobes::TrapFrame;
use armv7_kprobes::insn::{Branch, Insn};
use armv7_kprobes::kprobe::{Kprobe, KprobeError, Mechanism};
use armv7_kprobes::kretprobe::{Kretprobe, KretprobeInstance, KretprobePool};
use armv7_kprobes::optprobe::Variant;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

// The functions these tests probe (AAPCS: r0 in, r0 out, nothing else touched):
// kp_ss_leaf(a) = a + 1; kp_ss_alt_a(a) = a + 3 (probed: add); kp_ss_alt_b(a) = !a + 7
// (probed: mvn); kp_ss_ladder(a) = a + 1000 (1,000 probeable `add`s).
// SAFETY: each is a leaf that reads r0, writes r0 and returns with `bx lr`.
core::arch::global_asm!(
    ".pushsection .text.kp_safety_slots, \"ax\", %progbits",
    ".arm",
    ".p2align 2",
    ".global kp_ss_leaf",
    "kp_ss_leaf:",
    "    add   r0, r0, #1",
    "    bx    lr",
    ".global kp_ss_alt_a",
    "kp_ss_alt_a:",
    "    add   r0, r0, #3",
    "    bx    lr",
    ".global kp_ss_alt_b",
    "kp_ss_alt_b:",
    "    mvn   r0, r0",
    "    add   r0, r0, #7",
    "    bx    lr",
    ".global kp_ss_ladder",
    "kp_ss_ladder:",
    ".rept 1000",
    "    add   r0, r0, #1",
    ".endr",
    "    bx    lr",
    ".popsection",
);

unsafe extern "C" {
    fn kp_ss_leaf(a: u32) -> u32;
    fn kp_ss_alt_a(a: u32) -> u32;
    fn kp_ss_alt_b(a: u32) -> u32;
    fn kp_ss_ladder(a: u32) -> u32;
}

fn leaf(a: u32) -> u32 {
    // SAFETY: the AAPCS leaf above.
    unsafe { kp_ss_leaf(a) }
}

fn alt_a(a: u32) -> u32 {
    // SAFETY: the AAPCS leaf above.
    unsafe { kp_ss_alt_a(a) }
}

fn alt_b(a: u32) -> u32 {
    // SAFETY: the AAPCS leaf above.
    unsafe { kp_ss_alt_b(a) }
}

fn ladder(a: u32) -> u32 {
    // SAFETY: the AAPCS leaf above.
    unsafe { kp_ss_ladder(a) }
}

fn e(err: impl core::fmt::Display) -> String {
    format!("{err}")
}

/// Core 0's verdict inside an `on_each_cpu` closure (which must be `Sync`).
struct Core0Result(core::cell::UnsafeCell<TestResult>);

// SAFETY: only core 0 touches the cell: it writes it inside `on_each_cpu`, whose
// closure core 0 runs itself, and reads it after `on_each_cpu` returned on core 0.
unsafe impl Sync for Core0Result {}

impl Core0Result {
    fn new() -> Self {
        Core0Result(core::cell::UnsafeCell::new(Ok(())))
    }

    fn set(&self, r: TestResult) {
        assert_eq!(smp::cpu_id(), 0, "only core 0 reports");
        // SAFETY: see the Sync impl: core 0 only, no reference held across calls.
        unsafe { *self.0.get() = r };
    }

    fn take(&self) -> TestResult {
        assert_eq!(smp::cpu_id(), 0, "only core 0 reports");
        // SAFETY: as in `set`.
        unsafe { core::mem::replace(&mut *self.0.get(), Ok(())) }
    }
}

// ---------------------------------------------------------------------------------
// Item 4: stack high-water marks.

unsafe extern "C" {
    static _sys_stack_high_end: u8;
    static _sys_stack_size: u8;
}

/// The word painted below the stack pointer before an entry point runs.
const PAINT: u32 = 0x5afe_57ac;

/// Stack budgets in bytes, measured below the caller's SP (for a hit: below the probed
/// code's SP). The crate documents them (`kprobe` and `optprobe` docs).
pub const BUDGET_REGISTER: usize = 1536;
/// `optimize_pending` of 1,000 candidates.
pub const BUDGET_OPTIMIZE: usize = 1536;
/// `unregister` of an optimized probe (unoptimize and reclaim).
pub const BUDGET_UNREGISTER: usize = 1536;
/// A breakpoint hit (the kernel's UND entry runs the handler 256 bytes below SP).
pub const BUDGET_BREAKPOINT_HIT: usize = 1536;
/// An optimized hit, direct or stepped.
pub const BUDGET_OPTIMIZED_HIT: usize = 1536;
/// A call through a kretprobe (entry breakpoint hit and return trampoline).
pub const BUDGET_KRETPROBE: usize = 1536;
/// The probe-event table's configuration calls (`define`: the parsed definition, then a
/// registration; `drain`: each event described again from its kept line), thread
/// context only: more than a registration, no crate frame over 1 KiB.
pub const BUDGET_EVENTS_CONFIG: usize = 2560;

fn sp_now() -> usize {
    let sp: usize;
    // SAFETY: reads SP; no side effects.
    unsafe {
        core::arch::asm!("mov {0}, sp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    sp
}

/// This core's SYS stack (aarch32-rt: core n's is n stacks below the top).
fn sys_stack() -> core::ops::Range<usize> {
    // Linker-defined symbols; only their addresses are taken (the size is an absolute
    // symbol whose address is the value).
    let (top, size) = (
        core::ptr::addr_of!(_sys_stack_high_end) as usize,
        core::ptr::addr_of!(_sys_stack_size) as usize,
    );
    let top = top - size * smp::cpu_id();
    top - size..top
}

/// Runs `f` and returns how many bytes below this function's stack pointer it (and
/// whatever interrupted it on this core) wrote: the stack below SP is painted first,
/// and the deepest word no longer holding the paint marks the high water.
#[inline(never)]
fn high_water(f: &dyn Fn()) -> Result<usize, String> {
    let sp = sp_now();
    let stack = sys_stack();
    ensure!(
        stack.contains(&(sp - 4)),
        "sp {sp:#x} outside this core's stack {stack:x?}"
    );
    // Keep a few words untouched at the very bottom: a mark there means the
    // measurement ran out of stack.
    let bottom = stack.start + 64;
    let mut a = bottom;
    while a < sp {
        // SAFETY: [bottom, sp) is this core's own stack below its stack pointer: no live
        // data (nothing on this core runs below SP but interrupts, which may overwrite
        // the paint, and that is stack they used). This loop makes no calls.
        unsafe { core::ptr::write_volatile(a as *mut u32, PAINT) };
        a += 4;
    }
    f();
    let mut a = bottom;
    // SAFETY: as above; reading our own stack.
    while a < sp && unsafe { core::ptr::read_volatile(a as *const u32) } == PAINT {
        a += 4;
    }
    ensure!(a > bottom, "the stack overflowed the measured range");
    Ok(sp - a)
}

fn empty(_: &Kprobe, _: &mut TrapFrame) {}

static SS_BP: Kprobe = Kprobe::new(Some(empty), None, 0);
static SS_THUMB: [Kprobe; 2] = [const { Kprobe::new(Some(empty), None, 0) }; 2];
static SS_THUMB_POST: Kprobe = Kprobe::new(Some(empty), Some(empty), 0);
static SS_DIRECT: Kprobe = Kprobe::new(Some(empty), None, 0);
static SS_STEP: Kprobe = Kprobe::new(Some(empty), Some(empty), 0);
static SS_LADDER: [Kprobe; 1000] = [const { Kprobe::new(None, None, 0) }; 1000];

fn empty_return(_: &Kretprobe, _: &mut KretprobeInstance<'_>, _: &mut TrapFrame) {}

static SS_POOL: KretprobePool<4, 0> = KretprobePool::new();
static SS_KRET: Kretprobe = Kretprobe::new(None, empty_return, &SS_POOL, 0);

/// One measured entry point: its name, bytes used, and its budget.
struct Mark {
    name: &'static str,
    bytes: usize,
    budget: usize,
}

pub fn stack_high_water_marks_per_entry_point_stay_within_budget() -> TestResult {
    let before = text_snapshot();
    let mut marks: Vec<Mark> = Vec::new();
    let r = measure_all(&mut marks);
    // Whatever failed, leave no probe behind.
    for p in SS_LADDER
        .iter()
        .chain(&SS_THUMB)
        .chain([&SS_THUMB_POST, &SS_BP, &SS_DIRECT, &SS_STEP])
    {
        match KPROBES.unregister(p) {
            Ok(()) | Err(KprobeError::NotRegistered) => {}
            Err(err) => return Err(e(err)),
        }
    }
    let _ = KRETPROBES.unregister(&KPROBES, &SS_KRET);
    for name in ["-:ss_ev", "-:ss_mem"] {
        let _ = EVENTS.define(name, &KPROBES, &KRETPROBES, &EventSymbols);
    }
    r?;
    kprint!("\n     stack high-water marks (bytes below the caller's SP; budget):");
    for m in &marks {
        kprint!("\n       {:<44} {:5} ({})", m.name, m.bytes, m.budget);
    }
    kprint!("\n     ");
    for m in &marks {
        ensure!(
            m.bytes <= m.budget,
            "{} used {} bytes of stack, budget {}",
            m.name,
            m.bytes,
            m.budget
        );
        ensure!(m.bytes > 0, "{} used no stack: not measured", m.name);
    }
    ensure!(text_snapshot() == before, "text differs afterwards");
    Ok(())
}

fn measure_all(marks: &mut Vec<Mark>) -> TestResult {
    let stack = sys_stack();
    ensure!(
        stack.len() == 16 * 1024,
        "this core's SYS stack is {} bytes, not 16 KiB",
        stack.len()
    );
    // What a call through `high_water` costs by itself, and an unprobed call of the
    // leaf: subtracted, so each figure is the entry point's (or the hit's) own.
    let base = high_water(&|| {})?;
    let plain = high_water(&|| {
        core::hint::black_box(leaf(core::hint::black_box(1)));
    })?;
    let mut mark = |name, raw: usize, baseline: usize, budget| {
        marks.push(Mark {
            name,
            bytes: raw.saturating_sub(baseline),
            budget,
        })
    };
    let a_leaf = kp_ss_leaf as *const () as usize;
    let failed = AtomicBool::new(false);
    let check = |r: Result<(), KprobeError>| {
        if r.is_err() {
            failed.store(true, Ordering::Relaxed);
        }
    };

    // register (arms a breakpoint: one rendezvous) and a breakpoint hit.
    let raw = high_water(&|| check(KPROBES.register(&SS_BP, a_leaf)))?;
    mark("register", raw, base, BUDGET_REGISTER);
    let wrong = AtomicU32::new(0);
    let call = || {
        if leaf(core::hint::black_box(41)) != 42 {
            wrong.fetch_add(1, Ordering::Relaxed);
        }
    };
    let raw = high_water(&call)?;
    mark("breakpoint hit", raw, plain, BUDGET_BREAKPOINT_HIT);
    ensure!(
        SS_BP.hits() == 1,
        "breakpoint probe hit {} times",
        SS_BP.hits()
    );
    KPROBES.unregister(&SS_BP).map_err(e)?;

    // Thumb breakpoint hits (the general path and the T16 / T32 step): `adds` and the
    // `add.w` after it, in one call.
    let a_thumb = thumb_probes::a_add();
    KPROBES.register(&SS_THUMB[0], a_thumb).map_err(e)?;
    KPROBES.register(&SS_THUMB[1], a_thumb + 2).map_err(e)?;
    let thumb_call = || {
        if thumb_probes::add(core::hint::black_box(40), 2) != 45 {
            wrong.fetch_add(1, Ordering::Relaxed);
        }
    };
    let raw = high_water(&thumb_call)?;
    mark(
        "Thumb breakpoint hits (16- and 32-bit)",
        raw,
        plain,
        BUDGET_BREAKPOINT_HIT,
    );
    let thumb_hits = (SS_THUMB[0].hits(), SS_THUMB[1].hits());
    ensure!(
        thumb_hits == (1, 1),
        "Thumb probes hit {thumb_hits:?} times"
    );
    // Optimized Thumb hits on the `add.w`: its copy run in the slot, then (a second
    // probe with a post handler) the general path and the T32 step.
    KPROBES.unregister(&SS_THUMB[0]).map_err(e)?;
    KPROBES.optimize_pending().map_err(e)?;
    let m = KPROBES.mechanism_of(&SS_THUMB[1]).map_err(e)?;
    ensure!(
        m == Mechanism::Optimized(Variant::Direct),
        "the Thumb add.w probe is {m}"
    );
    let raw = high_water(&thumb_call)?;
    mark(
        "optimized Thumb hit, run in the slot",
        raw,
        plain,
        BUDGET_OPTIMIZED_HIT,
    );
    KPROBES.register(&SS_THUMB_POST, a_thumb + 2).map_err(e)?;
    let raw = high_water(&thumb_call)?;
    mark(
        "optimized Thumb hit, step path",
        raw,
        plain,
        BUDGET_OPTIMIZED_HIT,
    );
    let thumb_hits = (SS_THUMB[1].hits(), SS_THUMB_POST.hits());
    ensure!(
        thumb_hits == (3, 1) && wrong.load(Ordering::Relaxed) == 0,
        "optimized Thumb probes hit {thumb_hits:?} times"
    );
    for p in [&SS_THUMB[1], &SS_THUMB_POST] {
        KPROBES.unregister(p).map_err(e)?;
    }

    // optimize_pending of 1,000 candidates.
    let a_ladder = kp_ss_ladder as *const () as usize;
    for (i, p) in SS_LADDER.iter().enumerate() {
        KPROBES.register(p, a_ladder + 4 * i).map_err(e)?;
    }
    let optimized = AtomicUsize::new(0);
    let raw = high_water(&|| match KPROBES.optimize_pending() {
        Ok(r) => optimized.store(r.optimized, Ordering::Relaxed),
        Err(_) => failed.store(true, Ordering::Relaxed),
    })?;
    mark(
        "optimize_pending (1,000 candidates)",
        raw,
        base,
        BUDGET_OPTIMIZE,
    );
    ensure!(
        optimized.load(Ordering::Relaxed) == 1000,
        "optimized {} of 1,000",
        optimized.load(Ordering::Relaxed)
    );
    ensure!(
        ladder(5) == 1005,
        "the optimized ladder computes {}",
        ladder(5)
    );
    for p in &SS_LADDER {
        KPROBES.unregister(p).map_err(e)?;
    }

    // Optimized hits: direct execution, then the step path (a post handler).
    KPROBES.register(&SS_DIRECT, a_leaf).map_err(e)?;
    KPROBES.optimize_pending().map_err(e)?;
    let m = KPROBES.mechanism_of(&SS_DIRECT).map_err(e)?;
    ensure!(
        m == Mechanism::Optimized(Variant::Direct),
        "direct probe is {m}"
    );
    let raw = high_water(&call)?;
    mark(
        "optimized hit, direct execution",
        raw,
        plain,
        BUDGET_OPTIMIZED_HIT,
    );
    KPROBES.unregister(&SS_DIRECT).map_err(e)?;
    KPROBES.register(&SS_STEP, a_leaf).map_err(e)?;
    KPROBES.optimize_pending().map_err(e)?;
    let m = KPROBES.mechanism_of(&SS_STEP).map_err(e)?;
    ensure!(
        m == Mechanism::Optimized(Variant::Direct),
        "stepped probe is {m}"
    );
    let raw = high_water(&call)?;
    mark("optimized hit, step path", raw, plain, BUDGET_OPTIMIZED_HIT);
    ensure!(
        SS_DIRECT.hits() == 1 && SS_STEP.hits() == 1,
        "optimized probes hit {} and {} times",
        SS_DIRECT.hits(),
        SS_STEP.hits()
    );

    // unregister of an optimized probe: unoptimize, disarm and reclaim.
    let raw = high_water(&|| check(KPROBES.unregister(&SS_STEP)))?;
    mark("unregister (optimized probe)", raw, base, BUDGET_UNREGISTER);

    // A call through a kretprobe: entry breakpoint, return trampoline, return handler.
    KRETPROBES.register(&KPROBES, &SS_KRET, a_leaf).map_err(e)?;
    let raw = high_water(&call)?;
    mark("kretprobe entry and return", raw, plain, BUDGET_KRETPROBE);
    ensure!(
        SS_KRET.hits() == 1,
        "kretprobe hit {} times",
        SS_KRET.hits()
    );
    KRETPROBES.unregister(&KPROBES, &SS_KRET).map_err(e)?;

    // Probe events: a definition (parse, resolve, register: one rendezvous), a hit of an
    // event with two register arguments (the compact path), one with a memory string
    // (the general path through the checked reads), and a drain.
    let define = |text: &str| {
        if EVENTS
            .define(text, &KPROBES, &KRETPROBES, &EventSymbols)
            .is_err()
        {
            failed.store(true, Ordering::Relaxed);
        }
    };
    let line = format!("p:ss_ev {a_leaf:#x} a=%r0 b=%r1");
    let raw = high_water(&|| define(&line))?;
    mark("probe event define", raw, base, BUDGET_EVENTS_CONFIG);
    let raw = high_water(&call)?;
    mark(
        "probe event hit, two register args",
        raw,
        plain,
        BUDGET_BREAKPOINT_HIT,
    );
    define("-:ss_ev");
    define(&format!("p:ss_mem {a_leaf:#x} s=+0(%sp):string"));
    let raw = high_water(&call)?;
    mark(
        "probe event hit, a memory string",
        raw,
        plain,
        BUDGET_BREAKPOINT_HIT,
    );
    let raw = high_water(&|| {
        if EVENTS.drain(&mut |_: &[u8]| {}).is_err() {
            failed.store(true, Ordering::Relaxed);
        }
    })?;
    mark("probe event drain", raw, base, BUDGET_EVENTS_CONFIG);
    define("-:ss_mem");

    ensure!(!failed.load(Ordering::Relaxed), "a measured call failed");
    ensure!(
        wrong.load(Ordering::Relaxed) == 0,
        "{} wrong results",
        wrong.load(Ordering::Relaxed)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------
// Item 5: sound slot reuse.

/// A CPU spinning inside a slot with interrupts enabled — the state of a CPU interrupted
/// in a trampoline's unmasked window — keeps the slot dirty through any number of
/// rendezvous; once it has left, the next reclaim frees it.
pub fn a_cpu_inside_a_slot_keeps_it_dirty_until_a_rendezvous_sees_it_outside() -> TestResult {
    let others: Vec<usize> = smp::online_cpus().filter(|&c| c != 0).collect();
    let Some(&spinner) = others.first() else {
        return Err("no other core online".into());
    };
    // Reclaim whatever an earlier test left dirty, so the counts below are this test's.
    KPROBES.reclaim_slots().map_err(e)?;
    let slot = KPROBES.allocate_slot().map_err(e)?;
    // spin(flag): while *flag == 0 {}; return.
    let code = [
        0xe590_1000, // ldr r1, [r0]
        0xe351_0000, // cmp r1, #0
        0x0aff_fffc, // beq .-8
        0xe12f_ff1e, // bx lr
    ];
    for (i, w) in code.iter().enumerate() {
        text::write_word(slot.addr() + 4 * i, *w);
    }
    let go = AtomicU32::new(0);
    let inside = AtomicBool::new(false);
    let result = Core0Result::new();
    smp::on_each_cpu(&|cpu| {
        if cpu == spinner {
            // SAFETY: the slot holds the AAPCS function above (r0: the flag's address,
            // which outlives the call; r1 clobbered, as AAPCS allows), made visible to
            // this core by the ISB.
            let spin = unsafe {
                core::arch::asm!("isb", options(nostack, preserves_flags));
                core::mem::transmute::<usize, extern "C" fn(&AtomicU32)>(slot.addr())
            };
            inside.store(true, Ordering::Release);
            spin(&go);
        } else if cpu == 0 {
            while !inside.load(Ordering::Acquire) {
                core::hint::spin_loop();
            }
            let r = (|| -> TestResult {
                KPROBES.release_slot(slot).map_err(e)?;
                for round in 0..5 {
                    let freed = KPROBES.reclaim_slots().map_err(e)?;
                    ensure!(
                        freed == 0,
                        "round {round}: the slot core {spinner} is in was freed"
                    );
                }
                let c = KPROBES.slot_counts().map_err(e)?.ok_or("no slots")?;
                ensure!(c.dirty == 1, "slots while inside: {c:?}");
                Ok(())
            })();
            go.store(1, Ordering::Release);
            result.set(r);
        }
    });
    result.take()?;
    let freed = KPROBES.reclaim_slots().map_err(e)?;
    ensure!(
        freed == 1,
        "after core {spinner} left, reclaim freed {freed}"
    );
    let c = KPROBES.slot_counts().map_err(e)?.ok_or("no slots")?;
    ensure!(c.dirty == 0 && c.in_use == 0, "slots afterwards: {c:?}");
    Ok(())
}

static ALT_A: Kprobe = Kprobe::new(Some(empty), None, 0);
static ALT_B: Kprobe = Kprobe::new(Some(empty), Some(empty), 0);

/// Rounds of the slot-alternation stress test.
const ALT_ROUNDS: u32 = 5_000;

/// Two probes whose trampolines land in the same slot — one direct, one stepped —
/// alternately optimized and unoptimized on core 0 while every other core calls both
/// functions: no call ever runs the other probe's trampoline (wrong results), and the
/// slot really is shared.
pub fn slot_alternation_while_other_cores_call_gives_only_right_results() -> TestResult {
    let before = text_snapshot();
    let rounds = crate::bootargs::rounds(ALT_ROUNDS);
    KPROBES.reclaim_slots().map_err(e)?;
    let (a, b) = (
        kp_ss_alt_a as *const () as usize,
        kp_ss_alt_b as *const () as usize,
    );
    let stop = AtomicBool::new(false);
    let wrong = AtomicU32::new(0);
    let calls = AtomicU32::new(0);
    let shared = AtomicU32::new(0);
    let failure = Core0Result::new();
    ensure!(smp::online_count() >= 2, "no other core online");
    smp::on_each_cpu(&|cpu| {
        if cpu == 0 {
            let r = alternate(a, b, rounds, &shared);
            stop.store(true, Ordering::Release);
            failure.set(r);
        } else {
            let mut i = 0u32;
            while !stop.load(Ordering::Acquire) {
                i = i.wrapping_add(1);
                if alt_a(i) != i.wrapping_add(3) || alt_b(i) != (!i).wrapping_add(7) {
                    wrong.fetch_add(1, Ordering::Relaxed);
                }
                calls.fetch_add(1, Ordering::Relaxed);
                // YIELD: lets round-robin TCG switch to the core waiting in a rendezvous.
                core::hint::spin_loop();
            }
        }
    });
    let r = failure.take();
    for p in [&ALT_A, &ALT_B] {
        match KPROBES.unregister(p) {
            Ok(()) | Err(KprobeError::NotRegistered) => {}
            Err(err) => return Err(e(err)),
        }
    }
    r?;
    KPROBES.reclaim_slots().map_err(e)?;
    let wrong = wrong.load(Ordering::Relaxed);
    let shared = shared.load(Ordering::Relaxed);
    kprint!(
        "\n     slot alternation: {rounds} rounds, {shared} times in a slot the other probe used, \
         other cores made {} calls, {wrong} wrong ",
        calls.load(Ordering::Relaxed)
    );
    ensure!(wrong == 0, "{wrong} wrong results");
    ensure!(shared > 0, "the two trampolines never shared a slot");
    ensure!(
        calls.load(Ordering::Relaxed) > 0,
        "the other cores made no calls"
    );
    ensure!(text_snapshot() == before, "text differs afterwards");
    let c = KPROBES.slot_counts().map_err(e)?.ok_or("no slots")?;
    ensure!(c.dirty == 0 && c.in_use == 0, "slots afterwards: {c:?}");
    Ok(())
}

/// Core 0's part. A starts optimized; each round arms the other probe as a breakpoint,
/// unoptimizes the optimized one (its slot goes dirty and a reclaim is tried at once)
/// and optimizes the armed one, which takes the lowest free slot: the one just freed,
/// if no CPU was seen in it. So a slot is rewritten for the other probe right after the
/// reclaim that freed it — the order that punishes a reclaim freeing too early.
fn alternate(a: usize, b: usize, rounds: u32, shared: &AtomicU32) -> TestResult {
    KPROBES.register(&ALT_A, a).map_err(e)?;
    KPROBES.register(&ALT_B, b).map_err(e)?;
    KPROBES.disable(&ALT_B).map_err(e)?;
    KPROBES.optimize_pending().map_err(e)?;
    let slot_of = |at: usize| Branch::decode(Insn(word(at)), at as u32).map(|br| br.target());
    // Slots each probe's trampoline has occupied so far: a round whose probe lands in a
    // slot the other one used is a reuse across probes.
    let mut used: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
    let first = slot_of(a).ok_or_else(|| format!("{a:#x} was not optimized"))?;
    used[0].push(first);
    for round in 0..rounds {
        let (on, off, at, me) = if round % 2 == 0 {
            (&ALT_B, &ALT_A, b, 1)
        } else {
            (&ALT_A, &ALT_B, a, 0)
        };
        KPROBES.enable(on).map_err(e)?;
        KPROBES.disable(off).map_err(e)?;
        KPROBES.optimize_pending().map_err(e)?;
        let slot =
            slot_of(at).ok_or_else(|| format!("round {round}: {at:#x} was not optimized"))?;
        if used[1 - me].contains(&slot) {
            shared.fetch_add(1, Ordering::Relaxed);
        }
        if !used[me].contains(&slot) {
            used[me].push(slot);
        }
    }
    Ok(())
}
