//! The stop-machine rendezvous and the text-patching primitive on 4 real cores.

use crate::platform::PLATFORM;
use crate::probes::RENDEZVOUS;
use crate::testing::TestResult;
use crate::{ensure, smp};
use armv7_kprobes::Platform;
use armv7_kprobes::stop_machine::{RendezvousError, RunOn};
use core::sync::atomic::{AtomicU32, Ordering};

pub fn rendezvous_runs_callbacks_exactly_once_on_one_or_all_cores() -> TestResult {
    let ran = AtomicU32::new(0);
    let per_cpu: [AtomicU32; smp::MAX_CORES] = [const { AtomicU32::new(0) }; smp::MAX_CORES];
    const N: u32 = 2_000;
    let cpus: alloc::vec::Vec<usize> = smp::online_cpus().collect();
    for i in 0..N {
        RENDEZVOUS
            .run(
                &PLATFORM,
                RunOn::OneCpu(cpus[i as usize % cpus.len()]),
                &|_| {
                    ran.fetch_add(1, Ordering::Relaxed);
                },
            )
            .map_err(|e| alloc::format!("one-cpu rendezvous {i}: {e}"))?;
        RENDEZVOUS
            .run(&PLATFORM, RunOn::AllCpus, &|cpu| {
                per_cpu[cpu].fetch_add(1, Ordering::Relaxed);
                // IRQs and FIQs are masked while any callback runs.
                assert!(PLATFORM.interrupts_masked());
            })
            .map_err(|e| alloc::format!("all-cpu rendezvous {i}: {e}"))?;
    }
    ensure!(
        ran.load(Ordering::Relaxed) == N,
        "one-cpu callbacks ran {}",
        ran.load(Ordering::Relaxed)
    );
    for (cpu, n) in per_cpu.iter().enumerate() {
        let want = if cpus.contains(&cpu) { N } else { 0 };
        ensure!(
            n.load(Ordering::Relaxed) == want,
            "cpu {cpu} ran {} callbacks",
            n.load(Ordering::Relaxed)
        );
    }
    ensure!(!PLATFORM.interrupts_masked(), "interrupts left masked");
    Ok(())
}

pub fn nested_rendezvous_is_refused_and_the_system_keeps_running() -> TestResult {
    let nested = AtomicU32::new(0);
    RENDEZVOUS
        .run(&PLATFORM, RunOn::OneCpu(0), &|_| {
            let r = RENDEZVOUS.run(&PLATFORM, RunOn::AllCpus, &|_| {});
            let ok = matches!(r, Err(RendezvousError::NestedInCallback { .. }));
            nested.store(1 + ok as u32, Ordering::Relaxed);
        })
        .map_err(|e| alloc::format!("outer rendezvous: {e}"))?;
    ensure!(
        nested.load(Ordering::Relaxed) == 2,
        "nested rendezvous was not refused"
    );
    let masked = PLATFORM.mask_interrupts();
    let r = RENDEZVOUS.run(&PLATFORM, RunOn::AllCpus, &|_| {});
    PLATFORM.restore_interrupts(masked);
    ensure!(
        matches!(r, Err(RendezvousError::InterruptsMasked { .. })),
        "masked start gave {r:?}"
    );
    RENDEZVOUS
        .run(&PLATFORM, RunOn::AllCpus, &|_| {})
        .map_err(|e| alloc::format!("rendezvous after the refusals: {e}"))?;
    Ok(())
}

// A function whose first instruction core 0 flips between two variants while the other
// cores call it: `mov r0, #1` or `mov r0, #2`.
// SAFETY: an AAPCS leaf: no arguments, result in r0, nothing else touched.
core::arch::global_asm!(
    ".pushsection .text.rv_target, \"ax\", %progbits",
    ".arm",
    ".p2align 2",
    ".global rv_target",
    "rv_target:",
    "    mov r0, #1",
    "    bx  lr",
    ".popsection",
);

unsafe extern "C" {
    fn rv_target() -> u32;
}

const MOV_R0_1: u32 = 0xe3a0_0001;
const MOV_R0_2: u32 = 0xe3a0_0002;

