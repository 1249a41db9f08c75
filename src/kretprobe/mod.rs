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
//! replaces `lr` with the address of the instance's own return stub (ARM: one `bl` into
//! the stub trampoline, for the first 32 instances of every probe's pool) or of the
//! shared return trampoline (`global_asm!` in `arch::kretprobe`, ARM only, in
//! `.text.noprobe`, never probeable). When the function returns, the trampoline saves a
//! [`TrapFrame`] on an 8-byte aligned stack and calls the return path, which takes the
//! instance its stub names (a stub's return needs no search) or finds it by stack
//! pointer ([`Kretprobes::handle_return`]), runs the return handler with interrupts
//! masked, frees the instance and hands the trampoline the real return address, to which
//! it branches (`bx` semantics, so Thumb callers work) with r0–r11, `lr` and the flags as
//! the return handler left them (r12, which the AAPCS lets any call clobber, carries the
//! return address).
//!
//! # Why the stack pointer identifies a call
//! (For the calls that return through the shared trampoline: instances without a stub,
//! and every call on the host. A call with a stub is identified by it, and checked to
//! return with the sp it entered with; a stubbed instance carries no stamp, and the
//! stamps of the others start at 1, so it never outranks one in the search.)
//!
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
//! The entry of a followed call counts nothing itself: [`Kretprobe::hits`] is the entry
//! probe's own hit count (every run of the entry hook) minus the runs that did not follow
//! the call, which the hook counts on those rarer paths.
//!
//! The return path calls [`Platform::cpu_id`] (and, through
//! [`Kretprobes::handle_return`] off ARM, [`Platform::mask_interrupts`] and
//! [`Platform::restore_interrupts`]; the ARM trampoline masks with `cpsid`) before it
//! knows which core it is on. Keep those in
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
use crate::kprobe::{Kprobe, KprobeError, Kprobes, ProbeState, SymbolLookup};
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
/// call returns to. Changes to r0–r11, `lr`, `pc` (where the call returns to) and the
/// condition flags of `cpsr` take effect; changes to `sp` and to the rest of `cpsr` do not.
/// r12 is the AAPCS's intra-procedure scratch register, which no caller expects kept
/// across a call: on ARM the trampoline uses it, so `frame.r[12]` holds the stack
/// pointer and the caller gets the return address in r12 whatever the handler writes.
pub type ReturnHandler =
    fn(probe: &Kretprobe, call: &mut KretprobeInstance<'_>, frame: &mut TrapFrame);

/// One call in flight, as the handlers see it.
pub struct KretprobeInstance<'a> {
    probe: &'a Kretprobe,
    /// The instance's index in its pool (below the pool's size).
    i: usize,
}

