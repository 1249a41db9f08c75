//! Unit tests of the T16 decoder: the tables' consistency (no row shadowed, every row reached
//! by some halfword), hand-assembled halfwords per class, the 32-bit prefixes and the IT rules.

use super::super::pattern::pattern16;
use super::*;
use super::{RejectReason as R, T16Kind as K};
use ItPosition::{Inside, Last, Outside};
use T16Decoded::{FirstHalfOfT32 as Wide, Rejected as Rej, Simulate as Sim};

/// Every leaf row, in walk order.
fn all_leaves(rows: &'static [T16Entry], out: &mut Vec<&'static T16Entry>) {
    for e in rows {
        match e.action {
            T16Action::Table(sub) => all_leaves(sub, out),
            _ => out.push(e),
        }
    }
}

/// Checks every row against its parent: the pattern refines the parent's, the should-be bits
/// lie outside the pattern, and sub-table rows carry no rules.
fn walk(rows: &'static [T16Entry], parent: (u16, u16)) {
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
        match e.action {
            T16Action::Table(sub) => {
                assert!(
                    e.checks.is_empty() && e.should_be_zero | e.should_be_one == 0,
                    "{}: rules on a sub-table row",
                    e.name
                );
                walk(sub, (e.mask, e.value));
            }
            T16Action::FirstHalfOfT32 => {
                assert!(e.checks.is_empty() && e.should_be_zero | e.should_be_one == 0);
            }
            T16Action::Reject(_) | T16Action::Simulate(_) => {}
        }
    }
}

#[test]
fn tables_refine_their_parents() {
    walk(T16, (0, 0));
}

#[test]
fn every_row_decides_some_halfword() {
    // Exhaustive, so "reachable" is a count, not a proof about cubes: each leaf is the row of
    // at least one halfword, outside an IT block (where the fewest rules apply).
    let mut leaves = Vec::new();
    all_leaves(T16, &mut leaves);
    let mut hits = vec![0u32; leaves.len()];
    let mut undefined = 0u32;
    for hw in 0..=u16::MAX {
        match classify_t16(hw, Outside).entry {
            Some(e) => {
                let i = leaves
                    .iter()
                    .position(|l| core::ptr::eq(*l, e))
                    .expect("a leaf");
                hits[i] += 1;
            }
            None => undefined += 1,
        }
    }
    for (leaf, n) in leaves.iter().zip(&hits) {
        assert!(*n > 0, "{}: no halfword reaches this row", leaf.name);
    }
    // Only the unallocated miscellaneous space has no row: 1011 0110 00xx xxxx,
    // 1011 0110 1xxx xxxx, 1011 0111 xxxx xxxx, 1011 1000 xxxx xxxx, 1011 1010 10xx xxxx.
    assert_eq!(undefined, 64 + 128 + 256 + 256 + 64);
}

#[test]
fn every_kind_and_thumb_reason_is_produced() {
    // ALL lists each kind once, in declaration order: the index below is the discriminant.
    for (i, k) in T16Kind::ALL.iter().enumerate() {
        assert_eq!(*k as usize, i, "{k:?}");
    }
    let mut kinds = [false; T16Kind::ALL.len()];
    let mut reasons = [false; RejectReason::ALL.len()];
    for hw in 0..=u16::MAX {
        for it in ItPosition::ALL {
            match decode_t16(hw, it) {
                Sim(k) => kinds[k as usize] = true,
                Rej(r) => reasons[r as usize] = true,
                Wide => {}
            }
        }
    }
    for (k, seen) in T16Kind::ALL.iter().zip(kinds) {
        assert!(seen, "{k:?} never decoded");
    }
    // The A32-only causes (exclusives, coprocessors, banked registers, …) have no T16 form.
    let expected = [
        R::Undefined,
        R::Unpredictable,
        R::ProcessorState,
        R::ExceptionGenerating,
        R::ReservedHint,
        R::IfThen,
    ];
    for (r, seen) in RejectReason::ALL.iter().zip(reasons) {
        assert_eq!(seen, expected.contains(r), "{r:?}");
    }
}

#[test]
fn first_halves_of_32_bit_instructions_are_reported_as_such() {
    for hw in 0..=u16::MAX {
        let prefix = matches!(hw >> 11, 0b11101..=0b11111);
        for it in ItPosition::ALL {
            assert_eq!(decode_t16(hw, it) == Wide, prefix, "{hw:#06x} {it:?}");
        }
    }
    // The first halves of BL, LDR.W and a T32 data-processing instruction.
    assert_eq!(decode_t16(0xf000, Outside), Wide);
    assert_eq!(decode_t16(0xf8d0, Inside), Wide);
    assert_eq!(decode_t16(0xea4f, Last), Wide);
    // The unconditional branch just below the prefixes is a 16-bit instruction.
    assert_eq!(decode_t16(0xe7fe, Outside), Sim(K::Branch));
}

