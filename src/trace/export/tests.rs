use super::*;
use crate::trace::definition::{Definition, MAX_VALUE_SLOTS, STRING_MAX_LEN, parse};
use crate::trace::record::{
    CaptureErrorKind, CaptureWriter, FRAME_HEADER_SIZE, FRAME_TRAILER_SIZE, RECORD_SIZE,
};

const GOLDEN_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

const DEFINITIONS: [&str; 3] = [
    "p:open do_open dfd=%r0:s32 path=+0(%r1):string flags=%r2",
    "p:tick 0x80001000 $cpu:u8 count=+8(%sp):u64 big=+0(%r3):x64",
    "r:open_ret do_open ret=$retval:s32",
];

fn text_slots(text: &[u8]) -> [u64; 3] {
    let mut bytes = [0u8; STRING_MAX_LEN];
    bytes[..text.len()].copy_from_slice(text);
    let mut slots = [0; 3];
    for (s, chunk) in slots.iter_mut().zip(bytes.chunks_exact(8)) {
        *s = u64::from_le_bytes(chunk.try_into().unwrap());
    }
    slots
}

fn open(ts: u64, cpu: u8, dfd: i32, path: &[u8], flags: u32) -> Record {
    let mut values = [0; MAX_VALUE_SLOTS];
    values[0] = u64::from(dfd as u32);
    values[1..4].copy_from_slice(&text_slots(path));
    values[4] = u64::from(flags);
    Record {
        timestamp: ts,
        event: 0,
        cpu,
        values,
        ..Record::default()
    }
}

fn open_ret(entry: u64, ts: u64, cpu: u8, ret: i32) -> Record {
    let mut values = [0; MAX_VALUE_SLOTS];
    values[0] = u64::from(ret as u32);
    Record {
        timestamp: ts,
        entry_timestamp: entry,
        event: 2,
        cpu,
        flags: Record::RETURN,
        values,
        ..Record::default()
    }
}

/// The fixed capture behind the golden files: 3 events, every value kind (negative,
/// hexadecimal, u64 beyond 2^53, a fault, strings with quotes, escapes, invalid UTF-8
/// and one cut at its bound), 4 return events, a dropped count.
fn sample_records() -> Vec<Record> {
    let mut tick = Record {
        timestamp: 6_250,
        event: 1,
        cpu: 3,
        ..Record::default()
    };
    tick.values[0] = 3;
    tick.values[1] = 1 << 60;
    tick.values[2] = u64::MAX - 1;
    let mut faulty = open(9_000, 1, -1, b"", 0);
    faulty.faults = 0b010;
    let mut long = open(12_500, 0, 7, &[b'x'; STRING_MAX_LEN], 0x8000_0241);
    long.truncated = 0b010;
    vec![
        open(1_000, 0, -100, b"/etc/\"motd\"\\\n", 0x241),
        tick,
        open_ret(1_000, 1_094, 0, 3),
        faulty,
        open(10_000, 1, 5, b"caf\xc3\xa9 \xff\x01", 0),
        open_ret(9_000, 10_562, 1, -2),
        long,
        open_ret(12_500, 12_600, 0, 4),
        open_ret(10_000, 10_001, 1, 0),
    ]
}

fn sample_capture() -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut push = |b: &[u8]| bytes.extend_from_slice(b);
    let mut w = CaptureWriter::new(&mut push);
    w.header(&CaptureHeader {
        timer_hz: 62_500_000,
        cpus: 4,
    });
    for (id, line) in DEFINITIONS.iter().enumerate() {
        let Definition::Event(e) = parse(line).unwrap() else {
            panic!()
        };
        w.event(id as u16, &e);
    }
    for r in sample_records() {
        w.record(&r);
    }
    w.dropped(1, 3);
    w.end();
    bytes
}

