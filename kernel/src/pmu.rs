//! The PMU cycle counter, the benchmark's clock: under `qemu-system-arm -icount shift=0`
//! QEMU derives it from the instruction count, so it counts guest instructions exactly;
//! without icount it follows QEMU's virtual clock (host nanoseconds, 1 GHz nominal).
//! The benchmark reads it (PMCCNTR) from assembly, where the instructions around the read
//! are fixed (`bench_time` in `bench.rs`).

/// PMCR.E: all counters enabled.
const PMCR_E: u32 = 1 << 0;
/// PMCR.C: reset the cycle counter.
const PMCR_C: u32 = 1 << 2;
/// PMCR.D: count every 64th cycle (kept clear: one count per cycle).
const PMCR_D: u32 = 1 << 3;
/// PMCNTENSET.C: the cycle counter's enable bit.
const PMCNTENSET_C: u32 = 1 << 31;

/// Starts the calling core's cycle counter from zero, counting every cycle.
pub fn start_cycle_counter() {
    let pmcr: u32;
    // SAFETY: PMCR (c9, c12, 0) and PMCNTENSET (c9, c12, 1) are the PMU's control
    // registers, accessible at PL1 (the kernel runs there). Setting E and C and clearing D
    // only starts and resets this core's counters; no memory, stack or flags are touched.
    unsafe {
        core::arch::asm!(
            "mrc p15, 0, {pmcr}, c9, c12, 0",
            pmcr = out(reg) pmcr,
            options(nostack, nomem, preserves_flags),
        );
        core::arch::asm!(
            "mcr p15, 0, {pmcr}, c9, c12, 0",
            "mcr p15, 0, {en}, c9, c12, 1",
            "isb",
            pmcr = in(reg) (pmcr | PMCR_E | PMCR_C) & !PMCR_D,
            en = in(reg) PMCNTENSET_C,
            options(nostack, nomem, preserves_flags),
        );
    }
}
