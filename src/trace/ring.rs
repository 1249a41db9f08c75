//! A per-CPU ring of [`Record`]s that an event hit writes without a lock and a drainer
//! empties concurrently, losing records only by the policy chosen at build time and
//! counting every one it loses.
//!
//! # Use
//!
//! ```text
//! static RINGS: [TraceRing<1024, DropNewest>; 4] = [const { TraceRing::new() }; 4];
//! // hit path, on CPU `cpu`, IRQs and FIQs masked:
//! RINGS[cpu].push(&record);
//! // anywhere (one drainer per ring at a time):
//! if let Some(mut drain) = RINGS[cpu].drain() { while let Some(r) = drain.pop() { send(&r) } }
//! ```
//!
//! # Contract
//! One producer per ring: only CPU *n* pushes into ring *n*, with interrupts masked, so
//! pushes into one ring never overlap (the probe handler context guarantees both). Any
//! number of CPUs may try to drain; [`TraceRing::drain`] lets one at a time in. All the
//! ring's memory is atomics, so breaking the one-producer rule garbles records but is
//! never undefined behaviour.
//!
//! # Why it is sound
//! Positions count records forever (`u32`, wrapping; `N` is a power of two so slot
//! `pos % N` stays continuous across the wrap). `head` is the next position the producer
//! writes, `tail` the next the drainer reads; only the producer stores `head`, only the
//! drainer stores `tail`.
//!
//! - **Publishing**: the producer writes a slot's words, then stores `head = pos + 1`
//!   with `Release`; the drainer loads `head` with `Acquire`, so every word of every
//!   position below it is visible to it.
//! - **[`DropNewest`]**: the producer loads `tail` with `Acquire` and writes only when
//!   `head - tail < N`; the drainer stores `tail` with `Release` after reading the slot,
//!   so its reads happen before the producer's next write to that slot. A full ring
//!   drops the new record and counts it (`dropped_newest`, producer-owned).
//! - **[`OverwriteOldest`]**: the producer never waits, so the drainer may read a slot
//!   while it is being overwritten. Each slot carries a sequence word (a seqlock): the
//!   producer stores `2·pos + 1` (writing), a `Release` fence, the words, then `2·pos + 2`
//!   with `Release`. The drainer loads the sequence (`Acquire`), the words, an `Acquire`
//!   fence, and the sequence again: it keeps the record only if both loads saw
//!   `2·tail + 2`. Seeing that value the second time means no later write's first store
//!   had become visible before the fence, so no word read came from a later write (the
//!   fence pairs with the writer's `Release` fence); seeing it the first time means the
//!   words of `tail` itself are visible. Otherwise the position was overwritten: the
//!   drainer counts it (`overwritten`, drainer-owned) and moves on; it also jumps over
//!   whole laps (`head - tail > N`) without reading them. The sequence space is 2^31
//!   positions, so a drainer would have to stall for 2^31 records for a stale slot to
//!   pass the check.
//!
//! So at any moment the drainer has taken, plus what it has left in the ring, plus
//! [`dropped`](TraceRing::dropped), equals [`attempted`](TraceRing::attempted) (exactly
//! when neither side is running).

use super::record::{RECORD_WORDS, Record};
use crate::sync::{AtomicBool, AtomicU32, AtomicU64, Ordering, const_fn_unless_loom, fence};
use core::marker::PhantomData;

mod sealed {
    pub trait Sealed {}
}

/// What a full ring does with a new record: [`DropNewest`] or [`OverwriteOldest`].
pub trait Overflow: sealed::Sealed {
    /// Whether a full ring overwrites its oldest record.
    const OVERWRITES: bool;
}

/// A full ring drops the record being pushed (the oldest records survive).
pub struct DropNewest;
/// A full ring overwrites its oldest record (the newest records survive).
pub struct OverwriteOldest;

impl sealed::Sealed for DropNewest {}
impl sealed::Sealed for OverwriteOldest {}
impl Overflow for DropNewest {
    const OVERWRITES: bool = false;
}
impl Overflow for OverwriteOldest {
    const OVERWRITES: bool = true;
}

