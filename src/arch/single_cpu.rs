//! A ready [`Platform`] for a kernel that runs on one CPU and links the crate's linker
//! fragment: nothing to write but `static PLATFORM: SingleCpu = SingleCpu::new();`.

use crate::arch::interrupts;
use crate::linked;
use crate::platform::{CpuSet, InterruptState, Platform};
use core::ops::Range;

/// One CPU (index 0), no IPIs, text and slots where the crate's linker fragment put them
/// ([`crate::linked`]), and text written either in place (a kernel whose text is
/// writable, e.g. with the MMU off) or through an alias at a fixed offset.
///
/// Registration needs IRQs unmasked, as on any platform (it refuses with
/// [`KprobeError::InterruptsMasked`](crate::KprobeError::InterruptsMasked) otherwise):
/// aarch32-rt enters `kmain` with them masked, and unmasking them is harmless on a kernel
/// with no interrupt sources enabled (`aarch32_cpu::interrupt::enable()`).
#[derive(Debug)]
pub struct SingleCpu {
    text_alias_offset: usize,
}

impl SingleCpu {
    /// Text is written in place: the kernel maps it writable (or runs with the MMU off).
    pub const fn new() -> SingleCpu {
        SingleCpu {
            text_alias_offset: 0,
        }
    }

    /// Text at executable address `a` is written at `a + offset` (wrapping): a kernel that
    /// maps its text read-only and the same memory writable elsewhere.
    pub const fn with_text_alias_offset(offset: usize) -> SingleCpu {
        SingleCpu {
            text_alias_offset: offset,
        }
    }
}

impl Default for SingleCpu {
    fn default() -> Self {
        SingleCpu::new()
    }
}

impl Platform for SingleCpu {
    #[cfg_attr(
        target_arch = "arm",
        unsafe(link_section = ".text.noprobe.armv7_kprobes_platform")
    )]
    fn cpu_id(&self) -> usize {
        0
    }

    fn online_cpus(&self) -> CpuSet {
        CpuSet::single(0)
    }

    /// Never called: with one CPU online there is no other CPU to invite.
    fn send_ipi(&self, _targets: CpuSet) {}

    #[cfg_attr(
        target_arch = "arm",
        unsafe(link_section = ".text.noprobe.armv7_kprobes_platform")
    )]
    fn mask_interrupts(&self) -> InterruptState {
        interrupts::mask()
    }

    #[cfg_attr(
        target_arch = "arm",
        unsafe(link_section = ".text.noprobe.armv7_kprobes_platform")
    )]
    fn restore_interrupts(&self, previous: InterruptState) {
        interrupts::restore(previous)
    }

    #[cfg_attr(
        target_arch = "arm",
        unsafe(link_section = ".text.noprobe.armv7_kprobes_platform")
    )]
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
        addr.wrapping_add(self.text_alias_offset) as *mut u32
    }
}
