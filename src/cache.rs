//! The instructions a code write is made of — the text store, cache maintenance and barriers — as a seam the host can record.
//!
//! [`crate::patch`] and [`crate::stop_machine`] never issue these instructions
//! themselves: they call a [`CacheOps`]. On the target that is
//! `arch::cache::ArmCacheOps` (one `asm!` per operation); in host tests it is
//! `fakes::FakeCacheOps`, which performs the store and records every operation
//! per CPU so a test can assert the exact sequence each CPU ran.
//!
//! Why a trait of its own rather than more methods on [`crate::Platform`]: these
//! operations are fixed by the architecture, not chosen by the kernel, so the crate
//! provides the only real implementation and the kernel's `Platform` impl stays about
//! the machine (CPUs, IPIs, memory map). A kernel never implements `CacheOps`; it names
//! `ArmCacheOps` once, when it builds its [`crate::stop_machine::Rendezvous`].

/// The store, cache-maintenance and barrier instructions of an ARMv7-A code write.
///
/// Mnemonics are the ARMv7 ARM's; "to PoU" means to the point of unification, where
/// instruction fetches and data accesses see the same memory.
pub trait CacheOps: Sync {
    /// Whether cache and branch-predictor maintenance by one CPU reaches every CPU in
    /// the inner shareable domain (ID_MMFR3 "Maintenance broadcast", bits \[15:12\],
    /// non-zero). When it does not, every CPU must run the maintenance itself.
    fn maintenance_is_broadcast(&self) -> bool;

    /// Stores `word` at `alias`, the writable view of executable address `addr`, as one
    /// aligned single-copy-atomic 32-bit store.
    ///
    /// # Safety
    ///
    /// `alias` is valid for writes of a `u32`, 4-byte aligned, and every other access to
    /// it that may run concurrently is atomic or an instruction fetch.
    unsafe fn store_text_word(&self, addr: usize, alias: *mut u32, word: u32);

    /// DCCMVAU: cleans the data-cache line holding `addr` to PoU.
    fn clean_dcache_line_to_pou(&self, addr: usize);

    /// DSB ISH: waits until every earlier memory access and maintenance operation of
    /// this CPU is complete for the inner shareable domain.
    fn dsb_ish(&self);

    /// ICIMVAU: invalidates the instruction-cache line holding `addr` to PoU.
    fn invalidate_icache_line_to_pou(&self, addr: usize);

    /// ICIALLU: invalidates this CPU's whole instruction cache to PoU (used when
    /// maintenance is not broadcast, so slot words another CPU wrote are fetched anew).
    fn invalidate_icache_all_local(&self);

    /// BPIALLIS: invalidates all branch predictors in the inner shareable domain
    /// (Multiprocessing Extensions; used when maintenance is broadcast).
    fn invalidate_branch_predictors_inner_shareable(&self);

    /// BPIALL: invalidates this CPU's branch predictors (used when maintenance is not
    /// broadcast and every CPU runs it).
    fn invalidate_branch_predictors_local(&self);

    /// ISB: flushes this CPU's pipeline, so later instructions are fetched anew.
    fn isb(&self);
}

impl<C: CacheOps + ?Sized> CacheOps for &C {
    fn maintenance_is_broadcast(&self) -> bool {
        (**self).maintenance_is_broadcast()
    }

    unsafe fn store_text_word(&self, addr: usize, alias: *mut u32, word: u32) {
        // SAFETY: the caller upholds the same contract for the inner implementation.
        unsafe { (**self).store_text_word(addr, alias, word) }
    }

    fn clean_dcache_line_to_pou(&self, addr: usize) {
        (**self).clean_dcache_line_to_pou(addr)
    }

    fn dsb_ish(&self) {
        (**self).dsb_ish()
    }

    fn invalidate_icache_line_to_pou(&self, addr: usize) {
        (**self).invalidate_icache_line_to_pou(addr)
    }

    fn invalidate_icache_all_local(&self) {
        (**self).invalidate_icache_all_local()
    }

    fn invalidate_branch_predictors_inner_shareable(&self) {
        (**self).invalidate_branch_predictors_inner_shareable()
    }

    fn invalidate_branch_predictors_local(&self) {
        (**self).invalidate_branch_predictors_local()
    }

    fn isb(&self) {
        (**self).isb()
    }
}