/// Compares with a golden file, or rewrites it when `UPDATE_GOLDEN` is set.
fn golden(name: &str, actual: &[u8]) {
    let path = format!("{GOLDEN_DIR}/{name}");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(GOLDEN_DIR).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (UPDATE_GOLDEN=1 writes it)"));
    assert!(
        expected == actual,
        "{path} differs (UPDATE_GOLDEN=1 rewrites it); got:\n{}",
        String::from_utf8_lossy(actual)
    );
}

#[test]
fn capture_bytes_match_the_golden_capture() {
    golden("trace.capture", &sample_capture());
}

#[test]
fn json_matches_the_golden_file() {
    golden(
        "trace.json",
        Capture::read(&sample_capture()).chrome_json().as_bytes(),
    );
}

#[test]
fn text_matches_the_golden_file() {
    golden(
        "trace.txt",
        Capture::read(&sample_capture()).text().as_bytes(),
    );
}

#[test]
fn latency_summary_matches_the_golden_file() {
    golden(
        "latency.txt",
        Capture::read(&sample_capture())
            .latency_summary()
            .as_bytes(),
    );
}

#[test]
fn values_decode_by_type() {
    let c = Capture::read(&sample_capture());
    assert!(c.error.is_none());
    assert_eq!(c.records, sample_records());
    assert_eq!(c.dropped.get(&1), Some(&3));
    let open = &c.events[&0];
    let first = &c.records[0];
    assert_eq!(open.args[0].value(0, first), Value::Signed(-100));
    assert_eq!(
        open.args[1].value(1, first),
        Value::Bytes(b"/etc/\"motd\"\\\n".to_vec(), false)
    );
    assert_eq!(open.args[2].value(2, first), Value::Hex(0x241));
    assert_eq!(open.args[1].value(1, &c.records[3]), Value::Fault);
    let tick = &c.events[&1];
    assert_eq!(tick.args[0].value(0, &c.records[1]), Value::Unsigned(3));
    assert_eq!(
        tick.args[2].value(2, &c.records[1]),
        Value::Hex(u64::MAX - 1)
    );
    assert_eq!(c.nanoseconds(62_500_000), 1_000_000_000);
    assert_eq!(c.nanoseconds(1), 16);
}

#[test]
fn latency_percentiles_are_nearest_rank() {
    let c = Capture::read(&sample_capture());
    let summary = c.latency_summary();
    // ticks 94, 1562, 100, 1 at 16 ns: 16, 1504, 1600, 24992 ns.
    let line = summary.lines().find(|l| l.starts_with("open_ret")).unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields, ["open_ret", "4", "1.504us", "24.992us", "24.992us"]);
    assert!(!summary.contains("open "), "entry events have no latency");
}

#[test]
fn json_escapes_strings() {
    let mut s = String::new();
    json_string(&mut s, b"a\"b\\c\nd\te\x01\x7f\xff\xc3\xa9\r");
    assert_eq!(s, "\"a\\\"b\\\\c\\nd\\te\\u0001\\u007f\\u00ffé\\r\"");
}

/// A minimal JSON reader (the crate has no serde): enough to check the output's
/// structure, strictly (no trailing commas, no bare words, one value).
mod json {
    use std::collections::BTreeMap;

    #[derive(Debug, PartialEq)]
    pub enum Json {
        Null,
        Bool(bool),
        Number(f64),
        String(String),
        Array(Vec<Json>),
        Object(BTreeMap<String, Json>),
    }

    pub fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser {
            b: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.b.len() {
            return Err(format!("trailing data at {}", p.i));
        }
        Ok(v)
    }

    struct Parser<'a> {
        b: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn ws(&mut self) {
            while self.i < self.b.len() && b" \t\r\n".contains(&self.b[self.i]) {
                self.i += 1;
            }
        }

        fn eat(&mut self, c: u8) -> Result<(), String> {
            self.ws();
            if self.b.get(self.i) == Some(&c) {
                self.i += 1;
                Ok(())
            } else {
                Err(format!("expected {:?} at {}", char::from(c), self.i))
            }
        }

