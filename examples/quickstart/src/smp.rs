//! Up to four cores on QEMU virt: started with PSCI, the crate's IPI sent as a GICv2
//! software-generated interrupt, and the platform the crate sees.

use armv7_kprobes::arch::interrupts;
use armv7_kprobes::{CpuIndexSource, CpuSet, Cpus, LinkedPlatform};
use core::sync::atomic::{AtomicU32, Ordering};

const GICD: usize = 0x0800_0000;
const GICC: usize = 0x0801_0000;
/// The SGI that carries the crate's rendezvous IPI.
const SGI: u32 = 1;

static ONLINE: AtomicU32 = AtomicU32::new(0);

fn gic(addr: usize) -> *mut u32 {
    addr as *mut u32
}

pub fn cpu_id() -> usize {
    let mpidr: u32;
    // SAFETY: reads MPIDR; no side effects.
    unsafe {
        core::arch::asm!("mrc p15, 0, {}, c0, c0, 5", out(reg) mpidr, options(nomem, nostack))
    };
    (mpidr & 0xff) as usize
}

/// The cores as the crate sees them: which one this is, which run, how to reach them
/// (masking and the linked ranges come with `LinkedPlatform`).
pub struct Board;
pub static PLATFORM: LinkedPlatform<Board> = LinkedPlatform::with_cpus(Board);

impl Cpus for Board {
    fn cpu_id(&self) -> usize {
        cpu_id()
    }
    fn online_cpus(&self) -> CpuSet {
        CpuSet::from_bits(ONLINE.load(Ordering::Acquire))
    }
    fn send_ipi(&self, targets: CpuSet) {
        // SAFETY: GICD_SGIR: send SGI to the CPUs in the target list.
        unsafe { gic(GICD + 0xf00).write_volatile(targets.bits() << 16 | SGI) };
    }
    /// `cpu_id` is MPIDR.Aff0, which optimized probes' trampolines can read themselves.
    fn cpu_index_register(&self) -> CpuIndexSource {
        CpuIndexSource::MpidrAff0
    }
}

/// This core's GIC interface on, then online for the crate (IRQs still masked).
fn come_online() {
    // SAFETY: GICD_ISENABLER0 (enable our SGI), GICC_PMR (all priorities), GICC_CTLR.
    unsafe {
        gic(GICD + 0x100).write_volatile(1 << SGI);
        gic(GICC + 0x004).write_volatile(0xff);
        gic(GICC).write_volatile(1);
    }
    let me = 1 << cpu_id();
    super::RENDEZVOUS
        .cpu_online(&PLATFORM, || {
            ONLINE.fetch_or(me, Ordering::Release);
        })
        .expect("cpu_online");
}

/// Called by the crate's IRQ entry: the crate's IPI goes to the rendezvous.
pub fn irq(interrupted_pc: usize) {
    // SAFETY: GICC_IAR acknowledges the interrupt; GICC_EOIR ends it.
    let iar = unsafe { gic(GICC + 0x0c).read_volatile() };
    if iar & 0x3ff == SGI {
        super::RENDEZVOUS.ipi_entry_at(&PLATFORM, interrupted_pc);
    }
    // SAFETY: see above.
    unsafe { gic(GICC + 0x10).write_volatile(iar) };
}

/// Core 0: brings the other cores up; returns how many are online.
pub fn start() -> usize {
    // SAFETY: GICD_CTLR: distributor on.
    unsafe { gic(GICD).write_volatile(1) };
    interrupts::mask();
    come_online();
    // SAFETY: the GIC, the IRQ entry and the crate are ready on this core.
    unsafe { aarch32_cpu::interrupt::enable() };
    let mut started = 1;
    for cpu in 1..4u32 {
        let ok: i32;
        // SAFETY: PSCI CPU_ON through HVC (QEMU implements PSCI itself on virt): start
        // `cpu` at aarch32-rt's `_start`; an absent core answers an error.
        unsafe {
            core::arch::asm!(".arch_extension virt", "hvc #0", inout("r0") 0x8400_0003u32 => ok,
                in("r1") cpu, in("r2") start_address(), in("r3") 0, options(nostack));
        }
        started += (ok == 0) as u32;
    }
    while ONLINE.load(Ordering::Acquire).count_ones() < started {}
    started as usize
}

fn start_address() -> usize {
    unsafe extern "C" {
        fn _start();
    }
    _start as *const () as usize
}

/// The other cores' entry, from aarch32-rt: come online, then call the probed function.
#[unsafe(no_mangle)]
extern "C" fn kmain_secondary() -> ! {
    come_online();
    // SAFETY: as on core 0.
    unsafe { aarch32_cpu::interrupt::enable() };
    loop {
        core::hint::black_box(super::qs_add(
            core::hint::black_box(1),
            core::hint::black_box(1),
        ));
    }
}

// aarch32-rt parks secondaries here until the kernel is ready; core 0 starts them only
// then, so they go straight on.
// SAFETY: a leaf that returns at once; touches no register but pc.
core::arch::global_asm!(
    ".global _asm_secondary_core_park",
    "_asm_secondary_core_park:",
    "    bx lr"
);
