//! In-memory stand-ins for the machine, so the crate's logic runs in host tests.
//!
//! [`FakePlatform`] plays the kernel: threads are CPUs (each thread says which CPU it
//! is with [`FakePlatform::become_cpu`]), text is a vector of words with a writable
//! alias, and IPIs are recorded for the test to deliver.
//!
//! IPI delivery: a real CPU takes the crate's IPI as an interrupt and its handler calls
//! [`crate::stop_machine::Rendezvous::ipi_entry`]. A thread-CPU cannot be interrupted,
//! so [`FakePlatform::send_ipi`] also sets a pending bit per target, and a thread that
//! stands for an idle CPU polls it with [`FakePlatform::take_pending_ipi`] and calls
//! `ipi_entry_at` itself — the same call at the point where the interrupt would have been
//! taken, with the pc a test says the CPU was interrupted at
//! ([`FakePlatform::set_interrupted_pc`]; 0, outside every slot, unless set).
//!
//! [`FakeCacheOps`] stands for the cache-maintenance instructions: it performs the text
//! store and records every operation in a log per CPU.

extern crate std;

use crate::cache::CacheOps;
use crate::platform::{CpuIndexSource, CpuSet, InterruptState, MAX_CPUS, Platform};
use crate::step::{Barrier, Hint, Memory, MemoryFault};
use crate::stop_machine::Rendezvous;
use core::ops::Range;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::boxed::Box;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Mutex;
use std::vec::Vec;

std::thread_local! {
    static CPU: Cell<usize> = const { Cell::new(0) };
    static MASKED: Cell<bool> = const { Cell::new(false) };
}

/// A platform whose text, slots, CPUs and IPIs live in host memory.
pub struct FakePlatform {
    text_base: usize,
    text: Box<[AtomicU32]>,
    slot_base: usize,
    slots: Box<[AtomicU32]>,
    online: AtomicU32,
    never_probe: Vec<Range<usize>>,
    ipis: Mutex<Vec<CpuSet>>,
    pending_ipis: AtomicU32,
    interrupted_pc: [AtomicUsize; MAX_CPUS],
    cpu_index: Mutex<CpuIndexSource>,
}

impl FakePlatform {
    /// A platform with `text_words` words of text at `text_base` (filled with `nop`,
    /// `0xe320f000`), `slot_words` words of slot memory at `slot_base`, and CPUs
    /// `0..cpus` online.
    pub fn new(
        text_base: usize,
        text_words: usize,
        slot_base: usize,
        slot_words: usize,
        cpus: usize,
    ) -> Self {
        let words = |n: usize, v: u32| (0..n).map(|_| AtomicU32::new(v)).collect::<Vec<_>>();
        FakePlatform {
            text_base,
            text: words(text_words, 0xe320_f000).into_boxed_slice(),
            slot_base,
            slots: words(slot_words, 0).into_boxed_slice(),
            online: AtomicU32::new(CpuSet::first(cpus).bits()),
            never_probe: Vec::new(),
            ipis: Mutex::new(Vec::new()),
            pending_ipis: AtomicU32::new(0),
            interrupted_pc: [const { AtomicUsize::new(0) }; MAX_CPUS],
            cpu_index: Mutex::new(CpuIndexSource::None),
        }
    }

    /// What [`Platform::cpu_index_register`] answers from now on (none by default).
    pub fn set_cpu_index_register(&self, source: CpuIndexSource) {
        *self.cpu_index.lock().unwrap() = source;
    }

    /// Declares `range` never-probe.
    pub fn with_never_probe(mut self, range: Range<usize>) -> Self {
        self.never_probe.push(range);
        self
    }

    /// Makes the calling thread CPU `cpu` (with interrupts unmasked).
    pub fn become_cpu(cpu: usize) {
        CPU.with(|c| c.set(cpu));
        MASKED.with(|m| m.set(false));
    }

    /// Adds `cpu` to the online set (`true`) or removes it: what a kernel's closure
    /// passed to the hotplug hooks of [`Rendezvous`] does.
    pub fn set_online(&self, cpu: usize, online: bool) {
        let me = CpuSet::single(cpu).bits();
        if online {
            self.online.fetch_or(me, Ordering::SeqCst);
        } else {
            self.online.fetch_and(!me, Ordering::SeqCst);
        }
    }

    /// The word of text or slot memory at `addr`.
    pub fn word(&self, addr: usize) -> u32 {
        // SAFETY: `text_alias` returns a pointer into one of our own atomic words.
        unsafe { (*(self.text_alias(addr) as *const AtomicU32)).load(Ordering::SeqCst) }
    }