        fn value(&mut self) -> Result<Json, String> {
            self.ws();
            match self.b.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    let mut m = BTreeMap::new();
                    self.ws();
                    if self.b.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(Json::Object(m));
                    }
                    loop {
                        self.ws();
                        let k = self.string()?;
                        self.eat(b':')?;
                        let v = self.value()?;
                        if m.insert(k.clone(), v).is_some() {
                            return Err(format!("duplicate key {k}"));
                        }
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                return Ok(Json::Object(m));
                            }
                            _ => return Err(format!("bad object at {}", self.i)),
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut a = Vec::new();
                    self.ws();
                    if self.b.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(Json::Array(a));
                    }
                    loop {
                        a.push(self.value()?);
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                return Ok(Json::Array(a));
                            }
                            _ => return Err(format!("bad array at {}", self.i)),
                        }
                    }
                }
                Some(b'"') => Ok(Json::String(self.string()?)),
                Some(b't') if self.b[self.i..].starts_with(b"true") => {
                    self.i += 4;
                    Ok(Json::Bool(true))
                }
                Some(b'f') if self.b[self.i..].starts_with(b"false") => {
                    self.i += 5;
                    Ok(Json::Bool(false))
                }
                Some(b'n') if self.b[self.i..].starts_with(b"null") => {
                    self.i += 4;
                    Ok(Json::Null)
                }
                Some(b'-' | b'0'..=b'9') => {
                    let start = self.i;
                    self.i += 1;
                    while self.i < self.b.len() && b"0123456789.eE+-".contains(&self.b[self.i]) {
                        self.i += 1;
                    }
                    let s = std::str::from_utf8(&self.b[start..self.i]).unwrap();
                    let leading_zero = s.trim_start_matches('-').starts_with('0')
                        && s.trim_start_matches('-').len() > 1
                        && !s.trim_start_matches('-').starts_with("0.");
                    if leading_zero {
                        return Err(format!("number with a leading zero at {start}"));
                    }
                    s.parse()
                        .map(Json::Number)
                        .map_err(|_| format!("bad number {s:?} at {start}"))
                }
                _ => Err(format!("unexpected byte at {}", self.i)),
            }
        }

        fn string(&mut self) -> Result<String, String> {
            if self.b.get(self.i) != Some(&b'"') {
                return Err(format!("expected a string at {}", self.i));
            }
            self.i += 1;
            let mut s = String::new();
            loop {
                let c = *self.b.get(self.i).ok_or("unterminated string")?;
                self.i += 1;
                match c {
                    b'"' => return Ok(s),
                    b'\\' => {
                        let e = *self.b.get(self.i).ok_or("bad escape")?;
                        self.i += 1;
                        match e {
                            b'"' => s.push('"'),
                            b'\\' => s.push('\\'),
                            b'/' => s.push('/'),
                            b'n' => s.push('\n'),
                            b'r' => s.push('\r'),
                            b't' => s.push('\t'),
                            b'b' => s.push('\u{8}'),
                            b'f' => s.push('\u{c}'),
                            b'u' => {
                                let hex = self.b.get(self.i..self.i + 4).ok_or("bad \\u")?;
                                let n = u32::from_str_radix(std::str::from_utf8(hex).unwrap(), 16)
                                    .map_err(|_| "bad \\u")?;
                                s.push(char::from_u32(n).ok_or("surrogate")?);
                                self.i += 4;
                            }
                            _ => return Err(format!("bad escape at {}", self.i)),
                        }
                    }
                    0..=0x1f => return Err(format!("raw control character at {}", self.i - 1)),
                    _ => {
                        // Re-read the whole UTF-8 character.
                        let start = self.i - 1;
                        let len = match c {
                            0xc0..=0xdf => 2,
                            0xe0..=0xef => 3,
                            0xf0..=0xf7 => 4,
                            _ => 1,
                        };
                        let ch = std::str::from_utf8(self.b.get(start..start + len).ok_or("cut")?)
                            .map_err(|_| "invalid UTF-8")?;
                        s.push_str(ch);
                        self.i = start + len;
                    }
                }
            }
        }
    }
}

