//! The stop-machine rendezvous: runs a callback while every online CPU is parked with IRQs and FIQs masked.
//!
//! # Protocol
//!
//! One [`Rendezvous`] value (a `static` the kernel owns) serves the whole machine. A call
//! to [`Rendezvous::run`] on the *initiating* CPU:
//!
//! 1. checks that it may start (see [`RendezvousError`]) and takes the initiator lock,
//!    so concurrent initiators on different CPUs run one after the other, in the order
//!    they asked (a ticket lock: see "Two initiators at once" below);
//! 2. snapshots the online CPUs as the participants, publishes the job (a pointer to
//!    the callback on its own stack) and invites every other participant, then sends
//!    them the platform's IPI;
//! 3. takes part itself. Every participant walks the states
//!    PREPARE → DISABLE_IRQ → RUN → EXIT, acknowledging each; the **last** CPU to
//!    acknowledge a state advances the machine to the next one, so no CPU moves on
//!    before all have arrived. IRQs and FIQs are masked on entry to DISABLE_IRQ and
//!    restored after EXIT; the callback runs in RUN, on the chosen CPU or on all; every
//!    CPU executes an ISB before it leaves;
//! 4. waits until every participant has acknowledged EXIT (the last one returns the
//!    machine to idle), then releases the lock and returns.
//!
//! An invited CPU joins when its IPI handler calls [`Rendezvous::ipi_entry`]. Joining
//! means atomically clearing its own bit in the invitation mask, so a CPU takes part
//! in each rendezvous exactly once however many ways it gets there: the IPI, a stale
//! IPI arriving later, or the polling below.
//!
//! # Where each CPU was: the observation
//!
//! Each participant records where it was when it joined, and
//! [`Rendezvous::run_observed`] hands the initiator that record ([`Observation`]): the
//! initiator itself and a CPU that joined while waiting for the initiator lock with
//! interrupts enabled are in the crate's own code ([`Interrupted::InCrate`]); a CPU
//! whose kernel called [`Rendezvous::ipi_entry_at`] was interrupted at the pc it passed
//! ([`Interrupted::At`]); [`Rendezvous::ipi_entry`] and a CPU that joined while waiting
//! with interrupts masked (it may be a handler running on top of anything) record
//! [`Interrupted::Unknown`]. The probe registry frees an instruction slot only after a
//! rendezvous in which no CPU may be inside it (see `optprobe`): taking the IPI alone
//! proves nothing, because an interrupt can land in a slot again and again.
//!
//! # Why none of the seed's failures can happen
//!
//! - **Nested rendezvous** (a patch helper that starts a rendezvous from a callback):
//!   each CPU's "in a callback" and "taking part" bits are checked first, and `run`
//!   returns [`RendezvousError::NestedInCallback`] or
//!   [`RendezvousError::AlreadyInRendezvous`] instead of waiting for itself.
//! - **Two initiators at once**: the loser spins on the initiator lock, and while it
//!   spins it keeps looking for an invitation addressed to it and joins the winner's
//!   rendezvous from there. It cannot deadlock even when its IPI is not delivered
//!   while it spins (interrupts masked, or the host fake, where IPIs are only
//!   recorded). On a real kernel the IPI may also arrive during the spin; the
//!   invitation bit makes whichever path comes second a no-op.
//! - **A waiter starved by a busy initiator**: the lock is a ticket lock, so waiters
//!   take it in the order they arrived. A test-and-set lock let a CPU that starts
//!   rendezvous back to back take it again before a waiter on another CPU (busy joining
//!   each of those rendezvous) saw it free, so a CPU going offline could wait forever
//!   (seen with threads as CPUs). Each CPU waits with at most one ticket at a time (its
//!   `initiating` bit is set first), so a nested context never queues behind itself.
//! - **A CPU missing the start**: the initiator publishes everything before it
//!   invites, and invites before it sends the IPI, so a CPU that sees the IPI sees the
//!   invitation (no lost wake-up; loom checks this).
//! - **Shared-list edits in an all-CPU callback, maintenance done by one CPU only**:
//!   these are rules for callbacks; [`crate::patch`] is the crate's only callback and
//!   follows them (see there).
//!
//! # Wiring it into a kernel
//!
//! ```text
//! static RENDEZVOUS: Rendezvous<ArmCacheOps> = Rendezvous::new(ArmCacheOps);
//!
//! // The kernel's handler for the SGI its `Platform::send_ipi` sends (IRQ context),
//! // with the pc the interrupt will return to (lr_irq - 4 at the IRQ vector):
//! fn kprobes_sgi(_sgi: u32, _from: usize, interrupted_pc: usize) {
//!     RENDEZVOUS.ipi_entry_at(&PLATFORM, interrupted_pc);
//! }
//!
//! // Thread context, interrupts enabled:
//! RENDEZVOUS.run(&PLATFORM, RunOn::AllCpus, &|cpu| { /* idempotent, per-CPU work */ })?;
//!
//! // A CPU coming online / going offline (IRQs masked; see `hotplug`):
//! RENDEZVOUS.cpu_online(&PLATFORM, || mark_online(cpu))?;
//! RENDEZVOUS.cpu_offline(&PLATFORM, || mark_offline(cpu))?;
//! ```
//!
//! The kernel's contract: every CPU in [`Platform::online_cpus`] answers the IPI (its
//! handler calls `ipi_entry`); the set changes only through the hotplug hooks
//! [`Rendezvous::cpu_online`] and [`Rendezvous::cpu_offline`] (module [`hotplug`]), which
//! never run while a rendezvous is in flight;
//! [`Platform::send_ipi`] makes the caller's earlier writes visible before a target can
//! take the interrupt (a DSB before the GIC write); the
//! `Platform` methods the protocol calls (`cpu_id`, `online_cpus`, `send_ipi`,
//! `mask_interrupts`, `restore_interrupts`, `interrupts_masked`, `text_alias`) must
//! themselves never be probed.
//!
//! # Host model
//!
//! In host tests CPUs are threads (`fakes::FakePlatform`) and an IPI is only
//! a recorded bit: an idle thread-CPU polls it with
//! `fakes::FakePlatform::take_pending_ipi` and calls `ipi_entry`, which is
//! what a real CPU's interrupt entry does when the SGI arrives. The initiator-lock
//! spin joins by polling on both, so it needs no delivery.
//!
//! Everything that runs during a rendezvous is placed in the `.text.noprobe` section
//! on the target, which the kernel's linker script must cover with its never-probe
//! range.

