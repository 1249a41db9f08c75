//! Kernel probes: put a handler on (almost) any A32 or Thumb instruction of the kernel,
//! on every core, and have the instruction behave afterwards exactly as if it ran in
//! place — first as a breakpoint, then, once optimized, as a branch to a trampoline.
//!
//! # Using it
//!
//! ```text
//! static RENDEZVOUS: Rendezvous<ArmCacheOps> = Rendezvous::new(ArmCacheOps);
//! static KPROBES: Kprobes<QemuPlatform, ArmCacheOps, 1024> = Kprobes::new(&PLATFORM, &RENDEZVOUS);
//! static MY_PROBE: Kprobe = Kprobe::new(Some(on_entry), None, 0);
//!
//! fn on_entry(probe: &Kprobe, frame: &mut TrapFrame) { /* frame.r[0] is the first argument */ }
//!
//! KPROBES.register(&MY_PROBE, target as usize)?;   // armed on every core
//! // undefined-instruction handler:
//! match KPROBES.handle_undefined(frame, &mut DirectMemory) { Trap::NotOurs => report(), _ => {} }
//! KPROBES.unregister(&MY_PROBE)?;                  // original word back, byte for byte
//! ```
//!
//! A [`Kprobe`] is a `static` the user owns; registering it makes the crate point at it,
//! so it can be registered at one address at a time, and every misuse — registering it
//! twice, unregistering it when it is not registered — is an error value.
//!
//! # How a hit works
//! The probed word holds the breakpoint ([`BreakpointWord`], with the original's
//! condition). The kernel's undefined-instruction handler calls
//! [`Kprobes::handle_undefined`], which finds the probe site by pc in a hash table (the
//! cost of a hit does not grow with the number of probes), checks the original's
//! condition (a failing condition skips the instruction, no handler runs), runs the pre
//! handlers in registration order, single-steps the original with the step engine
//! (unless a pre handler moved `pc`: then execution goes where it says), runs the post
//! handlers, and returns into the frame. A hit while this CPU is already inside a handler
//! counts as `missed` for each probe there and is stepped without handlers.
//!
//! The common site — one enabled probe — takes a fast path: the site keeps a pointer to
//! that probe (rewritten under the registry lock whenever its list or a probe's state
//! changes, before the rendezvous that makes the change take effect), so a hit skips the
//! list snapshot and the enabled filter; every other site takes the general path. The
//! original's operands are decoded once at registration into a [`step::Plan`]: an
//! unconditional data-processing instruction without PC operands runs straight on the
//! frame, everything else through the step engine.
//!
//! # Thumb probes
//! An address with bit 0 set names a Thumb instruction (a Thumb function's symbol has
//! it): its halfwords get the Thumb breakpoint of their size, the trap in Thumb state
//! takes the general path and steps it with the T16/T32 engines, honouring IT blocks —
//! see `thumb` (this module's file `thumb.rs`). A 32-bit Thumb instruction outside any
//! IT block is optimized too: `b.w` (or `b<c>.w` over a conditional branch) to the
//! slot's Thumb entry. A 16-bit one ([`NotOptimized::ThumbNarrow`]) or one that may lie
//! in an IT block ([`NotOptimized::MaybeInItBlock`]) stays a breakpoint.
//!
//! # Optimized probes
//! Every registered address is a candidate. [`Kprobes::optimize_pending`] gives each
//! candidate a slot with a filled copy of the [`crate::optprobe`] trampoline and then,
//! in one rendezvous, turns all their breakpoints into `b<cond> slot`. The trampoline
//! calls back into the same hit path as the trap ([`Kprobes::handle_undefined`]), with
//! interrupts masked and the same frame. Disabling or unregistering the last enabled
//! probe puts the original back in one rendezvous; the slot (and the site its
//! trampoline names) is freed only after a rendezvous that saw no CPU inside it (see
//! [`crate::optprobe`], "When a slot may be reused"), which the kernel makes possible
//! by passing the interrupted pc to
//! [`Rendezvous::ipi_entry_at`](crate::stop_machine::Rendezvous::ipi_entry_at).
//! The registry owns the optimize/unoptimize transitions and the callback (they are
//! registry state under its lock); `optprobe` owns the template and which instructions
//! may run in it.
//!
//! # Safety across CPUs
//! Arming and disarming write text only through [`TextPatcher`] in a rendezvous. A
//! site's probe list is read lock-free under a sequence counter, so registering a second
//! probe at an armed address stops no one. Every operation that stops a probe from
//! firing (unregister, disable) ends with a rendezvous — a real one when text changes,
//! an empty one otherwise — and handlers run with interrupts masked, so when it returns
//! no CPU is still inside that probe's handlers and none will enter them again. Sites
//! leave the lookup table only after their breakpoint is gone from text.
//!
//! # Stack
//! No function of the crate keeps more than 1 KiB of stack frame of its own (the slot
//! allocator and every per-site table live in the registry's `static`, configured in
//! place, never moved through a stack). Measured on the test kernel with 16 KiB stacks
//! (`kernel/src/tests/safety_slots.rs`, which checks each against a 1,536-byte budget),
//! the deepest stack below the caller's SP: `register` 768 bytes, `optimize_pending` of
//! 1,000 candidates 1,056, `unregister` of an optimized probe 840 (each including the
//! rendezvous it runs); a breakpoint hit 456 below the probed code's SP (the test
//! kernel's trap entry leaves 256 bytes, then the frame, then this hit path), an
//! optimized hit 384 (direct) or 504 (stepped), a call through a kretprobe 504 — all
//! with empty handlers: add what yours use.

