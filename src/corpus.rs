//! A user's own instruction corpus: the text format people write, and the fixed-size binary
//! records the test kernel reads, so any list of A32 words can be run through the same
//! native-versus-step differential check as the generated conformance cases.
//!
//! # Text format
//! One instruction per line; `#` starts a comment; blank lines are ignored.
//!
//! ```text
//! # WORD       EXPECT  PRESETS…
//! e0810002     accept  r1=5 r2=7          # add r0, r1, r2
//! e5912004     accept  r1=buf+8           # ldr r2, [r1, #4]
//! e92d4010     accept  sp=buf+128         # push {r4, lr}
//! e1900f9f     reject                     # ldrex r0, [r0]
//! ```
//!
//! * `WORD`: the instruction, hexadecimal, with or without `0x`.
//! * `EXPECT`: `accept` (the decoder must accept it, and stepping must match native
//!   execution) or `reject` (the decoder must refuse it; it never runs).
//! * `mem=pads` fills the stack buffer and literal window with landing-pad addresses
//!   (for loads into PC such as `pop {…, pc}`); otherwise they hold a pseudo-random
//!   pattern.
//! * `PRESETS`: `REG=VALUE` with `REG` one of `r0`–`r14`, `sp`, `lr`, and `VALUE` a number
//!   (`0x…` or decimal), `buf+N`/`buf-N` (the 256-byte stack buffer) or `code+N`/`code-N`
//!   (relative to the instruction; the harness surrounds it with landing pads from
//!   `code-64` to `code+132`). Registers not given get fixed, distinct values; `sp` defaults
//!   to `buf+128` and `lr` to `code+4`.
//!
//! Loads and stores must stay inside the stack buffer or the literal window (`code-320` to
//! `code-64`) and branches must land on the pads: the kernel steps each line first and
//! refuses to run natively one that would go anywhere else.
//!
//! # Thumb lines
//! A line that starts with `t16` or `t32` is a Thumb instruction, run through the Thumb lab
//! (the layout of [`crate::conformance::thumb`]) in Thumb state:
//!
//! ```text
//! t16 1888         accept  r1=5 r2=7        # adds r0, r1, r2
//! t16 4770         accept  lr=code+9        # bx lr (to a Thumb pad)
//! t32 f8d12004     accept  r1=buf+8 at=2    # ldr.w r2, [r1, #4], at a halfword offset
//! t16 1888         accept  it=0x08          # add r0, r1, r2 as the last of an IT EQ block
//! t16 b100         reject  it=0x04          # cbz inside an IT block: UNPREDICTABLE
//! ```
//!
//! * `t16 HW`: one halfword (at most four hex digits) that is a 16-bit instruction, not the
//!   first halfword of a 32-bit one.
//! * `t32 WORD`: `hw1` in the upper half, `hw2` in the lower (as the ARM ARM draws it, and
//!   objdump's `f8d1 2004` without the space); `hw1` must be a 32-bit prefix (bits 15:11
//!   0b11101, 0b11110 or 0b11111).
//! * `at=0` (default) or `at=2`: the instruction's offset in its word; `code±N` is relative
//!   to that word (Thumb pads from `code+8`, ARM pads from `code-64`, the literal window
//!   from `code+132` to `code+388`).
//! * `it=N` (0–0xff, default 0): ITSTATE to run with — 0 outside an IT block; the
//!   condition in bits 7:4, the rest of the block in bits 3:0 (`0b1000`: the last
//!   instruction). The decoder's verdict is the one at that IT position.
//! * `mem=pads` fills memory with Thumb-layout pad addresses (ARM pads, and Thumb pads
//!   with bit 0 set) for loads into PC.
//!
//! `at=` and `it=` on an A32 line, or a bad value, are [`CorpusError::BadThumbOption`].

use crate::conformance::Seed;
use core::fmt;

