//! Unit tests of the decoder: the tables' consistency (no row shadowed, every kind and
//! reason reachable), hand-assembled words, and the analysis helpers.

use super::entry::NR;
use super::*;
use super::{RejectReason as R, SimKind as S};
use crate::insn::Insn;

/// Whether every word of the cube `(mask, value)` matches some cube in `by`.
fn covered(mask: u32, value: u32, by: &[(u32, u32)]) -> bool {
    let Some((&(m, v), rest)) = by.split_first() else {
        return false;
    };
    if (value ^ v) & mask & m != 0 {
        return covered(mask, value, rest);
    }
    let free = m & !mask;
    if free == 0 {
        return true;
    }
    let b = 1 << free.trailing_zeros();
    covered(mask | b, value, by) && covered(mask | b, value | b, by)
}

/// Walks every table, checking each row against its parent and against every row a word
/// must pass before reaching it (earlier rows here and earlier siblings of its ancestors).
fn walk(
    rows: &'static [Entry],
    parent: (u32, u32),
    before: &mut Vec<(u32, u32)>,
    leaves: &mut usize,
) {
    let depth = before.len();
    for e in rows {
        assert_eq!(e.value & !e.mask, 0, "{}: value outside its mask", e.name);
        assert_eq!(
            e.mask & parent.0,
            parent.0,
            "{}: mask does not refine its parent's",
            e.name
        );
        assert_eq!(
            e.value & parent.0,
            parent.1,
            "{}: value disagrees with its parent's",
            e.name
        );
        assert!(
            !covered(e.mask, e.value, before),
            "{}: shadowed by an earlier row",
            e.name
        );
        assert_eq!(
            e.should_be_zero & e.should_be_one,
            0,
            "{}: (0) and (1) overlap",
            e.name
        );
        assert_eq!(
            (e.should_be_zero | e.should_be_one) & e.mask,
            0,
            "{}: should-be bits inside the mask",
            e.name
        );
        match e.action {
            Action::Table(sub) => {
                assert!(
                    e.regs == [NR; 4]
                        && e.checks.is_empty()
                        && e.should_be_zero | e.should_be_one == 0
                );
                walk(sub, (e.mask, e.value), before, leaves);
            }
            Action::Reject(_) => {
                assert!(
                    e.regs == [NR; 4] && e.checks.is_empty(),
                    "{}: rules on a rejection",
                    e.name
                );
                *leaves += 1;
            }
            Action::Simulate(_) => {
                for (rule, lsb) in e.regs.iter().zip(REG_FIELDS) {
                    let nibble = 0xf << lsb;
                    if *rule != RegRule::NotRegister {
                        assert_eq!(
                            e.mask & nibble,
                            0,
                            "{}: register field at {lsb} is fixed",
                            e.name
                        );
                    }
                }
                *leaves += 1;
            }
        }
        before.push((e.mask, e.value));
    }
    before.truncate(depth);
}

/// Every row, tables included, in walk order.
fn all_rows(rows: &'static [Entry], out: &mut Vec<&'static Entry>) {
    for e in rows {
        out.push(e);
        if let Action::Table(sub) = e.action {
            all_rows(sub, out);
        }
    }
}