fn cycles() -> u32 {
    let c: u32;
    // SAFETY: reads PMCCNTR, the PMU cycle counter enabled by `start_cycle_counter`.
    unsafe {
        core::arch::asm!("mrc p15, 0, {c}, c9, c13, 0", c = out(reg) c, options(nostack, nomem))
    };
    c
}

fn start_cycle_counter() {
    // SAFETY: PMCR.E|C (enable, reset the cycle counter) and PMCNTENSET bit 31 (cycle
    // counter on) only affect this core's PMU, which nothing else uses.
    unsafe {
        core::arch::asm!(
            "mrc p15, 0, {t}, c9, c12, 0",
            "orr {t}, {t}, #5",
            "mcr p15, 0, {t}, c9, c12, 0",
            "mov {t}, #0x80000000",
            "mcr p15, 0, {t}, c9, c12, 1",
            "isb",
            t = out(reg) _, options(nostack, nomem));
    }
}

pub fn rewriting_a_running_function_10000_times_shows_only_valid_results() -> TestResult {
    use armv7_kprobes::patch::TextPatcher;
    const ROUNDS: u32 = 10_000;
    let f = rv_target as *const () as usize;
    let patcher = TextPatcher::new(&RENDEZVOUS, &PLATFORM);
    let stop = core::sync::atomic::AtomicBool::new(false);
    let (bad, calls) = (AtomicU32::new(0), AtomicU32::new(0));
    let seen = [AtomicU32::new(0), AtomicU32::new(0)];
    let mut elapsed = (0u64, 0u32);
    let failure: core::cell::Cell<Option<armv7_kprobes::patch::PatchError>> =
        core::cell::Cell::new(None);
    let (elapsed_ref, failure_ref) = (
        &mut elapsed as *mut (u64, u32) as usize,
        &failure as *const _ as usize,
    );
    smp::on_each_cpu(&|cpu| {
        if cpu == 0 {
            start_cycle_counter();
            let (t0, c0) = (crate::timer::now_ns(), cycles());
            for i in 0..ROUNDS {
                if let Err(e) = patcher.patch(f, if i % 2 == 0 { MOV_R0_2 } else { MOV_R0_1 }) {
                    // SAFETY: only core 0 touches `failure`.
                    unsafe {
                        (*(failure_ref
                            as *const core::cell::Cell<Option<armv7_kprobes::patch::PatchError>>))
                            .set(Some(e))
                    };
                    break;
                }
            }
            // SAFETY: only core 0 writes `elapsed`; the caller reads it after on_each_cpu.
            unsafe {
                *(elapsed_ref as *mut (u64, u32)) =
                    (crate::timer::now_ns() - t0, cycles().wrapping_sub(c0))
            };
            stop.store(true, Ordering::Release);
        } else {
            while !stop.load(Ordering::Acquire) {
                // SAFETY: rv_target is the AAPCS leaf above, in either variant.
                match unsafe { rv_target() } {
                    1 => seen[0].fetch_add(1, Ordering::Relaxed),
                    2 => seen[1].fetch_add(1, Ordering::Relaxed),
                    _ => bad.fetch_add(1, Ordering::Relaxed),
                };
                calls.fetch_add(1, Ordering::Relaxed);
                core::hint::spin_loop();
            }
        }
    });
    ensure!(failure.get().is_none(), "patch failed: {:?}", failure.get());
    // SAFETY: rv_target is the AAPCS leaf above.
    let last = unsafe { rv_target() };
    ensure!(
        last == 1,
        "after an even number of rewrites rv_target returns {last}"
    );
    ensure!(
        bad.load(Ordering::Relaxed) == 0,
        "{} invalid results",
        bad.load(Ordering::Relaxed)
    );
    ensure!(calls.load(Ordering::Relaxed) > 0, "no calls made");
    crate::kprint!(
        "\n     {ROUNDS} rendezvous while 3 cores made {} calls (saw 1: {}, 2: {}); \
         {} ns and {} PMU cycles per rendezvous (QEMU without -icount: not instructions) ",
        calls.load(Ordering::Relaxed),
        seen[0].load(Ordering::Relaxed),
        seen[1].load(Ordering::Relaxed),
        elapsed.0 / ROUNDS as u64,
        elapsed.1 / ROUNDS
    );
    Ok(())
}