/// Magic word at the start of a packed corpus ("KPCO").
pub const MAGIC: u32 = 0x4f43_504b;
/// Version of the binary layout (2: Thumb lines).
pub const VERSION: u32 = 2;
/// Words in the header: magic, version, number of records.
pub const HEADER_WORDS: usize = 3;
/// Words in one record: word, expectation, line number, preset mask, 15 × (kind, value).
pub const RECORD_WORDS: usize = 4 + 15 * 2;
/// Most records one corpus may hold (the kernel's load window is 1 MiB).
pub const MAX_RECORDS: usize = 4096;

/// What a corpus line expects of the decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The decoder accepts the instruction and stepping it matches native execution.
    Accept,
    /// The decoder rejects it.
    Reject,
}

/// Which instruction set a corpus line is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// An A32 word.
    A32,
    /// A 16-bit Thumb instruction (`t16`): `word` is the halfword.
    T16,
    /// A 32-bit Thumb instruction (`t32`): `word` is `hw1 << 16 | hw2`.
    T32,
}

/// One instruction of a corpus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CorpusLine {
    /// The instruction word (for Thumb, see [`Isa`]).
    pub word: u32,
    /// Its instruction set.
    pub isa: Isa,
    /// Thumb: the instruction's offset in its word (0 or 2).
    pub at: u32,
    /// Thumb: the ITSTATE it runs with.
    pub it: u8,
    /// What the decoder must say.
    pub expect: Expect,
    /// Presets for r0–r14; `None` takes the default.
    pub presets: [Option<Seed>; 15],
    /// Whether memory holds pad addresses (`mem=pads`) instead of a pattern.
    pub pads: bool,
    /// Line number in the text (1-based), for reports.
    pub line: u32,
}

impl CorpusLine {
    /// The initial value source of register `n` (0–14), defaults applied.
    pub fn seed(&self, n: usize) -> Seed {
        self.presets[n].unwrap_or(match n {
            13 => Seed::Buffer(128),
            14 => Seed::Code(4),
            _ => Seed::Value(0x1111_1111u32.wrapping_mul(n as u32 + 1) ^ 0x0f0f_0000),
        })
    }
}

/// Why a corpus could not be read. Each carries the 1-based line number (0 for the
/// binary form's header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorpusError {
    /// The first field is not a hexadecimal 32-bit word.
    BadWord(u32),
    /// The second field is missing or not `accept`/`reject`.
    BadExpectation(u32),
    /// A preset is not `REG=VALUE`, names no register r0–r14/sp/lr, or its value does not
    /// parse.
    BadPreset(u32),
    /// The same register is preset twice.
    DuplicatePreset(u32),
    /// More than [`MAX_RECORDS`] instructions.
    TooManyLines(u32),
    /// A packed corpus whose header is wrong or whose length does not match it.
    BadBinary,
    /// A `t16` value wider than a halfword or that is a 32-bit prefix, or a `t32` word
    /// whose first halfword is not a 32-bit prefix.
    BadThumbWord(u32),
    /// `at=` other than 0 or 2, `it=` above 0xff or not a number, or either on an A32 line.
    BadThumbOption(u32),
}

impl fmt::Display for CorpusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorpusError::BadWord(l) => write!(
                f,
                "line {l}: the first field must be a hex instruction word"
            ),
            CorpusError::BadExpectation(l) => {
                write!(f, "line {l}: the second field must be `accept` or `reject`")
            }
            CorpusError::BadPreset(l) => write!(
                f,
                "line {l}: presets are REG=VALUE (REG r0-r14/sp/lr; VALUE a number, buf±N or code±N)"
            ),
            CorpusError::DuplicatePreset(l) => write!(f, "line {l}: a register is preset twice"),
            CorpusError::TooManyLines(l) => write!(
                f,
                "line {l}: a corpus holds at most {MAX_RECORDS} instructions"
            ),
            CorpusError::BadBinary => {
                write!(f, "not a packed corpus (bad magic, version or length)")
            }
            CorpusError::BadThumbWord(l) => write!(
                f,
                "line {l}: `t16` takes one 16-bit instruction halfword, `t32` a word whose \
                 upper halfword is a 32-bit prefix (0b11101, 0b11110, 0b11111)"
            ),
            CorpusError::BadThumbOption(l) => write!(
                f,
                "line {l}: `at=` is 0 or 2 and `it=` 0-0xff, on `t16`/`t32` lines only"
            ),
        }
    }
}

