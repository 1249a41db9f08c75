//! A per-CPU ring of variable-length entries (32-bit words) that an event hit writes
//! without a lock and a drainer empties concurrently, losing entries only by the policy
//! chosen at build time and counting every one it loses.
//!
//! An entry is a header word and a body. The header's low 5 bits are the entry's length
//! in words (header included, [`MAX_ENTRY_WORDS`] at most), bit 5 marks padding (see
//! below), bits 8..32 are the writer's ([`entry_header`]). A hit writes only the words
//! its event needs — an event with two register arguments is five words — which is what
//! makes recording cheap; [`crate::trace::events`] expands entries to
//! [`Record`](super::record::Record)s when it drains.
//!
//! # Use
//!
//! ```text
//! static RINGS: [TraceRing<4096, DropNewest>; 4] = [const { TraceRing::new() }; 4];
//! // hit path, on CPU `cpu`, IRQs and FIQs masked:
//! RINGS[cpu].push(tag, [ts as u32, (ts >> 32) as u32, frame.r[0]]);
//! // anywhere (one drainer per ring at a time):
//! if let Some(mut drain) = RINGS[cpu].drain() { while let Some(e) = drain.pop() { send(&e) } }
//! ```
//!
//! # Contract
//! One producer per ring: only CPU *n* pushes into ring *n*, with interrupts masked, so
//! pushes into one ring never overlap (the probe handler context guarantees both). Any
//! number of CPUs may try to drain; [`TraceRing::drain`] lets one at a time in. All the
//! ring's memory is atomics, so breaking the one-producer rule garbles entries but is
//! never undefined behaviour.
//!
//! # Why it is sound
//! Positions count words forever (`u32`, wrapping; `N` is a power of two so word
//! `pos % N` stays continuous across the wrap). `head` is the next position the producer
//! writes; `tail` the oldest entry not yet drained nor given up. Only the producer stores
//! `head`. Entries never wrap around the end of the array: one that would is preceded by
//! a padding entry that fills the rest of the array, so an entry's words are contiguous.
//!
//! - **Publishing**: the producer writes an entry's words, then stores `head` past it
//!   with `Release`; the drainer loads `head` with `Acquire`, so every word of every
//!   entry below it is visible to it.
//! - **Space**: the producer loads `tail` with `Acquire` and writes only positions below
//!   `tail + N`: words that the drainer has finished reading (it moved `tail` past them
//!   with a `Release` compare-exchange after reading them, which that `Acquire` load
//!   read from), or that it never read.
//! - **Taking an entry**: the drainer reads the entry at `tail` (`Relaxed`), then moves
//!   `tail` past it with a compare-exchange from the value it read the entry at. The
//!   exchange decides who owns the entry: success means the drainer took it, and the
//!   words it read are the entry's — the producer writes over them only after moving
//!   `tail` past them itself (below), which would have made the exchange fail, or after
//!   reading the drainer's new `tail`, which orders the drainer's reads first.
//! - **[`DropNewest`]**: a full ring drops the new entry and counts it
//!   (`dropped_newest`, producer-owned). The producer never moves `tail`.
//! - **[`OverwriteOldest`]**: a full ring makes room: the producer walks whole entries
//!   from `tail` (their headers are its own writes), then moves `tail` past them with a
//!   compare-exchange (`AcqRel`) and counts them (`overwritten`, producer-owned) only if
//!   the exchange succeeds; if the drainer moved `tail` meanwhile it walks again from the
//!   new value. An entry is counted exactly once: by the side whose exchange moved `tail`
//!   past it. A drainer whose exchange fails drops what it read (the producer counted it)
//!   and reads at the new `tail`.
//!
//! `tail` could pass a stale value only after 2^32 words were pushed while a drainer was
//! stopped between its read and its exchange (an ABA on the position).
//!
//! So, when neither side is running: entries pushed = [`drained`](TraceRing::drained) +
//! [`dropped`](TraceRing::dropped) + entries still in the ring.

use crate::sync::{AtomicBool, AtomicU32, AtomicU64, Ordering, const_fn_unless_loom};
use core::marker::PhantomData;

mod sealed {
    pub trait Sealed {}
}

