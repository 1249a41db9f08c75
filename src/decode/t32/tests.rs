//! Unit tests of the T32 decoder: the tables' consistency (each row refines its parent, every
//! row decides some instruction and keeps its own verdict for some), hand-assembled words per
//! class (cross-checked with capstone), the `BadReg` rules and the IT rules.

use super::*;
use super::{RejectReason as R, T32Kind as K};
use ItPosition::{Inside, Last, Outside};
use T32Decoded::{Rejected as Rej, Simulate as Sim};

/// Every leaf row, in walk order.
fn all_leaves(rows: &'static [T32Entry], out: &mut Vec<&'static T32Entry>) {
    for e in rows {
        match e.action {
            T32Action::Table(sub) => all_leaves(sub, out),
            _ => out.push(e),
        }
    }
}

/// Checks every row against its parent: the pattern refines the parent's, the should-be bits
/// lie outside the pattern, and sub-table rows carry no rules.
fn walk(rows: &'static [T32Entry], parent: (u32, u32)) {
    for e in rows {
        assert_eq!(e.value & !e.mask, 0, "{}: value outside its mask", e.name);
        assert_eq!(
            e.mask & parent.0,
            parent.0,
            "{}: mask wider than its parent's",
            e.name
        );
        assert_eq!(
            e.value & parent.0,
            parent.1,
            "{}: value disagrees with its parent's",
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
            "{}: should-be bits inside the pattern",
            e.name
        );
        if let T32Action::Table(sub) = e.action {
            assert!(
                e.checks.is_empty() && e.should_be_zero | e.should_be_one == 0,
                "{}: rules on a sub-table row",
                e.name
            );
            walk(sub, (e.mask, e.value));
        }
    }
}

#[test]
fn tables_refine_their_parents() {
    walk(T32, (0, 0));
}

/// xorshift64*: a fixed, reproducible stream for the row search.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

fn classify_word(word: u32, it: ItPosition) -> T32Classification {
    classify_t32((word >> 16) as u16, word as u16, it)
}

#[test]
fn every_row_decides_some_word_with_its_own_verdict() {
    // 2^32 words are too many to walk here, so each leaf is reached from its own pattern: its
    // fixed bits, random free bits with the should-be bits as they should be. Reached means
    // the leaf is the row that decides the word (no earlier row shadows it everywhere); its
    // own verdict means some such word also passes the leaf's rules in some IT position.
    let mut leaves = Vec::new();
    all_leaves(T32, &mut leaves);
    let mut state = 0x5eed_7432_0000_0019u64;
    let mut kinds = [false; T32Kind::ALL.len()];
    for leaf in &leaves {
        let own = match leaf.action {
            T32Action::Reject(r) => Rej(r),
            T32Action::Simulate(k) => Sim(k),
            T32Action::Table(_) => unreachable!("leaves only"),
        };
        let mut reached = false;
        let mut kept_verdict = false;
        for _ in 0..20_000 {
            let free = next(&mut state) as u32 & !leaf.mask & !leaf.should_be_zero;
            let word = leaf.value | free | leaf.should_be_one;
            for it in ItPosition::ALL {
                let c = classify_word(word, it);
                if c.entry.is_some_and(|e| core::ptr::eq(e, *leaf)) {
                    reached = true;
                    kept_verdict |= c.decoded == own;
                }
            }
            if kept_verdict {
                break;
            }
        }
        assert!(reached, "{}: no word reaches this row", leaf.name);
        assert!(
            kept_verdict,
            "{}: its rules fail for every word tried",
            leaf.name
        );
        if let Sim(k) = own {
            kinds[k as usize] = true;
        }
    }
    for (i, k) in T32Kind::ALL.iter().enumerate() {
        assert_eq!(*k as usize, i, "{k:?}: ALL is in declaration order");
        assert!(kinds[i], "{k:?}: no row simulates it");
    }
}

#[test]
fn every_t32_reason_has_a_row() {
    // The A32-only causes (SWP, LDM/STM with `^`) and T16's IT have no T32 form; UNPREDICTABLE
    // comes from the rules (and one row).
    let mut leaves = Vec::new();
    all_leaves(T32, &mut leaves);
    for reason in RejectReason::ALL {
        let has_row = leaves
            .iter()
            .any(|l| matches!(l.action, T32Action::Reject(r) if r == reason));
        let expected = !matches!(reason, R::Swap | R::UserRegisters | R::IfThen);
        assert_eq!(has_row, expected, "{reason:?}");
    }
}

