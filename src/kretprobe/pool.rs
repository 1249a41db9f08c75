//! Instances of calls in flight: the per-probe pool a return probe claims one from at
//! entry and frees at return, with its private data.

use super::*;

pub(super) const FREE: u32 = 0;
/// Taken at entry, being filled in (only the entering core touches it).
pub(super) const CLAIMED: u32 = 1;
/// The call is in flight.
pub(super) const ACTIVE: u32 = 2;
/// Taken by the shared trampoline's return path (only the returning core touches it). A
/// call returning through its own stub stays ACTIVE until freed: its stub names it, and
/// only the core it returns on writes an ACTIVE instance's state.
pub(super) const RETURNING: u32 = 3;

/// The bookkeeping of one instance. Its fields other than `state` are written only by
/// the core that moved `state` to CLAIMED, and read only by the core that moved it from
/// ACTIVE to RETURNING (or returns it through its stub); the state stores and the
/// compare-exchanges order them. `repr(C)`, `state` first: the claim's `ldrex` takes the
/// slot's address as it is.
#[repr(C)]
pub(super) struct InstanceSlot {
    pub(super) state: AtomicU32,
    pub(super) entry_sp: AtomicU32,
    pub(super) return_address: AtomicU32,
    pub(super) generation: AtomicU32,
    pub(super) stamp: AtomicU64,
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

impl InstanceSlot {
    /// Takes the instance if it is free (FREE to CLAIMED; Acquire: pairs with the
    /// Release store that freed it, after its last owner's last access).
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    #[inline(always)]
    pub(super) fn take(&self) -> bool {
        self.state
            .compare_exchange(FREE, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }
}

/// One instance's private data, 8-byte aligned.
#[repr(C, align(8))]
pub(super) struct PrivateData<const D: usize>(pub(super) UnsafeCell<[u8; D]>);

/// The instances of one [`Kretprobe`]: at most `N` calls followed at once, each with `D`
/// bytes of private data. A `static` the user declares next to the probe (the crate has
/// no heap), so its size is chosen when the probe is written down. `N` is at least 1:
/// [`Kretprobe::new`] refuses an empty pool at compile time.
pub struct KretprobePool<const N: usize, const D: usize> {
    pub(super) slots: [InstanceSlot; N],
    pub(super) data: [PrivateData<D>; N],
}

// SAFETY: the slots are atomics. The private data of instance i is reached only through
// a KretprobeInstance made by the one core that owns instance i at that moment (it moved
// the instance's state to CLAIMED or from ACTIVE to RETURNING with a compare-exchange, or
// is the core the call returns on through the instance's stub, and gives it up with a
// Release store), so no two cores ever touch the same bytes concurrently.
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
