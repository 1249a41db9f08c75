//! The demo the README's first command boots: the crate as a user meets it.

use crate::probes::KPROBES;
use crate::tests::kprobes::{KernelSymbols, add, cond, push};
use crate::{kprintln, smp};
use armv7_kprobes::TrapFrame;
use armv7_kprobes::kprobe::{Kprobe, KprobeError};
use core::sync::atomic::{AtomicU32, Ordering};

static LAST_SUM_ARGS: AtomicU32 = AtomicU32::new(0);

fn on_add(_: &Kprobe, f: &mut TrapFrame) {
    // A pre handler sees the arguments in r0/r1.
    LAST_SUM_ARGS.store(f.r[0] + f.r[1], Ordering::Relaxed);
}

fn on_pop(_: &Kprobe, _: &mut TrapFrame) {
    // A handler that calls a probed function: that inner hit counts as missed.
    let _ = add(1, 2);
}

static ADD_ENTRY: Kprobe = Kprobe::new(Some(on_add), None, 1);
static COND_ADD: Kprobe = Kprobe::new(None, None, 2);
static PUSH_RETURN: Kprobe = Kprobe::new(Some(on_pop), None, 3);

/// Registers probes, runs work on every core, prints the listing, unregisters.
pub fn run() -> Result<(), KprobeError> {
    kprintln!(
        "demo: probing kp_add (entry) and kp_push+12 (`pop {{r4, pc}}`), then optimizing them"
    );
    KPROBES.register_symbol(&ADD_ENTRY, &KernelSymbols, "kp_add", 0)?;
    KPROBES.register_symbol(&PUSH_RETURN, &KernelSymbols, "kp_push", 12)?;
    let report = KPROBES.optimize_pending()?;
    kprintln!(
        "demo: {} optimized in {} rendezvous: kp_add runs in its trampoline, the pop is stepped",
        report.optimized,
        report.rendezvous
    );
    // `addne r0, r0, r1`: fires only when its condition passes; left a breakpoint.
    KPROBES.register_symbol(&COND_ADD, &KernelSymbols, "kp_cond", 4)?;
    kprintln!("demo: probing kp_cond+4 (`addne`, conditional) with a breakpoint");
    smp::on_each_cpu(&|cpu| {
        for i in 0..1000u32 {
            let _ = add(i, cpu as u32);
            let _ = cond(i % 2, 7); // the condition passes for odd i only
            let _ = push(i);
        }
    });
    kprintln!("demo: 4 cores each called kp_add, kp_cond and kp_push 1000 times");
    kprintln!(
        "  {:>10}  {:>8}  {:>8}  {:>6}  {:>5}  {}",
        "address",
        "state",
        "hits",
        "missed",
        "probe",
        "mechanism"
    );
    KPROBES.list(|p| {
        kprintln!(
            "  {:#010x}  {:>8?}  {:>8}  {:>6}  {:>5}  {}",
            p.addr,
            p.state,
            p.hits,
            p.missed,
            p.data,
            p.mechanism
        );
    })?;
    kprintln!(
        "demo: last kp_add arguments summed to {}",
        LAST_SUM_ARGS.load(Ordering::Relaxed)
    );
    for p in [&ADD_ENTRY, &COND_ADD, &PUSH_RETURN] {
        KPROBES.unregister(p)?;
    }
    kprintln!(
        "demo: probes removed, text restored, slots free again: {:?}",
        KPROBES.slot_counts()?
    );
    Ok(())
}

/// Probe events as a user writes them: two entry events and one return event defined
/// as text, the same work on every core, the captures to the runner's host file (which
/// it turns into `target/demo-trace.json` for Perfetto).
pub fn trace() -> Result<(), alloc::string::String> {
    kprintln!("demo: probe events, defined as text (no handler written):");
    crate::trace_run::trace_to_file(
        "demo",
        &[
            "p:add kp_add a=%r0 b=%r1:u32",
            "p:cond_add kp_cond+4 a=%r0 b=%r1:u32",
            "r:push_ret kp_push ret=$retval:u32",
        ],
        1000,
    )
}