use json::Json;

/// The trace-event format's rules the viewers rely on: a `traceEvents` array whose
/// every event has `name`, `ph`, `ts`, `pid`, `tid`; `X` events a non-negative `dur`;
/// `i` events a scope; `args` an object; metadata naming the process and each CPU.
fn check_trace_event_json(text: &str) -> Vec<BTreeMap<String, Json>> {
    let Json::Object(top) = json::parse(text).expect("valid JSON") else {
        panic!("top level is not an object")
    };
    let Some(Json::Array(events)) = top.get("traceEvents") else {
        panic!("no traceEvents array")
    };
    let mut out = Vec::new();
    for e in events {
        let Json::Object(e) = e else {
            panic!("event is not an object: {e:?}")
        };
        for key in ["name", "ph", "ts", "pid", "tid"] {
            assert!(e.contains_key(key), "{key} missing in {e:?}");
        }
        assert!(matches!(e["name"], Json::String(_)));
        assert!(matches!(e["ts"], Json::Number(t) if t >= 0.0));
        assert!(matches!(e["pid"], Json::Number(_)));
        assert!(matches!(e["tid"], Json::Number(_)));
        let Json::String(ph) = &e["ph"] else {
            panic!("ph is not a string")
        };
        match ph.as_str() {
            "X" => assert!(matches!(e.get("dur"), Some(Json::Number(d)) if *d >= 0.0)),
            "i" => assert!(matches!(e.get("s"), Some(Json::String(s)) if s == "t")),
            "M" => {
                assert!(matches!(e.get("args"), Some(Json::Object(a)) if a.contains_key("name")))
            }
            other => panic!("unexpected phase {other}"),
        }
        if let Some(args) = e.get("args") {
            assert!(matches!(args, Json::Object(_)));
        }
        out.push(e.clone());
    }
    out
}

impl Clone for Json {
    fn clone(&self) -> Json {
        match self {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(*b),
            Json::Number(n) => Json::Number(*n),
            Json::String(s) => Json::String(s.clone()),
            Json::Array(a) => Json::Array(a.clone()),
            Json::Object(o) => Json::Object(o.clone()),
        }
    }
}

#[test]
fn json_is_valid_trace_event_format_with_a_track_per_cpu() {
    let c = Capture::read(&sample_capture());
    let events = check_trace_event_json(&c.chrome_json());
    let names: Vec<(String, f64)> = events
        .iter()
        .filter(|e| e["name"] == Json::String("thread_name".into()))
        .map(|e| {
            let Json::Object(a) = &e["args"] else {
                panic!()
            };
            let Json::Number(tid) = e["tid"] else {
                panic!()
            };
            let Json::String(n) = &a["name"] else {
                panic!()
            };
            (n.clone(), tid)
        })
        .collect();
    assert_eq!(
        names,
        [
            ("CPU 0".into(), 0.0),
            ("CPU 1".into(), 1.0),
            ("CPU 2".into(), 2.0),
            ("CPU 3".into(), 3.0)
        ]
    );
    let slices: Vec<&BTreeMap<String, Json>> = events
        .iter()
        .filter(|e| e["ph"] == Json::String("X".into()))
        .collect();
    assert_eq!(slices.len(), 4);
    // open_ret on CPU 1: entered at tick 9000 (144 us), returned at 10562 (+24.992 us).
    let s = slices[1];
    assert_eq!(s["ts"], Json::Number(144.0));
    assert_eq!(s["dur"], Json::Number(24.992));
    assert_eq!(s["tid"], Json::Number(1.0));
    let Json::Object(args) = &s["args"] else {
        panic!()
    };
    assert_eq!(args["ret"], Json::Number(-2.0));
    // Strings come back exactly (invalid UTF-8 as Latin-1), hex and huge numbers as strings.
    let instants: Vec<&BTreeMap<String, Json>> = events
        .iter()
        .filter(|e| e["ph"] == Json::String("i".into()))
        .collect();
    let arg = |i: usize, k: &str| {
        let Json::Object(a) = &instants[i]["args"] else {
            panic!()
        };
        a[k].clone()
    };
    assert_eq!(arg(0, "path"), Json::String("/etc/\"motd\"\\\n".into()));
    assert_eq!(arg(0, "flags"), Json::String("0x241".into()));
    assert_eq!(arg(1, "big"), Json::String("0xfffffffffffffffe".into()));
    assert_eq!(arg(1, "count"), Json::String("1152921504606846976".into()));
    assert_eq!(arg(1, "arg1"), Json::Number(3.0));
    assert_eq!(arg(2, "path"), Json::String("(fault)".into()));
    assert_eq!(arg(3, "path"), Json::String("café \u{ff}\u{1}".into()));
    assert_eq!(
        arg(4, "path"),
        Json::String(format!("{}...", "x".repeat(STRING_MAX_LEN)))
    );
}