#[test]
fn a_first_halfword_without_a_32_bit_prefix_is_undefined_here() {
    // 0x4770 is BX LR and 0xe7fe a T16 B: not T32 first halfwords.
    for hw1 in [0x0000, 0x4770, 0xbf00, 0xe7fe] {
        let c = classify_t32(hw1, 0x0000, Outside);
        assert!(c.entry.is_none());
        assert_eq!(c.decoded, Rej(R::Undefined));
    }
}

#[test]
fn random_pairs_never_panic_and_always_decide() {
    let mut state = 19u64;
    for _ in 0..200_000 {
        let r = next(&mut state);
        for it in ItPosition::ALL {
            let c = classify_t32((r >> 16) as u16, r as u16, it);
            assert_eq!(
                c.entry.is_none(),
                c.decoded == Rej(R::Undefined) && c.entry.is_none()
            );
        }
    }
}

/// Hand-assembled words (from the ARM ARM encodings), what capstone prints for them (its
/// mnemonic, `.w` included) and our verdict outside an IT block.
#[rustfmt::skip]
const HAND_WORDS: &[(u16, u16, &str, T32Decoded)] = &[
    // Data-processing (modified immediate).
    (0xf04f, 0x0001, "mov.w", Sim(K::DataProcessingModifiedImmediate)),   // mov.w r0, #1
    (0xf011, 0x0f01, "tst.w", Sim(K::DataProcessingModifiedImmediate)),   // tst.w r1, #1
    (0xf101, 0x0004, "add.w", Sim(K::DataProcessingModifiedImmediate)),   // add.w r0, r1, #4
    (0xf1ad, 0x0d08, "sub.w", Sim(K::DataProcessingModifiedImmediate)),   // sub.w sp, sp, #8
    // Plain binary immediate.
    (0xf201, 0x0004, "addw", Sim(K::AddSubtractWideImmediate)),           // addw r0, r1, #4
    (0xf20f, 0x0004, "addw", Sim(K::GeneratePcRelativeAddress)),          // adr.w r0, #4 (capstone: addw r0, pc, #4)
    (0xf241, 0x2034, "movw", Sim(K::MoveWideImmediate)),                  // movw r0, #0x1234
    (0xf2c0, 0x0000, "movt", Sim(K::MoveWideImmediate)),                  // movt r0, #0
    (0xf301, 0x0007, "ssat", Sim(K::Saturate)),                           // ssat r0, #8, r1
    (0xf341, 0x0007, "sbfx", Sim(K::BitfieldExtract)),                    // sbfx r0, r1, #0, #8
    (0xf361, 0x0007, "bfi", Sim(K::BitfieldInsert)),                      // bfi r0, r1, #0, #8
    (0xf36f, 0x0007, "bfc", Sim(K::BitfieldInsert)),                      // bfc r0, #0, #8
    (0xf3c1, 0x0007, "ubfx", Sim(K::BitfieldExtract)),                    // ubfx r0, r1, #0, #8
    // Shifted register.
    (0xea41, 0x0002, "orr.w", Sim(K::DataProcessingShiftedRegister)),     // orr.w r0, r1, r2
    (0xea4f, 0x0001, "mov.w", Sim(K::DataProcessingShiftedRegister)),     // mov.w r0, r1
    (0xea4f, 0x0041, "lsl.w", Sim(K::DataProcessingShiftedRegister)),     // lsl.w r0, r1, #1
    (0xeb01, 0x0002, "add.w", Sim(K::DataProcessingShiftedRegister)),     // add.w r0, r1, r2
    (0xebb1, 0x0f02, "cmp.w", Sim(K::DataProcessingShiftedRegister)),     // cmp.w r1, r2
    (0xeb0d, 0x0d81, "add.w", Sim(K::DataProcessingShiftedRegister)),     // add.w sp, sp, r1, lsl #2
    (0xeac1, 0x0002, "pkhbt", Sim(K::PackHalfword)),                      // pkhbt r0, r1, r2
    // Register.
    (0xfa01, 0xf002, "lsl.w", Sim(K::ShiftRegister)),                     // lsl.w r0, r1, r2
    (0xfa0f, 0xf081, "sxth.w", Sim(K::Extend)),                           // sxth.w r0, r1
    (0xfa91, 0xf002, "sadd16", Sim(K::ParallelAddSubtract)),              // sadd16 r0, r1, r2
    (0xfa81, 0xf082, "qadd", Sim(K::SaturatingAddSubtract)),              // qadd r0, r2, r1
    (0xfa91, 0xf081, "rev.w", Sim(K::Reverse)),                           // rev.w r0, r1
    (0xfaa1, 0xf082, "sel", Sim(K::SelectBytes)),                         // sel r0, r1, r2
    (0xfab1, 0xf081, "clz", Sim(K::CountLeadingZeros)),                   // clz r0, r1
    // Multiplies and divide.
    (0xfb01, 0xf002, "mul", Sim(K::Multiply)),                            // mul r0, r1, r2
    (0xfb01, 0x3002, "mla", Sim(K::Multiply)),                            // mla r0, r1, r2, r3
    (0xfb01, 0x3012, "mls", Sim(K::Multiply)),                            // mls r0, r1, r2, r3
    (0xfb11, 0xf002, "smulbb", Sim(K::SignedMultiply)),                   // smulbb r0, r1, r2
    (0xfb71, 0xf002, "usad8", Sim(K::SumOfAbsoluteDifferences)),          // usad8 r0, r1, r2
    (0xfb81, 0x0102, "smull", Sim(K::LongMultiply)),                      // smull r0, r1, r1, r2
    (0xfb91, 0xf0f2, "sdiv", Sim(K::Divide)),                             // sdiv r0, r1, r2
    // Branches and miscellaneous control.
    (0xf000, 0xb800, "b.w", Sim(K::Branch)),                              // b.w .+4
    (0xf000, 0x8000, "beq.w", Sim(K::ConditionalBranch)),                 // beq.w .+4
    (0xf000, 0xf800, "bl", Sim(K::BranchWithLink)),                       // bl .+4
    (0xf000, 0xe800, "blx", Sim(K::BranchWithLinkExchange)),              // blx .+4
    (0xf3ef, 0x8000, "mrs", Sim(K::MoveFromStatus)),                      // mrs r0, apsr
    (0xf3af, 0x8000, "nop.w", Sim(K::Hint)),                              // nop.w
    (0xf3af, 0x8003, "wfi.w", Sim(K::Hint)),                              // wfi.w
    (0xf3bf, 0x8f5b, "dmb", Sim(K::Barrier)),                             // dmb ish
    (0xf3bf, 0x8f4f, "dsb", Sim(K::Barrier)),                             // dsb sy
    (0xf3bf, 0x8f6f, "isb", Sim(K::Barrier)),                             // isb sy
    // Load/store multiple, dual, table branch.
    (0xe92d, 0x4ff0, "push.w", Sim(K::Push)),                             // push.w {r4-r11, lr}
    (0xe8bd, 0x8ff0, "pop.w", Sim(K::Pop)),                               // pop.w {r4-r11, pc}
    (0xe891, 0x000c, "ldm.w", Sim(K::LoadMultiple)),                      // ldm.w r1, {r2, r3}
    (0xe881, 0x000c, "stm.w", Sim(K::StoreMultiple)),                     // stm.w r1, {r2, r3}
    (0xe911, 0x000c, "ldmdb", Sim(K::LoadMultiple)),                      // ldmdb r1, {r2, r3}
    (0xe901, 0x000c, "stmdb", Sim(K::StoreMultiple)),                     // stmdb r1, {r2, r3}
    (0xe9d2, 0x0100, "ldrd", Sim(K::LoadStoreDual)),                      // ldrd r0, r1, [r2]
    (0xe9c2, 0x0100, "strd", Sim(K::LoadStoreDual)),                      // strd r0, r1, [r2]
    (0xe9df, 0x0100, "ldrd", Sim(K::LoadDualLiteral)),                    // ldrd r0, r1, [pc]
    (0xe8d0, 0xf001, "tbb", Sim(K::TableBranch)),                         // tbb [r0, r1]
    (0xe8d0, 0xf011, "tbh", Sim(K::TableBranch)),                         // tbh [r0, r1, lsl #1]
    // Single loads and stores, preloads.
    (0xf8d1, 0x0004, "ldr.w", Sim(K::LoadImmediate)),                     // ldr.w r0, [r1, #4]
    (0xf851, 0x0c04, "ldr", Sim(K::LoadImmediate)),                       // ldr r0, [r1, #-4]
    (0xf851, 0x0b04, "ldr", Sim(K::LoadImmediate)),                       // ldr r0, [r1], #4
    (0xf8df, 0x0004, "ldr.w", Sim(K::LoadLiteral)),                       // ldr.w r0, [pc, #4]
    (0xf851, 0x0022, "ldr.w", Sim(K::LoadRegister)),                      // ldr.w r0, [r1, r2, lsl #2]
    (0xf891, 0x0004, "ldrb.w", Sim(K::LoadImmediate)),                    // ldrb.w r0, [r1, #4]
    (0xf991, 0x0004, "ldrsb.w", Sim(K::LoadImmediate)),                   // ldrsb.w r0, [r1, #4]
    (0xf8b1, 0x0004, "ldrh.w", Sim(K::LoadImmediate)),                    // ldrh.w r0, [r1, #4]
    (0xf9b1, 0x0004, "ldrsh.w", Sim(K::LoadImmediate)),                   // ldrsh.w r0, [r1, #4]
    (0xf8c1, 0x0004, "str.w", Sim(K::StoreImmediate)),                    // str.w r0, [r1, #4]
    (0xf881, 0x0004, "strb.w", Sim(K::StoreImmediate)),                   // strb.w r0, [r1, #4]
    (0xf8a1, 0x0004, "strh.w", Sim(K::StoreImmediate)),                   // strh.w r0, [r1, #4]
    (0xf841, 0x0002, "str.w", Sim(K::StoreRegister)),                     // str.w r0, [r1, r2]
    (0xf891, 0xf004, "pld", Sim(K::PreloadData)),                         // pld [r1, #4]
    (0xf8b1, 0xf004, "pldw", Sim(K::PreloadData)),                        // pldw [r1, #4]
    (0xf991, 0xf004, "pli", Sim(K::PreloadInstruction)),                  // pli [r1, #4]
    // Rejected with a reason.
    (0xe851, 0x0f00, "ldrex", Rej(R::Exclusive)),                         // ldrex r0, [r1]
    (0xf3bf, 0x8f2f, "clrex", Rej(R::Exclusive)),                         // clrex
    (0xf3de, 0x8f00, "eret", Rej(R::ExceptionReturn)),                    // subs pc, lr, #0 (ERET)
    (0xf3af, 0x8640, "cpsid.w", Rej(R::ProcessorState)),                  // cpsid.w i
    (0xf381, 0x8800, "msr", Rej(R::StatusWrite)),                         // msr apsr_nzcvq, r1
    (0xf851, 0x0e04, "ldrt", Rej(R::Unprivileged)),                       // ldrt r0, [r1, #4]
    (0xf7f0, 0xa000, "udf.w", Rej(R::Undefined)),                         // udf.w #0
    (0xf7f0, 0x8000, "smc", Rej(R::ExceptionGenerating)),                 // smc #0
    (0xee01, 0x0f10, "mcr", Rej(R::Coprocessor)),                         // mcr p15, #0, r0, c1, c0, #0
    (0xee00, 0x0a10, "vmov", Rej(R::FloatingPointOrSimd)),                // vmov s0, r0
    (0xf3af, 0x80f0, "dbg", Rej(R::ReservedHint)),                        // dbg #0
];

