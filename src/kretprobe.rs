//! Return probes (kretprobes): measure a function from entry to return — its latency, its
//! arguments next to its return value — by running one handler when it is called and
//! another when it returns, on every core, through nesting, recursion and tail calls.
//!
//! # Using it
//!
//! ```text
//! static KRETPROBES: Kretprobes = Kretprobes::new(&PLATFORM);
//! static POOL: KretprobePool<16, 8> = KretprobePool::new(); // 16 calls in flight, 8 bytes each
//! static LATENCY: Kretprobe = Kretprobe::new(Some(on_entry), on_return, &POOL, 0);
//!
//! fn on_entry(_: &Kretprobe, call: &mut KretprobeInstance, f: &mut TrapFrame) -> OnEntry {
//!     call.data_mut()[..8].copy_from_slice(&now().to_ne_bytes());
//!     OnEntry::Track                      // or OnEntry::Decline: this call is not followed
//! }
//! fn on_return(_: &Kretprobe, call: &mut KretprobeInstance, f: &mut TrapFrame) {
//!     let started = u64::from_ne_bytes(call.data()[..8].try_into().unwrap());
//!     record(f.r[0], now() - started);    // r0 (and r1) hold the return value
//! }
//!
//! KRETPROBES.register(&KPROBES, &LATENCY, function as usize)?; // its first instruction
//! let in_flight = KRETPROBES.unregister(&KPROBES, &LATENCY)?;   // they still return home
//! ```
//!
//! # How it works
//! A [`Kretprobe`] carries a breakpoint [`Kprobe`] on the function's first instruction,
//! registered in the kernel's [`Kprobes`] registry; its pre handler is this module's entry
//! hook. At entry the hook takes an instance from the probe's pool, records the caller's
//! return address (`lr`) and the stack pointer at entry, runs the entry handler, and
//! replaces `lr` with the address of the return trampoline (`global_asm!` in
//! `arch::kretprobe`, ARM only, in `.text.noprobe`, never probeable). When the function
//! returns, the trampoline saves a [`TrapFrame`] on an 8-byte aligned stack and calls
//! [`Kretprobes::handle_return`], which finds the instance by stack pointer, runs the
//! return handler with interrupts masked, frees the instance and hands the trampoline the
//! real return address, to which it branches (`bx` semantics, so Thumb callers work)
//! with r0–r12, `lr` and the flags as the return handler left them.
//!
//! # Why the stack pointer identifies a call
//! The AAPCS makes a function restore `sp`, so `sp` at return equals `sp` at entry, and
//! two calls in flight on one stack have different entry `sp`s — except a tail call: a
//! probed function that leaves with `b other` (its `lr` already the trampoline) lets
//! `other` start at the same `sp`. Every instance carries a stamp from one counter, and the
//! return path takes the matching instance with the newest stamp: the tail-called
//! function's instance first (whose "real" return address is the trampoline again), then
//! the caller's. Stacks of different cores are different memory, so cores never match each
//! other's instances, and a thread that moves to another core between call and return
//! still finds its own.
//!
//! # What a call that is not followed looks like
//! The function runs unmodified (its `lr` untouched) and the probe's `missed` counter goes
//! up when the pool is empty, when the call comes from a return handler on the same core
//! (which would otherwise recurse without end), or when the entry breakpoint hit while
//! this core was already in a probe handler. An entry handler that returns
//! [`OnEntry::Decline`] is not counted as missed.
//!
//! The return path calls [`Platform::mask_interrupts`], [`Platform::cpu_id`] and
//! [`Platform::restore_interrupts`] before it knows which core it is on. Keep those in
//! never-probe text: a return probe on one of them follows those calls too, each one
//! nesting another return path, until its pool is empty (so at most pool-size deep).
//!
//! # Unregistering with calls in flight
//! [`Kretprobes::unregister`] disarms the entry breakpoint (a rendezvous: when it returns
//! no core is inside this probe's entry or return handler, since both run with interrupts
//! masked) and returns how many calls are still in flight. Those calls still return to
//! their callers through the trampoline, which frees their instances without running the
//! return handler. The `Kretprobe` and its pool are `'static`, so they outlive every call
//! in flight; re-registering the probe meanwhile is allowed, and instances from the earlier
//! registration still do not run the handler (each registration has its own generation).

use crate::cache::CacheOps;
use crate::frame::TrapFrame;
use crate::hex::Hex;
use crate::kprobe::{Kprobe, KprobeError, Kprobes};
use crate::platform::{MAX_CPUS, Platform};
use crate::spin_lock::{SpinLock, SpinLockGuard};
use core::cell::UnsafeCell;
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// Most return probes one [`Kretprobes`] table holds (registered, or unregistered with
/// calls still in flight). The return path scans the used part of the table, so it is
/// kept small.
pub const MAX_KRETPROBES: usize = 32;

/// What the entry handler decides for this call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnEntry {
    /// Follow the call: the return handler runs when it returns.
    Track,
    /// Do not follow this call: the instance goes back to the pool, the function returns
    /// straight to its caller and the return handler does not run.
    Decline,
}

/// Runs when the probed function is entered (in the breakpoint's trap, interrupts
/// masked), before its first instruction: `frame.r[0..4]` are the first arguments,
/// `frame.lr` the caller's return address. It may fill the instance's private data and
/// change argument registers; it must leave `sp` and `lr` alone.
pub type EntryHandler =
    fn(probe: &Kretprobe, call: &mut KretprobeInstance<'_>, frame: &mut TrapFrame) -> OnEntry;

/// Runs when the probed function returns (interrupts masked): `frame.r[0]`/`r[1]` hold the
/// return value, `frame.sp` the stack pointer (as at entry) and `frame.pc` the address the
/// call returns to. Changes to r0–r12, `lr`, `pc` (where the call returns to) and the
/// condition flags of `cpsr` take effect; changes to `sp` and to the rest of `cpsr` do not.
pub type ReturnHandler =
    fn(probe: &Kretprobe, call: &mut KretprobeInstance<'_>, frame: &mut TrapFrame);

/// One call in flight, as the handlers see it.
pub struct KretprobeInstance<'a> {
    data: &'a mut [u8],
    return_address: u32,
    entry_sp: u32,
}

impl KretprobeInstance<'_> {
    /// The call's private data: as many bytes as the pool was declared with, 8-byte
    /// aligned, zeroed at entry and kept from the entry handler to the return handler.
    pub fn data(&self) -> &[u8] {
        self.data
    }

    /// The call's private data, to fill in.
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.data
    }

    /// Where the call returns to (the caller's `lr` at entry; bit 0 set for a Thumb
    /// caller).
    pub fn return_address(&self) -> u32 {
        self.return_address
    }

    /// The stack pointer at entry, which is also the stack pointer at return.
    pub fn entry_sp(&self) -> u32 {
        self.entry_sp
    }
}