#[test]
fn bit_patterns_give_the_hand_checked_masks() {
    // (row, mask, value) as the hex constants the tables held before they were written as
    // ARM ARM bit patterns; rows built by the helpers (hint, parallel, extend, reverse,
    // stm/ldm, barrier) included.
    let expected: &[(&str, u32, u32)] = &[
        ("unconditional instructions", 0xf000_0000, 0xf000_0000),
        ("media instructions", 0x0e00_0010, 0x0600_0010),
        ("MOVT", 0x0ff0_0000, 0x0340_0000),
        (
            "TST/TEQ/CMP/CMN (register-shifted register)",
            0x0f90_0090,
            0x0110_0010,
        ),
        ("YIELD", 0x0fff_00ff, 0x0320_0001),
        ("DBG", 0x0fff_00f0, 0x0320_00f0),
        ("MRS", 0x0ff0_02f0, 0x0100_0000),
        ("SMULW<y>", 0x0ff0_00b0, 0x0120_00a0),
        ("UMULL/UMLAL/SMULL/SMLAL", 0x0f80_00f0, 0x0080_0090),
        ("LDRSBT/LDRSHT", 0x0f30_00d0, 0x0030_00d0),
        ("STRD (immediate)", 0x0e50_00f0, 0x0040_00f0),
        ("STRT/LDRT/STRBT/LDRBT", 0x0d20_0000, 0x0420_0000),
        ("LDRB (register)", 0x0e50_0010, 0x0650_0000),
        ("BFC", 0x0fe0_007f, 0x07c0_001f),
        ("<p>SUB8", 0x0f80_00f0, 0x0600_00f0),
        ("SXTAB16", 0x0ff0_00f0, 0x0680_0070),
        ("UXTH", 0x0fff_00f0, 0x06ff_0070),
        ("REVSH", 0x0ff0_00f0, 0x06f0_00b0),
        ("SMMLS", 0x0ff0_00d0, 0x0750_00d0),
        ("LDM (exception return)", 0x0e50_8000, 0x0850_8000),
        ("STMDB (PUSH)", 0x0fd0_0000, 0x0900_0000),
        ("LDMIB", 0x0fd0_0000, 0x0990_0000),
        (
            "VFP/Advanced SIMD (coprocessor 10, 11)",
            0x0c00_0e00,
            0x0c00_0a00,
        ),
        ("CPS", 0xfff1_0020, 0xf100_0000),
        ("PLDW (literal)", 0xff7f_0000, 0xf51f_0000),
        (
            "unconditional op1 == 11xxx11, op2 == xxx0",
            0xfe30_0010,
            0xf630_0000,
        ),
        ("DMB", 0xfff0_00f0, 0xf570_0050),
    ];
    let mut rows = Vec::new();
    all_rows(A32, &mut rows);
    for &(name, mask, value) in expected {
        let found: Vec<_> = rows.iter().filter(|e| e.name == name).collect();
        assert_eq!(found.len(), 1, "{name}");
        assert_eq!((found[0].mask, found[0].value), (mask, value), "{name}");
    }
}

#[test]
fn tables_are_self_consistent_and_no_row_is_shadowed() {
    let mut leaves = 0;
    walk(A32, (0, 0), &mut Vec::new(), &mut leaves);
    assert!(leaves > 150, "{leaves} leaf rows");
}

#[test]
fn shadow_check_finds_a_covered_row() {
    // 0b1x is covered by 0b10 ∪ 0b11, not by 0b10 alone.
    assert!(covered(0b10, 0b10, &[(0b11, 0b10), (0b11, 0b11)]));
    assert!(!covered(0b10, 0b10, &[(0b11, 0b10)]));
    assert!(!covered(0b10, 0b10, &[(0b10, 0b00)]));
}

fn all_leaves(rows: &'static [Entry], out: &mut Vec<&'static Entry>) {
    for e in rows {
        match e.action {
            Action::Table(sub) => all_leaves(sub, out),
            _ => out.push(e),
        }
    }
}

#[test]
fn every_kind_and_reason_has_a_row() {
    let mut leaves = Vec::new();
    all_leaves(A32, &mut leaves);
    for kind in SimKind::ALL {
        assert!(
            leaves
                .iter()
                .any(|e| matches!(e.action, Action::Simulate(k) if k == kind)),
            "{kind:?} has no row"
        );
    }
    // IT is Thumb only: its row is in the T16 table.
    for reason in RejectReason::ALL.into_iter().filter(|r| !r.is_thumb_only()) {
        assert!(
            leaves
                .iter()
                .any(|e| matches!(e.action, Action::Reject(r) if r == reason)),
            "{reason:?} has no row"
        );
    }
}

use Decoded::{Rejected as Rej, Simulate as Sim};

