//! The smallest kernel that uses armv7-kprobes (aarch32-rt, QEMU virt): it probes a
//! function with a breakpoint, optimizes the probe into a branch, adds a return probe,
//! and removes them all — on one core (`--features single-cpu`) or on up to four.
#![no_std]
#![no_main]

use aarch32_rt as _; // reset, vectors, stacks

mod console;
#[cfg(not(feature = "single-cpu"))]
mod smp;

use armv7_kprobes::{
    ArmCacheOps, Kprobe, Kprobes, Kretprobe, KretprobeError, KretprobeInstance, KretprobePool,
    Kretprobes, Rendezvous, TrapFrame,
};
use core::hint::black_box;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

// Step 3: the platform. One core: the crate's own. More: src/smp.rs.
#[cfg(feature = "single-cpu")]
static PLATFORM: armv7_kprobes::SingleCpu = armv7_kprobes::SingleCpu::new();
#[cfg(feature = "single-cpu")]
fn cpu_id() -> usize {
    0
}
#[cfg(not(feature = "single-cpu"))]
use smp::{PLATFORM, cpu_id};

// Step 4: the rendezvous, the registries, and the exception entries' Rust side.
static RENDEZVOUS: Rendezvous<ArmCacheOps> = Rendezvous::new(ArmCacheOps);
static KPROBES: Kprobes<Platform, ArmCacheOps, 64> = Kprobes::new(&PLATFORM, &RENDEZVOUS);
static KRETPROBES: Kretprobes<Platform> = Kretprobes::new(&PLATFORM);
#[cfg(feature = "single-cpu")]
type Platform = armv7_kprobes::SingleCpu;
#[cfg(feature = "single-cpu")]
armv7_kprobes::exception_glue!(kprobes = [KPROBES]);
#[cfg(not(feature = "single-cpu"))]
type Platform = armv7_kprobes::LinkedPlatform<smp::Board>;
#[cfg(not(feature = "single-cpu"))]
armv7_kprobes::exception_glue!(kprobes = [KPROBES], irq = smp::irq);

/// The function we probe. (Callers `black_box` its arguments and result: it has no side
/// effects, so the compiler could otherwise call it once, or not at all.)
#[unsafe(no_mangle)]
#[inline(never)]
extern "C" fn qs_add(a: u32, b: u32) -> u32 {
    a.wrapping_add(b)
}

/// Calls seen by the probe's handler, per core.
static HITS: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];
/// The value the return handler saw last, per core (the other cores keep calling
/// `qs_add` too: one shared cell would race with them).
static LAST_RETURN: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];

fn on_entry(_: &Kprobe, frame: &mut TrapFrame) {
    HITS[cpu_id() % 4].fetch_add(1, Relaxed);
    frame.r[1] += 1; // the handler may change the arguments: qs_add(2, 3) now returns 6
}

fn on_return(_: &Kretprobe, _: &mut KretprobeInstance<'_>, frame: &mut TrapFrame) {
    LAST_RETURN[cpu_id() % 4].store(frame.r[0], Relaxed);
}

static PROBE: Kprobe = Kprobe::new(Some(on_entry), None, 0);
static RET_POOL: KretprobePool<8, 0> = KretprobePool::new();
static RET_PROBE: Kretprobe = Kretprobe::new(None, on_return, &RET_POOL, 0);

/// Calls `qs_add` on this core until the other cores have called it too.
fn call_until_every_core_hit(cores: usize) -> u32 {
    let before: [u32; 4] = core::array::from_fn(|c| HITS[c].load(Relaxed));
    for _ in 0..50_000_000 {
        let result = black_box(qs_add(black_box(2), black_box(3)));
        if (0..cores).all(|c| HITS[c].load(Relaxed) > before[c]) {
            return result;
        }
    }
    panic!("not every core hit the probe: {HITS:?}");
}

fn run() -> Result<(), KretprobeError> {
    let cores = smp_start();
    let addr = qs_add as *const () as usize;
    println!("quick-start: {cores} core(s) online, probing qs_add at {addr:#010x}");

    // Step 6: register, optimize, add a return probe, unregister.
    KPROBES.register(&PROBE, addr)?;
    let r = call_until_every_core_hit(cores);
    let how = KPROBES.mechanism_of(&PROBE)?;
    println!("step 1: breakpoint probe: qs_add(2, 3) = {r}, {how}, hits {HITS:?}");

    let report = KPROBES.optimize_pending()?;
    let r = call_until_every_core_hit(cores);
    let how = KPROBES.mechanism_of(&PROBE)?;
    println!(
        "step 2: optimized {} probe(s): qs_add(2, 3) = {r}, {how}",
        report.optimized
    );

    KRETPROBES.register(&KPROBES, &RET_PROBE, addr)?;
    let r = qs_add(black_box(20), black_box(30));
    let seen = LAST_RETURN[cpu_id() % 4].load(Relaxed);
    println!("step 3: return probe: qs_add(20, 30) = {r}, the return handler saw {seen}");

    KRETPROBES.unregister(&KPROBES, &RET_PROBE)?;
    KPROBES.unregister(&PROBE)?;
    let r = qs_add(black_box(2), black_box(3));
    println!(
        "step 4: unregistered: qs_add(2, 3) = {r}, {} hits in all",
        PROBE.hits()
    );
    if r != 5 || seen != 51 {
        panic!("wrong results");
    }
    Ok(())
}

#[cfg(feature = "single-cpu")]
fn smp_start() -> usize {
    1
}
#[cfg(not(feature = "single-cpu"))]
use smp::start as smp_start;

/// Core 0's entry, from aarch32-rt (SYS mode, IRQs masked).
#[unsafe(no_mangle)]
extern "C" fn kmain() -> ! {
    // Step 5: IRQs on (registration refuses to run with them masked).
    // SAFETY: the only interrupt this kernel enables is the crate's IPI (smp.rs).
    unsafe { aarch32_cpu::interrupt::enable() };
    match run() {
        Ok(()) => console::exit(0),
        Err(e) => panic!("{e}"),
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("quick-start FAILED: {info}");
    console::exit(1)
}
