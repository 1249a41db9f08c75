//! The test kernel's implementation of the crate's platform seam.

use crate::board::TEXT_ALIAS;
use crate::{gic, mmu, smp};
use armv7_kprobes::{CpuSet, InterruptState, Platform};
use core::ops::Range;
use core::ptr::addr_of;

/// The SGI the crate's rendezvous uses.
pub const SGI_KPROBES: u32 = 1;

unsafe extern "C" {
    static __text_start: u8;
    static __text_end: u8;
    static __noprobe_start: u8;
    static __noprobe_end: u8;
    static __slots_start: u8;
    static __slots_end: u8;
}

/// QEMU virt / vexpress-a15, as the crate sees them.
pub struct QemuPlatform;

/// The platform instance.
pub static PLATFORM: QemuPlatform = QemuPlatform;

fn sym(s: &u8) -> usize {
    s as *const u8 as usize
}

impl QemuPlatform {
    fn noprobe() -> Range<usize> {
        // SAFETY: linker-defined symbols; only their addresses are used.
        unsafe { sym(&*addr_of!(__noprobe_start))..sym(&*addr_of!(__noprobe_end)) }
    }
}

impl Platform for QemuPlatform {
    // On the probe hit and return paths: never probeable (a probe here would recurse).
    #[unsafe(link_section = ".text.noprobe.platform")]
    fn cpu_id(&self) -> usize {
        smp::cpu_id()
    }

    fn online_cpus(&self) -> CpuSet {
        CpuSet::from_bits(smp::online_mask())
    }

    fn send_ipi(&self, targets: CpuSet) {
        gic::send_sgi(SGI_KPROBES, targets.bits());
    }

    // On the probe hit and return paths: never probeable (a probe here would recurse).
    #[unsafe(link_section = ".text.noprobe.platform")]
    fn mask_interrupts(&self) -> InterruptState {
        let cpsr: u32;
        // SAFETY: reads CPSR then sets I and F; changes only this core's masking.
        unsafe {
            core::arch::asm!("mrs {c}, cpsr", "cpsid if", c = out(reg) cpsr,
                options(nostack, preserves_flags));
        }
        InterruptState(cpsr & 0xc0)
    }

    // On the probe hit and return paths: never probeable (a probe here would recurse).
    #[unsafe(link_section = ".text.noprobe.platform")]
    fn restore_interrupts(&self, previous: InterruptState) {
        // SAFETY: re-enables exactly the masks that were clear before the matching
        // mask_interrupts; nothing else in CPSR changes.
        unsafe {
            if previous.0 & 0x80 == 0 {
                core::arch::asm!("cpsie i", options(nostack, preserves_flags));
            }
            if previous.0 & 0x40 == 0 {
                core::arch::asm!("cpsie f", options(nostack, preserves_flags));
            }
        }
    }

    // On the probe hit and return paths: never probeable (a probe here would recurse).
    #[unsafe(link_section = ".text.noprobe.platform")]
    fn interrupts_masked(&self) -> bool {
        let cpsr: u32;
        // SAFETY: reads CPSR; no side effects.
        unsafe {
            core::arch::asm!("mrs {c}, cpsr", c = out(reg) cpsr, options(nostack, nomem, preserves_flags))
        };
        cpsr & 0x80 != 0
    }

    fn kernel_text(&self) -> Range<usize> {
        // SAFETY: linker-defined symbols; only their addresses are used.
        unsafe { sym(&*addr_of!(__text_start))..sym(&*addr_of!(__text_end)) }
    }

    fn never_probe(&self) -> &[Range<usize>] {
        NEVER_PROBE.get()
    }

    fn slot_region(&self) -> Range<usize> {
        // SAFETY: linker-defined symbols; only their addresses are used.
        unsafe { sym(&*addr_of!(__slots_start))..sym(&*addr_of!(__slots_end)) }
    }

    fn text_alias(&self, addr: usize) -> *mut u32 {
        let rx = mmu::rx_region();
        debug_assert!(rx.contains(&addr));
        (TEXT_ALIAS + (addr - rx.start)) as *mut u32
    }
}

/// The never-probe ranges, filled in at boot (linker addresses are not `const`).
struct NeverProbe(core::cell::UnsafeCell<[Range<usize>; 1]>);

// SAFETY: written once by core 0 in `init` before any other core runs or anything
// reads it; read-only afterwards.
unsafe impl Sync for NeverProbe {}

impl NeverProbe {
    fn get(&self) -> &[Range<usize>] {
        // SAFETY: see the Sync impl: no writes after init.
        unsafe { &*self.0.get() }
    }
}

#[allow(clippy::single_range_in_vec_init)] // one range, filled in by `init`
static NEVER_PROBE: NeverProbe = NeverProbe(core::cell::UnsafeCell::new([0..0]));

/// Records the never-probe ranges. Core 0, once, before starting the secondaries.
pub fn init() {
    #[allow(clippy::single_range_in_vec_init)]
    // SAFETY: see NeverProbe's Sync impl.
    unsafe {
        *NEVER_PROBE.0.get() = [QemuPlatform::noprobe()]
    };
}
