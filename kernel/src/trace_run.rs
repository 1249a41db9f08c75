//! Probe events on the test kernel, end to end: definitions in through the text
//! interface, a workload on every core, captures out — decoded and accounted for in the
//! kernel (its test), or written to a host file through semihosting (the events mode and
//! the demo), which `kprobes-trace` turns into text, Perfetto JSON and latencies.

use crate::bootargs;
use crate::cpu::MAX_CORES;
use crate::events::{EVENT_SLOTS, EVENTS, EventSymbols};
use crate::probes::{KPROBES, KRETPROBES};
use crate::semihosting::HostFile;
use crate::tests::kprobes::{add, cond, push};
use crate::{kprintln, smp};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use armv7_kprobes::trace::definition::{self, Definition};
use armv7_kprobes::trace::events::Change;
use armv7_kprobes::trace::record::{CaptureReader, Frame};
use core::cell::UnsafeCell;

/// Defines each line's event, in order, and returns their names and ids; on an error,
/// removes the ones it defined and names the line.
pub fn define_all(lines: &[&str]) -> Result<Vec<(String, u16)>, String> {
    let mut names: Vec<(String, u16)> = Vec::new();
    for line in lines {
        let name = match definition::parse(line) {
            Ok(Definition::Event(e)) => e.name.to_string(),
            Ok(Definition::Remove { .. }) => {
                let _ = remove_all(&names);
                return Err(format!("`{line}`: a removal, not an event"));
            }
            Err(e) => {
                let _ = remove_all(&names);
                return Err(format!("`{line}`: {e}"));
            }
        };
        match EVENTS.define(line, &KPROBES, &KRETPROBES, &EventSymbols) {
            Ok(Change::Defined { id }) => names.push((name, id)),
            Ok(other) => return Err(format!("`{line}`: {other:?}")),
            Err(e) => {
                let _ = remove_all(&names);
                return Err(format!("`{line}`: {e}"));
            }
        }
    }
    Ok(names)
}

/// Removes the events [`define_all`] defined (`-:NAME`).
pub fn remove_all(names: &[(String, u16)]) -> Result<(), String> {
    for (name, _) in names {
        EVENTS
            .define(&format!("-:{name}"), &KPROBES, &KRETPROBES, &EventSymbols)
            .map_err(|e| format!("-:{name}: {e}"))?;
    }
    Ok(())
}

/// The workload: every core calls `kp_add(i, cpu)`, `kp_cond(i % 2, 7)` and
/// `kp_push(i)` for i in 0..`calls`; core 0 also runs `drain` after every `every` of
/// its calls (the other cores keep firing meanwhile).
pub fn workload(calls: u32, every: u32, drain: &(dyn Fn() + Sync)) {
    smp::on_each_cpu(&|cpu| {
        for i in 0..calls {
            let _ = add(i, cpu as u32);
            let _ = cond(i % 2, 7);
            let _ = push(i);
            if cpu == 0 && (i + 1) % every == 0 {
                drain();
            }
        }
    });
}

/// State only core 0 touches (the drains of [`workload`]).
pub struct CoreZero<T>(UnsafeCell<T>);

// SAFETY: `with` hands out the value only on core 0 (checked at run time, not only in
// debug builds), and core 0 does not re-enter it (a drain does not drain), so there is
// never more than one reference at a time.
unsafe impl<T: Send> Sync for CoreZero<T> {}

impl<T> CoreZero<T> {
    pub fn new(value: T) -> Self {
        CoreZero(UnsafeCell::new(value))
    }

    /// Runs `f` on the value; panics on any core but 0.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        assert_eq!(smp::cpu_id(), 0, "CoreZero used off core 0");
        // SAFETY: see the Sync impl: only core 0 gets here, one call at a time.
        f(unsafe { &mut *self.0.get() })
    }

    pub fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

/// What decoded captures held, per CPU and per event id.
#[derive(Debug)]
pub struct Tally {
    pub captures: u64,
    pub records: [u64; MAX_CORES],
    pub dropped: [u64; MAX_CORES],
    pub per_event: [u64; EVENT_SLOTS],
    /// Per CPU, the last record's timestamp.
    last: [u64; MAX_CORES],
    /// Records whose timestamp is below the previous record's of the same CPU.
    pub backwards: u64,
    /// Return records whose latency is not positive.
    pub not_positive: u64,
    pub returns: u64,
    /// The first few records that broke a rule the caller checks with `check`.
    pub complaints: Vec<String>,
}

impl Tally {
    pub fn new() -> Self {
        Tally {
            captures: 0,
            records: [0; MAX_CORES],
            dropped: [0; MAX_CORES],
            per_event: [0; EVENT_SLOTS],
            last: [0; MAX_CORES],
            backwards: 0,
            not_positive: 0,
            returns: 0,
            complaints: Vec::new(),
        }
    }

