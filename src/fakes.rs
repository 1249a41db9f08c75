//! In-memory stand-ins for the machine, so the crate's logic runs in host tests.
//!
//! [`FakePlatform`] plays the kernel: threads are CPUs (each thread says which CPU it
//! is with [`FakePlatform::become_cpu`]), text is a vector of words with a writable
//! alias, and IPIs are recorded for the test to deliver.

extern crate std;

use crate::platform::{CpuSet, InterruptState, Platform};
use core::ops::Range;
use core::sync::atomic::{AtomicU32, Ordering};
use std::boxed::Box;
use std::cell::Cell;
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
        }
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

    /// IPIs sent so far, oldest first, and forgets them.
    pub fn take_ipis(&self) -> Vec<CpuSet> {
        core::mem::take(&mut *self.ipis.lock().unwrap())
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
}
