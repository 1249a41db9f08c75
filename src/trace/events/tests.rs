//! The event table's host tests: definitions bound to fake registries, hits simulated
//! through the registries' own trap and return paths, captures decoded by the host side.

use super::*;
use crate::fakes::{FakeCacheOps, FakeMemory, FakePlatform};
use crate::kprobe::Trap;
use crate::stop_machine::Rendezvous;
use crate::trace::export::{Capture, Value};
use crate::trace::record::{CaptureReader, Frame};
use std::boxed::Box;
use std::collections::BTreeMap;
use std::ops::Range;
use std::string::ToString;
use std::vec::Vec;

const TEXT: usize = 0x8000;
/// `push {r4, lr}`: the first instruction of the probed functions.
const PUSH_R4_LR: u32 = 0xe92d_4010;
const F: usize = TEXT;
const G: usize = TEXT + 16;
const CALLER: u32 = 0x9000;
/// The bytes `read_memory` lets fetches read (byte at `a` is `a as u8`).
const READABLE: Range<u32> = 0x4000..0x5000;

type Reg = Kprobes<FakePlatform, FakeCacheOps, 16>;
type Table = Events<TestPlatform, 4, 4, 64>;

/// A clock that ticks once per read, the fake CPUs, memory at [`READABLE`].
struct TestPlatform {
    fake: &'static FakePlatform,
    ticks: AtomicU64,
}

impl EventPlatform for TestPlatform {
    fn cpu_id(&self) -> usize {
        self.fake.cpu_id()
    }
    fn now(&self) -> u64 {
        self.ticks.fetch_add(1, Ordering::Relaxed) + 1
    }
    fn frequency(&self) -> u32 {
        1_000_000
    }
    fn read_memory(&self, addr: u32, buf: &mut [u8]) -> bool {
        let end = addr.checked_add(buf.len() as u32);
        if addr < READABLE.start || end.is_none_or(|e| e > READABLE.end) {
            return false;
        }
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (addr + i as u32) as u8;
        }
        true
    }
}

struct Symbols;

impl SymbolLookup for Symbols {
    fn lookup(&self, name: &str) -> Option<Range<usize>> {
        match name {
            "f" => Some(F..F + 16),
            "g" => Some(G..G + 16),
            _ => None,
        }
    }
}

struct Env {
    k: &'static Reg,
    t: &'static Kretprobes<FakePlatform>,
    events: &'static Table,
}

fn env() -> Env {
    FakePlatform::become_cpu(0);
    let p: &'static FakePlatform =
        Box::leak(Box::new(FakePlatform::new(TEXT, 128, 0x10_0000, 16, 1)));
    p.set_word(F, PUSH_R4_LR);
    p.set_word(G, PUSH_R4_LR);
    let r: &'static Rendezvous<FakeCacheOps> =
        Box::leak(Box::new(Rendezvous::new(FakeCacheOps::new(true))));
    let k: &'static Reg = Box::leak(Box::new(Kprobes::new(p, r)));
    let t: &'static Kretprobes<FakePlatform> = Box::leak(Box::new(Kretprobes::new(p)));
    let clock: &'static TestPlatform = Box::leak(Box::new(TestPlatform {
        fake: p,
        ticks: AtomicU64::new(100),
    }));
    let events: &'static Table = Box::leak(Box::new(Events::new(clock)));
    Env { k, t, events }
}

impl Env {
    fn define(&self, line: &str) -> Result<Change, EventsError> {
        self.events.define(line, self.k, self.t, &Symbols)
    }

    /// A call of the function at `addr` on `cpu` with arguments `a`, `b` (and r2 = `c`):
    /// the entry breakpoint's trap. Returns the frame after the first instruction.
    fn call(&self, cpu: usize, addr: usize, sp: u32, a: u32, b: u32, c: u32) -> TrapFrame {
        FakePlatform::become_cpu(cpu);
        let mut f = TrapFrame {
            r: [a, b, c, 0, 0x44, 0, 0, 0, 0, 0, 0, 0, 0],
            sp,
            lr: CALLER,
            pc: addr as u32,
            cpsr: 0x1f,
        };
        assert_eq!(
            self.k.handle_undefined(&mut f, &mut FakeMemory::default()),
            Trap::Handled
        );
        f
    }

