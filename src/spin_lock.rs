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
//! - refuses at once when the calling CPU holds the lock already or waits for it (an
//!   interrupt handler that interrupted a registry call on this CPU, or a callback of
//!   [`crate::Kprobes`]'s listing that calls back into the registry): it would wait for
//!   itself;
//! - while it spins, joins any rendezvous it is invited to (polling the invitation, as
//!   the rendezvous's own initiator lock does), so even a CPU whose IPI is held back —
//!   an interrupt handler with IRQs re-enabled but the IPI's priority masked — takes
//!   part.
//!
//! The loom model `registry_lock_waiters_never_block_a_rendezvous` checks the last two
//! rules against the rendezvous protocol.
//!
//! # Why a waiter is never starved
//!
//! It is a ticket lock: CPUs take it in the order they asked. A test-and-set lock let a
//! CPU that registers in a loop take it back before a waiter on another CPU, busy
//! joining that CPU's rendezvous, saw it free (the rendezvous initiator lock starved a
//! CPU going offline that way). Each CPU holds at most one ticket (its `busy` flag is
//! set first), so at most [`MAX_CPUS`] are out and the wrapping counters never mistake
//! one for another.

use crate::cache::CacheOps;
use crate::platform::{MAX_CPUS, Platform};
use crate::stop_machine::Rendezvous;
use crate::sync::{AtomicBool, AtomicU32, Ordering, const_fn_unless_loom, spin_wait};
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
    /// The calling CPU already holds this lock or waits for it.
    HeldByThisCpu {
        /// The calling CPU.
        cpu: usize,
    },
    /// The calling CPU's index is not below [`MAX_CPUS`]: no CPU set holds it, so it can
    /// never be online (and the lock could not tell it is re-entered).
    CpuOutOfRange {
        /// The calling CPU.
        cpu: usize,
    },
}

/// A ticket spin lock around `T`.
pub(crate) struct SpinLock<T> {
    /// Per CPU: it holds the lock or waits for it.
    busy: [AtomicBool; MAX_CPUS],
    /// The next ticket to hand out.
    next_ticket: AtomicU32,
    /// The ticket that holds the lock (or may take it); the holder advances it.
    serving: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through a guard, and at most one guard exists at a
// time (tickets are unique, and only the one equal to `serving` makes a guard; dropping
// it advances `serving` with Release, and the next holder's Acquire sees every write).
// `T: Send` because the data moves between CPUs with the lock.
unsafe impl<T: Send> Sync for SpinLock<T> {}

/// Holding the lock: derefs to the guarded data; dropping it releases the lock.
pub(crate) struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
    /// The holder's flag in `busy`.
    busy: &'a AtomicBool,
    /// The ticket after the holder's: storing it in `serving` releases the lock.
    next: u32,
}

/// Every CPU's `busy` flag, clear.
#[cfg(not(all(test, loom)))]
const fn idle_cpus() -> [AtomicBool; MAX_CPUS] {
    [const { AtomicBool::new(false) }; MAX_CPUS]
}

/// Every CPU's `busy` flag, clear (loom's atomics cannot be built in a `const fn`).
#[cfg(all(test, loom))]
fn idle_cpus() -> [AtomicBool; MAX_CPUS] {
    core::array::from_fn(|_| AtomicBool::new(false))
}

