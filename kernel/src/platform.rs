//! The test kernel's implementation of the crate's platform seam.

use crate::board::TEXT_ALIAS;
use crate::{cpu, gic, mmu};
use armv7_kprobes::arch::interrupts;
use armv7_kprobes::{CpuSet, InterruptState, Platform, linked};
use core::ops::Range;

/// The SGI the crate's rendezvous uses.
pub const SGI_KPROBES: u32 = 1;

/// QEMU virt / vexpress-a15, as the crate sees them.
pub struct QemuPlatform;

/// The platform instance.
pub static PLATFORM: QemuPlatform = QemuPlatform;

impl Platform for QemuPlatform {
    // On the probe hit and return paths: never probeable (a probe here would recurse).
    #[unsafe(link_section = ".text.noprobe.platform")]
    fn cpu_id(&self) -> usize {
        cpu::cpu_id()
    }

    fn online_cpus(&self) -> CpuSet {
        CpuSet::from_bits(cpu::online_mask())
    }

    fn send_ipi(&self, targets: CpuSet) {
        gic::send_sgi(SGI_KPROBES, targets.bits());
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
        let rx = mmu::rx_region();
        debug_assert!(rx.contains(&addr));
        (TEXT_ALIAS + (addr - rx.start)) as *mut u32
    }
}