/// Words assembled by hand from the ARM ARM encoding diagrams, with what they must decode to.
const VECTORS: &[(u32, Decoded)] = &[
    (0xe1a0_f00e, Sim(S::DataProcessingRegister)), // mov pc, lr
    (0xe1a0_0000, Sim(S::DataProcessingRegister)), // mov r0, r0
    (0xe08f_f100, Sim(S::DataProcessingRegister)), // add pc, pc, r0, lsl #2
    (0xe28f_0008, Sim(S::DataProcessingImmediate)), // adr r0, . + 16
    (0xe351_0000, Sim(S::DataProcessingImmediate)), // cmp r1, #0
    (0xe351_1000, Rej(R::Unpredictable)),          // cmp with Rd field != 0
    (0xe081_0312, Sim(S::DataProcessingRegisterShifted)), // add r0, r1, r2, lsl r3
    (0xe081_f312, Rej(R::Unpredictable)),          // ... with Rd = pc
    (0xe25e_f004, Rej(R::ExceptionReturn)),        // subs pc, lr, #4
    (0xe1b0_f00e, Rej(R::ExceptionReturn)),        // movs pc, lr
    (0xe301_0234, Sim(S::MoveWide)),               // movw r0, #0x1234
    (0xe34a_0bcd, Sim(S::MoveTop)),                // movt r0, #0xabcd
    (0xe30f_f000, Rej(R::Unpredictable)),          // movw pc, #0
    (0xe000_0091, Sim(S::Multiply)),               // mul r0, r1, r0
    (0xe020_3291, Sim(S::Multiply)),               // mla r0, r1, r2, r3
    (0xe060_3291, Sim(S::MultiplySubtract)),       // mls r0, r1, r2, r3
    (0xe081_0392, Sim(S::MultiplyLong)),           // umull r0, r1, r2, r3
    (0xe080_0392, Rej(R::Unpredictable)),          // umull r0, r0, ...
    (0xe041_0392, Sim(S::MultiplyAccumulateAccumulateLong)), // umaal r0, r1, r2, r3
    (0xe100_3281, Sim(S::HalfwordMultiply)),       // smlabb r0, r1, r2, r3
    (0xe160_02e1, Sim(S::HalfwordMultiply)),       // smultt r0, r1, r2
    (0xe120_32c1, Sim(S::WordHalfwordMultiply)),   // smlawt r0, r1, r2, r3
    (0xe141_0382, Sim(S::HalfwordMultiplyLong)),   // smlalbb r0, r1, r2, r3
    (0xe700_f211, Sim(S::DualMultiply)),           // smuad r0, r1, r2
    (0xe740_1312, Sim(S::DualMultiplyLong)),       // smlald r1, r0, r2, r3
    (0xe750_f211, Sim(S::MostSignificantMultiply)), // smmul r0, r1, r2
    (0xe710_f211, Sim(S::Divide)),                 // sdiv r0, r1, r2
    (0xe730_f211, Sim(S::Divide)),                 // udiv r0, r1, r2
    (0xe102_0051, Sim(S::SaturatingAddSubtract)),  // qadd r0, r1, r2
    (0xe611_0f12, Sim(S::ParallelAddSubtract)),    // sadd16 r0, r1, r2
    (0xe651_0ff2, Sim(S::ParallelAddSubtract)),    // usub8 r0, r1, r2
    (0xe601_0f12, Rej(R::Undefined)),              // parallel op1 == 00
    (0xe6a7_0011, Sim(S::Saturate)),               // ssat r0, #8, r1
    (0xe6e8_0011, Sim(S::Saturate)),               // usat r0, #8, r1
    (0xe6a7_0f31, Sim(S::Saturate16)),             // ssat16 r0, #8, r1
    (0xe6af_0071, Sim(S::Extend)),                 // sxtb r0, r1
    (0xe6f2_0471, Sim(S::Extend)),                 // uxtah r0, r2, r1, ror #8
    (0xe681_0012, Sim(S::PackHalfword)),           // pkhbt r0, r1, r2
    (0xe681_0fb2, Sim(S::SelectBytes)),            // sel r0, r1, r2
    (0xe6bf_0f31, Sim(S::Reverse)),                // rev r0, r1
    (0xe6ff_0f31, Sim(S::Reverse)),                // rbit r0, r1
    (0xe780_f211, Sim(S::SumAbsoluteDifferences)), // usad8 r0, r1, r2
    (0xe7e7_0051, Sim(S::BitFieldExtract)),        // ubfx r0, r1, #0, #8
    (0xe7e7_0c51, Rej(R::Unpredictable)),          // ubfx r0, r1, #24, #8 is fine ...
    (0xe7df_001f, Sim(S::BitFieldInsert)),         // bfc r0, #0, #32
    (0xe7c0_0411, Rej(R::Unpredictable)),          // bfi with msb < lsb
    (0xe16f_0f11, Sim(S::CountLeadingZeros)),      // clz r0, r1
    (0xe52d_e004, Sim(S::LoadStoreImmediate)),     // str lr, [sp, #-4]!
    (0xe59f_0004, Sim(S::LoadStoreImmediate)),     // ldr r0, [pc, #4]
    (0xe5bf_0004, Rej(R::Unpredictable)),          // ldr r0, [pc, #4]!
    (0xe5b0_0004, Rej(R::Unpredictable)),          // ldr r0, [r0, #4]!
    (0xe791_0102, Sim(S::LoadStoreRegister)),      // ldr r0, [r1, r2, lsl #2]
    (0xe791_010f, Rej(R::Unpredictable)),          // ... with Rm = pc
    (0xe4b0_1004, Rej(R::Unprivileged)),           // ldrt r1, [r0], #4
    (0xe1d0_10b2, Sim(S::LoadStoreHalfImmediate)), // ldrh r1, [r0, #2]
    (0xe191_00f2, Sim(S::LoadStoreHalfRegister)),  // ldrsh r0, [r1, r2]
    (0xe0f0_10b2, Rej(R::Unprivileged)),           // ldrht r1, [r0], #2
    (0xe1c0_20d0, Sim(S::LoadStoreDualImmediate)), // ldrd r2, r3, [r0]
    (0xe1c0_30d0, Rej(R::Unpredictable)),          // ldrd r3, ...: odd Rt
    (0xe1c0_e0d0, Rej(R::Unpredictable)),          // ldrd lr, ...: Rt2 = pc
    (0xe180_20f1, Sim(S::LoadStoreDualRegister)),  // strd r2, r3, [r0, r1]
    (0xe180_20d2, Rej(R::Unpredictable)),          // ldrd r2, r3, [r0, r2]
    (0xe92d_4010, Sim(S::LoadStoreMultiple)),      // push {r4, lr}
    (0xe8bd_8010, Sim(S::LoadStoreMultiple)),      // pop {r4, pc}
    (0xe8bd_2010, Rej(R::Unpredictable)),          // pop {r4, sp}
    (0xe8bd_0000, Rej(R::Unpredictable)),          // pop {}
    (0xe92d_2001, Rej(R::Unpredictable)),          // stmdb sp!, {r0, sp}
    (0xe92d_6000, Sim(S::LoadStoreMultiple)),      // stmdb sp!, {sp, lr}
    (0xe8fd_8000, Rej(R::ExceptionReturn)),        // ldm sp!, {pc}^
    (0xe8dd_2000, Rej(R::UserRegisters)),          // ldm sp, {sp}^
    (0xea00_0000, Sim(S::Branch)),                 // b . + 8
    (0xeb00_0000, Sim(S::Branch)),                 // bl . + 8
    (0xfa00_0000, Sim(S::BranchLinkExchangeImmediate)), // blx . + 8
    (0xe12f_ff1e, Sim(S::BranchExchange)),         // bx lr
    (0xe12f_ff3c, Sim(S::BranchLinkExchangeRegister)), // blx ip
    (0xe12f_ff3f, Rej(R::Unpredictable)),          // blx pc
    (0xe12f_ff2e, Rej(R::Jazelle)),                // bxj lr
    (0xe10f_0000, Sim(S::ReadStatus)),             // mrs r0, apsr
    (0xe14f_0000, Rej(R::BankedRegister)),         // mrs r0, spsr
    (0xe100_0200, Rej(R::BankedRegister)),         // mrs r0, r8_usr
    (0xe129_f000, Rej(R::StatusWrite)),            // msr cpsr_fc, r0
    (0xe321_f0d3, Rej(R::StatusWrite)),            // msr cpsr_c, #0xd3
    (0xe320_f000, Sim(S::Hint)),                   // nop
    (0xe320_f003, Sim(S::Hint)),                   // wfi
    (0xe320_f004, Sim(S::Hint)),                   // sev
    (0xe320_f0f0, Rej(R::ReservedHint)),           // dbg #0
    (0xe320_f014, Rej(R::ReservedHint)),           // csdb
    (0xe320_0000, Rej(R::Unpredictable)),          // nop with (1) bits clear
    (0xf57f_f05f, Sim(S::Barrier)),                // dmb sy
    (0xf57f_f04f, Sim(S::Barrier)),                // dsb sy
    (0xf57f_f06f, Sim(S::Barrier)),                // isb sy
    (0xf57f_f01f, Rej(R::Exclusive)),              // clrex
    (0xf5d0_f000, Sim(S::Preload)),                // pld [r0]
    (0xf590_f000, Sim(S::Preload)),                // pldw [r0]
    (0xf4d0_f000, Sim(S::Preload)),                // pli [r0]
    (0xf7d0_f001, Sim(S::Preload)),                // pld [r0, r1]
    (0xe190_0f9f, Rej(R::Exclusive)),              // ldrex r0, [r0]
    (0xe180_0f91, Rej(R::Exclusive)),              // strex r0, r1, [r0]
    (0xe100_3092, Rej(R::Swap)),                   // swp r3, r2, [r0]
    (0xf10c_0080, Rej(R::ProcessorState)),         // cpsid i
    (0xf101_0200, Rej(R::ProcessorState)),         // setend be
    (0xf8bd_0a00, Rej(R::ExceptionReturn)),        // rfeia sp!
    (0xf96d_0513, Rej(R::BankedRegister)),         // srsdb sp!, #19
    (0xe160_006e, Rej(R::ExceptionReturn)),        // eret
    (0xef00_0000, Rej(R::ExceptionGenerating)),    // svc #0
    (0xe120_0070, Rej(R::ExceptionGenerating)),    // bkpt #0
    (0xe160_0070, Rej(R::ExceptionGenerating)),    // smc #0
    (0xe140_0070, Rej(R::ExceptionGenerating)),    // hvc #0
    (0xe7f0_00f0, Rej(R::Undefined)),              // udf #0
    (0x07f0_01f8, Rej(R::Undefined)),              // our breakpoint word
    (0xe050_0090, Rej(R::Undefined)),              // multiply op 0101
    (0xee11_0f10, Rej(R::Coprocessor)),            // mrc p15, 0, r0, c1, c0, 0
    (0xfe00_0000, Rej(R::Coprocessor)),            // cdp2
    (0xed90_0a00, Rej(R::FloatingPointOrSimd)),    // vldr s0, [r0]
    (0xf200_0000, Rej(R::FloatingPointOrSimd)),    // vhadd.s8 d0, d0, d0
    (0xf420_070f, Rej(R::FloatingPointOrSimd)),    // vld1.8 {d0}, [r0]
];

