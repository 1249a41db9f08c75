//! Optimized probes on the real machine: the breakpoint becomes `b<cond>` to a trampoline,
//! handlers see and change registers through both trampoline variants, 1,000 probes are
//! optimized in one rendezvous, slots out of reach leave working breakpoint probes, and
//! core 0 churns optimize/unoptimize while three cores call the probed functions.

use super::TestPlatform;
use super::kprobes::{a_add, a_cond, a_push, add, cond, push, text_snapshot, word};
use super::thumb_probes;
use crate::cache::KernelCacheOps;
use crate::platform::PLATFORM;
use crate::probes::{KPROBES, RENDEZVOUS};
use crate::testing::TestResult;
use crate::{ensure, kprint, smp, trap};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use armv7_kprobes::arch::memory::DirectMemory;
use armv7_kprobes::insn::{Branch, BreakpointWord, Insn};
use armv7_kprobes::kprobe::{Kprobe, KprobeError, Kprobes, Mechanism, NotOptimized, Trap};
use armv7_kprobes::optprobe::Variant;
use armv7_kprobes::{Platform, TrapFrame};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

// A ladder of 1,024 `add r0, r0, #1`: 1,024 probeable words in one function.
// SAFETY: an AAPCS function (r0 in, r0 out, nothing else touched) that only adds.
core::arch::global_asm!(
    ".pushsection .text.kp_ladder, \"ax\", %progbits",
    ".arm",
    ".p2align 2",
    ".global kp_ladder",
    "kp_ladder:",
    ".rept 1024",
    "    add   r0, r0, #1",
    ".endr",
    "    bx    lr",
    ".popsection",
);

unsafe extern "C" {
    fn kp_ladder(a: u32) -> u32;
}

const LADDER: usize = 1024;

fn ladder(a: u32) -> u32 {
    // SAFETY: kp_ladder is the AAPCS function above.
    unsafe { kp_ladder(a) }
}

fn a_ladder() -> usize {
    kp_ladder as *const () as usize
}

fn e(err: impl core::fmt::Display) -> String {
    format!("{err}")
}

/// The branch an optimized probe at `addr` holds, if that is what is there.
fn branch_at(addr: usize) -> Option<Branch> {
    Branch::decode(Insn(word(addr)), addr as u32)
}

static SEEN: [AtomicU32; 2] = [const { AtomicU32::new(0) }; 2];
static POSTS: AtomicU32 = AtomicU32::new(0);

fn see_args(_: &Kprobe, f: &mut TrapFrame) {
    SEEN[0].store(f.r[0], Ordering::Relaxed);
    SEEN[1].store(f.r[1], Ordering::Relaxed);
}

fn add_thousand(_: &Kprobe, f: &mut TrapFrame) {
    POSTS.fetch_add(1, Ordering::Relaxed);
    f.r[0] += 1000;
}

fn double_r1(_: &Kprobe, f: &mut TrapFrame) {
    f.r[1] *= 2;
}

static DIRECT: Kprobe = Kprobe::new(Some(double_r1), None, 0);
static STEPPED: Kprobe = Kprobe::new(Some(see_args), Some(add_thousand), 0);
static COND: Kprobe = Kprobe::new(Some(double_r1), None, 0);
static POP_PC: Kprobe = Kprobe::new(None, None, 0);

fn expect_optimized(p: &'static Kprobe, addr: usize, variant: Variant) -> TestResult {
    let m = KPROBES.mechanism_of(p).map_err(e)?;
    ensure!(
        m == Mechanism::Optimized(variant),
        "{addr:#x} is {m}, expected optimized {variant:?}"
    );
    let Some(b) = branch_at(addr) else {
        return Err(format!(
            "{addr:#x} holds {:#010x}, not a branch",
            word(addr)
        ));
    };
    ensure!(
        PLATFORM.slot_region().contains(&(b.target() as usize)),
        "{addr:#x} branches to {:#x}, outside the slot region",
        b.target()
    );
    Ok(())
}