#[test]
fn json_reader_rejects_what_it_should() {
    for bad in [
        "{",
        "[1,]",
        "{\"a\":1,}",
        "01",
        "\"\n\"",
        "[1] 2",
        "{\"a\":1,\"a\":2}",
    ] {
        assert!(json::parse(bad).is_err(), "{bad:?}");
    }
}

fn record_frame() -> usize {
    FRAME_HEADER_SIZE + RECORD_SIZE + FRAME_TRAILER_SIZE
}

fn first_record_offset(bytes: &[u8]) -> usize {
    CaptureReader::new(bytes)
        .find_map(|f| match f {
            Ok((at, Frame::Record(_))) => Some(at),
            _ => None,
        })
        .unwrap()
}

#[test]
fn truncated_capture_keeps_every_record_before_the_cut_in_every_view() {
    let bytes = sample_capture();
    let first = first_record_offset(&bytes);
    // Cut in the middle of the sixth record.
    let cut = first + 5 * record_frame() + 40;
    let c = Capture::read(&bytes[..cut]);
    assert_eq!(c.records, sample_records()[..5]);
    let e = c.error.unwrap();
    assert_eq!(e.kind, CaptureErrorKind::Truncated);
    assert_eq!(e.offset, first + 5 * record_frame());
    let text = c.text();
    assert_eq!(text.lines().filter(|l| l.starts_with('[')).count(), 5);
    assert!(text.ends_with(&format!(
        "# capture damaged: byte {}: capture truncated (no end frame)\n",
        e.offset
    )));
    let events = check_trace_event_json(&c.chrome_json());
    assert_eq!(
        events
            .iter()
            .filter(|e| e["ph"] != Json::String("M".into()))
            .count(),
        5
    );
    assert!(c.chrome_json().contains("\"capture_error\":\"byte "));
    assert!(c.latency_summary().contains("open_ret"));
}

#[test]
fn corrupt_record_stops_at_its_offset_and_keeps_the_ones_before() {
    let mut bytes = sample_capture();
    let first = first_record_offset(&bytes);
    let third = first + 2 * record_frame();
    bytes[third + FRAME_HEADER_SIZE + 3] ^= 0x40;
    let c = Capture::read(&bytes);
    assert_eq!(c.records, sample_records()[..2]);
    let e = c.error.unwrap();
    assert_eq!(e.offset, third);
    assert!(matches!(e.kind, CaptureErrorKind::BadChecksum { .. }));
    assert!(c.text().contains(&format!(
        "# capture damaged: byte {third}: frame checksum mismatch"
    )));
    check_trace_event_json(&c.chrome_json());
}

