//! The seam between the crate and the kernel that links it: what the kernel provides.
//!
//! The crate never names a board. Everything it needs from the machine — which CPU it
//! runs on, how to reach the others, how to mask interrupts, which memory it may probe,
//! where it may put instruction slots, and how to write text the kernel maps read-only —
//! comes through [`Platform`]. The test kernel implements it for QEMU; `fakes`
//! implements it in memory for host tests.

use core::ops::Range;

/// The most CPUs the crate handles (one bit each in a [`CpuSet`]).
pub const MAX_CPUS: usize = 32;

/// A set of CPU indices (0–31), as a bit mask.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CpuSet(u32);

impl CpuSet {
    /// No CPUs.
    pub const EMPTY: CpuSet = CpuSet(0);

    /// The set with the given bit mask (bit `n` is CPU `n`).
    pub const fn from_bits(bits: u32) -> CpuSet {
        CpuSet(bits)
    }

    /// CPUs `0..n` (`n` is clamped to [`MAX_CPUS`]).
    pub const fn first(n: usize) -> CpuSet {
        if n >= MAX_CPUS {
            CpuSet(u32::MAX)
        } else {
            CpuSet((1u32 << n) - 1)
        }
    }

    /// The set holding only `cpu`; empty when `cpu` is not below [`MAX_CPUS`].
    pub const fn single(cpu: usize) -> CpuSet {
        if cpu < MAX_CPUS {
            CpuSet(1 << cpu)
        } else {
            CpuSet(0)
        }
    }

    /// The bit mask.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether `cpu` is in the set.
    pub const fn contains(self, cpu: usize) -> bool {
        cpu < MAX_CPUS && self.0 & (1 << cpu) != 0
    }

    /// This set without `cpu`.
    pub const fn without(self, cpu: usize) -> CpuSet {
        CpuSet(self.0 & !CpuSet::single(cpu).0)
    }

    /// This set with `cpu` added.
    pub const fn with(self, cpu: usize) -> CpuSet {
        CpuSet(self.0 | CpuSet::single(cpu).0)
    }

    /// Number of CPUs in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The CPU indices in the set, lowest first.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        (0..MAX_CPUS).filter(move |&c| self.contains(c))
    }
}

/// Whether IRQ and FIQ were masked before [`Platform::mask_interrupts`], to hand back to
/// [`Platform::restore_interrupts`]. Opaque to the crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterruptState(pub u32);

/// A register the calling CPU's index can be read from by an optimized probe's
/// trampoline, without calling into the crate (see [`Platform::cpu_index_register`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CpuIndexSource {
    /// None: the trampoline calls the crate, which asks [`Platform::cpu_id`].
    #[default]
    None,
    /// TPIDRPRW (the PL1-only software thread ID register, `mrc p15, 0, Rt, c13, c0, 4`)
    /// holds [`Platform::cpu_id`] on every CPU whenever probe-able code runs.
    Tpidrprw,
    /// [`Platform::cpu_id`] is MPIDR.Aff0 (`mrc p15, 0, Rt, c0, c0, 5`, bits 7:0) on every
    /// CPU.
    MpidrAff0,
}

impl CpuIndexSource {
    /// The calling CPU's index as this source gives it, reduced to [`MAX_CPUS`] as the
    /// trampoline reduces it; `None` for [`CpuIndexSource::None`] (and on a host, which
    /// has no such registers).
    pub fn read(self) -> Option<usize> {
        #[cfg(target_arch = "arm")]
        {
            let value: u32;
            match self {
                CpuIndexSource::None => return None,
                // SAFETY: reads TPIDRPRW into a register: no memory access, no side effect
                // (a PL1 register; the crate runs at PL1).
                CpuIndexSource::Tpidrprw => unsafe {
                    core::arch::asm!("mrc p15, 0, {}, c13, c0, 4", out(reg) value,
                        options(nomem, nostack, preserves_flags))
                },
                // SAFETY: reads MPIDR into a register: no memory access, no side effect.
                CpuIndexSource::MpidrAff0 => unsafe {
                    core::arch::asm!("mrc p15, 0, {}, c0, c0, 5", out(reg) value,
                        options(nomem, nostack, preserves_flags))
                },
            }
            Some(value as usize % MAX_CPUS)
        }
        #[cfg(not(target_arch = "arm"))]
        {
            None
        }
    }
}