use crate::cache::CacheOps;
use crate::claims::SlotRegionClaims;
use crate::platform::{CpuSet, InterruptState, MAX_CPUS, Platform};
use crate::sync::{AtomicPtr, AtomicU32, AtomicUsize, Doorbell, Ordering};
use core::fmt;

/// Where the callback of a rendezvous runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOn {
    /// On this CPU only; the others stay parked until it returns.
    OneCpu(usize),
    /// On every participating CPU, concurrently. The callback must then be idempotent
    /// or strictly per-CPU: it must not edit shared lists or tables.
    AllCpus,
}

impl RunOn {
    #[inline(always)]
    fn includes(self, cpu: usize) -> bool {
        match self {
            RunOn::OneCpu(chosen) => chosen == cpu,
            RunOn::AllCpus => true,
        }
    }
}

/// Where a participant was when it joined a rendezvous.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupted {
    /// In the crate's own code, in thread context: the initiator, or a CPU that joined
    /// while waiting for the initiator lock with interrupts enabled. In no slot.
    InCrate,
    /// Interrupted by the IPI; resumes at this pc ([`Rendezvous::ipi_entry_at`]).
    At(usize),
    /// Anywhere, for all the crate knows: the kernel did not pass the pc
    /// ([`Rendezvous::ipi_entry`]), or the CPU joined while waiting with interrupts
    /// masked (possibly a handler running on top of a trampoline).
    Unknown,
}

// `Interrupted` in one word (pcs are at least 2-aligned: the two top odd values are
// free).
const AT_IN_CRATE: usize = usize::MAX;
const AT_UNKNOWN: usize = usize::MAX - 2;

impl Interrupted {
    #[inline(always)]
    const fn encode(self) -> usize {
        match self {
            Interrupted::InCrate => AT_IN_CRATE,
            Interrupted::Unknown => AT_UNKNOWN,
            // An odd pc at the top of the address space would alias a tag: keep the
            // conservative meaning.
            Interrupted::At(pc) if pc >= AT_UNKNOWN => AT_UNKNOWN,
            Interrupted::At(pc) => pc,
        }
    }

    #[inline(always)]
    const fn decode(word: usize) -> Interrupted {
        match word {
            AT_IN_CRATE => Interrupted::InCrate,
            AT_UNKNOWN => Interrupted::Unknown,
            pc => Interrupted::At(pc),
        }
    }
}

/// Where every participant of one rendezvous was when it joined
/// ([`Rendezvous::run_observed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    participants: CpuSet,
    at: [usize; MAX_CPUS],
}

