//! What one event hit leaves behind — a fixed-size binary [`Record`] — and the capture
//! stream a kernel drains them in: framed and checksummed so a host can tell a good
//! record from a damaged one, with an event table so it can print names.
//!
//! # Record (88 bytes, little-endian)
//!
//! | bytes | field |
//! |---|---|
//! | 0..8 | `timestamp`: generic timer ticks (CNTVCT) at the hit |
//! | 8..16 | `entry_timestamp`: for a return event, the ticks when the function was entered (so latency is `timestamp - entry_timestamp`, exactly); 0 otherwise |
//! | 16..18 | `event`: the event's id in the capture's event table |
//! | 18 | `cpu` |
//! | 19 | `flags`: [`Record::RETURN`] |
//! | 20 | `faults`: bit *i* set when argument *i*'s fetch would have faulted (its value is 0) |
//! | 21 | `truncated`: bit *i* set when string argument *i* was longer than it keeps |
//! | 22..24 | zero |
//! | 24..88 | `values`: [`MAX_VALUE_SLOTS`] 64-bit slots, as the definition lays them out |
//!
//! # Capture stream
//!
//! A sequence of frames, each
//!
//! ```text
//! "KPTF" | kind: u8 | 0: u8 | length: u16 | payload: length bytes | crc32: u32
//! ```
//!
//! with the CRC-32 (IEEE 802.3, as zlib computes it) over kind, zero, length and payload.
//! Kinds: 1 header (version, record size, value slots, CPUs, timer frequency) — always
//! first; 2 event (id, kind, name, target, then per argument its type, slot and name);
//! 3 record; 4 dropped (a CPU's count of records lost); 5 end. Numbers are little-endian,
//! strings a `u16` length and UTF-8 bytes. A record is a frame of its own, so damage
//! loses only what follows it, never what came before.

use super::definition::{EventDefinition, EventKind, FetchType, MAX_FETCH_ARGS, MAX_VALUE_SLOTS};
use core::fmt;

/// Bytes of an encoded [`Record`].
pub const RECORD_SIZE: usize = 24 + 8 * MAX_VALUE_SLOTS;
/// 32-bit words of an encoded [`Record`] (how a ring slot stores it).
pub const RECORD_WORDS: usize = RECORD_SIZE / 4;

/// One event hit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Generic timer ticks (CNTVCT) when the event fired.
    pub timestamp: u64,
    /// Return events: ticks when the function was entered; otherwise 0.
    pub entry_timestamp: u64,
    /// The event's id.
    pub event: u16,
    /// The CPU it fired on.
    pub cpu: u8,
    /// [`Record::RETURN`], or 0.
    pub flags: u8,
    /// Bit *i*: argument *i*'s fetch faulted (its slots hold 0).
    pub faults: u8,
    /// Bit *i*: string argument *i* was cut at [`STRING_MAX_LEN`](super::definition::STRING_MAX_LEN) bytes.
    pub truncated: u8,
    /// The fetched values, laid out by the definition's slots.
    pub values: [u64; MAX_VALUE_SLOTS],
}

impl Record {
    /// A return event: `entry_timestamp` is meaningful.
    pub const RETURN: u8 = 1;

    /// Whether this is a return event.
    pub fn is_return(&self) -> bool {
        self.flags & Record::RETURN != 0
    }

    /// Ticks from entry to return, for a return event (0 if the clock went backwards).
    pub fn latency_ticks(&self) -> Option<u64> {
        self.is_return()
            .then(|| self.timestamp.saturating_sub(self.entry_timestamp))
    }

