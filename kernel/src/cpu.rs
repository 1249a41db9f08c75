//! Which core this is and which cores are online: the facts every layer of the kernel
//! reads (the interrupt controller, the platform, the boot arguments), kept below the SMP bring-up that
//! changes them (`smp.rs`).

use core::sync::atomic::{AtomicU32, Ordering};

/// Cores the kernel is built for (NUM_CORES in link.ld; aarch32-rt stacks per core).
pub const MAX_CORES: usize = 4;

/// The online cores as a bit mask; only `smp` changes it (inside the crate's hotplug
/// hooks).
pub(crate) static ONLINE: AtomicU32 = AtomicU32::new(0);

/// The calling core's index (MPIDR.Aff0: every board numbers its cores 0..n there; raspi2b
/// puts them in cluster 0xF, Aff1, which this ignores).
#[inline(always)]
pub fn cpu_id() -> usize {
    (aarch32_cpu::register::Mpidr::read().0 & 0xff) as usize
}

/// The cores that have checked in, as a bit mask.
pub fn online_mask() -> u32 {
    ONLINE.load(Ordering::Acquire)
}

/// The online cores, lowest first (tests use the cores the kernel has, not four).
pub fn online_cpus() -> impl Iterator<Item = usize> {
    let mask = online_mask();
    (0..MAX_CORES).filter(move |c| mask & (1 << c) != 0)
}

/// How many cores are online.
pub fn online_count() -> usize {
    online_mask().count_ones() as usize
}
