//! (A module of `tests/decode_vs_capstone.rs`: one test binary for every capstone
//! comparison, so a cold `cargo test` links capstone once.)
//!
//! Checks the T16 decoder against an independent disassembler, capstone (Thumb mode, ARMv7,
//! Thumb-2 included), on all 2^16 halfwords, outside an IT block:
//!
//! - a halfword capstone decodes as a 16-bit instruction is never UNDEFINED for us, except the
//!   rows in [`DOCUMENTED`], each with its ARM ARM reason;
//! - a halfword we simulate is one capstone decodes, 2 bytes long, with a mnemonic our class
//!   accepts ([`accepted_mnemonics`]);
//! - a halfword we call the first half of a 32-bit instruction is one capstone, given only
//!   those two bytes, cannot decode, and given a second halfword decodes as 4 bytes or not at
//!   all, never as 2;
//! - a rejected halfword carries a mnemonic its reason accepts when capstone decodes it.
//!
//! 65,536 halfwords: a plain `#[test]`, well under a second.

use armv7_kprobes::decode::{ItPosition, RejectReason, T16Decoded, T16Kind, classify_t16};
use capstone::Capstone;
use capstone::arch::BuildsCapstone;
use capstone::arch::arm::ArchMode;
use std::collections::BTreeMap;

/// What capstone made of some bytes: nothing, or a length and a mnemonic.
enum Theirs {
    Invalid,
    Decoded {
        len: usize,
        mnemonic: String,
        text: String,
    },
}

fn capstone() -> Capstone {
    // Thumb mode without extra modes is ARMv7-A's Thumb-2 (no ARMv8 additions such as HLT).
    Capstone::new()
        .arm()
        .mode(ArchMode::Thumb)
        .build()
        .expect("capstone builds for Thumb")
}

fn disassemble(cs: &Capstone, bytes: &[u8]) -> Theirs {
    let insns = cs
        .disasm_count(bytes, 0x1000, 1)
        .expect("undecodable bytes give an empty list");
    match insns.iter().next() {
        None => Theirs::Invalid,
        Some(insn) => {
            let mnemonic = insn.mnemonic().unwrap_or("?").to_string();
            let text = format!("{mnemonic} {}", insn.op_str().unwrap_or(""));
            Theirs::Decoded {
                len: insn.len(),
                mnemonic,
                text,
            }
        }
    }
}

/// The ARM ARM conditions as capstone suffixes them (`b<c>`).
const CONDITIONS: [&str; 14] = [
    "eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le",
];

/// The mnemonics capstone (LLVM's Thumb syntax, outside an IT block, so flag-setting forms
/// carry `s`) may print for a class.
fn accepted_mnemonics(kind: T16Kind) -> &'static [&'static str] {
    match kind {
        T16Kind::ShiftImmediate => &["lsls", "lsrs", "asrs", "movs"],
        T16Kind::AddSubtractRegister | T16Kind::AddSubtractImmediate => &["adds", "subs"],
        T16Kind::MoveImmediate => &["movs"],
        T16Kind::CompareImmediate => &["cmp"],
        T16Kind::DataProcessingRegister => &[
            "ands", "eors", "adcs", "sbcs", "tst", "rsbs", "negs", "cmp", "cmn", "orrs", "bics",
            "mvns",
        ],
        T16Kind::ShiftRegister => &["lsls", "lsrs", "asrs", "rors"],
        T16Kind::Multiply => &["muls"],
        T16Kind::AddHighRegisters => &["add"],
        T16Kind::CompareHighRegisters => &["cmp"],
        T16Kind::MoveHighRegisters => &["mov"],
        T16Kind::BranchExchange => &["bx"],
        T16Kind::BranchLinkExchangeRegister => &["blx"],
        T16Kind::LoadLiteral => &["ldr"],
        T16Kind::LoadStoreRegister => &[
            "str", "strh", "strb", "ldrsb", "ldr", "ldrh", "ldrb", "ldrsh",
        ],
        T16Kind::LoadStoreImmediate => &["str", "ldr", "strb", "ldrb", "strh", "ldrh"],
        T16Kind::LoadStoreStack => &["str", "ldr"],
        T16Kind::GeneratePcRelativeAddress => &["adr"],
        T16Kind::GenerateSpRelativeAddress => &["add"],
        T16Kind::AdjustStackPointer => &["add", "sub"],
        T16Kind::CompareAndBranch => &["cbz", "cbnz"],
        T16Kind::Extend => &["sxth", "sxtb", "uxth", "uxtb"],
        T16Kind::Reverse => &["rev", "rev16", "revsh"],
        T16Kind::Push => &["push"],
        T16Kind::Pop => &["pop"],
        T16Kind::StoreMultiple => &["stm", "stmia", "stmea"],
        T16Kind::LoadMultiple => &["ldm", "ldmia", "ldmfd"],
        T16Kind::Hint => &["nop", "yield", "wfe", "wfi", "sev"],
        T16Kind::ConditionalBranch => &[],
        T16Kind::Branch => &["b"],
    }
}