impl Observation {
    /// The CPUs that took part.
    pub fn participants(&self) -> CpuSet {
        self.participants
    }

    /// Where `cpu` was when it joined (`None` if it did not take part).
    pub fn at(&self, cpu: usize) -> Option<Interrupted> {
        self.participants
            .contains(cpu)
            .then(|| Interrupted::decode(self.at[cpu]))
    }

    /// Whether some participant may have been inside `range` (an interrupted pc in it,
    /// or a participant whose pc is unknown). A CPU that was in the range and is not a
    /// participant is the caller's to rule out (it was not online).
    pub fn may_be_in(&self, range: core::ops::Range<usize>) -> bool {
        self.participants
            .iter()
            .any(|cpu| match Interrupted::decode(self.at[cpu]) {
                Interrupted::InCrate => false,
                Interrupted::At(pc) => range.contains(&pc),
                Interrupted::Unknown => true,
            })
    }

    /// Whether some participant's pc is unknown (then [`Observation::may_be_in`] is
    /// true of every range).
    pub fn any_unknown(&self) -> bool {
        self.participants
            .iter()
            .any(|cpu| self.at[cpu] == AT_UNKNOWN)
    }
}

/// Why a rendezvous (or an exclusive section) was refused. Nothing has happened on any
/// CPU when one of these is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RendezvousError {
    /// The calling CPU is not in [`Platform::online_cpus`] (or not below
    /// [`crate::platform::MAX_CPUS`]), so the protocol cannot count it.
    CallerNotOnline {
        /// The calling CPU.
        cpu: usize,
    },
    /// [`RunOn::OneCpu`] names a CPU that is not online.
    TargetNotOnline {
        /// The CPU that was asked for.
        target: usize,
    },
    /// Called from inside a rendezvous callback: every other CPU is parked waiting for
    /// that callback, so a second rendezvous could never gather them.
    NestedInCallback {
        /// The calling CPU.
        cpu: usize,
    },
    /// This CPU is already starting or taking part in a rendezvous (the call came from
    /// an interrupt handler, or a platform hook, running on top of it).
    AlreadyInRendezvous {
        /// The calling CPU.
        cpu: usize,
    },
    /// IRQs are masked on the calling CPU. A caller with interrupts off is typically an
    /// exception handler or holds a lock another CPU spins on with interrupts off; that
    /// CPU would never take the IPI and the rendezvous would never gather.
    InterruptsMasked {
        /// The calling CPU.
        cpu: usize,
    },
}

impl fmt::Display for RendezvousError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RendezvousError::CallerNotOnline { cpu } => {
                write!(f, "CPU {cpu} is not online and cannot start a rendezvous")
            }
            RendezvousError::TargetNotOnline { target } => {
                write!(
                    f,
                    "the rendezvous callback target CPU {target} is not online"
                )
            }
            RendezvousError::NestedInCallback { cpu } => write!(
                f,
                "CPU {cpu} tried to start a rendezvous from inside a rendezvous callback"
            ),
            RendezvousError::AlreadyInRendezvous { cpu } => write!(
                f,
                "CPU {cpu} is already starting or taking part in a rendezvous"
            ),
            RendezvousError::InterruptsMasked { cpu } => write!(
                f,
                "CPU {cpu} tried to start a rendezvous with interrupts masked"
            ),
        }
    }
}

impl core::error::Error for RendezvousError {}

// The state word: the generation (one per rendezvous) above the phase.
const PHASE_BITS: u32 = 3;
const PHASE_MASK: u32 = (1 << PHASE_BITS) - 1;
const IDLE: u32 = 0;
const PREPARE: u32 = 1;
const DISABLE_IRQ: u32 = 2;
const RUN: u32 = 3;
const EXIT: u32 = 4;

#[inline(always)]
const fn encode(generation: u32, phase: u32) -> u32 {
    (generation << PHASE_BITS) | phase
}

#[inline(always)]
const fn generation(state: u32) -> u32 {
    state >> PHASE_BITS
}

#[inline(always)]
const fn bit(cpu: usize) -> u32 {
    CpuSet::single(cpu).bits()
}

/// What a rendezvous runs on its chosen CPUs.
///
/// A trait rather than only `dyn Fn` so the crate's own work ([`crate::patch`]) is a
/// named method that can be placed in the never-probe section; a closure's body is a
/// compiler-generated function in ordinary `.text`.
pub(crate) trait RendezvousWork: Sync {
    /// Runs on `cpu` in the RUN state, IRQs and FIQs masked.
    fn run_on(&self, cpu: usize);
}

