//! Kernel probes: put a handler on (almost) any A32 instruction of the kernel, on every
//! core, and have the instruction behave afterwards exactly as if it ran in place — first
//! as a breakpoint, then, once optimized, as a branch to a trampoline.
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
//! the deepest stack below the caller's SP: `register` 752 bytes, `optimize_pending` of
//! 1,000 candidates 1,056, `unregister` of an optimized probe 840 (each including the
//! rendezvous it runs); a breakpoint hit 848 below the probed code's SP (the test
//! kernel's trap entry leaves 256 bytes, then the frame, then this hit path), an
//! optimized hit 560 (direct) or 824 (stepped), a call through a kretprobe 848 — all
//! with empty handlers: add what yours use.

use crate::cache::CacheOps;
use crate::decode::{self, Decoded, RejectReason, SimKind, StackUse};
use crate::frame::TrapFrame;
use crate::hex::Hex;
use crate::insn::{Branch, BranchKind, BreakpointWord, Insn};
use crate::optprobe::{self, Fill, NEVER_RUN, Template, Variant};
use crate::patch::{PatchError, TextPatcher, WordSource};
use crate::platform::{MAX_CPUS, Platform};
use crate::slots::{Slot, SlotAllocator, SlotCounts, SlotError};
use crate::spin_lock::{LockRefused, SpinLock, SpinLockGuard};
use crate::step::{self, Memory, StepError};
use crate::stop_machine::{Rendezvous, RendezvousError, RunOn};
use core::cell::UnsafeCell;
use core::fmt;
use core::ops::Range;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

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

/// Most bytes below the interrupted SP a probed instruction may write. The kernel's
/// undefined-instruction entry must leave at least this much room between the
/// interrupted SP and the frame it builds (the test kernel leaves 256).
pub const MAX_STACK_WRITE_BELOW_SP: u32 = 128;

const UNREGISTERED: u32 = 0;
const ENABLED: u32 = 1;
const DISABLED: u32 = 2;

/// A kernel probe: handlers and a cookie, owned by the user as a `static`.
pub struct Kprobe {
    pre: Option<Handler>,
    post: Option<Handler>,
    data: usize,
    state: AtomicU32,
    addr: AtomicUsize,
    hits: AtomicU64,
    missed: AtomicU64,
}

impl Kprobe {
    /// A probe with these handlers and `data` (any value the handlers want to see).
    pub const fn new(pre: Option<Handler>, post: Option<Handler>, data: usize) -> Kprobe {
        Kprobe {
            pre,
            post,
            data,
            state: AtomicU32::new(UNREGISTERED),
            addr: AtomicUsize::new(0),
            hits: AtomicU64::new(0),
            missed: AtomicU64::new(0),
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
}

impl fmt::Display for NotOptimized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotOptimized::OutOfRange => {
                write!(f, "no instruction slot within branch range of the address")
            }
            NotOptimized::NoSlot => write!(f, "no free instruction slot"),
            NotOptimized::SlotRegion(e) => write!(f, "slot region unusable: {e}"),
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

/// Why a probe operation failed. The probe, the registry and the text are exactly as
/// they were before the call. `Debug` prints addresses and words in hex.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KprobeError {
    /// The address has bit 0 set: a Thumb function address (its interworking bit). Only
    /// A32 code can be probed so far.
    ThumbAddress {
        /// The address given.
        addr: usize,
    },
    /// The address is not 4-byte aligned (A32 instructions are).
    Misaligned {
        /// The address given.
        addr: usize,
    },
    /// The address is outside the kernel text the platform declared.
    OutsideText {
        /// The address given.
        addr: usize,
    },
    /// The address is in a never-probe range (vectors, exception entry, the crate's own
    /// code and trampolines).
    NeverProbe {
        /// The address given.
        addr: usize,
        /// The never-probe range it falls in.
        range: (usize, usize),
    },
    /// The decoder refuses the instruction there.
    Rejected {
        /// The address given.
        addr: usize,
        /// The word there.
        word: u32,
        /// Why.
        reason: RejectReason,
    },
    /// The instruction may write further below SP than [`MAX_STACK_WRITE_BELOW_SP`]
    /// (or an amount only known at run time).
    StackWrite {
        /// The address given.
        addr: usize,
        /// Bytes it may write below SP, `None` when unknown.
        bytes: Option<u32>,
    },
    /// The probe is already registered (at `addr`).
    AlreadyRegistered {
        /// Where it is registered.
        addr: usize,
    },
    /// The probe is not registered.
    NotRegistered,
    /// The registry has no room for another probed address.
    OutOfSites,
    /// This address already carries [`PROBES_PER_ADDRESS`] probes.
    TooManyAtAddress {
        /// The address given.
        addr: usize,
    },
    /// The symbol lookup does not know the name.
    UnknownSymbol,
    /// The offset is past the end of the symbol.
    OffsetOutsideSymbol {
        /// The offset given.
        offset: usize,
        /// The symbol's size.
        size: usize,
    },
    /// The offset is not a multiple of 4, so not on an instruction boundary.
    MisalignedOffset {
        /// The offset given.
        offset: usize,
    },
    /// Writing text failed (e.g. called from inside a rendezvous).
    Patch(PatchError),
    /// The quiescence rendezvous that ends a disable or unregister was refused.
    Rendezvous(RendezvousError),
    /// Called with IRQs masked: from a probe handler, an exception or interrupt handler,
    /// or with interrupts off. Registry calls change text in a rendezvous (or wait for
    /// a CPU that does), which needs every CPU to take an IPI; they are refused at once
    /// instead of risking a deadlock. Call from thread context with IRQs enabled — on a
    /// kernel whose entry leaves them masked (aarch32-rt enters `kmain` with IRQs
    /// masked, even on a single core), enable them first, e.g.
    /// `aarch32_cpu::interrupt::enable()`.
    InterruptsMasked {
        /// The calling CPU.
        cpu: usize,
    },
    /// This CPU is already inside a call on this registry (an interrupt handler that
    /// interrupted one, or the callback of [`Kprobes::list`] calling back in): waiting
    /// for the registry lock would wait for itself.
    Reentered {
        /// The calling CPU.
        cpu: usize,
    },
    /// An instruction slot could not be lent or given back.
    Slot(SlotError),
    /// The word at the address is already a probe of another registry over the same
    /// text (a breakpoint word, or a branch into an instruction slot region). One text
    /// has one registry: register every probe of this text with the same one.
    ForeignProbe {
        /// The address given.
        addr: usize,
        /// The word there.
        word: u32,
    },
}

impl fmt::Display for KprobeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KprobeError::ThumbAddress { addr } => write!(
                f,
                "{addr:#x} is a Thumb address (bit 0 set): Thumb code cannot be probed yet"
            ),
            KprobeError::Misaligned { addr } => write!(f, "{addr:#x} is not 4-byte aligned"),
            KprobeError::OutsideText { addr } => write!(f, "{addr:#x} is outside the kernel text"),
            KprobeError::NeverProbe { addr, range } => write!(
                f,
                "{addr:#x} is in the never-probe range {:#x}..{:#x}",
                range.0, range.1
            ),
            KprobeError::Rejected { addr, word, reason } => {
                write!(f, "cannot probe {word:#010x} at {addr:#x}: {reason}")
            }
            KprobeError::StackWrite {
                addr,
                bytes: Some(b),
            } => write!(
                f,
                "the instruction at {addr:#x} may write {b} bytes below sp (limit {MAX_STACK_WRITE_BELOW_SP})"
            ),
            KprobeError::StackWrite { addr, bytes: None } => write!(
                f,
                "the instruction at {addr:#x} may write an unknown amount below sp"
            ),
            KprobeError::AlreadyRegistered { addr } => {
                write!(f, "the probe is already registered at {addr:#x}")
            }
            KprobeError::NotRegistered => write!(f, "the probe is not registered"),
            KprobeError::OutOfSites => write!(f, "no room for another probed address"),
            KprobeError::TooManyAtAddress { addr } => {
                write!(f, "{addr:#x} already carries {PROBES_PER_ADDRESS} probes")
            }
            KprobeError::UnknownSymbol => write!(f, "unknown symbol"),
            KprobeError::OffsetOutsideSymbol { offset, size } => {
                write!(f, "offset {offset:#x} is outside the {size}-byte symbol")
            }
            KprobeError::MisalignedOffset { offset } => {
                write!(f, "offset {offset:#x} is not on an instruction boundary")
            }
            KprobeError::Patch(e) => write!(f, "text patch failed: {e}"),
            KprobeError::Rendezvous(e) => write!(f, "rendezvous failed: {e}"),
            KprobeError::InterruptsMasked { cpu } => write!(
                f,
                "called with IRQs masked on CPU {cpu}. From a probe, exception or interrupt \
                 handler: call from thread context instead. From thread context with \
                 interrupts off (aarch32-rt enters kmain with IRQs masked): enable IRQs \
                 first, e.g. `aarch32_cpu::interrupt::enable()`."
            ),
            KprobeError::Reentered { cpu } => write!(
                f,
                "CPU {cpu} is already inside a call on this registry (interrupt handler or \
                 listing callback)"
            ),
            KprobeError::Slot(e) => write!(f, "instruction slot: {e}"),
            KprobeError::ForeignProbe { addr, word } => write!(
                f,
                "{word:#010x} at {addr:#x} is another registry's probe (one registry per text)"
            ),
        }
    }
}

impl fmt::Debug for KprobeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addr_only = |f: &mut fmt::Formatter<'_>, name: &str, addr: usize| {
            f.debug_struct(name).field("addr", &Hex(addr)).finish()
        };
        match *self {
            KprobeError::ThumbAddress { addr } => addr_only(f, "ThumbAddress", addr),
            KprobeError::Misaligned { addr } => addr_only(f, "Misaligned", addr),
            KprobeError::OutsideText { addr } => addr_only(f, "OutsideText", addr),
            KprobeError::NeverProbe { addr, range } => f
                .debug_struct("NeverProbe")
                .field("addr", &Hex(addr))
                .field("range", &(Hex(range.0), Hex(range.1)))
                .finish(),
            KprobeError::Rejected { addr, word, reason } => f
                .debug_struct("Rejected")
                .field("addr", &Hex(addr))
                .field("word", &Hex(word))
                .field("reason", &reason)
                .finish(),
            KprobeError::StackWrite { addr, bytes } => f
                .debug_struct("StackWrite")
                .field("addr", &Hex(addr))
                .field("bytes", &bytes)
                .finish(),
            KprobeError::AlreadyRegistered { addr } => addr_only(f, "AlreadyRegistered", addr),
            KprobeError::NotRegistered => f.write_str("NotRegistered"),
            KprobeError::OutOfSites => f.write_str("OutOfSites"),
            KprobeError::TooManyAtAddress { addr } => addr_only(f, "TooManyAtAddress", addr),
            KprobeError::UnknownSymbol => f.write_str("UnknownSymbol"),
            KprobeError::OffsetOutsideSymbol { offset, size } => f
                .debug_struct("OffsetOutsideSymbol")
                .field("offset", &Hex(offset))
                .field("size", &size)
                .finish(),
            KprobeError::MisalignedOffset { offset } => f
                .debug_struct("MisalignedOffset")
                .field("offset", &Hex(offset))
                .finish(),
            KprobeError::Patch(e) => f.debug_tuple("Patch").field(&e).finish(),
            KprobeError::Rendezvous(e) => f.debug_tuple("Rendezvous").field(&e).finish(),
            KprobeError::InterruptsMasked { cpu } => f
                .debug_struct("InterruptsMasked")
                .field("cpu", &cpu)
                .finish(),
            KprobeError::Reentered { cpu } => {
                f.debug_struct("Reentered").field("cpu", &cpu).finish()
            }
            KprobeError::Slot(e) => f.debug_tuple("Slot").field(&e).finish(),
            KprobeError::ForeignProbe { addr, word } => f
                .debug_struct("ForeignProbe")
                .field("addr", &Hex(addr))
                .field("word", &Hex(word))
                .finish(),
        }
    }
}

