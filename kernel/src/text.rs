//! Writing the kernel's own read-only text through its alias, for the platform smoke
//! tests (kprobe patching goes through the crate's `patch` module instead).

use crate::board::TEXT_ALIAS;
use crate::mmu::rx_region;

/// The writable alias of executable address `addr` (text or slots).
pub fn alias(addr: usize) -> usize {
    let rx = rx_region();
    assert!(
        rx.contains(&addr),
        "{addr:#x} is not in the RX region {rx:x?}"
    );
    TEXT_ALIAS + (addr - rx.start)
}

/// Replaces the word at `addr` and makes the calling core's instruction stream see it.
/// Other cores must execute an ISB before running it.
pub fn write_word(addr: usize, word: u32) {
    assert!(addr.is_multiple_of(4), "misaligned text address {addr:#x}");
    let a = alias(addr);
    // SAFETY: `a` is the writable alias of an RX word (checked above), so the store
    // changes only that instruction. Then the ARMv7 code-modification sequence:
    // DCCMVAU on the written VA (D-cache is PIPT, so cleaning by the alias cleans the
    // line), DSB ISH, ICIMVAU on the executable VA (broadcast to the Inner Shareable
    // domain with the multiprocessing extensions), BPIALLIS, DSB ISH, ISB.
    unsafe {
        core::ptr::write_volatile(a as *mut u32, word);
        core::arch::asm!(
            "mcr p15, 0, {a}, c7, c11, 1",
            "dsb ish",
            "mcr p15, 0, {x}, c7, c5, 1",
            "mcr p15, 0, {z}, c7, c1, 6",
            "dsb ish",
            "isb",
            a = in(reg) a, x = in(reg) addr, z = in(reg) 0u32,
            options(nostack, preserves_flags),
        );
    }
}
