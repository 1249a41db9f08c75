//! The registries' lock: a spin lock for thread-context bookkeeping (registering,
//! optimizing, listing), never taken on a hit or return path.

use core::sync::atomic::{AtomicBool, Ordering};

/// A test-and-set spin lock with a guard that releases it.
pub(crate) struct SpinLock(AtomicBool);

/// Holding the lock; dropping it releases the lock.
pub(crate) struct SpinLockGuard<'a>(&'a AtomicBool);

impl SpinLock {
    /// An unlocked lock.
    pub(crate) const fn new() -> SpinLock {
        SpinLock(AtomicBool::new(false))
    }

    /// Waits until the lock is free and takes it.
    pub(crate) fn lock(&self) -> SpinLockGuard<'_> {
        while self
            .0
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        SpinLockGuard(&self.0)
    }
}

impl Drop for SpinLockGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}