    /// The record's bytes (see the module docs for the layout).
    pub fn to_bytes(&self) -> [u8; RECORD_SIZE] {
        let mut b = [0; RECORD_SIZE];
        b[0..8].copy_from_slice(&self.timestamp.to_le_bytes());
        b[8..16].copy_from_slice(&self.entry_timestamp.to_le_bytes());
        b[16..18].copy_from_slice(&self.event.to_le_bytes());
        b[18] = self.cpu;
        b[19] = self.flags;
        b[20] = self.faults;
        b[21] = self.truncated;
        for (i, v) in self.values.iter().enumerate() {
            b[24 + 8 * i..32 + 8 * i].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    /// The record [`to_bytes`](Self::to_bytes) encoded (bytes 22..24 are ignored).
    pub fn from_bytes(b: &[u8; RECORD_SIZE]) -> Record {
        let u64_at = |i: usize| {
            let mut w = [0; 8];
            w.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(w)
        };
        let mut values = [0; MAX_VALUE_SLOTS];
        for (i, v) in values.iter_mut().enumerate() {
            *v = u64_at(24 + 8 * i);
        }
        Record {
            timestamp: u64_at(0),
            entry_timestamp: u64_at(8),
            event: u16::from_le_bytes([b[16], b[17]]),
            cpu: b[18],
            flags: b[19],
            faults: b[20],
            truncated: b[21],
            values,
        }
    }

    /// The record as little-endian 32-bit words (a ring slot's contents): word *i* is
    /// bytes `4i..4i + 4` of [`to_bytes`](Self::to_bytes).
    pub fn to_words(&self) -> [u32; RECORD_WORDS] {
        let mut words = [0; RECORD_WORDS];
        self.for_each_word(|i, w| words[i] = w);
        words
    }

    /// Calls `f(i, word i)` for every word of [`to_words`](Self::to_words), in order,
    /// without building the array (the ring's hit path stores them one by one).
    #[inline(always)]
    pub fn for_each_word(&self, mut f: impl FnMut(usize, u32)) {
        f(0, self.timestamp as u32);
        f(1, (self.timestamp >> 32) as u32);
        f(2, self.entry_timestamp as u32);
        f(3, (self.entry_timestamp >> 32) as u32);
        f(
            4,
            u32::from(self.event) | u32::from(self.cpu) << 16 | u32::from(self.flags) << 24,
        );
        f(5, u32::from(self.faults) | u32::from(self.truncated) << 8);
        for (i, v) in self.values.iter().enumerate() {
            f(6 + 2 * i, *v as u32);
            f(7 + 2 * i, (*v >> 32) as u32);
        }
    }

    /// The record [`to_words`](Self::to_words) made.
    pub fn from_words(words: &[u32; RECORD_WORDS]) -> Record {
        let mut bytes = [0; RECORD_SIZE];
        for (chunk, w) in bytes.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        Record::from_bytes(&bytes)
    }

    /// The bytes of `count` slots from `slot` on, in order (a string argument's text,
    /// NUL-padded).
    pub fn slot_bytes(&self, slot: usize, count: usize) -> impl Iterator<Item = u8> + '_ {
        self.values[slot.min(MAX_VALUE_SLOTS)..(slot + count).min(MAX_VALUE_SLOTS)]
            .iter()
            .flat_map(|v| v.to_le_bytes())
    }
}

/// The four bytes every frame starts with.
pub const FRAME_MAGIC: [u8; 4] = *b"KPTF";
/// Bytes before a frame's payload: magic, kind, zero, length.
pub const FRAME_HEADER_SIZE: usize = 8;
/// Bytes after a frame's payload: the CRC.
pub const FRAME_TRAILER_SIZE: usize = 4;
/// The capture format this module writes and reads.
pub const CAPTURE_VERSION: u16 = 1;

/// What a frame holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameKind {
    /// [`CaptureHeader`]: always the first frame.
    Header = 1,
    /// An entry of the event table.
    Event = 2,
    /// One [`Record`].
    Record = 3,
    /// How many records a CPU lost.
    Dropped = 4,
    /// The end of the capture.
    End = 5,
}

impl FrameKind {
    fn from_code(code: u8) -> Option<FrameKind> {
        Some(match code {
            1 => FrameKind::Header,
            2 => FrameKind::Event,
            3 => FrameKind::Record,
            4 => FrameKind::Dropped,
            5 => FrameKind::End,
            _ => return None,
        })
    }
}

