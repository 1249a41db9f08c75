//! A capture as people read it (host, `std`): ftrace-like text, Chrome trace-event JSON
//! that Perfetto (ui.perfetto.dev) and `chrome://tracing` open, and per-event latency
//! summaries. What the `kprobes-trace` tool prints.
//!
//! A damaged capture still gives everything before the damage: [`Capture::read`] keeps
//! every intact frame and the [`CaptureError`] that stopped it, and every view shows the
//! records it has (the JSON names the error in `otherData`).

use super::definition::{EventKind, FetchType, STRING_SLOTS};
use super::record::{CaptureError, CaptureHeader, CaptureReader, Frame, Record};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// An event table entry, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Entry or return.
    pub kind: EventKind,
    /// Its name.
    pub name: String,
    /// Where it was probed.
    pub target: String,
    /// Its arguments.
    pub args: Vec<Arg>,
}

/// One argument of an [`Event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: FetchType,
    /// Its first value slot.
    pub slot: u8,
}

/// Everything readable in a capture.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    /// The header (`None` only when the capture is damaged before it).
    pub header: Option<CaptureHeader>,
    /// The event table by id.
    pub events: BTreeMap<u16, Event>,
    /// The records, in capture order.
    pub records: Vec<Record>,
    /// Records each CPU lost, as the kernel reported them.
    pub dropped: BTreeMap<u8, u64>,
    /// Where and why reading stopped early, if it did.
    pub error: Option<CaptureError>,
}

/// A fetched value, ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// The fetch would have faulted.
    Fault,
    /// An unsigned number.
    Unsigned(u64),
    /// A signed number.
    Signed(i64),
    /// A number to show in hexadecimal.
    Hex(u64),
    /// A string's bytes (up to its NUL) and whether it was cut.
    Bytes(Vec<u8>, bool),
}

impl Arg {
    /// Argument `index`'s value in `record`.
    pub fn value(&self, index: usize, record: &Record) -> Value {
        if index < 8 && record.faults & (1 << index) != 0 {
            return Value::Fault;
        }
        let slot = usize::from(self.slot);
        let raw = record.values.get(slot).copied().unwrap_or(0);
        let bits = self.ty.size().unwrap_or(8) * 8;
        let raw = if bits == 64 {
            raw
        } else {
            raw & ((1 << bits) - 1)
        };
        match self.ty {
            FetchType::String => {
                let cut = index < 8 && record.truncated & (1 << index) != 0;
                let bytes = record
                    .slot_bytes(slot, STRING_SLOTS)
                    .take_while(|&b| b != 0)
                    .collect();
                Value::Bytes(bytes, cut)
            }
            ty if ty.is_signed() => {
                let shift = 64 - bits;
                Value::Signed(((raw << shift) as i64) >> shift)
            }
            ty if ty.is_hex() => Value::Hex(raw),
            _ => Value::Unsigned(raw),
        }
    }
}

impl Capture {
    /// Reads every intact frame of `bytes`, stopping at the first damaged one. `bytes`
    /// may hold several captures one after another (a kernel that drains now and then
    /// appends each capture to one file): their records are read in order, and an
    /// event's description is the latest one read. An error's offset counts from the
    /// start of `bytes`.
    pub fn read(bytes: &[u8]) -> Capture {
        let mut capture = Capture::default();
        let mut start = 0;
        loop {
            let mut reader = CaptureReader::new(&bytes[start..]);
            let mut ended = false;
            for frame in reader.by_ref() {
                match frame {
                    Ok((_, Frame::Header(h))) => capture.header = Some(h),
                    Ok((_, Frame::Event(e))) => {
                        let args = e
                            .args()
                            .map(|a| Arg {
                                name: a.name.to_string(),
                                ty: a.ty,
                                slot: a.slot,
                            })
                            .collect();
                        capture.events.insert(
                            e.id,
                            Event {
                                kind: e.kind,
                                name: e.name.to_string(),
                                target: e.target.to_string(),
                                args,
                            },
                        );
                    }
                    Ok((_, Frame::Record(r))) => capture.records.push(r),
                    Ok((_, Frame::Dropped { cpu, count })) => {
                        *capture.dropped.entry(cpu).or_default() += count;
                    }
                    Ok((_, Frame::End)) => ended = true,
                    Err(mut e) => {
                        e.offset += start;
                        capture.error = Some(e);
                    }
                }
            }
            start += reader.offset();
            if !ended || start >= bytes.len() {
                return capture;
            }
        }
    }

    fn timer_hz(&self) -> u64 {
        self.header.map_or(1, |h| u64::from(h.timer_hz).max(1))
    }

