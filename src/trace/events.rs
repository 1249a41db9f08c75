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

/// Entry tag layout: id in bits 0..12, flags in 12..16, generation in 16..24.
const ID_BITS: u32 = 12;
const FLAG_RETURN: u32 = 1;
const FLAG_STATUS: u32 = 2;
const GENERATION_SHIFT: u32 = 16;

const FREE: u8 = 0;
const LIVE: u8 = 1;

/// How one argument's value sits in a ring entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArgWords {
    /// One word; a register's, to be masked to `bits` when draining (32: none).
    Word { bits: u8 },
    /// Two words, low first (a 64-bit memory value, `$retval` as `r1:r0`).
    Pair,
    /// A string's [`STRING_SLOTS`] slots, two words each.
    String,
    /// No word: `$cpu`, which the drainer knows.
    Cpu,
}

impl ArgWords {
    fn of(kind: EventKind, arg: &FetchArg<'_>) -> ArgWords {
        let size = arg.ty.size();
        if arg.fetch.reads_memory() {
            return match size {
                None => ArgWords::String,
                Some(8) => ArgWords::Pair,
                Some(_) => ArgWords::Word { bits: 32 },
            };
        }
        match arg.fetch.base {
            FetchBase::Cpu => ArgWords::Cpu,
            FetchBase::ReturnValue if kind == EventKind::Return && size == Some(8) => {
                ArgWords::Pair
            }
            _ => ArgWords::Word {
                bits: (size.unwrap_or(4) * 8).min(32) as u8,
            },
        }
    }

    fn count(self) -> usize {
        match self {
            ArgWords::Word { .. } => 1,
            ArgWords::Pair => 2,
            ArgWords::String => 2 * STRING_SLOTS,
            ArgWords::Cpu => 0,
        }
    }
}

/// Words of an entry's body before the argument words: the timestamp, the entry
/// timestamp of a return event, the status word of the general path.
const MAX_BODY_HEAD: usize = 5;
const MAX_BODY: usize = MAX_ENTRY_WORDS - 1;
const _: () = assert!(MAX_BODY_HEAD + 2 * MAX_VALUE_SLOTS <= MAX_BODY);

/// What a hit does, compiled from the definition.
#[derive(Clone, Copy)]
struct HitPlan {
    /// The entry's tag: id, flags, generation.
    tag: u32,
    /// A registers-only event's entry header (tag and length).
    header: EntryHeader,
    /// Every argument is a frame word: the body is the timestamp(s) and these words.
    registers_only: bool,
    /// Frame words (`TrapFrame` word index: r0–r12, sp, lr, pc, cpsr) of a
    /// registers-only event's body, in order.
    frame_words: [u8; 2 * MAX_FETCH_ARGS],
    frame_word_count: u8,
}

/// Everything the table knows of a defined event besides its probe.
struct SlotConfig {
    plan: HitPlan,
    /// How each argument sits in the entry, and its first value slot.
    layout: [(ArgWords, u8); MAX_FETCH_ARGS],
    /// The arguments as the general path fetches them (names dropped: they stay in the
    /// line).
    args: [FetchArg<'static>; MAX_FETCH_ARGS],
    arg_count: u8,
    kind: EventKind,
    /// The definition line, as given (parsed again to describe the event).
    line: [u8; MAX_KEPT_LINE],
    line_len: u8,
    name: [u8; MAX_EVENT_NAME],
    name_len: u8,
    generation: u8,
}

impl SlotConfig {
    const EMPTY: SlotConfig = SlotConfig {
        plan: HitPlan {
            tag: 0,
            header: EntryHeader::new(0, 1),
            registers_only: true,
            frame_words: [0; 2 * MAX_FETCH_ARGS],
            frame_word_count: 0,
        },
        layout: [(ArgWords::Cpu, 0); MAX_FETCH_ARGS],
        args: [FetchArg {
            name: ArgName::Position(0),
            fetch: Fetch::new(FetchBase::Cpu),
            ty: FetchType::X32,
            slot: 0,
        }; MAX_FETCH_ARGS],
        arg_count: 0,
        kind: EventKind::Entry,
        line: [0; MAX_KEPT_LINE],
        line_len: 0,
        name: [0; MAX_EVENT_NAME],
        name_len: 0,
        generation: 0,
    };

    fn line(&self) -> &str {
        // Copied from a `&str` whole (its length is checked against the buffer first).
        core::str::from_utf8(&self.line[..usize::from(self.line_len)]).unwrap_or("")
    }