#[test]
fn captures_one_after_another_read_as_one_and_damage_in_a_later_one_keeps_the_earlier() {
    let one = sample_capture();
    let mut two = one.clone();
    two.extend_from_slice(&one);
    let c = Capture::read(&two);
    assert!(c.error.is_none(), "{:?}", c.error);
    let mut twice = sample_records();
    twice.extend(sample_records());
    assert_eq!(c.records, twice);
    // Damage in the second capture's first record: the first capture's records and the
    // second's before it stay; the offset counts from the start of the file.
    let bad = one.len() + first_record_offset(&one);
    two[bad + FRAME_HEADER_SIZE + 3] ^= 0x40;
    let c = Capture::read(&two);
    assert_eq!(c.records, sample_records());
    assert_eq!(c.error.unwrap().offset, bad);
    // A second capture cut short: truncated at its cut, the first one whole.
    let c = Capture::read(&two[..one.len() + 5]);
    assert_eq!(c.records, sample_records());
    assert!(matches!(
        c.error.unwrap().kind,
        CaptureErrorKind::Truncated | CaptureErrorKind::BadMagic
    ));
}

#[test]
fn damage_before_the_header_gives_empty_but_valid_views() {
    let c = Capture::read(b"garbage!");
    assert!(c.records.is_empty() && c.header.is_none());
    assert_eq!(c.error.unwrap().offset, 0);
    check_trace_event_json(&c.chrome_json());
    assert!(c.text().starts_with("# capture damaged: byte 0"));
    assert!(c.latency_summary().contains("(no return events)"));
}

#[test]
fn every_truncation_of_the_sample_is_handled() {
    let bytes = sample_capture();
    for cut in 0..bytes.len() {
        let c = Capture::read(&bytes[..cut]);
        let e = c.error.expect("a cut capture is an error");
        assert!(e.offset <= cut);
        assert!(c.records.len() <= sample_records().len());
        assert_eq!(c.records, sample_records()[..c.records.len()]);
        check_trace_event_json(&c.chrome_json());
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any bytes: reading never panics, every view is produced, the JSON is valid
        /// trace-event JSON, and an error's offset lies inside the input.
        #[test]
        fn random_bytes_never_panic_and_give_valid_json(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let c = Capture::read(&bytes);
            if let Some(e) = c.error {
                prop_assert!(e.offset <= bytes.len());
            }
            check_trace_event_json(&c.chrome_json());
            let _ = (c.text(), c.latency_summary());
        }

        /// The sample capture with bytes overwritten: everything kept is a prefix of
        /// the sample's records, and the damage is reported at or before the first
        /// changed byte's frame end.
        #[test]
        fn damaged_sample_keeps_a_prefix_of_its_records(
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)
        ) {
            let original = sample_capture();
            let mut bytes = original.clone();
            for (at, value) in &edits {
                let i = at.index(bytes.len());
                bytes[i] = *value;
            }
            // Two edits of one byte may put its value back: compare with the original.
            let first = bytes
                .iter()
                .zip(&original)
                .position(|(b, o)| b != o)
                .unwrap_or(bytes.len());
            let c = Capture::read(&bytes);
            let records = sample_records();
            prop_assert_eq!(&c.records[..], &records[..c.records.len()]);
            if first < bytes.len() {
                let e = c.error.expect("a changed byte is noticed");
                prop_assert!(e.offset <= first, "error at {} after the change at {}", e.offset, first);
            }
            check_trace_event_json(&c.chrome_json());
        }

        /// Every record survives encoding and decoding.
        #[test]
        fn records_round_trip(
            timestamp in any::<u64>(), entry in any::<u64>(), event in any::<u16>(),
            cpu in any::<u8>(), flags in any::<u8>(), faults in any::<u8>(),
            truncated in any::<u8>(), values in any::<[u64; MAX_VALUE_SLOTS]>()
        ) {
            let r = Record { timestamp, entry_timestamp: entry, event, cpu, flags, faults, truncated, values };
            prop_assert_eq!(Record::from_bytes(&r.to_bytes()), r);
            prop_assert_eq!(Record::from_words(&r.to_words()), r);
        }
    }
}