fn mnemonic_fits(kind: T16Kind, mnemonic: &str) -> bool {
    if kind == T16Kind::ConditionalBranch {
        return mnemonic
            .strip_prefix('b')
            .is_some_and(|c| CONDITIONS.contains(&c));
    }
    accepted_mnemonics(kind).contains(&mnemonic)
}

/// The mnemonics capstone may print for a halfword we reject with `reason`; `None`: any.
fn accepted_for_reason(reason: RejectReason) -> Option<&'static [&'static str]> {
    match reason {
        RejectReason::ProcessorState => Some(&["cpsie", "cpsid", "setend"]),
        RejectReason::ExceptionGenerating => Some(&["svc", "bkpt"]),
        RejectReason::Undefined => Some(&["udf"]),
        RejectReason::IfThen => None,
        RejectReason::ReservedHint => Some(&["hint"]),
        _ => None,
    }
}

/// The rows where we and capstone knowingly disagree, with the ARM ARM's reason: every one is
/// a halfword we reject as UNPREDICTABLE (no behaviour to agree on) that capstone, following
/// LLVM's tables, decodes as the instruction it resembles or refuses for its own reasons, or
/// UDF. A disagreement on any other row, or with any other verdict of ours, is a mismatch.
const DOCUMENTED: &[(&str, &str)] = &[
    (
        "UDF",
        "UDF is permanently UNDEFINED (A8.8.247); capstone names it `udf` (`trap` for #254)",
    ),
    (
        "ADD (register) T2, ADD (SP plus register)",
        "`add pc, pc`: `if n == 15 && m == 15 then UNPREDICTABLE`; capstone decodes it",
    ),
    (
        "CMP (register) T2, two low registers",
        "`if n < 8 && m < 8 then UNPREDICTABLE` (opcode 0100 of A6.2.3); capstone decodes `cmp`",
    ),
    (
        "CMP (register) T2",
        "`if n == 15 || m == 15 then UNPREDICTABLE`; capstone decodes `cmp` with PC",
    ),
    (
        "BX",
        "bits 2:0 are (0): set, UNPREDICTABLE; capstone ignores them",
    ),
    (
        "BLX (register)",
        "`if m == 15 then UNPREDICTABLE`, and bits 2:0 are (0); capstone decodes some of these \
         and refuses the others",
    ),
    (
        "STM (STMIA, STMEA)",
        "an empty list is UNPREDICTABLE (capstone refuses it); the base in the list but not \
         lowest stores an UNKNOWN value (capstone decodes it)",
    ),
    (
        "LDM (LDMIA, LDMFD)",
        "`if BitCount(registers) < 1 then UNPREDICTABLE`; capstone refuses it too",
    ),
    (
        "PUSH",
        "`if BitCount(registers) < 1 then UNPREDICTABLE`; capstone refuses it too",
    ),
    (
        "POP",
        "`if BitCount(registers) < 1 then UNPREDICTABLE`; capstone refuses it too",
    ),
    (
        "IT",
        "`if firstcond == '1111' || (firstcond == '1110' && BitCount(mask) != 1) then \
         UNPREDICTABLE`; capstone decodes them",
    ),
    (
        "CPS",
        "bit 3 is (0) (capstone refuses it set), and `if A:I:F == '000' then UNPREDICTABLE` \
         (capstone decodes a bare `cpsie`/`cpsid`)",
    ),
    (
        "SETEND",
        "bit 4 is (1) and bits 2:0 are (0); capstone refuses the other forms too",
    ),
];

/// The documented reason `ours` and `theirs` may disagree on a halfword of `row`, if any.
fn documented_disagreement(row: &str, ours: T16Decoded, theirs: &Theirs) -> Option<&'static str> {
    let allowed = match ours {
        T16Decoded::Rejected(RejectReason::Unpredictable) => true,
        T16Decoded::Rejected(RejectReason::Undefined) => {
            matches!(theirs, Theirs::Decoded { mnemonic, .. } if mnemonic == "udf" || mnemonic == "trap")
        }
        _ => false,
    };
    if !allowed {
        return None;
    }
    DOCUMENTED
        .iter()
        .find(|(r, _)| *r == row)
        .map(|(_, why)| *why)
}