/// What a full ring does with a new entry: [`DropNewest`] or [`OverwriteOldest`].
pub trait Overflow: sealed::Sealed {
    /// Whether a full ring overwrites its oldest entries.
    const OVERWRITES: bool;
}

/// A full ring drops the entry being pushed (the oldest entries survive).
pub struct DropNewest;
/// A full ring overwrites its oldest entries (the newest entries survive).
pub struct OverwriteOldest;

impl sealed::Sealed for DropNewest {}
impl sealed::Sealed for OverwriteOldest {}
impl Overflow for DropNewest {
    const OVERWRITES: bool = false;
}
impl Overflow for OverwriteOldest {
    const OVERWRITES: bool = true;
}

/// Most words one entry has, header included.
pub const MAX_ENTRY_WORDS: usize = 0x1f;
const LEN_MASK: u32 = 0x1f;
const PAD: u32 = 0x20;
/// The header bits a writer chooses: `tag` of [`entry_header`].
pub const TAG_SHIFT: u32 = 8;

/// The header of an entry of `len` words (header included) carrying `tag` (24 bits).
#[inline(always)]
pub const fn entry_header(tag: u32, len: usize) -> u32 {
    (tag << TAG_SHIFT) | (len as u32 & LEN_MASK)
}

/// An entry's header word, made once for the entries of one event (a hit stores it as
/// it is: no shifting on the hit path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryHeader(u32);

impl EntryHeader {
    /// The header of an entry of `len` words (header included) carrying `tag` (24
    /// bits).
    pub const fn new(tag: u32, len: usize) -> EntryHeader {
        EntryHeader(entry_header(tag, len))
    }

    /// The entry's length in words, header included (never 0 for an entry pushed).
    pub const fn words(self) -> usize {
        (self.0 & LEN_MASK) as usize
    }
}

/// One entry as the drainer took it: its header's tag and its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The tag the producer gave [`TraceRing::push`].
    pub tag: u32,
    len: u8,
    words: [u32; MAX_ENTRY_WORDS - 1],
}

impl Entry {
    /// The words after the header.
    pub fn body(&self) -> &[u32] {
        &self.words[..usize::from(self.len)]
    }
}

/// One CPU's ring of `N` words (`N` a power of two), full policy `P`.
///
/// `repr(C)`, positions first: the hit path reaches them at a small immediate offset
/// from the ring's address (behind the words, each would take two more instructions).
#[repr(C)]
pub struct TraceRing<const N: usize, P: Overflow = DropNewest> {
    head: AtomicU32,
    tail: AtomicU32,
    dropped_newest: AtomicU64,
    overwritten: AtomicU64,
    drained: AtomicU64,
    draining: AtomicBool,
    words: [AtomicU32; N],
    policy: PhantomData<P>,
}

impl<const N: usize, P: Overflow> Default for TraceRing<N, P> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(not(all(test, loom)))]
const fn zeroed<const N: usize>() -> [AtomicU32; N] {
    [const { AtomicU32::new(0) }; N]
}

/// loom's atomics cannot be made in a const context.
#[cfg(all(test, loom))]
fn zeroed<const N: usize>() -> [AtomicU32; N] {
    core::array::from_fn(|_| AtomicU32::new(0))
}

impl<const N: usize, P: Overflow> TraceRing<N, P> {
    const MASK: u32 = {
        assert!(
            N.is_power_of_two() && N >= 2 && N <= 1 << 30,
            "a TraceRing holds a power of two words, at least 2 and at most 2^30"
        );
        N as u32 - 1
    };

    const_fn_unless_loom! {
        /// An empty ring (for a `static`: it is `4 N` bytes and a few counters).
        pub fn new() -> Self {
            let _ = Self::MASK;
            TraceRing {
                head: AtomicU32::new(0),
                tail: AtomicU32::new(0),
                dropped_newest: AtomicU64::new(0),
                overwritten: AtomicU64::new(0),
                drained: AtomicU64::new(0),
                draining: AtomicBool::new(false),
                words: zeroed::<N>(),
                policy: PhantomData,
            }
        }
    }