use crate::cache::CacheOps;
use crate::decode::{self, Decoded, RejectReason, StackUse};
use crate::frame::TrapFrame;
use crate::hex::Hex;
use crate::insn::{Branch, BranchKind, BreakpointWord, Insn};
use crate::optprobe::{self, Fill, NEVER_RUN, Template, Variant};
use crate::patch::{PatchError, TextPatcher, WordSource};
use crate::platform::{CpuIndexSource, MAX_CPUS, Platform};
use crate::slots::{Slot, SlotAllocator, SlotCounts, SlotError};
use crate::spin_lock::{LockRefused, SpinLock, SpinLockGuard};
use crate::step::{self, Memory, Plan, StepError};
use crate::stop_machine::{Rendezvous, RendezvousError, RunOn};
use core::cell::UnsafeCell;
use core::fmt;
use core::ops::Range;
use core::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

/// A pre or post handler: the probe that fired and the interrupted CPU's registers,
/// which it may change (a pre handler that changes `pc` redirects execution and the
/// original instruction is not stepped).
///
/// # Handler context
///
/// A handler runs on the CPU that hit the probe, as an atomic section: **IRQ and FIQ
/// masked**, on both paths (breakpoint and optimized), on the trap's stack or on the
/// interrupted stack below the frame. So a handler
///
/// - may read and change the frame, count, record into per-CPU or lock-free buffers,
///   and call probed functions (those hits count as `missed` and are not handled);
/// - must not wait for another CPU: no spin lock another CPU may hold with IRQs
///   enabled, no heap allocator or console that locks, no IPI it waits on — that CPU
///   may be parked in a rendezvous waiting for this one;
/// - cannot change probes: every registry and return-probe call from a handler returns
///   [`KprobeError::InterruptsMasked`] at once, always (never a hang).
pub type Handler = fn(probe: &Kprobe, frame: &mut TrapFrame);

/// Most probes one address can carry.
pub const PROBES_PER_ADDRESS: usize = 8;

/// Most instruction slots a registry carves from the platform's slot region (each the
/// size of the optimized-probe trampoline).
pub const MAX_SLOTS: usize = 4096;

/// Longest trampoline template a registry copies, in words.
const MAX_TEMPLATE_WORDS: usize = 64;

// Defined beside the trampoline's stack gap, which must exceed it.
pub use crate::optprobe::MAX_STACK_WRITE_BELOW_SP;

const UNREGISTERED: u32 = 0;
const ENABLED: u32 = 1;
const DISABLED: u32 = 2;

/// A kernel probe: handlers and a cookie, owned by the user as a `static`.
///
/// `repr(C)` with `hits` first: an optimized probe's trampoline counts a hit with
/// `ldrexd`/`strexd` on the probe's own address.
#[repr(C)]
pub struct Kprobe {
    hits: AtomicU64,
    missed: AtomicU64,
    pre: Option<Handler>,
    post: Option<Handler>,
    data: usize,
    state: AtomicU32,
    addr: AtomicUsize,
}

const _: () = assert!(core::mem::offset_of!(Kprobe, hits) == 0);

