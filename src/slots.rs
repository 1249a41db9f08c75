//! Executable instruction slots (trampolines, emulation copies) carved from the memory
//! the platform gives, handed out only where a `b` from the probe can reach them, and
//! reused only after every CPU has provably left them.
//!
//! A slot moves Free → InUse (allocate) → Dirty (release) → Free (reclaimed). Dirty
//! exists because a CPU may still be executing in a slot after its probe was
//! unoptimized: a release is stamped with the current *epoch*; a quiescence ticket taken
//! later bumps the epoch, and when the integrator's quiescent point for that ticket has
//! completed (for the crate: a rendezvous that started after the ticket was taken),
//! every slot released before the ticket is Free again — except those a CPU may still
//! be in (below). Slots released after the ticket wait for the next.
//!
//! "Every CPU has since passed a quiescent point" is the caller's claim, and taking an
//! interrupt is not enough for it: a CPU interrupted inside a slot comes back to it.
//! `SlotAllocator::complete_quiescence_where` therefore keeps dirty every slot the
//! caller says a CPU may still be in (the registry asks the rendezvous' observation of
//! where each CPU was); those are covered by the next ticket. A release can carry a tag
//! (the registry's site index) that is handed back when the slot is finally free.
//!
//! The allocator is plain data (`&mut self`): the probe registry's lock serializes it.
//! Its capacity is a const parameter so it needs no heap; a large one lives in place in
//! a `static` (`SlotAllocator::empty`, then `SlotAllocator::init`), never on a
//! stack.

use crate::claims::{ClaimError, MAX_SLOT_REGIONS};
use crate::hex::Hex;
#[cfg(test)]
use crate::insn::BranchKind;
use core::fmt;
use core::ops::Range;

/// One slot: its index in the allocator and its executable address.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot {
    index: u32,
    addr: usize,
}

impl Slot {
    /// Executable address of the slot's first byte.
    pub const fn addr(self) -> usize {
        self.addr
    }

    /// Index of the slot within its allocator.
    pub const fn index(self) -> usize {
        self.index as usize
    }
}

/// Why a slot operation failed. The allocator is unchanged after every error.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlotError {
    /// The region and slot size cannot make slots: the slot size is zero or not a
    /// multiple of 4, the region is not word-aligned or holds no slot.
    BadGeometry {
        /// Start of the region given.
        start: usize,
        /// End of the region given.
        end: usize,
        /// Slot size asked for.
        slot_size: usize,
    },
    /// Every slot is in use or dirty.
    Exhausted,
    /// Free slots exist, but none a branch from `from` can reach.
    OutOfRange {
        /// The address that must reach the slot.
        from: usize,
    },
    /// The slot was not handed out by this allocator, or was already released.
    NotInUse(Slot),
    /// The quiescence ticket is not the newest one taken (or was already completed).
    StaleTicket,
    /// Another registry of this machine owns (part of) the region, or too many
    /// registries claimed regions (see [`crate::claims`]).
    Claimed(ClaimError),
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("index", &self.index)
            .field("addr", &Hex(self.addr))
            .finish()
    }
}

impl fmt::Debug for SlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SlotError::BadGeometry {
                start,
                end,
                slot_size,
            } => f
                .debug_struct("BadGeometry")
                .field("start", &Hex(start))
                .field("end", &Hex(end))
                .field("slot_size", &slot_size)
                .finish(),
            SlotError::Exhausted => f.write_str("Exhausted"),
            SlotError::OutOfRange { from } => f
                .debug_struct("OutOfRange")
                .field("from", &Hex(from))
                .finish(),
            SlotError::NotInUse(s) => f.debug_tuple("NotInUse").field(&s).finish(),
            SlotError::StaleTicket => f.write_str("StaleTicket"),
            SlotError::Claimed(e) => f.debug_tuple("Claimed").field(&e).finish(),
        }
    }
}

