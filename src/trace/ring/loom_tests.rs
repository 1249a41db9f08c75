//! Model check of the trace ring with loom: a producer pushing while a drainer pops, in
//! every interleaving up to the preemption bound, for both full policies, and two
//! drainers contending. A torn entry (words from two pushes), an entry seen twice or
//! out of order, or an entry neither drained nor counted dropped fails an assertion.
//!
//! The producer's `Acquire` load of `tail` orders the drainer's reads of an entry before
//! the producer writes over it; without it the reads could see the later writes (load
//! buffering), which loom does not model, so that one edge is argued in the ring's
//! module docs rather than checked here.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --profile loom --lib trace::ring::loom_`
//! (`tests/heavy/loom_rendezvous.rs` runs these with the rendezvous models).

use super::*;
use loom::sync::Arc;
use loom::thread;

/// Pushes entry `n`: tag `n + 1`, one body word `n + 1` — two words the drainer must
/// see from the same push.
fn push<const N: usize, P: Overflow>(ring: &TraceRing<N, P>, n: u64) {
    let k = n as u32 + 1;
    ring.push(k, [k]);
}

fn check(model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    // LOOM_MAX_PREEMPTIONS wins when set; otherwise keep the run bounded.
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    builder.check(model);
}

/// Pops everything now in `ring`, checking each entry is whole and newer than `last`.
fn take<const N: usize, P: Overflow>(ring: &TraceRing<N, P>, last: &mut Option<u64>) -> u64 {
    let mut taken = 0;
    let Some(mut drain) = ring.drain() else {
        return 0;
    };
    while let Some(e) = drain.pop() {
        // The header's tag and the body word come from one push or the entry is torn.
        assert_eq!(e.body(), [e.tag], "torn entry");
        let n = u64::from(e.tag) - 1;
        assert!(last.is_none_or(|l| n > l), "entry {n} after {last:?}");
        *last = Some(n);
        taken += 1;
    }
    taken
}

/// A producer pushes `pushes` two-word entries into a ring of `N` words while a drainer pops once
/// concurrently; then the rest is drained.
///
/// The producer is the main thread and the drainer the spawned one on purpose: loom's
/// partial-order reduction adds a schedule when an access conflicts with the *last*
/// access to the same atomic, so a drainer load that came first would be hidden behind
/// the producer's own load of `head` and loom would run a single schedule (checked:
/// with the roles swapped, disabling the drainer's second sequence check goes unseen).
fn producer_and_drainer<const N: usize, P: Overflow + Send + Sync + 'static>(pushes: u64) {
    check(move || {
        let ring: Arc<TraceRing<N, P>> = Arc::new(TraceRing::new());
        let drainer = {
            let ring = ring.clone();
            thread::spawn(move || {
                let mut last = None;
                let taken = take(&*ring, &mut last);
                (taken, last)
            })
        };
        for n in 0..pushes {
            push(&*ring, n);
        }
        let (mut taken, mut last) = drainer.join().unwrap();
        taken += take(&*ring, &mut last);
        assert_eq!(taken + ring.dropped(), pushes, "an entry lost uncounted");
        assert_eq!(ring.drained(), taken);
        if P::OVERWRITES {
            // Overwrite-oldest keeps the newest: the last entry always survives.
            assert_eq!(last, Some(pushes - 1));
        } else {
            // Drop-newest keeps a prefix: the first entry always survives.
            assert!(taken >= 1);
        }
    });
}

#[test]
fn loom_ring_drop_newest_producer_and_drainer() {
    producer_and_drainer::<2, DropNewest>(2);
}

#[test]
fn loom_ring_overwrite_oldest_never_yields_a_torn_record() {
    producer_and_drainer::<2, OverwriteOldest>(2);
}

#[test]
fn loom_ring_overwrite_oldest_drainer_lapped_by_the_producer() {
    producer_and_drainer::<4, OverwriteOldest>(3);
}

#[test]
fn loom_ring_drop_newest_ring_of_two() {
    producer_and_drainer::<4, DropNewest>(3);
}

#[test]
fn loom_ring_two_drainers_take_each_record_once() {
    check(|| {
        let ring: Arc<TraceRing<4, DropNewest>> = Arc::new(TraceRing::new());
        push(&*ring, 0);
        push(&*ring, 1);
        let other = {
            let ring = ring.clone();
            thread::spawn(move || {
                let mut last = None;
                take(&*ring, &mut last)
            })
        };
        let mut last = None;
        let mine = take(&*ring, &mut last);
        let theirs = other.join().unwrap();
        let rest = take(&*ring, &mut None);
        assert_eq!(mine + theirs + rest, 2);
        assert_eq!(ring.dropped(), 0);
    });
}