    /// Records an entry of `body` tagged `tag` (24 bits); `false` if it was dropped (a
    /// full [`DropNewest`] ring). An entry longer than the ring or than
    /// [`MAX_ENTRY_WORDS`] is dropped too.
    ///
    /// Only this ring's CPU may call it, with interrupts masked (see the module docs).
    /// Lock-free: a fixed number of stores when the entry fits before the end of the
    /// array and the ring has room, else the general path ([`push_slice`](Self::push_slice)).
    #[inline(always)]
    pub fn push<const L: usize>(&self, tag: u32, body: [u32; L]) -> bool {
        self.push_fast(EntryHeader::new(tag, L + 1), body) || self.push_general(tag, body)
    }

    /// [`push`](Self::push)'s hit path alone, with the header made beforehand (its length
    /// must be `L + 1`: a wrong one garbles the ring's entries, see the module docs):
    /// records the entry and returns `true` when it
    /// fits before the end of the array and the ring has room (two compares, then the
    /// stores); otherwise writes nothing and returns `false`, and the caller takes the
    /// general path, [`push_slice`](Self::push_slice) (out of line, so the body need not
    /// be in memory here).
    #[inline(always)]
    pub fn push_fast<const L: usize>(&self, header: EntryHeader, body: [u32; L]) -> bool {
        let len = L + 1;
        debug_assert_eq!(header.words(), len);
        if len > MAX_ENTRY_WORDS || len > N {
            return false;
        }
        // Relaxed: only this CPU stores `head`.
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Acquire);
        let at = (head & Self::MASK) as usize;
        if head.wrapping_sub(tail) as usize > N - len || at > N - len {
            return false;
        }
        let words = &self.words[at..at + len];
        words[0].store(header.0, Ordering::Relaxed);
        for (w, v) in words[1..].iter().zip(body) {
            w.store(v, Ordering::Relaxed);
        }
        self.head
            .store(head.wrapping_add(len as u32), Ordering::Release);
        true
    }

    #[cold]
    #[inline(never)]
    fn push_general<const L: usize>(&self, tag: u32, body: [u32; L]) -> bool {
        self.push_slice(tag, &body)
    }

    /// [`push`](Self::push) of a body whose length is known only at run time, and the
    /// general path of every push: padding before an entry that would wrap, a full ring.
    #[inline(never)]
    pub fn push_slice(&self, tag: u32, body: &[u32]) -> bool {
        let len = body.len() + 1;
        if len > MAX_ENTRY_WORDS || len > N {
            return false;
        }
        let head = self.head.load(Ordering::Relaxed);
        let at = (head & Self::MASK) as usize;
        // An entry does not wrap: one that would starts after a padding entry.
        let pad = if len <= N - at { 0 } else { N - at };
        let need = (pad + len) as u32;
        let tail = self.tail.load(Ordering::Acquire);
        if head.wrapping_sub(tail).wrapping_add(need) as usize > N
            && !self.make_room(head, tail, need)
        {
            return false;
        }
        if pad != 0 {
            self.words[at].store(PAD | pad as u32, Ordering::Relaxed);
        }
        let start = if pad != 0 { 0 } else { at };
        let words = &self.words[start..start + len];
        words[0].store(entry_header(tag, len), Ordering::Relaxed);
        for (w, &v) in words[1..].iter().zip(body) {
            w.store(v, Ordering::Relaxed);
        }
        self.head.store(head.wrapping_add(need), Ordering::Release);
        true
    }

    /// A full ring before a push of `need` words at `head`: drops the push
    /// ([`DropNewest`], `false`) or moves `tail` past the oldest entries until it fits
    /// ([`OverwriteOldest`], `true`).
    #[cold]
    fn make_room(&self, head: u32, mut tail: u32, need: u32) -> bool {
        if !P::OVERWRITES {
            // Producer-owned counter: load and store, no read-modify-write needed.
            let dropped = self.dropped_newest.load(Ordering::Relaxed);
            self.dropped_newest.store(dropped + 1, Ordering::Relaxed);
            return false;
        }
        loop {
            let mut new_tail = tail;
            let mut lost = 0;
            while head.wrapping_sub(new_tail).wrapping_add(need) as usize > N {
                // The producer's own writes: the entry at every `tail` it walks is whole.
                let header = self.words[(new_tail & Self::MASK) as usize].load(Ordering::Relaxed);
                let len = header & LEN_MASK;
                if len == 0 || len > head.wrapping_sub(new_tail) {
                    // Only a broken one-producer rule garbles a header: give up the rest.
                    new_tail = head;
                    break;
                }
                if header & PAD == 0 {
                    lost += 1;
                }
                new_tail = new_tail.wrapping_add(len);
            }
            match self
                .tail
                .compare_exchange(tail, new_tail, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    let count = self.overwritten.load(Ordering::Relaxed);
                    self.overwritten.store(count + lost, Ordering::Relaxed);
                    return true;
                }
                // The drainer took entries meanwhile: walk from where it left `tail`.
                Err(now) => tail = now,
            }
        }
    }

    /// The ring's drainer, unless another one is active.
    pub fn drain(&self) -> Option<Drain<'_, N, P>> {
        self.draining
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Drain { ring: self })
    }

    /// Entries lost: dropped when full ([`DropNewest`]) or overwritten before a drainer
    /// took them ([`OverwriteOldest`]).
    pub fn dropped(&self) -> u64 {
        self.dropped_newest.load(Ordering::Relaxed) + self.overwritten.load(Ordering::Relaxed)
    }

    /// Entries drainers have taken.
    pub fn drained(&self) -> u64 {
        self.drained.load(Ordering::Relaxed)
    }

    /// Words in the ring not yet drained nor given up (padding included).
    pub fn pending_words(&self) -> u32 {
        let tail = self.tail.load(Ordering::Acquire);
        let head = self.head.load(Ordering::Acquire);
        head.wrapping_sub(tail)
    }
}