const FREE: u32 = 0;
/// Taken at entry, being filled in (only the entering core touches it).
const CLAIMED: u32 = 1;
/// The call is in flight.
const ACTIVE: u32 = 2;
/// Taken by the return path (only the returning core touches it).
const RETURNING: u32 = 3;

/// The bookkeeping of one instance. Its fields other than `state` are written only by
/// the core that moved `state` to CLAIMED, and read only by the core that moved it from
/// ACTIVE to RETURNING; the state stores and the compare-exchanges order them.
struct InstanceSlot {
    state: AtomicU32,
    entry_sp: AtomicU32,
    return_address: AtomicU32,
    generation: AtomicU32,
    stamp: AtomicU64,
}

impl InstanceSlot {
    const fn new() -> InstanceSlot {
        InstanceSlot {
            state: AtomicU32::new(FREE),
            entry_sp: AtomicU32::new(0),
            return_address: AtomicU32::new(0),
            generation: AtomicU32::new(0),
            stamp: AtomicU64::new(0),
        }
    }
}

/// One instance's private data, 8-byte aligned.
#[repr(C, align(8))]
struct PrivateData<const D: usize>(UnsafeCell<[u8; D]>);

/// The instances of one [`Kretprobe`]: at most `N` calls followed at once, each with `D`
/// bytes of private data. A `static` the user declares next to the probe (the crate has
/// no heap), so its size is chosen when the probe is written down.
pub struct KretprobePool<const N: usize, const D: usize> {
    slots: [InstanceSlot; N],
    data: [PrivateData<D>; N],
}

// SAFETY: the slots are atomics. The private data of instance i is reached only through
// a KretprobeInstance made by the one core that owns instance i at that moment (it moved
// the instance's state to CLAIMED or from ACTIVE to RETURNING with a compare-exchange,
// and gives it up with a Release store), so no two cores ever touch the same bytes
// concurrently.
unsafe impl<const N: usize, const D: usize> Sync for KretprobePool<N, D> {}

impl<const N: usize, const D: usize> KretprobePool<N, D> {
    /// An empty pool.
    #[allow(clippy::new_without_default)] // a `static` initializer must be a const fn
    pub const fn new() -> Self {
        KretprobePool {
            slots: [const { InstanceSlot::new() }; N],
            data: [const { PrivateData(UnsafeCell::new([0; D])) }; N],
        }
    }
}

const UNREGISTERED: u32 = 0;
const REGISTERED: u32 = 1;

/// A return probe: an entry handler, a return handler, a pool of instances and a cookie,
/// owned by the user as a `static`.
// repr(C) with the Kprobe first: the entry hook receives the Kprobe and finds its
// Kretprobe at the same address (see `Kretprobe::from_entry_kprobe`).
#[repr(C)]
pub struct Kretprobe {
    kprobe: Kprobe,
    entry: Option<EntryHandler>,
    ret: ReturnHandler,
    data: usize,
    slots: &'static [InstanceSlot],
    /// Instance i's private data is `private_size` bytes at `private + i * private_stride`.
    private: *mut u8,
    private_size: usize,
    private_stride: usize,
    table: AtomicPtr<Kretprobes>,
    state: AtomicU32,
    generation: AtomicU32,
    hits: AtomicU64,
    missed: AtomicU64,
}

// SAFETY: `private` points into a `'static` KretprobePool whose bytes are shared under
// the ownership protocol described at KretprobePool's Sync impl; everything else is
// atomics, shared references and fn pointers.
unsafe impl Sync for Kretprobe {}

impl Kretprobe {
    /// A return probe with these handlers, instances from `pool`, and `data` (any value
    /// the handlers want to see; kprobe listings show it too).
    pub const fn new<const N: usize, const D: usize>(
        entry: Option<EntryHandler>,
        ret: ReturnHandler,
        pool: &'static KretprobePool<N, D>,
        data: usize,
    ) -> Kretprobe {
        Kretprobe {
            kprobe: Kprobe::new(Some(entry_hook), None, data),
            entry,
            ret,
            data,
            slots: &pool.slots,
            private: pool.data.as_ptr() as *mut u8,
            private_size: D,
            private_stride: core::mem::size_of::<PrivateData<D>>(),
            table: AtomicPtr::new(core::ptr::null_mut()),
            state: AtomicU32::new(UNREGISTERED),
            generation: AtomicU32::new(0),
            hits: AtomicU64::new(0),
            missed: AtomicU64::new(0),
        }
    }

    /// The value given to [`Kretprobe::new`].
    pub fn data(&self) -> usize {
        self.data
    }

    /// The probed function's address, while registered.
    pub fn addr(&self) -> Option<usize> {
        if self.is_registered() {
            self.kprobe.addr()
        } else {
            None
        }
    }

    /// Whether the probe is registered.
    pub fn is_registered(&self) -> bool {
        self.state.load(Ordering::Acquire) == REGISTERED
    }

    /// Calls followed (an instance taken and the entry handler said
    /// [`OnEntry::Track`]) since the last registration.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Calls not followed since the last registration: the pool was empty, the call came
    /// from a return handler on the same core, or the entry breakpoint hit inside another
    /// probe handler.
    pub fn missed(&self) -> u64 {
        self.missed.load(Ordering::Relaxed) + self.kprobe.missed()
    }

    /// Calls in flight: entered and followed, not yet returned.
    pub fn outstanding(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.state.load(Ordering::Acquire) != FREE)
            .count()
    }

    /// How many calls the pool can follow at once.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The Kretprobe whose entry probe is `kprobe`.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn from_entry_kprobe(kprobe: &Kprobe) -> &'static Kretprobe {
        // SAFETY: `entry_hook` is private to this module and only `Kretprobe::new` puts it
        // into a Kprobe: as the first field of a #[repr(C)] Kretprobe, so the Kprobe the
        // registry calls it with (the field is private: only `Kretprobes::register` ever
        // registers it) sits at its Kretprobe's address. That Kretprobe is `'static`
        // (`register` takes `&'static Kretprobe`) and `register` exposed the provenance of
        // the whole of it before arming the probe, so the pointer made from the address is
        // valid for the whole Kretprobe; only shared references are made from it.
        unsafe {
            &*core::ptr::with_exposed_provenance::<Kretprobe>(core::ptr::from_ref(kprobe).addr())
        }
    }

    /// The handlers' view of instance `i`.
    ///
    /// # Safety
    /// The calling core must own instance `i` (it moved its state to CLAIMED, or from
    /// ACTIVE to RETURNING, and has not given it back), and hold at most one view of it.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    unsafe fn instance(&self, i: usize) -> KretprobeInstance<'static> {
        let slot = &self.slots[i];
        // SAFETY: i < slots.len() == the pool's N (checked by the index above), so the
        // range lies inside the pool's `data` array (stride = size_of::<PrivateData<D>>(),
        // D = private_size bytes at its start); the pool is 'static and its bytes are in
        // UnsafeCells; the caller owns instance i, so nobody else accesses these bytes
        // until it gives the instance back.
        let data = unsafe {
            core::slice::from_raw_parts_mut(
                self.private.add(i * self.private_stride),
                self.private_size,
            )
        };
        KretprobeInstance {
            data,
            return_address: slot.return_address.load(Ordering::Relaxed),
            entry_sp: slot.entry_sp.load(Ordering::Relaxed),
        }
    }

    /// Takes a free instance, if any.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn claim(&self) -> Option<usize> {
        self.slots.iter().position(|s| {
            s.state.load(Ordering::Relaxed) == FREE
                && s.state
                    .compare_exchange(FREE, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
        })
    }
}