pub fn optimized_probes_run_handlers_through_both_trampoline_variants() -> TestResult {
    let before = text_snapshot();
    let slots_before = KPROBES.slot_counts().map_err(|e| alloc::format!("{e}"))?;
    let r = both_variants();
    // Whatever failed, leave no probe behind for the next test.
    for p in [&STEPPED, &DIRECT, &COND, &POP_PC] {
        match KPROBES.unregister(p) {
            Ok(()) | Err(KprobeError::NotRegistered) => {}
            Err(err) => return Err(e(err)),
        }
    }
    r?;
    ensure!(text_snapshot() == before, "text differs after unregister");
    let after = KPROBES
        .slot_counts()
        .map_err(|e| alloc::format!("{e}"))?
        .ok_or("no slots")?;
    ensure!(
        after.in_use == 0 && after.dirty == 0 && slots_before.is_none_or(|b| b == after),
        "slots after: {after:?}, before: {slots_before:?}"
    );
    Ok(())
}

fn both_variants() -> TestResult {
    let sites = [
        (&DIRECT, a_add()),
        (&COND, a_cond() + 4),
        (&POP_PC, a_push() + 12),
    ];
    for (p, a) in sites {
        KPROBES.register(p, a).map_err(e)?;
        ensure!(
            KPROBES.mechanism_of(p).map_err(e)? == Mechanism::Breakpoint,
            "registered probe is not a pending breakpoint"
        );
    }
    let rv = RENDEZVOUS.completed();
    let report = KPROBES.optimize_pending().map_err(e)?;
    let used = RENDEZVOUS.completed().wrapping_sub(rv);
    ensure!(
        report.optimized == 3 && report.not_optimized == 0 && used == 1,
        "{report:?}, {used} rendezvous"
    );
    expect_optimized(&DIRECT, a_add(), Variant::Direct)?;
    expect_optimized(&COND, a_cond() + 4, Variant::Direct)?;
    expect_optimized(&POP_PC, a_push() + 12, Variant::StepOnly)?;
    let cond_branch = branch_at(a_cond() + 4).ok_or("no branch")?;
    ensure!(
        cond_branch.cond() == Insn(word(a_cond() + 4)).cond(),
        "conditional probe's branch lost its condition"
    );
    // Direct variant: the pre handler's change reaches the instruction run in the slot.
    let added = add(20, 22);
    ensure!(added == 64, "direct: add(20, 22) = {added}");
    // Conditional: the branch is only taken when NE holds, and then r1 is doubled.
    let (c0, c1) = (cond(0, 5), cond(3, 5));
    ensure!((c0, c1) == (0, 13), "conditional results {c0} {c1}");
    ensure!(COND.hits() == 1, "conditional fired {} times", COND.hits());
    // Step variant: `pop {r4, pc}` reads PC from the stack; the callback steps it.
    let pushed = push(21);
    ensure!(pushed == 42, "step-only: push(21) = {pushed}");
    ensure!(POP_PC.hits() == 1, "pop-pc probe hits {}", POP_PC.hits());
    // A post handler on the direct site makes it take the step path.
    KPROBES.register(&STEPPED, a_add()).map_err(e)?;
    POSTS.store(0, Ordering::Relaxed);
    let r = add(5, 6);
    ensure!(
        r == 5 + 12 + 1000 && POSTS.load(Ordering::Relaxed) == 1,
        "with a post handler: add(5, 6) = {r}, {} posts",
        POSTS.load(Ordering::Relaxed)
    );
    let seen = (
        SEEN[0].load(Ordering::Relaxed),
        SEEN[1].load(Ordering::Relaxed),
    );
    ensure!(seen == (5, 12), "second pre handler saw {seen:?}");
    ensure!(
        DIRECT.hits() == 2 && STEPPED.hits() == 1,
        "hits {} {}",
        DIRECT.hits(),
        STEPPED.hits()
    );
    Ok(())
}

static RUNGS: [Kprobe; 1000] = [const { Kprobe::new(None, None, 0) }; 1000];