    /// The function returning `r0` with `sp` as at entry, through the trampoline.
    fn ret(&self, cpu: usize, sp: u32, r0: u32) {
        FakePlatform::become_cpu(cpu);
        let mut f = TrapFrame {
            r: [r0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            sp,
            lr: self.t.trampoline_address() as u32,
            pc: 0,
            cpsr: 0x1f,
        };
        self.t.handle_return(&mut f);
        assert_eq!(f.pc, CALLER, "returned to the caller");
    }

    fn capture(&self) -> (Vec<u8>, DrainReport) {
        let mut bytes = Vec::new();
        let report = self
            .events
            .drain(&mut |b: &[u8]| bytes.extend_from_slice(b))
            .unwrap();
        (bytes, report)
    }

    /// What registering left behind: sites, return probes, defined events.
    fn state(&self) -> (usize, usize, Vec<(u16, String)>) {
        let (bytes, _) = self.capture();
        let events = Capture::read(&bytes)
            .events
            .into_iter()
            .map(|(id, e)| (id, e.name))
            .collect();
        (self.k.sites(), self.t.len(), events)
    }
}

fn defined(id: u16) -> Result<Change, EventsError> {
    Ok(Change::Defined { id })
}

#[test]
fn an_entry_event_records_its_register_arguments_with_cpu_and_timestamp() {
    let e = env();
    assert_eq!(e.define("p:open f a=%r0 b=%r1:u8 %sp"), defined(0));
    e.call(2, F, 0x2000, 7, 0x1ff, 0);
    let (bytes, report) = e.capture();
    assert_eq!((report.events, report.records, report.dropped), (1, 1, 0));
    let c = Capture::read(&bytes);
    assert_eq!(c.error, None);
    assert_eq!(c.header.map(|h| (h.cpus, h.timer_hz)), Some((4, 1_000_000)));
    let event = &c.events[&0];
    assert_eq!((event.name.as_str(), event.target.as_str()), ("open", "f"));
    let r = &c.records[0];
    assert_eq!((r.event, r.cpu, r.is_return()), (0, 2, false));
    assert!(r.timestamp > 100, "a clock read: {r:?}");
    let values: Vec<Value> = event
        .args
        .iter()
        .enumerate()
        .map(|(i, a)| a.value(i, r))
        .collect();
    assert_eq!(
        values,
        [Value::Hex(7), Value::Unsigned(0xff), Value::Hex(0x2000)],
        "u8 keeps the low byte"
    );
    assert_eq!(r.values[1], 0xff, "masked in the record itself");
}

#[test]
fn a_return_event_carries_its_entry_timestamp_and_return_value() {
    let e = env();
    assert_eq!(
        e.define("r:done f $retval ret64=$retval:u64 $cpu"),
        defined(0)
    );
    e.call(1, F, 0x2000, 5, 6, 0);
    e.ret(1, 0x2000, 99);
    let (bytes, report) = e.capture();
    assert_eq!(report.records, 1);
    let c = Capture::read(&bytes);
    let r = &c.records[0];
    assert!(r.is_return());
    assert!(
        r.entry_timestamp > 100 && r.timestamp > r.entry_timestamp,
        "{r:?}"
    );
    assert_eq!(r.latency_ticks(), Some(r.timestamp - r.entry_timestamp));
    assert_eq!(
        (r.values[0], r.values[1], r.values[2], r.cpu),
        (99, 99, 1, 1)
    );
}

#[test]
fn memory_fetches_record_values_and_fault_markers() {
    let e = env();
    assert_eq!(
        e.define("p:mem f ok=+0(%r0):u32 bad=+0(%r1):u32 s=+0(%r2):string wide=+8(%r0):u64"),
        defined(0)
    );
    e.call(0, F, 0x2000, 0x4010, 0x10, 0x4ff0);
    let (bytes, _) = e.capture();
    let c = Capture::read(&bytes);
    let r = &c.records[0];
    let args = &c.events[&0].args;
    assert_eq!(args[0].value(0, r), Value::Unsigned(0x1312_1110));
    assert_eq!(args[1].value(1, r), Value::Fault);
    assert_eq!(r.faults, 0b10);
    // The string runs to the end of readable memory (16 bytes, no NUL).
    assert_eq!(
        args[2].value(2, r),
        Value::Bytes((0xf0..=0xff).collect(), false)
    );
    assert_eq!(
        args[3].value(3, r),
        Value::Unsigned(u64::from_le_bytes([
            0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f
        ]))
    );
}

#[test]
fn every_register_form_reaches_the_record() {
    let e = env();
    assert_eq!(
        e.define("p:regs f %r0 %r1 %r2 %r4 %lr %pc %cpsr:x8"),
        defined(0)
    );
    e.call(0, F, 0x2000, 1, 2, 3);
    let (bytes, _) = e.capture();
    let r = Capture::read(&bytes).records[0];
    assert_eq!(
        r.values[..7],
        [1, 2, 3, 0x44, u64::from(CALLER), F as u64, 0x1f]
    );
}

#[test]
fn removing_an_event_frees_its_id_and_its_probe() {
    let e = env();
    let before = e.state();
    assert_eq!(e.define("p:a f"), defined(0));
    assert_eq!(e.define("r:b g"), defined(1));
    assert_eq!(e.define("-:a"), Ok(Change::Removed { id: 0 }));
    assert_eq!(e.define("p:c g %r0"), defined(0), "the smallest free id");
    assert_eq!(e.define("-:b"), Ok(Change::Removed { id: 1 }));
    assert_eq!(e.define("-:c"), Ok(Change::Removed { id: 0 }));
    assert_eq!(e.state(), before);
}

#[test]
fn records_of_a_removed_event_are_counted_dropped_not_mislabelled() {
    let e = env();
    e.define("p:a f %r0").unwrap();
    e.call(0, F, 0x2000, 1, 0, 0);
    e.define("-:a").unwrap();
    e.define("p:b f %r0 %r1").unwrap();
    e.call(0, F, 0x2000, 2, 3, 0);
    let (bytes, report) = e.capture();
    assert_eq!((report.records, report.dropped), (1, 1));
    let c = Capture::read(&bytes);
    assert_eq!(c.records[0].values[..2], [2, 3]);
    assert_eq!(c.dropped[&0], 1);
}

#[test]
fn a_full_ring_counts_what_it_drops_and_the_next_capture_reports_only_new_losses() {
    let e = env();
    e.define("p:a f %r0 %r1").unwrap();
    // 5-word entries, a 64-word ring: 12 fit.
    for i in 0..20 {
        e.call(3, F, 0x2000, i, 0, 0);
    }
    let (_, first) = e.capture();
    assert_eq!((first.records, first.dropped), (12, 8));
    e.call(3, F, 0x2000, 0, 0, 0);
    let (_, second) = e.capture();
    assert_eq!((second.records, second.dropped), (1, 0));
}

fn assert_error(e: &Env, line: &str, want: EventsError) {
    let before = e.state();
    assert_eq!(e.define(line), Err(want), "{line}");
    assert_eq!(e.state(), before, "{line} changed something");
    assert!(!want.to_string().is_empty());
}

#[test]
fn a_bad_definition_is_refused_naming_the_column() {
    let e = env();
    let err = e.define("p:x f %r99").unwrap_err();
    let EventsError::Definition(d) = err else {
        panic!("{err:?}")
    };
    assert_eq!(d.column(), 7);
    assert!(err.to_string().contains("column 7"), "{err}");
    assert_error(
        &e,
        "q:x f",
        EventsError::Definition(definition::parse("q:x f").unwrap_err()),
    );
}

#[test]
fn a_line_longer_than_the_table_keeps_is_refused() {
    let e = env();
    // Blanks are free to the parser: a valid line of any length.
    let spaced = std::format!("p:x f{}%r0", " ".repeat(MAX_KEPT_LINE));
    assert_error(&e, &spaced, EventsError::LineTooLong { len: spaced.len() });
    let fits = std::format!("p:x f{}%r0", " ".repeat(MAX_KEPT_LINE - 8));
    assert_eq!(fits.len(), MAX_KEPT_LINE);
    assert_eq!(e.define(&fits), defined(0));
}

#[test]
fn a_derived_name_longer_than_the_table_keeps_is_refused() {
    let e = env();
    let symbol = "s".repeat(MAX_EVENT_NAME);
    let line = std::format!("p {symbol}");
    assert_error(
        &e,
        &line,
        EventsError::NameTooLong {
            len: MAX_EVENT_NAME + 4,
        },
    );
}

#[test]
fn an_unknown_symbol_is_refused() {
    let e = env();
    assert_error(&e, "p:x nosuch %r0", EventsError::UnknownSymbol);
}

#[test]
fn an_offset_past_the_symbol_is_refused() {
    let e = env();
    assert_error(
        &e,
        "p:x f+0x10",
        EventsError::OffsetOutsideSymbol {
            offset: 0x10,
            size: 16,
        },
    );
}

#[test]
fn a_duplicate_name_is_refused() {
    let e = env();
    e.define("p:x f").unwrap();
    assert_error(&e, "r:x g", EventsError::DuplicateName);
    // A derived name counts too.
    e.define("p g+4").unwrap();
    assert_error(&e, "p:p_g_4 g", EventsError::DuplicateName);
}

#[test]
fn a_full_table_is_refused() {
    let e = env();
    for (i, line) in ["p:a f", "p:b f+4", "p:c g", "r:d g"].iter().enumerate() {
        assert_eq!(e.define(line), defined(i as u16));
    }
    assert_error(&e, "p:e f+8", EventsError::TableFull { capacity: 4 });
}

#[test]
fn removing_an_unknown_name_is_refused() {
    let e = env();
    e.define("p:a f").unwrap();
    assert_error(&e, "-:b", EventsError::UnknownName);
}

#[test]
fn a_probe_the_registry_refuses_is_refused_with_its_reason() {
    let e = env();
    assert_error(
        &e,
        "p:x 0x100",
        EventsError::Kprobe(KprobeError::OutsideText { addr: 0x100 }),
    );
    assert!(
        e.define("p:x 0x100")
            .unwrap_err()
            .to_string()
            .contains("0x100"),
        "hex address in the sentence"
    );
}

#[test]
fn a_return_probe_the_table_refuses_is_refused_with_its_reason() {
    let e = env();
    assert_error(
        &e,
        "r:x 0x102",
        EventsError::Kretprobe(KretprobeError::Kprobe(KprobeError::Misaligned {
            addr: 0x102,
        })),
    );
}

#[test]
fn a_call_while_another_runs_is_refused_as_busy() {
    let e = env();
    let claim = e.events.claim().unwrap();
    assert_eq!(e.define("p:x f"), Err(EventsError::Busy));
    assert_eq!(
        e.events.drain(&mut |_: &[u8]| {}).map(|_| ()),
        Err(EventsError::Busy)
    );
    drop(claim);
    assert!(EventsError::Busy.to_string().contains("running"));
    assert_eq!(e.k.sites(), 0);
    assert_eq!(e.define("p:x f"), defined(0));
}

/// Hits on several CPUs, entry and return events interleaved, drained in two captures:
/// every hit is a record or counted dropped, per CPU; timestamps grow on each CPU;
/// every return latency is positive; the host tool's views decode it all.
#[test]
fn simulated_hits_on_several_cpus_are_all_accounted_for_and_decode() {
    let e = env();
    e.define("p:open f fd=%r0 flags=%r1").unwrap();
    e.define("r:open_ret g ret=$retval:s32").unwrap();
    let mut hits: BTreeMap<u8, u64> = BTreeMap::new();
    let mut bytes = Vec::new();
    for round in 0..30u32 {
        for cpu in 0..4u8 {
            let c = usize::from(cpu);
            e.call(c, F, 0x2000, round, u32::from(cpu), 0);
            let sp = 0x3000 + 0x100 * u32::from(cpu);
            e.call(c, G, sp, 0, 0, 0);
            e.ret(c, sp, round.wrapping_neg());
            *hits.entry(cpu).or_default() += 2;
        }
        if round % 10 == 9 {
            e.events
                .drain(&mut |b: &[u8]| bytes.extend_from_slice(b))
                .unwrap();
        }
    }
    // Three captures back to back: read each, as the host tool would.
    let mut records = Vec::new();
    let mut dropped: BTreeMap<u8, u64> = BTreeMap::new();
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let end = CaptureReader::new(rest)
            .map(|f| f.unwrap())
            .find(|(_, f)| *f == Frame::End)
            .map(|(at, _)| at + 12)
            .unwrap();
        let c = Capture::read(&rest[..end]);
        assert_eq!(c.error, None);
        assert!(c.text().contains("open_ret"));
        assert!(c.chrome_json().contains("\"ph\""));
        assert!(c.latency_summary().contains("open_ret"));
        records.extend(c.records.iter().copied());
        for (cpu, n) in c.dropped {
            *dropped.entry(cpu).or_default() += n;
        }
        rest = &rest[end..];
    }
    for cpu in 0..4u8 {
        let mine: Vec<&Record> = records.iter().filter(|r| r.cpu == cpu).collect();
        let lost = dropped.get(&cpu).copied().unwrap_or(0);
        assert_eq!(mine.len() as u64 + lost, hits[&cpu], "cpu {cpu}");
        assert!(
            mine.windows(2).all(|w| w[0].timestamp < w[1].timestamp),
            "timestamps grow on cpu {cpu}"
        );
        for r in mine.iter().filter(|r| r.is_return()) {
            assert!(r.latency_ticks().unwrap() > 0, "{r:?}");
            assert_eq!(r.event, 1);
        }
    }
}