/// Why a return-probe operation failed. The probe, the table, the kprobe registry and the
/// text are exactly as they were before the call.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KretprobeError {
    /// The entry breakpoint could not be registered or unregistered (the address is
    /// misaligned, outside text, never-probe, its instruction is refused, the registry is
    /// full, or the call was made inside a rendezvous).
    Kprobe(KprobeError),
    /// The probe is already registered (at `addr`).
    AlreadyRegistered {
        /// Where it is registered.
        addr: usize,
    },
    /// The probe is not registered.
    NotRegistered,
    /// The probe belongs to another [`Kretprobes`] table (the first one that registered
    /// it).
    OtherTable,
    /// The table already holds [`MAX_KRETPROBES`] probes (registered, or with calls in
    /// flight).
    TableFull,
    /// Another [`Kretprobes`] table already serves the return trampoline (there is one
    /// trampoline per kernel image, so one table).
    ReturnPathTaken,
}

impl fmt::Debug for KretprobeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            KretprobeError::Kprobe(e) => f.debug_tuple("Kprobe").field(&e).finish(),
            KretprobeError::AlreadyRegistered { addr } => f
                .debug_struct("AlreadyRegistered")
                .field("addr", &Hex(addr))
                .finish(),
            KretprobeError::NotRegistered => f.write_str("NotRegistered"),
            KretprobeError::OtherTable => f.write_str("OtherTable"),
            KretprobeError::TableFull => f.write_str("TableFull"),
            KretprobeError::ReturnPathTaken => f.write_str("ReturnPathTaken"),
        }
    }
}

impl fmt::Display for KretprobeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KretprobeError::Kprobe(e) => write!(f, "entry probe: {e}"),
            KretprobeError::AlreadyRegistered { addr } => {
                write!(f, "the return probe is already registered at {addr:#x}")
            }
            KretprobeError::NotRegistered => write!(f, "the return probe is not registered"),
            KretprobeError::OtherTable => {
                write!(f, "the return probe belongs to another Kretprobes table")
            }
            KretprobeError::TableFull => {
                write!(f, "the table already holds {MAX_KRETPROBES} return probes")
            }
            KretprobeError::ReturnPathTaken => {
                write!(f, "another Kretprobes table serves the return trampoline")
            }
        }
    }
}

impl core::error::Error for KretprobeError {}

impl From<KprobeError> for KretprobeError {
    fn from(e: KprobeError) -> Self {
        KretprobeError::Kprobe(e)
    }
}

/// The table the return trampoline consults (the first table that registered a probe).
#[cfg(target_arch = "arm")]
static RETURN_PATH: AtomicPtr<Kretprobes> = AtomicPtr::new(core::ptr::null_mut());

/// The return trampoline's Rust half: called by [`crate::arch::kretprobe`] with the frame
/// it saved.
#[cfg(target_arch = "arm")]
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
pub(crate) fn return_path(frame: &mut TrapFrame) {
    let table = RETURN_PATH.load(Ordering::Acquire);
    // SAFETY: RETURN_PATH is null or was set from a `&'static Kretprobes` by `register`.
    match unsafe { table.as_ref() } {
        Some(t) => t.handle_return(frame),
        None => panic!("kretprobe trampoline reached before any return probe was registered"),
    }
}

#[cfg(target_arch = "arm")]
fn trampoline() -> usize {
    crate::arch::kretprobe::trampoline_address()
}

/// On the host there is no trampoline to branch to: an address that is not code stands
/// for it, and the tests call [`Kretprobes::handle_return`] themselves.
#[cfg(not(target_arch = "arm"))]
fn trampoline() -> usize {
    HOST_TRAMPOLINE
}

/// The stand-in trampoline address on the host (word-aligned, never a real function).
#[cfg(not(target_arch = "arm"))]
pub const HOST_TRAMPOLINE: usize = 0xffff_0f00;

/// The return probes of one kernel: the table the return path searches, the stamp
/// counter that orders calls, and which cores are running a return handler. A `static`
/// the user owns, like [`Kprobes`].
pub struct Kretprobes {
    platform: &'static dyn Platform,
    /// Serializes registering and unregistering (the table itself is lock-free).
    lock: SpinLock<()>,
    probes: [AtomicPtr<Kretprobe>; MAX_KRETPROBES],
    /// Table entries at or above this index have never been used.
    used: AtomicUsize,
    stamp: AtomicU64,
    in_return_handler: [AtomicBool; MAX_CPUS],
}

impl Kretprobes {
    /// An empty table on `platform`.
    pub const fn new(platform: &'static dyn Platform) -> Kretprobes {
        Kretprobes {
            platform,
            lock: SpinLock::new(()),
            probes: [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_KRETPROBES],
            used: AtomicUsize::new(0),
            stamp: AtomicU64::new(0),
            in_return_handler: [const { AtomicBool::new(false) }; MAX_CPUS],
        }
    }

    /// The address a followed call returns to instead of its caller.
    pub fn trampoline_address(&self) -> usize {
        trampoline()
    }

