use super::*;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::vec::Vec;

/// Entry `n`: `1 + n % 4` body words, each derived from `n`, so a torn one is
/// recognisable; its tag is `n`'s low 24 bits.
fn body(n: u32) -> Vec<u32> {
    (0..1 + n % 4)
        .map(|i| n.wrapping_mul(0x9E37_79B9).rotate_left(i))
        .collect()
}

fn push<const N: usize, P: Overflow>(ring: &TraceRing<N, P>, n: u32) -> bool {
    ring.push_slice(n & 0xff_ffff, &body(n))
}

fn check(e: &Entry) -> u32 {
    let n = e.tag;
    assert_eq!(e.body(), body(n), "torn entry {n}");
    n
}

fn take<const N: usize, P: Overflow>(ring: &TraceRing<N, P>) -> Vec<u32> {
    ring.drain().unwrap().map(|e| check(&e)).collect()
}

#[test]
fn entries_come_out_in_order_and_intact() {
    let ring: TraceRing<64> = TraceRing::new();
    for n in 0..5 {
        assert!(push(&ring, n));
    }
    assert_eq!(take(&ring), [0, 1, 2, 3, 4]);
    assert_eq!(ring.pending_words(), 0);
    assert_eq!((ring.drained(), ring.dropped()), (5, 0));
}

#[test]
fn a_fixed_size_push_is_the_same_entry_as_a_slice_push() {
    let ring: TraceRing<16> = TraceRing::new();
    assert!(ring.push(7, [1, 2, 3]));
    let e = ring.drain().unwrap().pop().unwrap();
    assert_eq!((e.tag, e.body()), (7, &[1, 2, 3][..]));
}

#[test]
fn an_entry_that_would_wrap_starts_after_padding_which_is_not_an_entry() {
    let ring: TraceRing<8> = TraceRing::new();
    assert!(ring.push(1, [10, 11, 12, 13])); // words 0..5
    assert_eq!(
        ring.drain().unwrap().map(|e| e.tag).collect::<Vec<_>>(),
        [1]
    );
    // Three words are left before the end; a four-word entry pads them.
    assert!(ring.push(2, [20, 21, 22]));
    let e = ring.drain().unwrap().pop().unwrap();
    assert_eq!((e.tag, e.body()), (2, &[20, 21, 22][..]));
    assert_eq!(
        (ring.drained(), ring.dropped()),
        (2, 0),
        "padding is not counted"
    );
}

#[test]
fn drop_newest_keeps_the_oldest_and_counts_the_rest() {
    // Entries of 3 words (tag n, body [n, n]) into 8 words: two fit.
    let ring: TraceRing<8, DropNewest> = TraceRing::new();
    let kept: Vec<bool> = (0..5).map(|n| ring.push(n, [n, n])).collect();
    assert_eq!(kept, [true, true, false, false, false]);
    assert_eq!(ring.dropped(), 3);
    let mut drain = ring.drain().unwrap();
    assert_eq!(drain.pop().map(|e| e.tag), Some(0));
    drop(drain);
    assert!(ring.push(5, [5, 5]));
    let out: Vec<u32> = ring.drain().unwrap().map(|e| e.tag).collect();
    assert_eq!(out, [1, 5]);
    assert_eq!(ring.drained() + ring.dropped(), 6);
}

#[test]
fn overwrite_oldest_keeps_the_newest_and_counts_what_it_lost() {
    let ring: TraceRing<16, OverwriteOldest> = TraceRing::new();
    assert!((0..11).all(|n| ring.push(n, [n, n, n])));
    let out: Vec<u32> = ring.drain().unwrap().map(|e| e.tag).collect();
    assert_eq!(
        out,
        [7, 8, 9, 10],
        "the newest that fit (four 4-word entries)"
    );
    assert_eq!(ring.dropped(), 7);
    assert_eq!(ring.drained() + ring.dropped(), 11);
}

