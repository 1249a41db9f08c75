//! CPU hotplug against the rendezvous: the hooks a CPU calls when it comes online and when it goes offline, so every rendezvous stops exactly the CPUs that can run probed text.
//!
//! # The contract
//!
//! [`Platform::online_cpus`] is the set a rendezvous parks. It may change in one way
//! only: a CPU adds or removes **its own** bit, inside the closure it passes to
//! [`Rendezvous::cpu_online`] or [`Rendezvous::cpu_offline`]. Both run that closure
//! while holding the initiator lock, so no rendezvous is gathering or running while the
//! set changes, and every rendezvous sees one set from invitation to exit.
//!
//! **Coming online** (`cpu_online`, on the new CPU, IRQs and FIQs masked, MMU and
//! caches on and the CPU in the coherency domain — ACTLR.SMP set on Cortex-A): waits out
//! any rendezvous in flight and keeps the next from starting; invalidates its own
//! instruction cache and branch predictors (ICIALLU, BPIALL, DSB, ISB), so it sees every
//! text change made before; runs the closure (the kernel marks it online); releases the
//! lock. Every later text change is made by a rendezvous that parks this CPU too. From
//! reset until the lock is taken, the CPU must run only never-probe code (text nobody
//! patches): text may change meanwhile without stopping it. The closure itself runs
//! after the invalidation, under the lock, and may be ordinary code.
//!
//! **Going offline** (`cpu_offline`, on the leaving CPU, IRQs and FIQs masked, not from
//! a probe handler or a rendezvous callback): takes the lock — answering any invitation
//! meanwhile, so a rendezvous that already counts this CPU completes with it — runs the
//! closure (the kernel removes it from the online set), releases the lock. From then on
//! no rendezvous waits for this CPU and none stops it: until it is powered down it must
//! keep IRQs and FIQs masked and run only never-probe code — the function that called
//! `cpu_offline` included — because text may change under it. A stale IPI that still
//! reaches it finds no invitation.
//!
//! The closures run under the initiator lock: one that starts a rendezvous or changes
//! probes gets a [`RendezvousError`] back (this CPU already holds the lock, or is not
//! online yet) rather than a deadlock. A CPU should go offline with no probed function
//! on its stack: the return probe of a call that never returns keeps its instance (it
//! is never freed).
//!
//! A CPU that stops answering without `cpu_offline` (a crash, a power cut) leaves every
//! later rendezvous waiting for it: the crate cannot tell a slow CPU from a dead one.
//!
//! Both hooks return a [`HotplugError`] and change nothing when they are misused.

use super::{ExclusiveSection, Rendezvous, RendezvousError, bit};
use crate::cache::CacheOps;
use crate::platform::{CpuSet, MAX_CPUS, Platform};
use crate::sync::Ordering;
use core::fmt;

/// Why [`Rendezvous::cpu_online`] or [`Rendezvous::cpu_offline`] refused, or found the
/// kernel's online set not changed as the closure should have changed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HotplugError {
    /// `cpu_online` on a CPU that [`Platform::online_cpus`] already counts: nothing
    /// happened (it already takes part in every rendezvous).
    AlreadyOnline {
        /// The calling CPU.
        cpu: usize,
    },
    /// The calling CPU's index is not below [`MAX_CPUS`], so no [`CpuSet`] can hold it.
    CpuOutOfRange {
        /// The calling CPU.
        cpu: usize,
    },
    /// `cpu_offline` on the only online CPU: no CPU would be left to run a rendezvous
    /// or to bring another one back. Nothing happened.
    LastOnlineCpu {
        /// The calling CPU.
        cpu: usize,
    },
    /// A hook was called with IRQs enabled. An interrupt taken on the way in or out
    /// would run the kernel's handlers — ordinary, probe-able code — while this CPU is
    /// not parked by text changes. Nothing happened.
    InterruptsEnabled {
        /// The calling CPU.
        cpu: usize,
    },
    /// After the closure ran, the online set was not the one before it with exactly
    /// the caller's bit added (online) or removed (offline). If `found` still says the
    /// CPU is where it was, nothing changed and the caller must not proceed (an
    /// offlining CPU must not power down); otherwise the kernel changed the set outside
    /// the hooks, which breaks the contract.
    OnlineSetMismatch {
        /// The calling CPU.
        cpu: usize,
        /// The set the closure should have produced.
        expected: CpuSet,
        /// The set the platform reports.
        found: CpuSet,
    },
    /// `cpu_offline` refused for a reason it shares with [`Rendezvous::run`]: the CPU is
    /// not online, or it is inside a rendezvous callback or already taking part in or
    /// starting one. Nothing happened.
    Rendezvous(RendezvousError),
}

impl fmt::Display for HotplugError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HotplugError::AlreadyOnline { cpu } => write!(f, "CPU {cpu} is already online"),
            HotplugError::CpuOutOfRange { cpu } => {
                write!(f, "CPU {cpu} is not below the {MAX_CPUS}-CPU limit")
            }
            HotplugError::LastOnlineCpu { cpu } => {
                write!(f, "CPU {cpu} is the only online CPU and cannot go offline")
            }
            HotplugError::InterruptsEnabled { cpu } => {
                write!(f, "CPU {cpu} called a hotplug hook with interrupts enabled")
            }
            HotplugError::OnlineSetMismatch {
                cpu,
                expected,
                found,
            } => write!(
                f,
                "CPU {cpu}: online set {:#x} after the closure, expected {:#x}",
                found.bits(),
                expected.bits()
            ),
            HotplugError::Rendezvous(e) => write!(f, "hotplug refused: {e}"),
        }
    }
}