impl core::error::Error for CorpusError {}

fn number(s: &str) -> Option<u32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse::<u32>().ok(),
    }
}

fn offset(s: &str) -> Option<i32> {
    if s.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match (s.strip_prefix('+'), s.strip_prefix('-')) {
        (Some(d), _) => (false, d),
        (_, Some(d)) => (true, d),
        _ => return None,
    };
    let v = i32::try_from(number(digits)?).ok()?;
    Some(if neg { -v } else { v })
}

fn register(s: &str) -> Option<usize> {
    match s {
        "sp" => Some(13),
        "lr" => Some(14),
        _ => s
            .strip_prefix('r')?
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= 14),
    }
}

fn value(s: &str) -> Option<Seed> {
    if let Some(rest) = s.strip_prefix("buf") {
        return Some(Seed::Buffer(offset(rest)? as u32));
    }
    if let Some(rest) = s.strip_prefix("code") {
        return Some(Seed::Code(offset(rest)?));
    }
    number(s).map(Seed::Value)
}

/// Parses one line (`line` is its 1-based number): `Ok(None)` for blank and comment lines.
///
/// # Errors
///
/// [`CorpusError::BadWord`], [`CorpusError::BadExpectation`],
/// [`CorpusError::BadPreset`] or [`CorpusError::DuplicatePreset`], with `line`.
pub fn parse_line(text: &str, line: u32) -> Result<Option<CorpusLine>, CorpusError> {
    let text = text.split('#').next().unwrap_or("");
    let mut fields = text.split_whitespace().peekable();
    let isa = match fields.peek() {
        None => return Ok(None),
        Some(&"t16") => Isa::T16,
        Some(&"t32") => Isa::T32,
        Some(_) => Isa::A32,
    };
    if isa != Isa::A32 {
        fields.next();
    }
    let Some(word) = fields.next() else {
        return Err(CorpusError::BadWord(line));
    };
    let hex = word
        .strip_prefix("0x")
        .or_else(|| word.strip_prefix("0X"))
        .unwrap_or(word);
    let word = u32::from_str_radix(hex, 16).map_err(|_| CorpusError::BadWord(line))?;
    let prefix = |hw: u32| hw >> 11 >= 0b11101;
    let thumb_ok = match isa {
        Isa::A32 => true,
        Isa::T16 => word <= 0xffff && !prefix(word),
        Isa::T32 => prefix(word >> 16),
    };
    if !thumb_ok {
        return Err(CorpusError::BadThumbWord(line));
    }
    let expect = match fields.next() {
        Some("accept") => Expect::Accept,
        Some("reject") => Expect::Reject,
        _ => return Err(CorpusError::BadExpectation(line)),
    };
    let mut presets = [None; 15];
    let mut pads = false;
    let (mut at, mut it) = (0, 0);
    for p in fields {
        if p == "mem=pads" {
            pads = true;
            continue;
        }
        if let Some(v) = p.strip_prefix("at=") {
            at = number(v)
                .filter(|&a| (a == 0 || a == 2) && isa != Isa::A32)
                .ok_or(CorpusError::BadThumbOption(line))?;
            continue;
        }
        if let Some(v) = p.strip_prefix("it=") {
            it = number(v)
                .filter(|&i| i <= 0xff && isa != Isa::A32)
                .ok_or(CorpusError::BadThumbOption(line))? as u8;
            continue;
        }
        let (reg, val) = p.split_once('=').ok_or(CorpusError::BadPreset(line))?;
        let n = register(reg).ok_or(CorpusError::BadPreset(line))?;
        let seed = value(val).ok_or(CorpusError::BadPreset(line))?;
        if presets[n].replace(seed).is_some() {
            return Err(CorpusError::DuplicatePreset(line));
        }
    }
    Ok(Some(CorpusLine {
        word,
        isa,
        at,
        it,
        expect,
        presets,
        pads,
        line,
    }))
}