/// Words a slot stores: a whole record, except in the loom model, which checks the
/// protocol with the record's first two words (the timestamp) — the ordering argument
/// does not depend on how many words there are, and loom explores every value each
/// relaxed load may return, which for 22 words is out of reach.
#[cfg(not(all(test, loom)))]
const SLOT_WORDS: usize = RECORD_WORDS;
#[cfg(all(test, loom))]
const SLOT_WORDS: usize = 2;

struct Slot {
    /// [`OverwriteOldest`] only: `2·pos + 1` while position `pos` is being written,
    /// `2·pos + 2` once it is complete.
    seq: AtomicU32,
    words: [AtomicU32; SLOT_WORDS],
}

impl Slot {
    #[cfg(not(all(test, loom)))]
    #[allow(clippy::declare_interior_mutable_const)] // only ever copied into a new ring
    const EMPTY: Slot = Slot {
        seq: AtomicU32::new(0),
        words: [const { AtomicU32::new(0) }; SLOT_WORDS],
    };

    #[cfg(not(all(test, loom)))]
    const fn ring<const N: usize>() -> [Slot; N] {
        [Slot::EMPTY; N]
    }

    /// loom's atomics cannot be made in a const context.
    #[cfg(all(test, loom))]
    fn ring<const N: usize>() -> [Slot; N] {
        core::array::from_fn(|_| Slot {
            seq: AtomicU32::new(0),
            words: core::array::from_fn(|_| AtomicU32::new(0)),
        })
    }
}

/// One CPU's ring of `N` records (`N` a power of two), full policy `P`.
pub struct TraceRing<const N: usize, P: Overflow = DropNewest> {
    head: AtomicU32,
    tail: AtomicU32,
    dropped_newest: AtomicU64,
    overwritten: AtomicU64,
    drained: AtomicU64,
    draining: AtomicBool,
    slots: [Slot; N],
    policy: PhantomData<P>,
}

impl<const N: usize, P: Overflow> Default for TraceRing<N, P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, P: Overflow> TraceRing<N, P> {
    const MASK: u32 = {
        assert!(
            N.is_power_of_two() && N <= 1 << 30,
            "a TraceRing holds a power of two records, at most 2^30"
        );
        N as u32 - 1
    };

    const_fn_unless_loom! {
        /// An empty ring (for a `static`: it is `N` × 92 bytes).
        pub fn new() -> Self {
            let _ = Self::MASK;
            TraceRing {
                head: AtomicU32::new(0),
                tail: AtomicU32::new(0),
                dropped_newest: AtomicU64::new(0),
                overwritten: AtomicU64::new(0),
                drained: AtomicU64::new(0),
                draining: AtomicBool::new(false),
                slots: Slot::ring::<N>(),
                policy: PhantomData,
            }
        }
    }

    /// Records `record`; `false` if it was dropped (a full [`DropNewest`] ring).
    ///
    /// Only this ring's CPU may call it, with interrupts masked (see the module docs).
    /// Lock-free and wait-free: a fixed number of stores, no loop.
    #[inline]
    pub fn push(&self, record: &Record) -> bool {
        // Relaxed: only this CPU stores `head`.
        let pos = self.head.load(Ordering::Relaxed);
        if !P::OVERWRITES {
            let tail = self.tail.load(Ordering::Acquire);
            if pos.wrapping_sub(tail) as usize >= N {
                // Producer-owned counter: load and store, no read-modify-write needed.
                let dropped = self.dropped_newest.load(Ordering::Relaxed);
                self.dropped_newest.store(dropped + 1, Ordering::Relaxed);
                return false;
            }
        }
        let slot = &self.slots[(pos & Self::MASK) as usize];
        if P::OVERWRITES {
            slot.seq
                .store(pos.wrapping_mul(2).wrapping_add(1), Ordering::Relaxed);
            fence(Ordering::Release);
        }
        record.for_each_word(|i, value| {
            if let Some(word) = slot.words.get(i) {
                word.store(value, Ordering::Relaxed);
            }
        });
        if P::OVERWRITES {
            slot.seq
                .store(pos.wrapping_mul(2).wrapping_add(2), Ordering::Release);
        }
        self.head.store(pos.wrapping_add(1), Ordering::Release);
        true
    }