    /// Takes the table lock the way the registry takes its own (see `spin_lock`):
    /// refused at once with IRQs masked or when this CPU holds it, joining `kprobes`'
    /// rendezvous while it waits.
    fn lock<P: Platform, C: CacheOps, const N: usize>(
        &self,
        kprobes: &Kprobes<P, C, N>,
    ) -> Result<SpinLockGuard<'_, ()>, KretprobeError> {
        kprobes
            .lock_other(&self.lock)
            .map_err(KretprobeError::Kprobe)
    }

    fn used(&self) -> &[AtomicPtr<Kretprobe>] {
        &self.probes[..self.used.load(Ordering::Acquire).min(MAX_KRETPROBES)]
    }

    /// The table entry holding `probe`, or a free one (never used, or holding an
    /// unregistered probe with no call in flight). Registry lock held.
    fn entry_for(&self, probe: &'static Kretprobe) -> Result<usize, KretprobeError> {
        let ptr = core::ptr::from_ref(probe).cast_mut();
        let used = self.used();
        if let Some(i) = used.iter().position(|p| p.load(Ordering::Relaxed) == ptr) {
            return Ok(i);
        }
        let reusable = used.iter().position(|p| {
            // SAFETY: entries are null or made from a `&'static Kretprobe` by `register`.
            match unsafe { p.load(Ordering::Relaxed).as_ref() } {
                None => true,
                Some(old) => !old.is_registered() && old.outstanding() == 0,
            }
        });
        match reusable {
            Some(i) => Ok(i),
            None if used.len() < MAX_KRETPROBES => Ok(used.len()),
            None => Err(KretprobeError::TableFull),
        }
    }

    /// Registers `probe` on the function whose first instruction is at `addr`: its entry
    /// breakpoint goes into `kprobes` (armed on every core), and from then on every call
    /// runs the entry handler and, when it returns, the return handler.
    ///
    /// # Errors
    ///
    /// [`KretprobeError::AlreadyRegistered`], [`KretprobeError::OtherTable`],
    /// [`KretprobeError::TableFull`], [`KretprobeError::ReturnPathTaken`], and the
    /// registry's errors for the entry breakpoint as [`KretprobeError::Kprobe`] (among
    /// them [`KprobeError::InterruptsMasked`] when called with IRQs masked). The probe,
    /// the table and the text are then as they were.
    pub fn register<P: Platform, C: CacheOps, const N: usize>(
        &'static self,
        kprobes: &Kprobes<P, C, N>,
        probe: &'static Kretprobe,
        addr: usize,
    ) -> Result<(), KretprobeError> {
        let _g = self.lock(kprobes)?;
        if probe.is_registered() {
            return Err(KretprobeError::AlreadyRegistered {
                addr: probe.kprobe.addr().unwrap_or(0),
            });
        }
        let me = core::ptr::from_ref(self).cast_mut();
        let owner = probe.table.load(Ordering::Acquire);
        if !owner.is_null() && owner != me {
            return Err(KretprobeError::OtherTable);
        }
        let entry = self.entry_for(probe)?;
        let (previous_entry, previous_used) = (
            self.probes[entry].load(Ordering::Relaxed),
            self.used.load(Ordering::Relaxed),
        );
        // The trampoline must know this table before the entry probe is armed. Installing
        // it for the first time is undone on failure below: nothing can be in flight yet.
        #[cfg(target_arch = "arm")]
        let installed_now = match RETURN_PATH.compare_exchange(
            core::ptr::null_mut(),
            me,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => true,
            Err(other) if other == me => false,
            Err(_) => return Err(KretprobeError::ReturnPathTaken),
        };
        // Published before arming: the return path must find every call's probe.
        self.probes[entry].store(core::ptr::from_ref(probe).cast_mut(), Ordering::Release);
        self.used
            .store(previous_used.max(entry + 1), Ordering::Release);
        // The entry hook rebuilds a pointer to the whole Kretprobe from its Kprobe's
        // address (see `from_entry_kprobe`).
        let _ = core::ptr::from_ref(probe).expose_provenance();
        let before = (
            probe.generation.load(Ordering::Relaxed),
            probe.hits.load(Ordering::Relaxed),
            probe.missed.load(Ordering::Relaxed),
        );
        probe.table.store(me, Ordering::Release);
        probe
            .generation
            .store(before.0.wrapping_add(1), Ordering::Relaxed);
        probe.hits.store(0, Ordering::Relaxed);
        probe.missed.store(0, Ordering::Relaxed);
        probe.state.store(REGISTERED, Ordering::Release);
        if let Err(e) = kprobes.register(&probe.kprobe, addr) {
            probe.state.store(UNREGISTERED, Ordering::Release);
            probe.generation.store(before.0, Ordering::Relaxed);
            probe.hits.store(before.1, Ordering::Relaxed);
            probe.missed.store(before.2, Ordering::Relaxed);
            probe.table.store(owner, Ordering::Release);
            self.probes[entry].store(previous_entry, Ordering::Release);
            self.used.store(previous_used, Ordering::Release);
            #[cfg(target_arch = "arm")]
            if installed_now {
                RETURN_PATH.store(core::ptr::null_mut(), Ordering::Release);
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// Unregisters `probe`: its entry breakpoint leaves text, and when this returns
    /// neither of its handlers is running or will run again. Returns the number of calls
    /// still in flight; they return to their callers through the trampoline, which frees
    /// their instances. A followed call that returns while the unregistration is under
    /// way (after the probe stopped following, before this returns) returns to its
    /// caller without running the return handler, and is not in the returned count.
    ///
    /// # Errors
    ///
    /// [`KretprobeError::NotRegistered`], [`KretprobeError::OtherTable`], and the
    /// registry's errors as [`KretprobeError::Kprobe`] — among them
    /// [`KprobeError::InterruptsMasked`] at once when called with IRQs masked (e.g. from
    /// a handler). The probe is then as it was.
    pub fn unregister<P: Platform, C: CacheOps, const N: usize>(
        &self,
        kprobes: &Kprobes<P, C, N>,
        probe: &'static Kretprobe,
    ) -> Result<usize, KretprobeError> {
        let _g = self.lock(kprobes)?;
        if !probe.is_registered() {
            return Err(KretprobeError::NotRegistered);
        }
        if probe.table.load(Ordering::Acquire) != core::ptr::from_ref(self).cast_mut() {
            return Err(KretprobeError::OtherTable);
        }
        // From here on no new call is followed and no return handler starts (both check
        // the state with interrupts masked); the kprobe unregistration's rendezvous waits
        // for handlers that started before.
        probe.state.store(UNREGISTERED, Ordering::Release);
        if let Err(e) = kprobes.unregister(&probe.kprobe) {
            probe.state.store(REGISTERED, Ordering::Release);
            return Err(e.into());
        }
        let in_flight = probe.outstanding();
        if in_flight == 0 {
            let ptr = core::ptr::from_ref(probe).cast_mut();
            if let Some(p) = self
                .used()
                .iter()
                .find(|p| p.load(Ordering::Relaxed) == ptr)
            {
                p.store(core::ptr::null_mut(), Ordering::Release);
            }
        }
        Ok(in_flight)
    }

    /// Probes in the table: registered ones, and unregistered ones with calls in flight.
    pub fn len(&self) -> usize {
        self.used()
            .iter()
            .filter(|p| !p.load(Ordering::Relaxed).is_null())
            .count()
    }

    /// Whether the table holds no probe.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry side: in the entry breakpoint's trap, interrupts masked.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn enter(&self, probe: &'static Kretprobe, frame: &mut TrapFrame) {
        if !probe.is_registered() {
            return;
        }
        let cpu = self.platform.cpu_id() % MAX_CPUS;
        if self.in_return_handler[cpu].load(Ordering::Relaxed) {
            probe.missed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let Some(i) = probe.claim() else {
            probe.missed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let slot = &probe.slots[i];
        slot.entry_sp.store(frame.sp, Ordering::Relaxed);
        slot.return_address.store(frame.lr, Ordering::Relaxed);
        slot.generation
            .store(probe.generation.load(Ordering::Relaxed), Ordering::Relaxed);
        // SAFETY: this core moved instance i to CLAIMED in `claim`; this is its only view.
        let mut call = unsafe { probe.instance(i) };
        call.data.fill(0);
        if let Some(entry) = probe.entry
            && entry(probe, &mut call, frame) == OnEntry::Decline
        {
            slot.state.store(FREE, Ordering::Release);
            return;
        }
        slot.stamp.store(
            self.stamp.fetch_add(1, Ordering::Relaxed),
            Ordering::Relaxed,
        );
        slot.state.store(ACTIVE, Ordering::Release);
        probe.hits.fetch_add(1, Ordering::Relaxed);
        // A tail call from a followed function arrives with lr = trampoline already: it
        // is followed like any call (see the module docs).
        frame.lr = trampoline() as u32;
    }

    /// The newest instance in flight whose entry `sp` is `sp`.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn find(&self, sp: u32) -> Option<(&'static Kretprobe, usize)> {
        let mut best: Option<(&'static Kretprobe, usize, u64)> = None;
        for p in self.used() {
            // SAFETY: entries are null or made from a `&'static Kretprobe` by `register`.
            let Some(probe) = (unsafe { p.load(Ordering::Acquire).as_ref() }) else {
                continue;
            };
            for (i, s) in probe.slots.iter().enumerate() {
                if s.state.load(Ordering::Acquire) == ACTIVE
                    && s.entry_sp.load(Ordering::Relaxed) == sp
                {
                    let stamp = s.stamp.load(Ordering::Relaxed);
                    if best.is_none_or(|(_, _, b)| stamp > b) {
                        best = Some((probe, i, stamp));
                    }
                }
            }
        }
        best.map(|(p, i, _)| (p, i))
    }

    /// The return side, called by the return trampoline with the frame it saved (`sp` is
    /// the stack pointer the function returned with). Finds the call's instance, sets
    /// `frame.pc` and `frame.lr` to the real return address, runs the return handler
    /// (interrupts masked) unless the probe was unregistered since the call started, and
    /// frees the instance.
    ///
    /// # Panics
    /// When no call in flight entered with this `sp`: the function did not restore its
    /// stack pointer, so its real return address cannot be found.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    pub fn handle_return(&self, frame: &mut TrapFrame) {
        let irq = self.platform.mask_interrupts();
        let cpu = self.platform.cpu_id() % MAX_CPUS;
        // Only the call's own stack has its sp, so no other core competes for the
        // instance; the compare-exchange makes that an invariant rather than an
        // assumption.
        let (probe, i) = loop {
            let Some((probe, i)) = self.find(frame.sp) else {
                panic!(
                    "kretprobe: no call in flight entered with sp {:#010x}: cannot return",
                    frame.sp
                );
            };
            if probe.slots[i]
                .state
                .compare_exchange(ACTIVE, RETURNING, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                break (probe, i);
            }
        };
        let slot = &probe.slots[i];
        let ret = slot.return_address.load(Ordering::Relaxed);
        frame.pc = ret;
        frame.lr = ret;
        let live = probe.is_registered()
            && slot.generation.load(Ordering::Relaxed) == probe.generation.load(Ordering::Relaxed);
        if live {
            if self.in_return_handler[cpu].swap(true, Ordering::Relaxed) {
                // Unreachable in practice (calls made inside a return handler are not
                // followed, and it runs with interrupts masked), but never recurse.
                probe.missed.fetch_add(1, Ordering::Relaxed);
            } else {
                // SAFETY: this core moved instance i from ACTIVE to RETURNING above; this
                // is its only view.
                let mut call = unsafe { probe.instance(i) };
                (probe.ret)(probe, &mut call, frame);
                self.in_return_handler[cpu].store(false, Ordering::Relaxed);
            }
        }
        slot.state.store(FREE, Ordering::Release);
        self.platform.restore_interrupts(irq);
    }
}

/// The pre handler of every return probe's entry [`Kprobe`].
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
fn entry_hook(kprobe: &Kprobe, frame: &mut TrapFrame) {
    let probe = Kretprobe::from_entry_kprobe(kprobe);
    // SAFETY: `table` is null or was set from a `&'static Kretprobes` by `register`
    // before the entry probe was armed.
    if let Some(table) = unsafe { probe.table.load(Ordering::Acquire).as_ref() } {
        table.enter(probe, frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::RejectReason;
    use crate::fakes::{FakeCacheOps, FakePlatform};
    use crate::kprobe::Trap;
    use crate::step::Memory;
    use crate::stop_machine::Rendezvous;
    use std::boxed::Box;
    use std::sync::Mutex;
    use std::vec::Vec;

    const TEXT: usize = 0x8000;
    /// `push {r4, lr}`: the first instruction of the probed functions.
    const PUSH_R4_LR: u32 = 0xe92d_4010;
    const F: usize = TEXT;
    const G: usize = TEXT + 16;
    const NOPROBE: usize = TEXT + 0x100;
    const CALLER: u32 = 0x9000;
    type Reg = Kprobes<FakePlatform, FakeCacheOps, 16>;

    struct Env {
        p: &'static FakePlatform,
        k: &'static Reg,
        t: &'static Kretprobes,
    }

    fn env() -> Env {
        FakePlatform::become_cpu(0);
        let p: &'static FakePlatform = Box::leak(Box::new(
            FakePlatform::new(TEXT, 128, 0x10_0000, 16, 1).with_never_probe(NOPROBE..NOPROBE + 16),
        ));
        p.set_word(F, PUSH_R4_LR);
        p.set_word(G, PUSH_R4_LR);
        let r: &'static Rendezvous<FakeCacheOps> =
            Box::leak(Box::new(Rendezvous::new(FakeCacheOps::new(true))));
        let k: &'static Reg = Box::leak(Box::new(Kprobes::new(p, r)));
        let t: &'static Kretprobes = Box::leak(Box::new(Kretprobes::new(p)));
        Env { p, k, t }
    }

    fn kretprobe<const N: usize, const D: usize>(
        entry: Option<EntryHandler>,
        ret: ReturnHandler,
        data: usize,
    ) -> &'static Kretprobe {
        let pool: &'static KretprobePool<N, D> = Box::leak(Box::new(KretprobePool::new()));
        Box::leak(Box::new(Kretprobe::new(entry, ret, pool, data)))
    }

    type Mem = crate::fakes::FakeMemory;

    /// A call of the function at `addr` with `sp`, `lr` and two arguments: the entry
    /// breakpoint's trap, as the kernel's undefined-instruction handler runs it. Returns
    /// the frame after the first instruction (the `push`).
    fn call(e: &Env, mem: &mut Mem, addr: usize, sp: u32, lr: u32, a: u32, b: u32) -> TrapFrame {
        let mut f = TrapFrame {
            r: [a, b, 0, 0, 0x44, 0, 0, 0, 0, 0, 0, 0, 0],
            sp,
            lr,
            pc: addr as u32,
            cpsr: 0x1f,
        };
        assert_eq!(e.k.handle_undefined(&mut f, mem), Trap::Handled);
        assert_eq!((f.pc, f.sp), (addr as u32 + 4, sp - 8), "push stepped");
        f
    }

    /// The function returning with `sp` and result `r0` to the `lr` it was given: through
    /// the trampoline when that is the trampoline, else straight to its caller (`None`).
    fn ret(e: &Env, lr: u32, sp: u32, r0: u32) -> Option<TrapFrame> {
        if lr != e.t.trampoline_address() as u32 {
            return None;
        }
        let mut f = TrapFrame {
            r: [r0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            sp,
            lr,
            pc: 0,
            cpsr: 0x1f,
        };
        e.t.handle_return(&mut f);
        Some(f)
    }

    fn args_entry(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) -> OnEntry {
        assert_eq!(c.data(), [0; 12], "private data starts zeroed");
        let caller = c.return_address();
        c.data_mut()[..4].copy_from_slice(&f.r[0].to_ne_bytes());
        c.data_mut()[4..8].copy_from_slice(&f.r[1].to_ne_bytes());
        c.data_mut()[8..12].copy_from_slice(&caller.to_ne_bytes());
        OnEntry::Track
    }

    /// Arguments, result, caller and sp, as the return handler saw them.
    type Seen = (u32, u32, u32, u32, u32);
    static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());

    fn args_return(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) {
        let word = |i: usize| u32::from_ne_bytes(c.data()[i..i + 4].try_into().unwrap());
        let (a, b, caller) = (word(0), word(4), word(8));
        assert_eq!((caller, f.pc, f.lr), (c.return_address(), caller, caller));
        assert_eq!(f.sp, c.entry_sp());
        SEEN.lock().unwrap().push((a, b, f.r[0], caller, f.sp));
        f.r[0] += 1000;
    }

    #[test]
    fn entry_replaces_lr_before_the_first_instruction_and_the_return_handler_sees_args_and_result()
    {
        let e = env();
        let rp = kretprobe::<4, 12>(Some(args_entry), args_return, 9);
        e.t.register(e.k, rp, F).unwrap();
        assert_eq!((rp.addr(), rp.is_registered()), (Some(F), true));
        let mut mem = Mem::default();
        let after = call(&e, &mut mem, F, 0x2000, CALLER, 20, 22);
        let tramp = e.t.trampoline_address() as u32;
        assert_eq!(after.lr, tramp);
        assert_eq!(
            mem.read_u32(0x2000 - 4).unwrap(),
            tramp,
            "the stepped push saved the trampoline, not the caller"
        );
        assert_eq!((rp.outstanding(), rp.hits()), (1, 1));
        let back = ret(&e, after.lr, 0x2000, 42).unwrap();
        assert_eq!((back.pc, back.lr, back.sp), (CALLER, CALLER, 0x2000));
        assert_eq!(back.r[0], 1042, "the return handler's change to r0 is kept");
        assert_eq!(
            SEEN.lock().unwrap().as_slice(),
            [(20, 22, 42, CALLER, 0x2000)]
        );
        assert_eq!((rp.outstanding(), rp.missed()), (0, 0));
        let mut listed = Vec::new();
        e.k.list(|i| listed.push((i.addr, i.data))).unwrap();
        assert_eq!(listed, [(F, 9)], "the entry probe is an ordinary kprobe");
        assert_eq!(e.t.unregister(e.k, rp), Ok(0));
        assert_eq!((e.p.word(F), e.t.len(), rp.addr()), (PUSH_R4_LR, 0, None));
    }

    static LEVELS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

    fn level_entry(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) -> OnEntry {
        c.data_mut()[..4].copy_from_slice(&f.r[0].to_ne_bytes());
        OnEntry::Track
    }

    fn level_return(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) {
        let n = u32::from_ne_bytes(c.data()[..4].try_into().unwrap());
        assert_eq!(f.r[0], n, "each level returns its own argument");
        LEVELS.lock().unwrap().push(n);
    }

    #[test]
    fn a_recursion_50_deep_returns_every_level_to_its_own_caller_innermost_first() {
        let e = env();
        let rp = kretprobe::<64, 4>(Some(level_entry), level_return, 0);
        e.t.register(e.k, rp, F).unwrap();
        let mut mem = Mem::default();
        // Level n is called with r0 = n from return address CALLER + 4n, sp 16 bytes below
        // the level above (its push and a little more).
        let mut lrs = Vec::new();
        for n in (0..50u32).rev() {
            let sp = 0x4000 - 16 * (50 - n);
            let f = call(&e, &mut mem, F, sp, CALLER + 4 * n, n, 0);
            lrs.push((n, sp, f.lr));
        }
        assert_eq!(rp.outstanding(), 50);
        for (n, sp, lr) in lrs.into_iter().rev() {
            let back = ret(&e, lr, sp, n).unwrap();
            assert_eq!(back.pc, CALLER + 4 * n, "level {n} returns to its caller");
        }
        assert_eq!(*LEVELS.lock().unwrap(), (0..50).collect::<Vec<_>>());
        assert_eq!((rp.hits(), rp.missed(), rp.outstanding()), (50, 0, 0));
    }

    static TAIL: Mutex<Vec<usize>> = Mutex::new(Vec::new());

    fn tail_return(p: &Kretprobe, _: &mut KretprobeInstance<'_>, f: &mut TrapFrame) {
        TAIL.lock().unwrap().push(p.data());
        assert_eq!(f.r[0], 5);
    }

    #[test]
    fn a_tail_call_between_followed_functions_returns_through_both_innermost_first() {
        let e = env();
        let (rf, rg) = (
            kretprobe::<2, 0>(None, tail_return, 1),
            kretprobe::<2, 0>(None, tail_return, 2),
        );
        e.t.register(e.k, rf, F).unwrap();
        e.t.register(e.k, rg, G).unwrap();
        let mut mem = Mem::default();
        let tramp = e.t.trampoline_address() as u32;
        let f = call(&e, &mut mem, F, 0x3000, CALLER, 0, 0);
        assert_eq!(f.lr, tramp);
        // f pops its frame and ends with `b g`: g starts at the same sp, lr = trampoline.
        let g = call(&e, &mut mem, G, 0x3000, f.lr, 0, 0);
        assert_eq!((g.lr, rg.hits()), (tramp, 1), "the tail call is followed");
        let first = ret(&e, g.lr, 0x3000, 5).unwrap();
        assert_eq!(
            first.pc, tramp,
            "g's instance returns to the trampoline again"
        );
        let second = ret(&e, first.pc, 0x3000, 5).unwrap();
        assert_eq!(second.pc, CALLER, "then f's instance returns to the caller");
        assert_eq!(*TAIL.lock().unwrap(), [2, 1]);
        assert_eq!((rf.outstanding(), rg.outstanding()), (0, 0));
    }

    fn count_only(_: &Kretprobe, _: &mut KretprobeInstance<'_>, _: &mut TrapFrame) {}

    #[test]
    fn an_empty_pool_counts_the_call_missed_and_leaves_it_unmodified() {
        let e = env();
        let rp = kretprobe::<2, 0>(None, count_only, 0);
        e.t.register(e.k, rp, F).unwrap();
        let mut mem = Mem::default();
        let tramp = e.t.trampoline_address() as u32;
        let outer = call(&e, &mut mem, F, 0x2000, CALLER, 0, 0);
        let middle = call(&e, &mut mem, F, 0x1ff0, CALLER + 4, 0, 0);
        let inner = call(&e, &mut mem, F, 0x1fe0, CALLER + 8, 0, 0);
        assert_eq!((outer.lr, middle.lr), (tramp, tramp));
        assert_eq!(inner.lr, CALLER + 8, "no instance: lr untouched");
        assert_eq!((rp.hits(), rp.missed(), rp.outstanding()), (2, 1, 2));
        assert!(ret(&e, inner.lr, 0x1fe0, 0).is_none());
        assert_eq!(ret(&e, middle.lr, 0x1ff0, 0).unwrap().pc, CALLER + 4);
        assert_eq!(ret(&e, outer.lr, 0x2000, 0).unwrap().pc, CALLER);
        // Instances are back: the next call is followed again.
        let again = call(&e, &mut mem, F, 0x2000, CALLER, 0, 0);
        assert_eq!((again.lr, rp.hits()), (tramp, 3));
        ret(&e, again.lr, 0x2000, 0);
    }

    fn decline_odd(_: &Kretprobe, c: &mut KretprobeInstance<'_>, f: &mut TrapFrame) -> OnEntry {
        c.data_mut()[0] = 0xaa;
        if f.r[0] % 2 == 1 {
            OnEntry::Decline
        } else {
            OnEntry::Track
        }
    }

    fn data_is_kept(_: &Kretprobe, c: &mut KretprobeInstance<'_>, _: &mut TrapFrame) {
        assert_eq!(c.data(), [0xaa, 0, 0], "3 bytes, as declared");
    }

    #[test]
    fn a_declined_call_runs_unmodified_frees_its_instance_and_is_not_missed() {
        let e = env();
        let rp = kretprobe::<1, 3>(Some(decline_odd), data_is_kept, 0);
        e.t.register(e.k, rp, F).unwrap();
        let mut mem = Mem::default();
        let odd = call(&e, &mut mem, F, 0x2000, CALLER, 1, 0);
        assert_eq!(odd.lr, CALLER);
        assert_eq!((rp.hits(), rp.missed(), rp.outstanding()), (0, 0, 0));
        let even = call(&e, &mut mem, F, 0x2000, CALLER, 2, 0);
        assert_eq!(
            even.lr,
            e.t.trampoline_address() as u32,
            "the one instance is free"
        );
        assert_eq!(ret(&e, even.lr, 0x2000, 0).unwrap().pc, CALLER);
        assert_eq!(rp.hits(), 1);
    }

    static HANDLED: AtomicU32 = AtomicU32::new(0);

    fn count_handled(_: &Kretprobe, _: &mut KretprobeInstance<'_>, _: &mut TrapFrame) {
        HANDLED.fetch_add(1, Ordering::Relaxed);
    }

    #[test]
    fn unregistering_with_calls_in_flight_returns_them_home_without_the_handler() {
        let e = env();
        let rp = kretprobe::<8, 0>(None, count_handled, 0);
        e.t.register(e.k, rp, F).unwrap();
        let mut mem = Mem::default();
        let calls: Vec<_> = (0..3u32)
            .map(|i| {
                let sp = 0x2000 - 16 * i;
                (
                    sp,
                    CALLER + 4 * i,
                    call(&e, &mut mem, F, sp, CALLER + 4 * i, 0, 0).lr,
                )
            })
            .collect();
        assert_eq!(e.t.unregister(e.k, rp), Ok(3), "three calls in flight");
        assert_eq!(e.p.word(F), PUSH_R4_LR, "entry breakpoint gone");
        assert_eq!(
            (rp.outstanding(), e.t.len()),
            (3, 1),
            "kept until they return"
        );
        assert_eq!(e.t.unregister(e.k, rp), Err(KretprobeError::NotRegistered));
        // Registered again while the old calls are in flight: a new call is followed and
        // handled, the old ones only go home.
        e.t.register(e.k, rp, F).unwrap();
        let new = call(&e, &mut mem, F, 0x1000, CALLER + 64, 0, 0);
        assert_eq!(ret(&e, new.lr, 0x1000, 0).unwrap().pc, CALLER + 64);
        assert_eq!(HANDLED.load(Ordering::Relaxed), 1);
        for (sp, caller, lr) in calls.into_iter().rev() {
            assert_eq!(ret(&e, lr, sp, 0).unwrap().pc, caller);
        }
        assert_eq!(
            HANDLED.load(Ordering::Relaxed),
            1,
            "old generation: no handler"
        );
        assert_eq!(rp.outstanding(), 0);
        assert_eq!(e.t.unregister(e.k, rp), Ok(0));
        assert_eq!(e.t.len(), 0, "nothing in flight: the table entry is free");
    }

    static REENTER: AtomicUsize = AtomicUsize::new(0);

    fn call_again(p: &Kretprobe, _: &mut KretprobeInstance<'_>, _: &mut TrapFrame) {
        // The return handler calls the probed function itself (while REENTER is set).
        let k = REENTER.load(Ordering::Relaxed) as *const Reg;
        if k.is_null() {
            return;
        }
        // SAFETY: REENTER holds 0 or the address of a leaked (so `'static`) `Reg`.
        let k = unsafe { &*k };
        let mut f = TrapFrame {
            sp: 0x1800,
            lr: CALLER,
            pc: F as u32,
            cpsr: 0x1f,
            ..Default::default()
        };
        assert_eq!(
            k.handle_undefined(&mut f, &mut Mem::default()),
            Trap::Handled
        );
        assert_eq!(f.lr, CALLER, "not followed: it would recurse without end");
        assert_eq!(p.missed(), 1);
    }

    #[test]
    fn a_call_from_a_return_handler_is_missed_but_calls_from_never_probe_code_are_followed() {
        let e = env();
        REENTER.store(e.k as *const Reg as usize, Ordering::Relaxed);
        let rp = kretprobe::<4, 0>(None, call_again, 0);
        e.t.register(e.k, rp, F).unwrap();
        let mut mem = Mem::default();
        let f = call(&e, &mut mem, F, 0x2000, CALLER, 0, 0);
        assert_eq!(ret(&e, f.lr, 0x2000, 0).unwrap().pc, CALLER);
        assert_eq!((rp.hits(), rp.missed()), (1, 1));
        // Never-probe code (e.g. a measuring loop) may call probed functions.
        let from_noprobe = call(&e, &mut mem, F, 0x2000, NOPROBE as u32 + 8, 0, 0);
        assert_eq!(from_noprobe.lr, e.t.trampoline_address() as u32);
        assert_eq!((rp.hits(), rp.missed(), rp.outstanding()), (2, 1, 1));
        REENTER.store(0, Ordering::Relaxed);
        assert_eq!(
            ret(&e, from_noprobe.lr, 0x2000, 0).unwrap().pc,
            NOPROBE as u32 + 8
        );
    }

    #[test]
    fn four_cores_calling_nested_functions_at_once_return_home_with_exact_counts() {
        let e = env();
        let (rf, rg) = (
            kretprobe::<12, 4>(Some(level_entry), count_only, 0),
            kretprobe::<12, 4>(Some(level_entry), count_only, 0),
        );
        e.t.register(e.k, rf, F).unwrap();
        e.t.register(e.k, rg, G).unwrap();
        const ROUNDS: u32 = 5_000;
        std::thread::scope(|s| {
            for cpu in 0..4u32 {
                let e = &e;
                s.spawn(move || {
                    FakePlatform::become_cpu(cpu as usize);
                    let mut mem = Mem::default();
                    // Each core has its own stack; f calls g calls f.
                    let top = 0x10_0000 * (cpu + 1);
                    for i in 0..ROUNDS {
                        let c = CALLER + cpu * 0x100 + (i % 16) * 4;
                        let a = call(e, &mut mem, F, top, c, i, 0);
                        let b = call(e, &mut mem, G, top - 16, c + 1, i, 0);
                        let d = call(e, &mut mem, F, top - 32, c + 2, i, 0);
                        assert_eq!(ret(e, d.lr, top - 32, i).unwrap().pc, c + 2);
                        assert_eq!(ret(e, b.lr, top - 16, i).unwrap().pc, c + 1);
                        assert_eq!(ret(e, a.lr, top, i).unwrap().pc, c);
                    }
                });
            }
        });
        assert_eq!(
            (rf.hits(), rg.hits()),
            (8 * ROUNDS as u64, 4 * ROUNDS as u64)
        );
        assert_eq!((rf.missed(), rg.missed()), (0, 0));
        assert_eq!((rf.outstanding(), rg.outstanding()), (0, 0));
    }

    #[test]
    #[should_panic(expected = "no call in flight entered with sp 0x00002000")]
    fn a_return_nobody_entered_panics_instead_of_branching_anywhere() {
        let e = env();
        let mut f = TrapFrame {
            sp: 0x2000,
            ..Default::default()
        };
        e.t.handle_return(&mut f);
    }

    #[test]
    fn every_registration_error_leaves_probe_table_and_text_unchanged() {
        let e = env();
        let rp = kretprobe::<2, 0>(None, count_only, 0);
        let before: Vec<u32> = (0..128).map(|i| e.p.word(TEXT + 4 * i)).collect();
        assert_eq!(
            e.t.register(e.k, rp, F + 2),
            Err(KretprobeError::Kprobe(KprobeError::Misaligned {
                addr: F + 2
            }))
        );
        assert_eq!(
            e.t.register(e.k, rp, NOPROBE),
            Err(KretprobeError::Kprobe(KprobeError::NeverProbe {
                addr: NOPROBE,
                range: (NOPROBE, NOPROBE + 16)
            }))
        );
        e.p.set_word(TEXT + 32, 0xe190_0f9f); // ldrex r0, [r0]
        assert_eq!(
            e.t.register(e.k, rp, TEXT + 32),
            Err(KretprobeError::Kprobe(KprobeError::Rejected {
                addr: TEXT + 32,
                word: 0xe190_0f9f,
                reason: RejectReason::Exclusive
            }))
        );
        e.p.set_word(TEXT + 32, before[8]);
        // With IRQs masked (from a handler): refused before any lock is taken.
        let irq = e.p.mask_interrupts();
        let masked = KretprobeError::Kprobe(KprobeError::InterruptsMasked { cpu: 0 });
        assert_eq!(e.t.register(e.k, rp, F), Err(masked));
        assert_eq!(e.t.unregister(e.k, rp), Err(masked));
        e.p.restore_interrupts(irq);
        assert_eq!((rp.is_registered(), e.t.len(), rp.hits()), (false, 0, 0));
        assert_eq!(e.t.unregister(e.k, rp), Err(KretprobeError::NotRegistered));
        e.t.register(e.k, rp, F).unwrap();
        assert_eq!(
            e.t.register(e.k, rp, G),
            Err(KretprobeError::AlreadyRegistered { addr: F })
        );
        // A second table: the probe belongs to the first.
        let other: &'static Kretprobes = Box::leak(Box::new(Kretprobes::new(e.p)));
        assert_eq!(other.unregister(e.k, rp), Err(KretprobeError::OtherTable));
        e.t.unregister(e.k, rp).unwrap();
        assert_eq!(other.register(e.k, rp, G), Err(KretprobeError::OtherTable));
        assert_eq!(other.len(), 0);
        // A full table.
        for i in 0..MAX_KRETPROBES {
            let p = kretprobe::<1, 0>(None, count_only, i);
            e.t.register(e.k, p, TEXT + 64 + 4 * (i % 8))
                .unwrap_or_else(|err| {
                    // The kprobe registry (8 addresses, 8 probes each) holds them all.
                    panic!("probe {i}: {err}")
                });
        }
        assert_eq!(e.t.register(e.k, rp, F), Err(KretprobeError::TableFull));
        assert_eq!((rp.is_registered(), e.t.len()), (false, MAX_KRETPROBES));
        let after: Vec<u32> = (0..8).map(|i| e.p.word(TEXT + 4 * i)).collect();
        assert_eq!(after, before[..8], "F and G untouched");
    }

    #[test]
    fn private_data_has_the_declared_size_and_8_byte_alignment() {
        let rp = kretprobe::<3, 5>(None, count_only, 0);
        let empty = kretprobe::<3, 0>(None, count_only, 0);
        assert_eq!(
            (rp.capacity(), rp.private_size, rp.private_stride),
            (3, 5, 8)
        );
        assert_eq!((empty.private_size, empty.private_stride), (0, 0));
        for i in 0..3 {
            assert_eq!(rp.claim(), Some(i));
            // SAFETY: instance i was just claimed by this thread.
            let mut c = unsafe { rp.instance(i) };
            assert_eq!(c.data_mut().len(), 5);
            assert!((c.data().as_ptr() as usize).is_multiple_of(8));
        }
        assert_eq!(rp.claim(), None, "the pool holds exactly 3");
    }

    #[test]
    fn kretprobe_errors_read_as_sentences() {
        let all = [
            KretprobeError::Kprobe(KprobeError::OutOfSites),
            KretprobeError::AlreadyRegistered { addr: 4 },
            KretprobeError::NotRegistered,
            KretprobeError::OtherTable,
            KretprobeError::TableFull,
            KretprobeError::ReturnPathTaken,
        ];
        let texts: Vec<_> = all.iter().map(|e| e.to_string()).collect();
        for (i, t) in texts.iter().enumerate() {
            assert!(!t.is_empty() && !texts[..i].contains(t), "{t}");
        }
    }
}
