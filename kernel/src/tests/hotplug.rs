//! CPU hotplug under probes (virt only: vexpress-a15 and raspi2b have no PSCI to power a
//! core off): cores 1–3 power off and on through PSCI 1,000 times in all while core 0 churns
//! probes and every core that is online calls probed functions.
//!
//! Each time a core comes online (`smp::kmain_secondary`: MMU, interrupt controller,
//! then the crate's `cpu_online` hook) it runs [`visit`] — calls through one steady optimized probe that
//! changes the result and through the three churned sites — and powers itself off
//! again (`smp::go_offline`: the crate's `cpu_offline` hook, then PSCI CPU_OFF). Core 0
//! starts whichever core PSCI reports off, between churn rounds, until 1,000 starts.

use super::kprobes::{a_add, a_cond, a_push, add, cond, push, text_snapshot};
use crate::probes::{KPROBES, RENDEZVOUS};
use crate::testing::TestResult;
use crate::{ensure, kprint, smp, timer};
use alloc::format;
use alloc::string::String;
use armv7_kprobes::TrapFrame;
use armv7_kprobes::kprobe::{Kprobe, KprobeError, Mechanism};
use core::sync::atomic::{AtomicU32, Ordering};

// `kp_hot(a) = a + 7`, probed on its `add` by a steady optimized probe adding 1000.
// SAFETY: an AAPCS function (r0 in, r0 out, nothing else touched) that only adds.
core::arch::global_asm!(
    ".pushsection .text.kp_hot, \"ax\", %progbits",
    ".arm",
    ".p2align 2",
    ".global kp_hot",
    "kp_hot:",
    "    add   r0, r0, #7",
    "    bx    lr",
    ".popsection",
);

unsafe extern "C" {
    fn kp_hot(a: u32) -> u32;
}

fn hot(a: u32) -> u32 {
    // SAFETY: kp_hot is the AAPCS function above.
    unsafe { kp_hot(a) }
}

/// Power-on cycles of cores 1–3 in all.
const CYCLES: u32 = 1000;
/// Calls of each probed function per visit of a core.
const CALLS_PER_VISIT: u32 = 20;
/// Spins with interrupts masked before going offline (each yields the vCPU under TCG).
const TEARDOWN_SPINS: u32 = 200;
/// Longer than this without progress is a hang.
const STALL_NS: u64 = 20_000_000_000;

fn plus_thousand(_: &Kprobe, f: &mut TrapFrame) {
    f.r[0] = f.r[0].wrapping_add(1000);
}

fn count_churned(p: &Kprobe, _: &mut TrapFrame) {
    CHURNED_CALLS[p.data()].fetch_add(1, Ordering::Relaxed);
}

static STEADY: Kprobe = Kprobe::new(Some(plus_thousand), None, 0);
static CHURNED: [Kprobe; 3] = [
    Kprobe::new(Some(count_churned), None, 0),
    Kprobe::new(Some(count_churned), Some(count_churned), 1),
    Kprobe::new(Some(count_churned), None, 2),
];
static CHURNED_CALLS: [AtomicU32; 3] = [const { AtomicU32::new(0) }; 3];
static VISITS: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];
static CALLS: AtomicU32 = AtomicU32::new(0);
static WRONG: AtomicU32 = AtomicU32::new(0);

/// What a core does each time it comes online, before it powers itself off again.
fn visit(cpu: usize) {
    let base = VISITS[cpu].fetch_add(1, Ordering::Relaxed) * CALLS_PER_VISIT;
    for k in 0..CALLS_PER_VISIT {
        let i = base + k + cpu as u32;
        if hot(i) != i + 1007
            || add(i, 3) != i + 3
            || cond(i & 1, 4) != if i & 1 != 0 { 5 } else { 0 }
            || push(i) != 2 * i
        {
            WRONG.fetch_add(1, Ordering::Relaxed);
        }
        CALLS.fetch_add(1, Ordering::Relaxed);
        core::hint::spin_loop();
    }
    // Shut down as a kernel does: interrupts masked first, then some teardown, then the
    // hook (`smp::go_offline`). A rendezvous core 0 starts meanwhile counts this core
    // and waits for it: the hook's wait for the lock must answer it before the core
    // leaves the online set (without the hook, that rendezvous would wait forever).
    // SAFETY: masks IRQ and FIQ on this core only; it powers off with them masked.
    unsafe { core::arch::asm!("cpsid if", options(nostack, preserves_flags)) };
    for _ in 0..TEARDOWN_SPINS {
        core::hint::spin_loop();
    }
}

/// One churn round on core 0: every transition an optimized probe has.
fn churn_round(p: &'static Kprobe, a: usize) -> Result<(), KprobeError> {
    KPROBES.register(p, a)?;
    KPROBES.optimize_pending()?;
    KPROBES.disable(p)?;
    KPROBES.enable(p)?;
    KPROBES.optimize_pending()?;
    KPROBES.unregister(p)
}

fn e(err: impl core::fmt::Display) -> String {
    format!("{err}")
}