pub fn optimizing_1000_probes_takes_one_rendezvous() -> TestResult {
    let before = text_snapshot();
    for (i, p) in RUNGS.iter().enumerate() {
        KPROBES.register(p, a_ladder() + 4 * i).map_err(e)?;
    }
    let rv = RENDEZVOUS.completed();
    let report = KPROBES.optimize_pending().map_err(e)?;
    let used = RENDEZVOUS.completed().wrapping_sub(rv);
    let result = ladder(7);
    let optimized = (0..RUNGS.len())
        .filter(|&i| branch_at(a_ladder() + 4 * i).is_some())
        .count();
    let counts = KPROBES.slot_counts().map_err(|e| alloc::format!("{e}"))?;
    for p in &RUNGS {
        KPROBES.unregister(p).map_err(e)?;
    }
    kprint!(
        "\n     optimized {} probes with {used} rendezvous; slots {counts:?} ",
        report.optimized
    );
    ensure!(
        report.optimized == 1000 && report.not_optimized == 0,
        "{report:?}"
    );
    ensure!(used == 1, "{used} rendezvous for one batch");
    ensure!(optimized == 1000, "{optimized} branches in text");
    ensure!(
        result == 7 + LADDER as u32,
        "ladder(7) = {result} through 1000 trampolines"
    );
    ensure!(
        RUNGS.iter().all(|p| p.hits() == 1),
        "not every rung fired once"
    );
    ensure!(text_snapshot() == before, "text differs after unregister");
    Ok(())
}

/// The kernel's platform with a slot region 128 MiB above RAM's start: out of reach of
/// every `b` in kernel text (never mapped executable; it is never written either).
static FAR_PLATFORM: TestPlatform = TestPlatform {
    text: || PLATFORM.kernel_text(),
    never_probe: || PLATFORM.never_probe(),
    slots: || {
        let far = crate::board::BOARD.ram_base + 128 * 1024 * 1024;
        far..far + 64 * 1024
    },
    alias: |addr| PLATFORM.text_alias(addr),
    cpu_index: || PLATFORM.cpu_index_register(),
};
static FAR_KPROBES: Kprobes<TestPlatform, KernelCacheOps, 8> =
    Kprobes::new(&FAR_PLATFORM, &RENDEZVOUS);
static FAR: Kprobe = Kprobe::new(Some(double_r1), None, 0);

fn far_hook(frame: &mut TrapFrame) -> bool {
    matches!(
        FAR_KPROBES.handle_undefined(frame, &mut DirectMemory),
        Trap::Handled | Trap::Retry
    )
}

pub fn probes_stay_working_breakpoints_when_slots_are_out_of_reach() -> TestResult {
    let before = text_snapshot();
    let a = a_cond() + 4;
    trap::set_undefined_hook(Some(far_hook));
    let run = || -> TestResult {
        FAR_KPROBES.register(&FAR, a).map_err(e)?;
        let report = FAR_KPROBES.optimize_pending().map_err(e)?;
        let m = FAR_KPROBES.mechanism_of(&FAR).map_err(e)?;
        let mut listed = Vec::new();
        FAR_KPROBES.list(|i| listed.push(i.mechanism)).map_err(e)?;
        let (c0, c1) = (cond(0, 5), cond(3, 5));
        let w = word(a);
        FAR_KPROBES.unregister(&FAR).map_err(e)?;
        kprint!("\n     out of reach: {m} ");
        ensure!(
            report.optimized == 0 && report.not_optimized == 1,
            "{report:?}"
        );
        ensure!(
            m == Mechanism::NotOptimized(NotOptimized::OutOfRange),
            "mechanism {m:?}"
        );
        ensure!(listed == [m], "listing says {listed:?}");
        ensure!(
            w == BreakpointWord::for_original(Insn(before_word(&before, a))).word(),
            "text holds {w:#010x}, not the breakpoint"
        );
        ensure!((c0, c1) == (0, 13), "results {c0} {c1}");
        ensure!(FAR.hits() == 1, "fired {} times", FAR.hits());
        Ok(())
    };
    let r = run();
    trap::set_undefined_hook(None);
    r?;
    ensure!(text_snapshot() == before, "text differs after unregister");
    Ok(())
}