/// What the host needs to know before any record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaptureHeader {
    /// The generic timer's frequency (CNTFRQ), in Hz: ticks to time.
    pub timer_hz: u32,
    /// CPUs the kernel ran on.
    pub cpus: u8,
}

const HEADER_PAYLOAD: usize = 10;
const DROPPED_PAYLOAD: usize = 9;

/// The CRC-32 of IEEE 802.3 (reflected, polynomial 0xEDB88320, as zlib and PNG compute it).
#[derive(Clone, Copy, Debug)]
pub struct Crc32(u32);

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

impl Crc32 {
    /// A CRC over no bytes yet.
    pub const fn new() -> Crc32 {
        Crc32(!0)
    }

    /// Adds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = CRC_TABLE[usize::from((self.0 as u8) ^ b)] ^ (self.0 >> 8);
        }
    }

    /// The CRC of everything added.
    pub fn finish(&self) -> u32 {
        !self.0
    }

    /// The CRC of `bytes`.
    pub fn of(bytes: &[u8]) -> u32 {
        let mut crc = Crc32::new();
        crc.update(bytes);
        crc.finish()
    }
}

impl Default for Crc32 {
    fn default() -> Self {
        Crc32::new()
    }
}

/// Where a [`CaptureWriter`] puts bytes: a console, a semihosting file, a buffer.
pub trait CaptureSink {
    /// Sends `bytes`, in order after everything sent before.
    fn write(&mut self, bytes: &[u8]);
}

impl<F: FnMut(&[u8])> CaptureSink for F {
    fn write(&mut self, bytes: &[u8]) {
        self(bytes)
    }
}

/// Counts the bytes a `Display` writes, or passes them on.
struct DisplayBytes<'s>(&'s mut dyn FnMut(&[u8]));

impl fmt::Write for DisplayBytes<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        (self.0)(s.as_bytes());
        Ok(())
    }
}

fn display_len(value: &dyn fmt::Display) -> usize {
    let mut len = 0;
    let mut count = |b: &[u8]| len += b.len();
    // Writing into DisplayBytes never fails.
    let _ = fmt::write(&mut DisplayBytes(&mut count), format_args!("{value}"));
    len
}

/// A string field: its length as `u16` (at most `u16::MAX` bytes: longer is cut),
/// then its bytes.
fn put_display(out: &mut dyn FnMut(&[u8]), value: &dyn fmt::Display) {
    let len = display_len(value).min(usize::from(u16::MAX));
    out(&(len as u16).to_le_bytes());
    let mut left = len;
    let mut limited = |b: &[u8]| {
        let n = b.len().min(left);
        // A cut inside a UTF-8 character makes the field invalid; names are ASCII.
        out(&b[..n]);
        left -= n;
    };
    let _ = fmt::write(&mut DisplayBytes(&mut limited), format_args!("{value}"));
}

/// A frame's payload, as a function that hands its bytes to `out` in order; called twice
/// (once to count them, once to send them).
type Payload<'p> = dyn Fn(&mut dyn FnMut(&[u8])) + 'p;

/// Writes a capture stream, one frame per call, with no buffer of its own (a frame's
/// length is counted before it is written).
pub struct CaptureWriter<S: CaptureSink> {
    sink: S,
}

impl<S: CaptureSink> CaptureWriter<S> {
    /// A writer into `sink`. Call [`header`](Self::header) first.
    pub const fn new(sink: S) -> Self {
        CaptureWriter { sink }
    }

    /// The sink back.
    pub fn into_inner(self) -> S {
        self.sink
    }