#[test]
fn hand_assembled_words_decode_as_the_arm_arm_says() {
    for &(word, want) in VECTORS {
        if word == 0xe7e7_0c51 {
            // ubfx r0, r1, #24, #8: lsb + width - 1 == 31, allowed; widthm1 9 is not.
            assert_eq!(decode(Insn(word)), Sim(S::BitFieldExtract));
            assert_eq!(decode(Insn(0xe7e8_0c51)), Rej(R::Unpredictable));
            continue;
        }
        assert_eq!(decode(Insn(word)), want, "{word:#010x}");
    }
}

#[test]
fn every_reject_reason_reads_as_a_distinct_sentence() {
    let texts: Vec<String> = RejectReason::ALL.iter().map(|r| r.to_string()).collect();
    for (i, t) in texts.iter().enumerate() {
        assert!(t.len() > 10, "{t}");
        assert!(!texts[..i].contains(t), "{t} repeated");
    }
    // Each reason A32 can give is produced by at least one hand-assembled word.
    for reason in RejectReason::ALL.into_iter().filter(|r| !r.is_thumb_only()) {
        assert!(
            VECTORS.iter().any(|&(_, d)| d == Rej(reason)),
            "{reason:?} untested"
        );
    }
}

#[test]
fn classify_names_the_row_and_falls_through_to_undefined() {
    let c = classify(Insn(0xe92d_4010));
    assert_eq!(c.entry.map(|e| e.name), Some("STMDB (PUSH)"));
    let none = classify(Insn(0xe070_0090)); // multiply op 0111: no row
    assert!(none.entry.is_none());
    assert_eq!(none.decoded, Rej(R::Undefined));
}

