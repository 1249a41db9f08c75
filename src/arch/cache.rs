//! The ARMv7-A instructions behind [`CacheOps`]: the text store, CP15 cache and
//! branch-predictor maintenance, DSB/ISB, and the ID_MMFR3 read.
//!
//! Every operation is `#[inline(always)]` so it lands inside its caller in the
//! never-probe section rather than in ordinary, probe-able `.text`.
//!
//! All of these run at PL1 (the kernel's privilege level); the CP15 operations are
//! UNDEFINED at PL0.
//!
//! Options common to every `asm!` here, and why:
//! - `nostack`: none of them touches the stack.
//! - `preserves_flags`: none of them writes the condition flags.
//! - never `nomem`/`readonly`: each one orders memory (a DSB or ISB is a barrier;
//!   maintenance must come after the store it publishes), so the compiler must treat it
//!   as reading and writing memory and keep program order around it.

use crate::cache::CacheOps;
use core::arch::asm;
use core::sync::atomic::{AtomicU32, Ordering};

/// ID_MMFR3 bits \[15:12\]: maintenance broadcast (0 = local only).
const ID_MMFR3_MAINT_BROADCAST_SHIFT: u32 = 12;

/// The real instructions. A kernel builds its rendezvous with this value:
/// `static RENDEZVOUS: Rendezvous<ArmCacheOps> = Rendezvous::new(ArmCacheOps);`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ArmCacheOps;

impl CacheOps for ArmCacheOps {
    #[inline(always)]
    fn maintenance_is_broadcast(&self) -> bool {
        let mmfr3: u32;
        // SAFETY: MRC of ID_MMFR3 (c0, c1, 7) reads a read-only identification register
        // at PL1; it has no side effect, so `nomem` is sound here (the one exception to
        // the module rule: nothing needs ordering around an ID register read).
        unsafe {
            asm!("mrc p15, 0, {r}, c0, c1, 7", r = out(reg) mmfr3,
                 options(nomem, nostack, preserves_flags));
        }
        (mmfr3 >> ID_MMFR3_MAINT_BROADCAST_SHIFT) & 0xf != 0
    }

    #[inline(always)]
    unsafe fn store_text_word(&self, _addr: usize, alias: *mut u32, word: u32) {
        // SAFETY: the caller guarantees `alias` is valid, aligned and only accessed
        // atomically (or fetched) meanwhile. A relaxed atomic store of a u32 is a single
        // aligned STR, which ARMv7 makes single-copy atomic: a CPU fetching the word sees
        // either the old or the new instruction, never a mix. Ordering against the
        // maintenance that follows comes from those `asm!` blocks not being `nomem`.
        unsafe { AtomicU32::from_ptr(alias).store(word, Ordering::Relaxed) }
    }

    #[inline(always)]
    fn clean_dcache_line_to_pou(&self, addr: usize) {
        // SAFETY: DCCMVAU (MCR c7, c11, 1) writes the dirty line holding `addr`, if any,
        // back to PoU; memory contents do not change, only where they live. Maintenance
        // by MVA does not fault on permissions, and `addr` is mapped text.
        unsafe {
            asm!("mcr p15, 0, {a}, c7, c11, 1", a = in(reg) addr,
                 options(nostack, preserves_flags));
        }
    }

    #[inline(always)]
    fn dsb_ish(&self) {
        // SAFETY: a barrier; it only waits, it changes no register or memory.
        unsafe { asm!("dsb ish", options(nostack, preserves_flags)) }
    }

    #[inline(always)]
    fn invalidate_icache_line_to_pou(&self, addr: usize) {
        // SAFETY: ICIMVAU (MCR c7, c5, 1) drops the instruction-cache line holding
        // `addr`; the next fetch refills it from PoU. No data is lost: the I-cache is
        // never dirty.
        unsafe {
            asm!("mcr p15, 0, {a}, c7, c5, 1", a = in(reg) addr,
                 options(nostack, preserves_flags));
        }
    }

    #[inline(always)]
    fn invalidate_icache_all_local(&self) {
        // SAFETY: ICIALLU (MCR c7, c5, 0; the register value is ignored, zero by
        // convention) drops this CPU's whole instruction cache; the next fetches refill
        // from PoU. The I-cache is never dirty, so nothing is lost.
        unsafe {
            asm!("mcr p15, 0, {z}, c7, c5, 0", z = in(reg) 0u32,
                 options(nostack, preserves_flags));
        }
    }

    #[inline(always)]
    fn invalidate_branch_predictors_inner_shareable(&self) {
        // SAFETY: BPIALLIS (MCR c7, c1, 6; the register value is ignored, zero by
        // convention) forgets predictions on every CPU of the inner shareable domain;
        // predictions are hints, losing them costs time, not correctness. Only called
        // when ID_MMFR3 says maintenance is broadcast, i.e. the Multiprocessing
        // Extensions that define this encoding are present.
        unsafe {
            asm!("mcr p15, 0, {z}, c7, c1, 6", z = in(reg) 0u32,
                 options(nostack, preserves_flags));
        }
    }

    #[inline(always)]
    fn invalidate_branch_predictors_local(&self) {
        // SAFETY: BPIALL (MCR c7, c5, 6; value ignored) forgets this CPU's predictions;
        // as above, only time is lost.
        unsafe {
            asm!("mcr p15, 0, {z}, c7, c5, 6", z = in(reg) 0u32,
                 options(nostack, preserves_flags));
        }
    }

    #[inline(always)]
    fn isb(&self) {
        // SAFETY: a context synchronization event; it refetches later instructions and
        // changes no register or memory.
        unsafe { asm!("isb", options(nostack, preserves_flags)) }
    }
}