    fn frame(&mut self, kind: FrameKind, body: &Payload<'_>) {
        let mut len = 0usize;
        body(&mut |b: &[u8]| len += b.len());
        // Every payload this writer makes is bounded far below 64 KiB (an event's by
        // MAX_LINE_LEN and MAX_FETCH_ARGS).
        let len = len.min(usize::from(u16::MAX)) as u16;
        let mut head = [0u8; FRAME_HEADER_SIZE];
        head[..4].copy_from_slice(&FRAME_MAGIC);
        head[4] = kind as u8;
        head[6..8].copy_from_slice(&len.to_le_bytes());
        let mut crc = Crc32::new();
        crc.update(&head[4..]);
        self.sink.write(&head);
        let sink = &mut self.sink;
        body(&mut |b: &[u8]| {
            crc.update(b);
            sink.write(b);
        });
        self.sink.write(&crc.finish().to_le_bytes());
    }

    /// The header frame: first in every capture.
    pub fn header(&mut self, header: &CaptureHeader) {
        self.frame(FrameKind::Header, &|out| {
            out(&CAPTURE_VERSION.to_le_bytes());
            out(&(RECORD_SIZE as u16).to_le_bytes());
            out(&[MAX_VALUE_SLOTS as u8, header.cpus]);
            out(&header.timer_hz.to_le_bytes());
        });
    }

    /// The event table's entry for the event `id` defined by `event`.
    pub fn event(&mut self, id: u16, event: &EventDefinition<'_>) {
        self.frame(FrameKind::Event, &|out| {
            out(&id.to_le_bytes());
            let kind = match event.kind {
                EventKind::Entry => 0,
                EventKind::Return => 1,
            };
            out(&[kind, event.args().len() as u8]);
            put_display(out, &event.name);
            put_display(out, &event.target);
            for arg in event.args() {
                out(&[arg.ty as u8, arg.slot]);
                put_display(out, &arg.name);
            }
        });
    }

    /// One record.
    pub fn record(&mut self, record: &Record) {
        self.frame(FrameKind::Record, &|out| out(&record.to_bytes()));
    }

    /// `cpu` lost `count` records (its ring's [`dropped`](super::ring::TraceRing::dropped)).
    pub fn dropped(&mut self, cpu: u8, count: u64) {
        self.frame(FrameKind::Dropped, &|out| {
            out(&[cpu]);
            out(&count.to_le_bytes());
        });
    }

    /// The end of the capture.
    pub fn end(&mut self) {
        self.frame(FrameKind::End, &|_| {});
    }
}

/// One argument of an [`EventDescription`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgDescription<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its type.
    pub ty: FetchType,
    /// Its first value slot.
    pub slot: u8,
}

/// An event table entry as a capture carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventDescription<'a> {
    /// The id records name it by.
    pub id: u16,
    /// Entry or return.
    pub kind: EventKind,
    /// Its name.
    pub name: &'a str,
    /// Where it was probed, as the definition said (`do_open+0x10`, `0x80001000`).
    pub target: &'a str,
    arg_count: u8,
    /// The argument list's bytes, checked when the frame was read.
    args: &'a [u8],
}

impl<'a> EventDescription<'a> {
    /// The arguments, in order.
    pub fn args(&self) -> impl Iterator<Item = ArgDescription<'a>> + 'a {
        let mut rest = self.args;
        (0..self.arg_count).map_while(move |_| {
            let (arg, tail) = read_arg(rest).ok()?;
            rest = tail;
            Some(arg)
        })
    }

    /// How many arguments it has.
    pub fn arg_count(&self) -> usize {
        usize::from(self.arg_count)
    }
}

/// One frame of a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// The capture's header.
    Header(CaptureHeader),
    /// An event table entry.
    Event(EventDescription<'a>),
    /// A record.
    Record(Record),
    /// `cpu` lost `count` records.
    Dropped {
        /// The CPU.
        cpu: u8,
        /// Records lost.
        count: u64,
    },
    /// The end.
    End,
}

/// Why a capture stops being readable at [`offset`](CaptureError::offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaptureError {
    /// Byte offset in the capture of the frame (or field) that is damaged.
    pub offset: usize,
    /// What is wrong there.
    pub kind: CaptureErrorKind,
}

