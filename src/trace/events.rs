//! The event table: binds text definitions to the probe registries, records each hit
//! into its CPU's ring in a compact form, and drains every CPU's records as a capture.
//!
//! # Use
//!
//! ```text
//! // 16 events, 4 CPUs, 32 Ki words per CPU's ring; the platform gives CPU, clock, reads.
//! static EVENTS: Events<KernelEventPlatform, 16, 4, 32768> = Events::new(&EVENT_PLATFORM);
//!
//! EVENTS.define("p:open bench_fn %r0 %r1", &KPROBES, &KRETPROBES, &SYMBOLS)?;
//! EVENTS.define("r:open_ret bench_fn $retval", &KPROBES, &KRETPROBES, &SYMBOLS)?;
//! // … events fire on every CPU …
//! EVENTS.drain(&mut |bytes: &[u8]| console.write(bytes))?; // one capture
//! EVENTS.define("-:open", &KPROBES, &KRETPROBES, &SYMBOLS)?;
//! ```
//!
//! # What a hit costs
//! An event is a table slot: a [`Kprobe`] (`p:`), made at definition with the pre
//! handler its arguments need, or a [`Kretprobe`] whose entry handler keeps the entry
//! timestamp in the call's instance and whose return handler records (`r:`). The
//! slot's index is the event's id and the probe's `data`. A hit pushes one ring entry:
//! a header (id, flags, generation), the timestamp, then only the words the arguments
//! need. Register arguments (`%rN`, `%sp`, `%lr`, `%pc`, `%cpsr`, `$retval`) are
//! compiled at definition into frame word indices and copied as they are (type masks
//! are applied when draining); `$cpu` takes no word (the ring is the CPU's). An entry
//! event of at most four register words has a pre handler of its own
//! (`hit_registers::<K>`): the slot's table address, the CPU's ring address, the clock,
//! `K` loads and a fixed push — about 40 instructions for two registers
//! (`docs/performance.md`). Any other event takes the general path: [`fetch_arg_list`]
//! through the platform's checked reads for memory fetches, with a status word holding
//! the fault and truncation bits. No hit takes a lock or allocates.
//!
//! # Changing the table
//! [`Events::define`], and [`Events::drain`], are for thread context with IRQs enabled
//! (the registries need a rendezvous). One of them runs at a time: a call that finds
//! another one running returns [`EventsError::Busy`] at once rather than wait (so none of
//! them ever waits for another CPU). A failed call leaves the table, the registries and
//! the text exactly as they were. A removed event's id is free for the next definition;
//! its records still in a ring carry the old generation and are counted as dropped by the
//! next drain (the capture no longer describes the event).
//!
//! # Accounting
//! Per CPU, over all captures: records + dropped = hits of the events on that CPU. A
//! capture's `Dropped` frame for a CPU is what it lost since the previous capture.

use super::definition::{
    self, ArgName, Definition, EventDefinition, EventKind, Fetch, FetchArg, FetchBase, FetchType,
    MAX_FETCH_ARGS, MAX_VALUE_SLOTS, ResolveError, STRING_SLOTS,
};
use super::fetch::{FetchContext, FetchMemory, fetch_arg_list};
use super::record::{CaptureHeader, CaptureSink, CaptureWriter, Record};
use super::ring::{Entry, EntryHeader, MAX_ENTRY_WORDS, Overflow, TraceRing};
use crate::cache::CacheOps;
use crate::frame::TrapFrame;
use crate::kprobe::{Kprobe, KprobeError, Kprobes, SymbolLookup};
use crate::kretprobe::{
    Kretprobe, KretprobeError, KretprobeInstance, KretprobePool, Kretprobes, OnEntry,
};
use crate::platform::Platform;
use core::cell::UnsafeCell;
use core::fmt;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};

pub use super::ring::{DropNewest, OverwriteOldest};

/// What the event table needs from the machine besides the registries.
pub trait EventPlatform: Sync {
    /// The calling CPU's index (below the table's `CPUS` on every CPU that hits events).
    fn cpu_id(&self) -> usize;
    /// The clock records carry: the generic timer's count (CNTVCT, see
    /// [`crate::arch::timer`]) on a kernel.
    fn now(&self) -> u64;
    /// Ticks of [`now`](Self::now) per second, for the capture's header.
    fn frequency(&self) -> u32;
    /// Fills `buf` from `addr`, or returns `false` when any byte may not be read (see
    /// [`FetchMemory`]): a memory fetch argument then records a fault marker.
    fn read_memory(&self, addr: u32, buf: &mut [u8]) -> bool;
}

