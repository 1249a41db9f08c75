//! A tiny 4-core ARMv7-A kernel for QEMU (`virt`, `vexpress-a15`, `raspi2b`) that proves
//! armv7-kprobes: it boots every core, brings up the MMU, caches, interrupt controller
//! and heap, and runs the in-kernel tests (or the demo), exiting QEMU with a verdict.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

// Reset, vectors, per-mode stacks and the default exception glue come from aarch32-rt.
use aarch32_rt as _;

mod abort;
mod bcm2836;
mod bench;
mod board;
mod bootargs;
mod cache;
mod corpus;
mod cpu;
mod demo;
mod events;
mod gic;
mod heap;
mod irq;
mod mmu;
mod platform;
mod pmu;
mod probes;
mod semihosting;
mod smp;
mod testing;
mod tests;
mod text;
mod timer;
mod trace_run;
mod trap;
mod uart;

use alloc::vec::Vec;
use bootargs::{Inject, Mode};

/// Core 0's entry (called by aarch32-rt in SYS mode after .data/.bss are set up).
#[unsafe(no_mangle)]
pub extern "C" fn kmain() -> ! {
    mmu::build_table();
    mmu::enable();
    heap::init();
    probes::init();
    irq::init_global();
    irq::init_cpu();
    smp::come_online();
    // SAFETY: the interrupt controller and the IRQ entry are ready on this core.
    unsafe { aarch32_cpu::interrupt::enable() };
    kprintln!("armv7-kprobes test kernel on {}", board::BOARD.name);
    if bootargs::non_broadcast() {
        // Before any probe exists (and before the secondaries run anything of the crate).
        cache::force_not_broadcast();
        kprintln!(
            "cache maintenance: forced NOT broadcast (--non-broadcast): every CPU maintains its own caches in each rendezvous"
        );
    }
    let online = smp::start_secondaries();
    for cpu in 0..smp::MAX_CORES {
        if online & (1 << cpu) != 0 {
            kprintln!("cpu {cpu} online, MPIDR {:#010x}", smp::mpidr(cpu));
        }
    }
    kprintln!("{} of {} cores online", online.count_ones(), smp::MAX_CORES);
    if bootargs::inject() == Inject::Hang {
        kprintln!("hanging on purpose (runner --inject hang)");
        loop {
            aarch32_cpu::asm::wfe();
        }
    }
    match bootargs::mode() {
        Mode::Tests => {
            #[cfg(not(feature = "board-virt"))]
            kprintln!(
                "hotplug test: does not apply on {} (no PSCI: secondaries are parked, never powered off); it runs on virt",
                board::BOARD.name
            );
            let mut all: Vec<testing::Test> = match bootargs::filter() {
                Some(only) => {
                    kprintln!("running only the tests whose name contains {only:?}");
                    let chosen: Vec<testing::Test> = tests::ALL
                        .iter()
                        .filter(|t| only.split(',').any(|o| !o.is_empty() && t.name.contains(o)))
                        .copied()
                        .collect();
                    if chosen.is_empty() {
                        // A filter that selects nothing must not pass as a clean run.
                        kprintln!("no test name contains {only:?}");
                        semihosting::exit(1)
                    }
                    chosen
                }
                None => tests::ALL.to_vec(),
            };
            if bootargs::inject() == Inject::FailingTest {
                all.push(tests::INJECTED_FAILURE);
            }
            let failed = testing::run(&all);
            if cache::forced_not_broadcast() {
                kprintln!(
                    "per-CPU cache maintenance: I-cache invalidations by core {:?}",
                    cache::local_invalidations()
                );
            }
            semihosting::exit(if failed == 0 { 0 } else { 1 })
        }
        Mode::Corpus => {
            let failed = corpus::run();
            semihosting::exit(if failed == 0 { 0 } else { 1 })
        }
        Mode::BenchInstructions | Mode::BenchSmp => {
            let result = if bootargs::mode() == Mode::BenchSmp {
                bench::run_smp()
            } else {
                bench::run_instructions()
            };
            if let Err(e) = result {
                kprintln!("bench failed: {e}");
                semihosting::exit(1)
            }
            semihosting::exit(0)
        }
        Mode::Demo => {
            if let Err(e) = demo::run() {
                kprintln!("demo failed: {e}");
                semihosting::exit(1)
            }
            if let Err(e) = demo::trace() {
                kprintln!("demo failed: {e}");
                semihosting::exit(1)
            }
            semihosting::exit(0)
        }
        Mode::Events => match trace_run::events_mode() {
            Ok(()) => semihosting::exit(0),
            Err(e) => {
                kprintln!("events failed: {e}");
                semihosting::exit(1)
            }
        },
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    uart::print_unlocked(format_args!(
        "\n!!! panic on cpu {}: {info}\n",
        smp::cpu_id()
    ));
    semihosting::exit(2)
}