#[test]
fn t16_decoder_agrees_with_capstone_on_every_halfword() {
    let cs = capstone();
    let mut verdicts: BTreeMap<String, u32> = BTreeMap::new();
    let mut agreements = 0u32;
    // (our row, capstone decodes it) → (count, example halfword)
    let mut documented: BTreeMap<(&str, bool), (u32, u16)> = BTreeMap::new();
    // (our row, our verdict, capstone's) → (count, example halfword, capstone's text)
    let mut mismatches: BTreeMap<(String, String, String), (u32, u16, String)> = BTreeMap::new();
    for hw in 0..=u16::MAX {
        let c = classify_t16(hw, ItPosition::Outside);
        let ours = c.decoded;
        let row = c.entry.map_or("(no row)", |e| e.name);
        let key = match ours {
            T16Decoded::FirstHalfOfT32 => "first half of a 32-bit instruction".to_string(),
            T16Decoded::Rejected(r) => format!("rejected {r:?}"),
            T16Decoded::Simulate(k) => format!("simulate {k:?}"),
        };
        *verdicts.entry(key).or_default() += 1;
        let theirs = disassemble(&cs, &hw.to_le_bytes());
        let agrees = match (ours, &theirs) {
            (T16Decoded::FirstHalfOfT32, Theirs::Invalid) => {
                // With a second halfword, capstone sees a 32-bit instruction or nothing.
                [0x0000u16, 0x8000, 0xf000, 0xffff].iter().all(|second| {
                    let mut bytes = [0; 4];
                    bytes[..2].copy_from_slice(&hw.to_le_bytes());
                    bytes[2..].copy_from_slice(&second.to_le_bytes());
                    !matches!(disassemble(&cs, &bytes), Theirs::Decoded { len: 2, .. })
                })
            }
            (T16Decoded::FirstHalfOfT32, Theirs::Decoded { .. }) => false,
            (T16Decoded::Simulate(kind), Theirs::Decoded { len, mnemonic, .. }) => {
                *len == 2 && mnemonic_fits(kind, mnemonic)
            }
            (T16Decoded::Simulate(_), Theirs::Invalid) => false,
            (T16Decoded::Rejected(RejectReason::Undefined), Theirs::Invalid) => true,
            (T16Decoded::Rejected(RejectReason::Unpredictable), _) => false,
            (T16Decoded::Rejected(_), Theirs::Invalid) => false,
            (T16Decoded::Rejected(reason), Theirs::Decoded { len, mnemonic, .. }) => {
                let fits = match accepted_for_reason(reason) {
                    Some(names) => names.contains(&mnemonic.as_str()),
                    None if reason == RejectReason::IfThen => mnemonic.starts_with("it"),
                    None => true,
                };
                *len == 2 && fits && reason != RejectReason::Undefined
            }
        };
        if agrees {
            agreements += 1;
            continue;
        }
        if documented_disagreement(row, ours, &theirs).is_some() {
            let decoded = matches!(theirs, Theirs::Decoded { .. });
            documented.entry((row, decoded)).or_insert((0, hw)).0 += 1;
            continue;
        }
        let text = match &theirs {
            Theirs::Invalid => "(invalid)".to_string(),
            Theirs::Decoded { len, text, .. } => format!("{text} ({len} bytes)"),
        };
        let theirs_key = match &theirs {
            Theirs::Invalid => "invalid".to_string(),
            Theirs::Decoded { mnemonic, .. } => mnemonic.clone(),
        };
        let slot = mismatches
            .entry((row.to_string(), format!("{ours:?}"), theirs_key))
            .or_insert((0, hw, text));
        slot.0 += 1;
    }
    println!("65536 halfwords compared with capstone (Thumb, outside an IT block)");
    for (verdict, n) in &verdicts {
        println!("  {n:>6}  {verdict}");
    }
    println!("  agreements: {agreements}");
    for ((row, decoded), (n, example)) in &documented {
        let capstone = if *decoded { "decodes" } else { "refuses" };
        println!("  documented {n:>5}: {row}, capstone {capstone} (e.g. {example:#06x})");
    }
    for ((row, ours, theirs), (n, hw, text)) in &mismatches {
        println!("MISMATCH {n:>5} {row}: ours {ours}, capstone {theirs}; e.g. {hw:#06x} = {text}");
    }
    assert!(
        mismatches.is_empty(),
        "{} disagreeing classes",
        mismatches.len()
    );
    assert_eq!(
        agreements + documented.values().map(|(n, _)| n).sum::<u32>(),
        1 << 16
    );
}