impl fmt::Display for SlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SlotError::BadGeometry {
                start,
                end,
                slot_size,
            } => write!(
                f,
                "cannot carve {slot_size}-byte slots from {start:#x}..{end:#x} \
                 (need a word-aligned region and a non-zero multiple of 4)"
            ),
            SlotError::Exhausted => write!(f, "no free instruction slot (all in use or dirty)"),
            SlotError::OutOfRange { from } => {
                write!(
                    f,
                    "no free instruction slot within branch range of {from:#x}"
                )
            }
            SlotError::NotInUse(s) => {
                write!(f, "slot {} at {:#x} is not in use", s.index, s.addr)
            }
            SlotError::StaleTicket => write!(f, "quiescence ticket is stale"),
            SlotError::Claimed(ClaimError::Overlaps { start, end }) => write!(
                f,
                "the slot region overlaps {start:#x}..{end:#x}, which another registry owns"
            ),
            SlotError::Claimed(ClaimError::Full) => write!(
                f,
                "{MAX_SLOT_REGIONS} registries already own slot regions on this machine"
            ),
        }
    }
}

impl core::error::Error for SlotError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Free,
    InUse,
    /// Released during this epoch.
    Dirty(u32),
}

/// Proof that a quiescence period began: complete it when every CPU has since passed a
/// quiescent point.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "dirty slots stay dirty until the ticket is completed"]
pub(crate) struct QuiescenceTicket {
    epoch: u32,
}

/// How many slots are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlotCounts {
    /// Ready to allocate.
    pub free: usize,
    /// Handed out.
    pub in_use: usize,
    /// Released, waiting for a quiescent point.
    pub dirty: usize,
}

/// Up to `N` fixed-size executable slots over one region.
pub(crate) struct SlotAllocator<const N: usize> {
    base: usize,
    slot_size: usize,
    count: usize,
    epoch: u32,
    /// Epoch of the newest ticket not yet completed.
    open_ticket: Option<u32>,
    /// No slot below this index is free (so a scan starts here).
    first_free: usize,
    /// How many slots are in each state (kept as states change).
    counts: SlotCounts,
    states: [State; N],
    /// Per slot: the tag of its last `release_tagged` (0 for a plain release).
    tags: [u32; N],
}

impl<const N: usize> SlotAllocator<N> {
    /// An allocator without slots (every allocation says [`SlotError::Exhausted`]) until
    /// `SlotAllocator::init`: for a `static`, so a large `N` never passes through a
    /// stack.
    pub const fn empty() -> Self {
        SlotAllocator {
            base: 0,
            slot_size: 0,
            count: 0,
            epoch: 0,
            open_ticket: None,
            first_free: 0,
            counts: SlotCounts {
                free: 0,
                in_use: 0,
                dirty: 0,
            },
            states: [State::Free; N],
            tags: [0; N],
        }
    }

    /// Makes this allocator, in place, one of slots of `slot_size` bytes over `region`
    /// (at most `N` of them; the rest of the region is left unused). Every slot is free
    /// afterwards. On error it is unchanged.
    pub fn init(&mut self, region: Range<usize>, slot_size: usize) -> Result<(), SlotError> {
        let bad = SlotError::BadGeometry {
            start: region.start,
            end: region.end,
            slot_size,
        };
        if slot_size == 0 || !slot_size.is_multiple_of(4) || !region.start.is_multiple_of(4) {
            return Err(bad);
        }
        let count = (region.end.saturating_sub(region.start) / slot_size).min(N);
        if count == 0 {
            return Err(bad);
        }
        self.base = region.start;
        self.slot_size = slot_size;
        self.count = count;
        self.epoch = 0;
        self.open_ticket = None;
        self.first_free = 0;
        self.counts = SlotCounts {
            free: count,
            in_use: 0,
            dirty: 0,
        };
        self.states.fill(State::Free);
        self.tags.fill(0);
        Ok(())
    }

    /// Slots of `slot_size` bytes over `region`, returned by value: for a small `N`
    /// (the value holds 12 bytes per slot); make a large allocator in place with
    /// `SlotAllocator::empty` and `SlotAllocator::init`.
    #[cfg(test)]
    pub fn new(region: Range<usize>, slot_size: usize) -> Result<Self, SlotError> {
        let mut a = Self::empty();
        a.init(region, slot_size)?;
        Ok(a)
    }