/// What is wrong with a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaptureErrorKind {
    /// The bytes end inside a frame, or before the end frame.
    Truncated,
    /// A frame does not start with `KPTF`.
    BadMagic,
    /// The frame's bytes do not match its CRC.
    BadChecksum {
        /// The CRC the frame carries.
        stored: u32,
        /// The CRC of its bytes.
        computed: u32,
    },
    /// A frame kind this reader does not know.
    UnknownFrameKind(u8),
    /// A frame whose length or contents do not fit its kind.
    Malformed(FrameKind),
    /// The first frame is not a header.
    ExpectedHeader,
    /// A capture of another format version.
    UnsupportedVersion(u16),
    /// The header's record layout differs from this reader's.
    RecordLayout {
        /// Record size the header gives.
        record_size: u16,
        /// Value slots the header gives.
        value_slots: u8,
    },
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}: ", self.offset)?;
        match self.kind {
            CaptureErrorKind::Truncated => f.write_str("capture truncated (no end frame)"),
            CaptureErrorKind::BadMagic => f.write_str("frame does not start with \"KPTF\""),
            CaptureErrorKind::BadChecksum { stored, computed } => write!(
                f,
                "frame checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            CaptureErrorKind::UnknownFrameKind(k) => write!(f, "unknown frame kind {k}"),
            CaptureErrorKind::Malformed(k) => write!(f, "malformed {k:?} frame"),
            CaptureErrorKind::ExpectedHeader => f.write_str("capture does not start with a header"),
            CaptureErrorKind::UnsupportedVersion(v) => {
                write!(
                    f,
                    "capture format version {v} (this reader knows {CAPTURE_VERSION})"
                )
            }
            CaptureErrorKind::RecordLayout {
                record_size,
                value_slots,
            } => write!(
                f,
                "records of {record_size} bytes with {value_slots} slots (this reader: {RECORD_SIZE} and {MAX_VALUE_SLOTS})"
            ),
        }
    }
}

/// Reads a capture frame by frame. Yields `(offset, frame)` for every intact frame,
/// then, if the capture is damaged or truncated, one error, and then nothing.
pub struct CaptureReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    seen_header: bool,
    done: bool,
}

impl<'a> CaptureReader<'a> {
    /// A reader over a whole capture.
    pub fn new(bytes: &'a [u8]) -> Self {
        CaptureReader {
            bytes,
            pos: 0,
            seen_header: false,
            done: false,
        }
    }