    /// Decodes one capture; `check` sees every record and may complain.
    pub fn add_capture(
        &mut self,
        bytes: &[u8],
        check: &mut dyn FnMut(&armv7_kprobes::trace::record::Record) -> Option<String>,
    ) -> Result<(), String> {
        self.captures += 1;
        let mut ended = false;
        for frame in CaptureReader::new(bytes) {
            let (at, frame) = frame.map_err(|e| format!("capture {}: {e:?}", self.captures))?;
            match frame {
                Frame::Record(r) => {
                    let cpu = usize::from(r.cpu);
                    if cpu >= MAX_CORES || usize::from(r.event) >= EVENT_SLOTS {
                        return Err(format!("record at {at}: cpu {cpu} event {}", r.event));
                    }
                    self.records[cpu] += 1;
                    self.per_event[usize::from(r.event)] += 1;
                    if r.timestamp < self.last[cpu] {
                        self.backwards += 1;
                    }
                    self.last[cpu] = r.timestamp;
                    if r.is_return() {
                        self.returns += 1;
                        if r.timestamp <= r.entry_timestamp {
                            self.not_positive += 1;
                        }
                    }
                    if let Some(c) = check(&r)
                        && self.complaints.len() < 5
                    {
                        self.complaints.push(c);
                    }
                }
                Frame::Dropped { cpu, count } => {
                    let cpu = usize::from(cpu);
                    if cpu >= MAX_CORES {
                        return Err(format!("dropped frame at {at}: cpu {cpu}"));
                    }
                    self.dropped[cpu] += count;
                }
                Frame::End => ended = true,
                Frame::Header(_) | Frame::Event(_) => {}
            }
        }
        if !ended {
            return Err(format!("capture {} has no end frame", self.captures));
        }
        Ok(())
    }
}

/// A capture sink into a host file, in 64 KiB writes.
pub struct FileSink {
    file: HostFile,
    buffer: Vec<u8>,
    failed: Option<&'static str>,
}

impl FileSink {
    pub fn create(path: &str) -> Result<FileSink, String> {
        Ok(FileSink {
            file: HostFile::create(path).map_err(|e| format!("{path}: {e}"))?,
            buffer: Vec::with_capacity(64 * 1024),
            failed: None,
        })
    }

    pub fn write(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= 64 * 1024 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if let Err(e) = self.file.write(&self.buffer) {
            self.failed.get_or_insert(e);
        }
        self.buffer.clear();
    }

    /// Writes what is buffered; the first write error, if any.
    pub fn finish(mut self) -> Result<(), &'static str> {
        self.flush();
        self.failed.map_or(Ok(()), Err)
    }
}

/// The events mode: the definitions the runner loaded (one per line; blank lines and
/// `#` comments skipped), the workload for `--rounds` calls per core (default 10,000),
/// the captures to the runner's `--capture` path.
pub fn events_mode() -> Result<(), String> {
    let text = bootargs::event_definitions()
        .ok_or("events mode: no event definitions (the runner's --events FILE)")?;
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    trace_to_file("events", &lines, bootargs::rounds(10_000))
}

/// Core 0's calls between two drains in [`trace_to_file`].
const DRAIN_EVERY: u32 = 100;

/// Defines `lines`' events, runs [`workload`] for `calls` calls per core (core 0 drains
/// every [`DRAIN_EVERY`]), drains the rest, removes the events, and writes every capture to the
/// runner's `--capture` path (when it gave one), printing what each event recorded.
pub fn trace_to_file(who: &str, lines: &[&str], calls: u32) -> Result<(), String> {
    let path = bootargs::capture_path();
    let file = path.map(FileSink::create).transpose()?;
    let events = define_all(lines)?;
    for (line, (_, id)) in lines.iter().zip(&events) {
        kprintln!("{who}: event {id}: {line}");
    }
    let state = CoreZero::new((file, Tally::new(), None::<String>));
    let drain = || {
        state.with(|(file, tally, err)| {
            let mut bytes = Vec::new();
            if let Err(e) = EVENTS.drain(&mut |b: &[u8]| bytes.extend_from_slice(b)) {
                err.get_or_insert(format!("drain: {e}"));
                return;
            }
            if let Err(e) = tally.add_capture(&bytes, &mut |_| None) {
                err.get_or_insert(e);
            }
            if let Some(f) = file {
                f.write(&bytes);
            }
        })
    };
    workload(calls, DRAIN_EVERY, &drain);
    drain();
    let hits: Vec<u64> = events
        .iter()
        .map(|(_, id)| EVENTS.hits(*id).ok().flatten().unwrap_or(0))
        .collect();
    remove_all(&events)?;
    let (file, tally, err) = state.into_inner();
    if let Some(e) = err {
        return Err(e);
    }
    for ((name, id), hits) in events.iter().zip(&hits) {
        kprintln!(
            "{who}: {name}: {hits} hits, {} records",
            tally.per_event[usize::from(*id)]
        );
    }
    let cpus = smp::online_count();
    kprintln!(
        "{who}: {} captures; records by cpu {:?}, dropped by cpu {:?}",
        tally.captures,
        &tally.records[..cpus],
        &tally.dropped[..cpus]
    );
    match (file, path) {
        (Some(f), Some(path)) => {
            f.finish().map_err(|e| format!("{path}: {e}"))?;
            kprintln!("{who}: captures written to {path}");
        }
        _ => kprintln!("{who}: no --capture path: the captures were counted, not kept"),
    }
    Ok(())
}