    /// The bytes of `slot`: what a CPU executing it has its pc in.
    pub fn range(&self, slot: Slot) -> Range<usize> {
        slot.addr..slot.addr + self.slot_size
    }

    /// Number of slots.
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.count
    }

    fn slot(&self, index: usize) -> Slot {
        Slot {
            index: index as u32,
            addr: self.base + index * self.slot_size,
        }
    }

    /// Whether a `b` at `from` reaches `slot` — the branch encoder's own rule (the
    /// registry checks the exact entry in the slot it branches to).
    #[cfg(test)]
    pub fn reachable(from: usize, slot: Slot) -> bool {
        u32::try_from(from).is_ok_and(|from| {
            u32::try_from(slot.addr).is_ok_and(|to| BranchKind::B.reach(from, to).is_ok())
        })
    }

    /// A free slot a `b` at `from` can reach (lowest such address first).
    #[cfg(test)]
    pub fn allocate_near(&mut self, from: usize) -> Result<Slot, SlotError> {
        self.allocate_where(|s| Self::reachable(from, s))
            .map_err(|e| {
                if e == SlotError::Exhausted {
                    e
                } else {
                    SlotError::OutOfRange { from }
                }
            })
    }

    /// A free slot anywhere (for code entered by an absolute jump, e.g. emulation).
    pub fn allocate(&mut self) -> Result<Slot, SlotError> {
        self.allocate_where(|_| true)
    }

    /// The first free slot `accept` takes. `Exhausted` when none is free; otherwise
    /// `OutOfRange { from: 0 }` when `accept` refused every free slot.
    pub fn allocate_where(&mut self, accept: impl Fn(Slot) -> bool) -> Result<Slot, SlotError> {
        let mut any_free = false;
        for i in self.first_free..self.count {
            if self.states[i] == State::Free {
                if !any_free {
                    // The lowest free slot: nothing below it is free.
                    self.first_free = i;
                }
                any_free = true;
                let s = self.slot(i);
                if accept(s) {
                    self.states[i] = State::InUse;
                    if self.first_free == i {
                        self.first_free = i + 1;
                    }
                    self.counts.free -= 1;
                    self.counts.in_use += 1;
                    return Ok(s);
                }
            }
        }
        if !any_free {
            self.first_free = self.count;
        }
        Err(if any_free {
            SlotError::OutOfRange { from: 0 }
        } else {
            SlotError::Exhausted
        })
    }

    fn check_in_use(&self, slot: Slot) -> Result<usize, SlotError> {
        let i = slot.index as usize;
        if i < self.count && self.slot(i) == slot && self.states[i] == State::InUse {
            Ok(i)
        } else {
            Err(SlotError::NotInUse(slot))
        }
    }

    /// Gives `slot` back. It is dirty until a quiescence ticket taken after this call
    /// completes.
    pub fn release(&mut self, slot: Slot) -> Result<(), SlotError> {
        self.release_tagged(slot, 0)
    }

    /// [`SlotAllocator::release`], remembering `tag` until the slot is free again
    /// (`SlotAllocator::complete_quiescence_where` hands it back).
    pub fn release_tagged(&mut self, slot: Slot, tag: u32) -> Result<(), SlotError> {
        let i = self.check_in_use(slot)?;
        self.tags[i] = tag;
        self.states[i] = State::Dirty(self.epoch);
        self.counts.in_use -= 1;
        self.counts.dirty += 1;
        Ok(())
    }

    /// Gives back a slot no CPU can have executed (never published in text): Free at once.
    pub fn release_unused(&mut self, slot: Slot) -> Result<(), SlotError> {
        let i = self.check_in_use(slot)?;
        self.states[i] = State::Free;
        self.first_free = self.first_free.min(i);
        self.counts.in_use -= 1;
        self.counts.free += 1;
        Ok(())
    }

    /// Starts a quiescence period covering every slot released so far. Taking a new
    /// ticket supersedes an older, uncompleted one.
    pub fn begin_quiescence(&mut self) -> QuiescenceTicket {
        let t = QuiescenceTicket { epoch: self.epoch };
        self.open_ticket = Some(self.epoch);
        self.epoch = self.epoch.wrapping_add(1);
        t
    }

    /// Every CPU has passed a quiescent point since `ticket` was taken: the slots released
    /// before it become free. Returns how many.
    #[cfg(test)]
    pub fn complete_quiescence(&mut self, ticket: QuiescenceTicket) -> Result<usize, SlotError> {
        self.complete_quiescence_where(ticket, |_| false, |_, _| {})
    }

    /// [`SlotAllocator::complete_quiescence`] for slots no CPU may still be in: a slot
    /// released before `ticket` whose bytes `maybe_occupied` says a CPU may be executing
    /// stays dirty (the next ticket covers it); every other one becomes free and
    /// `freed(slot, tag)` is called for it. Returns how many were freed.
    pub fn complete_quiescence_where(
        &mut self,
        ticket: QuiescenceTicket,
        maybe_occupied: impl Fn(Range<usize>) -> bool,
        mut freed_slot: impl FnMut(Slot, u32),
    ) -> Result<usize, SlotError> {
        if self.open_ticket != Some(ticket.epoch) {
            return Err(SlotError::StaleTicket);
        }
        self.open_ticket = None;
        let mut freed = 0;
        if self.counts.dirty == 0 {
            return Ok(0);
        }
        for i in 0..self.count {
            // Epochs wrap; a dirty stamp is covered when it is not newer than the ticket.
            if let State::Dirty(e) = self.states[i]
                && ticket.epoch.wrapping_sub(e) < u32::MAX / 2
            {
                let slot = self.slot(i);
                if maybe_occupied(self.range(slot)) {
                    continue;
                }
                self.states[i] = State::Free;
                self.first_free = self.first_free.min(i);
                freed += 1;
                freed_slot(slot, core::mem::take(&mut self.tags[i]));
            }
        }
        self.counts.dirty -= freed;
        self.counts.free += freed;
        Ok(freed)
    }

    /// How many slots are free, in use and dirty.
    pub fn counts(&self) -> SlotCounts {
        self.counts
    }
}