impl Kprobe {
    /// A probe with these handlers and `data` (any value the handlers want to see).
    pub const fn new(pre: Option<Handler>, post: Option<Handler>, data: usize) -> Kprobe {
        Kprobe {
            hits: AtomicU64::new(0),
            missed: AtomicU64::new(0),
            pre,
            post,
            data,
            state: AtomicU32::new(UNREGISTERED),
            addr: AtomicUsize::new(0),
        }
    }

    /// The value given to [`Kprobe::new`].
    pub fn data(&self) -> usize {
        self.data
    }

    /// Where the probe is registered.
    pub fn addr(&self) -> Option<usize> {
        (self.state.load(Ordering::Acquire) != UNREGISTERED)
            .then(|| self.addr.load(Ordering::Relaxed))
    }

    /// Hits with handlers run since registration.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Hits while a handler was already running on the same CPU (stepped, no handler).
    pub fn missed(&self) -> u64 {
        self.missed.load(Ordering::Relaxed)
    }

    /// The probe's state.
    pub fn state(&self) -> ProbeState {
        match self.state.load(Ordering::Acquire) {
            ENABLED => ProbeState::Enabled,
            DISABLED => ProbeState::Disabled,
            _ => ProbeState::Unregistered,
        }
    }

    /// Relaxed: a probe's handlers and data never change, and every change of state is
    /// followed by a rendezvous before the registry relies on it.
    #[inline(always)]
    fn enabled(&self) -> bool {
        self.state.load(Ordering::Relaxed) == ENABLED
    }
}

/// Where a probe is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeState {
    /// Not registered anywhere.
    Unregistered,
    /// Registered and firing.
    Enabled,
    /// Registered, not firing (its breakpoint is gone unless another probe at the same
    /// address is enabled).
    Disabled,
}

/// One line of [`Kprobes::list`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeInfo {
    /// The probed address.
    pub addr: usize,
    /// Enabled or disabled.
    pub state: ProbeState,
    /// Hits with handlers.
    pub hits: u64,
    /// Hits without handlers (reentrant).
    pub missed: u64,
    /// The probe's data cookie.
    pub data: usize,
    /// How its address is probed in text (shared by every probe at the address).
    pub mechanism: Mechanism,
}

/// How a probed address is implemented in text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    /// A breakpoint, waiting to be optimized by [`Kprobes::optimize_pending`].
    Breakpoint,
    /// A breakpoint that stays one: optimizing it was tried and is not possible.
    NotOptimized(NotOptimized),
    /// `b<cond>` to a trampoline, which runs the original itself
    /// ([`Variant::Direct`], when no enabled probe there has a post handler) or returns
    /// to where the step left `pc`.
    Optimized(Variant),
    /// Nothing: every probe at the address is disabled and the original is in text.
    Disarmed,
}

/// Why a probed address stays a breakpoint probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotOptimized {
    /// No free slot lies within branch range (both ways) of the address.
    OutOfRange,
    /// Every slot is in use or waiting for a quiescent point (retried by the next
    /// [`Kprobes::optimize_pending`]).
    NoSlot,
    /// The platform's slot region cannot hold a trampoline.
    SlotRegion(SlotError),
    /// A 16-bit Thumb instruction: the 32-bit `b.w` to a trampoline does not fit over it.
    ThumbNarrow,
    /// A Thumb instruction that may lie in an IT block: one of the seven halfwords
    /// before it looks like an IT instruction whose block could reach it. A branch
    /// there would run under the block's condition or be UNPREDICTABLE, and a Thumb
    /// stream cannot be decoded backwards for certain, so any such halfword (even
    /// data, or the second half of another instruction) keeps it a breakpoint, which
    /// handles IT blocks exactly.
    MaybeInItBlock,
}

impl fmt::Display for NotOptimized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotOptimized::OutOfRange => {
                write!(f, "no instruction slot within branch range of the address")
            }
            NotOptimized::NoSlot => write!(f, "no free instruction slot"),
            NotOptimized::SlotRegion(e) => write!(f, "slot region unusable: {e}"),
            NotOptimized::ThumbNarrow => {
                write!(
                    f,
                    "a 16-bit Thumb instruction (a 32-bit branch does not fit)"
                )
            }
            NotOptimized::MaybeInItBlock => write!(
                f,
                "a Thumb instruction that may be in an IT block (an IT-like halfword \
                 within the 14 bytes before it)"
            ),
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mechanism::Breakpoint => write!(f, "breakpoint (optimization pending)"),
            Mechanism::NotOptimized(why) => write!(f, "breakpoint (not optimized: {why})"),
            Mechanism::Optimized(Variant::Direct) => write!(f, "optimized (direct execution)"),
            Mechanism::Optimized(Variant::StepOnly) => write!(f, "optimized (stepped)"),
            Mechanism::Disarmed => write!(f, "disarmed"),
        }
    }
}