#[test]
fn pc_writers_and_branches_are_recognised() {
    for w in [
        0xe1a0_f00e,
        0xe08f_f100,
        0xe8bd_8010,
        0xe49d_f004,
        0xea00_0000,
        0xfa00_0000,
        0xe12f_ff1e,
        0xe25e_f004,
    ] {
        assert!(writes_pc(Insn(w)), "{w:#010x}");
    }
    for w in [
        0xe1a0_0000,
        0xe351_0000,
        0xe92d_8000,
        0xe58d_f000,
        0xe80d_8000,
        0xef00_0000,
    ] {
        assert!(!writes_pc(Insn(w)), "{w:#010x}");
    }
    assert!(
        S::Branch.is_branch() && S::BranchExchange.is_branch() && !S::LoadStoreMultiple.is_branch()
    );
}

#[test]
fn stack_use_counts_bytes_below_sp() {
    let cases: &[(u32, StackUse)] = &[
        (0xe52d_e004, StackUse::Bytes(4)),  // str lr, [sp, #-4]!
        (0xe50d_0010, StackUse::Bytes(16)), // str r0, [sp, #-16]
        (0xe58d_0010, StackUse::None),      // str r0, [sp, #16]
        (0xe48d_0010, StackUse::None),      // str r0, [sp], #16 (writes at sp)
        (0xe40d_0010, StackUse::None),      // str r0, [sp], #-16 (writes at sp, then moves)
        (0xe54d_0001, StackUse::Bytes(1)),  // strb r0, [sp, #-1]
        (0xe14d_00b2, StackUse::Bytes(2)),  // strh r0, [sp, #-2]
        (0xe14d_00f8, StackUse::Bytes(8)),  // strd r0, r1, [sp, #-8]
        (0xe14d_00d8, StackUse::None),      // ldrd r0, r1, [sp, #-8]
        (0xe78d_0001, StackUse::Unknown),   // str r0, [sp, r1]
        (0xe18d_00b1, StackUse::Unknown),   // strh r0, [sp, r1]
        (0xe92d_4010, StackUse::Bytes(8)),  // push {r4, lr}
        (0xe82d_4010, StackUse::Bytes(4)),  // stmda sp!, {r4, lr}
        (0xe80d_0001, StackUse::None),      // stmda sp, {r0}
        (0xe88d_4010, StackUse::None),      // stmia sp, {r4, lr}
        (0xe51d_0004, StackUse::None),      // ldr r0, [sp, #-4]
        (0xe500_0004, StackUse::None),      // str r0, [r0, #-4]: not SP-based
        (0xe24d_d008, StackUse::None),      // sub sp, sp, #8
        (0xef00_0000, StackUse::Unknown),   // svc: rejected
    ];
    for &(w, want) in cases {
        assert_eq!(stack_use(Insn(w)), want, "{w:#010x}");
    }
}

