//! The registries' lock: a spin lock that owns the bookkeeping it guards, taken only in
//! thread context (registering, optimizing, listing), never on a hit or return path.
//!
//! Holding it means holding a [`SpinLockGuard`], which derefs to the guarded state: code
//! that needs the state needs the guard, so "lock held" is a type, not a comment.
//!
//! # Why taking it cannot deadlock against a rendezvous
//!
//! The holder of a registry lock starts rendezvous (every text change is one), and a
//! rendezvous waits for every online CPU. So a CPU that waits for the lock must never
//! stop another CPU's rendezvous from gathering it. [`SpinLock::lock`] therefore:
//!
//! - refuses at once, before waiting on anything, when IRQs are masked on the calling CPU
//!   (a probe handler, an exception handler, a caller holding an IRQ-safe lock): such a
//!   CPU could not take the rendezvous IPI while it spun;
//! - refuses at once when the calling CPU holds the lock already (an interrupt handler
//!   that interrupted a registry call on this CPU, or a callback of [`crate::Kprobes`]'s
//!   listing that calls back into the registry): it would wait for itself;
//! - while it spins, joins any rendezvous it is invited to (polling the invitation, as
//!   the rendezvous's own initiator lock does), so even a CPU whose IPI is held back —
//!   an interrupt handler with IRQs re-enabled but the IPI's priority masked — takes
//!   part.
//!
//! The loom model `registry_lock_waiters_never_block_a_rendezvous` checks the last two
//! rules against the rendezvous protocol.

use crate::cache::CacheOps;
use crate::platform::Platform;
use crate::stop_machine::Rendezvous;
use crate::sync::{AtomicU32, Ordering, const_fn_unless_loom, spin_wait};
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};

/// Why [`SpinLock::lock`] refused to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockRefused {
    /// IRQs are masked on the calling CPU.
    InterruptsMasked {
        /// The calling CPU.
        cpu: usize,
    },
    /// The calling CPU already holds this lock.
    HeldByThisCpu {
        /// The calling CPU.
        cpu: usize,
    },
}

/// A test-and-set spin lock around `T`. The word is 0 when free, else 1 + the holder's
/// CPU index.
pub(crate) struct SpinLock<T> {
    holder: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through a guard, and at most one guard exists at a
// time (the holder word's compare-exchange hands it out; dropping it hands it back with
// Release, the next taker's Acquire sees every write). `T: Send` because the data moves
// between CPUs with the lock.
unsafe impl<T: Send> Sync for SpinLock<T> {}

/// Holding the lock: derefs to the guarded data; dropping it releases the lock.
pub(crate) struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> SpinLock<T> {
    const_fn_unless_loom! {
        /// An unlocked lock around `data`.
        pub(crate) fn new(data: T) -> SpinLock<T> {
            SpinLock {
                holder: AtomicU32::new(0),
                data: UnsafeCell::new(data),
            }
        }
    }

    /// Takes the lock for a thread-context caller on `platform`, or refuses at once (see
    /// the module docs): never waits with IRQs masked, never waits for itself, and joins
    /// every rendezvous of `rendezvous` it is invited to while it waits.
    pub(crate) fn lock<P: Platform + ?Sized, C: CacheOps>(
        &self,
        platform: &P,
        rendezvous: &Rendezvous<C>,
    ) -> Result<SpinLockGuard<'_, T>, LockRefused> {
        let cpu = platform.cpu_id();
        if platform.interrupts_masked() {
            return Err(LockRefused::InterruptsMasked { cpu });
        }
        let me = cpu as u32 + 1;
        // Only this CPU ever stores `me`, and it clears it before it could run anything
        // else at this level: a relaxed read of our own value is exact.
        if self.holder.load(Ordering::Relaxed) == me {
            return Err(LockRefused::HeldByThisCpu { cpu });
        }
        loop {
            if self.holder.load(Ordering::Relaxed) == 0
                && self
                    .holder
                    .compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return Ok(SpinLockGuard { lock: self });
            }
            if !rendezvous.poll(platform) {
                spin_wait();
            }
        }
    }
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one (see the Sync impl), so no `&mut T` exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard is the only one and `&mut self` makes this borrow unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.holder.store(0, Ordering::Release);
    }
}