/// What one [`Kprobes::optimize_pending`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OptimizeReport {
    /// Addresses whose breakpoint became a branch to a trampoline.
    pub optimized: usize,
    /// Candidates that stay breakpoints (the listing says why).
    pub not_optimized: usize,
    /// Rendezvous it ran: 1 when anything was optimized, else 0.
    pub rendezvous: usize,
}

/// What [`Kprobes::handle_undefined`] did with a trap.
///
/// `repr(u8)`: an explicit tag, so a kernel's `match` on the result is one compare (a
/// tag packed into the error's niche costs several on every hit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Trap {
    /// A probe hit: handlers ran (or the condition failed, or it was reentrant) and the
    /// frame says where to resume.
    Handled,
    /// No probe here and the word is no longer a breakpoint (another CPU just removed
    /// it): resume at the same pc, which now runs the restored instruction.
    Retry,
    /// Not a probe: the kernel's own undefined instruction, to report as usual.
    NotOurs,
    /// A probe hit whose original instruction could not be stepped (e.g. LDRD at a
    /// misaligned address, which natively faults). Handlers ran; the frame is at the
    /// probe.
    StepFailed(StepError),
}

/// A source of symbols for [`Kprobes::register_symbol`].
pub trait SymbolLookup {
    /// The address range of the function called `name`: from its ELF symbol value (bit
    /// 0 set for a Thumb function) for its size in bytes.
    fn lookup(&self, name: &str) -> Option<Range<usize>>;
}

/// One probed address: the original instruction and the probes on it.
struct Site {
    /// Probed address, 0 when the site is free.
    addr: AtomicUsize,
    /// The word the breakpoint replaced.
    original: AtomicU32,
    /// Even when the probe list is stable, odd while it is being rewritten.
    seq: AtomicU32,
    probes: [AtomicPtr<Kprobe>; PROBES_PER_ADDRESS],
    /// 1 + the index of the last non-null entry of `probes` (written with the list).
    len: AtomicU32,
    /// The fast path's probe: the list's only probe when it is enabled and the original's
    /// condition always passes (AL or the unconditional space), else null. Rewritten
    /// (registry lock) after every change of the list or
    /// of a listed probe's state, before the rendezvous or return that makes the change
    /// take effect; a hit that reads it non-null runs exactly that probe, as the general
    /// path would for a one-probe list.
    fast: AtomicPtr<Kprobe>,
    /// The list's only enabled probe when it has a pre handler and no post handler,
    /// whatever the original's condition (a direct slot's fast
    /// path, which the trampoline itself runs when the platform has a
    /// [`CpuIndexSource`](crate::CpuIndexSource)), else null.
    fast_pre_only: AtomicPtr<Kprobe>,
    /// The executable address of the `fast` literal of the slot whose trampoline runs
    /// this site's fast path itself, 0 when none (registry lock): the registry keeps
    /// that word equal to `fast_pre_only` ([`Kprobes::refresh_fast`]).
    fast_slot: AtomicUsize,
    /// The original's operands, decoded once for the hit path (written before the site
    /// is published; A32 sites only).
    plan: UnsafeCell<Plan>,
    /// A Thumb site's decode outside an IT block (written before the site is
    /// published). Read only for a Thumb site (bit 0 of `addr`), which always writes
    /// it: an A32 site may leave a stale value from an earlier use of the slot.
    thumb: UnsafeCell<Option<thumb::ThumbKind>>,
    /// Whether the probe is in text, as breakpoint or branch (registry lock only).
    armed: AtomicBool,
    /// Whether a trampoline may run the original itself ([`Variant::Direct`]); written
    /// before the site is published.
    direct: AtomicBool,
    /// While a batch is being optimized: the next site in it (index + 1, 0 ends it) and
    /// the branch word to write here (registry lock; read by the batch's rendezvous).
    batch_next: AtomicU32,
    batch_word: AtomicU32,
}