    /// The ring's drainer, unless another one is active.
    pub fn drain(&self) -> Option<Drain<'_, N, P>> {
        self.draining
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Drain { ring: self })
    }

    /// Records pushed (recorded or not).
    pub fn attempted(&self) -> u64 {
        self.written() + self.dropped_newest.load(Ordering::Relaxed)
    }

    /// Records lost: dropped when full ([`DropNewest`]) or overwritten before a drainer
    /// took them ([`OverwriteOldest`]; counted when the drainer passes them).
    pub fn dropped(&self) -> u64 {
        self.dropped_newest.load(Ordering::Relaxed) + self.overwritten.load(Ordering::Relaxed)
    }

    /// Records drainers have taken.
    pub fn drained(&self) -> u64 {
        self.drained.load(Ordering::Relaxed)
    }

    /// Records in the ring not yet drained nor known to be overwritten.
    pub fn pending(&self) -> u64 {
        let head = self.head.load(Ordering::Acquire);
        let tail = self.tail.load(Ordering::Acquire);
        u64::from(head.wrapping_sub(tail))
    }

    /// Positions the producer has written. Positions wrap at 2^32; this counts from the
    /// drained and lost totals, so it stays exact past the wrap.
    fn written(&self) -> u64 {
        // Everything before `tail` was drained or counted overwritten.
        self.drained() + self.overwritten.load(Ordering::Relaxed) + self.pending()
    }
}

/// The one drainer of a [`TraceRing`], while it lives.
pub struct Drain<'r, const N: usize, P: Overflow> {
    ring: &'r TraceRing<N, P>,
}

impl<const N: usize, P: Overflow> Drain<'_, N, P> {
    /// The oldest record still in the ring, or `None` when it is empty.
    pub fn pop(&mut self) -> Option<Record> {
        let ring = self.ring;
        // Relaxed: only the drainer (this one, or one before it that released
        // `draining`) stores `tail`.
        let mut tail = ring.tail.load(Ordering::Relaxed);
        loop {
            let head = ring.head.load(Ordering::Acquire);
            let available = head.wrapping_sub(tail);
            if available == 0 {
                return None;
            }
            if P::OVERWRITES && available as usize > N {
                let skipped = available - N as u32;
                self.count_overwritten(u64::from(skipped));
                tail = tail.wrapping_add(skipped);
                ring.tail.store(tail, Ordering::Release);
            }
            let slot = &ring.slots[(tail & TraceRing::<N, P>::MASK) as usize];
            let complete = tail.wrapping_mul(2).wrapping_add(2);
            if P::OVERWRITES && slot.seq.load(Ordering::Acquire) != complete {
                self.count_overwritten(1);
                tail = tail.wrapping_add(1);
                ring.tail.store(tail, Ordering::Release);
                continue;
            }
            let mut words = [0u32; RECORD_WORDS];
            for (w, word) in words.iter_mut().zip(&slot.words) {
                *w = word.load(Ordering::Relaxed);
            }
            if P::OVERWRITES {
                fence(Ordering::Acquire);
                if slot.seq.load(Ordering::Relaxed) != complete {
                    self.count_overwritten(1);
                    tail = tail.wrapping_add(1);
                    ring.tail.store(tail, Ordering::Release);
                    continue;
                }
            }
            // Counted before `tail` moves, so `drained + overwritten + pending` never
            // comes up short for an observer.
            let drained = ring.drained.load(Ordering::Relaxed);
            ring.drained.store(drained + 1, Ordering::Relaxed);
            ring.tail.store(tail.wrapping_add(1), Ordering::Release);
            return Some(Record::from_words(&words));
        }
    }

    fn count_overwritten(&self, n: u64) {
        let count = self.ring.overwritten.load(Ordering::Relaxed);
        self.ring.overwritten.store(count + n, Ordering::Relaxed);
    }
}

impl<const N: usize, P: Overflow> Iterator for Drain<'_, N, P> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        self.pop()
    }
}

impl<const N: usize, P: Overflow> Drop for Drain<'_, N, P> {
    fn drop(&mut self) {
        // Release: the next drainer sees this one's `tail` and counters.
        self.ring.draining.store(false, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;
