//! Tests of the slot rewrite, against capstone and against simulation.

use super::*;
use crate::step::slot_rewrite::APSR_BITS;

#[test]
fn emulation_renames_registers_onto_r0_to_r3() {
    // smlal r4(lo), r9(hi), r10, r11 → r0..r3 in field order 19:16, 15:12, 11:8, 3:0.
    let e = emulation(Insn(0xe0e9_4b9a)).unwrap();
    assert_eq!(e.map, [Some(9), Some(4), Some(11), Some(10)]);
    assert_eq!(e.word, 0xe0e0_1293);
    // add r8, r8, r8, lsl #3: one register, used three times.
    let e = emulation(Insn(0xe088_8188)).unwrap();
    assert_eq!((e.word, e.map), (0xe080_0180, [Some(8), None, None, None]));
    assert_eq!(emulation(Insn(0xe08f_0001)), None, "PC operand");
    assert_eq!(emulation(Insn(0xe591_0000)), None, "memory");
    assert_eq!(
        emulation(Insn(0xe10f_0000)),
        None,
        "MRS reads the real CPSR"
    );
    assert_eq!(emulation(Insn(0xef00_0000)), None, "rejected");
}

/// What capstone, an independent A32 disassembler, reads in `word`: "mnemonic operands".
fn capstone_text(cs: &capstone::Capstone, word: u32) -> String {
    let insns = cs.disasm_all(&word.to_le_bytes(), 0x1000).unwrap();
    let insn = insns.iter().next().expect("capstone decodes the word");
    format!("{} {}", insn.mnemonic().unwrap(), insn.op_str().unwrap())
}

fn a32_capstone() -> capstone::Capstone {
    use capstone::arch::BuildsCapstone;
    capstone::Capstone::new()
        .arm()
        .mode(capstone::arch::arm::ArchMode::Arm)
        .build()
        .unwrap()
}

#[test]
fn emulation_slot_disassembles_as_its_documented_sequence() {
    let cs = a32_capstone();
    // smlal r1, r0, r3, r2: the rewrite of smlal r4, r9, r10, r11 above.
    let text: Vec<String> = slot_words(0xe0e0_1293)
        .iter()
        .map(|w| capstone_text(&cs, *w))
        .collect();
    assert_eq!(
        text,
        [
            "mov ip, r0",
            "ldr r0, [ip, #0x10]",
            "msr apsr_nzcvqg, r0",
            "ldm ip, {r0, r1, r2, r3}",
            "smlal r1, r0, r3, r2",
            "stm ip, {r0, r1, r2, r3}",
            "mrs r0, apsr",
            "str r0, [ip, #0x10]",
            "bx lr",
        ]
    );
}

#[test]
fn emulation_block_layout_matches_the_offsets_the_slot_uses() {
    assert_eq!(
        core::mem::offset_of!(EmulationBlock, regs),
        0,
        "ldm/stm r12"
    );
    assert_eq!(
        core::mem::offset_of!(EmulationBlock, apsr),
        16,
        "[r12, #16]"
    );
    assert_eq!(core::mem::size_of::<EmulationBlock>(), 20);
    assert_eq!(EMULATION_SLOT_BYTES, 36);
}

#[test]
fn slot_words_change_only_the_instruction_word() {
    let e = emulation(Insn(0xe0e9_4b9a)).unwrap();
    let words = e.slot_words();
    assert_eq!(words, slot_words(e.word));
    for (i, (w, t)) in words.iter().zip(slot_words(0xe320_f000)).enumerate() {
        let want = if i == EMULATION_SLOT_INSN { e.word } else { t };
        assert_eq!(*w, want, "word {i}");
    }
}

#[test]
fn every_rewritten_conformance_word_names_only_r0_to_r3_for_capstone() {
    let cs = a32_capstone();
    let high = [
        "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "sb", "sl", "fp", "ip", "sp",
        "lr", "pc",
    ];
    let mut checked = 0;
    for case in crate::conformance::cases().filter(crate::conformance::Case::runs) {
        let Some(e) = emulation(Insn(case.word)) else {
            continue;
        };
        let text = capstone_text(&cs, e.word);
        let operands = text.split_once(' ').map_or("", |(_, ops)| ops);
        let named_high = operands
            .split(|c: char| !c.is_ascii_alphanumeric())
            .find(|token| high.contains(token));
        assert_eq!(
            named_high, None,
            "{:#010x} → {:#010x} ({text})",
            case.word, e.word
        );
        checked += 1;
    }
    assert!(checked > 1000, "{checked}");
}

/// A stand-in for the slot on the host: run the rewritten word through the simulator on
/// a frame holding only r0–r3 and the APSR.
fn run_in_fake_slot(e: &Emulation, block: &mut EmulationBlock) {
    let mut f = TrapFrame {
        cpsr: SVC | block.apsr,
        ..TrapFrame::default()
    };
    f.r[..4].copy_from_slice(&block.regs);
    step(Insn(e.word), 0x100, &mut f, &mut Ram::new()).unwrap();
    block.regs.copy_from_slice(&f.r[..4]);
    block.apsr = f.cpsr & APSR_BITS;
}

#[test]
fn emulated_rewrite_matches_simulating_the_original() {
    let mut checked = 0;
    for case in crate::conformance::cases().filter(crate::conformance::Case::runs) {
        let Some(e) = emulation(Insn(case.word)) else {
            continue;
        };
        let layout = crate::conformance::Layout {
            insn: ADDR,
            buffer: RAM,
            mode: SVC,
        };
        for scenario in 0..16 {
            let start = case.frame(&layout, scenario);
            let mut simulated = start;
            step(Insn(case.word), ADDR, &mut simulated, &mut Ram::new()).unwrap();
            let mut block = e.load(&start);
            run_in_fake_slot(&e, &mut block);
            let mut emulated = start;
            e.store(&block, &mut emulated, ADDR);
            assert_eq!(
                emulated, simulated,
                "{:#010x} → {:#010x}",
                case.word, e.word
            );
            checked += 1;
        }
    }
    assert!(checked > 16 * 1000, "{checked}");
}