#[test]
fn hit_counts_are_the_probes_and_refused_while_busy() {
    let e = env();
    e.define("p:a f %r0").unwrap();
    e.define("r:b g").unwrap();
    e.call(0, F, 0x2000, 0, 0, 0);
    e.call(0, F, 0x2000, 0, 0, 0);
    e.call(1, G, 0x2000, 0, 0, 0);
    e.ret(1, 0x2000, 0);
    assert_eq!(e.events.hits(0), Ok(Some(2)));
    assert_eq!(e.events.hits(1), Ok(Some(1)));
    assert_eq!(e.events.hits(2), Ok(None));
    assert_eq!(e.events.hits(99), Ok(None));
    let claim = e.events.claim().unwrap();
    assert_eq!(e.events.hits(0), Err(EventsError::Busy));
    drop(claim);
}

/// Three CPUs (threads) hit an entry event while this thread drains again and again into
/// small rings: every hit is a record or counted dropped, per CPU, over all captures.
fn drained_while_firing<P: Overflow + Send + Sync + 'static>() {
    FakePlatform::become_cpu(0);
    let p: &'static FakePlatform =
        Box::leak(Box::new(FakePlatform::new(TEXT, 128, 0x10_0000, 16, 1)));
    p.set_word(F, PUSH_R4_LR);
    let r: &'static Rendezvous<FakeCacheOps> =
        Box::leak(Box::new(Rendezvous::new(FakeCacheOps::new(true))));
    let k: &'static Reg = Box::leak(Box::new(Kprobes::new(p, r)));
    let t: &'static Kretprobes<FakePlatform> = Box::leak(Box::new(Kretprobes::new(p)));
    let clock: &'static TestPlatform = Box::leak(Box::new(TestPlatform {
        fake: p,
        ticks: AtomicU64::new(0),
    }));
    let events: &'static Events<TestPlatform, 2, 4, 64, P> =
        Box::leak(Box::new(Events::new(clock)));
    events.define("p:e f %r0 %r1", k, t, &Symbols).unwrap();
    const HITS: u32 = 3000;
    let done = AtomicU64::new(0);
    let mut bytes = Vec::new();
    std::thread::scope(|s| {
        for cpu in 1..4 {
            let done = &done;
            s.spawn(move || {
                FakePlatform::become_cpu(cpu);
                for i in 0..HITS {
                    let mut f = TrapFrame {
                        r: [i, cpu as u32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                        sp: 0x2000,
                        lr: CALLER,
                        pc: F as u32,
                        cpsr: 0x1f,
                    };
                    assert_eq!(
                        k.handle_undefined(&mut f, &mut FakeMemory::default()),
                        Trap::Handled
                    );
                }
                done.fetch_add(1, Ordering::Release);
            });
        }
        while done.load(Ordering::Acquire) < 3 {
            events
                .drain(&mut |b: &[u8]| bytes.extend_from_slice(b))
                .unwrap();
            std::thread::yield_now();
        }
    });
    events
        .drain(&mut |b: &[u8]| bytes.extend_from_slice(b))
        .unwrap();
    let mut rest = &bytes[..];
    let mut records: BTreeMap<u8, Vec<u64>> = BTreeMap::new();
    let mut lost: BTreeMap<u8, u64> = BTreeMap::new();
    while !rest.is_empty() {
        let mut end = rest.len();
        for frame in CaptureReader::new(rest) {
            match frame.unwrap() {
                (_, Frame::Record(r)) => records.entry(r.cpu).or_default().push(r.values[0]),
                (_, Frame::Dropped { cpu, count }) => *lost.entry(cpu).or_default() += count,
                (at, Frame::End) => end = at + 12,
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    for cpu in 1..4u8 {
        let mine = records.remove(&cpu).unwrap_or_default();
        assert!(!mine.is_empty(), "cpu {cpu} recorded nothing");
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "in order on cpu {cpu}"
        );
        assert_eq!(
            mine.len() as u64 + lost.get(&cpu).copied().unwrap_or(0),
            u64::from(HITS),
            "cpu {cpu}"
        );
    }
    assert_eq!(events.hits(0), Ok(Some(3 * u64::from(HITS))));
}

#[test]
fn drained_while_firing_drop_newest_accounts_for_every_hit() {
    drained_while_firing::<DropNewest>();
}

#[test]
fn drained_while_firing_overwrite_oldest_accounts_for_every_hit() {
    drained_while_firing::<OverwriteOldest>();
}

#[test]
fn every_register_word_count_records_its_words_in_order() {
    for count in 0..=6usize {
        let e = env();
        let args: Vec<String> = (0..count).map(|i| std::format!("%r{}", 5 + i)).collect();
        e.define(&std::format!("p:k f {}", args.join(" "))).unwrap();
        FakePlatform::become_cpu(1);
        let mut f = TrapFrame {
            r: core::array::from_fn(|i| 100 + i as u32),
            sp: 0x2000,
            lr: CALLER,
            pc: F as u32,
            cpsr: 0x1f,
        };
        assert_eq!(
            e.k.handle_undefined(&mut f, &mut FakeMemory::default()),
            Trap::Handled
        );
        let (bytes, report) = e.capture();
        assert_eq!(report.records, 1, "{count} arguments");
        let r = Capture::read(&bytes).records[0];
        let want: Vec<u64> = (0..count as u64).map(|i| 105 + i).collect();
        assert_eq!(r.values[..count], want[..], "{count} arguments");
        assert_eq!(r.cpu, 1);
    }
}
