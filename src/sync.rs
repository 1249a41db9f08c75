//! The atomics and the busy-wait hint the rendezvous protocol is written against, swapped
//! for loom's model-checked ones under `--cfg loom`.
//!
//! Only the lock-free protocol code (`stop_machine`, the trace ring) goes through here; everything else
//! uses `core` directly. The loom swap is limited to the crate's own test build
//! (`all(test, loom)`) because loom is a dev-dependency: a non-test build with
//! `--cfg loom` keeps using `core`.

/// Defines a `const fn`, except in the crate's loom build, where loom's atomics cannot be
/// made in a const context (so a constructor over them cannot be `const`).
macro_rules! const_fn_unless_loom {
    ($(#[$meta:meta])* $vis:vis fn $($rest:tt)*) => {
        #[cfg(not(all(test, loom)))]
        $(#[$meta])* $vis const fn $($rest)*
        #[cfg(all(test, loom))]
        $(#[$meta])* $vis fn $($rest)*
    };
}
pub(crate) use const_fn_unless_loom;

#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

#[cfg(not(all(test, loom)))]
pub(crate) use core::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

/// One iteration of a busy-wait loop.
///
/// On the target this is the CPU's spin hint. Host builds with `std` run "CPUs" as
/// threads, often more of them than there are host cores, so they yield the host core
/// instead of burning the time slice the thread being waited for needs. Under loom it
/// tells the model checker this thread cannot progress until another one runs.
#[inline(always)]
pub(crate) fn spin_wait() {
    #[cfg(all(test, loom))]
    loom::thread::yield_now();

    #[cfg(all(not(all(test, loom)), any(test, feature = "std")))]
    {
        extern crate std;
        std::thread::yield_now();
    }

    #[cfg(not(any(test, feature = "std")))]
    core::hint::spin_loop();
}

/// Where a waiting CPU waits, and how the CPU that changed what it waits for tells it.
///
/// On the target and on the host a waiter simply spins ([`Doorbell::wait`] is one
/// [`spin_wait`]) and ringing does nothing: the ZST below compiles away. The loom build
/// can instead block waiters until a ring. Loom cannot finish a model in which two
/// yielding spinners wait for a third thread (its scheduler can alternate between the
/// two forever, tokio-rs/loom#53), which every 3-CPU rendezvous is; blocking lets loom
/// check those for deadlock and lost wake-ups. The 2-CPU models keep spinning, so
/// there the only happens-before edges are the protocol's own.
///
/// A waiter takes a [`Ticket`] *before* checking its condition, so a ring between the
/// check and the wait is never lost.
#[cfg(not(all(test, loom)))]
pub(crate) struct Doorbell;

/// What a waiter saw of the [`Doorbell`] before checking its condition.
#[cfg(not(all(test, loom)))]
pub(crate) struct Ticket;

#[cfg(not(all(test, loom)))]
impl Doorbell {
    pub(crate) const fn new() -> Self {
        Doorbell
    }

    /// After a store some CPU may be waiting for.
    #[inline(always)]
    pub(crate) fn ring(&self) {}

    #[inline(always)]
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket
    }

    /// After a failed check made under `ticket`.
    #[inline(always)]
    pub(crate) fn wait(&self, _ticket: Ticket) {
        spin_wait();
    }
}

#[cfg(all(test, loom))]
pub(crate) struct Doorbell {
    blocking: bool,
    rings: loom::sync::Mutex<u64>,
    rung: loom::sync::Condvar,
}

#[cfg(all(test, loom))]
pub(crate) struct Ticket(u64);

#[cfg(all(test, loom))]
impl Doorbell {
    /// Waiters spin (yield), as on the target.
    pub(crate) fn new() -> Self {
        Self::with_blocking(false)
    }

    /// Waiters block until the next ring.
    pub(crate) fn blocking() -> Self {
        Self::with_blocking(true)
    }

    fn with_blocking(blocking: bool) -> Self {
        Doorbell {
            blocking,
            rings: loom::sync::Mutex::new(0),
            rung: loom::sync::Condvar::new(),
        }
    }

    pub(crate) fn ring(&self) {
        if self.blocking {
            *self.rings.lock().unwrap() += 1;
            self.rung.notify_all();
        }
    }

    pub(crate) fn ticket(&self) -> Ticket {
        Ticket(if self.blocking {
            *self.rings.lock().unwrap()
        } else {
            0
        })
    }

    pub(crate) fn wait(&self, ticket: Ticket) {
        if self.blocking {
            let mut rings = self.rings.lock().unwrap();
            while *rings == ticket.0 {
                rings = self.rung.wait(rings).unwrap();
            }
        } else {
            spin_wait();
        }
    }
}