/// The cores the runner gave QEMU (the test uses them all, not four).
fn cores() -> usize {
    crate::bootargs::cpus()
}

/// Every core, as a mask.
fn all_cores() -> u32 {
    (1 << cores()) - 1
}

/// Waits until cores 1.. are all powered off and out of the online set.
fn wait_all_off() -> TestResult {
    let deadline = timer::now_ns() + STALL_NS;
    let secondaries = all_cores() & !1;
    while !(1..cores()).all(smp::is_off) || smp::online_mask() & secondaries != 0 {
        ensure!(
            timer::now_ns() < deadline,
            "cores 1.. not all off (online mask {:#x})",
            smp::online_mask()
        );
        core::hint::spin_loop();
    }
    Ok(())
}

pub fn cores_1_to_3_off_and_on_1000_times_while_core0_churns_probes() -> TestResult {
    ensure!(
        cores() >= 2 && smp::online_mask() == all_cores(),
        "needs every core online and another besides core 0, mask {:#x}",
        smp::online_mask()
    );
    let before = text_snapshot();
    let slots_before = KPROBES.slot_counts().map_err(e)?;
    let rendezvous_before = RENDEZVOUS.completed();
    KPROBES
        .register(&STEADY, kp_hot as *const () as usize)
        .map_err(e)?;
    KPROBES.optimize_pending().map_err(e)?;
    ensure!(
        matches!(
            KPROBES.mechanism_of(&STEADY).map_err(e)?,
            Mechanism::Optimized(_)
        ),
        "the steady probe is not optimized"
    );
    ensure!(hot(1) == 1008, "hot(1) = {} on core 0", hot(1));

    smp::set_online_task(Some(visit));
    for cpu in 1..cores() {
        smp::request_offline(cpu);
    }
    wait_all_off()?;

    let sites = [a_add(), a_cond() + 4, a_push()];
    let (mut started, mut rounds, mut refused) = (0u32, 0u32, 0u32);
    let mut last_progress = timer::now_ns();
    let mut failure = None;
    while started < CYCLES {
        let i = rounds as usize % 3;
        if let Err(err) = churn_round(&CHURNED[i], sites[i]) {
            failure = Some(format!("churn round {rounds}: {err}"));
            break;
        }
        rounds += 1;
        // Under QEMU's round-robin TCG, let the other vCPUs run: a core waiting for the
        // initiator lock in a hotplug hook gets it only between two rendezvous.
        core::hint::spin_loop();
        for cpu in 1..cores() {
            if started < CYCLES && smp::is_off(cpu) {
                match smp::cpu_on(cpu) {
                    0 => {
                        started += 1;
                        last_progress = timer::now_ns();
                    }
                    _ => refused += 1,
                }
            }
        }
        if timer::now_ns() - last_progress > STALL_NS {
            failure = Some(format!(
                "no core powered off for 20 s after {started} starts"
            ));
            break;
        }
    }
    // Whatever happened, bring the machine back: cores serve their mailboxes again.
    let all_off = wait_all_off();
    smp::set_online_task(None);
    for cpu in 1..cores() {
        smp::cpu_on(cpu);
    }
    let deadline = timer::now_ns() + STALL_NS;
    while smp::online_mask() != all_cores() && timer::now_ns() < deadline {
        core::hint::spin_loop();
    }
    KPROBES.unregister(&STEADY).map_err(e)?;
    if let Some(f) = failure {
        return Err(f);
    }
    all_off?;
    ensure!(
        smp::online_mask() == all_cores(),
        "cores did not come back: mask {:#x}",
        smp::online_mask()
    );

    let visits: u32 = VISITS.iter().map(|v| v.load(Ordering::Relaxed)).sum();
    let calls = CALLS.load(Ordering::Relaxed);
    let wrong = WRONG.load(Ordering::Relaxed);
    ensure!(wrong == 0, "{wrong} wrong results in {calls} calls");
    ensure!(visits == CYCLES, "{visits} visits for {CYCLES} power-ons");
    ensure!(calls == CYCLES * CALLS_PER_VISIT, "{calls} calls");
    // Every call of hot() on a core fresh from power-on went through the steady probe.
    ensure!(
        STEADY.hits() == u64::from(calls) + 1,
        "steady probe: {} hits for {} calls",
        STEADY.hits(),
        calls + 1
    );
    ensure!(text_snapshot() == before, "text differs after the test");
    let after = KPROBES.slot_counts().map_err(e)?.ok_or("no slots")?;
    ensure!(
        after.in_use == 0 && after.dirty == 0 && slots_before.is_none_or(|b| b == after),
        "slots after: {after:?}"
    );
    let per_core: alloc::vec::Vec<u32> = (1..cores())
        .map(|c| VISITS[c].load(Ordering::Relaxed))
        .collect();
    kprint!(
        "\n     hotplug: {started} power-ons of the other cores ({per_core:?} visits, {refused} CPU_ON refused), {calls} calls on them, {wrong} wrong; {rounds} churn rounds, {} rendezvous ",
        RENDEZVOUS.completed().wrapping_sub(rendezvous_before)
    );
    Ok(())
}
