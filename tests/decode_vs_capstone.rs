//! Checks the decoder's control-flow facts against an independent disassembler, capstone:
//! on random words, "is undefined", "is a branch" and "writes PC" must agree, except for the
//! classes listed in [`exclusion`], each with the reason capstone and the ARM ARM part ways.
//!
//! Release runs (`cargo test --release --test decode_vs_capstone`, as `.ci/run` does) check
//! 10 million words; debug runs check 300,000 so a plain `cargo test` stays quick. Set
//! `DECODE_VS_CAPSTONE_WORDS` to choose another count.

// The Thumb decoders' comparisons: modules of this binary (one capstone link for all).
#[path = "decode_vs_capstone/t16.rs"]
mod t16;
#[path = "decode_vs_capstone/t32.rs"]
mod t32;

use armv7_kprobes::decode::{Decoded, RejectReason, classify, is_branch, writes_pc};
use armv7_kprobes::insn::Insn;
use capstone::arch::arm::{ArchMode, ArmOperandType};
use capstone::arch::{BuildsCapstone, DetailsArchInsn};
use capstone::{Capstone, RegAccessType};
use std::collections::BTreeMap;

const ARM_REG_PC: u16 = 11;
const ARM_GRP_JUMP: u8 = 1;
const ARM_GRP_CALL: u8 = 2;
const ARM_GRP_BRANCH_RELATIVE: u8 = 7;

/// The three facts compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Facts {
    undefined: bool,
    branch: bool,
    writes_pc: bool,
}

fn capstone() -> Capstone {
    Capstone::new()
        .arm()
        .mode(ArchMode::Arm)
        .detail(true)
        .build()
        .expect("capstone builds for A32")
}

/// What capstone says about `word`, and its mnemonic and operands for reports.
fn capstone_facts(cs: &Capstone, word: u32) -> (Facts, String) {
    let insns = cs
        .disasm_count(&word.to_le_bytes(), 0x1000, 1)
        .expect("undecodable words give an empty list");
    let Some(insn) = insns.iter().next() else {
        let none = Facts {
            undefined: true,
            branch: false,
            writes_pc: false,
        };
        return (none, "(invalid)".into());
    };
    let detail = cs.insn_detail(insn).expect("detail is on");
    let groups: Vec<u8> = detail.groups().iter().map(|g| g.0).collect();
    let branch = groups
        .iter()
        .any(|g| [ARM_GRP_JUMP, ARM_GRP_CALL, ARM_GRP_BRANCH_RELATIVE].contains(g));
    let mut pc_written = detail.regs_write().iter().any(|r| r.0 == ARM_REG_PC);
    if let Some(arm) = detail.arch_detail().arm() {
        for op in arm.operands() {
            if let ArmOperandType::Reg(r) = op.op_type
                && r.0 == ARM_REG_PC
                && matches!(
                    op.access,
                    Some(RegAccessType::WriteOnly | RegAccessType::ReadWrite)
                )
            {
                pc_written = true;
            }
        }
    }
    let text = format!(
        "{} {}",
        insn.mnemonic().unwrap_or("?"),
        insn.op_str().unwrap_or("")
    );
    (
        Facts {
            undefined: false,
            branch,
            writes_pc: pc_written || branch,
        },
        text,
    )
}

fn our_facts(word: u32) -> Facts {
    let decoded = classify(Insn(word)).decoded;
    Facts {
        undefined: decoded == Decoded::Rejected(RejectReason::Undefined),
        branch: is_branch(Insn(word)),
        writes_pc: writes_pc(Insn(word)),
    }
}

/// Where we and capstone knowingly disagree, and why; `None`: the word must agree. Every
/// exclusion is about a word we reject: on the words we step, nothing is excluded.
fn exclusion(word: u32, ours: Facts, theirs: Facts) -> Option<&'static str> {
    let c = classify(Insn(word));
    let Decoded::Rejected(reason) = c.decoded else {
        return None;
    };
    match reason {
        // No architectural behaviour to agree on: capstone (LLVM's tables) decodes most
        // UNPREDICTABLE forms as the instruction they resemble and refuses a few.
        RejectReason::Unpredictable => {
            Some("UNPREDICTABLE (PC/SP rules, should-be bits, register overlaps)")
        }
        // UDF is permanently UNDEFINED; capstone prints it as the mnemonic `udf`.
        RejectReason::Undefined
            if !theirs.undefined && c.entry.is_some_and(|e| e.name.starts_with("UDF")) =>
        {
            Some("UDF: undefined by definition, capstone names it")
        }
        RejectReason::Undefined => None,
        // Both refuse to run these. Capstone's "invalid" comes from should-be bits we do not
        // check on rows we reject anyway (MSR, LDREX, BXJ, SUBS pc, CPS …), from conditional
        // BKPT (UNPREDICTABLE), and from extensions its ARMv7 tables lack (banked MRS/MSR,
        // ERET, SRS/RFE forms, unallocated SIMD and hint space).
        _ if theirs.undefined => Some("rejected by us, invalid for capstone"),
        // PC as the base with writeback, or as the destination, of an instruction we reject
        // for another reason (coprocessor, VFP, *T, swap, User-register LDM/STM, MRS SPSR):
        // capstone reports the PC write of that UNPREDICTABLE form; we never step it.
        _ if theirs.writes_pc && !ours.writes_pc && !theirs.branch => {
            Some("rejected by us; capstone sees PC written by its UNPREDICTABLE form")
        }
        // RFE loads PC and CPSR; capstone does not list PC among the registers it writes.
        RejectReason::ExceptionReturn if ours.writes_pc && !theirs.writes_pc => {
            Some("exception return: capstone does not mark RFE's PC write")
        }
        _ => None,
    }
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 16) as u32
    }
}

#[test]
fn decoder_agrees_with_capstone_on_random_words() {
    let words: u64 = std::env::var("DECODE_VS_CAPSTONE_WORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) {
            300_000
        } else {
            10_000_000
        });
    let cs = capstone();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut excluded: BTreeMap<&str, u64> = BTreeMap::new();
    // (our row, ours, theirs) → (count, example word, capstone's text)
    let mut mismatches: BTreeMap<(String, String, String), (u64, u32, String)> = BTreeMap::new();
    for _ in 0..words {
        let word = rng.next();
        let ours = our_facts(word);
        let (theirs, text) = capstone_facts(&cs, word);
        if ours == theirs {
            continue;
        }
        if let Some(why) = exclusion(word, ours, theirs) {
            *excluded.entry(why).or_default() += 1;
            continue;
        }
        let row = classify(Insn(word))
            .entry
            .map_or("(no row)", |e| e.name)
            .to_string();
        let slot = mismatches
            .entry((row, format!("{ours:?}"), format!("{theirs:?}")))
            .or_insert((0, word, text));
        slot.0 += 1;
    }
    println!("{words} random words compared with capstone");
    for (why, n) in &excluded {
        println!("  excluded {n:>9}: {why}");
    }
    for ((row, ours, theirs), (n, word, text)) in &mismatches {
        println!(
            "MISMATCH {n:>7} {row}: ours {ours} capstone {theirs}; e.g. {word:#010x} = {text}"
        );
    }
    assert!(
        mismatches.is_empty(),
        "{} disagreeing classes",
        mismatches.len()
    );
}