    fn name(&self) -> &[u8] {
        &self.name[..usize::from(self.name_len)]
    }
}

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

/// Why [`Events::define`] or [`Events::drain`] did nothing. The table, the registries
/// and the text are exactly as they were.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventsError {
    /// The line is not a definition.
    Definition(definition::DefinitionError),
    /// The line is longer than the table keeps ([`MAX_KEPT_LINE`]).
    LineTooLong {
        /// The line's length in bytes.
        len: usize,
    },
    /// The event's name (given or derived) is longer than [`MAX_EVENT_NAME`].
    NameTooLong {
        /// The name's length in bytes.
        len: usize,
    },
    /// The symbol table has no symbol the definition names.
    UnknownSymbol,
    /// `SYMBOL+OFFSET` lies past the symbol's end.
    OffsetOutsideSymbol {
        /// The offset given.
        offset: u32,
        /// The symbol's size.
        size: usize,
    },
    /// An event of that name exists.
    DuplicateName,
    /// Every slot of the table holds an event.
    TableFull {
        /// The table's capacity.
        capacity: usize,
    },
    /// `-:NAME` names no event.
    UnknownName,
    /// The kprobe registry refused the entry event's probe (or its removal).
    Kprobe(KprobeError),
    /// The return-probe table refused the return event's probe (or its removal).
    Kretprobe(KretprobeError),
    /// Another definition, removal or drain is running (they never wait for each other).
    Busy,
}

impl fmt::Display for EventsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventsError::Definition(e) => write!(f, "bad definition: {e}"),
            EventsError::LineTooLong { len } => write!(
                f,
                "the definition is {len} bytes long; the event table keeps at most {MAX_KEPT_LINE}"
            ),
            EventsError::NameTooLong { len } => write!(
                f,
                "the event's name is {len} bytes long; the event table keeps at most {MAX_EVENT_NAME}"
            ),
            EventsError::UnknownSymbol => write!(f, "the symbol table has no such symbol"),
            EventsError::OffsetOutsideSymbol { offset, size } => write!(
                f,
                "offset {offset:#x} lies past the symbol's end ({size:#x} bytes)"
            ),
            EventsError::DuplicateName => write!(f, "an event of that name is already defined"),
            EventsError::TableFull { capacity } => {
                write!(f, "the event table is full ({capacity} events)")
            }
            EventsError::UnknownName => write!(f, "no event of that name is defined"),
            EventsError::Kprobe(e) => write!(f, "the probe registry refused: {e}"),
            EventsError::Kretprobe(e) => write!(f, "the return-probe table refused: {e}"),
            EventsError::Busy => write!(
                f,
                "another definition, removal or drain of the event table is running"
            ),
        }
    }
}

impl core::error::Error for EventsError {}

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