impl core::error::Error for KprobeError {}

impl From<PatchError> for KprobeError {
    fn from(e: PatchError) -> Self {
        KprobeError::Patch(e)
    }
}

impl From<SlotError> for KprobeError {
    fn from(e: SlotError) -> Self {
        KprobeError::Slot(e)
    }
}

impl From<LockRefused> for KprobeError {
    fn from(e: LockRefused) -> Self {
        match e {
            LockRefused::InterruptsMasked { cpu } => KprobeError::InterruptsMasked { cpu },
            LockRefused::HeldByThisCpu { cpu } => KprobeError::Reentered { cpu },
        }
    }
}

/// What [`Kprobes::handle_undefined`] did with a trap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    /// The address range of the function called `name`.
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
    /// How the step engine runs the original (written before the site is published).
    kind: UnsafeCell<Option<SimKind>>,
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

impl Site {
    const fn new() -> Site {
        Site {
            addr: AtomicUsize::new(0),
            original: AtomicU32::new(0),
            seq: AtomicU32::new(0),
            probes: [const { AtomicPtr::new(core::ptr::null_mut()) }; PROBES_PER_ADDRESS],
            len: AtomicU32::new(0),
            kind: UnsafeCell::new(None),
            armed: AtomicBool::new(false),
            direct: AtomicBool::new(false),
            batch_next: AtomicU32::new(0),
            batch_word: AtomicU32::new(0),
        }
    }

    /// The probes of a consistent copy of the list that are enabled, in order, and how
    /// many (lock-free; retries while a writer is mid-update, which it never is for
    /// long: writers mask interrupts). Reads only the list's occupied prefix.
    #[inline(always)]
    fn enabled_probes(&self) -> ([*const Kprobe; PROBES_PER_ADDRESS], usize) {
        let mut out = [core::ptr::null::<Kprobe>(); PROBES_PER_ADDRESS];
        loop {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 & 1 == 0 {
                // Relaxed: the fence below orders these loads before the second read
                // of the counter (the seqlock read side).
                let len = (self.len.load(Ordering::Relaxed) as usize).min(PROBES_PER_ADDRESS);
                let mut n = 0;
                for p in &self.probes[..len] {
                    let p = p.load(Ordering::Relaxed) as *const Kprobe;
                    if live(p).is_some_and(Kprobe::enabled) {
                        out[n] = p;
                        n += 1;
                    }
                }
                core::sync::atomic::fence(Ordering::Acquire);
                if self.seq.load(Ordering::Relaxed) == s1 {
                    return (out, n);
                }
            }
            core::hint::spin_loop();
        }
    }

    /// Sets `len` after the list changed (registry lock, inside the write section).
    fn update_len(&self) {
        let len = self
            .probes
            .iter()
            .rposition(|p| !p.load(Ordering::Relaxed).is_null())
            .map_or(0, |i| i + 1);
        self.len.store(len as u32, Ordering::Relaxed);
    }

    fn count(&self) -> usize {
        self.probes
            .iter()
            .filter(|p| !p.load(Ordering::Relaxed).is_null())
            .count()
    }

    fn any_enabled(&self) -> bool {
        self.probes
            .iter()
            .any(|p| live(p.load(Ordering::Relaxed)).is_some_and(Kprobe::enabled))
    }
}

/// The probe a list entry points at.
fn live(p: *const Kprobe) -> Option<&'static Kprobe> {
    // SAFETY: list entries are null or were made from a `&'static Kprobe` by `register`;
    // Kprobes are never freed, so a non-null entry is always a valid reference.
    unsafe { p.as_ref() }
}

const EMPTY: u32 = 0;
const TOMBSTONE: u32 = u32::MAX;

/// The registry: up to `N / 2` probed addresses (the lookup table has `N` entries and
/// stays at most half full, so a lookup probes about two entries).
pub struct Kprobes<P: Platform + 'static, C: CacheOps + 'static, const N: usize> {
    platform: &'static P,
    rendezvous: &'static Rendezvous<C>,
    /// The bookkeeping only thread-context calls touch, owned by the registry lock.
    locked: SpinLock<Locked<N>>,
    live: AtomicU32,
    sites: [Site; N],
    /// Open addressing by address: site index + 1, or EMPTY / TOMBSTONE.
    table: [AtomicU32; N],
    running: [AtomicBool; MAX_CPUS],
    /// Per CPU: the frame of the step in progress, for `fixup_fault`.
    stepping: fault::Stepping,
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

// SAFETY: the non-Sync field is Site::kind, an UnsafeCell. It is written only under the
// registry lock while the site is unpublished (not in the table, so no trap handler can
// reach it), and read by trap handlers and trampolines only after the table entry (or
// the rendezvous that published the branch) made it visible. A site leaves the table
// only after a rendezvous proved no handler still uses it. Everything else the registry
// lock guards lives inside it (`Locked`).
unsafe impl<P: Platform, C: CacheOps, const N: usize> Sync for Kprobes<P, C, N> {}

impl Slots {
    /// The allocator, once configured.
    fn get(&mut self) -> Option<&mut SlotAllocator<MAX_SLOTS>> {
        self.made.then_some(&mut self.alloc)
    }
}

fn hash(addr: usize, n: usize) -> usize {
    ((addr as u32 >> 2).wrapping_mul(0x9e37_79b1) as usize) % n
}

impl<P: Platform + 'static, C: CacheOps + 'static, const N: usize> Kprobes<P, C, N> {
    /// An empty registry patching through `rendezvous` on `platform`.
    ///
    /// `N` is the size of the lookup table (the registry holds up to `N / 2` probed
    /// addresses). Two entries is the least:
    ///
    /// ```
    /// # use armv7_kprobes::{cache::CacheOps, kprobe::Kprobes, stop_machine::Rendezvous};
    /// # use armv7_kprobes::{CpuSet, InterruptState, Platform};
    /// # struct P;
    /// # impl Platform for P {
    /// #     fn cpu_id(&self) -> usize { 0 }
    /// #     fn online_cpus(&self) -> CpuSet { CpuSet::single(0) }
    /// #     fn send_ipi(&self, _: CpuSet) {}
    /// #     fn mask_interrupts(&self) -> InterruptState { InterruptState(0) }
    /// #     fn restore_interrupts(&self, _: InterruptState) {}
    /// #     fn interrupts_masked(&self) -> bool { false }
    /// #     fn kernel_text(&self) -> core::ops::Range<usize> { 0..0 }
    /// #     fn never_probe(&self) -> &[core::ops::Range<usize>] { &[] }
    /// #     fn slot_region(&self) -> core::ops::Range<usize> { 0..0 }
    /// #     fn text_alias(&self, a: usize) -> *mut u32 { a as *mut u32 }
    /// # }
    /// # struct C;
    /// # impl CacheOps for C {
    /// #     fn maintenance_is_broadcast(&self) -> bool { true }
    /// #     unsafe fn store_text_word(&self, _: usize, _: *mut u32, _: u32) {}
    /// #     fn clean_dcache_line_to_pou(&self, _: usize) {}
    /// #     fn dsb_ish(&self) {}
    /// #     fn invalidate_icache_line_to_pou(&self, _: usize) {}
    /// #     fn invalidate_icache_all_local(&self) {}
    /// #     fn invalidate_branch_predictors_inner_shareable(&self) {}
    /// #     fn invalidate_branch_predictors_local(&self) {}
    /// #     fn isb(&self) {}
    /// # }
    /// # static PLATFORM: P = P;
    /// # static RENDEZVOUS: Rendezvous<C> = Rendezvous::new(C);
    /// static KPROBES: Kprobes<P, C, 2> = Kprobes::new(&PLATFORM, &RENDEZVOUS);
    /// ```
    ///
    /// and `N < 2` does not compile:
    ///
    /// ```compile_fail
    /// # use armv7_kprobes::{cache::CacheOps, kprobe::Kprobes, stop_machine::Rendezvous};
    /// # use armv7_kprobes::{CpuSet, InterruptState, Platform};
    /// # struct P;
    /// # impl Platform for P {
    /// #     fn cpu_id(&self) -> usize { 0 }
    /// #     fn online_cpus(&self) -> CpuSet { CpuSet::single(0) }
    /// #     fn send_ipi(&self, _: CpuSet) {}
    /// #     fn mask_interrupts(&self) -> InterruptState { InterruptState(0) }
    /// #     fn restore_interrupts(&self, _: InterruptState) {}
    /// #     fn interrupts_masked(&self) -> bool { false }
    /// #     fn kernel_text(&self) -> core::ops::Range<usize> { 0..0 }
    /// #     fn never_probe(&self) -> &[core::ops::Range<usize>] { &[] }
    /// #     fn slot_region(&self) -> core::ops::Range<usize> { 0..0 }
    /// #     fn text_alias(&self, a: usize) -> *mut u32 { a as *mut u32 }
    /// # }
    /// # struct C;
    /// # impl CacheOps for C {
    /// #     fn maintenance_is_broadcast(&self) -> bool { true }
    /// #     unsafe fn store_text_word(&self, _: usize, _: *mut u32, _: u32) {}
    /// #     fn clean_dcache_line_to_pou(&self, _: usize) {}
    /// #     fn dsb_ish(&self) {}
    /// #     fn invalidate_icache_line_to_pou(&self, _: usize) {}
    /// #     fn invalidate_icache_all_local(&self) {}
    /// #     fn invalidate_branch_predictors_inner_shareable(&self) {}
    /// #     fn invalidate_branch_predictors_local(&self) {}
    /// #     fn isb(&self) {}
    /// # }
    /// # static PLATFORM: P = P;
    /// # static RENDEZVOUS: Rendezvous<C> = Rendezvous::new(C);
    /// static KPROBES: Kprobes<P, C, 1> = Kprobes::new(&PLATFORM, &RENDEZVOUS);
    /// ```
    pub const fn new(platform: &'static P, rendezvous: &'static Rendezvous<C>) -> Self {
        const {
            assert!(
                N >= 2,
                "a Kprobes registry needs a lookup table of N >= 2 entries"
            )
        };
        Kprobes {
            platform,
            rendezvous,
            locked: SpinLock::new(Locked {
                opt: [Opt::Candidate; N],
                slots: Slots {
                    alloc: SlotAllocator::empty(),
                    made: false,
                    error: None,
                    lent: [0; MAX_SLOTS / 32],
                },
                first_free_site: 0,
                sites_in_use: 0,
                pins: [0; N],
            }),
            live: AtomicU32::new(0),
            sites: [const { Site::new() }; N],
            table: [const { AtomicU32::new(EMPTY) }; N],
            running: [const { AtomicBool::new(false) }; MAX_CPUS],
            stepping: fault::Stepping::new(),
        }
    }

