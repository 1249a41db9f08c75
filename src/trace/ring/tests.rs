use super::*;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// A record whose every field is derived from `n`, so a torn one is recognisable.
fn record(n: u64) -> Record {
    let mut values = [0; crate::trace::definition::MAX_VALUE_SLOTS];
    for (i, v) in values.iter_mut().enumerate() {
        *v = n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(i as u32);
    }
    Record {
        timestamp: n,
        entry_timestamp: !n,
        event: n as u16,
        cpu: (n >> 16) as u8,
        flags: 0,
        faults: (n >> 24) as u8,
        truncated: (n >> 32) as u8,
        values,
    }
}

fn accounted<const N: usize, P: Overflow>(ring: &TraceRing<N, P>, pushes: u64) {
    assert_eq!(ring.attempted(), pushes);
    assert_eq!(ring.drained() + ring.pending() + ring.dropped(), pushes);
}

#[test]
fn records_come_out_in_order_and_intact() {
    let ring: TraceRing<8> = TraceRing::new();
    for n in 0..5 {
        assert!(ring.push(&record(n)));
    }
    let out: Vec<Record> = ring.drain().unwrap().collect();
    assert_eq!(out, (0..5).map(record).collect::<Vec<_>>());
    assert_eq!(ring.pending(), 0);
    accounted(&ring, 5);
}

#[test]
fn drop_newest_keeps_the_oldest_and_counts_the_rest() {
    let ring: TraceRing<4, DropNewest> = TraceRing::new();
    let kept: Vec<bool> = (0..7).map(|n| ring.push(&record(n))).collect();
    assert_eq!(kept, [true, true, true, true, false, false, false]);
    assert_eq!(ring.dropped(), 3);
    accounted(&ring, 7);
    let mut drain = ring.drain().unwrap();
    assert_eq!(drain.pop(), Some(record(0)));
    drop(drain);
    assert!(ring.push(&record(7)));
    let out: Vec<u64> = ring.drain().unwrap().map(|r| r.timestamp).collect();
    assert_eq!(out, [1, 2, 3, 7]);
    accounted(&ring, 8);
}

#[test]
fn overwrite_oldest_keeps_the_newest_and_counts_what_it_lost() {
    let ring: TraceRing<4, OverwriteOldest> = TraceRing::new();
    assert!((0..11).all(|n| ring.push(&record(n))));
    let out: Vec<u64> = ring.drain().unwrap().map(|r| r.timestamp).collect();
    assert_eq!(out, [7, 8, 9, 10]);
    assert_eq!(ring.dropped(), 7);
    accounted(&ring, 11);
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
    let ring: TraceRing<4, DropNewest> = TraceRing::new();
    ring.head.store(u32::MAX - 1, Ordering::Relaxed);
    ring.tail.store(u32::MAX - 1, Ordering::Relaxed);
    for n in 0..4 {
        assert!(ring.push(&record(n)));
    }
    assert!(!ring.push(&record(9)));
    let out: Vec<u64> = ring.drain().unwrap().map(|r| r.timestamp).collect();
    assert_eq!(out, [0, 1, 2, 3]);

    let ring: TraceRing<4, OverwriteOldest> = TraceRing::new();
    ring.head.store(u32::MAX - 1, Ordering::Relaxed);
    ring.tail.store(u32::MAX - 1, Ordering::Relaxed);
    for n in 0..6 {
        ring.push(&record(n));
    }
    let out: Vec<u64> = ring.drain().unwrap().map(|r| r.timestamp).collect();
    assert_eq!(out, [2, 3, 4, 5]);
    assert_eq!(ring.dropped(), 2);
}

/// A producer thread and a drainer thread at once: every drained record is intact (not
/// torn), in order, and drained + dropped = pushed at the end.
fn concurrent<P: Overflow + Send + Sync + 'static>(pushes: u64) -> (u64, u64) {
    let ring: Arc<TraceRing<16, P>> = Arc::new(TraceRing::new());
    let done = Arc::new(AtomicBool::new(false));
    let producer = {
        let (ring, done) = (ring.clone(), done.clone());
        std::thread::spawn(move || {
            for n in 0..pushes {
                ring.push(&record(n));
                if n % 64 == 0 {
                    std::thread::yield_now();
                }
            }
            done.store(true, Ordering::Release);
        })
    };
    let mut seen = 0u64;
    let mut last: Option<u64> = None;
    loop {
        let finished = done.load(Ordering::Acquire);
        let mut drain = ring.drain().unwrap();
        while let Some(r) = drain.pop() {
            assert_eq!(r, record(r.timestamp), "torn record");
            assert!(last.is_none_or(|l| r.timestamp > l), "out of order");
            last = Some(r.timestamp);
            seen += 1;
        }
        drop(drain);
        if finished {
            break;
        }
        std::thread::yield_now();
    }
    producer.join().unwrap();
    assert_eq!(ring.pending(), 0);
    accounted(&ring, pushes);
    assert_eq!(ring.drained(), seen);
    (seen, ring.dropped())
}

#[test]
fn concurrent_drop_newest_accounts_for_every_record() {
    let (seen, dropped) = concurrent::<DropNewest>(50_000);
    assert_eq!(seen + dropped, 50_000);
}

#[test]
fn concurrent_overwrite_oldest_never_yields_a_torn_record() {
    let (seen, dropped) = concurrent::<OverwriteOldest>(50_000);
    assert_eq!(seen + dropped, 50_000);
}
