//! The kernel's cache operations: the crate's `ArmCacheOps`, with one switch — the
//! runner's `--non-broadcast` makes them report that cache maintenance is **not**
//! broadcast, whatever ID_MMFR3 says.
//!
//! Why: QEMU's Cortex-A7 (raspi2b) and Cortex-A15 (virt, vexpress-a15) both report
//! broadcast maintenance, so on real hardware the crate's other path — every CPU
//! storing the words and maintaining its own caches (ICIALLU, BPIALL) inside the
//! rendezvous — would never run on more than host fakes. Forced, it runs on every
//! vCPU; the counts of per-CPU I-cache invalidations ([`local_invalidations`]) prove it
//! did. The switch is set once at boot, before any probe exists.
//!
//! Every method is `#[inline(always)]` over `ArmCacheOps`' (themselves inline), so it
//! lands in its never-probe caller: the rendezvous runs these on every CPU while text
//! changes.

use crate::cpu::MAX_CORES;
use armv7_kprobes::CacheOps;
use armv7_kprobes::arch::cache::ArmCacheOps;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// `ArmCacheOps`, or its per-CPU path when forced (see the module docs).
#[derive(Debug, Default)]
pub struct KernelCacheOps;

static FORCE_LOCAL: AtomicBool = AtomicBool::new(false);
static LOCAL_ICACHE_INVALIDATIONS: [AtomicU32; MAX_CORES] =
    [const { AtomicU32::new(0) }; MAX_CORES];

/// From now on, report maintenance as not broadcast. Core 0, at boot, before any probe.
pub fn force_not_broadcast() {
    FORCE_LOCAL.store(true, Ordering::Release);
}

/// Whether maintenance is forced to the per-CPU path.
pub fn forced_not_broadcast() -> bool {
    FORCE_LOCAL.load(Ordering::Acquire)
}

/// Per core: how many times it invalidated its whole instruction cache for the crate
/// (only the per-CPU path does).
pub fn local_invalidations() -> [u32; MAX_CORES] {
    core::array::from_fn(|c| LOCAL_ICACHE_INVALIDATIONS[c].load(Ordering::Relaxed))
}

impl CacheOps for KernelCacheOps {
    #[inline(always)]
    fn maintenance_is_broadcast(&self) -> bool {
        !FORCE_LOCAL.load(Ordering::Acquire) && ArmCacheOps.maintenance_is_broadcast()
    }

    #[inline(always)]
    unsafe fn store_text_word(&self, addr: usize, alias: *mut u32, word: u32) {
        // SAFETY: the caller upholds the contract, which is ArmCacheOps' own.
        unsafe { ArmCacheOps.store_text_word(addr, alias, word) }
    }

    #[inline(always)]
    fn clean_dcache_line_to_pou(&self, addr: usize) {
        ArmCacheOps.clean_dcache_line_to_pou(addr)
    }

    #[inline(always)]
    fn dsb_ish(&self) {
        ArmCacheOps.dsb_ish()
    }

    #[inline(always)]
    fn invalidate_icache_line_to_pou(&self, addr: usize) {
        ArmCacheOps.invalidate_icache_line_to_pou(addr)
    }

    #[inline(always)]
    fn invalidate_icache_all_local(&self) {
        // MPIDR.Aff0 is the core index on every board (cpu.rs).
        let me = crate::cpu::cpu_id() % MAX_CORES;
        LOCAL_ICACHE_INVALIDATIONS[me].fetch_add(1, Ordering::Relaxed);
        ArmCacheOps.invalidate_icache_all_local()
    }

    #[inline(always)]
    fn invalidate_branch_predictors_inner_shareable(&self) {
        ArmCacheOps.invalidate_branch_predictors_inner_shareable()
    }

    #[inline(always)]
    fn invalidate_branch_predictors_local(&self) {
        ArmCacheOps.invalidate_branch_predictors_local()
    }

    #[inline(always)]
    fn isb(&self) {
        ArmCacheOps.isb()
    }
}
