//! Runs a user's own instruction corpus — packed on the host by `kprobes-corpus`, loaded
//! by QEMU at `bootargs::CORPUS` — through the same differential lab as the generated
//! conformance cases, and reports each line.

use crate::bootargs::{CORPUS, CORPUS_BYTES};
use crate::tests::conformance::Lab;
use crate::{kprint, kprintln};
use alloc::format;
use alloc::string::String;
use armv7_kprobes::conformance::{Alignment, Case, Fill, RegClass};
use armv7_kprobes::corpus::{self, CorpusLine, Expect, HEADER_WORDS, RECORD_WORDS};
use armv7_kprobes::decode::{self, Decoded};
use armv7_kprobes::insn::Insn;

fn word(index: usize) -> u32 {
    // SAFETY: `index` stays inside the corpus window (checked by the callers against the
    // header, itself checked against CORPUS_BYTES); the window is mapped RAM the image
    // never uses.
    unsafe { core::ptr::read_volatile((CORPUS + 4 * index) as *const u32) }
}

/// The verdict for one line: `Ok(note)` or `Err(why)`.
fn judge(lab: &Lab, line: &CorpusLine) -> Result<String, String> {
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
        kprint!(
            "{:3}. line {} {:08x} {expect} ... ",
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
