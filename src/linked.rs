//! The ranges a [`Platform`](crate::Platform) reports, read from the symbols of the
//! crate's linker fragment — so a kernel names no linker symbol and keeps no
//! `static mut`.
//!
//! `build.rs` puts two files on the link path:
//!
//! - `kprobes.x`, for a kernel linked with aarch32-rt's `link.x`, named first
//!   (`-Tkprobes.x -Tlink.x`, so its patterns take their sections before `link.x`'s):
//!   it inserts a never-probe output section before `.text` and the slot region after
//!   it, in aarch32-rt's `CODE` region, and defines every symbol below;
//! - `kprobes-never-probe.x`, the never-probe input-section list alone, for a kernel with
//!   its own linker script: `INCLUDE kprobes-never-probe.x` inside its text output
//!   section, between `__kprobes_never_probe_start = .;` and
//!   `__kprobes_never_probe_end = .;`, and define the other symbols itself (the test
//!   kernel's `link.ld` shows how).
//!
//! | symbol | meaning |
//! |---|---|
//! | `__kprobes_text_start`, `__kprobes_text_end` | the kernel text, never-probe range included |
//! | `__kprobes_never_probe_start`, `__kprobes_never_probe_end` | code that must never carry a probe |
//! | `__kprobes_slots_start`, `__kprobes_slots_end` | executable memory for instruction slots |
//!
//! The never-probe list covers: `.text.noprobe*` (this crate's exception glue and any
//! code a kernel tags so); all of this crate's functions under legacy and v0 symbol
//! mangling, cold and hot variants included (the hit, step, return and patching paths —
//! which also catches generic code instantiated in the kernel and the kernel's impls of
//! the crate's traits); and all of `compiler_builtins`, whose `memcpy`, division and the
//! like the hit path calls without naming them. It does not cover the kernel's own
//! exception vectors: keep them outside the text range (aarch32-rt puts them in their own
//! `.vector_table` section) or never probe them.

use core::ops::Range;

unsafe extern "C" {
    static __kprobes_text_start: u8;
    static __kprobes_text_end: u8;
    static __kprobes_never_probe_start: u8;
    static __kprobes_never_probe_end: u8;
    static __kprobes_slots_start: u8;
    static __kprobes_slots_end: u8;
}

/// The address of a linker symbol.
#[inline]
fn addr(symbol: *const u8) -> usize {
    symbol as usize
}

/// Kernel text that may be probed: `__kprobes_text_start..__kprobes_text_end`.
#[inline]
pub fn kernel_text() -> Range<usize> {
    // Only the symbols' addresses are taken (safe for an extern static): nothing is read.
    addr(&raw const __kprobes_text_start)..addr(&raw const __kprobes_text_end)
}

/// The code that must never be probed:
/// `[__kprobes_never_probe_start..__kprobes_never_probe_end]`.
#[inline]
pub fn never_probe() -> &'static [Range<usize>] {
    // SAFETY: NEVER_PROBE has the layout of `[Range<usize>; 1]` (asserted below): two
    // addresses, start then end, read as integers. It is immutable.
    unsafe { &*(&raw const NEVER_PROBE).cast::<[Range<usize>; 1]>() }
}

/// Executable memory for instruction slots: `__kprobes_slots_start..__kprobes_slots_end`.
#[inline]
pub fn slot_region() -> Range<usize> {
    // Only the symbols' addresses are taken (safe for an extern static): nothing is read.
    addr(&raw const __kprobes_slots_start)..addr(&raw const __kprobes_slots_end)
}

/// A range of two linker-symbol addresses, laid out as a `Range<usize>` (start, end),
/// filled in by the linker's relocations: no code runs to build it.
#[repr(C)]
struct SymbolRange {
    start: *const u8,
    end: *const u8,
}

// SAFETY: two immutable addresses; nothing is ever read or written through them.
unsafe impl Sync for SymbolRange {}

const _: () = assert!(
    size_of::<SymbolRange>() == size_of::<Range<usize>>()
        && align_of::<SymbolRange>() == align_of::<Range<usize>>()
        && core::mem::offset_of!(Range<usize>, start) == 0
        && core::mem::offset_of!(Range<usize>, end) == size_of::<usize>()
);

static NEVER_PROBE: [SymbolRange; 1] = [SymbolRange {
    start: &raw const __kprobes_never_probe_start,
    end: &raw const __kprobes_never_probe_end,
}];
