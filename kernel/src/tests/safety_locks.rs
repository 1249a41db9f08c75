//! The registry's lock rules on the real machine: calls from probe handlers and from
//! IRQ-masked threads, made exactly while another core holds the registry lock inside a
//! rendezvous that waits for them, are refused at once (never a hang); one registry per
//! text; handlers run with IRQ and FIQ masked on both paths.

use super::kprobes::{a_add, a_cond, a_per_cpu, a_push, add, cond, per_cpu, push, text_snapshot};
use crate::cache::KernelCacheOps;
use crate::platform::{PLATFORM, QemuPlatform};
use crate::probes::{KPROBES, KRETPROBES, RENDEZVOUS};
use crate::testing::TestResult;
use crate::{ensure, kprint, smp, trap};
use alloc::format;
use alloc::string::String;
use armv7_kprobes::arch::memory::DirectMemory;
use armv7_kprobes::claims::ClaimError;
use armv7_kprobes::insn::{BreakpointWord, Insn};
use armv7_kprobes::kprobe::{Kprobe, KprobeError, Kprobes, Mechanism, NotOptimized, Trap};
use armv7_kprobes::kretprobe::{Kretprobe, KretprobeError, KretprobeInstance, KretprobePool};
use armv7_kprobes::slots::SlotError;
use armv7_kprobes::{Platform, TrapFrame};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

fn e(err: impl core::fmt::Display) -> String {
    format!("{err}")
}

const ROUNDS: u32 = 1000;
/// Spins before a wait counts as timed out (seconds under QEMU, never a hang).
const PATIENCE: u32 = 50_000_000;

/// On core 1, the probe whose handler calls into the registries.
static CALLER: Kprobe = Kprobe::new(Some(call_in_while_invited), None, 0);
/// Core 0's probe: registering and unregistering it is a rendezvous under the lock.
static CHURNED: Kprobe = Kprobe::new(None, None, 0);
/// What the refused calls try to register.
static OTHER: Kprobe = Kprobe::new(None, None, 0);
static POOL: KretprobePool<1, 0> = KretprobePool::new();
static RETURNS: Kretprobe = Kretprobe::new(None, on_return, &POOL, 0);