#[test]
fn hand_assembled_words_decode_to_their_class() {
    for &(hw1, hw2, asm, expected) in HAND_WORDS {
        assert_eq!(
            decode_t32(hw1, hw2, Outside),
            expected,
            "{hw1:04x} {hw2:04x} ({asm})"
        );
    }
}

#[cfg(not(loom))]
#[test]
fn hand_assembled_words_are_what_capstone_reads() {
    use capstone::arch::BuildsCapstone;
    let cs = capstone::Capstone::new()
        .arm()
        .mode(capstone::arch::arm::ArchMode::Thumb)
        .build()
        .expect("capstone builds for Thumb");
    let mut wrong = Vec::new();
    for &(hw1, hw2, asm, _) in HAND_WORDS {
        let mut bytes = [0u8; 4];
        bytes[..2].copy_from_slice(&hw1.to_le_bytes());
        bytes[2..].copy_from_slice(&hw2.to_le_bytes());
        let insns = cs.disasm_count(&bytes, 0x1000, 1).expect("disassembles");
        let insn = insns.iter().next();
        let theirs = insn.map(|i| (i.len(), i.mnemonic().unwrap_or("").to_string()));
        if theirs != Some((4, asm.to_string())) {
            wrong.push(format!(
                "{hw1:04x} {hw2:04x} ({asm}): {:?}",
                insn.map(|i| i.to_string())
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn sp_and_pc_operands_are_unpredictable_where_bad_reg_forbids_them() {
    let unpredictable: &[(u16, u16, &str)] = &[
        (0xf04f, 0x0d01, "mov.w sp, #1: BadReg(d)"),
        (0xf04f, 0x0f01, "mov.w pc, #1: BadReg(d)"),
        (0xf10d, 0x0f04, "add.w pc, sp, #4 without S: d == 15"),
        (
            0xf101,
            0x0d04,
            "add.w sp, r1, #4: d == 13 from a register other than SP",
        ),
        (0xf10f, 0x0004, "add.w r0, pc, #4 (T3): n == 15"),
        (0xea4f, 0x0d0d, "mov.w sp, sp: d == 13 && m == 13"),
        (0xea5f, 0x0d01, "movs.w sp, r1: BadReg(d) with S"),
        (
            0xeb0d,
            0x1d01,
            "add.w sp, sp, r1, lsl #4: the shift is at most LSL #3",
        ),
        (0xeb01, 0x000d, "add.w r0, r1, sp: BadReg(m)"),
        (0xfb01, 0xfd02, "mul sp, r1, r2: BadReg(d)"),
        (0xfb0f, 0xf002, "mul r0, pc, r2: BadReg(n)"),
        (0xfb01, 0xd002, "mla r0, r1, r2, sp: a == 13"),
        (0xfb81, 0x0002, "smull r0, r0, r1, r2: RdHi == RdLo"),
        (
            0xfa92,
            0xf081,
            "rev.w r0 with Rn (r2) != Rm (r1): !Consistent(m)",
        ),
        (0xfa0d, 0xf002, "lsl.w r0, sp, r2: BadReg(n)"),
        (0xe9d2, 0x0000, "ldrd r0, r0, [r2]: t == t2"),
        (0xe9f2, 0x2300, "ldrd r2, r3, [r2, #0]!: writeback to Rt"),
        (0xe9c2, 0xd100, "strd sp, r1, [r2]: BadReg(t)"),
        (0xe8d0, 0xf00d, "tbb [r0, sp]: BadReg(m)"),
        (0xe8dd, 0xf001, "tbb [sp, r1]: n == 13"),
        (0xe8bd, 0x0010, "pop.w {r4}: fewer than two registers"),
        (0xe8bd, 0xc000, "pop.w {lr, pc}: PC and LR"),
        (
            0xe8b1,
            0x0006,
            "ldm.w r1!, {r1, r2}: writeback base in the list",
        ),
        (0xe89f, 0x000c, "ldm.w pc, {r2, r3}: n == 15"),
        (0xe92d, 0x2010, "push.w {r4, sp}: bit 13 is (0)"),
        (0xf84d, 0xfd04, "str pc, [sp, #-4]!: t == 15"),
        (0xf881, 0xd004, "strb.w sp, [r1, #4]: BadReg(t)"),
        (0xf851, 0x1b04, "ldr r1, [r1], #4: writeback to Rt"),
        (0xf851, 0x002d, "ldr.w r0, [r1, sp]: BadReg(m)"),
        (0xf89f, 0xd004, "ldrb.w sp, [pc, #4]: t == 13"),
        (0xf341, 0x70c1, "sbfx r0, r1, #31, #2: lsb + width > 32"),
        (0xf361, 0x0040, "bfi r0, r1, #1, #0: msb < lsb"),
        (
            0xf000,
            0x1000,
            "and.w r0, r0, #0 from imm12 0x100: ThumbExpandImm UNPREDICTABLE",
        ),
    ];
    for &(hw1, hw2, why) in unpredictable {
        assert_eq!(
            decode_t32(hw1, hw2, Outside),
            Rej(R::Unpredictable),
            "{hw1:04x} {hw2:04x}: {why}"
        );
    }
    // The A32-legal forms the T32 rules still allow.
    assert_eq!(
        decode_t32(0xea4f, 0x0d01, Outside),
        Sim(K::DataProcessingShiftedRegister),
        "mov.w sp, r1"
    );
    assert_eq!(
        decode_t32(0xf8cd, 0xd004, Outside),
        Sim(K::StoreImmediate),
        "str.w sp, [sp, #4]"
    );
    assert_eq!(
        decode_t32(0xf10d, 0x0004, Outside),
        Sim(K::DataProcessingModifiedImmediate),
        "add.w r0, sp, #4"
    );
    assert_eq!(
        decode_t32(0xf8d1, 0xf004, Outside),
        Sim(K::LoadImmediate),
        "ldr.w pc, [r1, #4]"
    );
}

#[test]
fn branches_and_pc_loads_follow_the_it_rules() {
    // (word, outside, inside and not last, last)
    let cases: &[(u16, u16, &str, T32Decoded, T32Decoded, T32Decoded)] = &[
        (
            0xf000,
            0x8000,
            "beq.w",
            Sim(K::ConditionalBranch),
            Rej(R::Unpredictable),
            Rej(R::Unpredictable),
        ),
        (
            0xf000,
            0xb800,
            "b.w",
            Sim(K::Branch),
            Rej(R::Unpredictable),
            Sim(K::Branch),
        ),
        (
            0xf000,
            0xf800,
            "bl",
            Sim(K::BranchWithLink),
            Rej(R::Unpredictable),
            Sim(K::BranchWithLink),
        ),
        (
            0xf000,
            0xe800,
            "blx",
            Sim(K::BranchWithLinkExchange),
            Rej(R::Unpredictable),
            Sim(K::BranchWithLinkExchange),
        ),
        (
            0xe8d0,
            0xf001,
            "tbb",
            Sim(K::TableBranch),
            Rej(R::Unpredictable),
            Sim(K::TableBranch),
        ),
        (
            0xe8bd,
            0x8ff0,
            "pop.w with pc",
            Sim(K::Pop),
            Rej(R::Unpredictable),
            Sim(K::Pop),
        ),
        (
            0xe8bd,
            0x4ff0,
            "pop.w without pc",
            Sim(K::Pop),
            Sim(K::Pop),
            Sim(K::Pop),
        ),
        (
            0xe891,
            0x8004,
            "ldm.w with pc",
            Sim(K::LoadMultiple),
            Rej(R::Unpredictable),
            Sim(K::LoadMultiple),
        ),
        (
            0xf8d1,
            0xf004,
            "ldr.w pc",
            Sim(K::LoadImmediate),
            Rej(R::Unpredictable),
            Sim(K::LoadImmediate),
        ),
        (
            0xf85d,
            0xfb04,
            "ldr pc, [sp], #4",
            Sim(K::LoadImmediate),
            Rej(R::Unpredictable),
            Sim(K::LoadImmediate),
        ),
        (
            0xf8df,
            0xf004,
            "ldr.w pc, [pc, #4]",
            Sim(K::LoadLiteral),
            Rej(R::Unpredictable),
            Sim(K::LoadLiteral),
        ),
        (
            0xf851,
            0xf022,
            "ldr.w pc, [r1, r2, lsl #2]",
            Sim(K::LoadRegister),
            Rej(R::Unpredictable),
            Sim(K::LoadRegister),
        ),
        (
            0xeb01,
            0x0002,
            "add.w (no PC)",
            Sim(K::DataProcessingShiftedRegister),
            Sim(K::DataProcessingShiftedRegister),
            Sim(K::DataProcessingShiftedRegister),
        ),
    ];
    for &(hw1, hw2, asm, outside, inside, last) in cases {
        assert_eq!(decode_t32(hw1, hw2, Outside), outside, "{asm} outside");
        assert_eq!(decode_t32(hw1, hw2, Inside), inside, "{asm} inside");
        assert_eq!(decode_t32(hw1, hw2, Last), last, "{asm} last");
    }
}