    /// Takes the registry lock, or refuses at once when waiting could deadlock (IRQs
    /// masked on this CPU, or this CPU holds it already: see `spin_lock`). While it
    /// waits it joins every rendezvous it is invited to.
    fn lock(&self) -> Result<Guard<'_, N>, KprobeError> {
        self.locked
            .lock(self.platform, self.rendezvous)
            .map_err(KprobeError::from)
    }

    /// Takes another lock of this kernel's registries (the return-probe table's) with
    /// the same rules as the registry lock.
    pub(crate) fn lock_other<'l, T>(
        &self,
        lock: &'l SpinLock<T>,
    ) -> Result<SpinLockGuard<'l, T>, KprobeError> {
        lock.lock(self.platform, self.rendezvous)
            .map_err(KprobeError::from)
    }

    /// Index of `site` in `self.sites`.
    fn index_of(&self, site: &Site) -> usize {
        (site as *const Site as usize - self.sites.as_ptr() as usize) / core::mem::size_of::<Site>()
    }

    fn patcher(&self) -> TextPatcher<'static, P, C> {
        TextPatcher::new(self.rendezvous, self.platform)
    }

    /// Every site that may be in use (the ones above are free).
    fn used_sites(&self, g: &Guard<'_, N>) -> &[Site] {
        &self.sites[..g.sites_in_use]
    }

    /// The table slot holding `addr`, if any.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn find(&self, addr: usize) -> Option<(usize, &Site)> {
        let mut i = hash(addr, N);
        for _ in 0..N {
            match self.table[i].load(Ordering::Acquire) {
                EMPTY => return None,
                TOMBSTONE => {}
                v => {
                    let site = &self.sites[v as usize - 1];
                    if site.addr.load(Ordering::Relaxed) == addr {
                        return Some((i, site));
                    }
                }
            }
            i = (i + 1) % N;
        }
        None
    }

    /// The word at executable address `addr` (inside kernel text), read through the
    /// platform's view of text.
    fn read_text(&self, addr: usize) -> u32 {
        // SAFETY: callers pass addresses inside kernel_text, for which text_alias gives a
        // valid aligned word (Platform contract); text words are only ever written with
        // single aligned stores, so an atomic load observes one of them.
        unsafe { AtomicU32::from_ptr(self.platform.text_alias(addr)).load(Ordering::Relaxed) }
    }

    fn check_address(&self, addr: usize) -> Result<(), KprobeError> {
        if addr & 1 == 1 {
            return Err(KprobeError::ThumbAddress { addr });
        }
        if !addr.is_multiple_of(4) {
            return Err(KprobeError::Misaligned { addr });
        }
        let text = self.platform.kernel_text();
        if !(text.start <= addr && addr.checked_add(4).is_some_and(|e| e <= text.end)) {
            return Err(KprobeError::OutsideText { addr });
        }
        if let Some(r) = self
            .platform
            .never_probe()
            .iter()
            .find(|r| r.contains(&addr))
        {
            return Err(KprobeError::NeverProbe {
                addr,
                range: (r.start, r.end),
            });
        }
        Ok(())
    }

    /// Whether `word` at `addr` is a probe of another registry over the same text: a
    /// breakpoint word, or a branch into a slot region (this registry's or one another
    /// registry of this machine claimed). Taking it for the original would save the
    /// probe as "the instruction" and break the text for good once both unregister.
    fn is_foreign_probe(&self, addr: usize, word: u32) -> bool {
        if BreakpointWord::is_breakpoint(Insn(word)) {
            return true;
        }
        match Branch::decode(Insn(word), addr as u32) {
            Some(b @ (Branch::B { .. } | Branch::Bl { .. })) => {
                let target = b.target() as usize;
                self.platform.slot_region().contains(&target)
                    || self.rendezvous.slot_claims().contains(target)
            }
            _ => false,
        }
    }

    /// Rewrites a site's probe list while holding the registry lock, with interrupts
    /// masked so no trap handler on this CPU can spin on the odd counter.
    fn edit_list(&self, site: &Site, edit: impl FnOnce(&[AtomicPtr<Kprobe>; PROBES_PER_ADDRESS])) {
        let irq = self.platform.mask_interrupts();
        site.seq.fetch_add(1, Ordering::AcqRel);
        core::sync::atomic::fence(Ordering::Release);
        edit(&site.probes);
        site.update_len();
        site.seq.fetch_add(1, Ordering::Release);
        self.platform.restore_interrupts(irq);
    }

    /// Registers `probe` at `addr`, enabled, and arms the address on every CPU.
    ///
    /// Call it from thread context with IRQs enabled. `addr` must be the address of an
    /// instruction: the word there is decoded, but a literal-pool word (data in text)
    /// that happens to decode as an instruction cannot be told apart and is accepted —
    /// probing it would corrupt the data it holds. [`Kprobes::register_symbol`] keeps
    /// the address inside a symbol.
    ///
    /// # Errors
    ///
    /// Every [`KprobeError`] says why; the probe, the registry and the text are then as
    /// they were. Called with IRQs masked (from a probe handler, an exception handler,
    /// with interrupts off) it returns [`KprobeError::InterruptsMasked`] at once, and
    /// from an interrupt handler that interrupted a registry call on this CPU
    /// [`KprobeError::Reentered`]: it never waits where waiting could deadlock.
    pub fn register(&self, probe: &'static Kprobe, addr: usize) -> Result<(), KprobeError> {
        self.check_address(addr)?;
        let mut g = self.lock()?;
        if probe.state.load(Ordering::Acquire) != UNREGISTERED {
            return Err(KprobeError::AlreadyRegistered {
                addr: probe.addr.load(Ordering::Relaxed),
            });
        }
        let ptr = probe as *const Kprobe as *mut Kprobe;
        if let Some((_, site)) = self.find(addr) {
            if site.count() == PROBES_PER_ADDRESS {
                return Err(KprobeError::TooManyAtAddress { addr });
            }
            self.prepare_probe(probe, addr);
            // Probes run in registration order: compact the list, the new one goes last.
            self.edit_list(site, |list| {
                let mut live: [*mut Kprobe; PROBES_PER_ADDRESS] =
                    [core::ptr::null_mut(); PROBES_PER_ADDRESS];
                let mut n = 0;
                for p in list
                    .iter()
                    .map(|p| p.load(Ordering::Relaxed))
                    .filter(|p| !p.is_null())
                {
                    live[n] = p;
                    n += 1;
                }
                live[n] = ptr;
                for (slot, p) in list.iter().zip(live) {
                    slot.store(p, Ordering::Relaxed);
                }
            });
            if !site.armed.load(Ordering::Relaxed)
                && let Err(e) = self.set_armed(addr, site, true)
            {
                self.unlink(site, ptr);
                probe.state.store(UNREGISTERED, Ordering::Release);
                return Err(e);
            }
            return Ok(());
        }
        let word = self.read_text(addr);
        if self.is_foreign_probe(addr, word) {
            return Err(KprobeError::ForeignProbe { addr, word });
        }
        let kind = match decode::decode(Insn(word)) {
            Decoded::Rejected(reason) => return Err(KprobeError::Rejected { addr, word, reason }),
            Decoded::Simulate(kind) => kind,
        };
        match decode::stack_use(Insn(word)) {
            StackUse::None => {}
            StackUse::Bytes(b) if b <= MAX_STACK_WRITE_BELOW_SP => {}
            StackUse::Bytes(b) => {
                return Err(KprobeError::StackWrite {
                    addr,
                    bytes: Some(b),
                });
            }
            StackUse::Unknown => return Err(KprobeError::StackWrite { addr, bytes: None }),
        }
        if self.live.load(Ordering::Relaxed) as usize >= N / 2 {
            return Err(KprobeError::OutOfSites);
        }
        let from = g.first_free_site;
        let Some(index) = self.sites[from..]
            .iter()
            .position(|s| s.addr.load(Ordering::Relaxed) == 0)
            .map(|i| from + i)
        else {
            return Err(KprobeError::OutOfSites);
        };
        g.first_free_site = index + 1;
        g.sites_in_use = g.sites_in_use.max(index + 1);
        let site = &self.sites[index];
        site.addr.store(addr, Ordering::Relaxed);
        site.original.store(word, Ordering::Relaxed);
        // SAFETY: the site is free and unpublished (see the Sync impl).
        unsafe { *site.kind.get() = Some(kind) };
        site.direct.store(
            optprobe::variant(kind, Insn(word)) == Variant::Direct,
            Ordering::Relaxed,
        );
        g.opt[index] = Opt::Candidate;
        site.probes[0].store(ptr, Ordering::Relaxed);
        site.len.store(1, Ordering::Relaxed);
        site.armed.store(false, Ordering::Relaxed);
        self.prepare_probe(probe, addr);
        // Publish: the first EMPTY or TOMBSTONE slot on the probe sequence.
        let mut slot = hash(addr, N);
        while !matches!(self.table[slot].load(Ordering::Relaxed), EMPTY | TOMBSTONE) {
            slot = (slot + 1) % N;
        }
        self.table[slot].store(index as u32 + 1, Ordering::Release);
        self.live.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.set_armed(addr, site, true) {
            self.remove_site(&mut g, slot, site);
            probe.state.store(UNREGISTERED, Ordering::Release);
            return Err(e);
        }
        Ok(())
    }

    fn prepare_probe(&self, probe: &Kprobe, addr: usize) {
        probe.hits.store(0, Ordering::Relaxed);
        probe.missed.store(0, Ordering::Relaxed);
        probe.addr.store(addr, Ordering::Relaxed);
        probe.state.store(ENABLED, Ordering::Release);
    }

    fn remove_site(&self, g: &mut Guard<'_, N>, slot: usize, site: &Site) {
        let index = self.table[slot].load(Ordering::Relaxed) as usize - 1;
        let next_empty = self.table[(slot + 1) % N].load(Ordering::Relaxed) == EMPTY;
        self.table[slot].store(
            if next_empty { EMPTY } else { TOMBSTONE },
            Ordering::Release,
        );
        for p in &site.probes {
            p.store(core::ptr::null_mut(), Ordering::Relaxed);
        }
        site.len.store(0, Ordering::Relaxed);
        site.armed.store(false, Ordering::Relaxed);
        self.live.fetch_sub(1, Ordering::Relaxed);
        if g.pins[index] > 0 {
            // A dirty slot's trampoline names this site: it keeps its address, original
            // and kind (and stays taken) until reclaim frees the last such slot.
            g.opt[index] = Opt::Retired;
            return;
        }
        let Locked {
            first_free_site,
            sites_in_use,
            ..
        } = &mut **g;
        Self::free_site(&self.sites, index, first_free_site, sites_in_use);
    }

    /// Makes site `index` (out of the table, no slot naming it) free for reuse.
    fn free_site(
        sites: &[Site; N],
        index: usize,
        first_free_site: &mut usize,
        sites_in_use: &mut usize,
    ) {
        sites[index].addr.store(0, Ordering::Release);
        *first_free_site = (*first_free_site).min(index);
        // Scans stop at the highest site in use: lower the mark past free sites.
        let mut high = *sites_in_use;
        while high > 0 && sites[high - 1].addr.load(Ordering::Relaxed) == 0 {
            high -= 1;
        }
        *sites_in_use = high;
    }

    /// Registers `probe` at `offset` bytes into the function `name`: the whole
    /// instruction at the offset must lie inside the symbol's size.
    ///
    /// # Errors
    ///
    /// [`KprobeError::UnknownSymbol`], [`KprobeError::MisalignedOffset`],
    /// [`KprobeError::OffsetOutsideSymbol`], and every error of [`Kprobes::register`].
    pub fn register_symbol(
        &self,
        probe: &'static Kprobe,
        symbols: &impl SymbolLookup,
        name: &str,
        offset: usize,
    ) -> Result<(), KprobeError> {
        let range = symbols.lookup(name).ok_or(KprobeError::UnknownSymbol)?;
        if !offset.is_multiple_of(4) {
            return Err(KprobeError::MisalignedOffset { offset });
        }
        if offset.checked_add(4).is_none_or(|end| end > range.len()) {
            return Err(KprobeError::OffsetOutsideSymbol {
                offset,
                size: range.len(),
            });
        }
        self.register(probe, range.start + offset)
    }

    /// Writes the breakpoint or the original word at `site`, as `arm` says.
    fn set_armed(&self, addr: usize, site: &Site, arm: bool) -> Result<(), KprobeError> {
        let original = site.original.load(Ordering::Relaxed);
        let word = if arm {
            BreakpointWord::for_original(Insn(original)).word()
        } else {
            original
        };
        self.patcher().patch(addr, word)?;
        site.armed.store(arm, Ordering::Relaxed);
        Ok(())
    }

    /// A quiescent point: once it returns, no CPU is inside a probe handler that started
    /// before it (handlers run with interrupts masked; the rendezvous needs every CPU to
    /// take an interrupt).
    fn synchronize(&self) -> Result<(), KprobeError> {
        let me = self.platform.cpu_id();
        self.rendezvous
            .run(self.platform, RunOn::OneCpu(me), &|_| {})
            .map_err(KprobeError::Rendezvous)
    }

    /// Unregisters `probe`: when it was the last probe at its address the original word
    /// is back in text, exactly. When this returns its handlers are not running and will
    /// not run again.
    ///
    /// # Errors
    ///
    /// [`KprobeError::NotRegistered`] when `probe` is not registered here;
    /// [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); [`KprobeError::Patch`] when restoring the word was refused and
    /// [`KprobeError::Rendezvous`] when the quiescence rendezvous was: the probe is then
    /// still registered.
    pub fn unregister(&self, probe: &'static Kprobe) -> Result<(), KprobeError> {
        let mut g = self.lock()?;
        if probe.state.load(Ordering::Acquire) == UNREGISTERED {
            return Err(KprobeError::NotRegistered);
        }
        let addr = probe.addr.load(Ordering::Relaxed);
        let Some((slot, site)) = self.find(addr) else {
            return Err(KprobeError::NotRegistered);
        };
        let ptr = probe as *const Kprobe as *mut Kprobe;
        let others_enabled = site.probes.iter().any(|p| {
            let p = p.load(Ordering::Relaxed);
            p != ptr && live(p).is_some_and(Kprobe::enabled)
        });
        if site.armed.load(Ordering::Relaxed) && !others_enabled {
            // The last enabled probe goes: the original back first (a rendezvous, so
            // also the quiescent point), then the bookkeeping.
            self.disarm(&mut g, addr, site)?;
            self.unlink(site, ptr);
        } else {
            self.synchronize_after(site, ptr)?;
        }
        probe.state.store(UNREGISTERED, Ordering::Release);
        if site.count() == 0 {
            self.remove_site(&mut g, slot, site);
        }
        Ok(())
    }

    /// Takes `ptr` out of the site's list; returns where it was.
    fn unlink(&self, site: &Site, ptr: *mut Kprobe) -> Option<usize> {
        let mut at = None;
        self.edit_list(site, |list| {
            for (i, p) in list.iter().enumerate() {
                if p.load(Ordering::Relaxed) == ptr {
                    p.store(core::ptr::null_mut(), Ordering::Relaxed);
                    at = Some(i);
                }
            }
        });
        at
    }

    /// Takes `ptr` out of the site's list, then waits for a quiescent point. On failure
    /// the list is as it was.
    fn synchronize_after(&self, site: &Site, ptr: *mut Kprobe) -> Result<(), KprobeError> {
        let at = self.unlink(site, ptr);
        if let Err(e) = self.synchronize() {
            if let Some(i) = at {
                self.edit_list(site, |list| list[i].store(ptr, Ordering::Relaxed));
            }
            return Err(e);
        }
        Ok(())
    }

    /// Stops `probe` firing without unregistering it (its counters are kept). When no
    /// enabled probe remains at its address the original word goes back into text.
    ///
    /// # Errors
    ///
    /// [`KprobeError::NotRegistered`]; [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); [`KprobeError::Patch`] or
    /// [`KprobeError::Rendezvous`] when disarming or the quiescence rendezvous was
    /// refused: the probe is then still enabled.
    pub fn disable(&self, probe: &'static Kprobe) -> Result<(), KprobeError> {
        let mut g = self.lock()?;
        let addr = match probe.state.load(Ordering::Acquire) {
            UNREGISTERED => return Err(KprobeError::NotRegistered),
            DISABLED => return Ok(()),
            _ => probe.addr.load(Ordering::Relaxed),
        };
        let Some((_, site)) = self.find(addr) else {
            return Err(KprobeError::NotRegistered);
        };
        probe.state.store(DISABLED, Ordering::Release);
        let result = if site.any_enabled() {
            self.synchronize()
        } else {
            self.disarm(&mut g, addr, site)
        };
        if result.is_err() {
            probe.state.store(ENABLED, Ordering::Release);
        }
        result
    }

    /// Makes a disabled `probe` fire again, re-arming its address if needed.
    ///
    /// # Errors
    ///
    /// [`KprobeError::NotRegistered`]; [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); [`KprobeError::Patch`] when
    /// re-arming the address was refused: the probe then stays disabled.
    pub fn enable(&self, probe: &'static Kprobe) -> Result<(), KprobeError> {
        let _g = self.lock()?;
        let addr = match probe.state.load(Ordering::Acquire) {
            UNREGISTERED => return Err(KprobeError::NotRegistered),
            ENABLED => return Ok(()),
            _ => probe.addr.load(Ordering::Relaxed),
        };
        let Some((_, site)) = self.find(addr) else {
            return Err(KprobeError::NotRegistered);
        };
        if !site.armed.load(Ordering::Relaxed) {
            self.set_armed(addr, site, true)?;
        }
        probe.state.store(ENABLED, Ordering::Release);
        Ok(())
    }

    /// How `site` is probed in text now (registry lock held).
    fn mechanism(&self, g: &Guard<'_, N>, site: &Site) -> Mechanism {
        if !site.armed.load(Ordering::Relaxed) {
            return Mechanism::Disarmed;
        }
        match g.opt[self.index_of(site)] {
            Opt::Candidate => Mechanism::Breakpoint,
            Opt::Failed(why) => Mechanism::NotOptimized(why),
            Opt::Optimized(_, variant) => Mechanism::Optimized(variant),
            Opt::Retired => Mechanism::Disarmed,
        }
    }

    /// How the address `probe` is registered at is probed in text now.
    ///
    /// # Errors
    ///
    /// [`KprobeError::NotRegistered`]; [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]).
    pub fn mechanism_of(&self, probe: &'static Kprobe) -> Result<Mechanism, KprobeError> {
        let g = self.lock()?;
        if probe.state.load(Ordering::Acquire) == UNREGISTERED {
            return Err(KprobeError::NotRegistered);
        }
        let (_, site) = self
            .find(probe.addr.load(Ordering::Relaxed))
            .ok_or(KprobeError::NotRegistered)?;
        Ok(self.mechanism(&g, site))
    }

    /// Takes the probe out of text: the original word back (from a breakpoint or from a
    /// branch, in one rendezvous, which is also the quiescent point for the handlers).
    /// An optimized site's slot goes dirty, naming the site (which therefore outlives
    /// an unregister until the slot is free), and a reclaim is tried at once: it frees
    /// the slot only if its rendezvous saw no CPU inside it (see `optprobe`).
    fn disarm(&self, g: &mut Guard<'_, N>, addr: usize, site: &Site) -> Result<(), KprobeError> {
        self.set_armed(addr, site, false)?;
        let index = self.index_of(site);
        if let Opt::Optimized(slot, _) = g.opt[index] {
            g.opt[index] = Opt::Candidate;
            if let Some(alloc) = g.slots.get() {
                // The slot came from this allocator and is in use: this cannot fail.
                if alloc.release_tagged(slot, index as u32 + 1).is_ok() {
                    g.pins[index] += 1;
                }
            }
            // A failed reclaim leaves the slot dirty until the next one.
            let _ = self.reclaim_locked(g);
        }
        Ok(())
    }

    /// The slot allocator, made on first use (registry lock held).
    fn allocator<'g>(
        &self,
        slots: &'g mut Slots,
        template: &Template,
    ) -> Result<&'g mut SlotAllocator<MAX_SLOTS>, SlotError> {
        if let Some(e) = slots.error {
            return Err(e);
        }
        if !slots.made {
            let size = fault::slot_bytes(template);
            let region = self.platform.slot_region();
            // In place: the allocator never passes through this stack frame. A region
            // another registry of this machine claimed is refused (and never used).
            let made = slots.alloc.init(region.clone(), size).and_then(|()| {
                self.rendezvous
                    .slot_claims()
                    .claim(region)
                    .map_err(SlotError::Claimed)
            });
            if let Err(e) = made {
                slots.error = Some(e);
                return Err(e);
            }
            slots.made = true;
        }
        Ok(&mut slots.alloc)
    }

    /// Runs a rendezvous and frees every dirty slot released before it in which it saw
    /// no CPU (registry lock held); a site retired while slots named it is freed with
    /// the last of them. Slots a CPU may still be in stay dirty for a later reclaim.
    fn reclaim_locked(&self, g: &mut Guard<'_, N>) -> Result<usize, KprobeError> {
        let Locked {
            opt,
            slots,
            first_free_site,
            sites_in_use,
            pins,
        } = &mut **g;
        let Some(alloc) = slots.get() else {
            return Ok(0);
        };
        if alloc.counts().dirty == 0 {
            return Ok(0);
        }
        let ticket = alloc.begin_quiescence();
        let me = self.platform.cpu_id();
        let seen = self
            .rendezvous
            .run_observed(self.platform, RunOn::OneCpu(me), &|_| {})
            .map_err(KprobeError::Rendezvous)?;
        // The ticket is the newest (the lock serializes begin and complete).
        let freed = alloc.complete_quiescence_where(
            ticket,
            |bytes| seen.may_be_in(bytes),
            |_, tag| {
                let Some(index) = (tag as usize).checked_sub(1) else {
                    return; // a lent slot
                };
                pins[index] -= 1;
                if pins[index] == 0 && opt[index] == Opt::Retired {
                    opt[index] = Opt::Candidate;
                    Self::free_site(&self.sites, index, first_free_site, sites_in_use);
                }
            },
        );
        Ok(freed.unwrap_or(0))
    }

    /// Optimizes every candidate: for each armed breakpoint probe not yet optimized,
    /// a slot within branch range gets a filled trampoline copy, and then ONE rendezvous
    /// rewrites all their breakpoints into `b<cond> slot` (the original's condition, so
    /// a failing condition skips the instruction exactly as natively). A candidate that
    /// cannot be optimized stays a working breakpoint probe and
    /// [`Kprobes::list`] says why. Call it from thread context — after a batch of
    /// registrations, from a timer, whenever suits the kernel.
    ///
    /// On error (the rendezvous was refused) nothing changed: text, slots, listing.
    ///
    /// # Errors
    ///
    /// [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); [`KprobeError::Patch`] when writing a trampoline or the
    /// rendezvous that installs the branches was refused. An unusable slot region is
    /// not an error: the candidates stay breakpoints and the listing says why.
    pub fn optimize_pending(&self) -> Result<OptimizeReport, KprobeError> {
        let mut g = self.lock()?;
        let Locked {
            opt,
            slots,
            sites_in_use,
            ..
        } = &mut *g;
        let template = optprobe::template();
        let mut report = OptimizeReport::default();
        let is_candidate = |index: usize, opt: &[Opt; N]| {
            let site = &self.sites[index];
            site.addr.load(Ordering::Relaxed) != 0
                && site.armed.load(Ordering::Relaxed)
                && matches!(
                    opt[index],
                    Opt::Candidate | Opt::Failed(NotOptimized::NoSlot)
                )
        };
        let alloc = match self.allocator(slots, &template) {
            Ok(a) => a,
            Err(e) => {
                for index in 0..*sites_in_use {
                    if is_candidate(index, opt) {
                        opt[index] = Opt::Failed(NotOptimized::SlotRegion(e));
                        report.not_optimized += 1;
                    }
                }
                return Ok(report);
            }
        };
        let patcher = self.patcher();
        let back = template.layout().back as usize;
        let mut words = [0u32; MAX_TEMPLATE_WORDS];
        let words = &mut words[..template.bytes() / 4];
        let mut head = 0u32;
        for index in 0..*sites_in_use {
            if !is_candidate(index, opt) {
                continue;
            }
            let site = &self.sites[index];
            let addr = site.addr.load(Ordering::Relaxed);
            let original = site.original.load(Ordering::Relaxed);
            let (from, to) = (addr as u32, addr.wrapping_add(4) as u32);
            let slot = match alloc.allocate_where(|s| {
                SlotAllocator::<MAX_SLOTS>::reachable(addr, s)
                    && BranchKind::B.reach((s.addr() + back) as u32, to).is_ok()
            }) {
                Ok(s) => s,
                Err(e) => {
                    let why = if e == SlotError::Exhausted {
                        NotOptimized::NoSlot
                    } else {
                        NotOptimized::OutOfRange
                    };
                    opt[index] = Opt::Failed(why);
                    report.not_optimized += 1;
                    continue;
                }
            };
            let variant = if site.direct.load(Ordering::Relaxed) {
                Variant::Direct
            } else {
                Variant::StepOnly
            };
            let fill = Fill {
                slot: slot.addr() as u32,
                addr: from,
                insn: if variant == Variant::Direct {
                    original
                } else {
                    NEVER_RUN
                },
                registry: self as *const Self as usize as u32,
                site: site as *const Site as usize as u32,
                callback: Self::callback_address() as u32,
            };
            let encoded = template
                .fill(fill, words)
                .and_then(|()| Branch::replacing(Insn(original), from, slot.addr() as u32));
            let Ok(branch) = encoded else {
                // The slot was chosen with the encoder's own reach rule both ways, so this
                // is not expected; if it happens the slot was never used and the probe
                // stays a breakpoint.
                let _ = alloc.release_unused(slot);
                opt[index] = Opt::Failed(NotOptimized::OutOfRange);
                report.not_optimized += 1;
                continue;
            };
            if let Err(e) = patcher.write_unpublished(slot.addr(), words) {
                let _ = alloc.release_unused(slot);
                self.abandon_batch(opt, alloc, head);
                return Err(e.into());
            }
            site.batch_word.store(branch.word(), Ordering::Relaxed);
            site.batch_next.store(head, Ordering::Relaxed);
            head = index as u32 + 1;
            opt[index] = Opt::Optimized(slot, variant);
            report.optimized += 1;
        }
        if head == 0 {
            return Ok(report);
        }
        if let Err(e) = patcher.patch_distinct(&Batch {
            registry: self,
            head,
        }) {
            self.abandon_batch(opt, alloc, head);
            return Err(e.into());
        }
        report.rendezvous = 1;
        Ok(report)
    }

    /// Undoes a batch that was never published: its sites are candidates again and their
    /// slots free.
    fn abandon_batch(&self, opt: &mut [Opt; N], alloc: &mut SlotAllocator<MAX_SLOTS>, head: u32) {
        let mut i = head;
        while i != 0 {
            let index = i as usize - 1;
            if let Opt::Optimized(slot, _) = opt[index] {
                let _ = alloc.release_unused(slot);
            }
            opt[index] = Opt::Candidate;
            i = self.sites[index].batch_next.load(Ordering::Relaxed);
        }
    }

    /// The address trampolines call: [`optimized_entry`] for this registry type.
    fn callback_address() -> usize {
        #[cfg(target_arch = "arm")]
        {
            optimized_entry::<P, C, N> as unsafe extern "C" fn(_, _, _) -> u32 as usize
        }
        #[cfg(not(target_arch = "arm"))]
        {
            0
        }
    }

    /// Lends an instruction slot (e.g. for an emulation copy, see
    /// `arch::emulate`) from the same allocator the trampolines use. It is the
    /// caller's until [`Kprobes::release_slot`].
    ///
    /// # Errors
    ///
    /// [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); [`KprobeError::Slot`] with [`SlotError::Exhausted`] when every slot is
    /// in use or dirty (or another slot error when the region is unusable).
    pub fn allocate_slot(&self) -> Result<Slot, KprobeError> {
        let mut g = self.lock()?;
        let slots = &mut g.slots;
        let slot = self.allocator(slots, &optprobe::template())?.allocate()?;
        slots.lent[slot.index() / 32] |= 1 << (slot.index() % 32);
        Ok(slot)
    }

    /// Gives back a slot [`Kprobes::allocate_slot`] lent. It is dirty until a later
    /// [`Kprobes::reclaim_slots`] (or any unoptimize) sees no CPU in it. Slots the
    /// registry uses itself cannot be released here.
    ///
    /// # Errors
    ///
    /// [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); [`KprobeError::Slot`] with [`SlotError::NotInUse`] when `slot` was not
    /// lent by [`Kprobes::allocate_slot`] or was already given back.
    pub fn release_slot(&self, slot: Slot) -> Result<(), KprobeError> {
        let mut g = self.lock()?;
        let slots = &mut g.slots;
        let (word, bit) = (slot.index() / 32, 1u32 << (slot.index() % 32));
        let lent = slots.lent.get(word).is_some_and(|w| w & bit != 0);
        let alloc = slots.get().filter(|_| lent);
        alloc.ok_or(SlotError::NotInUse(slot))?.release(slot)?;
        slots.lent[word] &= !bit;
        Ok(())
    }

    /// Runs a rendezvous and frees every dirty slot no CPU was seen in during it (see
    /// [`crate::optprobe`], "When a slot may be reused"); a slot some CPU may still be
    /// in stays dirty for a later call. Returns how many were freed.
    ///
    /// # Errors
    ///
    /// [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); [`KprobeError::Patch`] or [`KprobeError::Rendezvous`] when the
    /// rendezvous was refused (nothing is freed then).
    pub fn reclaim_slots(&self) -> Result<usize, KprobeError> {
        let mut g = self.lock()?;
        self.reclaim_locked(&mut g)
    }

    /// How many slots are free, in use and dirty (`None` before the first use).
    ///
    /// # Errors
    ///
    /// [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]).
    pub fn slot_counts(&self) -> Result<Option<SlotCounts>, KprobeError> {
        Ok(self.lock()?.slots.get().map(|a| a.counts()))
    }

    /// Calls `each` for every registered probe: addresses in the registry's storage order
    /// (not sorted; sort the rows by `addr` if you need), the probes of one address in
    /// registration order. `each` runs with the registry lock held: a registry call from
    /// it returns [`KprobeError::Reentered`].
    ///
    /// # Errors
    ///
    /// [`KprobeError::InterruptsMasked`] or [`KprobeError::Reentered`] (see
    /// [`Kprobes::register`]); nothing is listed then.
    pub fn list(&self, mut each: impl FnMut(ProbeInfo)) -> Result<(), KprobeError> {
        let g = self.lock()?;
        for site in self.used_sites(&g) {
            let addr = site.addr.load(Ordering::Relaxed);
            if addr == 0 {
                continue;
            }
            let mechanism = self.mechanism(&g, site);
            for p in site
                .probes
                .iter()
                .filter_map(|p| live(p.load(Ordering::Relaxed)))
            {
                each(ProbeInfo {
                    addr,
                    state: p.state(),
                    hits: p.hits(),
                    missed: p.missed(),
                    data: p.data(),
                    mechanism,
                });
            }
        }
        Ok(())
    }

    /// Number of probed addresses.
    pub fn sites(&self) -> usize {
        self.live.load(Ordering::Relaxed) as usize
    }

    /// The trap path: call from the kernel's undefined-instruction handler with the
    /// trapped frame and a [`Memory`] that performs the original's accesses (on the
    /// target, `arch::memory::DirectMemory`). Runs with interrupts masked (as
    /// an exception handler does).
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    pub fn handle_undefined(
        &self,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> Trap {
        if frame.cpsr & step::psr::T != 0 {
            return Trap::NotOurs;
        }
        let pc = frame.pc as usize;
        let Some((_, site)) = self.find(pc) else {
            let text = self.platform.kernel_text();
            if !pc.is_multiple_of(4) || pc < text.start || pc >= text.end {
                return Trap::NotOurs;
            }
            // Another CPU may have just restored the original here: run it. Anything
            // still undefined (our breakpoint without a site, the kernel's own UDF) is
            // not ours.
            let word = Insn(self.read_text(pc));
            let undefined = decode::decode(word) == Decoded::Rejected(RejectReason::Undefined);
            return if BreakpointWord::is_breakpoint(word) || undefined {
                Trap::NotOurs
            } else {
                Trap::Retry
            };
        };
        let original = Insn(site.original.load(Ordering::Relaxed));
        // SAFETY: the site was published by the Acquire load in `find` (see Sync impl).
        let Some(kind) = (unsafe { *site.kind.get() }) else {
            return Trap::NotOurs;
        };
        if !original.cond().passes(frame.cpsr) {
            frame.pc = frame.pc.wrapping_add(4);
            return Trap::Handled;
        }
        // The exception masked IRQs only: handlers run with FIQs masked too, as on the
        // optimized path (whose trampoline masks both).
        let interrupts = self.platform.mask_interrupts();
        let fired = self.fire(site, kind, frame, mem, false);
        self.platform.restore_interrupts(interrupts);
        match fired {
            Fired::Done | Fired::RunInPlace => Trap::Handled,
            Fired::StepFailed(e) => Trap::StepFailed(e),
        }
    }

    /// A hit, after the condition passed: handlers and the step, or a `missed` count
    /// when this CPU is already inside a handler. With `direct`, an instruction that
    /// needs no post handler (or whose step fails) is left for the trampoline to run.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn fire(
        &self,
        site: &Site,
        kind: SimKind,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
        direct: bool,
    ) -> Fired {
        let original = Insn(site.original.load(Ordering::Relaxed));
        let pc = frame.pc;
        // The probes enabled when the hit starts: the ones whose pre handler runs are the
        // ones whose post handler runs, even if one is disabled meanwhile.
        let (active, n) = site.enabled_probes();
        let each = || active[..n].iter().filter_map(|p| live(*p));
        // Only this CPU touches its flag, with interrupts masked, and a hit nested in a
        // handler of this CPU runs strictly inside it: a plain load and store suffice.
        let cpu = self.platform.cpu_id() % MAX_CPUS;
        let running = &self.running[cpu];
        // The step, recorded for `fixup_fault` while it runs (`missed`: inside a handler
        // of an outer hit, whose running flag a fixup must leave set).
        let step = |frame: &mut TrapFrame, mem: &mut _, missed: bool| {
            let outer = self.stepping.begin(cpu, frame, missed);
            let stepped = step::simulate(kind, original, pc, frame, mem);
            self.stepping.end(cpu, outer);
            match stepped {
                Ok(()) => Fired::Done,
                Err(_) if direct => Fired::RunInPlace,
                Err(e) => Fired::StepFailed(e),
            }
        };
        if running.load(Ordering::Relaxed) {
            for p in each() {
                p.missed.fetch_add(1, Ordering::Relaxed);
            }
            return if direct {
                Fired::RunInPlace
            } else {
                step(frame, mem, true)
            };
        }
        running.store(true, Ordering::Relaxed);
        for p in each() {
            p.hits.fetch_add(1, Ordering::Relaxed);
            if let Some(pre) = p.pre {
                pre(p, frame);
            }
        }
        let result = if frame.pc != pc {
            Fired::Done
        } else if direct && each().all(|p| p.post.is_none()) {
            Fired::RunInPlace
        } else {
            let r = step(frame, mem, false);
            if r == Fired::Done {
                for p in each() {
                    if let Some(post) = p.post {
                        post(p, frame);
                    }
                }
            }
            r
        };
        running.store(false, Ordering::Relaxed);
        if result == Fired::Done {
            select_state_from_pc(frame);
        }
        result
    }

    /// The optimized path: a trampoline copy calls this (through
    /// [`optimized_entry`]) with IRQs and FIQs masked and the frame it built. Returns 0
    /// when the trampoline is to run the original instruction itself and branch back,
    /// non-zero when the frame says where to resume. Of the frame's CPSR the trampoline
    /// takes back only the flags and GE bits (NZCVQ, GE[3:0]); masks, state and mode stay
    /// as it was entered with. A step into Thumb state therefore sets bit 0 of `pc`,
    /// which the trampoline's final load of PC interworks on.
    ///
    /// # Panics
    ///
    /// When the original reads or writes PC and cannot be stepped (an UNPREDICTABLE
    /// branch target, or a misaligned load to PC): natively that would be UNPREDICTABLE
    /// too, and there is no instruction to fall back to. Instructions that do not touch
    /// PC run natively in the trampoline instead; an abort there has pc in the slot, which
    /// [`Kprobes::fixup_fault`] moves to the probed instruction.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[cfg_attr(not(any(test, target_arch = "arm")), allow(dead_code))]
    fn optimized_hit(
        &self,
        site: &Site,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> u32 {
        // SAFETY: an optimized site's kind was written before its trampoline was
        // published by a rendezvous, and is not rewritten while any branch to it exists.
        let kind = unsafe { *site.kind.get() };
        let fired = match kind {
            Some(kind) => self.fire(site, kind, frame, mem, site.direct.load(Ordering::Relaxed)),
            None => Fired::StepFailed(StepError::Rejected(RejectReason::Undefined)),
        };
        match fired {
            Fired::Done => {
                if frame.cpsr & step::psr::T != 0 {
                    // An interworking branch to Thumb: the trampoline's `ldm ... pc`
                    // switches state from bit 0 of the address (ARMv7 LoadWritePC).
                    frame.pc |= 1;
                }
                1
            }
            Fired::RunInPlace => 0,
            Fired::StepFailed(e) => panic!(
                "optimized probe at {:#x}: the original cannot be stepped: {e}",
                frame.pc
            ),
        }
    }
}