fn on_return(_: &Kretprobe, _: &mut KretprobeInstance<'_>, _: &mut TrapFrame) {}

static READY: AtomicBool = AtomicBool::new(false);
static REFUSED: AtomicU32 = AtomicU32::new(0);
static WRONG: AtomicU32 = AtomicU32::new(0);
static TIMEOUTS: AtomicU32 = AtomicU32::new(0);

/// Waits until this CPU has a rendezvous invitation it cannot take (IRQs masked).
fn wait_invited(cpu: usize) -> bool {
    (0..PATIENCE).any(|_| {
        core::hint::spin_loop();
        RENDEZVOUS.invitation_pending(cpu)
    })
}

/// Every kind of registry call, with IRQs masked while a rendezvous waits for this CPU:
/// each must be refused with `InterruptsMasked` (and change nothing).
fn every_call_is_refused(cpu: usize) -> bool {
    let masked = KprobeError::InterruptsMasked { cpu };
    KPROBES.list(|_| {}) == Err(masked)
        && KPROBES.register(&OTHER, a_cond() + 4) == Err(masked)
        && KPROBES.optimize_pending() == Err(masked)
        && KPROBES.allocate_slot().map(|_| ()) == Err(masked)
        && KRETPROBES.register(&KPROBES, &RETURNS, a_push()) == Err(KretprobeError::Kprobe(masked))
}

/// Calls in at the worst moment: once core 0 holds the registry lock and waits in a
/// rendezvous for this CPU, which cannot answer (a handler runs with IRQs masked).
fn call_in_while_invited(_: &Kprobe, _: &mut TrapFrame) {
    let cpu = smp::cpu_id();
    READY.store(true, Ordering::Release);
    if !wait_invited(cpu) {
        TIMEOUTS.fetch_add(1, Ordering::Relaxed);
    } else if every_call_is_refused(cpu) {
        REFUSED.fetch_add(1, Ordering::Relaxed);
    } else {
        WRONG.fetch_add(1, Ordering::Relaxed);
    }
}

/// The same from thread context with IRQs masked by the caller itself.
fn masked_thread_calls_in() {
    let irq = PLATFORM.mask_interrupts();
    call_in_while_invited(&OTHER, &mut TrapFrame::default());
    PLATFORM.restore_interrupts(irq);
}

pub fn registry_calls_during_a_rendezvous_that_waits_for_their_cpu_are_refused_not_hung()
-> TestResult {
    ensure!(smp::online_mask() & 0b11 == 0b11, "needs cores 0 and 1");
    let before = text_snapshot();
    for c in [&REFUSED, &WRONG, &TIMEOUTS] {
        c.store(0, Ordering::Relaxed);
    }
    KPROBES.register(&CALLER, a_per_cpu(1)).map_err(e)?;
    let (go, done) = (AtomicU32::new(0), AtomicU32::new(0));
    let stop = u32::MAX;
    let failure = AtomicU32::new(0);
    smp::on_each_cpu(&|cpu| match cpu {
        0 => {
            for round in 1..=ROUNDS {
                if round == ROUNDS / 2 + 1 && KPROBES.optimize_pending().is_err() {
                    failure.store(round, Ordering::Relaxed);
                    break;
                }
                READY.store(false, Ordering::Release);
                go.store(round, Ordering::Release);
                let ready = (0..PATIENCE).any(|_| {
                    core::hint::spin_loop();
                    READY.load(Ordering::Acquire)
                });
                // Core 1 is now spinning with IRQs masked: this rendezvous waits for it.
                let r = KPROBES
                    .register(&CHURNED, a_add())
                    .and_then(|()| KPROBES.unregister(&CHURNED));
                let finished = (0..PATIENCE).any(|_| {
                    core::hint::spin_loop();
                    done.load(Ordering::Acquire) == round
                });
                if !ready || r.is_err() || !finished {
                    failure.store(round, Ordering::Relaxed);
                    break;
                }
            }
            go.store(stop, Ordering::Release);
        }
        1 => {
            let mut seen = 0;
            loop {
                let round = go.load(Ordering::Acquire);
                if round == stop {
                    break;
                }
                if round == seen {
                    core::hint::spin_loop();
                    continue;
                }
                seen = round;
                if round % 2 == 1 {
                    // Through the probe's handler (breakpoint, then optimized).
                    if per_cpu(1, round) != round + 1 {
                        WRONG.fetch_add(1, Ordering::Relaxed);
                    }
                } else {
                    masked_thread_calls_in();
                }
                done.store(round, Ordering::Release);
            }
        }
        _ => {}
    });
    let mechanism = KPROBES.mechanism_of(&CALLER).map_err(e)?;
    KPROBES.unregister(&CALLER).map_err(e)?;
    let (refused, wrong, timeouts) = (
        REFUSED.load(Ordering::Relaxed),
        WRONG.load(Ordering::Relaxed),
        TIMEOUTS.load(Ordering::Relaxed),
    );
    kprint!(
        "\n     {refused} rounds: every call refused while the rendezvous waited \
         (handler: breakpoint then {mechanism}; masked thread); {wrong} wrong, {timeouts} \
         timed out "
    );
    ensure!(
        failure.load(Ordering::Relaxed) == 0,
        "core 0 stopped in round {}",
        failure.load(Ordering::Relaxed)
    );
    ensure!(
        (refused, wrong, timeouts) == (ROUNDS, 0, 0),
        "refused {refused}, wrong {wrong}, timed out {timeouts}"
    );
    ensure!(
        matches!(mechanism, Mechanism::Optimized(_)),
        "the second half ran through a {mechanism} probe, not an optimized one"
    );
    ensure!(
        OTHER.addr().is_none() && !RETURNS.is_registered(),
        "a refused call registered"
    );
    ensure!(text_snapshot() == before, "text not restored");
    Ok(())
}

/// A second registry over the kernel's text (the same platform and rendezvous).
static SECOND: Kprobes<QemuPlatform, KernelCacheOps, 64> = Kprobes::new(&PLATFORM, &RENDEZVOUS);
static FIRST_ADD: Kprobe = Kprobe::new(None, None, 0);
static FIRST_COND: Kprobe = Kprobe::new(None, None, 0);
static SECOND_PROBE: Kprobe = Kprobe::new(None, None, 0);

/// The second registry's trap path, consulted before the kernel's.
fn second_hook(frame: &mut TrapFrame) -> bool {
    matches!(
        SECOND.handle_undefined(frame, &mut DirectMemory),
        Trap::Handled | Trap::Retry
    )
}

pub fn a_second_registry_over_the_same_text_cannot_take_the_first_ones_probes() -> TestResult {
    trap::set_undefined_hook(Some(second_hook));
    let r = second_registry();
    trap::set_undefined_hook(None);
    r
}

fn second_registry() -> TestResult {
    let before = text_snapshot();
    KPROBES.register(&FIRST_ADD, a_add()).map_err(e)?;
    KPROBES.optimize_pending().map_err(e)?;
    let branch = super::kprobes::word(a_add());
    let r = SECOND.register(&SECOND_PROBE, a_add());
    ensure!(
        r == Err(KprobeError::ForeignProbe {
            addr: a_add(),
            word: branch
        }),
        "an optimized probe's branch taken for an instruction: {r:?}"
    );
    KPROBES.register(&FIRST_COND, a_cond() + 4).map_err(e)?;
    let bp = super::kprobes::word(a_cond() + 4);
    ensure!(
        BreakpointWord::is_breakpoint(Insn(bp)),
        "{bp:#x} is no breakpoint"
    );
    let r = SECOND.register(&SECOND_PROBE, a_cond() + 4);
    ensure!(
        r == Err(KprobeError::ForeignProbe {
            addr: a_cond() + 4,
            word: bp
        }),
        "a breakpoint taken for an instruction: {r:?}"
    );
    // Its own probe works as a breakpoint; the slots stay the first registry's.
    SECOND.register(&SECOND_PROBE, a_push()).map_err(e)?;
    let report = SECOND.optimize_pending().map_err(e)?;
    let m = SECOND.mechanism_of(&SECOND_PROBE).map_err(e)?;
    ensure!(
        report.optimized == 0
            && matches!(
                m,
                Mechanism::NotOptimized(NotOptimized::SlotRegion(SlotError::Claimed(
                    ClaimError::Overlaps { .. }
                )))
            ),
        "{report:?} {m}"
    );
    ensure!(
        add(1, 2) == 3 && cond(3, 5) == 8 && push(4) == 8,
        "probed functions"
    );
    SECOND.unregister(&SECOND_PROBE).map_err(e)?;
    KPROBES.unregister(&FIRST_COND).map_err(e)?;
    KPROBES.unregister(&FIRST_ADD).map_err(e)?;
    ensure!(text_snapshot() == before, "text not restored exactly");
    ensure!(
        add(1, 2) == 3 && cond(3, 5) == 8 && push(4) == 8,
        "probed functions after"
    );
    Ok(())
}

static SEEN_CPSR: AtomicU32 = AtomicU32::new(0);

fn record_cpsr(_: &Kprobe, _: &mut TrapFrame) {
    let cpsr: u32;
    // SAFETY: reads CPSR; no side effects.
    unsafe {
        core::arch::asm!("mrs {c}, cpsr", c = out(reg) cpsr, options(nomem, nostack, preserves_flags))
    };
    SEEN_CPSR.store(cpsr, Ordering::Relaxed);
}

static MASK_PROBE: Kprobe = Kprobe::new(Some(record_cpsr), None, 0);

pub fn handlers_run_with_irq_and_fiq_masked_on_both_paths() -> TestResult {
    const I_F: u32 = 0xc0;
    KPROBES.register(&MASK_PROBE, a_add()).map_err(e)?;
    let mut seen = [0u32; 2];
    for (i, optimize) in [false, true].into_iter().enumerate() {
        if optimize {
            KPROBES.optimize_pending().map_err(e)?;
        }
        SEEN_CPSR.store(0, Ordering::Relaxed);
        // The caller runs with FIQs unmasked (this kernel masks them by default, which
        // would hide a path that leaves them as the caller had them).
        // SAFETY: the kernel has no FIQ source, so unmasking F changes nothing else;
        // it is masked again right after the call.
        unsafe { core::arch::asm!("cpsie f", options(nomem, nostack, preserves_flags)) };
        let sum = add(2, 3);
        // SAFETY: restores the kernel's default (F masked).
        unsafe { core::arch::asm!("cpsid f", options(nomem, nostack, preserves_flags)) };
        ensure!(sum == 5, "add");
        seen[i] = SEEN_CPSR.load(Ordering::Relaxed);
    }
    let m = KPROBES.mechanism_of(&MASK_PROBE).map_err(e)?;
    KPROBES.unregister(&MASK_PROBE).map_err(e)?;
    ensure!(
        matches!(m, Mechanism::Optimized(_)),
        "second hit not optimized: {m}"
    );
    ensure!(
        seen.iter().all(|c| c & I_F == I_F),
        "CPSR in the handler: breakpoint {:#x}, optimized {:#x} (I and F must be set)",
        seen[0],
        seen[1]
    );
    Ok(())
}