#[test]
fn thumb_stack_use_counts_what_goes_below_sp() {
    use crate::decode::{T16Kind, T32Kind, stack_use_t16, stack_use_t32};
    let t16 = [
        (T16Kind::Push, 0xb5f0, StackUse::Bytes(20)), // push {r4-r7, lr}
        (T16Kind::Push, 0xb401, StackUse::Bytes(4)),  // push {r0}
        (T16Kind::LoadStoreStack, 0x9001, StackUse::None), // str r0, [sp, #4]
        (T16Kind::StoreMultiple, 0xc00f, StackUse::None), // stmia r0!, {r0-r3}
    ];
    for (kind, hw, expected) in t16 {
        assert_eq!(stack_use_t16(kind, hw), expected, "{hw:#06x}");
    }
    let t32 = [
        (T32Kind::Push, 0xe92d, 0x4ff0, StackUse::Bytes(36)), // push.w {r4-r11, lr}
        (T32Kind::StoreMultiple, 0xe90d, 0x000f, StackUse::Bytes(16)), // stmdb sp, {r0-r3}
        (T32Kind::StoreMultiple, 0xe88d, 0x000f, StackUse::None), // stmia sp, {r0-r3}
        (T32Kind::StoreMultiple, 0xe900, 0x000e, StackUse::None), // stmdb r0, {r1-r3}
        (T32Kind::StoreImmediate, 0xf84d, 0x0d04, StackUse::Bytes(4)), // str r0, [sp, #-4]!
        (T32Kind::StoreImmediate, 0xf84d, 0x0c00, StackUse::None), // str r0, [sp, #-0]
        (T32Kind::StoreImmediate, 0xf84d, 0x0904, StackUse::None), // str r0, [sp], #-4
        (T32Kind::StoreImmediate, 0xf84d, 0x0b04, StackUse::None), // str r0, [sp], #4
        (T32Kind::StoreImmediate, 0xf8cd, 0x0004, StackUse::None), // str.w r0, [sp, #4]
        (T32Kind::StoreImmediate, 0xf840, 0x1d04, StackUse::None), // str r1, [r0, #-4]!
        (T32Kind::StoreRegister, 0xf84d, 0x0001, StackUse::Unknown), // str.w r0, [sp, r1]
        (T32Kind::LoadStoreDual, 0xe94d, 0x0102, StackUse::Bytes(8)), // strd r0, r1, [sp, #-8]
        (T32Kind::LoadStoreDual, 0xe9dd, 0x0102, StackUse::None), // ldrd r0, r1, [sp, #8]
        (T32Kind::LoadImmediate, 0xf85d, 0x0d04, StackUse::None), // ldr r0, [sp, #-4]!
    ];
    for (kind, hw1, hw2, expected) in t32 {
        assert_eq!(
            stack_use_t32(kind, hw1, hw2),
            expected,
            "{hw1:#06x} {hw2:#06x}"
        );
    }
}