    /// Sets the word at `addr` directly (test setup; bypasses the crate).
    pub fn set_word(&self, addr: usize, value: u32) {
        // SAFETY: as in `word`.
        unsafe { (*(self.text_alias(addr) as *const AtomicU32)).store(value, Ordering::SeqCst) }
    }

    /// The pc thread-CPU `cpu` reports to `ipi_entry_at` from now on, as if every IPI
    /// interrupted it there (e.g. inside a trampoline slot).
    pub fn set_interrupted_pc(&self, cpu: usize, pc: usize) {
        self.interrupted_pc[cpu % MAX_CPUS].store(pc, Ordering::SeqCst);
    }

    /// The pc thread-CPU `cpu` reports when it takes an IPI.
    pub fn interrupted_pc(&self, cpu: usize) -> usize {
        self.interrupted_pc[cpu % MAX_CPUS].load(Ordering::SeqCst)
    }

    /// IPIs sent so far, oldest first, and forgets them.
    pub fn take_ipis(&self) -> Vec<CpuSet> {
        core::mem::take(&mut *self.ipis.lock().unwrap())
    }

    /// Whether an IPI was sent to the calling thread's CPU since it last asked, and
    /// forgets it: the thread's stand-in for taking the interrupt.
    pub fn take_pending_ipi(&self) -> bool {
        let me = CpuSet::single(self.cpu_id()).bits();
        self.pending_ipis.fetch_and(!me, Ordering::SeqCst) & me != 0
    }

    /// Makes the calling thread idle CPU `cpu`: it takes each IPI sent to it and enters
    /// `rendezvous`, until `stop` is set. Returns how many rendezvous it took part in.
    pub fn serve_ipis_until<C: CacheOps>(
        &self,
        cpu: usize,
        rendezvous: &Rendezvous<C>,
        stop: &AtomicBool,
    ) -> usize {
        FakePlatform::become_cpu(cpu);
        let mut joined = 0;
        while !stop.load(Ordering::SeqCst) {
            if self.take_pending_ipi() && rendezvous.ipi_entry_at(self, self.interrupted_pc(cpu)) {
                joined += 1;
            } else {
                std::thread::yield_now();
            }
        }
        joined
    }

    fn cell(&self, addr: usize) -> Option<&AtomicU32> {
        if !addr.is_multiple_of(4) {
            return None;
        }
        if let Some(off) = addr.checked_sub(self.text_base)
            && let Some(w) = self.text.get(off / 4)
        {
            return Some(w);
        }
        addr.checked_sub(self.slot_base)
            .and_then(|off| self.slots.get(off / 4))
    }
}

impl Platform for FakePlatform {
    fn cpu_id(&self) -> usize {
        CPU.with(|c| c.get())
    }

    fn online_cpus(&self) -> CpuSet {
        CpuSet::from_bits(self.online.load(Ordering::SeqCst))
    }

    fn send_ipi(&self, targets: CpuSet) {
        self.ipis.lock().unwrap().push(targets);
        self.pending_ipis.fetch_or(targets.bits(), Ordering::SeqCst);
    }

    fn mask_interrupts(&self) -> InterruptState {
        InterruptState(MASKED.with(|m| m.replace(true)) as u32)
    }

    fn restore_interrupts(&self, previous: InterruptState) {
        MASKED.with(|m| m.set(previous.0 != 0));
    }

    fn interrupts_masked(&self) -> bool {
        MASKED.with(|m| m.get())
    }

    fn kernel_text(&self) -> Range<usize> {
        self.text_base..self.text_base + self.text.len() * 4
    }

    fn never_probe(&self) -> &[Range<usize>] {
        &self.never_probe
    }

    fn cpu_index_register(&self) -> CpuIndexSource {
        *self.cpu_index.lock().unwrap()
    }

    fn slot_region(&self) -> Range<usize> {
        self.slot_base..self.slot_base + self.slots.len() * 4
    }

    fn text_alias(&self, addr: usize) -> *mut u32 {
        match self.cell(addr) {
            Some(w) => w.as_ptr(),
            None => panic!("fake text_alias: {addr:#x} is neither text nor slot memory"),
        }
    }
}

