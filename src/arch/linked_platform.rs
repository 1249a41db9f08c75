//! Ready [`Platform`]s for a kernel that links the crate's linker fragment: it says only
//! how its CPUs are numbered and reached ([`Cpus`]); interrupt masking
//! ([`crate::arch::interrupts`]) and the text, never-probe and slot ranges
//! ([`crate::linked`]) come from the crate. One CPU: [`SingleCpu`], nothing to write.

use crate::arch::interrupts;
use crate::linked;
use crate::platform::{CpuIndexSource, CpuSet, InterruptState, Platform};
use core::ops::Range;

/// The part of a [`Platform`] only the kernel knows: which CPU this is, which are online,
/// and how to interrupt them. The methods mean what [`Platform`]'s methods of the same
/// names mean (read their contracts there).
pub trait Cpus: Sync {
    /// [`Platform::cpu_id`].
    fn cpu_id(&self) -> usize;
    /// [`Platform::online_cpus`].
    fn online_cpus(&self) -> CpuSet;
    /// [`Platform::send_ipi`].
    fn send_ipi(&self, targets: CpuSet);
    /// [`Platform::cpu_index_register`] (optional: by default none, and every optimized
    /// hit calls the crate).
    fn cpu_index_register(&self) -> CpuIndexSource {
        CpuIndexSource::None
    }
}

/// A [`Platform`] from a kernel's [`Cpus`]: IRQ and FIQ masking on the calling CPU, text
/// and slots where the crate's linker fragment put them, and text written either in place
/// (a kernel whose text is writable, e.g. with the MMU off) or through an alias at a
/// fixed offset.
///
/// Registration needs IRQs unmasked, as on any platform (it refuses with
/// [`KprobeError::InterruptsMasked`](crate::KprobeError::InterruptsMasked) otherwise):
/// aarch32-rt enters `kmain` with them masked, and unmasking them is harmless on a kernel
/// with no interrupt sources enabled (`aarch32_cpu::interrupt::enable()`).
#[derive(Debug)]
pub struct LinkedPlatform<C> {
    cpus: C,
    text_alias_offset: usize,
}

impl<C> LinkedPlatform<C> {
    /// `cpus`' CPUs; text is written in place.
    pub const fn with_cpus(cpus: C) -> Self {
        LinkedPlatform {
            cpus,
            text_alias_offset: 0,
        }
    }

    /// As [`LinkedPlatform::with_cpus`], but text at executable address `a` is written at
    /// `a + offset` (wrapping): a kernel that maps its text read-only and the same memory
    /// writable elsewhere.
    pub const fn with_cpus_and_text_alias_offset(cpus: C, offset: usize) -> Self {
        LinkedPlatform {
            cpus,
            text_alias_offset: offset,
        }
    }

    /// The kernel's part.
    pub const fn cpus(&self) -> &C {
        &self.cpus
    }
}

impl<C: Cpus> Platform for LinkedPlatform<C> {
    fn cpu_id(&self) -> usize {
        self.cpus.cpu_id()
    }

    fn online_cpus(&self) -> CpuSet {
        self.cpus.online_cpus()
    }

    fn send_ipi(&self, targets: CpuSet) {
        self.cpus.send_ipi(targets)
    }

    fn cpu_index_register(&self) -> CpuIndexSource {
        self.cpus.cpu_index_register()
    }

    fn mask_interrupts(&self) -> InterruptState {
        interrupts::mask()
    }

    fn restore_interrupts(&self, previous: InterruptState) {
        interrupts::restore(previous)
    }

    fn interrupts_masked(&self) -> bool {
        interrupts::irqs_masked()
    }

    fn kernel_text(&self) -> Range<usize> {
        linked::kernel_text()
    }

    fn never_probe(&self) -> &[Range<usize>] {
        linked::never_probe()
    }

    fn slot_region(&self) -> Range<usize> {
        linked::slot_region()
    }

    fn text_alias(&self, addr: usize) -> *mut u32 {
        // The crate asks only for words of the text or the slot region (the contract of
        // `Platform::text_alias`); a debug build checks it.
        debug_assert!(
            linked::kernel_text().contains(&addr) || linked::slot_region().contains(&addr)
        );
        addr.wrapping_add(self.text_alias_offset) as *mut u32
    }
}

/// One CPU, index 0, with no other CPU to interrupt.
#[derive(Debug, Default, Clone, Copy)]
pub struct OneCpu;

impl Cpus for OneCpu {
    fn cpu_id(&self) -> usize {
        0
    }

    fn online_cpus(&self) -> CpuSet {
        CpuSet::single(0)
    }

    /// Never called: with one CPU online there is no other CPU to invite.
    fn send_ipi(&self, _targets: CpuSet) {}
}

/// The ready platform of a one-CPU kernel: `static PLATFORM: SingleCpu = SingleCpu::new();`.
pub type SingleCpu = LinkedPlatform<OneCpu>;

impl LinkedPlatform<OneCpu> {
    /// One CPU; text is written in place (the kernel maps it writable, or runs with the
    /// MMU off).
    pub const fn new() -> SingleCpu {
        LinkedPlatform::with_cpus(OneCpu)
    }

    /// One CPU; text at executable address `a` is written at `a + offset` (wrapping).
    pub const fn with_text_alias_offset(offset: usize) -> SingleCpu {
        LinkedPlatform::with_cpus_and_text_alias_offset(OneCpu, offset)
    }
}

impl Default for LinkedPlatform<OneCpu> {
    fn default() -> Self {
        LinkedPlatform::new()
    }
}