/// A caller's closure as [`RendezvousWork`].
struct CallbackWork<'a>(&'a (dyn Fn(usize) + Sync));

impl RendezvousWork for CallbackWork<'_> {
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn run_on(&self, cpu: usize) {
        (self.0)(cpu)
    }
}

/// What the participants run, on the initiator's stack while the rendezvous lasts.
struct Job<'a> {
    work: &'a dyn RendezvousWork,
    on: RunOn,
}

/// Proof that this CPU holds the initiator lock without a rendezvous running
/// ([`Rendezvous::lock_exclusive`]); dropping it releases the lock.
pub(crate) struct ExclusiveSection<'a, C: CacheOps> {
    rendezvous: &'a Rendezvous<C>,
    cpu: usize,
    /// This CPU's ticket of the initiator lock.
    ticket: u32,
}

impl<C: CacheOps> Drop for ExclusiveSection<'_, C> {
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn drop(&mut self) {
        self.rendezvous.unlock(self.ticket);
        self.rendezvous
            .initiating
            .fetch_and(!bit(self.cpu), Ordering::Relaxed);
    }
}

/// The machine-wide rendezvous: one per kernel, usually a `static`.
///
/// `C` issues the ISB every CPU executes before leaving, and the cache maintenance of
/// [`crate::patch`] (which borrows it from here so the two can never disagree):
/// `arch::cache::ArmCacheOps` on the target,
/// `fakes::FakeCacheOps` in host tests.
pub struct Rendezvous<C> {
    cache: C,
    /// The initiator lock's next ticket: a CPU takes one, then waits until `serving`
    /// reaches it.
    next_ticket: AtomicU32,
    /// The ticket that holds (or may take) the initiator lock; the holder advances it
    /// to release. Free when it equals `next_ticket`.
    serving: AtomicU32,
    /// `encode(generation, phase)`; only the initiator leaves IDLE, only a last
    /// acknowledger advances.
    state: AtomicU32,
    /// Participants that have not joined yet; each clears its own bit to join.
    invited: AtomicU32,
    /// The CPU set taking part in the current rendezvous.
    participants: AtomicU32,
    /// Acknowledgements so far in this rendezvous: phase `k` is complete when it
    /// reaches `k * participants`.
    acks: AtomicU32,
    /// The current `Job`, type-erased; null when idle.
    job: AtomicPtr<()>,
    /// Per-CPU bits: inside `run` / holding a `lock_exclusive` section.
    initiating: AtomicU32,
    /// Per-CPU bits: inside the protocol (between joining and leaving).
    participating: AtomicU32,
    /// Per-CPU bits: inside the callback.
    in_callback: AtomicU32,
    /// Per CPU: where it was when it joined the current (or last) rendezvous,
    /// `Interrupted::encode`d; written before its PREPARE acknowledgement.
    joined_at: [AtomicUsize; MAX_CPUS],
    /// Rung after every store another CPU may be waiting for (a no-op except in loom
    /// models, see `sync::Doorbell`).
    doorbell: Doorbell,
    /// The slot regions this machine's probe registries own.
    #[cfg_attr(all(test, loom), allow(dead_code))] // the registries are not in loom builds
    slot_claims: SlotRegionClaims,
}

macro_rules! new_rendezvous {
    ($cache:expr, $doorbell:expr, $joined:expr) => {
        Rendezvous {
            cache: $cache,
            next_ticket: AtomicU32::new(0),
            serving: AtomicU32::new(0),
            state: AtomicU32::new(encode(0, IDLE)),
            invited: AtomicU32::new(0),
            participants: AtomicU32::new(0),
            acks: AtomicU32::new(0),
            job: AtomicPtr::new(core::ptr::null_mut()),
            initiating: AtomicU32::new(0),
            participating: AtomicU32::new(0),
            in_callback: AtomicU32::new(0),
            joined_at: $joined,
            doorbell: $doorbell,
            slot_claims: SlotRegionClaims::new(),
        }
    };
}

impl<C: CacheOps> Rendezvous<C> {
    /// An idle rendezvous issuing its barriers and maintenance through `cache`.
    #[cfg(not(all(test, loom)))]
    pub const fn new(cache: C) -> Self {
        new_rendezvous!(
            cache,
            Doorbell::new(),
            [const { AtomicUsize::new(AT_UNKNOWN) }; MAX_CPUS]
        )
    }