/// What one [`Events::drain`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Record frames.
    pub records: u64,
    /// The sum of the `Dropped` frames' counts.
    pub dropped: u64,
    /// Event frames.
    pub events: usize,
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

    /// The slot whose entry probe is `kprobe`.
    ///
    /// # Safety
    /// `kprobe` must be a slot's `kprobe` field (the slot's first: `repr(C)`) of a
    /// `'static` table whose provenance `define` exposed: every Kprobe whose handler calls
    /// this is one (`add` makes them there and registers them after exposing the table).
    #[inline(always)]
    unsafe fn slot_of(kprobe: &Kprobe) -> &'static EventSlot {
        // SAFETY: by the contract, the address is a live slot's, with exposed provenance
        // over the whole table; only shared references are made from it.
        unsafe {
            &*core::ptr::with_exposed_provenance::<EventSlot>(core::ptr::from_ref(kprobe).addr())
        }
    }

    /// The table of `slot`.
    #[inline(always)]
    fn table_of(slot: &EventSlot) -> &'static Self {
        // SAFETY: `define` stores the address of its `'static` table (whose provenance it
        // exposed) before registering the slot's probe, the only way a hit reaches here.
        unsafe { &*core::ptr::with_exposed_provenance::<Self>(slot.table.load(Ordering::Relaxed)) }
    }

    /// An entry event whose body is the timestamp and `K` frame words.
    fn hit_registers<const K: usize>(kprobe: &Kprobe, frame: &mut TrapFrame) {
        // SAFETY: see `slot_of`: this is the pre handler of slots' entry probes only.
        let slot = unsafe { Self::slot_of(kprobe) };
        let table = Self::table_of(slot);
        // SAFETY: a hit reads the configuration of a registered slot, which nothing
        // writes while it is registered (see the Sync impl).
        let plan = &unsafe { &*slot.config.get() }.plan;
        let Some(ring) = table.ring_addrs.get(table.platform.cpu_id()) else {
            table.stray_hits.fetch_add(1, Ordering::Relaxed);
            return;
        };
        // SAFETY: `add` stores the address of this table's ring of each CPU (the table's
        // provenance is exposed) before registering any probe.
        let ring = unsafe {
            &*core::ptr::with_exposed_provenance::<TraceRing<WORDS, P>>(
                ring.load(Ordering::Relaxed),
            )
        };
        let now = table.platform.now();
        let w = |i: usize| {
            // SAFETY: `compile` writes frame word indices below 17 only, and `K` below
            // their count.
            unsafe { frame.reg_unchecked(usize::from(*plan.frame_words.get_unchecked(i))) }
        };
        let (lo, hi) = (now as u32, (now >> 32) as u32);
        let pushed = match K {
            0 => ring.push_fast(plan.header, [lo, hi]),
            1 => ring.push_fast(plan.header, [lo, hi, w(0)]),
            2 => ring.push_fast(plan.header, [lo, hi, w(0), w(1)]),
            3 => ring.push_fast(plan.header, [lo, hi, w(0), w(1), w(2)]),
            _ => ring.push_fast(plan.header, [lo, hi, w(0), w(1), w(2), w(3)]),
        };
        if !pushed {
            // Padding or a full ring: the body is made again, off the hit path.
            Self::push_registers_general(ring, plan, frame, now);
        }
    }

    /// A registers-only entry event's hit that needs the ring's general path.
    #[cold]
    #[inline(never)]
    fn push_registers_general(
        ring: &TraceRing<WORDS, P>,
        plan: &HitPlan,
        frame: &TrapFrame,
        now: u64,
    ) {
        let mut body = [0u32; 2 + 2 * MAX_FETCH_ARGS];
        body[0] = now as u32;
        body[1] = (now >> 32) as u32;
        let words = &plan.frame_words[..usize::from(plan.frame_word_count)];
        for (b, &i) in body[2..].iter_mut().zip(words) {
            *b = frame.reg(usize::from(i));
        }
        ring.push_slice(plan.tag, &body[..2 + words.len()]);
    }

    /// Any other entry event.
    fn hit_general(kprobe: &Kprobe, frame: &mut TrapFrame) {
        // SAFETY: see `slot_of`: this is the pre handler of slots' entry probes only.
        let slot = unsafe { Self::slot_of(kprobe) };
        Self::table_of(slot).record(slot, frame, None);
    }

    /// A return event's entry handler: keeps the entry timestamp in the instance.
    fn on_call(probe: &Kretprobe, call: &mut KretprobeInstance<'_>, _: &mut TrapFrame) -> OnEntry {
        let table = Self::table_of(Self::slot_of_kretprobe(probe));
        let now = table.platform.now();
        if let Some(data) = call.data_mut().get_mut(..8) {
            data.copy_from_slice(&now.to_ne_bytes());
        }
        OnEntry::Track
    }

    /// A return event's return handler.
    fn on_return(probe: &Kretprobe, call: &mut KretprobeInstance<'_>, frame: &mut TrapFrame) {
        let slot = Self::slot_of_kretprobe(probe);
        let mut entry = [0u8; 8];
        if let Some(data) = call.data().get(..8) {
            entry.copy_from_slice(data);
        }
        Self::table_of(slot).record(slot, frame, Some(u64::from_ne_bytes(entry)));
    }

    /// The slot whose return probe is `probe`.
    #[inline(always)]
    fn slot_of_kretprobe(probe: &Kretprobe) -> &'static EventSlot {
        let at = core::ptr::from_ref(probe).addr() - core::mem::offset_of!(EventSlot, kretprobe);
        // SAFETY: only `make_kretprobe` makes a Kretprobe with these handlers, in a slot's
        // `kretprobe` field (an UnsafeCell of MaybeUninit: the same address), of a
        // `'static` table whose provenance `define` exposed before registering it.
        unsafe { &*core::ptr::with_exposed_provenance::<EventSlot>(at) }
    }

    /// Records a hit of the event in `slot` (entry timestamp `entry` for a return
    /// event) into this CPU's ring.
    fn record(&self, slot: &EventSlot, frame: &TrapFrame, entry: Option<u64>) {
        // SAFETY: a hit reads the configuration of a registered slot, which nothing
        // writes while it is registered (see the Sync impl).
        let config = unsafe { &*slot.config.get() };
        let Some(ring) = self.rings.get(self.platform.cpu_id()) else {
            self.stray_hits.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let now = self.platform.now();
        self.record_general(ring, config, frame, now, entry);
    }

    /// Every hit but a registers-only entry event's: a return event, a memory fetch.
    fn record_general(
        &self,
        ring: &TraceRing<WORDS, P>,
        config: &SlotConfig,
        frame: &TrapFrame,
        now: u64,
        entry: Option<u64>,
    ) -> bool {
        let plan = &config.plan;
        let mut body = [0u32; MAX_BODY];
        let mut n = 0;
        let mut put = |w: u32| {
            if let Some(slot) = body.get_mut(n) {
                *slot = w;
            }
            n += 1;
        };
        put(now as u32);
        put((now >> 32) as u32);
        if let Some(entry) = entry {
            put(entry as u32);
            put((entry >> 32) as u32);
        }
        if plan.registers_only {
            for &i in &plan.frame_words[..usize::from(plan.frame_word_count)] {
                // SAFETY: `compile` writes frame word indices below 17 only.
                put(unsafe { frame.reg_unchecked(usize::from(i)) });
            }
        } else {
            let values = self.fetch_general(config, frame);
            put(u32::from(values.faults) | u32::from(values.truncated) << 8);
            for &(words, first) in &config.layout[..usize::from(config.arg_count)] {
                let first = usize::from(first);
                let count = match words {
                    ArgWords::Word { .. } => {
                        put(values.values[first] as u32);
                        0
                    }
                    ArgWords::Pair => 1,
                    ArgWords::String => STRING_SLOTS,
                    ArgWords::Cpu => 0,
                };
                for v in &values.values[first..first + count] {
                    put(*v as u32);
                    put((*v >> 32) as u32);
                }
            }
        }
        ring.push_slice(plan.tag, &body[..n.min(MAX_BODY)])
    }

    /// The arguments of an event with a memory fetch, through the platform's reads.
    #[inline(never)]
    fn fetch_general(&self, config: &SlotConfig, frame: &TrapFrame) -> Record {
        let mut record = Record::default();
        let ctx = FetchContext {
            frame,
            cpu: self.platform.cpu_id() as u8,
        };
        fetch_arg_list(
            config.kind,
            &config.args[..usize::from(config.arg_count)],
            &ctx,
            &mut PlatformMemory(self.platform),
            &mut record,
        );
        record
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

    /// Writes one capture into `sink`: the header (timer frequency, `CPUS`), every
    /// defined event, every CPU's records in order, what each CPU lost since the last
    /// capture, and the end. Events keep firing meanwhile: their records after a CPU's
    /// ring was emptied go into the next capture.
    ///
    /// # Errors
    /// [`EventsError::Busy`] when a definition or another drain is running.
    pub fn drain(&self, sink: &mut impl CaptureSink) -> Result<DrainReport, EventsError> {
        let _claim = self.claim()?;
        let mut out = CaptureWriter::new(|b: &[u8]| sink.write(b));
        let mut report = DrainReport::default();
        out.header(&CaptureHeader {
            timer_hz: self.platform.frequency(),
            cpus: CPUS.min(usize::from(u8::MAX)) as u8,
        });
        for (id, slot) in self.slots.iter().enumerate() {
            if slot.state.load(Ordering::Acquire) == LIVE {
                // SAFETY: under the claim.
                let config = unsafe { &*slot.config.get() };
                write_event(&mut out, id as u16, config);
                report.events += 1;
            }
        }
        for (cpu, ring) in self.rings.iter().enumerate() {
            let mut stale = 0;
            if let Some(mut drain) = ring.drain() {
                while let Some(entry) = drain.pop() {
                    match self.expand(cpu as u8, &entry) {
                        Some(record) => {
                            out.record(&record);
                            report.records += 1;
                        }
                        None => stale += 1,
                    }
                }
            }
            // SAFETY: under the claim.
            let reported = unsafe { &mut (*self.reported_lost.get())[cpu] };
            let lost = ring.dropped();
            let count = lost - *reported + stale;
            *reported = lost;
            out.dropped(cpu as u8, count);
            report.dropped += count;
        }
        out.end();
        Ok(report)
    }

    /// The record an entry of CPU `cpu` stands for, or `None` when its event was removed
    /// (or redefined) since.
    fn expand(&self, cpu: u8, entry: &Entry) -> Option<Record> {
        let id = entry.tag & ((1 << ID_BITS) - 1);
        let flags = (entry.tag >> ID_BITS) & 0xf;
        let generation = (entry.tag >> GENERATION_SHIFT) as u8;
        let slot = self.slots.get(id as usize)?;
        if slot.state.load(Ordering::Acquire) != LIVE {
            return None;
        }
        // SAFETY: under the claim (`drain` holds it).
        let config = unsafe { &*slot.config.get() };
        if config.generation != generation {
            return None;
        }
        let mut body = BodyReader(entry.body());
        let next = |w: &mut BodyReader<'_>| w.next();
        let pair = |w: &mut BodyReader<'_>| u64::from(w.next()) | u64::from(w.next()) << 32;
        let mut record = Record {
            timestamp: pair(&mut body),
            event: id as u16,
            cpu,
            ..Record::default()
        };
        if flags & FLAG_RETURN != 0 {
            record.entry_timestamp = pair(&mut body);
            record.flags = Record::RETURN;
        }
        if flags & FLAG_STATUS != 0 {
            let status = next(&mut body);
            record.faults = status as u8;
            record.truncated = (status >> 8) as u8;
        }
        for &(words, first) in &config.layout[..usize::from(config.arg_count)] {
            let first = usize::from(first);
            match words {
                ArgWords::Word { bits } => {
                    let w = next(&mut body);
                    record.values[first] =
                        u64::from(if bits >= 32 { w } else { w & ((1 << bits) - 1) });
                }
                ArgWords::Pair => record.values[first] = pair(&mut body),
                ArgWords::String => {
                    for v in &mut record.values[first..first + STRING_SLOTS] {
                        *v = pair(&mut body);
                    }
                }
                ArgWords::Cpu => record.values[first] = u64::from(cpu),
            }
        }
        Some(record)
    }
}

/// An entry's body, word by word (0 past its end).
struct BodyReader<'b>(&'b [u32]);