/// One operation [`FakeCacheOps`] recorded, named by its ARMv7 mnemonic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOp {
    /// The text store of `word` to executable address `addr` (through its alias).
    Store {
        /// Executable address written.
        addr: usize,
        /// Word stored.
        word: u32,
    },
    /// DCCMVAU of the line holding the address.
    Dccmvau(usize),
    /// DSB ISH.
    DsbIsh,
    /// ICIMVAU of the line holding the address.
    Icimvau(usize),
    /// ICIALLU.
    Iciallu,
    /// BPIALLIS.
    Bpiallis,
    /// BPIALL.
    Bpiall,
    /// ISB.
    Isb,
}

/// Cache maintenance that records, per CPU (the [`FakePlatform`] CPU of the calling
/// thread), every operation in order, and performs the text store.
pub struct FakeCacheOps {
    broadcast: bool,
    logs: [Mutex<Vec<CacheOp>>; MAX_CPUS],
    after_store: Mutex<Option<StoreHook>>,
}

/// What [`FakeCacheOps::after_each_store`] runs.
type StoreHook = Box<dyn Fn(usize, u32) + Send + Sync>;

impl FakeCacheOps {
    /// A recorder whose ID_MMFR3 says maintenance is (or is not) broadcast.
    pub fn new(broadcast: bool) -> Self {
        FakeCacheOps {
            broadcast,
            logs: [const { Mutex::new(Vec::new()) }; MAX_CPUS],
            after_store: Mutex::new(None),
        }
    }

    /// Runs `hook(addr, word)` right after each text store, on the storing CPU (inside
    /// the rendezvous that patches): what another CPU would see the moment the
    /// rendezvous lets it go. The hook must not store text itself.
    pub fn after_each_store(&self, hook: impl Fn(usize, u32) + Send + Sync + 'static) {
        *self.after_store.lock().unwrap() = Some(Box::new(hook));
    }

    /// What `cpu` has done so far, oldest first.
    pub fn log(&self, cpu: usize) -> Vec<CacheOp> {
        self.logs[cpu].lock().unwrap().clone()
    }

    /// What `cpu` has done so far, and forgets it.
    pub fn take_log(&self, cpu: usize) -> Vec<CacheOp> {
        core::mem::take(&mut *self.logs[cpu].lock().unwrap())
    }

    fn record(&self, op: CacheOp) {
        let cpu = CPU.with(|c| c.get());
        self.logs[cpu].lock().unwrap().push(op);
    }
}

impl CacheOps for FakeCacheOps {
    fn maintenance_is_broadcast(&self) -> bool {
        self.broadcast
    }

    unsafe fn store_text_word(&self, addr: usize, alias: *mut u32, word: u32) {
        // SAFETY: the caller guarantees `alias` is valid, aligned and only accessed
        // atomically meanwhile (the fake's text is atomic words).
        unsafe { AtomicU32::from_ptr(alias).store(word, Ordering::SeqCst) };
        self.record(CacheOp::Store { addr, word });
        if let Some(hook) = &*self.after_store.lock().unwrap() {
            hook(addr, word);
        }
    }

    fn clean_dcache_line_to_pou(&self, addr: usize) {
        self.record(CacheOp::Dccmvau(addr));
    }

    fn dsb_ish(&self) {
        self.record(CacheOp::DsbIsh);
    }

    fn invalidate_icache_line_to_pou(&self, addr: usize) {
        self.record(CacheOp::Icimvau(addr));
    }

    fn invalidate_icache_all_local(&self) {
        self.record(CacheOp::Iciallu);
    }

    fn invalidate_branch_predictors_inner_shareable(&self) {
        self.record(CacheOp::Bpiallis);
    }

    fn invalidate_branch_predictors_local(&self) {
        self.record(CacheOp::Bpiall);
    }