/// Halfwords assembled by hand from the ARM ARM encoding diagrams, outside an IT block.
const VECTORS: &[(u16, T16Decoded)] = &[
    (0x0008, Sim(K::ShiftImmediate)),             // movs r0, r1
    (0x0088, Sim(K::ShiftImmediate)),             // lsls r0, r1, #2
    (0x0fc8, Sim(K::ShiftImmediate)),             // lsrs r0, r1, #31
    (0x1048, Sim(K::ShiftImmediate)),             // asrs r0, r1, #1
    (0x1888, Sim(K::AddSubtractRegister)),        // adds r0, r1, r2
    (0x1a88, Sim(K::AddSubtractRegister)),        // subs r0, r1, r2
    (0x1c48, Sim(K::AddSubtractImmediate)),       // adds r0, r1, #1
    (0x1e48, Sim(K::AddSubtractImmediate)),       // subs r0, r1, #1
    (0x3001, Sim(K::AddSubtractImmediate)),       // adds r0, #1
    (0x38ff, Sim(K::AddSubtractImmediate)),       // subs r0, #255
    (0x2000, Sim(K::MoveImmediate)),              // movs r0, #0
    (0x2a10, Sim(K::CompareImmediate)),           // cmp r2, #16
    (0x4008, Sim(K::DataProcessingRegister)),     // ands r0, r1
    (0x4248, Sim(K::DataProcessingRegister)),     // negs r0, r1 (rsbs r0, r1, #0)
    (0x4288, Sim(K::DataProcessingRegister)),     // cmp r0, r1
    (0x43c8, Sim(K::DataProcessingRegister)),     // mvns r0, r1
    (0x4088, Sim(K::ShiftRegister)),              // lsls r0, r1
    (0x41c8, Sim(K::ShiftRegister)),              // rors r0, r1
    (0x4348, Sim(K::Multiply)),                   // muls r0, r1, r0
    (0x4408, Sim(K::AddHighRegisters)),           // add r0, r1
    (0x44ef, Sim(K::AddHighRegisters)),           // add pc, sp (ADD SP plus register T1)
    (0x4485, Sim(K::AddHighRegisters)),           // add sp, r0 (ADD SP plus register T2)
    (0x4487, Sim(K::AddHighRegisters)),           // add pc, r0
    (0x44ff, Rej(R::Unpredictable)),              // add pc, pc
    (0x4588, Sim(K::CompareHighRegisters)),       // cmp r8, r1
    (0x4540, Sim(K::CompareHighRegisters)),       // cmp r0, r8
    (0x4508, Rej(R::Unpredictable)),              // cmp r0, r1 in the high form
    (0x4578, Rej(R::Unpredictable)),              // cmp r0, pc
    (0x4687, Sim(K::MoveHighRegisters)),          // mov pc, r0
    (0x46c0, Sim(K::MoveHighRegisters)),          // mov r8, r8 (the old Thumb NOP)
    (0x4608, Sim(K::MoveHighRegisters)),          // mov r0, r1 (both low: allowed in ARMv7)
    (0x4770, Sim(K::BranchExchange)),             // bx lr
    (0x4778, Sim(K::BranchExchange)),             // bx pc
    (0x4771, Rej(R::Unpredictable)),              // bx lr with a (0) bit set
    (0x4798, Sim(K::BranchLinkExchangeRegister)), // blx r3
    (0x47f8, Rej(R::Unpredictable)),              // blx pc
    (0x4801, Sim(K::LoadLiteral)),                // ldr r0, [pc, #4]
    (0x5088, Sim(K::LoadStoreRegister)),          // str r0, [r1, r2]
    (0x5e88, Sim(K::LoadStoreRegister)),          // ldrsh r0, [r1, r2]
    (0x6048, Sim(K::LoadStoreImmediate)),         // str r0, [r1, #4]
    (0x7848, Sim(K::LoadStoreImmediate)),         // ldrb r0, [r1, #1]
    (0x8848, Sim(K::LoadStoreImmediate)),         // ldrh r0, [r1, #2]
    (0x9001, Sim(K::LoadStoreStack)),             // str r0, [sp, #4]
    (0x9801, Sim(K::LoadStoreStack)),             // ldr r0, [sp, #4]
    (0xa001, Sim(K::GeneratePcRelativeAddress)),  // adr r0, . + 8 (Align(PC, 4) + 4)
    (0xa801, Sim(K::GenerateSpRelativeAddress)),  // add r0, sp, #4
    (0xb082, Sim(K::AdjustStackPointer)),         // sub sp, #8
    (0xb002, Sim(K::AdjustStackPointer)),         // add sp, #8
    (0xb108, Sim(K::CompareAndBranch)),           // cbz r0, . + 6
    (0xb908, Sim(K::CompareAndBranch)),           // cbnz r0, . + 6
    (0xb208, Sim(K::Extend)),                     // sxth r0, r1
    (0xb2c8, Sim(K::Extend)),                     // uxtb r0, r1
    (0xba08, Sim(K::Reverse)),                    // rev r0, r1
    (0xbac8, Sim(K::Reverse)),                    // revsh r0, r1
    (0xba88, Rej(R::Undefined)),                  // rev space op 10 (HLT from ARMv8)
    (0xb510, Sim(K::Push)),                       // push {r4, lr}
    (0xbd10, Sim(K::Pop)),                        // pop {r4, pc}
    (0xb400, Rej(R::Unpredictable)),              // push {}
    (0xbc00, Rej(R::Unpredictable)),              // pop {}
    (0xc003, Sim(K::StoreMultiple)),              // stm r0!, {r0, r1}: base lowest
    (0xc106, Sim(K::StoreMultiple)),              // stm r1!, {r1, r2}: base lowest
    (0xc206, Rej(R::Unpredictable)),              // stm r2!, {r1, r2}: base not lowest
    (0xc00e, Sim(K::StoreMultiple)),              // stm r0!, {r1, r2, r3}
    (0xc000, Rej(R::Unpredictable)),              // stm r0!, {}
    (0xc80e, Sim(K::LoadMultiple)),               // ldm r0!, {r1, r2, r3}
    (0xc803, Sim(K::LoadMultiple)),               // ldm r0, {r0, r1}: no writeback
    (0xbf00, Sim(K::Hint)),                       // nop
    (0xbf10, Sim(K::Hint)),                       // yield
    (0xbf20, Sim(K::Hint)),                       // wfe
    (0xbf30, Sim(K::Hint)),                       // wfi
    (0xbf40, Sim(K::Hint)),                       // sev
    (0xbf50, Rej(R::ReservedHint)),               // unallocated hint
    (0xbf08, Rej(R::IfThen)),                     // it eq
    (0xbf18, Rej(R::IfThen)),                     // it ne
    (0xbfe8, Rej(R::IfThen)),                     // it al
    (0xbfec, Rej(R::Unpredictable)),              // ite al: no Else for always
    (0xbff8, Rej(R::Unpredictable)),              // it with firstcond 1111
    (0xb662, Rej(R::ProcessorState)),             // cpsie i
    (0xb672, Rej(R::ProcessorState)),             // cpsid i
    (0xb67a, Rej(R::Unpredictable)),              // cpsid i with the (0) bit set
    (0xb658, Rej(R::ProcessorState)),             // setend be
    (0xb648, Rej(R::Unpredictable)),              // setend be with the (1) bit clear
    (0xb600, Rej(R::Undefined)),                  // unallocated miscellaneous
    (0xbe00, Rej(R::ExceptionGenerating)),        // bkpt #0
    (0xdf00, Rej(R::ExceptionGenerating)),        // svc #0
    (0xde18, Rej(R::Undefined)),                  // udf #24 (Linux's Thumb breakpoint)
    (0xd0fe, Sim(K::ConditionalBranch)),          // beq .
    (0xe7fe, Sim(K::Branch)),                     // b .
];

