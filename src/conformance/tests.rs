//! Host tests of the conformance cases: every case decodes as it expects, every row and
//! register class is covered, and the step engine agrees with the expectations the
//! generator recorded.

use super::generator::Rows;
use super::*;
use crate::decode::{A32, REG_FIELDS, RegRule, decode};
use crate::insn::Insn;
use crate::step::step;
use std::collections::{BTreeMap, BTreeSet};
use std::vec::Vec;

const LAYOUT: Layout = Layout {
    insn: 0x4010_0400,
    buffer: 0x4020_0000,
    mode: 0x1d3,
};

#[test]
fn generator_makes_over_five_thousand_runnable_cases() {
    let all: Vec<Case> = cases().collect();
    let runnable = all.iter().filter(|c| c.runs()).count();
    println!(
        "{} cases, {} runnable, {} checked rejections",
        all.len(),
        runnable,
        all.len() - runnable
    );
    assert!(runnable >= 5000, "{runnable}");
}

#[test]
fn every_case_decodes_as_it_expects() {
    for c in cases() {
        assert_eq!(
            decode(Insn(c.word)),
            c.expected,
            "{:#010x} {} {:?}",
            c.word,
            c.row.name,
            c.class
        );
    }
}

#[test]
fn every_row_and_register_class_is_covered() {
    let mut rows = BTreeSet::new();
    let mut classes: BTreeMap<(&str, u32), BTreeSet<String>> = BTreeMap::new();
    for c in cases() {
        if c.runs() {
            rows.insert(c.row.name);
        }
        if let Some(f) = c.field {
            classes
                .entry((c.row.name, f))
                .or_default()
                .insert(format!("{:?}", c.class));
        }
    }
    let mut missing_rows = Vec::new();
    let mut missing_classes = Vec::new();
    let mut planned = 0;
    let mut covered = 0;
    for (row, _) in (Rows {
        stack: [(A32, 0); 6],
        depth: 1,
    }) {
        if !rows.contains(row.name) {
            missing_rows.push(row.name);
        }
        for (rule, f) in row.regs.iter().zip(REG_FIELDS) {
            if *rule == RegRule::NotRegister {
                continue;
            }
            for class in [
                RegClass::Sp,
                RegClass::Lr,
                RegClass::Pc,
                RegClass::PcWriteback,
            ] {
                if class == RegClass::PcWriteback && *rule != RegRule::PcWithoutWriteback {
                    continue;
                }
                planned += 1;
                let got = classes
                    .get(&(row.name, f))
                    .is_some_and(|s| s.contains(&format!("{class:?}")));
                if got {
                    covered += 1;
                } else {
                    missing_classes.push(format!("{} bits {}+ {class:?}", row.name, f));
                }
            }
        }
    }
    println!("register classes covered: {covered} of {planned}");
    for m in &missing_classes {
        println!("  not generated: {m}");
    }
    assert!(
        missing_rows.is_empty(),
        "rows without a runnable case: {missing_rows:?}"
    );
    // The only (row, field, class) combinations left out are those where the class turns
    // the word into another row (PC in BFI's Rn is BFC, in SMLAD's Ra is SMUAD …) or where
    // no operands land on a pad (MOV pc, #imm …); those are listed above.
    assert!(covered * 100 >= planned * 90, "{covered} of {planned}");
}

#[test]
fn stepped_cases_touch_only_the_buffers_and_land_on_pads() {
    let mut stepped = 0;
    for c in cases().filter(Case::runs) {
        for scenario in 0..16 {
            let mut f = c.frame(&LAYOUT, scenario);
            let mut mem = CaseMemory::new(&c, LAYOUT);
            let result = step(Insn(c.word), LAYOUT.insn, &mut f, &mut mem);
            assert_eq!(
                result,
                Ok(()),
                "{:#010x} {} {:?} scenario {scenario}",
                c.word,
                c.row.name,
                c.class
            );
            let thumb = f.cpsr & (1 << 5) != 0;
            assert!(
                f.pc == LAYOUT.insn + 4 || LAYOUT.is_pad(f.pc, thumb),
                "{:#010x} {} lands at {:#x} (thumb {thumb})",
                c.word,
                c.row.name,
                f.pc
            );
            stepped += 1;
        }
    }
    assert!(stepped >= 16 * 5000);
}