    /// Offset of the next frame.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn next_frame(&mut self) -> Result<Frame<'a>, CaptureError> {
        let at = self.pos;
        let fail = |kind| CaptureError { offset: at, kind };
        let rest = &self.bytes[at..];
        if rest.len() < FRAME_HEADER_SIZE {
            return Err(fail(if rest.len() >= 4 && rest[..4] != FRAME_MAGIC {
                CaptureErrorKind::BadMagic
            } else {
                CaptureErrorKind::Truncated
            }));
        }
        if rest[..4] != FRAME_MAGIC {
            return Err(fail(CaptureErrorKind::BadMagic));
        }
        let len = usize::from(u16::from_le_bytes([rest[6], rest[7]]));
        let total = FRAME_HEADER_SIZE + len + FRAME_TRAILER_SIZE;
        if rest.len() < total {
            return Err(fail(CaptureErrorKind::Truncated));
        }
        let stored = u32::from_le_bytes([
            rest[total - 4],
            rest[total - 3],
            rest[total - 2],
            rest[total - 1],
        ]);
        let computed = Crc32::of(&rest[4..total - 4]);
        if stored != computed {
            return Err(fail(CaptureErrorKind::BadChecksum { stored, computed }));
        }
        let kind = FrameKind::from_code(rest[4])
            .ok_or(fail(CaptureErrorKind::UnknownFrameKind(rest[4])))?;
        if rest[5] != 0 {
            return Err(fail(CaptureErrorKind::Malformed(kind)));
        }
        let payload = &rest[FRAME_HEADER_SIZE..FRAME_HEADER_SIZE + len];
        if !self.seen_header && kind != FrameKind::Header {
            return Err(fail(CaptureErrorKind::ExpectedHeader));
        }
        let malformed = fail(CaptureErrorKind::Malformed(kind));
        let frame = match kind {
            FrameKind::Header => {
                if len != HEADER_PAYLOAD {
                    return Err(malformed);
                }
                let version = u16::from_le_bytes([payload[0], payload[1]]);
                if version != CAPTURE_VERSION {
                    return Err(fail(CaptureErrorKind::UnsupportedVersion(version)));
                }
                let record_size = u16::from_le_bytes([payload[2], payload[3]]);
                let value_slots = payload[4];
                if usize::from(record_size) != RECORD_SIZE
                    || usize::from(value_slots) != MAX_VALUE_SLOTS
                {
                    return Err(fail(CaptureErrorKind::RecordLayout {
                        record_size,
                        value_slots,
                    }));
                }
                self.seen_header = true;
                Frame::Header(CaptureHeader {
                    cpus: payload[5],
                    timer_hz: u32::from_le_bytes([payload[6], payload[7], payload[8], payload[9]]),
                })
            }
            FrameKind::Event => Frame::Event(read_event(payload).ok_or(malformed)?),
            FrameKind::Record => {
                let bytes: &[u8; RECORD_SIZE] = payload.try_into().map_err(|_| malformed)?;
                Frame::Record(Record::from_bytes(bytes))
            }
            FrameKind::Dropped => {
                if len != DROPPED_PAYLOAD {
                    return Err(malformed);
                }
                let mut count = [0; 8];
                count.copy_from_slice(&payload[1..9]);
                Frame::Dropped {
                    cpu: payload[0],
                    count: u64::from_le_bytes(count),
                }
            }
            FrameKind::End => {
                if len != 0 {
                    return Err(malformed);
                }
                Frame::End
            }
        };
        self.pos += total;
        Ok(frame)
    }
}

impl<'a> Iterator for CaptureReader<'a> {
    type Item = Result<(usize, Frame<'a>), CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let at = self.pos;
        let result = self.next_frame();
        self.done = !matches!(result, Ok(f) if f != Frame::End);
        Some(result.map(|f| (at, f)))
    }
}

fn split(bytes: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    (bytes.len() >= n).then(|| bytes.split_at(n))
}

fn read_str(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let (len, rest) = split(bytes, 2)?;
    let (s, rest) = split(rest, usize::from(u16::from_le_bytes([len[0], len[1]])))?;
    Some((core::str::from_utf8(s).ok()?, rest))
}

fn read_arg(bytes: &[u8]) -> Result<(ArgDescription<'_>, &[u8]), ()> {
    let (head, rest) = split(bytes, 2).ok_or(())?;
    let ty = FetchType::from_code(head[0]).ok_or(())?;
    let slot = head[1];
    if usize::from(slot) + ty.slots() > MAX_VALUE_SLOTS {
        return Err(());
    }
    let (name, rest) = read_str(rest).ok_or(())?;
    Ok((ArgDescription { name, ty, slot }, rest))
}

fn read_event(payload: &[u8]) -> Option<EventDescription<'_>> {
    let (head, rest) = split(payload, 4)?;
    let id = u16::from_le_bytes([head[0], head[1]]);
    let kind = match head[2] {
        0 => EventKind::Entry,
        1 => EventKind::Return,
        _ => return None,
    };
    let arg_count = head[3];
    if usize::from(arg_count) > MAX_FETCH_ARGS {
        return None;
    }
    let (name, rest) = read_str(rest)?;
    let (target, args) = read_str(rest)?;
    let mut check = args;
    for _ in 0..arg_count {
        check = read_arg(check).ok()?.1;
    }
    if !check.is_empty() {
        return None;
    }
    Some(EventDescription {
        id,
        kind,
        name,
        target,
        arg_count,
        args,
    })
}

#[cfg(all(test, not(loom)))] // proptest and capstone are not in the loom build
mod tests;