#[test]
fn overwrite_oldest_with_mixed_lengths_accounts_for_every_entry() {
    let ring: TraceRing<16, OverwriteOldest> = TraceRing::new();
    for n in 0..100 {
        assert!(push(&ring, n));
    }
    let out = take(&ring);
    assert!(out.windows(2).all(|w| w[1] == w[0] + 1), "{out:?}");
    assert_eq!(out.last(), Some(&99));
    assert_eq!(ring.drained() + ring.dropped(), 100);
}

#[test]
fn oversized_entries_are_dropped() {
    let ring: TraceRing<4, OverwriteOldest> = TraceRing::new();
    assert!(!ring.push(1, [0; 4]), "5 words in a ring of 4");
    let big: TraceRing<256> = TraceRing::new();
    assert!(!big.push_slice(1, &[0; MAX_ENTRY_WORDS]));
    assert!(big.push_slice(1, &[0; MAX_ENTRY_WORDS - 1]));
}

#[test]
fn only_one_drainer_at_a_time() {
    let ring: TraceRing<4> = TraceRing::new();
    let first = ring.drain().unwrap();
    assert!(ring.drain().is_none());
    drop(first);
    assert!(ring.drain().is_some());
}

#[test]
fn positions_wrap_past_u32() {
    for start in [u32::MAX - 1, u32::MAX - 8] {
        let ring: TraceRing<8, DropNewest> = TraceRing::new();
        ring.head.store(start, Ordering::Relaxed);
        ring.tail.store(start, Ordering::Relaxed);
        assert!(ring.push(0, [0]));
        assert!(ring.push(1, [1]));
        assert!(ring.push(2, [2]));
        let out: Vec<u32> = ring.drain().unwrap().map(|e| e.tag).collect();
        assert_eq!(out, [0, 1, 2]);

        let ring: TraceRing<8, OverwriteOldest> = TraceRing::new();
        ring.head.store(start, Ordering::Relaxed);
        ring.tail.store(start, Ordering::Relaxed);
        for n in 0..7 {
            assert!(ring.push(n, [n]));
        }
        let out: Vec<u32> = ring.drain().unwrap().map(|e| e.tag).collect();
        assert_eq!(out, [3, 4, 5, 6]);
        assert_eq!(ring.dropped(), 3);
    }
}

/// A producer thread and a drainer thread at once: every drained entry is intact (not
/// torn), in order, and drained + dropped = pushed at the end.
fn concurrent<P: Overflow + Send + Sync + 'static>(pushes: u32) -> (u64, u64) {
    let ring: Arc<TraceRing<64, P>> = Arc::new(TraceRing::new());
    let done = Arc::new(AtomicBool::new(false));
    let producer = {
        let (ring, done) = (ring.clone(), done.clone());
        std::thread::spawn(move || {
            for n in 0..pushes {
                push(&*ring, n);
                if n % 64 == 0 {
                    std::thread::yield_now();
                }
            }
            done.store(true, Ordering::Release);
        })
    };
    let mut seen = 0u64;
    let mut last: Option<u32> = None;
    loop {
        let finished = done.load(Ordering::Acquire);
        let mut drain = ring.drain().unwrap();
        while let Some(e) = drain.pop() {
            let n = check(&e);
            assert!(last.is_none_or(|l| n > l), "out of order");
            last = Some(n);
            seen += 1;
        }
        drop(drain);
        if finished {
            break;
        }
        std::thread::yield_now();
    }
    producer.join().unwrap();
    assert_eq!(ring.pending_words(), 0);
    assert_eq!(ring.drained(), seen);
    (seen, ring.dropped())
}

#[test]
fn concurrent_drop_newest_accounts_for_every_entry() {
    let (seen, dropped) = concurrent::<DropNewest>(50_000);
    assert_eq!(seen + dropped, 50_000);
}

#[test]
fn concurrent_overwrite_oldest_never_yields_a_torn_entry() {
    let (seen, dropped) = concurrent::<OverwriteOldest>(50_000);
    assert_eq!(seen + dropped, 50_000);
}