/// The one drainer of a [`TraceRing`], while it lives.
pub struct Drain<'r, const N: usize, P: Overflow> {
    ring: &'r TraceRing<N, P>,
}

impl<const N: usize, P: Overflow> Drain<'_, N, P> {
    /// The oldest entry still in the ring, or `None` when it is empty.
    pub fn pop(&mut self) -> Option<Entry> {
        let ring = self.ring;
        loop {
            // Acquire: pairs with the producer's exchange when it moved `tail`, so the
            // `head` read next is at least the one it had then.
            let tail = ring.tail.load(Ordering::Acquire);
            let head = ring.head.load(Ordering::Acquire);
            let available = head.wrapping_sub(tail);
            if available == 0 {
                return None;
            }
            let at = (tail & TraceRing::<N, P>::MASK) as usize;
            let header = ring.words[at].load(Ordering::Relaxed);
            let len = header & LEN_MASK;
            let fits = len != 0 && len <= available && at + len as usize <= N;
            let mut entry = Entry {
                tag: header >> TAG_SHIFT,
                len: len.saturating_sub(1) as u8,
                words: [0; MAX_ENTRY_WORDS - 1],
            };
            if fits {
                for (w, word) in entry
                    .words
                    .iter_mut()
                    .zip(&ring.words[at + 1..at + len as usize])
                {
                    *w = word.load(Ordering::Relaxed);
                }
            }
            // A header that does not fit was being overwritten (the exchange then fails)
            // or the one-producer rule was broken: give up everything up to `head`.
            let next = if fits { tail.wrapping_add(len) } else { head };
            if ring
                .tail
                .compare_exchange(tail, next, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
            {
                // The producer moved `tail` past the entry and counted it.
                continue;
            }
            if !fits || header & PAD != 0 {
                continue;
            }
            // Drainer-owned counter (one drainer at a time, handed over by `draining`).
            let drained = ring.drained.load(Ordering::Relaxed);
            ring.drained.store(drained + 1, Ordering::Relaxed);
            return Some(entry);
        }
    }
}

impl<const N: usize, P: Overflow> Iterator for Drain<'_, N, P> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        self.pop()
    }
}

impl<const N: usize, P: Overflow> Drop for Drain<'_, N, P> {
    fn drop(&mut self) {
        // Release: the next drainer sees this one's counters.
        self.ring.draining.store(false, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;