#[test]
fn hand_assembled_halfwords_decode_as_the_arm_arm_says() {
    for &(hw, want) in VECTORS {
        assert_eq!(decode_t16(hw, Outside), want, "{hw:#06x}");
    }
}

#[test]
fn it_block_rules_follow_the_arm_arm() {
    // (halfword, outside, inside and not last, last)
    let cases: &[(u16, [T16Decoded; 3])] = &[
        // cbz: never in an IT block.
        (
            0xb108,
            [
                Sim(K::CompareAndBranch),
                Rej(R::Unpredictable),
                Rej(R::Unpredictable),
            ],
        ),
        // b<c>: never in an IT block (the block gives the condition).
        (
            0xd0fe,
            [
                Sim(K::ConditionalBranch),
                Rej(R::Unpredictable),
                Rej(R::Unpredictable),
            ],
        ),
        // movs r0, r1 (MOV T2): never in an IT block.
        (
            0x0008,
            [
                Sim(K::ShiftImmediate),
                Rej(R::Unpredictable),
                Rej(R::Unpredictable),
            ],
        ),
        // lsls r0, r1, #2: anywhere (lsl without s inside a block).
        (0x0088, [Sim(K::ShiftImmediate); 3]),
        // bx lr, blx r3, b: only outside or last.
        (
            0x4770,
            [
                Sim(K::BranchExchange),
                Rej(R::Unpredictable),
                Sim(K::BranchExchange),
            ],
        ),
        (
            0x4798,
            [
                Sim(K::BranchLinkExchangeRegister),
                Rej(R::Unpredictable),
                Sim(K::BranchLinkExchangeRegister),
            ],
        ),
        (
            0xe7fe,
            [Sim(K::Branch), Rej(R::Unpredictable), Sim(K::Branch)],
        ),
        // mov pc, r0 and add pc, r0: a PC write only outside or last; other registers anywhere.
        (
            0x4687,
            [
                Sim(K::MoveHighRegisters),
                Rej(R::Unpredictable),
                Sim(K::MoveHighRegisters),
            ],
        ),
        (0x4608, [Sim(K::MoveHighRegisters); 3]),
        (
            0x4487,
            [
                Sim(K::AddHighRegisters),
                Rej(R::Unpredictable),
                Sim(K::AddHighRegisters),
            ],
        ),
        (0x4408, [Sim(K::AddHighRegisters); 3]),
        // pop {r4, pc} only outside or last; pop {r4} anywhere.
        (0xbd10, [Sim(K::Pop), Rej(R::Unpredictable), Sim(K::Pop)]),
        (0xbc10, [Sim(K::Pop); 3]),
        // it eq inside a block; cpsid i inside a block.
        (
            0xbf08,
            [Rej(R::IfThen), Rej(R::Unpredictable), Rej(R::Unpredictable)],
        ),
        (
            0xb672,
            [
                Rej(R::ProcessorState),
                Rej(R::Unpredictable),
                Rej(R::Unpredictable),
            ],
        ),
        // Hints, loads, bkpt, svc, udf: the position changes nothing.
        (0xbf30, [Sim(K::Hint); 3]),
        (0x6048, [Sim(K::LoadStoreImmediate); 3]),
        (0xbe00, [Rej(R::ExceptionGenerating); 3]),
        (0xdf00, [Rej(R::ExceptionGenerating); 3]),
        (0xde18, [Rej(R::Undefined); 3]),
    ];
    for &(hw, want) in cases {
        for (it, want) in ItPosition::ALL.into_iter().zip(want) {
            assert_eq!(decode_t16(hw, it), want, "{hw:#06x} {it:?}");
        }
    }
}