/// A handler that redirects to an address with bit 0 set asks for Thumb state, as a
/// `bx` to it would: both hit paths resume with CPSR.T set, bit 0 cleared and the IT
/// bits cleared (no IT block is in progress at a branch target), so a breakpoint probe and
/// an optimized one behave alike. A pc with bit 0 clear leaves the state as the frame has
/// it (a step already interworked through its own result).
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
fn select_state_from_pc(frame: &mut TrapFrame) {
    if frame.pc & 1 != 0 {
        frame.pc &= !1;
        frame.cpsr = frame.cpsr & !step::psr::IT | step::psr::T;
    }
}

/// What [`Kprobes::fire`] left to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fired {
    /// The frame says where to resume.
    Done,
    /// The trampoline runs the original itself (optimized direct path only).
    RunInPlace,
    /// The step failed; handlers ran.
    StepFailed(StepError),
}

/// The branch words of one optimize batch: a list threaded through the sites.
struct Batch<'a, P: Platform + 'static, C: CacheOps + 'static, const N: usize> {
    registry: &'a Kprobes<P, C, N>,
    head: u32,
}

impl<P: Platform, C: CacheOps, const N: usize> WordSource for Batch<'_, P, C, N> {
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn each(&self, f: &mut dyn FnMut(usize, u32)) {
        let mut i = self.head;
        while i != 0 {
            let site = &self.registry.sites[i as usize - 1];
            f(
                site.addr.load(Ordering::Relaxed),
                site.batch_word.load(Ordering::Relaxed),
            );
            i = site.batch_next.load(Ordering::Relaxed);
        }
    }
}

