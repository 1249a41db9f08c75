//! Interrupt masking on the calling CPU, as [`Platform`](crate::Platform) implementations
//! need it: mask IRQ and FIQ, restore exactly what was masked before, read the IRQ mask.
//!
//! All three are on the probe hit and return paths (through `Platform`), so they live in
//! the never-probe sections.

use crate::platform::InterruptState;

const I: u32 = 1 << 7;
const F: u32 = 1 << 6;

/// Masks IRQ and FIQ on the calling CPU; returns which of them were masked before.
#[inline]
#[cfg_attr(
    target_arch = "arm",
    unsafe(link_section = ".text.noprobe.armv7_kprobes_irqmask")
)]
pub fn mask() -> InterruptState {
    let cpsr: u32;
    // SAFETY: reads CPSR, then sets I and F: changes only this CPU's interrupt masks.
    // Not `nomem`: it orders memory accesses around the masked section.
    unsafe {
        core::arch::asm!("mrs {c}, cpsr", "cpsid if", c = out(reg) cpsr,
            options(nostack, preserves_flags));
    }
    InterruptState(cpsr & (I | F))
}

/// Unmasks exactly the interrupts that were unmasked before the matching [`mask`].
#[inline]
#[cfg_attr(
    target_arch = "arm",
    unsafe(link_section = ".text.noprobe.armv7_kprobes_irqmask")
)]
pub fn restore(previous: InterruptState) {
    // Both were masked before (an exception handler's case): nothing to do, one compare.
    if previous.0 == I | F {
        return;
    }
    // SAFETY: clears I and/or F only where `mask` found them clear; nothing else in CPSR
    // changes. Not `nomem`: it orders memory accesses around the masked section.
    unsafe {
        if previous.0 & I == 0 {
            core::arch::asm!("cpsie i", options(nostack, preserves_flags));
        }
        if previous.0 & F == 0 {
            core::arch::asm!("cpsie f", options(nostack, preserves_flags));
        }
    }
}

/// Whether IRQs are masked on the calling CPU.
#[inline]
#[cfg_attr(
    target_arch = "arm",
    unsafe(link_section = ".text.noprobe.armv7_kprobes_irqmask")
)]
pub fn irqs_masked() -> bool {
    let cpsr: u32;
    // SAFETY: reads CPSR; no side effects.
    unsafe {
        core::arch::asm!("mrs {c}, cpsr", c = out(reg) cpsr,
            options(nostack, nomem, preserves_flags));
    }
    cpsr & I != 0
}
