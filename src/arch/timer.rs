//! The generic timer's virtual count and frequency: the clock a probe event's record
//! carries (`trace::record::Record::timestamp`) and what turns its ticks into time.

/// The virtual count (CNTVCT): ticks of the system counter, which the architecture
/// makes one count for all CPUs, so records from different CPUs order by it.
///
/// Readable at PL1 whatever CNTKCTL says (that register gates PL0 only). An `isb`
/// comes first because a counter read may otherwise be performed early, out of order
/// with the instructions before it — two reads in program order could then go backwards.
#[inline(always)]
pub fn virtual_count() -> u64 {
    let lo: u32;
    let hi: u32;
    // SAFETY: `isb` and a read of CNTVCT (MRRC p15, 1, c14): no memory access, no stack,
    // no change to any state but the two output registers; flags untouched.
    unsafe {
        core::arch::asm!(
            "isb",
            "mrrc p15, 1, {lo}, {hi}, c14",
            lo = out(reg) lo,
            hi = out(reg) hi,
            options(nomem, nostack, preserves_flags),
        );
    }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// The counter's frequency in Hz (CNTFRQ), as the firmware programmed it (QEMU: 62.5 MHz
/// on `virt`). A capture's header carries it so the host can print time.
#[inline]
pub fn frequency() -> u32 {
    let hz: u32;
    // SAFETY: reads CNTFRQ (MRC p15, 0, c14, c0, 0), readable at PL1; no memory access,
    // no side effects, flags untouched.
    unsafe {
        core::arch::asm!(
            "mrc p15, 0, {hz}, c14, c0, 0",
            hz = out(reg) hz,
            options(nomem, nostack, preserves_flags),
        );
    }
    hz
}