#[test]
fn a_t32_instruction_uses_pc_when_it_branches_loads_pc_or_reads_a_literal() {
    use crate::decode::{ItPosition, T32Decoded, decode_t32, uses_pc_t32};
    let cases = [
        (0xeb01, 0x0002, false), // add.w r0, r1, r2
        (0xf241, 0x2034, false), // movw r0, #0x1234
        (0xe92d, 0x4ff0, false), // push.w {r4-r11, lr}
        (0xe8bd, 0x0ff0, false), // pop.w {r4-r11}
        (0xe8bd, 0x8ff0, true),  // pop.w {r4-r11, pc}
        (0xe890, 0x000e, false), // ldm.w r0, {r1-r3}
        (0xe890, 0x800e, true),  // ldm.w r0, {r1-r3, pc}
        (0xf8d1, 0x0004, false), // ldr.w r0, [r1, #4]
        (0xf8d1, 0xf004, true),  // ldr.w pc, [r1, #4]
        (0xf85d, 0xfb04, true),  // ldr.w pc, [sp], #4 (pop.w {pc}, T3)
        (0xf851, 0x0002, false), // ldr.w r0, [r1, r2]
        (0xf8df, 0x0004, true),  // ldr.w r0, [pc, #4]
        (0xe9df, 0x0102, true),  // ldrd r0, r1, [pc, #8]
        (0xe9d1, 0x0102, false), // ldrd r0, r1, [r1, #8]
        (0xf20f, 0x0004, true),  // adr.w r0, #4 (addw r0, pc, #4)
        (0xf000, 0xb800, true),  // b.w
        (0xf000, 0x8000, true),  // beq.w
        (0xf000, 0xf800, true),  // bl
        (0xf000, 0xe800, true),  // blx
        (0xe8d0, 0xf001, true),  // tbb [r0, r1]
        (0xf891, 0xf004, false), // pld [r1, #4]
        (0xf89f, 0xf004, true),  // pld [pc, #4]
        (0xf3ef, 0x8000, false), // mrs r0, apsr
        (0xfb90, 0xf0f1, false), // sdiv r0, r0, r1
    ];
    for (hw1, hw2, want) in cases {
        let T32Decoded::Simulate(kind) = decode_t32(hw1, hw2, ItPosition::Outside) else {
            panic!("{hw1:#06x} {hw2:#06x} is not simulated");
        };
        assert_eq!(
            uses_pc_t32(kind, hw1, hw2),
            want,
            "{hw1:#06x} {hw2:#06x} ({kind:?})"
        );
    }
}