/// The callback every trampoline copy calls (its address is a hole in the template).
///
/// # Safety
///
/// Called only by a trampoline copy that [`Kprobes::optimize_pending`] filled: `registry`
/// is the `'static` registry that made it, `site` one of its sites, and `frame` the
/// frame the copy built on its own stack, valid and unaliased for the call.
#[cfg(target_arch = "arm")]
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
unsafe extern "C" fn optimized_entry<
    P: Platform + 'static,
    C: CacheOps + 'static,
    const N: usize,
>(
    registry: *const Kprobes<P, C, N>,
    site: *const Site,
    frame: *mut TrapFrame,
) -> u32 {
    // SAFETY: the caller's contract: both pointers come from 'static values, and the
    // frame pointer is the trampoline's own stack frame, exclusively ours for the call.
    let (registry, site, frame) = unsafe { (&*registry, &*site, &mut *frame) };
    registry.optimized_hit(site, frame, &mut crate::arch::memory::DirectMemory)
}

pub mod fault;
pub use fault::FaultFixup;

#[cfg(test)]
mod tests {
    mod fault;
    mod optimized;

    use super::*;
    use crate::fakes::{FakeCacheOps, FakePlatform};
    use std::boxed::Box;
    use std::sync::atomic::AtomicU32;
    use std::vec::Vec;