impl BodyReader<'_> {
    fn next(&mut self) -> u32 {
        match self.0.split_first() {
            Some((&w, rest)) => {
                self.0 = rest;
                w
            }
            None => 0,
        }
    }
}

/// The event frame of a defined event (its line parsed again: the capture describes it
/// as the definition did).
#[inline(never)]
fn write_event<S: CaptureSink>(out: &mut CaptureWriter<S>, id: u16, config: &SlotConfig) {
    if let Ok(Definition::Event(event)) = definition::parse(config.line()) {
        out.event(id, &event);
    }
}

/// Fills `config` for `event` in slot `index`: the hit plan, the layout, the kept text.
fn compile(
    config: &mut SlotConfig,
    index: usize,
    line: &str,
    name: &[u8],
    event: &EventDefinition<'_>,
) {
    let args = event.args();
    let mut flags = 0;
    if event.kind == EventKind::Return {
        flags |= FLAG_RETURN;
    }
    let registers_only = args.iter().all(|a| !a.fetch.reads_memory());
    if !registers_only {
        flags |= FLAG_STATUS;
    }
    let mut plan = HitPlan {
        header: EntryHeader::new(0, 1),
        tag: index as u32 | flags << ID_BITS | u32::from(config.generation) << GENERATION_SHIFT,
        registers_only,
        frame_words: [0; 2 * MAX_FETCH_ARGS],
        frame_word_count: 0,
    };
    for (i, arg) in args.iter().enumerate() {
        let words = ArgWords::of(event.kind, arg);
        config.layout[i] = (words, arg.slot);
        config.args[i] = FetchArg {
            name: ArgName::Position(i as u8 + 1),
            ..*arg
        };
        if registers_only {
            let first = match arg.fetch.base {
                FetchBase::Register(n) => n,
                FetchBase::Cpsr => 16,
                FetchBase::ReturnValue => 0,
                FetchBase::Cpu => continue,
            };
            for k in 0..words.count() {
                plan.frame_words[usize::from(plan.frame_word_count)] = first + k as u8;
                plan.frame_word_count += 1;
            }
        }
    }
    plan.header = EntryHeader::new(plan.tag, 3 + usize::from(plan.frame_word_count));
    config.plan = plan;
    config.arg_count = args.len() as u8;
    config.kind = event.kind;
    config.line[..line.len()].copy_from_slice(line.as_bytes());
    config.line_len = line.len() as u8;
    config.name[..name.len()].copy_from_slice(name);
    config.name_len = name.len() as u8;
}

/// An event name, formatted without a heap (its length counted past the buffer).
struct NameBuf {
    bytes: [u8; MAX_EVENT_NAME],
    len: usize,
}

impl Default for NameBuf {
    fn default() -> Self {
        NameBuf {
            bytes: [0; MAX_EVENT_NAME],
            len: 0,
        }
    }
}

impl fmt::Write for NameBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if let Some(slot) = self.bytes.get_mut(self.len) {
                *slot = b;
            }
            self.len += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