impl<T> SpinLock<T> {
    const_fn_unless_loom! {
        /// An unlocked lock around `data`.
        pub(crate) fn new(data: T) -> SpinLock<T> {
            SpinLock {
                busy: idle_cpus(),
                next_ticket: AtomicU32::new(0),
                serving: AtomicU32::new(0),
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
        let Some(busy) = self.busy.get(cpu) else {
            return Err(LockRefused::CpuOutOfRange { cpu });
        };
        // Only this CPU writes its flag, and a context it interrupts resumes only after
        // the nested one has finished (the registry is called from thread context and
        // interrupt handlers, not from threads preempted on the same CPU): a nested call
        // either finds the flag of the call it interrupted or runs entirely between
        // that call's load and store. Relaxed: only this CPU reads it.
        if busy.load(Ordering::Relaxed) {
            return Err(LockRefused::HeldByThisCpu { cpu });
        }
        busy.store(true, Ordering::Relaxed);
        // Relaxed: the ticket only orders the waiters; `serving` hands the data over.
        let mine = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        loop {
            // Acquire: pairs with the previous holder's release in `drop`.
            if self.serving.load(Ordering::Acquire) == mine {
                return Ok(SpinLockGuard {
                    lock: self,
                    busy,
                    next: mine.wrapping_add(1),
                });
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
        // Only the holder writes `serving`. Release: the next holder sees every write.
        self.lock.serving.store(self.next, Ordering::Release);
        // Cleared after the hand-over: a nested call on this CPU in between is refused
        // (it would otherwise queue behind the lock this CPU still holds).
        self.busy.store(false, Ordering::Relaxed);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::fakes::{FakeCacheOps, FakePlatform};
    use crate::platform::InterruptState;
    use crate::stop_machine::RunOn;
    use crate::stop_machine::tests::within_deadline;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::thread;

    fn fake() -> FakePlatform {
        FakePlatform::new(0x8000, 16, 0x10_0000, 16, 2)
    }

    #[test]
    fn a_cpu_outside_every_cpu_set_is_refused() {
        let (platform, rv) = (fake(), Rendezvous::new(FakeCacheOps::new(true)));
        let lock = SpinLock::new(0u32);
        FakePlatform::become_cpu(40);
        assert_eq!(
            lock.lock(&platform, &rv).err(),
            Some(LockRefused::CpuOutOfRange { cpu: 40 })
        );
        FakePlatform::become_cpu(0);
        assert!(
            lock.lock(&platform, &rv).is_ok(),
            "and the lock is still free"
        );
    }

    #[test]
    fn masked_and_nested_callers_are_refused_and_leave_it_usable() {
        let (platform, rv) = (fake(), Rendezvous::new(FakeCacheOps::new(true)));
        let lock = SpinLock::new(0u32);
        FakePlatform::become_cpu(1);
        let irq = platform.mask_interrupts();
        assert_eq!(
            lock.lock(&platform, &rv).err(),
            Some(LockRefused::InterruptsMasked { cpu: 1 })
        );
        platform.restore_interrupts(irq);
        {
            let mut held = lock.lock(&platform, &rv).unwrap();
            assert_eq!(
                lock.lock(&platform, &rv).err(),
                Some(LockRefused::HeldByThisCpu { cpu: 1 })
            );
            *held += 1;
        }
        platform.restore_interrupts(InterruptState(0));
        assert_eq!(*lock.lock(&platform, &rv).unwrap(), 1);
    }

    /// CPUs take the lock in the order they asked. CPU 0 takes it in a loop and, as a
    /// registry does, runs a rendezvous under it, which CPU 1 joins from its wait. CPU 1
    /// asks 200 times and each time gets it after at most one more turn of CPU 0's (the
    /// one under way when it asked). A test-and-set lock let CPU 0 take it back first
    /// again and again: CPU 1, busy joining each rendezvous, never saw it free.
    #[test]
    fn a_waiting_cpu_is_served_in_turn() {
        within_deadline(|| {
            const WAITS: usize = 200;
            let (platform, rv) = (fake(), Rendezvous::new(FakeCacheOps::new(true)));
            let lock = SpinLock::new(());
            // CPU 0's turns, counted under the lock.
            let turns = AtomicUsize::new(0);
            let waits_done = AtomicBool::new(false);
            let turns_done = AtomicBool::new(false);
            let worst = AtomicUsize::new(0);
            thread::scope(|s| {
                s.spawn(|| {
                    FakePlatform::become_cpu(1);
                    for _ in 0..WAITS {
                        let asked = turns.load(SeqCst);
                        let held = lock.lock(&platform, &rv).unwrap();
                        worst.fetch_max(turns.load(SeqCst) - asked, SeqCst);
                        drop(held);
                    }
                    waits_done.store(true, SeqCst);
                    // CPU 0's last rendezvous may still need this CPU.
                    while !turns_done.load(SeqCst) {
                        if platform.take_pending_ipi() {
                            rv.ipi_entry(&platform);
                        }
                        thread::yield_now();
                    }
                });
                FakePlatform::become_cpu(0);
                while !waits_done.load(SeqCst) {
                    let _held = lock.lock(&platform, &rv).unwrap();
                    rv.run(&platform, RunOn::AllCpus, &|_| {}).unwrap();
                    turns.fetch_add(1, SeqCst);
                }
                turns_done.store(true, SeqCst);
            });
            let worst = worst.load(SeqCst);
            assert!(worst <= 1, "CPU 1 waited through {worst} turns of CPU 0");
        });
    }
}