/// Parses a whole corpus, calling `each` for every instruction line in order.
///
/// # Errors
///
/// The first error of [`parse_line`] on any line, or [`CorpusError::TooManyLines`]
/// past [`MAX_RECORDS`] instructions; lines before it were passed to `each`.
pub fn parse(text: &str, mut each: impl FnMut(CorpusLine)) -> Result<usize, CorpusError> {
    let mut n = 0;
    for (i, l) in text.lines().enumerate() {
        let line = i as u32 + 1;
        if let Some(c) = parse_line(l, line)? {
            n += 1;
            if n > MAX_RECORDS {
                return Err(CorpusError::TooManyLines(line));
            }
            each(c);
        }
    }
    Ok(n)
}

fn seed_words(seed: Option<Seed>) -> [u32; 2] {
    match seed {
        None => [0, 0],
        Some(Seed::Value(v)) => [1, v],
        Some(Seed::Buffer(o)) => [2, o],
        Some(Seed::Code(d)) => [3, d as u32],
        Some(Seed::NotCode(d)) => [4, d as u32],
    }
}

fn word_seed(kind: u32, v: u32) -> Result<Option<Seed>, CorpusError> {
    Ok(match kind {
        0 => None,
        1 => Some(Seed::Value(v)),
        2 => Some(Seed::Buffer(v)),
        3 => Some(Seed::Code(v as i32)),
        4 => Some(Seed::NotCode(v as i32)),
        _ => return Err(CorpusError::BadBinary),
    })
}

/// The packed header for `count` records.
pub const fn header(count: usize) -> [u32; HEADER_WORDS] {
    [MAGIC, VERSION, count as u32]
}

/// The packed form of one line.
pub fn encode(line: &CorpusLine) -> [u32; RECORD_WORDS] {
    let mut r = [0; RECORD_WORDS];
    r[0] = line.word;
    let isa = match line.isa {
        Isa::A32 => 0,
        Isa::T16 => 1,
        Isa::T32 => 2,
    };
    r[1] = matches!(line.expect, Expect::Accept) as u32
        | (line.pads as u32) << 1
        | isa << 2
        | (line.at / 2) << 4
        | u32::from(line.it) << 8;
    r[2] = line.line;
    for (n, p) in line.presets.iter().enumerate() {
        let [k, v] = seed_words(*p);
        r[4 + 2 * n] = k;
        r[5 + 2 * n] = v;
        r[3] |= (p.is_some() as u32) << n;
    }
    r
}

/// Reads one packed record back.
///
/// # Errors
///
/// [`CorpusError::BadBinary`] when the record does not hold a valid line.
pub fn decode(r: &[u32; RECORD_WORDS]) -> Result<CorpusLine, CorpusError> {
    let expect = match r[1] & !0xff3e {
        1 => Expect::Accept,
        0 => Expect::Reject,
        _ => return Err(CorpusError::BadBinary),
    };
    let isa = match (r[1] >> 2) & 3 {
        0 => Isa::A32,
        1 => Isa::T16,
        2 => Isa::T32,
        _ => return Err(CorpusError::BadBinary),
    };
    let mut presets = [None; 15];
    for (n, p) in presets.iter_mut().enumerate() {
        *p = word_seed(r[4 + 2 * n], r[5 + 2 * n])?;
        if p.is_some() != (r[3] & (1 << n) != 0) {
            return Err(CorpusError::BadBinary);
        }
    }
    Ok(CorpusLine {
        word: r[0],
        isa,
        at: 2 * ((r[1] >> 4) & 1),
        it: (r[1] >> 8) as u8,
        expect,
        presets,
        pads: r[1] & 2 != 0,
        line: r[2],
    })
}