const _: () = assert!(MAX_CPUS.is_power_of_two());

/// What the integrating kernel provides to the crate.
///
/// Implementations must be callable from any CPU, from thread context, from the
/// undefined-instruction handler and from the IPI handler.
pub trait Platform: Sync {
    /// Index of the calling CPU, below [`MAX_CPUS`] and stable while it runs.
    fn cpu_id(&self) -> usize;

    /// The CPUs that are running and will answer an IPI: the set every rendezvous
    /// parks.
    ///
    /// Each CPU in it, whenever its IRQs are unmasked, takes the crate's IPI and calls
    /// [`crate::stop_machine::Rendezvous::ipi_entry`]. The set changes only when a CPU
    /// adds or removes its own bit inside the closure it passes to
    /// [`crate::stop_machine::Rendezvous::cpu_online`] or
    /// [`crate::stop_machine::Rendezvous::cpu_offline`] (no rendezvous is in flight
    /// then); at any other time it is constant, so a rendezvous sees one set from its
    /// invitations to its exit. A CPU outside the set runs no probe-able text (see
    /// [`crate::stop_machine::hotplug`]). Must be callable with interrupts masked.
    fn online_cpus(&self) -> CpuSet;

    /// Sends the crate's inter-processor interrupt to `targets`. The kernel's handler for
    /// it on each target calls back into the crate (the rendezvous entry).
    fn send_ipi(&self, targets: CpuSet);

    /// Masks IRQ **and** FIQ on the calling CPU and returns the state to restore.
    fn mask_interrupts(&self) -> InterruptState;

    /// Restores what [`Platform::mask_interrupts`] returned.
    fn restore_interrupts(&self, previous: InterruptState);

    /// Whether IRQs are masked on the calling CPU (then an IPI cannot reach it).
    fn interrupts_masked(&self) -> bool;

    /// Kernel text that may be probed (executable addresses).
    fn kernel_text(&self) -> Range<usize>;

    /// Ranges that must never be probed: vectors, exception entry, the crate's own code
    /// and trampolines, anything the kernel runs while patching.
    fn never_probe(&self) -> &[Range<usize>];

    /// Executable memory the crate may carve instruction slots from (trampolines of
    /// optimized probes, lent slots). It should lie within ±32 MiB of
    /// [`Platform::kernel_text`] so a `b` can reach it; a probe out of reach stays a
    /// breakpoint probe. The registry built on this platform owns the whole region: give
    /// each registry a region of its own.
    fn slot_region(&self) -> Range<usize>;

    /// A writable view of the word at executable address `addr` (inside
    /// [`Platform::kernel_text`] or [`Platform::slot_region`]). Kernels that map text
    /// read-only return an alias mapping here; the crate does the cache maintenance on
    /// `addr` itself after writing.
    fn text_alias(&self, addr: usize) -> *mut u32;

    /// Optional: a register that holds [`Platform::cpu_id`] on every CPU, which an
    /// optimized probe's trampoline then reads itself and runs the common hit (the
    /// site's one enabled probe, a pre handler only, direct execution) without calling
    /// the crate's Rust code. The default, [`CpuIndexSource::None`], keeps every hit in
    /// the crate (a few dozen instructions more per optimized hit). Returning a source
    /// that does not hold the index on some CPU does not break memory safety (the index
    /// is reduced below [`MAX_CPUS`]) but breaks the reentrancy count on it; the crate
    /// checks the promise on the CPU that optimizes, and ignores a source that fails it
    /// there (debug builds panic, and check it on every CPU that takes the rendezvous
    /// IPI too).
    fn cpu_index_register(&self) -> CpuIndexSource {
        CpuIndexSource::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_set_algebra() {
        let s = CpuSet::first(4);
        assert_eq!(s.bits(), 0b1111);
        assert_eq!(s.len(), 4);
        assert!(s.contains(3) && !s.contains(4));
        assert_eq!(s.without(0).bits(), 0b1110);
        assert_eq!(CpuSet::EMPTY.with(2), CpuSet::single(2));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        assert_eq!(CpuSet::first(32).bits(), u32::MAX);
        assert!(CpuSet::single(40).is_empty());
        assert!(!CpuSet::EMPTY.contains(99));
    }
}