impl KretprobeInstance<'_> {
    /// The call's private data: as many bytes as the pool was declared with, 8-byte
    /// aligned, zeroed at entry and kept from the entry handler to the return handler.
    pub fn data(&self) -> &[u8] {
        // SAFETY: see `data_ptr`; shared for as long as `self` is borrowed, and the only
        // other access to these bytes is `data_mut`, which needs `self` exclusively.
        unsafe { core::slice::from_raw_parts(self.data_ptr(), self.probe.private_size) }
    }

    /// The call's private data, to fill in.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: see `data_ptr`; exclusive for as long as `self` is borrowed mutably
        // (this view is the only one of its instance, by `Kretprobe::instance`'s contract).
        unsafe { core::slice::from_raw_parts_mut(self.data_ptr(), self.probe.private_size) }
    }

    /// The start of the instance's private data. Valid for `private_size` bytes: `i`
    /// is below the pool's size N (the view is made only for a claimed instance), so the
    /// range lies inside the pool's `data` array (stride = size_of::<PrivateData<D>>(), D
    /// = private_size bytes at its start); the pool is `'static` and its bytes are in
    /// UnsafeCells; the core holding this view owns instance i, so no other core
    /// touches the bytes until it gives the instance back.
    fn data_ptr(&self) -> *mut u8 {
        self.probe
            .private
            .wrapping_add(self.i * self.probe.private_stride)
    }

    /// Where the call returns to (the caller's `lr` at entry; bit 0 set for a Thumb
    /// caller).
    pub fn return_address(&self) -> u32 {
        self.probe.slots[self.i]
            .return_address
            .load(Ordering::Relaxed)
    }

    /// The stack pointer at entry, which is also the stack pointer at return.
    pub fn entry_sp(&self) -> u32 {
        self.probe.slots[self.i].entry_sp.load(Ordering::Relaxed)
    }
}

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
    /// Whether the entry has anything to do with the instance's view: an entry handler
    /// to run or private data to zero.
    entry_uses_instance: bool,
    /// The table it is registered with (its header: see `TableHeader`), or `NO_TABLE`'s
    /// header before its first registration.
    table: AtomicPtr<TableHeader>,
    /// The address of the return stub of its instance 0 (instance i's is 4 i bytes on,
    /// for the first 32 instances), or 0: no stubs (the host).
    stubs: AtomicUsize,
    /// The generation of the current registration while registered, 0 while not: an
    /// instance whose recorded generation equals it belongs to the current registration.
    live: AtomicU32,
    /// The last generation given out (never 0).
    generation: AtomicU32,
    /// Entries not followed since the last registration: the entry hook's runs (each
    /// one counted in the entry probe's own `hits` first) that did not follow the call.
    /// The calls followed are the difference, so the entry of a followed call counts
    /// nothing here.
    unfollowed: AtomicU64,
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
        // The entry takes instance 0 without looking at the pool's size.
        const { assert!(N > 0, "a return probe's pool holds at least one instance") };
        Kretprobe {
            kprobe: Kprobe::new(Some(entry_hook), None, data),
            entry,
            ret,
            data,
            slots: &pool.slots,
            private: pool.data.as_ptr() as *mut u8,
            private_size: D,
            private_stride: core::mem::size_of::<PrivateData<D>>(),
            entry_uses_instance: entry.is_some() || D != 0,
            table: AtomicPtr::new(return_path::no_table()),
            stubs: AtomicUsize::new(0),
            live: AtomicU32::new(0),
            generation: AtomicU32::new(0),
            unfollowed: AtomicU64::new(0),
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
        self.live.load(Ordering::Acquire) != 0
    }

    /// Registered and following calls, registered but disabled ([`Kretprobes::disable`]),
    /// or not registered: the state of its entry probe.
    pub fn state(&self) -> ProbeState {
        if self.is_registered() {
            self.kprobe.state()
        } else {
            ProbeState::Unregistered
        }
    }

    /// Calls followed (an instance taken and the entry handler said
    /// [`OnEntry::Track`]) since the last registration.
    pub fn hits(&self) -> u64 {
        // The entry probe counts a hit before its handler (the entry hook) runs, and the
        // hook counts an entry it does not follow with a Release increment after that:
        // read in this order, the difference never goes below zero. (Wrapping: after a
        // failed registration `register` sets `unfollowed` so that the difference is the
        // count from before.)
        let unfollowed = self.unfollowed.load(Ordering::Acquire);
        self.kprobe.hits().wrapping_sub(unfollowed)
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
    /// ACTIVE to RETURNING, or is returning it through its stub, and has not given it
    /// back), and hold at most one view of it.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(always)]
    unsafe fn instance(&self, i: usize) -> KretprobeInstance<'_> {
        debug_assert!(i < self.slots.len());
        KretprobeInstance { probe: self, i }
    }

    /// Takes a free instance, if any (first fit).
    #[cfg(test)]
    fn claim(&self) -> Option<usize> {
        self.slots.iter().position(InstanceSlot::take)
    }
}

/// The part of a table the hit paths reach without knowing its platform type: the first
/// field of every [`Kretprobes`] (`repr(C)`), its entry and return sides monomorphized for
/// its platform (so `cpu_id` is inlined where the platform is a concrete type).
#[repr(C)]
pub(crate) struct TableHeader {
    /// [`Kretprobes::enter`] of the table this header begins.
    /// (Arguments in the entry hook's order, so it passes them on as they came.)
    pub(crate) enter: unsafe fn(&'static Kretprobe, &mut TrapFrame, *const TableHeader),
    /// [`Kretprobes::handle_stub_return`] of the table this header begins.
    /// (Called by the stub trampoline: `extern "C"`.)
    #[cfg(target_arch = "arm")]
    pub(crate) stub_return: unsafe extern "C" fn(*const TableHeader, usize, &mut TrapFrame),
    /// [`Kretprobes::handle_return_masked`] of the table this header begins.
    #[cfg(target_arch = "arm")]
    pub(crate) shared_return: unsafe fn(*const TableHeader, &mut TrapFrame),
}

/// The return probes of one kernel: the table the return path searches, the stamp
/// counter that orders calls, and which cores are running a return handler. A `static`
/// the user owns, like [`Kprobes`].
///
/// `P` is the platform: `Kretprobes` alone is `Kretprobes<dyn Platform>`, which reaches
/// [`Platform::cpu_id`] through a vtable on every hit; naming the platform's type
/// (`Kretprobes<MyPlatform>`) lets the hit paths inline it.
#[repr(C)]
pub struct Kretprobes<P: Platform + ?Sized + 'static = dyn Platform> {
    /// First: the hit paths find the typed functions here (see `TableHeader`).
    header: TableHeader,
    platform: &'static P,
    /// Serializes registering and unregistering (the table itself is lock-free).
    lock: SpinLock<()>,
    probes: [AtomicPtr<Kretprobe>; MAX_KRETPROBES],
    /// Table entries at or above this index have never been used.
    used: AtomicUsize,
    stamp: AtomicU64,
    in_return_handler: [AtomicBool; MAX_CPUS],
}