impl core::error::Error for HotplugError {}

impl From<RendezvousError> for HotplugError {
    fn from(e: RendezvousError) -> Self {
        HotplugError::Rendezvous(e)
    }
}

impl<C: CacheOps> Rendezvous<C> {
    /// The hook of a CPU coming online (at boot or after a power-down); see the
    /// [module documentation](self) for the contract. Call it on that CPU with IRQs and
    /// FIQs masked, MMU and caches on, before it runs any text that may be probed.
    /// `mark_online` must add exactly this CPU to [`Platform::online_cpus`]; it runs
    /// while no rendezvous is in flight, after this CPU's instruction cache and branch
    /// predictors were invalidated. When this returns, the CPU may unmask interrupts and
    /// run probed code: the next rendezvous counts it.
    ///
    /// # Errors
    ///
    /// [`HotplugError::CpuOutOfRange`], [`HotplugError::InterruptsEnabled`],
    /// [`HotplugError::AlreadyOnline`], or [`HotplugError::Rendezvous`] when called on
    /// top of a rendezvous this CPU takes part in: nothing happened then.
    /// [`HotplugError::OnlineSetMismatch`] when `mark_online` did not add exactly this
    /// CPU.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub fn cpu_online<P: Platform + ?Sized>(
        &self,
        platform: &P,
        mark_online: impl FnOnce(),
    ) -> Result<(), HotplugError> {
        let cpu = hotplug_caller(platform)?;
        if platform.online_cpus().contains(cpu) {
            return Err(HotplugError::AlreadyOnline { cpu });
        }
        // An offline CPU is in no rendezvous and starts none; the bit only keeps a
        // nested call on this CPU (an exception handler) from taking the lock twice.
        if self.initiating.fetch_or(bit(cpu), Ordering::Relaxed) & bit(cpu) != 0 {
            return Err(RendezvousError::AlreadyInRendezvous { cpu }.into());
        }
        // Waiting here never needs this CPU's IPI: it is not online, so no rendezvous
        // waits for it (`lock` also polls for invitations, and finds none).
        let ticket = self.lock(platform, cpu, super::Interrupted::InCrate);
        let _section = ExclusiveSection {
            rendezvous: self,
            cpu,
            ticket,
        };
        // Every rendezvous that changed text has finished (the lock was free), and
        // the lock's acquire makes their writes, cleaned to PoU by their writers,
        // visible: drop whatever this CPU fetched or predicted before.
        self.cache.invalidate_icache_all_local();
        self.cache.invalidate_branch_predictors_local();
        self.cache.dsb_ish();
        self.cache.isb();
        let before = platform.online_cpus();
        mark_online();
        check_set(cpu, before.with(cpu), platform.online_cpus())
        // `_section` drops here: the lock is released with the CPU online.
    }

    /// The hook of a CPU going offline; see the [module documentation](self) for the
    /// contract. Call it on that CPU with IRQs and FIQs masked, from thread context
    /// (never from a probe handler or a rendezvous callback). `mark_offline` must remove
    /// exactly this CPU from [`Platform::online_cpus`]; it runs while no rendezvous is in
    /// flight. After an `Ok`, no rendezvous waits for this CPU or stops it: keep
    /// interrupts masked and run only never-probe code until it is powered down.
    ///
    /// # Errors
    ///
    /// [`HotplugError::CpuOutOfRange`], [`HotplugError::InterruptsEnabled`],
    /// [`HotplugError::LastOnlineCpu`], or [`HotplugError::Rendezvous`] (not online,
    /// inside a callback or a rendezvous): nothing happened then, and the CPU must not
    /// power down. [`HotplugError::OnlineSetMismatch`] when `mark_offline` did not remove
    /// exactly this CPU.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(never)]
    pub fn cpu_offline<P: Platform + ?Sized>(
        &self,
        platform: &P,
        mark_offline: impl FnOnce(),
    ) -> Result<(), HotplugError> {
        hotplug_caller(platform)?;
        let cpu = self.enter(platform)?;
        // While it waits, `lock` joins any rendezvous that invited this CPU: it is
        // still online, and the holder may be waiting for it. It joins as being in the
        // crate's code (in no instruction slot): the contract above says thread
        // context, never a probe handler, so nothing of this CPU resumes in a slot.
        let ticket = self.lock(platform, cpu, super::Interrupted::InCrate);
        let _section = ExclusiveSection {
            rendezvous: self,
            cpu,
            ticket,
        };
        let before = platform.online_cpus();
        if !before.contains(cpu) {
            return Err(RendezvousError::CallerNotOnline { cpu }.into());
        }
        if before.without(cpu).is_empty() {
            return Err(HotplugError::LastOnlineCpu { cpu });
        }
        mark_offline();
        check_set(cpu, before.without(cpu), platform.online_cpus())
        // `_section` drops here: the lock is released with the CPU offline.
    }
}

/// The calling CPU, when it may call a hotplug hook: below [`MAX_CPUS`], interrupts
/// masked.
#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
fn hotplug_caller<P: Platform + ?Sized>(platform: &P) -> Result<usize, HotplugError> {
    let cpu = platform.cpu_id();
    if cpu >= MAX_CPUS {
        return Err(HotplugError::CpuOutOfRange { cpu });
    }
    if !platform.interrupts_masked() {
        return Err(HotplugError::InterruptsEnabled { cpu });
    }
    Ok(cpu)
}

#[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
fn check_set(cpu: usize, expected: CpuSet, found: CpuSet) -> Result<(), HotplugError> {
    if found == expected {
        Ok(())
    } else {
        Err(HotplugError::OnlineSetMismatch {
            cpu,
            expected,
            found,
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