    fn isb(&self) {
        self.record(CacheOp::Isb);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_text_and_slots_are_addressable_and_writable() {
        let p = FakePlatform::new(0x8000, 16, 0x10_0000, 8, 4);
        assert_eq!(p.kernel_text(), 0x8000..0x8040);
        assert_eq!(p.slot_region(), 0x10_0000..0x10_0020);
        assert_eq!(p.word(0x8004), 0xe320_f000);
        p.set_word(0x8004, 0x07f0_01f8);
        assert_eq!(p.word(0x8004), 0x07f0_01f8);
        p.set_word(0x10_001c, 7);
        assert_eq!(p.word(0x10_001c), 7);
        assert_eq!(p.online_cpus(), CpuSet::first(4));
    }

    #[test]
    #[should_panic(expected = "neither text nor slot")]
    fn fake_alias_outside_memory_panics() {
        let p = FakePlatform::new(0x8000, 16, 0x10_0000, 8, 1);
        p.text_alias(0x9000);
    }

    #[test]
    fn fake_interrupt_mask_is_per_thread_and_restorable() {
        let p = FakePlatform::new(0x8000, 1, 0x9000, 1, 2);
        FakePlatform::become_cpu(1);
        assert_eq!(p.cpu_id(), 1);
        let s = p.mask_interrupts();
        assert!(p.interrupts_masked());
        std::thread::scope(|sc| {
            sc.spawn(|| assert!(!p.interrupts_masked()));
        });
        p.restore_interrupts(s);
        assert!(!p.interrupts_masked());
        p.send_ipi(CpuSet::single(0));
        assert_eq!(p.take_ipis(), vec![CpuSet::single(0)]);
        assert!(p.take_ipis().is_empty());
    }

    #[test]
    fn fake_ipi_is_pending_once_for_each_target_only() {
        let p = FakePlatform::new(0x8000, 1, 0x9000, 1, 4);
        p.send_ipi(CpuSet::from_bits(0b0110));
        FakePlatform::become_cpu(0);
        assert!(!p.take_pending_ipi());
        FakePlatform::become_cpu(2);
        assert!(p.take_pending_ipi());
        assert!(!p.take_pending_ipi(), "taking an IPI consumes it");
        FakePlatform::become_cpu(1);
        assert!(p.take_pending_ipi());
    }

    #[test]
    fn fake_cache_ops_store_the_word_and_log_per_cpu() {
        let p = FakePlatform::new(0x8000, 4, 0x9000, 1, 2);
        let c = FakeCacheOps::new(false);
        assert!(!c.maintenance_is_broadcast());
        assert!(FakeCacheOps::new(true).maintenance_is_broadcast());
        FakePlatform::become_cpu(1);
        // SAFETY: the alias of a fake text word is a valid, aligned atomic word.
        unsafe { c.store_text_word(0x8004, p.text_alias(0x8004), 0xeaff_fffe) };
        c.clean_dcache_line_to_pou(0x8004);
        c.dsb_ish();
        c.invalidate_icache_line_to_pou(0x8004);
        c.invalidate_branch_predictors_inner_shareable();
        c.invalidate_branch_predictors_local();
        c.isb();
        assert_eq!(p.word(0x8004), 0xeaff_fffe);
        assert!(c.log(0).is_empty());
        assert_eq!(
            c.take_log(1),
            vec![
                CacheOp::Store {
                    addr: 0x8004,
                    word: 0xeaff_fffe
                },
                CacheOp::Dccmvau(0x8004),
                CacheOp::DsbIsh,
                CacheOp::Icimvau(0x8004),
                CacheOp::Bpiallis,
                CacheOp::Bpiall,
                CacheOp::Isb,
            ]
        );
        assert!(c.log(1).is_empty());
    }
}

/// Byte-addressed memory for stepped instructions in host tests: every address reads 0
/// until written, nothing faults, barriers and hints do nothing.
#[derive(Clone, Debug, Default)]
pub struct FakeMemory(pub HashMap<u32, u8>);

impl Memory for FakeMemory {
    fn read_u8(&mut self, a: u32) -> Result<u8, MemoryFault> {
        Ok(*self.0.get(&a).unwrap_or(&0))
    }
    fn read_u16(&mut self, a: u32) -> Result<u16, MemoryFault> {
        Ok(u16::from_le_bytes([self.read_u8(a)?, self.read_u8(a + 1)?]))
    }
    fn read_u32(&mut self, a: u32) -> Result<u32, MemoryFault> {
        Ok(u32::from_le_bytes([
            self.read_u8(a)?,
            self.read_u8(a + 1)?,
            self.read_u8(a + 2)?,
            self.read_u8(a + 3)?,
        ]))
    }
    fn write_u8(&mut self, a: u32, v: u8) -> Result<(), MemoryFault> {
        self.0.insert(a, v);
        Ok(())
    }
    fn write_u16(&mut self, a: u32, v: u16) -> Result<(), MemoryFault> {
        for (i, b) in v.to_le_bytes().into_iter().enumerate() {
            self.0.insert(a + i as u32, b);
        }
        Ok(())
    }
    fn write_u32(&mut self, a: u32, v: u32) -> Result<(), MemoryFault> {
        for (i, b) in v.to_le_bytes().into_iter().enumerate() {
            self.0.insert(a + i as u32, b);
        }
        Ok(())
    }
    fn barrier(&mut self, _: Barrier) {}
    fn hint(&mut self, _: Hint) {}
}
