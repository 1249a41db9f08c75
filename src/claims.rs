//! Which instruction-slot regions the probe registries of one machine own, so that no
//! registry mistakes another's optimized probe (a branch into its slots) for an original
//! instruction.
//!
//! The table lives in the machine's one [`crate::stop_machine::Rendezvous`], the object
//! every registry over the same text necessarily shares. A registry claims its slot
//! region when it makes its slot allocator (before it can write any branch into it); a
//! claim is never given back (registries are `static`s).

use crate::hex::Hex;
use core::ops::Range;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Most slot regions one machine's registries can claim.
pub const MAX_SLOT_REGIONS: usize = 8;

/// Why a claim was refused.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimError {
    /// The region overlaps one another registry claimed (`start..end`).
    Overlaps {
        /// Start of the region already claimed.
        start: usize,
        /// End of the region already claimed.
        end: usize,
    },
    /// [`MAX_SLOT_REGIONS`] regions are claimed already.
    Full,
}

impl core::fmt::Debug for ClaimError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            ClaimError::Overlaps { start, end } => f
                .debug_struct("Overlaps")
                .field("start", &Hex(start))
                .field("end", &Hex(end))
                .finish(),
            ClaimError::Full => f.write_str("Full"),
        }
    }
}

/// The claimed regions: entries below `len` are complete and never change.
pub(crate) struct SlotRegionClaims {
    starts: [AtomicUsize; MAX_SLOT_REGIONS],
    ends: [AtomicUsize; MAX_SLOT_REGIONS],
    len: AtomicUsize,
    /// Serializes claimers (claims are rare, thread context, and hold it for a few
    /// loads and stores; nothing waits on another CPU while holding it).
    claiming: AtomicBool,
}

impl SlotRegionClaims {
    /// No region claimed.
    pub(crate) const fn new() -> Self {
        SlotRegionClaims {
            starts: [const { AtomicUsize::new(0) }; MAX_SLOT_REGIONS],
            ends: [const { AtomicUsize::new(0) }; MAX_SLOT_REGIONS],
            len: AtomicUsize::new(0),
            claiming: AtomicBool::new(false),
        }
    }

    fn entries(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        let n = self.len.load(Ordering::Acquire).min(MAX_SLOT_REGIONS);
        (0..n).map(|i| self.starts[i].load(Ordering::Relaxed)..self.ends[i].load(Ordering::Relaxed))
    }

    /// Claims `region` for one registry. Claiming the very same region again is
    /// refused as an overlap: two registries must not share slots.
    pub(crate) fn claim(&self, region: Range<usize>) -> Result<(), ClaimError> {
        while self
            .claiming
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        let result = self.claim_locked(region);
        self.claiming.store(false, Ordering::Release);
        result
    }

    fn claim_locked(&self, region: Range<usize>) -> Result<(), ClaimError> {
        if let Some(taken) = self
            .entries()
            .find(|r| r.start < region.end && region.start < r.end)
        {
            return Err(ClaimError::Overlaps {
                start: taken.start,
                end: taken.end,
            });
        }
        let n = self.len.load(Ordering::Relaxed);
        if n >= MAX_SLOT_REGIONS {
            return Err(ClaimError::Full);
        }
        self.starts[n].store(region.start, Ordering::Relaxed);
        self.ends[n].store(region.end, Ordering::Relaxed);
        self.len.store(n + 1, Ordering::Release);
        Ok(())
    }

    /// Whether `addr` lies in a claimed region.
    pub(crate) fn contains(&self, addr: usize) -> bool {
        self.entries().any(|r| r.contains(&addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_refuse_overlaps_and_a_full_table_and_answer_membership() {
        let c = SlotRegionClaims::new();
        assert!(!c.contains(0x1000));
        c.claim(0x1000..0x2000).unwrap();
        assert!(c.contains(0x1000) && c.contains(0x1ffc) && !c.contains(0x2000));
        assert_eq!(
            c.claim(0x1ff0..0x3000),
            Err(ClaimError::Overlaps {
                start: 0x1000,
                end: 0x2000
            })
        );
        assert_eq!(
            c.claim(0x1000..0x2000),
            Err(ClaimError::Overlaps {
                start: 0x1000,
                end: 0x2000
            })
        );
        for i in 1..MAX_SLOT_REGIONS {
            c.claim(0x1_0000 * i..0x1_0000 * i + 0x100).unwrap();
        }
        assert_eq!(c.claim(0x100_0000..0x100_0100), Err(ClaimError::Full));
        assert!(c.contains(0x3_0010) && !c.contains(0x3_0100));
    }
}
