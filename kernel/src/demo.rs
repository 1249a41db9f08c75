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

static ADD_ENTRY: Kprobe = Kprobe::new(Some(on_add), None, 1);
static COND_ADD: Kprobe = Kprobe::new(None, None, 2);
static PUSH_ENTRY: Kprobe = Kprobe::new(None, None, 3);

fn register() -> Result<(), KprobeError> {
    KPROBES.register_symbol(&ADD_ENTRY, &KernelSymbols, "kp_add", 0)?;
    // `addne r0, r0, r1`: fires only when its condition passes.
    KPROBES.register_symbol(&COND_ADD, &KernelSymbols, "kp_cond", 4)?;
    KPROBES.register_symbol(&PUSH_ENTRY, &KernelSymbols, "kp_push", 0)?;
    Ok(())
}

/// Registers probes, runs work on every core, prints the listing, unregisters.
pub fn run() -> Result<(), KprobeError> {
    kprintln!("demo: registering 3 breakpoint probes (kp_add, kp_cond+4 conditional, kp_push)");
    register()?;
    smp::on_each_cpu(&|cpu| {
        for i in 0..1000u32 {
            let _ = add(i, cpu as u32);
            let _ = cond(i % 2, 7); // the condition passes for odd i only
            let _ = push(i);
        }
    });
    kprintln!("demo: 4 cores each called kp_add, kp_cond and kp_push 1000 times");
    kprintln!(
        "  {:>10}  {:>8}  {:>8}  {:>6}  {}",
        "address",
        "state",
        "hits",
        "missed",
        "probe"
    );
    KPROBES.list(|p| {
        kprintln!(
            "  {:#010x}  {:>8?}  {:>8}  {:>6}  {}",
            p.addr,
            p.state,
            p.hits,
            p.missed,
            p.data
        );
    });
    kprintln!(
        "demo: last kp_add arguments summed to {}",
        LAST_SUM_ARGS.load(Ordering::Relaxed)
    );
    for p in [&ADD_ENTRY, &COND_ADD, &PUSH_ENTRY] {
        KPROBES.unregister(p)?;
    }
    kprintln!("demo: probes removed, text restored; optimized probes arrive with issue 7");
    Ok(())
}
