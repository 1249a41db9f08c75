//! Wall-clock time from the ARM generic timer, for timeouts (not for measurements).

fn counter() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: MRRC of CNTPCT reads the physical count; PL1 may always read it. The
    // ISB keeps the read from being hoisted above earlier instructions.
    unsafe {
        core::arch::asm!("isb", "mrrc p15, 0, {lo}, {hi}, c14", lo = out(reg) lo, hi = out(reg) hi,
            options(nostack, nomem, preserves_flags));
    }
    ((hi as u64) << 32) | lo as u64
}

fn frequency() -> u64 {
    let f: u32;
    // SAFETY: reads CNTFRQ, a plain ID-like register; no side effects.
    unsafe {
        core::arch::asm!("mrc p15, 0, {f}, c14, c0, 0", f = out(reg) f,
            options(nostack, nomem, preserves_flags));
    }
    // QEMU programs 62.5 MHz; guard against firmware that left it zero.
    if f == 0 { 62_500_000 } else { f as u64 }
}

/// Nanoseconds since the counter started. Whole seconds and the remainder apart:
/// `counter * 10^9` overflows 64 bits after about 295 s at 62.5 MHz, which a suite on a
/// busy machine reaches (a debug-assertion build panicked there).
pub fn now_ns() -> u64 {
    let (c, f) = (counter(), frequency());
    (c / f) * 1_000_000_000 + (c % f) * 1_000_000_000 / f
}
