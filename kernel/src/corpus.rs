//! Runs a user's own instruction corpus — packed on the host by `kprobes-corpus`, loaded
//! by QEMU at `bootargs::CORPUS` — through the same differential lab as the generated
//! conformance cases, and reports each line.

use crate::bootargs::{CORPUS, CORPUS_BYTES};
use crate::tests::conformance::Lab;
use crate::{kprint, kprintln};
use alloc::format;
use alloc::string::String;
use armv7_kprobes::conformance::thumb::{ItSlot, ThumbCase, ThumbRow, ThumbVerdict};
use armv7_kprobes::conformance::{Alignment, Case, Fill, RegClass};
use armv7_kprobes::corpus::{self, CorpusLine, Expect, HEADER_WORDS, Isa, RECORD_WORDS};
use armv7_kprobes::decode::{self, Decoded, ItPosition, T16Decoded, T32Decoded};
use armv7_kprobes::insn::Insn;
use armv7_kprobes::step;

fn word(index: usize) -> u32 {
    // SAFETY: `index` stays inside the corpus window (checked by the callers against the
    // header, itself checked against CORPUS_BYTES); the window is mapped RAM the image
    // never uses.
    unsafe { core::ptr::read_volatile((CORPUS + 4 * index) as *const u32) }
}

/// The verdict for a Thumb line (`t16`/`t32`): decoded at the IT position its ITSTATE
/// gives, and — when accepted — run through the Thumb lab (`Lab::run_thumb`).
fn judge_thumb(lab: &Lab, line: &CorpusLine) -> Result<String, String> {
    let pos = step::it_position(line.it);
    let (hw1, hw2) = match line.isa {
        Isa::T32 => ((line.word >> 16) as u16, Some(line.word as u16)),
        _ => (line.word as u16, None),
    };
    let (row, verdict) = match hw2 {
        None => {
            let c = decode::classify_t16(hw1, pos);
            match (c.decoded, c.entry) {
                (T16Decoded::Simulate(k), Some(e)) => (Some(ThumbRow::T16(e, k)), Ok(())),
                (T16Decoded::Rejected(r), _) => (None, Err(r)),
                _ => return Err(String::from("not a 16-bit instruction")),
            }
        }
        Some(hw2) => {
            let c = decode::classify_t32(hw1, hw2, pos);
            match (c.decoded, c.entry) {
                (T32Decoded::Simulate(k), Some(e)) => (Some(ThumbRow::T32(e, k)), Ok(())),
                (T32Decoded::Rejected(r), _) => (None, Err(r)),
                _ => return Err(String::from("accepted without a table row?")),
            }
        }
    };
    match (line.expect, verdict, row) {
        (Expect::Reject, Err(r), _) => Ok(format!("rejected: {r}")),
        (Expect::Reject, Ok(()), row) => Err(format!(
            "accepted ({}), expected reject",
            row.map_or("?", |r| r.name())
        )),
        (Expect::Accept, Err(r), _) => Err(format!("rejected: {r}")),
        (Expect::Accept, Ok(()), None) => Err(String::from("accepted without a table row?")),
        (Expect::Accept, Ok(()), Some(row)) => {
            let slot = match (pos, line.it & 1) {
                (ItPosition::Outside, _) => ItSlot::Outside,
                (ItPosition::Last, _) => ItSlot::Last,
                (ItPosition::Inside, 1) => ItSlot::First,
                (ItPosition::Inside, _) => ItSlot::Inner,
            };
            let case = ThumbCase {
                hw1,
                hw2,
                row,
                field: None,
                class: RegClass::Any,
                at: line.at,
                slot,
                it: line.it,
                expected: ThumbVerdict::Simulate,
                regs: core::array::from_fn(|n| line.seed(n)),
                fill: if line.pads {
                    Fill::ThumbPads
                } else {
                    Fill::Pattern(line.line)
                },
                alignment: Alignment::Natural,
            };
            let problems = lab.run_thumb(&case);
            match problems.first() {
                None => Ok(format!(
                    "{}: matches native execution in 16 flag scenarios",
                    row.name()
                )),
                Some(p) => Err(format!(
                    "{} of 16 scenarios differ; first: {p}",
                    problems.len()
                )),
            }
        }
    }
}

/// The verdict for one line: `Ok(note)` or `Err(why)`.
fn judge(lab: &Lab, line: &CorpusLine) -> Result<String, String> {
    if line.isa != Isa::A32 {
        return judge_thumb(lab, line);
    }
    let c = decode::classify(Insn(line.word));
    match (line.expect, c.decoded, c.entry) {
        (Expect::Reject, Decoded::Rejected(r), _) => Ok(format!("rejected: {r}")),
        (Expect::Reject, Decoded::Simulate(k), _) => {
            Err(format!("accepted ({k:?}), expected reject"))
        }
        (Expect::Accept, Decoded::Rejected(r), _) => Err(format!("rejected: {r}")),
        (Expect::Accept, Decoded::Simulate(_), None) => {
            Err(String::from("accepted without a table row?"))
        }
        (Expect::Accept, expected @ Decoded::Simulate(k), Some(row)) => {
            let case = Case {
                word: line.word,
                row,
                field: None,
                class: RegClass::Any,
                expected,
                regs: core::array::from_fn(|n| line.seed(n)),
                fill: if line.pads {
                    Fill::Pads
                } else {
                    Fill::Pattern(line.line)
                },
                alignment: Alignment::Natural,
            };
            let problems = lab.run(&case);
            match problems.first() {
                None => Ok(format!(
                    "{k:?}: matches native execution in 16 flag scenarios"
                )),
                Some(p) => Err(format!(
                    "{} of 16 scenarios differ; first: {p}",
                    problems.len()
                )),
            }
        }
    }
}

/// Runs the loaded corpus; returns how many lines failed (a bad corpus counts as one).
pub fn run() -> usize {
    let header: [u32; HEADER_WORDS] = core::array::from_fn(word);
    let count = match corpus::check_header(&header, CORPUS_BYTES / 4 - HEADER_WORDS) {
        Ok(n) => n,
        Err(e) => {
            kprintln!("corpus: {e}");
            kprintln!("0 passed, 1 failed");
            return 1;
        }
    };
    kprintln!("corpus: {count} instructions");
    let lab = Lab::new();
    let (mut passed, mut failed) = (0, 0);
    for i in 0..count {
        let record: [u32; RECORD_WORDS] =
            core::array::from_fn(|k| word(HEADER_WORDS + i * RECORD_WORDS + k));
        let line = match corpus::decode(&record) {
            Ok(l) => l,
            Err(e) => {
                failed += 1;
                kprintln!("{:3}. record {i} ... [FAILED] {e}", i + 1);
                continue;
            }
        };
        let expect = if line.expect == Expect::Accept {
            "accept"
        } else {
            "reject"
        };
        let (isa, digits) = match line.isa {
            Isa::A32 => ("", 8),
            Isa::T16 => ("t16 ", 4),
            Isa::T32 => ("t32 ", 8),
        };
        kprint!(
            "{:3}. line {} {isa}{:0digits$x} {expect} ... ",
            i + 1,
            line.line,
            line.word
        );
        match judge(&lab, &line) {
            Ok(note) => {
                passed += 1;
                kprintln!("[ok] {note}");
            }
            Err(why) => {
                failed += 1;
                kprintln!("[FAILED] {why}");
            }
        }
    }
    kprintln!("{passed} passed, {failed} failed");
    failed
}