#[test]
fn a_position_inside_an_it_block_only_ever_takes_a_verdict_away() {
    // The IT rules only make halfwords UNPREDICTABLE; they never change a class or reason.
    for hw in 0..=u16::MAX {
        let outside = decode_t16(hw, Outside);
        for it in [Inside, Last] {
            let here = decode_t16(hw, it);
            assert!(
                here == outside || here == Rej(R::Unpredictable),
                "{hw:#06x} {it:?}"
            );
        }
        if let Rej(R::Unpredictable) = decode_t16(hw, Last) {
            assert_eq!(decode_t16(hw, Inside), Rej(R::Unpredictable), "{hw:#06x}");
        }
    }
}

#[test]
fn classify_names_the_row_and_falls_through_to_undefined() {
    let c = classify_t16(0xb510, Outside);
    assert_eq!(c.entry.map(|e| e.name), Some("PUSH"));
    let none = classify_t16(0xb800, Outside);
    assert!(none.entry.is_none());
    assert_eq!(none.decoded, Rej(R::Undefined));
    assert_eq!(
        classify_t16(0xf000, Outside).entry.map(|e| e.name),
        Some("32-bit instruction, first halfword 0b11110")
    );
}

#[test]
fn rows_carry_the_hand_checked_masks() {
    let mut leaves = Vec::new();
    all_leaves(T16, &mut leaves);
    let expected: &[(&str, &str)] = &[
        ("BX", "0100 0111 0xxx xxxx"),
        ("CBZ/CBNZ", "1011 x0x1 xxxx xxxx"),
        ("MOV (register) T2 (MOVS Rd, Rm)", "0000 0000 00xx xxxx"),
        ("UDF", "1101 1110 xxxx xxxx"),
    ];
    for &(name, p) in expected {
        let e = leaves.iter().find(|e| e.name == name).expect(name);
        assert_eq!((e.mask, e.value), pattern16(p), "{name}");
    }
    let bx = leaves.iter().find(|e| e.name == "BX").unwrap();
    assert_eq!((bx.mask, bx.value), (0xff80, 0x4700));
}