    /// An idle rendezvous (loom's atomics cannot be built in a `const fn`).
    #[cfg(all(test, loom))]
    pub fn new(cache: C) -> Self {
        new_rendezvous!(
            cache,
            Doorbell::new(),
            core::array::from_fn(|_| AtomicUsize::new(AT_UNKNOWN))
        )
    }

    /// An idle rendezvous whose waiting CPUs block instead of spinning (loom models
    /// with three CPUs, see `sync::Doorbell`).
    #[cfg(all(test, loom))]
    pub(crate) fn with_blocking_waits(cache: C) -> Self {
        new_rendezvous!(
            cache,
            Doorbell::blocking(),
            core::array::from_fn(|_| AtomicUsize::new(AT_UNKNOWN))
        )
    }

    /// The cache maintenance and barriers this rendezvous was built with.
    pub fn cache_ops(&self) -> &C {
        &self.cache
    }

    /// Rendezvous completed since this one was built (wrapping at 2^29), so a benchmark
    /// or a diagnostic can count how many an operation took. Refused calls do not
    /// count. Read it while no rendezvous is running (a running one already counts).
    pub fn completed(&self) -> u32 {
        generation(self.state.load(Ordering::Acquire))
    }

    /// Runs `callback` while every online CPU is in the rendezvous with IRQs and FIQs
    /// masked: on `on`'s CPU, or on every online CPU (each gets its own index). Returns
    /// once every CPU has acknowledged EXIT, after which none touches the callback or
    /// anything it borrowed.
    ///
    /// Call it from thread context with interrupts enabled, on an online CPU, never
    /// from a callback. Concurrent calls on different CPUs run one after the other.
    ///
    /// # Errors
    ///
    /// Every [`RendezvousError`] says why it was refused: the caller is not online
    /// ([`RendezvousError::CallerNotOnline`]), the target of [`RunOn::OneCpu`] is not
    /// ([`RendezvousError::TargetNotOnline`]), it is called from a callback or on top of a
    /// rendezvous this CPU is in ([`RendezvousError::NestedInCallback`],
    /// [`RendezvousError::AlreadyInRendezvous`]), or with IRQs masked
    /// ([`RendezvousError::InterruptsMasked`]). No CPU ran the callback then.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub fn run<P: Platform + ?Sized>(
        &self,
        platform: &P,
        on: RunOn,
        callback: &(dyn Fn(usize) + Sync),
    ) -> Result<(), RendezvousError> {
        self.run_work(platform, on, &CallbackWork(callback))
            .map(|_| ())
    }

    /// [`Rendezvous::run`], returning where every participant was when it joined (see
    /// the module docs): after it returns, a CPU that was not observed inside some
    /// code and cannot enter it any more is not in it.
    ///
    /// # Errors
    ///
    /// As [`Rendezvous::run`].
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub fn run_observed<P: Platform + ?Sized>(
        &self,
        platform: &P,
        on: RunOn,
        callback: &(dyn Fn(usize) + Sync),
    ) -> Result<Observation, RendezvousError> {
        self.run_work(platform, on, &CallbackWork(callback))
    }

    /// [`Rendezvous::run`] for the crate's own work.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub(crate) fn run_work<P: Platform + ?Sized>(
        &self,
        platform: &P,
        on: RunOn,
        work: &dyn RendezvousWork,
    ) -> Result<Observation, RendezvousError> {
        let cpu = self.enter(platform)?;
        let result = self.initiate(platform, cpu, on, work);
        self.initiating.fetch_and(!bit(cpu), Ordering::Relaxed);
        result
    }

    /// The kernel's IPI handler calls this (or, better, [`Rendezvous::ipi_entry_at`])
    /// on every CPU that receives the crate's IPI. Takes part in the rendezvous this
    /// CPU is invited to, if any, and returns whether it did. A late or duplicate IPI
    /// finds no invitation and returns `false` at once.
    ///
    /// The crate does not learn where the CPU was interrupted, so the rendezvous proves
    /// nothing about instruction slots ([`Interrupted::Unknown`]): a kernel that only
    /// calls this never gets a dirty slot back (optimized probes then run out of slots
    /// and stay breakpoints).
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub fn ipi_entry<P: Platform + ?Sized>(&self, platform: &P) -> bool {
        self.try_join(platform, platform.cpu_id(), Interrupted::Unknown)
    }

    /// [`Rendezvous::ipi_entry`] for a kernel that knows where the IPI interrupted this
    /// CPU: `interrupted_pc` is where the interrupted context resumes (on ARMv7, `lr_irq
    /// - 4` at the IRQ vector, in either instruction set).
    ///
    /// The kernel's contract: no other context of this CPU will resume inside the
    /// platform's slot region — no nested exception under this one (a fault handler
    /// that re-enabled interrupts on top of trampoline code), no thread preempted
    /// there. A kernel that cannot promise that for some interrupt calls
    /// [`Rendezvous::ipi_entry`] for it instead.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub fn ipi_entry_at<P: Platform + ?Sized>(&self, platform: &P, interrupted_pc: usize) -> bool {
        let cpu = platform.cpu_id();
        // Every CPU's IPI checks the platform's promise about its CPU-index register in
        // debug builds (the registry checks it once per optimize batch in any build).
        debug_assert!(
            platform
                .cpu_index_register()
                .read()
                .is_none_or(|index| index == cpu % crate::platform::MAX_CPUS),
            "Platform::cpu_index_register does not hold cpu_id() {cpu} on this CPU"
        );
        self.try_join(platform, cpu, Interrupted::At(interrupted_pc))
    }

    /// Whether `cpu` is invited to a rendezvous it has not joined yet: its IPI is on the
    /// way or pending behind masked interrupts. For diagnostics and tests (e.g. to make
    /// a handler call in exactly while a rendezvous waits for its CPU).
    pub fn invitation_pending(&self, cpu: usize) -> bool {
        self.invited.load(Ordering::Acquire) & bit(cpu) != 0
    }

    /// The slot regions claimed by the probe registries that patch through this
    /// rendezvous (one machine, one rendezvous: they all share it).
    #[cfg_attr(all(test, loom), allow(dead_code))]
    pub(crate) fn slot_claims(&self) -> &SlotRegionClaims {
        &self.slot_claims
    }

    /// Joins the rendezvous this CPU is invited to, if any, without waiting for an IPI:
    /// for code that spins in thread context (the registry locks), so that a waiter
    /// never keeps a rendezvous from gathering. Returns whether it took part.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub(crate) fn poll<P: Platform + ?Sized>(&self, platform: &P) -> bool {
        // Thread context with interrupts enabled is in no trampoline (they call the
        // crate with interrupts masked); a masked caller might be anywhere.
        let at = if platform.interrupts_masked() {
            Interrupted::Unknown
        } else {
            Interrupted::InCrate
        };
        self.try_join(platform, platform.cpu_id(), at)
    }

    /// Takes the initiator lock on this CPU without starting a rendezvous, so what the
    /// caller does until it drops the section is serialized with every rendezvous and
    /// every other exclusive section. The other CPUs keep running. Unlike
    /// [`Rendezvous::run`] this may be called with interrupts masked: waiting for the
    /// lock never needs this CPU's IPI.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub(crate) fn lock_exclusive<P: Platform + ?Sized>(
        &self,
        platform: &P,
    ) -> Result<ExclusiveSection<'_, C>, RendezvousError> {
        let cpu = self.enter(platform)?;
        // A masked caller may be a handler on top of anything, a trampoline included.
        let at = if platform.interrupts_masked() {
            Interrupted::Unknown
        } else {
            Interrupted::InCrate
        };
        let ticket = self.lock(platform, cpu, at);
        Ok(ExclusiveSection {
            rendezvous: self,
            cpu,
            ticket,
        })
    }

    /// The checks every initiator passes; on success this CPU's `initiating` bit is set.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn enter<P: Platform + ?Sized>(&self, platform: &P) -> Result<usize, RendezvousError> {
        let cpu = platform.cpu_id();
        if !platform.online_cpus().contains(cpu) {
            return Err(RendezvousError::CallerNotOnline { cpu });
        }
        let me = bit(cpu);
        // Only this CPU writes its own bits, and a nested context on it (an interrupt
        // handler) finishes before the interrupted one resumes, so relaxed loads see
        // this CPU's current state.
        if self.in_callback.load(Ordering::Relaxed) & me != 0 {
            return Err(RendezvousError::NestedInCallback { cpu });
        }
        if self.participating.load(Ordering::Relaxed) & me != 0 {
            return Err(RendezvousError::AlreadyInRendezvous { cpu });
        }
        // An atomic read-modify-write, so an interrupt between check and set cannot
        // let two contexts of this CPU both pass.
        if self.initiating.fetch_or(me, Ordering::Relaxed) & me != 0 {
            return Err(RendezvousError::AlreadyInRendezvous { cpu });
        }
        Ok(cpu)
    }

    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn initiate<P: Platform + ?Sized>(
        &self,
        platform: &P,
        cpu: usize,
        on: RunOn,
        work: &dyn RendezvousWork,
    ) -> Result<Observation, RendezvousError> {
        if platform.interrupts_masked() {
            return Err(RendezvousError::InterruptsMasked { cpu });
        }
        check_target(on, platform.online_cpus())?;
        let ticket = self.lock(platform, cpu, Interrupted::InCrate);
        let result = self.lead(platform, cpu, on, work);
        // The next initiator sees this rendezvous fully finished.
        self.unlock(ticket);
        result
    }

    /// Takes the initiator lock, in turn after every CPU already waiting, joining any
    /// rendezvous this CPU is invited to while it waits (the holder may be waiting for
    /// this very CPU), as being `at`. The caller has set its `initiating` bit, so this
    /// CPU holds no other ticket: at most [`MAX_CPUS`] are out at once, and the
    /// wrapping 32-bit counters never mistake one for another. Returns the ticket, for
    /// [`Rendezvous::unlock`].
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn lock<P: Platform + ?Sized>(&self, platform: &P, cpu: usize, at: Interrupted) -> u32 {
        // Relaxed: the ticket only orders the waiters; what the lock protects is
        // handed over by `serving`.
        let mine = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        loop {
            let bell = self.doorbell.ticket();
            // Acquire: pairs with the previous holder's release in `unlock`.
            if self.serving.load(Ordering::Acquire) == mine {
                return mine;
            }
            if !self.try_join(platform, cpu, at) {
                self.doorbell.wait(bell);
            }
        }
    }

    /// Releases the initiator lock, held with `ticket`, to the next ticket.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn unlock(&self, ticket: u32) {
        // Only the holder writes `serving`. Release: the next holder sees everything
        // done under the lock.
        self.serving
            .store(ticket.wrapping_add(1), Ordering::Release);
        self.doorbell.ring();
    }

    /// The initiator's part once it holds the lock.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn lead<P: Platform + ?Sized>(
        &self,
        platform: &P,
        cpu: usize,
        on: RunOn,
        work: &dyn RendezvousWork,
    ) -> Result<Observation, RendezvousError> {
        // The set may have changed while we waited for the lock.
        let participants = platform.online_cpus();
        if !participants.contains(cpu) {
            return Err(RendezvousError::CallerNotOnline { cpu });
        }
        check_target(on, participants)?;

        let job = Job { work, on };
        // The lock makes this CPU the only writer of everything below until it
        // invites; the state is idle, so no CPU reads any of it.
        let generation = generation(self.state.load(Ordering::Relaxed)).wrapping_add(1);
        self.job
            .store(&job as *const Job<'_> as *mut (), Ordering::Relaxed);
        self.participants
            .store(participants.bits(), Ordering::Relaxed);
        self.acks.store(0, Ordering::Relaxed);
        self.state
            .store(encode(generation, PREPARE), Ordering::Relaxed);
        let others = participants.without(cpu);
        // Release: a CPU that claims its invitation (acquire) sees the job, the
        // participants, the cleared count and the PREPARE state written above.
        self.invited.store(others.bits(), Ordering::Release);
        self.doorbell.ring();
        if !others.is_empty() {
            // After the invitation: a CPU that takes the IPI finds it.
            platform.send_ipi(others);
        }

        self.take_part(
            platform,
            cpu,
            generation,
            participants,
            Interrupted::InCrate,
        );

        // The last acknowledger of EXIT returns the state to idle; after that no CPU
        // reads `job` or any other field of this rendezvous.
        self.wait_for(encode(generation, IDLE));
        self.job.store(core::ptr::null_mut(), Ordering::Relaxed);
        // Every participant wrote its word before acknowledging PREPARE; the acquire in
        // `wait_for` above saw the last acknowledgement, so all are visible. The lock is
        // still held: no later rendezvous has overwritten them.
        let mut at = [AT_UNKNOWN; MAX_CPUS];
        for c in participants.iter() {
            at[c] = self.joined_at[c].load(Ordering::Relaxed);
        }
        Ok(Observation { participants, at })
    }

    /// Joins the rendezvous this CPU is invited to, if any.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn try_join<P: Platform + ?Sized>(&self, platform: &P, cpu: usize, at: Interrupted) -> bool {
        let me = bit(cpu);
        // A cheap look first so spinning CPUs do not keep writing the line.
        if self.invited.load(Ordering::Relaxed) & me == 0 {
            return false;
        }
        // Claiming the bit is what makes joining exactly-once per rendezvous.
        // AcqRel: acquire pairs with the initiator's release of `invited` (other
        // claimers' read-modify-writes continue its release sequence).
        if self.invited.fetch_and(!me, Ordering::AcqRel) & me == 0 {
            return false;
        }
        // The rendezvous cannot leave PREPARE without this CPU, so this is its state.
        let state = self.state.load(Ordering::Acquire);
        debug_assert_eq!(state & PHASE_MASK, PREPARE);
        let participants = CpuSet::from_bits(self.participants.load(Ordering::Relaxed));
        self.take_part(platform, cpu, generation(state), participants, at);
        true
    }

    /// One CPU's walk through the states of rendezvous `generation`.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn take_part<P: Platform + ?Sized>(
        &self,
        platform: &P,
        cpu: usize,
        generation: u32,
        participants: CpuSet,
        at: Interrupted,
    ) {
        let me = bit(cpu);
        self.participating.fetch_or(me, Ordering::Relaxed);
        // Published to the initiator by this CPU's PREPARE acknowledgement (AcqRel).
        if let Some(word) = self.joined_at.get(cpu) {
            word.store(at.encode(), Ordering::Relaxed);
        }
        let count = participants.len() as u32;
        let mut saved: Option<InterruptState> = None;
        for phase in PREPARE..=EXIT {
            if phase != PREPARE {
                self.wait_for(encode(generation, phase));
            }
            match phase {
                DISABLE_IRQ => saved = Some(platform.mask_interrupts()),
                RUN => self.run_callback(cpu),
                _ => {}
            }
            self.acknowledge(generation, phase, count);
        }
        // Each CPU resynchronizes its own instruction stream with whatever the
        // callback wrote (the CMODX rule: every executing PE needs its ISB).
        self.cache.isb();
        self.participating.fetch_and(!me, Ordering::Relaxed);
        if let Some(previous) = saved {
            platform.restore_interrupts(previous);
        }
    }

    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn run_callback(&self, cpu: usize) {
        let job = self.job.load(Ordering::Acquire) as *const Job<'_>;
        // SAFETY: `job` points at the `Job` on the initiator's stack in `lead`, stored
        // before the invitation was released (this CPU acquired it, or is the
        // initiator). It stays valid until `lead` returns, and `lead` first waits for
        // the state to return to idle, which happens only after every participant has
        // acknowledged EXIT. This CPU is in RUN and has not acknowledged it yet, so the
        // rendezvous cannot even have reached EXIT: the `Job` and the callback it
        // borrows are alive, and only read (shared references) by every CPU.
        let job = unsafe { &*job };
        if job.on.includes(cpu) {
            let me = bit(cpu);
            self.in_callback.fetch_or(me, Ordering::Relaxed);
            job.work.run_on(cpu);
            self.in_callback.fetch_and(!me, Ordering::Relaxed);
        }
    }

    /// Acknowledges `phase`; the last of `count` participants advances the state.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn acknowledge(&self, generation: u32, phase: u32, count: u32) {
        // AcqRel: the last acknowledger acquires everything the others did in this
        // phase (the callback's writes), and its state store below releases it to all.
        let acked = self.acks.fetch_add(1, Ordering::AcqRel) + 1;
        // Nobody acknowledges phase k+1 before the state says k+1, so the k-th
        // multiple of the count marks the last acknowledgement of phase k.
        if acked == phase * count {
            let next = if phase == EXIT { IDLE } else { phase + 1 };
            self.state
                .store(encode(generation, next), Ordering::Release);
            self.doorbell.ring();
        }
    }

    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn wait_for(&self, state: u32) {
        // Acquire: pairs with the advancing store, so this CPU sees what every CPU
        // did before acknowledging the previous phase.
        loop {
            let ticket = self.doorbell.ticket();
            if self.state.load(Ordering::Acquire) == state {
                return;
            }
            self.doorbell.wait(ticket);
        }
    }
}

#[inline(always)]
fn check_target(on: RunOn, online: CpuSet) -> Result<(), RendezvousError> {
    match on {
        RunOn::OneCpu(target) if !online.contains(target) => {
            Err(RendezvousError::TargetNotOnline { target })
        }
        _ => Ok(()),
    }
}

pub mod hotplug;
pub use hotplug::HotplugError;

#[cfg(all(test, not(loom)))]
pub(crate) mod tests;

#[cfg(all(test, loom))]
mod loom_tests;