/// Memory that records whether any access was not naturally aligned.
struct Recording {
    mem: CaseMemory,
    unaligned: u32,
}

impl Recording {
    fn note(&mut self, address: u32, len: u32) {
        if !address.is_multiple_of(len) {
            self.unaligned += 1;
        }
    }
}

impl Memory for Recording {
    fn read_u8(&mut self, a: u32) -> Result<u8, MemoryFault> {
        self.mem.read_u8(a)
    }
    fn read_u16(&mut self, a: u32) -> Result<u16, MemoryFault> {
        self.note(a, 2);
        self.mem.read_u16(a)
    }
    fn read_u32(&mut self, a: u32) -> Result<u32, MemoryFault> {
        self.note(a, 4);
        self.mem.read_u32(a)
    }
    fn write_u8(&mut self, a: u32, v: u8) -> Result<(), MemoryFault> {
        self.mem.write_u8(a, v)
    }
    fn write_u16(&mut self, a: u32, v: u16) -> Result<(), MemoryFault> {
        self.note(a, 2);
        self.mem.write_u16(a, v)
    }
    fn write_u32(&mut self, a: u32, v: u32) -> Result<(), MemoryFault> {
        self.note(a, 4);
        self.mem.write_u32(a, v)
    }
    fn barrier(&mut self, b: Barrier) {
        self.mem.barrier(b)
    }
    fn hint(&mut self, h: Hint) {
        self.mem.hint(h)
    }
}

/// The mnemonic class of a single word/halfword transfer.
fn transfer_name(w: u32) -> &'static str {
    let load = w & (1 << 20) != 0;
    if (w >> 26) & 3 == 0b01 {
        if load { "LDR" } else { "STR" }
    } else {
        match ((w >> 5) & 3, load) {
            (0b01, true) => "LDRH",
            (0b01, false) => "STRH",
            (0b11, true) => "LDRSH",
            _ => "other",
        }
    }
}

#[test]
fn unaligned_word_and_halfword_cases_step_at_unaligned_addresses() {
    let mut per_name: BTreeMap<&str, usize> = BTreeMap::new();
    for c in cases().filter(|c| c.alignment == Alignment::Unaligned) {
        assert!(c.runs(), "{:#010x}", c.word);
        let mut f = c.frame(&LAYOUT, 0);
        let mut mem = Recording {
            mem: CaseMemory::new(&c, LAYOUT),
            unaligned: 0,
        };
        let result = step(Insn(c.word), LAYOUT.insn, &mut f, &mut mem);
        assert_eq!(result, Ok(()), "{:#010x} {}", c.word, c.row.name);
        let cond_passed = Insn(c.word).cond().passes(c.frame(&LAYOUT, 0).cpsr);
        assert!(
            !cond_passed || mem.unaligned == 1,
            "{:#010x} {}: {} unaligned accesses",
            c.word,
            c.row.name,
            mem.unaligned
        );
        *per_name.entry(transfer_name(c.word)).or_default() += 1;
    }
    println!("unaligned cases: {per_name:?}");
    for name in ["LDR", "STR", "LDRH", "STRH", "LDRSH"] {
        assert!(
            per_name.get(name).is_some_and(|&n| n >= 8),
            "{name}: {per_name:?}"
        );
    }
    assert_eq!(per_name.get("other"), None, "{per_name:?}");
    // Natural cases still never touch memory unaligned.
    for c in cases().filter(|c| c.runs() && c.alignment == Alignment::Natural) {
        let mut f = c.frame(&LAYOUT, 0);
        let mut mem = CaseMemory::new(&c, LAYOUT);
        assert!(!mem.unaligned);
        assert_eq!(step(Insn(c.word), LAYOUT.insn, &mut f, &mut mem), Ok(()));
    }
}