#[cfg(all(test, not(loom)))] // capstone/proptest: not in the loom build
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    const MIB: usize = 1 << 20;

    #[test]
    fn bad_geometry_is_refused() {
        for (r, size) in [
            (0x1000..0x2000, 0),
            (0x1000..0x2000, 6),
            (0x1002..0x2000, 8),
            (0x1000..0x1004, 8),
        ] {
            assert!(
                matches!(
                    SlotAllocator::<16>::new(r.clone(), size),
                    Err(SlotError::BadGeometry { .. })
                ),
                "{r:x?} size {size}"
            );
        }
    }

    #[test]
    fn capacity_is_bounded_by_region_and_n() {
        assert_eq!(
            SlotAllocator::<16>::new(0x1000..0x1100, 64)
                .unwrap()
                .capacity(),
            4
        );
        assert_eq!(
            SlotAllocator::<2>::new(0x1000..0x1100, 64)
                .unwrap()
                .capacity(),
            2
        );
    }

    #[test]
    fn exhausted_when_every_slot_is_taken_or_dirty() {
        let mut a = SlotAllocator::<4>::new(0x1000..0x1100, 64).unwrap();
        let s0 = a.allocate().unwrap();
        for _ in 0..3 {
            a.allocate().unwrap();
        }
        assert_eq!(a.allocate(), Err(SlotError::Exhausted));
        a.release(s0).unwrap();
        assert_eq!(
            a.allocate(),
            Err(SlotError::Exhausted),
            "a dirty slot must not be reused"
        );
        assert_eq!(
            a.counts(),
            SlotCounts {
                free: 0,
                in_use: 3,
                dirty: 1
            }
        );
    }

    #[test]
    fn dirty_slot_is_reused_only_after_its_quiescence_completes() {
        let mut a = SlotAllocator::<1>::new(0x1000..0x1040, 64).unwrap();
        let s = a.allocate().unwrap();
        let early = a.begin_quiescence(); // taken before the release: must not cover it
        a.release(s).unwrap();
        assert_eq!(a.complete_quiescence(early), Ok(0));
        assert_eq!(a.allocate(), Err(SlotError::Exhausted));
        let t = a.begin_quiescence();
        assert_eq!(
            a.allocate(),
            Err(SlotError::Exhausted),
            "not until it completes"
        );
        assert_eq!(a.complete_quiescence(t), Ok(1));
        assert_eq!(a.allocate(), Ok(s));
    }

    #[test]
    fn a_slot_a_cpu_may_be_in_stays_dirty_until_a_later_ticket_finds_it_empty() {
        let mut a = SlotAllocator::<2>::new(0x1000..0x1080, 64).unwrap();
        let (s0, s1) = (a.allocate().unwrap(), a.allocate().unwrap());
        a.release_tagged(s0, 7).unwrap();
        a.release_tagged(s1, 9).unwrap();
        // A CPU was observed at s1 + 8: s1 stays dirty, s0 is free with its tag.
        let pc = s1.addr() + 8;
        let mut freed = Vec::new();
        let t = a.begin_quiescence();
        let n = a.complete_quiescence_where(t, |r| r.contains(&pc), |s, tag| freed.push((s, tag)));
        assert_eq!((n, freed.as_slice()), (Ok(1), &[(s0, 7)][..]));
        assert_eq!(a.counts().dirty, 1);
        assert_eq!(a.allocate(), Ok(s0), "the free one is reused");
        assert_eq!(
            a.allocate(),
            Err(SlotError::Exhausted),
            "the occupied one is not"
        );
        // The next ticket covers it; the CPU has left.
        freed.clear();
        let t = a.begin_quiescence();
        let n = a.complete_quiescence_where(t, |_| false, |s, tag| freed.push((s, tag)));
        assert_eq!((n, freed.as_slice()), (Ok(1), &[(s1, 9)][..]));
        assert_eq!(a.range(s1), 0x1040..0x1080);
    }

    #[test]
    fn an_allocator_made_in_place_starts_empty_and_init_resets_it() {
        static mut BIG: SlotAllocator<4096> = SlotAllocator::empty();
        // SAFETY: only this test touches BIG.
        let a = unsafe { &mut *core::ptr::addr_of_mut!(BIG) };
        assert_eq!(a.capacity(), 0);
        assert_eq!(a.allocate(), Err(SlotError::Exhausted));
        a.init(0x10_0000..0x18_0000, 256).unwrap();
        assert_eq!(a.capacity(), 2048);
        let s = a.allocate().unwrap();
        a.release(s).unwrap();
        assert_eq!(
            a.init(0x10_0001..0x18_0000, 256),
            Err(SlotError::BadGeometry {
                start: 0x10_0001,
                end: 0x18_0000,
                slot_size: 256
            })
        );
        assert_eq!(a.counts().dirty, 1, "a failed init changes nothing");
        a.init(0x10_0000..0x10_1000, 256).unwrap();
        assert_eq!(
            a.counts(),
            SlotCounts {
                free: 16,
                in_use: 0,
                dirty: 0
            }
        );
    }

    #[test]
    fn stale_or_repeated_ticket_is_an_error_and_changes_nothing() {
        let mut a = SlotAllocator::<2>::new(0x1000..0x1080, 64).unwrap();
        let s = a.allocate().unwrap();
        a.release(s).unwrap();
        let old = a.begin_quiescence();
        let new = a.begin_quiescence();
        assert_eq!(a.complete_quiescence(old), Err(SlotError::StaleTicket));
        assert_eq!(a.counts().dirty, 1);
        assert_eq!(a.complete_quiescence(new), Ok(1));
        let again = QuiescenceTicket { epoch: 1 };
        assert_eq!(a.complete_quiescence(again), Err(SlotError::StaleTicket));
    }

    #[test]
    fn releasing_a_slot_not_in_use_is_an_error_and_changes_nothing() {
        let mut a = SlotAllocator::<2>::new(0x1000..0x1080, 64).unwrap();
        let s = a.allocate().unwrap();
        a.release(s).unwrap();
        assert_eq!(a.release(s), Err(SlotError::NotInUse(s)));
        assert_eq!(a.release_unused(s), Err(SlotError::NotInUse(s)));
        let forged = Slot {
            index: 1,
            addr: 0x1040,
        };
        assert_eq!(a.release(forged), Err(SlotError::NotInUse(forged)));
        let foreign = Slot {
            index: 0,
            addr: 0x9999_0000,
        };
        assert_eq!(a.release(foreign), Err(SlotError::NotInUse(foreign)));
        assert_eq!(
            a.counts(),
            SlotCounts {
                free: 1,
                in_use: 0,
                dirty: 1
            }
        );
    }

    #[test]
    fn unused_slot_is_free_at_once() {
        let mut a = SlotAllocator::<1>::new(0x1000..0x1040, 64).unwrap();
        let s = a.allocate().unwrap();
        a.release_unused(s).unwrap();
        assert_eq!(a.allocate(), Ok(s));
    }

    #[test]
    fn out_of_range_when_free_slots_are_beyond_branch_reach() {
        // Region at 0x1000_0000; a probe 64 MiB below cannot reach it.
        let mut a = SlotAllocator::<4>::new(0x1000_0000..0x1000_0100, 64).unwrap();
        let from = 0x1000_0000 - 64 * MIB;
        assert_eq!(a.allocate_near(from), Err(SlotError::OutOfRange { from }));
        assert_eq!(a.counts().free, 4, "a failed allocation takes nothing");
        // Right at the edge of reach: offset +0x01FF_FFFC from from+8.
        let edge = 0x1000_0000 - 8 - 0x01ff_fffc;
        assert_eq!(a.allocate_near(edge).unwrap().addr(), 0x1000_0000);
        assert_eq!(
            a.allocate_near(edge - 4),
            Err(SlotError::OutOfRange { from: edge - 4 })
        );
    }

    #[test]
    fn allocate_near_skips_unreachable_slots_for_reachable_ones() {
        // 64 slots of 1 MiB: a `b` at 40 MiB reaches down to 40 MiB + 8 - 32 MiB, so the
        // 8 MiB slot is 8 bytes too far and the first reachable one is at 9 MiB.
        let mut a = SlotAllocator::<64>::new(0..64 * MIB, MIB).unwrap();
        let s = a.allocate_near(40 * MIB).unwrap();
        assert!(SlotAllocator::<64>::reachable(40 * MIB, s));
        assert_eq!(s.addr(), 9 * MIB);
    }

    #[test]
    fn slot_error_messages_name_the_cause() {
        let s = Slot {
            index: 3,
            addr: 0x40,
        };
        let msgs = [
            SlotError::BadGeometry {
                start: 1,
                end: 2,
                slot_size: 3,
            }
            .to_string(),
            SlotError::Exhausted.to_string(),
            SlotError::OutOfRange { from: 0x10 }.to_string(),
            SlotError::NotInUse(s).to_string(),
            SlotError::StaleTicket.to_string(),
        ];
        for (m, word) in msgs.iter().zip([
            "cannot carve",
            "no free",
            "branch range of 0x10",
            "not in use",
            "stale",
        ]) {
            assert!(m.contains(word), "{m}");
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        AllocNear(u32),
        Alloc,
        Release(usize),
        ReleaseUnused(usize),
        Begin,
        Complete,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => any::<u32>().prop_map(|a| Op::AllocNear(a & !3)),
            // Addresses near the region, so most allocations succeed.
            4 => (0u32..0x0400_0000).prop_map(|a| Op::AllocNear(0x1000_0000 - 0x0200_0000 + (a & !3))),
            2 => Just(Op::Alloc),
            4 => any::<usize>().prop_map(Op::Release),
            1 => any::<usize>().prop_map(Op::ReleaseUnused),
            2 => Just(Op::Begin),
            2 => Just(Op::Complete),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Against a model: no slot is handed out twice, a released slot comes back only
        /// after a ticket taken after its release has completed, and every slot from
        /// `allocate_near` is reachable from the address asked for.
        #[test]
        fn allocator_never_double_allocates_or_reuses_dirty_slots(ops in proptest::collection::vec(op(), 1..200)) {
            let mut a = SlotAllocator::<32>::new(0x1000_0000..0x1000_0000 + 32 * 256, 256).unwrap();
            let mut in_use: Vec<Slot> = Vec::new();
            // Slots released and not yet covered by a completed ticket, with the number
            // of tickets begun at release time.
            let mut dirty: Vec<(Slot, u32)> = Vec::new();
            let mut begun: u32 = 0;
            let mut ticket: Option<(QuiescenceTicket, u32)> = None;
            for op in ops {
                match op {
                    Op::AllocNear(from) => match a.allocate_near(from as usize) {
                        Ok(s) => {
                            prop_assert!(SlotAllocator::<32>::reachable(from as usize, s));
                            prop_assert!(!in_use.contains(&s), "handed out twice");
                            prop_assert!(!dirty.iter().any(|(d, _)| *d == s), "dirty reused");
                            in_use.push(s);
                        }
                        Err(SlotError::Exhausted) => prop_assert_eq!(in_use.len() + dirty.len(), 32),
                        Err(SlotError::OutOfRange { from: f }) => prop_assert_eq!(f, from as usize),
                        Err(e) => prop_assert!(false, "unexpected {e}"),
                    },
                    Op::Alloc => match a.allocate() {
                        Ok(s) => {
                            prop_assert!(!in_use.contains(&s) && !dirty.iter().any(|(d, _)| *d == s));
                            in_use.push(s);
                        }
                        Err(e) => {
                            prop_assert_eq!(e, SlotError::Exhausted);
                            prop_assert_eq!(in_use.len() + dirty.len(), 32);
                        }
                    },
                    Op::Release(k) | Op::ReleaseUnused(k) if in_use.is_empty() => {
                        let s = Slot { index: (k % 32) as u32, addr: 0x1000_0000 + (k % 32) * 256 };
                        prop_assert_eq!(a.release(s), Err(SlotError::NotInUse(s)));
                    }
                    Op::Release(k) => {
                        let s = in_use.swap_remove(k % in_use.len());
                        a.release(s).unwrap();
                        dirty.push((s, begun));
                    }
                    Op::ReleaseUnused(k) => {
                        let s = in_use.swap_remove(k % in_use.len());
                        a.release_unused(s).unwrap();
                    }
                    Op::Begin => {
                        ticket = Some((a.begin_quiescence(), begun));
                        begun += 1;
                    }
                    Op::Complete => {
                        if let Some((t, n)) = ticket.take() {
                            let expect = dirty.iter().filter(|(_, b)| *b <= n).count();
                            prop_assert_eq!(a.complete_quiescence(t), Ok(expect));
                            dirty.retain(|(_, b)| *b > n);
                        }
                    }
                }
                let c = a.counts();
                prop_assert_eq!((c.in_use, c.dirty, c.free), (in_use.len(), dirty.len(), 32 - in_use.len() - dirty.len()));
                // The running counts and the scan start agree with the states themselves.
                let mut recount = SlotCounts::default();
                for st in &a.states {
                    match st {
                        State::Free => recount.free += 1,
                        State::InUse => recount.in_use += 1,
                        State::Dirty(_) => recount.dirty += 1,
                    }
                }
                prop_assert_eq!(recount, c);
                prop_assert!(a.states[..a.first_free].iter().all(|s| *s != State::Free));
            }
            let seen: HashSet<_> = in_use.iter().map(|s| s.index()).collect();
            prop_assert_eq!(seen.len(), in_use.len());
        }
    }
}