    /// Timer ticks as nanoseconds (exact integer arithmetic, truncated).
    pub fn nanoseconds(&self, ticks: u64) -> u64 {
        (u128::from(ticks) * 1_000_000_000 / u128::from(self.timer_hz())) as u64
    }

    fn event_name(&self, record: &Record) -> String {
        match self.events.get(&record.event) {
            Some(e) => e.name.clone(),
            None => format!("event_{}", record.event),
        }
    }

    fn args_of<'c>(&'c self, record: &'c Record) -> impl Iterator<Item = (&'c str, Value)> + 'c {
        self.events
            .get(&record.event)
            .into_iter()
            .flat_map(|e| e.args.iter().enumerate())
            .map(move |(i, a)| (a.name.as_str(), a.value(i, record)))
    }

    /// ftrace-like lines: `[CPU] SECONDS: EVENT: (TARGET) ARG=VALUE…`, return events
    /// with their latency; then the dropped counts; and a last line naming the damage,
    /// if any.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if let Some(h) = self.header {
            let _ = writeln!(
                out,
                "# kprobes-trace: {} CPUs, timer {} Hz, {} events, {} records",
                h.cpus,
                h.timer_hz,
                self.events.len(),
                self.records.len()
            );
        }
        for r in &self.records {
            let ns = self.nanoseconds(r.timestamp);
            let _ = write!(
                out,
                "[{:03}] {:>6}.{:06}: {}: ",
                r.cpu,
                ns / 1_000_000_000,
                ns % 1_000_000_000 / 1000,
                self.event_name(r)
            );
            let target = self.events.get(&r.event).map_or("?", |e| e.target.as_str());
            match r.latency_ticks() {
                Some(t) => {
                    let lat = self.nanoseconds(t);
                    let _ = write!(out, "({target} latency={}.{:03}us)", lat / 1000, lat % 1000);
                }
                None => {
                    let _ = write!(out, "({target})");
                }
            }
            for (name, value) in self.args_of(r) {
                let _ = write!(out, " {name}=");
                text_value(&mut out, &value);
            }
            out.push('\n');
        }
        for (cpu, count) in &self.dropped {
            let _ = writeln!(out, "# CPU {cpu}: {count} records dropped");
        }
        if let Some(e) = self.error {
            let _ = writeln!(out, "# capture damaged: {e}");
        }
        out
    }

    /// Chrome trace-event JSON: one process (`pid` 0), one thread per CPU (`tid` = CPU,
    /// named `CPU n`); an entry event is an instant (`"ph":"i"`), a return event a
    /// complete slice (`"ph":"X"`) from its entry timestamp, lasting its latency. `ts`
    /// and `dur` are microseconds with nanosecond decimals. Arguments go in `args`
    /// (hexadecimal values and numbers beyond 2^53 as strings); dropped counts and the
    /// damage, if any, in `otherData`.
    pub fn chrome_json(&self) -> String {
        let mut cpus: Vec<u8> = self.records.iter().map(|r| r.cpu).collect();
        if let Some(h) = self.header {
            cpus.extend(0..h.cpus);
        }
        cpus.sort_unstable();
        cpus.dedup();
        let mut events: Vec<String> = Vec::new();
        events.push(
            r#"{"name":"process_name","ph":"M","ts":0,"pid":0,"tid":0,"args":{"name":"kernel"}}"#
                .to_string(),
        );
        for cpu in &cpus {
            events.push(format!(
                r#"{{"name":"thread_name","ph":"M","ts":0,"pid":0,"tid":{cpu},"args":{{"name":"CPU {cpu}"}}}}"#
            ));
        }
        for r in &self.records {
            let mut e = String::from("{\"name\":");
            json_string(&mut e, self.event_name(r).as_bytes());
            match r.latency_ticks() {
                Some(t) => {
                    let start = self.nanoseconds(r.entry_timestamp);
                    let _ = write!(
                        e,
                        ",\"cat\":\"return\",\"ph\":\"X\",\"ts\":{},\"dur\":{}",
                        micros(start),
                        micros(self.nanoseconds(t))
                    );
                }
                None => {
                    let _ = write!(
                        e,
                        ",\"cat\":\"entry\",\"ph\":\"i\",\"s\":\"t\",\"ts\":{}",
                        micros(self.nanoseconds(r.timestamp))
                    );
                }
            }
            let _ = write!(e, ",\"pid\":0,\"tid\":{},\"args\":{{", r.cpu);
            for (i, (name, value)) in self.args_of(r).enumerate() {
                if i > 0 {
                    e.push(',');
                }
                json_string(&mut e, name.as_bytes());
                e.push(':');
                json_value(&mut e, &value);
            }
            e.push_str("}}");
            events.push(e);
        }
        let mut out = String::from("{\"displayTimeUnit\":\"ns\",\"otherData\":{");
        let mut other: Vec<String> = Vec::new();
        if let Some(h) = self.header {
            other.push(format!("\"timer_hz\":\"{}\"", h.timer_hz));
        }
        for (cpu, count) in &self.dropped {
            other.push(format!("\"dropped_cpu{cpu}\":\"{count}\""));
        }
        if let Some(err) = self.error {
            let mut s = String::from("\"capture_error\":");
            json_string(&mut s, err.to_string().as_bytes());
            other.push(s);
        }
        out.push_str(&other.join(","));
        out.push_str("},\"traceEvents\":[\n");
        out.push_str(&events.join(",\n"));
        out.push_str("\n]}\n");
        out
    }

    /// Latency (entry to return) per return event: count, p50, p99 and max, nearest-rank
    /// percentiles, in microseconds.
    pub fn latency_summary(&self) -> String {
        let mut by_event: BTreeMap<u16, Vec<u64>> = BTreeMap::new();
        for r in &self.records {
            if let Some(t) = r.latency_ticks() {
                by_event
                    .entry(r.event)
                    .or_default()
                    .push(self.nanoseconds(t));
            }
        }
        let mut out = format!(
            "{:<24} {:>8} {:>14} {:>14} {:>14}\n",
            "event", "count", "p50", "p99", "max"
        );
        if by_event.is_empty() {
            out.push_str("(no return events)\n");
        }
        for (id, mut ns) in by_event {
            ns.sort_unstable();
            let rank = |p: usize| ns[(ns.len() * p).div_ceil(100).max(1) - 1];
            let name = self
                .events
                .get(&id)
                .map_or_else(|| format!("event_{id}"), |e| e.name.clone());
            let _ = writeln!(
                out,
                "{:<24} {:>8} {:>12}us {:>12}us {:>12}us",
                name,
                ns.len(),
                micros(rank(50)),
                micros(rank(99)),
                micros(*ns.last().unwrap_or(&0))
            );
        }
        out
    }
}