fn before_word(before: &[u32], addr: usize) -> u32 {
    before[(addr - PLATFORM.kernel_text().start) / 4]
}

/// The churned probes; the last one is on a 32-bit Thumb instruction (`add.w`, which its
/// slot runs in place).
static CHURNED: [Kprobe; 4] = [
    Kprobe::new(Some(count_churned), None, 0),
    Kprobe::new(Some(count_churned), Some(count_churned), 1),
    Kprobe::new(Some(count_churned), None, 2),
    Kprobe::new(Some(count_churned), None, 3),
];
static CHURNED_CALLS: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];
static STEADY: [Kprobe; 4] = [const { Kprobe::new(None, None, 0) }; 4];
const ROUNDS: u32 = 10_000;

fn count_churned(p: &Kprobe, _: &mut TrapFrame) {
    CHURNED_CALLS[p.data()].fetch_add(1, Ordering::Relaxed);
}

/// One round on core 0: every transition an optimized probe has.
fn churn_round(p: &'static Kprobe, a: usize) -> Result<(), KprobeError> {
    KPROBES.register(p, a)?;
    KPROBES.optimize_pending()?;
    KPROBES.disable(p)?; // branch -> original, slot dirty, reclaimed
    KPROBES.enable(p)?; // breakpoint
    KPROBES.optimize_pending()?; // branch again
    KPROBES.unregister(p) // branch -> original
}

pub fn optimize_churn_on_core0_while_three_cores_call_probed_functions() -> TestResult {
    let before = (text_snapshot(), thumb_probes::text());
    let rounds = crate::bootargs::rounds(ROUNDS);
    let slots_before = KPROBES.slot_counts().map_err(|e| alloc::format!("{e}"))?;
    let sites = [a_add(), a_cond() + 4, a_push(), thumb_probes::a_add() + 2];
    // Steady probes: optimized for the whole test on rungs 0-3 of the ladder; core c
    // enters the ladder at rung c, so the probe on rung c fires once per call of every
    // core 1..=c — exact counts while everything around them churns.
    for (cpu, p) in STEADY.iter().enumerate() {
        KPROBES.register(p, a_ladder() + 4 * cpu).map_err(e)?;
    }
    KPROBES.optimize_pending().map_err(e)?;
    for c in &CHURNED_CALLS {
        c.store(0, Ordering::Relaxed);
    }
    let stop = AtomicBool::new(false);
    let wrong = AtomicU32::new(0);
    let calls: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];
    let failure = AtomicU32::new(u32::MAX);
    let hits_before_unregister: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];
    smp::on_each_cpu(&|cpu| {
        if cpu == 0 {
            for round in 0..rounds {
                let i = round as usize % 4;
                let p = &CHURNED[i];
                if churn_round(p, sites[i]).is_err() {
                    failure.store(round, Ordering::Relaxed);
                    break;
                }
                hits_before_unregister[i].fetch_add(p.hits() as u32, Ordering::Relaxed);
            }
            stop.store(true, Ordering::Release);
        } else {
            let mut i = 0u32;
            while !stop.load(Ordering::Acquire) {
                i = i.wrapping_add(1);
                // kp_ladder from rung `cpu` on: the steady probe there fires once.
                // SAFETY: every rung starts an AAPCS tail of the ladder function.
                let rung = unsafe {
                    core::mem::transmute::<usize, extern "C" fn(u32) -> u32>(a_ladder() + 4 * cpu)
                };
                if add(i, 3) != i + 3
                    || cond(i & 1, 4) != if i & 1 != 0 { 5 } else { 0 }
                    || push(i) != 2 * i
                    || thumb_probes::add(i, 1) != i.wrapping_add(4)
                    || rung(i) != i + (LADDER - cpu) as u32
                {
                    wrong.fetch_add(1, Ordering::Relaxed);
                }
                calls[cpu].fetch_add(1, Ordering::Relaxed);
                core::hint::spin_loop();
            }
        }
    });
    let steady: Vec<(u64, u64)> = (1..4)
        .map(|cpu| {
            let entered: u64 = (1..=cpu)
                .map(|c| u64::from(calls[c].load(Ordering::Relaxed)))
                .sum();
            (STEADY[cpu].hits(), entered)
        })
        .collect();
    for p in &STEADY {
        KPROBES.unregister(p).map_err(e)?;
    }
    let failed = failure.load(Ordering::Relaxed);
    ensure!(failed == u32::MAX, "churn failed in round {failed}");
    ensure!(
        wrong.load(Ordering::Relaxed) == 0,
        "{} wrong results",
        wrong.load(Ordering::Relaxed)
    );
    for (cpu, (hits, n)) in steady.iter().enumerate() {
        ensure!(
            *hits == *n && *n > 0,
            "rung {}'s steady probe counted {hits} of {n} calls",
            cpu + 1
        );
    }
    for i in 0..4 {
        let handler = CHURNED_CALLS[i].load(Ordering::Relaxed);
        let hits = hits_before_unregister[i].load(Ordering::Relaxed);
        // Probe 1 has a pre and a post handler: two calls per hit.
        let per_hit = if i == 1 { 2 } else { 1 };
        ensure!(
            handler == per_hit * hits,
            "churned probe {i}: handlers ran {handler} times for {hits} hits"
        );
    }
    ensure!(
        (text_snapshot(), thumb_probes::text()) == before,
        "text differs after the churn"
    );
    // The last unoptimize's reclaim may have seen a caller inside its slot (then the
    // slot stays dirty); the callers have stopped, so one more reclaim finds them out.
    KPROBES.reclaim_slots().map_err(e)?;
    let after = KPROBES
        .slot_counts()
        .map_err(|e| alloc::format!("{e}"))?
        .ok_or("no slots")?;
    ensure!(
        after.in_use == 0 && after.dirty == 0 && slots_before.is_none_or(|b| b == after),
        "slots after: {after:?}"
    );
    kprint!(
        "\n     optimize churn: {rounds} rounds (6 transitions each; A32 and Thumb) while {} \
         cores made {} calls ",
        smp::online_count() - 1,
        calls.iter().map(|c| c.load(Ordering::Relaxed)).sum::<u32>()
    );
    Ok(())
}