/// Checks a packed corpus's header against the number of words available after it and
/// returns the record count.
///
/// # Errors
///
/// [`CorpusError::BadBinary`] when the magic, version or length does not match.
pub fn check_header(h: &[u32; HEADER_WORDS], words_after: usize) -> Result<usize, CorpusError> {
    let count = h[2] as usize;
    if h[0] != MAGIC || h[1] != VERSION || count > MAX_RECORDS || count * RECORD_WORDS > words_after
    {
        return Err(CorpusError::BadBinary);
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_words_expectations_and_every_preset_form() {
        let l = parse_line(
            "0xE0810002 accept r1=5 r2=0x10 sp=buf+8 lr=code-4 r12=buf # add",
            7,
        )
        .unwrap()
        .unwrap();
        assert_eq!(l.word, 0xe081_0002);
        assert_eq!(l.expect, Expect::Accept);
        assert_eq!(l.line, 7);
        assert_eq!(l.presets[1], Some(Seed::Value(5)));
        assert_eq!(l.presets[2], Some(Seed::Value(16)));
        assert_eq!(l.presets[13], Some(Seed::Buffer(8)));
        assert_eq!(l.presets[14], Some(Seed::Code(-4)));
        assert_eq!(l.presets[12], Some(Seed::Buffer(0)));
        assert_eq!(l.seed(0), l.seed(0));
        assert_ne!(l.seed(0), l.seed(3), "defaults differ per register");
        let r = parse_line("e1900f9f reject", 1).unwrap().unwrap();
        assert_eq!((r.word, r.expect), (0xe190_0f9f, Expect::Reject));
        assert_eq!(r.seed(13), Seed::Buffer(128));
        assert_eq!(r.seed(14), Seed::Code(4));
    }

    #[test]
    fn blank_and_comment_lines_are_skipped() {
        assert_eq!(parse_line("", 1), Ok(None));
        assert_eq!(parse_line("   # just a comment", 2), Ok(None));
    }

    #[test]
    fn each_malformed_line_gets_its_own_error_with_the_line_number() {
        assert_eq!(parse_line("xyz accept", 3), Err(CorpusError::BadWord(3)));
        assert_eq!(
            parse_line("123456789 accept", 3),
            Err(CorpusError::BadWord(3))
        );
        assert_eq!(
            parse_line("e0810002", 4),
            Err(CorpusError::BadExpectation(4))
        );
        assert_eq!(
            parse_line("e0810002 maybe", 4),
            Err(CorpusError::BadExpectation(4))
        );
        for bad in [
            "r1",
            "r15=1",
            "pc=1",
            "r1=",
            "r1=zz",
            "r1=buf*4",
            "r1=code+x",
            "q=1",
        ] {
            assert_eq!(
                parse_line(&format!("e0810002 accept {bad}"), 5),
                Err(CorpusError::BadPreset(5)),
                "{bad}"
            );
        }
        assert_eq!(
            parse_line("e0810002 accept r1=1 r1=2", 6),
            Err(CorpusError::DuplicatePreset(6))
        );
    }

    #[test]
    fn too_many_lines_is_an_error() {
        let text = "e320f000 accept\n".repeat(MAX_RECORDS + 1);
        assert_eq!(
            parse(&text, |_| {}),
            Err(CorpusError::TooManyLines(MAX_RECORDS as u32 + 1))
        );
        assert_eq!(parse(&text[..text.len() - 16], |_| {}), Ok(MAX_RECORDS));
    }

    #[test]
    fn records_round_trip_through_the_binary_form() {
        let text =
            "e0810002 accept r1=5 sp=buf+8 lr=code-4\ne1900f9f reject\ne8bd8030 accept mem=pads\n";
        let mut lines = Vec::new();
        assert_eq!(parse(text, |l| lines.push(l)), Ok(3));
        assert!(lines[2].pads && !lines[0].pads);
        for l in &lines {
            assert_eq!(decode(&encode(l)), Ok(*l));
        }
        let mut nc = lines[0];
        nc.presets[3] = Some(Seed::NotCode(-8));
        assert_eq!(decode(&encode(&nc)), Ok(nc));
    }

    #[test]
    fn bad_binary_is_refused() {
        assert_eq!(check_header(&header(2), 2 * RECORD_WORDS), Ok(2));
        assert_eq!(
            check_header(&header(2), 2 * RECORD_WORDS - 1),
            Err(CorpusError::BadBinary)
        );
        assert_eq!(
            check_header(&[0, VERSION, 0], 0),
            Err(CorpusError::BadBinary)
        );
        assert_eq!(check_header(&[MAGIC, 9, 0], 0), Err(CorpusError::BadBinary));
        assert_eq!(
            check_header(&header(MAX_RECORDS + 1), usize::MAX),
            Err(CorpusError::BadBinary)
        );
        let mut r = encode(&parse_line("e0810002 accept r1=5", 1).unwrap().unwrap());
        r[1] = 0x41; // a reserved bit
        assert_eq!(decode(&r), Err(CorpusError::BadBinary));
        r[1] = 1;
        r[3] = 0; // mask disagrees with the preset kinds
        assert_eq!(decode(&r), Err(CorpusError::BadBinary));
        r[3] = 2;
        r[6] = 9; // unknown kind
        assert_eq!(decode(&r), Err(CorpusError::BadBinary));
    }

    #[test]
    fn thumb_lines_parse_with_offset_and_itstate() {
        let l = parse_line("t16 1888 accept r1=5 it=0x08 at=2 # adds", 3)
            .unwrap()
            .unwrap();
        assert_eq!((l.isa, l.word, l.at, l.it), (Isa::T16, 0x1888, 2, 0x08));
        assert_eq!(l.presets[1], Some(Seed::Value(5)));
        let w = parse_line("t32 0xf8d12004 accept r1=buf+8", 4)
            .unwrap()
            .unwrap();
        assert_eq!((w.isa, w.word, w.at, w.it), (Isa::T32, 0xf8d1_2004, 0, 0));
        let a = parse_line("e0810002 accept", 5).unwrap().unwrap();
        assert_eq!((a.isa, a.at, a.it), (Isa::A32, 0, 0));
        let text = "t16 b100 reject it=0x04\nt32 f8d12004 accept at=2 mem=pads\n";
        let mut lines = Vec::new();
        assert_eq!(parse(text, |l| lines.push(l)), Ok(2));
        for l in &lines {
            assert_eq!(decode(&encode(l)), Ok(*l));
        }
    }

    #[test]
    fn each_bad_thumb_line_gets_its_own_error() {
        for bad in [
            "t16 12345 accept",
            "t16 f8d1 accept",
            "t16 e800 accept",
            "t32 1888 accept",
        ] {
            assert_eq!(
                parse_line(bad, 7),
                Err(CorpusError::BadThumbWord(7)),
                "{bad}"
            );
        }
        assert_eq!(parse_line("t16 zz accept", 7), Err(CorpusError::BadWord(7)));
        assert_eq!(parse_line("t32", 7), Err(CorpusError::BadWord(7)));
        for bad in [
            "t16 1888 accept at=1",
            "t16 1888 accept at=4",
            "t16 1888 accept it=0x100",
            "t16 1888 accept it=x",
            "e0810002 accept at=2",
            "e0810002 accept it=8",
        ] {
            assert_eq!(
                parse_line(bad, 8),
                Err(CorpusError::BadThumbOption(8)),
                "{bad}"
            );
        }
        let mut r = encode(&parse_line("t16 1888 accept", 1).unwrap().unwrap());
        r[1] |= 3 << 2; // no such instruction set
        assert_eq!(decode(&r), Err(CorpusError::BadBinary));
    }

    #[test]
    fn corpus_errors_say_which_line() {
        let all = [
            CorpusError::BadWord(1),
            CorpusError::BadExpectation(2),
            CorpusError::BadPreset(3),
            CorpusError::DuplicatePreset(4),
            CorpusError::TooManyLines(5),
            CorpusError::BadThumbWord(6),
            CorpusError::BadThumbOption(7),
        ];
        for (i, e) in all.iter().enumerate() {
            assert!(e.to_string().starts_with(&format!("line {}", i + 1)), "{e}");
        }
        assert!(CorpusError::BadBinary.to_string().contains("packed corpus"));
    }
}