/// Longest definition line the table keeps (it keeps the text to describe the event in
/// every capture).
pub const MAX_KEPT_LINE: usize = 192;
/// Longest event name the table keeps (a derived name `p_SYMBOL_OFFSET` can be long).
pub const MAX_EVENT_NAME: usize = 80;
/// Calls one return event follows at once (per event, all CPUs together).
pub const RETURN_INSTANCES: usize = 16;
/// Most events one table holds: ids are 12 bits.
pub const MAX_EVENTS: usize = 4096;

const FREE: u8 = 0;
const LIVE: u8 = 1;

/// One event of the table. `repr(C)` with the entry probe first: its pre handler finds
/// the slot, and from the slot's index the table, by address.
#[repr(C)]
struct EventSlot {
    /// Made again by each entry definition, with the pre handler its plan needs, while
    /// it is not registered (no registry points at it then, no handler of it runs).
    kprobe: UnsafeCell<Kprobe>,
    /// The table's address (set before the slot's first registration; the handlers
    /// rebuild the table from it with the provenance `define` exposed).
    table: AtomicUsize,
    /// A return event's probe, made on the slot's first `r:` definition (it needs the
    /// address of `pool`, which a `const` table constructor cannot take) and never
    /// changed after; `kretprobe_made` says whether it is.
    kretprobe: UnsafeCell<MaybeUninit<Kretprobe>>,
    kretprobe_made: AtomicBool,
    /// The return event's instances: 8 bytes each, the entry timestamp.
    pool: KretprobePool<RETURN_INSTANCES, 8>,
    state: AtomicU8,
    /// Written only under the table's configuration claim while the slot's probe is not
    /// registered; read by hits (the plan) once registration published it, and by the
    /// drainer under the claim.
    config: UnsafeCell<SlotConfig>,
}

/// What a successful [`Events::define`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// `p:`/`r:`: the event with this id is recording.
    Defined {
        /// Its id (records and the capture's event table name it by this).
        id: u16,
    },
    /// `-:NAME`: the event with this id is gone (its id is free).
    Removed {
        /// Its id.
        id: u16,
    },
}

/// The event table: `E` events, per-CPU rings of `WORDS` words for `CPUS` CPUs, full
/// policy `P`. A `static` (it is about `E` KiB plus the rings).
#[repr(C)]
pub struct Events<
    T: EventPlatform + 'static,
    const E: usize,
    const CPUS: usize,
    const WORDS: usize,
    P: Overflow = DropNewest,
> {
    /// Per CPU: the address of its ring (a hit loads it instead of multiplying by the
    /// ring's size); written by `add`. First: no offset to add either.
    ring_addrs: [AtomicUsize; CPUS],
    rings: [TraceRing<WORDS, P>; CPUS],
    slots: [EventSlot; E],
    platform: &'static T,
    /// A definition, removal or drain is running.
    claimed: AtomicBool,
    /// Per CPU: the ring's lost count the last capture reported (under the claim).
    reported_lost: UnsafeCell<[u64; CPUS]>,
    /// Hits on a CPU whose index is not below `CPUS` (not recorded).
    stray_hits: AtomicU64,
}

// SAFETY: the UnsafeCells are the slots' entry probes, return probes and configurations and
// `reported_lost`, written only
// by the holder of the `claimed` flag (an Acquire compare-exchange hands it out, a Release
// store gives it back, so holders are ordered). A configuration is written only while its
// slot's probe is unregistered (no hit reads it: the registry's unregistration ended with
// a rendezvous after which no handler runs) and published to hits by the registration;
// a made Kretprobe is never written again; an entry probe is made again only while it
// is unregistered (no registry points at it, no handler of it runs). `Kprobe` and
// `Kretprobe` are Sync.
unsafe impl<T: EventPlatform, const E: usize, const CPUS: usize, const WORDS: usize, P: Overflow>
    Sync for Events<T, E, CPUS, WORDS, P>
{
}

/// The platform's reads as [`FetchMemory`].
struct PlatformMemory<'p, T: EventPlatform>(&'p T);

impl<T: EventPlatform> FetchMemory for PlatformMemory<'_, T> {
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), ()> {
        if self.0.read_memory(addr, buf) {
            Ok(())
        } else {
            Err(())
        }
    }
}