/// Nanoseconds as microseconds with three decimals (`1500` -> `1.500`).
fn micros(ns: u64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}

fn text_value(out: &mut String, value: &Value) {
    match value {
        Value::Fault => out.push_str("(fault)"),
        Value::Unsigned(v) => {
            let _ = write!(out, "{v}");
        }
        Value::Signed(v) => {
            let _ = write!(out, "{v}");
        }
        Value::Hex(v) => {
            let _ = write!(out, "{v:#x}");
        }
        Value::Bytes(bytes, cut) => {
            out.push('"');
            for &b in bytes {
                match b {
                    b'"' => out.push_str("\\\""),
                    b'\\' => out.push_str("\\\\"),
                    0x20..=0x7e => out.push(char::from(b)),
                    _ => {
                        let _ = write!(out, "\\x{b:02x}");
                    }
                }
            }
            out.push('"');
            if *cut {
                out.push_str("...");
            }
        }
    }
}

/// Largest integer a JSON reader with IEEE doubles (JavaScript) holds exactly.
const JSON_EXACT: u64 = 1 << 53;

fn json_value(out: &mut String, value: &Value) {
    match value {
        Value::Fault => out.push_str("\"(fault)\""),
        Value::Unsigned(v) if *v <= JSON_EXACT => {
            let _ = write!(out, "{v}");
        }
        Value::Signed(v) if v.unsigned_abs() <= JSON_EXACT => {
            let _ = write!(out, "{v}");
        }
        Value::Unsigned(v) => {
            let _ = write!(out, "\"{v}\"");
        }
        Value::Signed(v) => {
            let _ = write!(out, "\"{v}\"");
        }
        Value::Hex(v) => {
            let _ = write!(out, "\"{v:#x}\"");
        }
        Value::Bytes(bytes, cut) => {
            let mut b = bytes.clone();
            if *cut {
                b.extend_from_slice(b"...");
            }
            json_string(out, &b);
        }
    }
}

/// `bytes` as a JSON string: UTF-8 kept, `"` `\` and control characters escaped, and
/// each byte of invalid UTF-8 shown as the character of that code (Latin-1).
pub fn json_string(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        for &b in chunk.invalid() {
            let _ = write!(out, "\\u{:04x}", b);
        }
    }
    out.push('"');
}

#[cfg(all(test, not(loom)))] // proptest and capstone are not in the loom build
mod tests;
