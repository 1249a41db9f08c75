//! Probe events on the real machine: definitions through the text interface, 4 cores
//! each firing 10,000 entry and 10,000 return events while core 0 drains now and then,
//! and every hit accounted for in the decoded captures.

use crate::cpu::MAX_CORES;
use crate::events::EVENTS;
use crate::testing::TestResult;
use crate::trace_run::{CoreZero, Tally, define_all, remove_all, workload};
use crate::{ensure, kprintln};
use alloc::format;
use alloc::vec::Vec;
use armv7_kprobes::trace::record::Record;
use core::sync::atomic::{AtomicU32, Ordering};

/// Calls per core.
const CALLS: u32 = 10_000;
/// Core 0 drains after every this many of its calls.
const DRAIN_EVERY: u32 = 500;

/// Per CPU, the last `i` its entry events recorded (+1; 0: none yet).
static LAST_I: [AtomicU32; MAX_CORES] = [const { AtomicU32::new(0) }; MAX_CORES];

/// 4 cores × 10,000 calls of a function with an entry event (two register arguments)
/// and of one with a return event: per CPU, the records in the captures plus what the
/// captures report dropped equal the hits; per CPU the timestamps never go back and
/// every entry event's arguments are its own CPU's, in call order; every return event's
/// latency is positive and its value the function's result.
pub fn probe_events_on_four_cores_account_for_every_hit() -> TestResult {
    let cpus = crate::smp::online_count();
    ensure!(cpus == MAX_CORES, "{cpus} cores online");
    for l in &LAST_I {
        l.store(0, Ordering::Relaxed);
    }
    let lines = [
        "p:ev_add kp_add i=%r0 cpu=%r1:u32",
        "r:ev_push kp_push ret=$retval:u32",
    ];
    let names = define_all(&lines)?;
    let (add_id, push_id) = (names[0].1, names[1].1);
    let tally = CoreZero::new((Tally::new(), None));
    let check = |r: &Record| {
        if r.event == add_id {
            let (i, cpu) = (r.values[0] as u32, r.values[1]);
            if cpu != u64::from(r.cpu) {
                return Some(format!("ev_add on cpu {} says cpu {cpu}", r.cpu));
            }
            let last = &LAST_I[usize::from(r.cpu) % MAX_CORES];
            if i < last.load(Ordering::Relaxed) {
                return Some(format!(
                    "ev_add on cpu {}: i {i} after {}",
                    r.cpu,
                    last.load(Ordering::Relaxed) - 1
                ));
            }
            last.store(i + 1, Ordering::Relaxed);
        } else if r.event == push_id
            && (!r.values[0].is_multiple_of(2) || r.values[0] >= 2 * u64::from(CALLS))
        {
            return Some(format!("ev_push returned {} (not 2i)", r.values[0]));
        }
        None
    };
    let drain = || {
        tally.with(|(t, err)| {
            let mut bytes = Vec::new();
            match EVENTS.drain(&mut |b: &[u8]| bytes.extend_from_slice(b)) {
                Ok(_) => {
                    if let Err(e) = t.add_capture(&bytes, &mut |r| check(r)) {
                        err.get_or_insert(e);
                    }
                }
                Err(e) => {
                    err.get_or_insert(format!("drain: {e}"));
                }
            }
        })
    };
    workload(CALLS, DRAIN_EVERY, &drain);
    drain();
    let hits = [add_id, push_id].map(|id| EVENTS.hits(id));
    remove_all(&names)?;
    let (t, err) = tally.into_inner();
    if let Some(e) = err {
        return Err(e);
    }
    let hits = hits.map(|h| h.ok().flatten().unwrap_or(0));
    kprintln!(
        "\n     probe events: {} captures; records by cpu {:?}, dropped by cpu {:?}; \
         ev_add {} of {} hits recorded, ev_push {} of {}",
        t.captures,
        t.records,
        t.dropped,
        t.per_event[usize::from(add_id)],
        hits[0],
        t.per_event[usize::from(push_id)],
        hits[1]
    );
    ensure!(
        hits == [u64::from(CALLS) * cpus as u64; 2],
        "event hits {hits:?}, expected {} each",
        u64::from(CALLS) * cpus as u64
    );
    for cpu in 0..cpus {
        let (r, d) = (t.records[cpu], t.dropped[cpu]);
        ensure!(
            r + d == 2 * u64::from(CALLS),
            "cpu {cpu}: {r} records + {d} dropped, not the {} hits",
            2 * CALLS
        );
    }
    ensure!(t.complaints.is_empty(), "{:?}", t.complaints);
    ensure!(t.backwards == 0, "{} timestamps went back", t.backwards);
    ensure!(t.returns > 0, "no return event recorded");
    ensure!(
        t.not_positive == 0,
        "{} of {} return latencies not positive",
        t.not_positive,
        t.returns
    );
    Ok(())
}