/// Releases the configuration claim when dropped.
struct Claim<'a>(&'a AtomicBool);

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl<T: EventPlatform, const E: usize, const CPUS: usize, const WORDS: usize, P: Overflow + 'static>
    Events<T, E, CPUS, WORDS, P>
{
    /// An empty table on `platform`.
    pub const fn new(platform: &'static T) -> Self {
        const {
            assert!(
                E > 0 && E <= MAX_EVENTS && CPUS > 0,
                "an event table holds 1 to 4096 events, for at least one CPU"
            );
            assert!(
                WORDS >= 2 * MAX_ENTRY_WORDS,
                "a ring must hold at least two of the longest entries (62 words)"
            );
        };
        let slots = [const {
            EventSlot {
                kprobe: UnsafeCell::new(Kprobe::new(None, None, 0)),
                table: AtomicUsize::new(0),
                kretprobe: UnsafeCell::new(MaybeUninit::uninit()),
                kretprobe_made: AtomicBool::new(false),
                pool: KretprobePool::new(),
                state: AtomicU8::new(FREE),
                config: UnsafeCell::new(SlotConfig::EMPTY),
            }
        }; E];
        Events {
            ring_addrs: [const { AtomicUsize::new(0) }; CPUS],
            rings: [const { TraceRing::new() }; CPUS],
            slots,
            platform,
            claimed: AtomicBool::new(false),
            reported_lost: UnsafeCell::new([0; CPUS]),
            stray_hits: AtomicU64::new(0),
        }
    }

    fn claim(&self) -> Result<Claim<'_>, EventsError> {
        self.claimed
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .map(|_| Claim(&self.claimed))
            .map_err(|_| EventsError::Busy)
    }

    /// Hits on a CPU whose index is not below `CPUS`: not recorded anywhere.
    pub fn stray_hits(&self) -> u64 {
        self.stray_hits.load(Ordering::Relaxed)
    }

    /// CPU `cpu`'s ring.
    pub fn ring(&self, cpu: usize) -> Option<&TraceRing<WORDS, P>> {
        self.rings.get(cpu)
    }

    /// How many times event `id` fired since it was defined (its probe's hit count: the
    /// calls followed, for a return event), or `None` when no event has that id.
    ///
    /// # Errors
    /// [`EventsError::Busy`] while a definition, removal or drain runs.
    pub fn hits(&self, id: u16) -> Result<Option<u64>, EventsError> {
        let _claim = self.claim()?;
        let Some(slot) = self.slots.get(usize::from(id)) else {
            return Ok(None);
        };
        if slot.state.load(Ordering::Acquire) != LIVE {
            return Ok(None);
        }
        // SAFETY: under the claim, which every writer of the configuration and of the
        // probes holds.
        Ok(Some(match unsafe { &*slot.config.get() }.kind {
            // SAFETY: as above.
            EventKind::Entry => unsafe { &*slot.kprobe.get() }.hits(),
            // SAFETY: a live return event's Kretprobe is made, never written again.
            EventKind::Return => unsafe { (*slot.kretprobe.get()).assume_init_ref() }.hits(),
        }))
    }

    /// Applies one definition line: `p:`/`r:` defines an event (its probe registered and
    /// recording when this returns), `-:NAME` removes one (its probe unregistered; no
    /// handler of it runs when this returns).
    ///
    /// # Errors
    /// [`EventsError`] says why; nothing changed then.
    pub fn define<KP: Platform, C: CacheOps, const N: usize, RP: Platform + ?Sized>(
        &'static self,
        text: &str,
        kprobes: &Kprobes<KP, C, N>,
        kretprobes: &'static Kretprobes<RP>,
        symbols: &impl SymbolLookup,
    ) -> Result<Change, EventsError> {
        let _claim = self.claim()?;
        match definition::parse(text).map_err(EventsError::Definition)? {
            Definition::Remove { name } => self.remove(name.as_bytes(), kprobes, kretprobes),
            Definition::Event(event) => self.add(text, &event, kprobes, kretprobes, symbols),
        }
    }

    /// The live slot called `name`.
    fn find(&self, name: &[u8]) -> Option<usize> {
        self.slots.iter().position(|s| {
            // SAFETY: under the claim (the caller holds it): no one writes configurations.
            s.state.load(Ordering::Acquire) == LIVE && unsafe { &*s.config.get() }.name() == name
        })
    }

    fn remove<KP: Platform, C: CacheOps, const N: usize, RP: Platform + ?Sized>(
        &'static self,
        name: &[u8],
        kprobes: &Kprobes<KP, C, N>,
        kretprobes: &'static Kretprobes<RP>,
    ) -> Result<Change, EventsError> {
        let index = self.find(name).ok_or(EventsError::UnknownName)?;
        let slot = &self.slots[index];
        // SAFETY: under the claim.
        match unsafe { &*slot.config.get() }.kind {
            EventKind::Entry => kprobes
                // SAFETY: registered, so not written (see `add`).
                .unregister(unsafe { &*slot.kprobe.get() })
                .map_err(EventsError::Kprobe)?,
            EventKind::Return => {
                // SAFETY: a live return event's slot has a made Kretprobe, never written
                // again.
                let rp = unsafe { (*slot.kretprobe.get()).assume_init_ref() };
                kretprobes
                    .unregister(kprobes, rp)
                    .map_err(EventsError::Kretprobe)?;
            }
        }
        slot.state.store(FREE, Ordering::Release);
        Ok(Change::Removed { id: index as u16 })
    }

    fn add<KP: Platform, C: CacheOps, const N: usize, RP: Platform + ?Sized>(
        &'static self,
        text: &str,
        event: &EventDefinition<'_>,
        kprobes: &Kprobes<KP, C, N>,
        kretprobes: &'static Kretprobes<RP>,
        symbols: &impl SymbolLookup,
    ) -> Result<Change, EventsError> {
        let line = text.trim_end_matches(['\n', '\r']);
        if line.len() > MAX_KEPT_LINE {
            return Err(EventsError::LineTooLong { len: line.len() });
        }
        let mut name = NameBuf::default();
        let _ = fmt::write(&mut name, format_args!("{}", event.name));
        if name.len > MAX_EVENT_NAME {
            return Err(EventsError::NameTooLong { len: name.len });
        }
        let name = &name.bytes[..name.len];
        if self.find(name).is_some() {
            return Err(EventsError::DuplicateName);
        }
        let addr = event.target.resolve(symbols).map_err(|e| match e {
            ResolveError::OffsetOutsideSymbol { size } => EventsError::OffsetOutsideSymbol {
                offset: match event.target {
                    definition::Target::Symbol { offset, .. } => offset,
                    definition::Target::Address(_) => 0,
                },
                size,
            },
            _ => EventsError::UnknownSymbol,
        })?;
        let index = self
            .slots
            .iter()
            .position(|s| s.state.load(Ordering::Acquire) == FREE)
            .ok_or(EventsError::TableFull { capacity: E })?;
        let slot = &self.slots[index];
        // The handlers rebuild a pointer to the whole table from a slot's address.
        let _ = core::ptr::from_ref(self).expose_provenance();
        // SAFETY: under the claim, and the slot is free: its probe is not registered, so
        // no hit reads the configuration (see the Sync impl).
        let config = unsafe { &mut *slot.config.get() };
        let previous_generation = config.generation;
        config.generation = previous_generation.wrapping_add(1);
        compile(config, index, line, name, event);
        let hit: crate::kprobe::Handler =
            match (config.plan.registers_only, config.plan.frame_word_count) {
                (true, 0) => Self::hit_registers::<0>,
                (true, 1) => Self::hit_registers::<1>,
                (true, 2) => Self::hit_registers::<2>,
                (true, 3) => Self::hit_registers::<3>,
                (true, 4) => Self::hit_registers::<4>,
                _ => Self::hit_general,
            };
        slot.table
            .store(core::ptr::from_ref(self).addr(), Ordering::Relaxed);
        for (addr, ring) in self.ring_addrs.iter().zip(&self.rings) {
            addr.store(core::ptr::from_ref(ring).addr(), Ordering::Relaxed);
        }
        let registered = match event.kind {
            EventKind::Entry => {
                // SAFETY: the slot is free, so its probe is not registered: no registry
                // points at it and no handler of it runs; the claim keeps every other
                // writer out.
                unsafe { *slot.kprobe.get() = Kprobe::new(Some(hit), None, index) };
                // SAFETY: from here on only shared views of it exist until it is free.
                kprobes
                    .register(unsafe { &*slot.kprobe.get() }, addr)
                    .map_err(EventsError::Kprobe)
            }
            EventKind::Return => {
                let rp = self.make_kretprobe(index);
                kretprobes
                    .register(kprobes, rp, addr)
                    .map_err(EventsError::Kretprobe)
            }
        };
        if let Err(e) = registered {
            config.generation = previous_generation;
            return Err(e);
        }
        slot.state.store(LIVE, Ordering::Release);
        Ok(Change::Defined { id: index as u16 })
    }

    /// Slot `index`'s return probe, made on first use.
    fn make_kretprobe(&'static self, index: usize) -> &'static Kretprobe {
        let slot = &self.slots[index];
        if !slot.kretprobe_made.load(Ordering::Acquire) {
            let rp = Kretprobe::new(Some(Self::on_call), Self::on_return, &slot.pool, index);
            // SAFETY: under the claim; not made yet, so no one has a reference to it and
            // no registry knows it.
            unsafe { (*slot.kretprobe.get()).write(rp) };
            slot.kretprobe_made.store(true, Ordering::Release);
        }
        // SAFETY: made above or before, never written again.
        unsafe { (*slot.kretprobe.get()).assume_init_ref() }
    }
}

mod drain;
mod error;
mod hit;
mod plan;

pub use drain::DrainReport;
pub use error::EventsError;
use plan::{
    ArgWords, FLAG_RETURN, FLAG_STATUS, GENERATION_SHIFT, HitPlan, ID_BITS, MAX_BODY, NameBuf,
    SlotConfig, compile,
};

#[cfg(test)]
mod tests;