#[test]
fn unaligned_dual_and_multiple_cases_are_refused_as_alignment_faults() {
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
    for c in cases().filter(|c| c.alignment == Alignment::Faults) {
        assert!(!c.runs(), "never run natively: {:#010x}", c.word);
        let want = c
            .alignment_fault(&LAYOUT)
            .expect("a Faults case names its fault");
        let StepError::AlignmentFault { address } = want else {
            panic!("{want:?}");
        };
        assert!(
            !address.is_multiple_of(4),
            "{:#010x} at {address:#x}",
            c.word
        );
        for scenario in 0..16 {
            let start = c.frame(&LAYOUT, scenario);
            let mut f = start;
            let mut mem = CaseMemory::new(&c, LAYOUT);
            let before = (mem.buffer, mem.literal);
            let passes = Insn(c.word).cond().passes(start.cpsr);
            let got = step(Insn(c.word), LAYOUT.insn, &mut f, &mut mem);
            if passes {
                assert_eq!(got, Err(want), "{:#010x} scenario {scenario}", c.word);
                assert_eq!(f, start, "the frame stays");
                assert!((mem.buffer, mem.literal) == before, "memory stays");
            } else {
                assert_eq!(got, Ok(()), "a failing condition only advances pc");
            }
        }
        let kind = match c.expected {
            Decoded::Simulate(SimKind::LoadStoreMultiple) => {
                if c.word & (1 << 20) != 0 {
                    "LDM"
                } else {
                    "STM"
                }
            }
            _ if c.word & (1 << 5) != 0 => "STRD",
            _ => "LDRD",
        };
        *per_kind.entry(kind.into()).or_default() += 1;
    }
    println!("refused unaligned cases: {per_kind:?}");
    for kind in ["LDRD", "STRD", "LDM", "STM"] {
        assert!(
            per_kind.get(kind).is_some_and(|&n| n >= 8),
            "{kind}: {per_kind:?}"
        );
    }
    assert_eq!(
        cases()
            .filter(|c| c.alignment != Alignment::Faults)
            .filter_map(|c| c.alignment_fault(&LAYOUT))
            .count(),
        0
    );
}

#[test]
fn layout_pads_and_seeds_resolve() {
    assert_eq!(LAYOUT.code_word(LAYOUT.insn, 0x1234), Some(0x1234));
    assert_eq!(LAYOUT.code_word(LAYOUT.code(-4), 0), Some(ARM_PAD));
    assert_eq!(
        LAYOUT.code_word(LAYOUT.code(THUMB_PADS), 0),
        Some(THUMB_PAD_WORD)
    );
    assert_eq!(LAYOUT.code_word(LAYOUT.code(CODE_END), 0), None);
    assert!(LAYOUT.is_pad(LAYOUT.code(8), false) && !LAYOUT.is_pad(LAYOUT.insn, false));
    assert!(LAYOUT.is_pad(LAYOUT.code(THUMB_PADS + 2), true));
    assert!(!LAYOUT.is_pad(LAYOUT.code(THUMB_PADS), false));
    assert_eq!(Seed::NotCode(4).resolve(&LAYOUT), !(LAYOUT.insn + 4));
    assert_eq!(Seed::Buffer(8).resolve(&LAYOUT), LAYOUT.buffer + 8);
    let nzcv: BTreeSet<u32> = FLAG_SCENARIOS.iter().map(|s| s >> 28).collect();
    assert_eq!(nzcv.len(), 16, "every NZCV combination");
    assert!(FLAG_SCENARIOS.iter().any(|s| s & (1 << 27) != 0));
}