impl<P: Platform + ?Sized + 'static> Kretprobes<P> {
    /// An empty table on `platform`.
    pub const fn new(platform: &'static P) -> Kretprobes<P> {
        Kretprobes {
            header: TableHeader {
                enter: Self::enter_erased,
                #[cfg(target_arch = "arm")]
                stub_return: Self::stub_return_erased,
                #[cfg(target_arch = "arm")]
                shared_return: Self::shared_return_erased,
            },
            platform,
            lock: SpinLock::new(()),
            probes: [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_KRETPROBES],
            used: AtomicUsize::new(0),
            stamp: AtomicU64::new(0),
            in_return_handler: [const { AtomicBool::new(false) }; MAX_CPUS],
        }
    }

    /// This table as the hit paths see it (a pointer to its header, valid for the whole
    /// table).
    pub(crate) fn header(&self) -> *mut TableHeader {
        core::ptr::from_ref(self).cast_mut().cast()
    }

    /// The table whose header `header` is.
    ///
    /// # Safety
    /// `header` must come from [`Kretprobes::header`] of a `'static` `Kretprobes<P>` (this
    /// `P`): the header functions of a `Kretprobes<P>` are this `impl`'s, and only they
    /// call this.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(always)]
    unsafe fn from_header(header: *const TableHeader) -> &'static Kretprobes<P> {
        // SAFETY: by the contract, `header` points at the first field of a `repr(C)`
        // `'static` Kretprobes<P>, so at the table itself, with provenance over all of it
        // (made from a reference to the whole table).
        unsafe { &*header.cast::<Kretprobes<P>>() }
    }

    /// [`Kretprobes::enter`] through the header.
    ///
    /// # Safety
    /// As [`Kretprobes::from_header`].
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    unsafe fn enter_erased(
        probe: &'static Kretprobe,
        frame: &mut TrapFrame,
        header: *const TableHeader,
    ) {
        // SAFETY: forwarded contract.
        unsafe { Self::from_header(header) }.enter(probe, frame);
    }

    /// [`Kretprobes::handle_stub_return`] through the header.
    ///
    /// # Safety
    /// As [`Kretprobes::from_header`].
    #[cfg(target_arch = "arm")]
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    unsafe extern "C" fn stub_return_erased(
        header: *const TableHeader,
        stub: usize,
        frame: &mut TrapFrame,
    ) {
        // SAFETY: forwarded contract.
        unsafe { Self::from_header(header) }.handle_stub_return(stub, frame);
    }

    /// [`Kretprobes::handle_return_masked`] through the header.
    ///
    /// # Safety
    /// As [`Kretprobes::from_header`].
    #[cfg(target_arch = "arm")]
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    unsafe fn shared_return_erased(header: *const TableHeader, frame: &mut TrapFrame) {
        // SAFETY: forwarded contract.
        unsafe { Self::from_header(header) }.handle_return_masked(frame);
    }

    /// The address a followed call without a return stub returns to instead of its
    /// caller (on ARM the first 32 instances of every pool have their own stubs).
    pub fn trampoline_address(&self) -> usize {
        trampoline()
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
}

mod error;
mod pool;
mod return_path;
mod table;

pub use error::KretprobeError;
pub use pool::KretprobePool;
use pool::{ACTIVE, FREE, InstanceSlot, PrivateData, RETURNING};
#[cfg(not(target_arch = "arm"))]
pub use return_path::HOST_TRAMPOLINE;
#[cfg(target_arch = "arm")]
pub(crate) use return_path::RETURN_PATH;
use return_path::{entry_hook, trampoline};

#[cfg(test)]
mod tests;