    const TEXT: usize = 0x8000;
    const NOPROBE: usize = TEXT + 0x100;
    type Reg = Kprobes<FakePlatform, FakeCacheOps, 16>;

    struct Env {
        p: &'static FakePlatform,
        r: &'static Rendezvous<FakeCacheOps>,
        k: &'static Reg,
    }

    fn env() -> Env {
        FakePlatform::become_cpu(0);
        let p: &'static FakePlatform = Box::leak(Box::new(
            FakePlatform::new(TEXT, 128, 0x10_0000, 16, 1).with_never_probe(NOPROBE..NOPROBE + 16),
        ));
        let r: &'static Rendezvous<FakeCacheOps> =
            Box::leak(Box::new(Rendezvous::new(FakeCacheOps::new(true))));
        let k: &'static Reg = Box::leak(Box::new(Kprobes::new(p, r)));
        Env { p, r, k }
    }

    fn probe(pre: Option<Handler>, post: Option<Handler>, data: usize) -> &'static Kprobe {
        Box::leak(Box::new(Kprobe::new(pre, post, data)))
    }

    type Mem = crate::fakes::FakeMemory;

    const ADD_R0_R0_1: u32 = 0xe280_0001; // add r0, r0, #1
    const ADDNE_R0_R0_1: u32 = 0x1280_0001; // addne r0, r0, #1
    const Z: u32 = 1 << 30;

    fn hit(k: &Reg, addr: usize, frame: &mut TrapFrame) -> Trap {
        frame.pc = addr as u32;
        k.handle_undefined(frame, &mut Mem::default())
    }

    #[test]
    fn register_arms_a_breakpoint_with_the_original_condition_and_unregister_restores_it() {
        let e = env();
        let a = TEXT + 8;
        e.p.set_word(a, ADDNE_R0_R0_1);
        let pr = probe(None, None, 0);
        e.k.register(pr, a).unwrap();
        assert_eq!(e.p.word(a), 0x17f0_01f8, "breakpoint keeps cond NE");
        assert_eq!(pr.state(), ProbeState::Enabled);
        assert_eq!(pr.addr(), Some(a));
        e.k.unregister(pr).unwrap();
        assert_eq!(e.p.word(a), ADDNE_R0_R0_1);
        assert_eq!(pr.state(), ProbeState::Unregistered);
        assert_eq!(pr.addr(), None);
        assert_eq!(e.k.sites(), 0);
    }

    static ORDER: AtomicU32 = AtomicU32::new(0);

    fn record_pre(p: &Kprobe, f: &mut TrapFrame) {
        // Each probe appends its data digit; the frame shows the step has not run yet.
        assert_eq!(f.r[0], 41);
        ORDER.store(
            ORDER.load(Ordering::Relaxed) * 10 + p.data() as u32,
            Ordering::Relaxed,
        );
    }

    fn record_post(p: &Kprobe, f: &mut TrapFrame) {
        assert_eq!(f.r[0], 42, "post sees the stepped result");
        ORDER.store(
            ORDER.load(Ordering::Relaxed) * 10 + 5 + p.data() as u32,
            Ordering::Relaxed,
        );
    }

    #[test]
    fn a_hit_runs_pre_handlers_in_registration_order_steps_once_then_post_handlers() {
        let e = env();
        let a = TEXT + 12;
        e.p.set_word(a, ADD_R0_R0_1);
        let (p1, p2) = (
            probe(Some(record_pre), Some(record_post), 1),
            probe(Some(record_pre), Some(record_post), 2),
        );
        e.k.register(p1, a).unwrap();
        e.k.register(p2, a).unwrap();
        ORDER.store(0, Ordering::Relaxed);
        let mut f = TrapFrame {
            r: [41, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            cpsr: 0x1f,
            ..Default::default()
        };
        assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
        assert_eq!(f.r[0], 42, "stepped exactly once");
        assert_eq!(f.pc as usize, a + 4);
        assert_eq!(ORDER.load(Ordering::Relaxed), 1267);
        assert_eq!((p1.hits(), p2.hits()), (1, 1));
        let mut seen = Vec::new();
        e.k.list(|i| seen.push((i.addr, i.data, i.hits, i.state)))
            .unwrap();
        assert_eq!(
            seen,
            [
                (a, 1, 1, ProbeState::Enabled),
                (a, 2, 1, ProbeState::Enabled)
            ]
        );
    }

    fn never_called(_: &Kprobe, _: &mut TrapFrame) {
        panic!("handler called although the condition failed");
    }

    #[test]
    fn conditional_probe_does_not_fire_when_the_condition_fails() {
        let e = env();
        let a = TEXT + 16;
        e.p.set_word(a, ADDNE_R0_R0_1);
        let pr = probe(Some(never_called), Some(never_called), 0);
        e.k.register(pr, a).unwrap();
        let mut f = TrapFrame {
            cpsr: 0x1f | Z,
            ..Default::default()
        };
        assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
        assert_eq!((f.pc as usize, f.r[0], pr.hits()), (a + 4, 0, 0));
    }

    fn redirect(_: &Kprobe, f: &mut TrapFrame) {
        f.pc = 0x9000;
    }

    #[test]
    fn a_pre_handler_that_changes_pc_redirects_and_skips_the_step_and_post_handlers() {
        let e = env();
        let a = TEXT + 20;
        e.p.set_word(a, ADD_R0_R0_1);
        let pr = probe(Some(redirect), Some(never_called), 0);
        e.k.register(pr, a).unwrap();
        let mut f = TrapFrame {
            cpsr: 0x1f,
            ..Default::default()
        };
        assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
        assert_eq!((f.pc, f.r[0]), (0x9000, 0));
    }

    static INNER: AtomicUsize = AtomicUsize::new(0);
    static REG: AtomicUsize = AtomicUsize::new(0);

    fn reenter(_: &Kprobe, _: &mut TrapFrame) {
        // The handler itself runs a probed instruction.
        // SAFETY: REG holds the address of a leaked (so `'static`) `Reg`.
        let k = unsafe { &*(REG.load(Ordering::Relaxed) as *const Reg) };
        let mut f = TrapFrame {
            cpsr: 0x1f,
            ..Default::default()
        };
        assert_eq!(hit(k, INNER.load(Ordering::Relaxed), &mut f), Trap::Handled);
        assert_eq!(f.r[0], 1, "the reentrant hit is still stepped");
    }

    #[test]
    fn a_probe_hit_inside_a_handler_counts_missed_and_is_stepped_without_handlers() {
        let e = env();
        let (outer, inner) = (TEXT + 24, TEXT + 28);
        e.p.set_word(outer, ADD_R0_R0_1);
        e.p.set_word(inner, ADD_R0_R0_1);
        REG.store(e.k as *const Reg as usize, Ordering::Relaxed);
        INNER.store(inner, Ordering::Relaxed);
        let (po, pi) = (
            probe(Some(reenter), None, 0),
            probe(Some(never_called), None, 0),
        );
        e.k.register(po, outer).unwrap();
        e.k.register(pi, inner).unwrap();
        let mut f = TrapFrame {
            cpsr: 0x1f,
            ..Default::default()
        };
        assert_eq!(hit(e.k, outer, &mut f), Trap::Handled);
        assert_eq!(
            (po.hits(), po.missed(), pi.hits(), pi.missed()),
            (1, 0, 0, 1)
        );
        // The CPU is no longer "in a handler" afterwards: the next outer hit fires.
        let mut f = TrapFrame {
            cpsr: 0x1f,
            ..Default::default()
        };
        assert_eq!(hit(e.k, outer, &mut f), Trap::Handled);
        assert_eq!((po.hits(), po.missed(), pi.missed()), (2, 0, 2));
    }

    #[test]
    fn a_trap_without_a_probe_is_retried_if_the_word_was_restored_and_not_ours_otherwise() {
        let e = env();
        let a = TEXT + 32;
        let mut f = TrapFrame {
            cpsr: 0x1f,
            ..Default::default()
        };
        e.p.set_word(a, ADD_R0_R0_1);
        assert_eq!(
            hit(e.k, a, &mut f),
            Trap::Retry,
            "restored instruction: run it"
        );
        e.p.set_word(a, 0xe7f0_01f8);
        assert_eq!(
            hit(e.k, a, &mut f),
            Trap::NotOurs,
            "a breakpoint nobody registered"
        );
        e.p.set_word(a, 0xe7f0_00f0);
        assert_eq!(hit(e.k, a, &mut f), Trap::NotOurs, "the kernel's own udf");
        assert_eq!(hit(e.k, 0x20_0000, &mut f), Trap::NotOurs, "outside text");
        let mut t = TrapFrame {
            cpsr: 0x3f,
            ..Default::default()
        };
        assert_eq!(hit(e.k, a, &mut t), Trap::NotOurs, "Thumb state");
    }

    #[test]
    fn disable_restores_the_original_when_no_enabled_probe_remains_and_enable_rearms() {
        let e = env();
        let a = TEXT + 36;
        e.p.set_word(a, ADD_R0_R0_1);
        let (p1, p2) = (probe(None, None, 1), probe(None, None, 2));
        e.k.register(p1, a).unwrap();
        e.k.register(p2, a).unwrap();
        e.k.disable(p1).unwrap();
        assert_eq!(e.p.word(a), 0xe7f0_01f8, "p2 still armed");
        let mut f = TrapFrame {
            cpsr: 0x1f,
            ..Default::default()
        };
        hit(e.k, a, &mut f);
        assert_eq!(
            (p1.hits(), p2.hits()),
            (0, 1),
            "a disabled probe does not fire"
        );
        e.k.disable(p2).unwrap();
        assert_eq!(e.p.word(a), ADD_R0_R0_1, "no enabled probe: original back");
        assert_eq!(e.k.disable(p2), Ok(()), "disabling twice is harmless");
        assert_eq!(p2.state(), ProbeState::Disabled);
        e.k.enable(p2).unwrap();
        assert_eq!(e.p.word(a), 0xe7f0_01f8);
        assert_eq!(e.k.enable(p2), Ok(()), "enabling twice is harmless");
        e.k.unregister(p2).unwrap();
        assert_eq!(e.p.word(a), ADD_R0_R0_1, "p1 is disabled: nothing armed");
        e.k.unregister(p1).unwrap();
        assert_eq!((e.p.word(a), e.k.sites()), (ADD_R0_R0_1, 0));
    }

    #[test]
    fn every_registration_error_leaves_text_and_registry_unchanged() {
        let e = env();
        let pr = probe(None, None, 0);
        e.p.set_word(TEXT + 40, 0xe190_0f9f); // ldrex r0, [r0]
        e.p.set_word(TEXT + 44, 0xe52d_0100); // str r0, [sp, #-256]!
        e.p.set_word(TEXT + 48, 0xe72d_0001); // str r0, [sp, -r1]!
        let before: Vec<u32> = (0..128).map(|i| e.p.word(TEXT + 4 * i)).collect();
        assert_eq!(
            e.k.register(pr, TEXT + 2),
            Err(KprobeError::Misaligned { addr: TEXT + 2 })
        );
        assert_eq!(
            e.k.register(pr, TEXT + 1),
            Err(KprobeError::ThumbAddress { addr: TEXT + 1 })
        );
        assert_eq!(
            e.k.register(pr, TEXT - 4),
            Err(KprobeError::OutsideText { addr: TEXT - 4 })
        );
        assert_eq!(
            e.k.register(pr, TEXT + 512),
            Err(KprobeError::OutsideText { addr: TEXT + 512 })
        );
        assert_eq!(
            e.k.register(pr, NOPROBE + 4),
            Err(KprobeError::NeverProbe {
                addr: NOPROBE + 4,
                range: (NOPROBE, NOPROBE + 16)
            })
        );
        assert_eq!(
            e.k.register(pr, TEXT + 40),
            Err(KprobeError::Rejected {
                addr: TEXT + 40,
                word: 0xe190_0f9f,
                reason: RejectReason::Exclusive
            })
        );
        assert_eq!(
            e.k.register(pr, TEXT + 44),
            Err(KprobeError::StackWrite {
                addr: TEXT + 44,
                bytes: Some(256)
            })
        );
        assert_eq!(
            e.k.register(pr, TEXT + 48),
            Err(KprobeError::StackWrite {
                addr: TEXT + 48,
                bytes: None
            })
        );
        let after: Vec<u32> = (0..128).map(|i| e.p.word(TEXT + 4 * i)).collect();
        assert_eq!(before, after);
        assert_eq!((pr.state(), e.k.sites()), (ProbeState::Unregistered, 0));
    }

    #[test]
    fn registering_twice_or_using_an_unregistered_probe_is_an_error() {
        let e = env();
        let pr = probe(None, None, 0);
        assert_eq!(e.k.unregister(pr), Err(KprobeError::NotRegistered));
        assert_eq!(e.k.disable(pr), Err(KprobeError::NotRegistered));
        assert_eq!(e.k.enable(pr), Err(KprobeError::NotRegistered));
        e.k.register(pr, TEXT + 52).unwrap();
        assert_eq!(
            e.k.register(pr, TEXT + 56),
            Err(KprobeError::AlreadyRegistered { addr: TEXT + 52 })
        );
        assert_eq!(
            e.k.register(pr, TEXT + 52),
            Err(KprobeError::AlreadyRegistered { addr: TEXT + 52 })
        );
        e.k.unregister(pr).unwrap();
        assert_eq!(
            e.k.unregister(pr),
            Err(KprobeError::NotRegistered),
            "use after unregister"
        );
        e.k.register(pr, TEXT + 56).unwrap();
        assert_eq!(pr.addr(), Some(TEXT + 56), "re-registering elsewhere works");
    }

    #[test]
    fn running_out_of_sites_or_probes_per_address_is_an_error() {
        let e = env();
        // N = 16: at most 8 addresses.
        for i in 0..8 {
            e.k.register(probe(None, None, i), TEXT + 200 + 4 * i)
                .unwrap();
        }
        let extra = probe(None, None, 99);
        assert_eq!(
            e.k.register(extra, TEXT + 240),
            Err(KprobeError::OutOfSites)
        );
        assert_eq!(e.p.word(TEXT + 240), 0xe320_f000, "no breakpoint written");
        for _ in 1..PROBES_PER_ADDRESS {
            e.k.register(probe(None, None, 0), TEXT + 200).unwrap();
        }
        assert_eq!(
            e.k.register(extra, TEXT + 200),
            Err(KprobeError::TooManyAtAddress { addr: TEXT + 200 })
        );
        assert_eq!(extra.state(), ProbeState::Unregistered);
    }

    #[test]
    fn registry_calls_with_irqs_masked_or_from_inside_the_registry_are_refused_at_once() {
        let e = env();
        let (a, b) = (TEXT + 84, TEXT + 88);
        let (p1, p2) = (probe(None, None, 1), probe(None, None, 2));
        e.k.register(p1, a).unwrap();
        let masked = KprobeError::InterruptsMasked { cpu: 0 };
        let irq = e.p.mask_interrupts();
        assert_eq!(e.k.register(p2, b), Err(masked));
        assert_eq!(e.k.register_symbol(p2, &Symbols, "work", 0), Err(masked));
        assert_eq!(e.k.unregister(p1), Err(masked));
        assert_eq!(e.k.disable(p1), Err(masked));
        assert_eq!(e.k.enable(p1), Err(masked));
        assert_eq!(e.k.mechanism_of(p1), Err(masked));
        assert_eq!(e.k.optimize_pending(), Err(masked));
        assert_eq!(e.k.list(|_| {}), Err(masked));
        assert_eq!(e.k.slot_counts(), Err(masked));
        assert_eq!(e.k.allocate_slot().map(|_| ()), Err(masked));
        assert_eq!(e.k.reclaim_slots(), Err(masked));
        e.p.restore_interrupts(irq);
        assert!(
            masked.to_string().contains("IRQs masked on CPU 0"),
            "{masked}"
        );
        assert!(
            masked
                .to_string()
                .contains("enable IRQs first, e.g. `aarch32_cpu::interrupt::enable()`"),
            "{masked}"
        );

        // From the listing callback (the lock is held by this CPU): refused, not a hang.
        let mut inner = None;
        e.k.list(|_| inner = Some(e.k.register(p2, b))).unwrap();
        assert_eq!(inner, Some(Err(KprobeError::Reentered { cpu: 0 })));
        assert_eq!(p2.state(), ProbeState::Unregistered);
        assert_eq!(e.p.word(b), 0xe320_f000, "nothing written");

        // Another CPU holds the lock: a masked caller is refused at once (it would
        // spin where it cannot answer that CPU's rendezvous), an unmasked one waits.
        let (held, release) = (
            std::sync::Barrier::new(2),
            std::sync::atomic::AtomicBool::new(false),
        );
        std::thread::scope(|sc| {
            sc.spawn(|| {
                FakePlatform::become_cpu(1);
                e.k.list(|_| {
                    held.wait();
                    while !release.load(Ordering::Acquire) {
                        std::thread::yield_now();
                    }
                })
                .unwrap();
            });
            held.wait();
            let irq = e.p.mask_interrupts();
            assert_eq!(
                e.k.register(p2, b),
                Err(masked),
                "refused while cpu 1 holds it"
            );
            e.p.restore_interrupts(irq);
            release.store(true, Ordering::Release);
            e.k.register(p2, b).unwrap();
        });
        e.k.unregister(p2).unwrap();
        e.k.unregister(p1).unwrap();
    }

    struct Symbols;

    impl SymbolLookup for Symbols {
        fn lookup(&self, name: &str) -> Option<Range<usize>> {
            match name {
                "work" => Some(TEXT + 64..TEXT + 80),
                // 14 bytes: the word at offset 12 would run past its end.
                "short" => Some(TEXT + 64..TEXT + 78),
                _ => None,
            }
        }
    }

    #[test]
    fn probes_by_symbol_and_offset_check_the_offset() {
        let e = env();
        let pr = probe(None, None, 0);
        assert_eq!(
            e.k.register_symbol(pr, &Symbols, "nope", 0),
            Err(KprobeError::UnknownSymbol)
        );
        assert_eq!(
            e.k.register_symbol(pr, &Symbols, "work", 6),
            Err(KprobeError::MisalignedOffset { offset: 6 })
        );
        assert_eq!(
            e.k.register_symbol(pr, &Symbols, "work", 16),
            Err(KprobeError::OffsetOutsideSymbol {
                offset: 16,
                size: 16
            })
        );
        assert_eq!(
            e.k.register_symbol(pr, &Symbols, "short", 12),
            Err(KprobeError::OffsetOutsideSymbol {
                offset: 12,
                size: 14
            }),
            "the whole instruction must lie inside the symbol"
        );
        e.k.register_symbol(pr, &Symbols, "work", 12).unwrap();
        assert_eq!(pr.addr(), Some(TEXT + 76));
    }

    #[test]
    fn probe_operations_from_inside_a_rendezvous_are_refused_and_change_nothing() {
        let e = env();
        let a = TEXT + 84;
        let (p1, p2, p3) = (
            probe(None, None, 1),
            probe(None, None, 2),
            probe(None, None, 3),
        );
        e.k.register(p1, a).unwrap();
        e.k.register(p2, a).unwrap();
        let results = std::sync::Mutex::new(Vec::new());
        e.r.run(e.p, RunOn::OneCpu(0), &|_| {
            let mut r = results.lock().unwrap();
            r.push(
                e.k.register(p3, TEXT + 88)
                    .map_err(|e| std::format!("{e:?}")),
            );
            r.push(e.k.unregister(p2).map_err(|e| std::format!("{e:?}")));
            r.push(e.k.disable(p1).map_err(|e| std::format!("{e:?}")));
        })
        .unwrap();
        let r = results.into_inner().unwrap();
        // A rendezvous callback runs with IRQs masked: refused before the registry lock.
        assert_eq!(r, vec![Err("InterruptsMasked { cpu: 0 }".to_string()); 3]);
        assert_eq!(
            (p1.state(), p2.state(), p3.state()),
            (
                ProbeState::Enabled,
                ProbeState::Enabled,
                ProbeState::Unregistered
            )
        );
        assert_eq!(e.p.word(TEXT + 88), 0xe320_f000);
        let mut n = 0;
        e.k.list(|_| n += 1).unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn a_step_that_faults_natively_is_reported_not_hidden() {
        let e = env();
        let a = TEXT + 92;
        e.p.set_word(a, 0xe1c2_00d0); // ldrd r0, r1, [r2]
        e.k.register(probe(None, None, 0), a).unwrap();
        let mut f = TrapFrame {
            r: [0, 0, 0x1002, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            cpsr: 0x1f,
            ..Default::default()
        };
        assert_eq!(
            hit(e.k, a, &mut f),
            Trap::StepFailed(StepError::AlignmentFault { address: 0x1002 })
        );
        assert_eq!(f.pc as usize, a, "the frame stays at the probe");
    }

    #[test]
    fn lookup_finds_every_site_among_many_with_collisions() {
        let e = env();
        let probes: Vec<_> = (0..8).map(|i| probe(None, None, i)).collect();
        // Eight addresses in a 16-entry table: some share a first probe position.
        for (i, p) in probes.iter().enumerate() {
            e.k.register(p, TEXT + 60 * i).unwrap();
        }
        for (i, p) in probes.iter().enumerate() {
            let mut f = TrapFrame {
                cpsr: 0x1f,
                ..Default::default()
            };
            assert_eq!(hit(e.k, TEXT + 60 * i, &mut f), Trap::Handled);
            assert_eq!(p.hits(), 1);
        }
        // Remove every other one; the rest stay reachable past the tombstones.
        for p in probes.iter().step_by(2) {
            e.k.unregister(p).unwrap();
        }
        for (i, p) in probes.iter().enumerate().skip(1).step_by(2) {
            let mut f = TrapFrame {
                cpsr: 0x1f,
                ..Default::default()
            };
            assert_eq!(hit(e.k, TEXT + 60 * i, &mut f), Trap::Handled);
            assert_eq!(p.hits(), 2);
        }
    }

    #[test]
    fn kprobe_errors_read_as_sentences() {
        let all = [
            KprobeError::ThumbAddress { addr: 1 },
            KprobeError::Misaligned { addr: 2 },
            KprobeError::OutsideText { addr: 4 },
            KprobeError::NeverProbe {
                addr: 4,
                range: (0, 8),
            },
            KprobeError::Rejected {
                addr: 4,
                word: 0,
                reason: RejectReason::Exclusive,
            },
            KprobeError::StackWrite {
                addr: 4,
                bytes: Some(256),
            },
            KprobeError::StackWrite {
                addr: 4,
                bytes: None,
            },
            KprobeError::AlreadyRegistered { addr: 4 },
            KprobeError::NotRegistered,
            KprobeError::OutOfSites,
            KprobeError::TooManyAtAddress { addr: 4 },
            KprobeError::UnknownSymbol,
            KprobeError::OffsetOutsideSymbol { offset: 8, size: 4 },
            KprobeError::MisalignedOffset { offset: 2 },
            KprobeError::Patch(PatchError::Misaligned { addr: 2 }),
            KprobeError::Rendezvous(RendezvousError::CallerNotOnline { cpu: 9 }),
            KprobeError::InterruptsMasked { cpu: 1 },
            KprobeError::Reentered { cpu: 1 },
            KprobeError::Slot(SlotError::Exhausted),
            KprobeError::Slot(SlotError::Claimed(crate::claims::ClaimError::Full)),
            KprobeError::Slot(SlotError::Claimed(crate::claims::ClaimError::Overlaps {
                start: 0x1000,
                end: 0x2000,
            })),
            KprobeError::ForeignProbe {
                addr: 4,
                word: 0xe7f0_01f8,
            },
        ];
        let texts: Vec<_> = all.iter().map(|e| e.to_string()).collect();
        for (i, t) in texts.iter().enumerate() {
            assert!(!t.is_empty() && !texts[..i].contains(t), "{t}");
        }
        assert!(texts[0].contains("Thumb code cannot be probed yet"));
    }

    #[test]
    fn kprobe_error_debug_prints_addresses_in_hex() {
        assert_eq!(
            format!("{:?}", KprobeError::Misaligned { addr: 0x1002 }),
            "Misaligned { addr: 0x1002 }"
        );
        assert_eq!(
            format!(
                "{:?}",
                KprobeError::NeverProbe {
                    addr: 0x1004,
                    range: (0x1000, 0x2000)
                }
            ),
            "NeverProbe { addr: 0x1004, range: (0x1000, 0x2000) }"
        );
        assert_eq!(
            format!(
                "{:?}",
                KprobeError::ForeignProbe {
                    addr: 0x8000_0000,
                    word: 0xe7f0_01f8
                }
            ),
            "ForeignProbe { addr: 0x80000000, word: 0xe7f001f8 }"
        );
        assert_eq!(
            format!("{:?}", KprobeError::InterruptsMasked { cpu: 3 }),
            "InterruptsMasked { cpu: 3 }"
        );
        assert_eq!(
            format!(
                "{:?}",
                KprobeError::Patch(PatchError::OutsideText { addr: 0x40 })
            ),
            "Patch(OutsideText { addr: 0x40 })"
        );
    }
}