/// Where a site is on the way to an optimized probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Opt {
    /// A breakpoint (when armed) that the next optimize pass tries.
    Candidate,
    /// A breakpoint that stays one.
    Failed(NotOptimized),
    /// A branch to this slot (when armed).
    Optimized(Slot, Variant),
    /// Unregistered (out of the lookup table, no probes), but a dirty slot still names
    /// it: a CPU may yet run that trampoline, which calls the callback with this site,
    /// so it keeps describing its address until the last such slot is free.
    Retired,
}

/// The registry: up to `N / 2` probed addresses (the lookup table has `N` entries and
/// stays at most half full, so a lookup probes about two entries).
///
/// `repr(C)`, small fields first: the hit path's per-CPU arrays lie within an
/// immediate offset of the registry's address, one instruction fewer per access than
/// behind the site and lock tables, where the compiler put them.
#[repr(C)]
pub struct Kprobes<P: Platform + 'static, C: CacheOps + 'static, const N: usize> {
    platform: &'static P,
    rendezvous: &'static Rendezvous<C>,
    live: AtomicU32,
    /// Per CPU: inside a hit's handlers when non-zero (the trampoline's fast path stores
    /// the low byte of the entry CPSR, never zero: its mode bits).
    running: [AtomicU8; MAX_CPUS],
    /// Per CPU: the frame of the step in progress, for `fixup_fault`.
    stepping: fault::Stepping,
    sites: [Site; N],
    /// Open addressing by address: a pointer to one of `sites`, or EMPTY (null) /
    /// TOMBSTONE (which no site's address can be). A pointer, not an index: a trap finds
    /// its site without the index arithmetic.
    table: [AtomicPtr<Site>; N],
    /// The bookkeeping only thread-context calls touch, owned by the registry lock.
    locked: SpinLock<Locked<N>>,
}

/// What the registry lock guards: state no hit path reads.
struct Locked<const N: usize> {
    /// Per site (same index as `Kprobes::sites`): where it is on the way to an
    /// optimized probe.
    opt: [Opt; N],
    /// The instruction slots.
    slots: Slots,
    /// No site below this index is free.
    first_free_site: usize,
    /// 1 + the highest site index in use.
    sites_in_use: usize,
    /// Per site: how many dirty slots name it (their trampolines call the callback
    /// with it). A site is free again only when this is 0.
    pins: [u16; N],
    /// Whether a Thumb site was ever registered: until then a new A32 site cannot
    /// overlap one, and registering it skips that check.
    any_thumb: bool,
}

/// The registry lock held: the guard derefs to what it protects.
type Guard<'a, const N: usize> = SpinLockGuard<'a, Locked<N>>;

/// The registry's slot allocator, made on first use from the platform's region.
struct Slots {
    /// Lives here, in the registry's `static`, and is configured in place on first use
    /// (`made`): it is MAX_SLOTS * 12 bytes, far too big for any stack.
    alloc: SlotAllocator<MAX_SLOTS>,
    /// Whether `alloc` has been configured from the platform's region.
    made: bool,
    /// Why the region could not be used, once that is known.
    error: Option<SlotError>,
    /// Slots lent out by [`Kprobes::allocate_slot`] (one bit per slot).
    lent: [u32; MAX_SLOTS / 32],
}

// SAFETY: the non-Sync fields are Site::plan and Site::thumb, UnsafeCells written
// together, only under the registry lock while the site is unpublished (not in the
// table, so no trap handler can reach it), and read by trap handlers and trampolines
// only after the table entry (or the rendezvous that published the branch) made them
// visible. A site leaves the table only after a rendezvous proved no handler still uses
// it. Everything else the registry lock guards lives inside it (`Locked`).
unsafe impl<P: Platform, C: CacheOps, const N: usize> Sync for Kprobes<P, C, N> {}

impl Slots {
    /// The allocator, once configured.
    fn get(&mut self) -> Option<&mut SlotAllocator<MAX_SLOTS>> {
        self.made.then_some(&mut self.alloc)
    }
}

mod error;
mod hit;
#[cfg(target_arch = "arm")]
use hit::{
    call_pre, direct_entry, direct_general_entry, optimized_entry, thumb_direct_entry,
    thumb_optimized_entry,
};
mod optimize;
mod registry;
mod site;
mod thumb;
use site::{EMPTY, TOMBSTONE, hash, is_free, live};
pub mod fault;

pub use error::KprobeError;
pub use fault::FaultFixup;

#[cfg(test)]
mod tests;