/// Sets Z (so the probed `addne` is skipped) and tries to change what a handler may not:
/// the mode (to IRQ), the I and F masks and the T bit.
fn set_z_and_meddle(_: &Kprobe, f: &mut TrapFrame) {
    f.cpsr = (f.cpsr | (1 << 30) | 0xe0) & !0x1f | 0x12;
}

static MEDDLER: Kprobe = Kprobe::new(Some(set_z_and_meddle), None, 0);

fn cpsr_now() -> u32 {
    let cpsr: u32;
    // SAFETY: reads CPSR; no side effects.
    unsafe {
        core::arch::asm!("mrs {c}, cpsr", c = out(reg) cpsr, options(nomem, nostack, preserves_flags))
    };
    cpsr
}

pub fn a_handler_changes_only_the_flags_through_an_optimized_probe() -> TestResult {
    KPROBES.register(&MEDDLER, a_cond() + 4).map_err(e)?;
    let run = || -> TestResult {
        KPROBES.optimize_pending().map_err(e)?;
        ensure!(
            KPROBES.mechanism_of(&MEDDLER).map_err(e)? == Mechanism::Optimized(Variant::Direct),
            "not optimized"
        );
        let before = cpsr_now();
        // kp_cond(3, 5): `cmp r0, #0` clears Z, the handler sets it, so `addne` (run in
        // the slot with the handler's flags) is skipped: the result is 3, not 8.
        let r = cond(3, 5);
        let after = cpsr_now();
        ensure!(
            r == 3,
            "cond(3, 5) = {r}: the handler's Z flag was not honoured"
        );
        ensure!(
            after & 0xff == before & 0xff,
            "mode/mask/state changed by a handler: {before:#x} -> {after:#x}"
        );
        ensure!(MEDDLER.hits() == 1, "hits {}", MEDDLER.hits());
        Ok(())
    };
    let r = run();
    KPROBES.unregister(&MEDDLER).map_err(e)?;
    r
}
