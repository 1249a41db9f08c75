//! Proves the words `armv7_kprobes::insn` writes into kernel text (immediate branches, the A32
//! breakpoint, the two Thumb breakpoints and the 32-bit Thumb branch) against an independent
//! disassembler, capstone, so the encoder is not only checked against our own reading of the
//! ARM ARM.
//!
//! Capstone facts these tests rely on (capstone 5.0 as bundled by capstone-sys 0.18, checked
//! by the tests below, never worked around by loosening a comparison):
//! - A branch's immediate operand is the absolute target. Capstone computes it as
//!   `(uint32_t)address + 8 + offset` in C, so it wraps modulo 2^32 just as the PC does; the
//!   detail operand is an `i32`, which is negative for targets at or above 0x8000_0000 and is
//!   compared here after an `as u32` reinterpretation.
//! - The condition suffixes for 0x2/0x3 are spelled `hs`/`lo`, not `cs`/`cc`.
//! - BLX(imm) carries cond 0xF in its word, and capstone reports its condition as `AL`.
//! - The text operand is `#<decimal>` below 10 and `#0x<hex>` from 10 on.
//! - Undecodable words are not an error: `disasm_all` returns `Ok` with no instruction.
//! - In Thumb mode the 32-bit branches are `ARM_INS_B` spelled `b.w` (T4) and `b<c>.w` (T3,
//!   with the suffixes above), and their immediate is the absolute target from address + 4,
//!   wrapping the same way.

use armv7_kprobes::insn::{
    Branch, BranchError, BranchKind, BreakpointWord, Cond, Insn, ThumbBranch, ThumbBranchKind,
    ThumbBreakpoint,
};
use capstone::Capstone;
use capstone::arch::arm::{ArchMode, ArmCC, ArmInsn, ArmOperandType};
use capstone::arch::{ArchOperand, BuildsCapstone};
use proptest::prelude::*;

/// What capstone made of one word.
#[derive(Debug, PartialEq)]
struct Seen {
    id: u32,
    mnemonic: String,
    cc: ArmCC,
    /// Every immediate operand, in order, reinterpreted as `u32`.
    imms: Vec<u32>,
    op_str: String,
}

/// Disassembles `word` at `at` in A32 mode; `None` when capstone decodes no instruction.
fn capstone_reads(word: u32, at: u32) -> Option<Seen> {
    let cs = Capstone::new()
        .arm()
        .mode(ArchMode::Arm)
        .detail(true)
        .build()
        .expect("capstone builds for A32");
    let insns = cs
        .disasm_all(&word.to_le_bytes(), u64::from(at))
        .expect("capstone reports undecodable words as an empty list, not an error");
    let insn = insns.iter().next()?;
    assert_eq!(insns.len(), 1, "one word is one instruction");
    assert_eq!(insn.address(), u64::from(at));
    let detail = cs.insn_detail(insn).expect("detail is enabled");
    let arch = detail.arch_detail();
    let arm = arch.arm().expect("ARM detail for an ARM capstone");
    let imms = arch
        .operands()
        .into_iter()
        .filter_map(|op| match op {
            ArchOperand::ArmOperand(op) => match op.op_type {
                ArmOperandType::Imm(imm) => Some(imm as u32),
                _ => None,
            },
            // capstone is built for ARM only (Cargo.toml): no other operand kind.
            #[allow(unreachable_patterns)]
            _ => None,
        })
        .collect();
    Some(Seen {
        id: insn.id().0,
        mnemonic: insn.mnemonic().unwrap_or_default().to_owned(),
        cc: arm.cc(),
        imms,
        op_str: insn.op_str().unwrap_or_default().to_owned(),
    })
}

/// Capstone's spelling of each condition suffix, in encoding order (0xF has none).
const SUFFIX: [&str; 16] = [
    "eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "", "",
];

/// Capstone's condition for each encoding (BLX(imm)'s 0xF is reported as `AL`).
const CAPSTONE_CC: [ArmCC; 16] = [
    ArmCC::ARM_CC_EQ,
    ArmCC::ARM_CC_NE,
    ArmCC::ARM_CC_HS,
    ArmCC::ARM_CC_LO,
    ArmCC::ARM_CC_MI,
    ArmCC::ARM_CC_PL,
    ArmCC::ARM_CC_VS,
    ArmCC::ARM_CC_VC,
    ArmCC::ARM_CC_HI,
    ArmCC::ARM_CC_LS,
    ArmCC::ARM_CC_GE,
    ArmCC::ARM_CC_LT,
    ArmCC::ARM_CC_GT,
    ArmCC::ARM_CC_LE,
    ArmCC::ARM_CC_AL,
    ArmCC::ARM_CC_AL,
];

/// The conditions a B or BL can carry.
fn branch_conds() -> impl Iterator<Item = Cond> {
    Cond::ALL.into_iter().filter(|c| *c != Cond::Unconditional)
}

/// Parses capstone's `#4` / `#0x1004` operand text.
fn parse_op_str(op_str: &str) -> u32 {
    let digits = op_str
        .strip_prefix('#')
        .expect("immediate operand text starts with #");
    match digits.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).expect("hex operand"),
        None => digits.parse().expect("decimal operand"),
    }
}

/// Asserts that capstone reads `word` at `at` as exactly `branch`: instruction, mnemonic,
/// condition and absolute target (from the operand detail and from the text).
fn assert_capstone_agrees(word: Insn, at: u32, branch: Branch) {
    let seen = capstone_reads(word.word(), at)
        .unwrap_or_else(|| panic!("capstone cannot decode {:#010x} at {at:#010x}", word.word()));
    let (id, base) = match branch.kind() {
        BranchKind::B => (ArmInsn::ARM_INS_B, "b"),
        BranchKind::Bl => (ArmInsn::ARM_INS_BL, "bl"),
        BranchKind::BlxImm => (ArmInsn::ARM_INS_BLX, "blx"),
    };
    let cond = branch.cond().bits() as usize;
    let context = format!("{:#010x} at {at:#010x}: {seen:?}", word.word());
    assert_eq!(seen.id, id as u32, "{context}");
    assert_eq!(
        seen.mnemonic,
        format!("{base}{}", SUFFIX[cond]),
        "{context}"
    );
    assert_eq!(seen.cc, CAPSTONE_CC[cond], "{context}");
    assert_eq!(seen.imms, vec![branch.target()], "{context}");
    assert_eq!(parse_op_str(&seen.op_str), branch.target(), "{context}");
}

/// Encodes `branch` at `from` and proves everything we claim about the result: reach and
/// encoder give the same answer, and an encoded word is what capstone reads and what our own
/// decoder gives back.
fn check_branch(branch: Branch, from: u32) -> Result<Insn, BranchError> {
    let encoded = branch.encode(from);
    let reach = branch.kind().reach(from, branch.target());
    match (encoded, reach) {
        (Ok(word), Ok(offset)) => {
            assert_eq!(
                from.wrapping_add(8).wrapping_add(offset as u32),
                branch.target()
            );
            assert_capstone_agrees(word, from, branch);
            assert_eq!(Branch::decode(word, from), Some(branch));
        }
        (Err(e), Err(r)) => assert_eq!(e, r, "encoder and reach give the same error"),
        (e, r) => panic!("encoder {e:?} and reach {r:?} disagree for {branch:?} at {from:#x}"),
    }
    encoded
}

fn b_or_bl(link: bool, cond: Cond, target: u32) -> Branch {
    if link {
        Branch::Bl { cond, target }
    } else {
        Branch::B { cond, target }
    }
}

/// Sources spread over the address space, including both sides of the wrap-around.
const SOURCES: [u32; 7] = [
    0x0000_0000,
    0x0000_0ffc,
    0x4000_8000,
    0x7fff_fffc,
    0x8000_0000,
    0xffff_f000,
    0xffff_fffc,
];

#[test]
fn b_and_bl_with_every_condition_reach_exactly_their_boundary_offsets() {
    let min = BranchKind::MIN_OFFSET;
    let max = BranchKind::B.max_offset();
    assert_eq!((min, max), (-0x0200_0000, 0x01ff_fffc));
    let in_range = [min, min + 4, -4, 0, 4, max - 4, max];
    let out_of_range = [min - 4, max + 4, i32::MIN, i32::MAX - 3];
    for from in SOURCES {
        for cond in branch_conds() {
            for link in [false, true] {
                for offset in in_range {
                    let to = from.wrapping_add(8).wrapping_add(offset as u32);
                    let branch = b_or_bl(link, cond, to);
                    assert!(
                        check_branch(branch, from).is_ok(),
                        "{branch:?} at {from:#x}"
                    );
                }
                for offset in out_of_range {
                    let to = from.wrapping_add(8).wrapping_add(offset as u32);
                    assert_eq!(
                        check_branch(b_or_bl(link, cond, to), from),
                        Err(BranchError::OutOfRange { offset })
                    );
                }
            }
        }
    }
}

#[test]
fn blx_imm_reaches_its_boundary_offsets_with_halfword_granularity() {
    let min = BranchKind::MIN_OFFSET;
    let max = BranchKind::BlxImm.max_offset();
    assert_eq!(max, 0x01ff_fffe);
    let in_range = [min, min + 2, -4, -2, 0, 2, 4, 6, max - 2, max];
    for from in SOURCES {
        for offset in in_range {
            let target = from.wrapping_add(8).wrapping_add(offset as u32);
            let word = check_branch(Branch::BlxImm { target }, from).expect("in range");
            assert_eq!(word.cond(), Cond::Unconditional);
            assert_eq!(word.word() >> 24 & 1, (offset as u32) >> 1 & 1, "H bit");
        }
        for offset in [min - 2, min - 4, max + 2, max + 4] {
            let target = from.wrapping_add(8).wrapping_add(offset as u32);
            assert_eq!(
                check_branch(Branch::BlxImm { target }, from),
                Err(BranchError::OutOfRange { offset })
            );
        }
    }
}

#[test]
fn branches_wrap_around_the_top_of_the_address_space_like_the_pc() {
    // Forward across 2^32: 0xffff_fff0 + 8 + 0x18 = 0x1_0000_0010.
    let up = check_branch(
        Branch::B {
            cond: Cond::Al,
            target: 0x0000_0010,
        },
        0xffff_fff0,
    );
    assert_eq!(up, Ok(Insn(0xea00_0006)));
    // Backward across 0: 0x10 + 8 - 0x28 = -0x10.
    let down = check_branch(
        Branch::Bl {
            cond: Cond::Ne,
            target: 0xffff_fff0,
        },
        0x0000_0010,
    );
    assert_eq!(down, Ok(Insn(0x1bff_fff6)));
    // The PC itself wraps: a branch at 0xffff_fffc sees PC = 0x0000_0004.
    let self_pc = check_branch(
        Branch::B {
            cond: Cond::Eq,
            target: 0x0000_0004,
        },
        0xffff_fffc,
    );
    assert_eq!(self_pc, Ok(Insn(0x0a00_0000)));
}

#[test]
fn replacing_branch_keeps_a_conditional_original_condition() {
    // `mov r0, r0` under every condition 0x0..0xD.
    for cond in branch_conds().filter(|c| *c != Cond::Al) {
        let original = Insn(0xe1a0_0000).with_cond(cond);
        let word = Branch::replacing(original, 0x8000, 0x9000).expect("in range");
        assert_capstone_agrees(
            word,
            0x8000,
            Branch::B {
                cond,
                target: 0x9000,
            },
        );
    }
}

#[test]
fn replacing_branch_is_always_for_al_and_unconditional_originals_never_blx() {
    // `mov r0, r0` (cond 0xE) and `pld [r0]` (cond 0xF).
    for original in [Insn(0xe1a0_0000), Insn(0xf5d0_f000)] {
        let word = Branch::replacing(original, 0x8000, 0x9000).expect("in range");
        assert_eq!(word.cond(), Cond::Al);
        assert_capstone_agrees(
            word,
            0x8000,
            Branch::B {
                cond: Cond::Al,
                target: 0x9000,
            },
        );
    }
}

#[test]
fn replacing_branch_reports_the_same_errors_as_reach() {
    let original = Insn(0x1a00_0000);
    for (from, to) in [(0x8001, 0x9000), (0x8000, 0x9002), (0, 0x0300_0000)] {
        assert_eq!(
            Branch::replacing(original, from, to).err(),
            BranchKind::B.reach(from, to).err()
        );
    }
}

#[test]
fn misaligned_source_is_refused_for_every_kind() {
    for from in [1, 2, 3, 0x8002, 0xffff_ffff] {
        for branch in [
            Branch::B {
                cond: Cond::Al,
                target: 0x8000,
            },
            Branch::Bl {
                cond: Cond::Eq,
                target: 0x8000,
            },
            Branch::BlxImm { target: 0x8000 },
        ] {
            assert_eq!(
                check_branch(branch, from),
                Err(BranchError::MisalignedSource { from })
            );
        }
    }
}

#[test]
fn misaligned_target_is_refused_by_alignment_of_the_target_code() {
    for to in [0x8001, 0x8002, 0x8003] {
        for branch in [
            Branch::B {
                cond: Cond::Al,
                target: to,
            },
            Branch::Bl {
                cond: Cond::Gt,
                target: to,
            },
        ] {
            assert_eq!(
                check_branch(branch, 0x8000),
                Err(BranchError::MisalignedTarget { to, alignment: 4 })
            );
        }
    }
    // Thumb code sits at halfword addresses: only odd targets are misaligned (the
    // interworking bit 0 is not part of the target address).
    for to in [0x8001, 0x8003, 0xffff_ffff] {
        assert_eq!(
            check_branch(Branch::BlxImm { target: to }, 0x8000),
            Err(BranchError::MisalignedTarget { to, alignment: 2 })
        );
    }
    assert!(check_branch(Branch::BlxImm { target: 0x8002 }, 0x8000).is_ok());
}

#[test]
fn b_and_bl_refuse_the_unconditional_condition_that_would_make_blx() {
    for branch in [
        Branch::B {
            cond: Cond::Unconditional,
            target: 0x9000,
        },
        Branch::Bl {
            cond: Cond::Unconditional,
            target: 0x9000,
        },
    ] {
        assert_eq!(branch.encode(0x8000), Err(BranchError::UnconditionalCond));
    }
}

#[test]
fn every_branch_error_displays_its_cause_and_numbers() {
    let cases = [
        (
            BranchError::OutOfRange {
                offset: 0x0200_0000,
            },
            "+0x2000000",
        ),
        (
            BranchError::OutOfRange {
                offset: -0x0200_0004,
            },
            "-0x2000004",
        ),
        (BranchError::OutOfRange { offset: i32::MIN }, "-0x80000000"),
        (BranchError::MisalignedSource { from: 0x8002 }, "0x00008002"),
        (
            BranchError::MisalignedTarget {
                to: 0x8001,
                alignment: 2,
            },
            "0x00008001 is not 2-byte",
        ),
        (BranchError::UnconditionalCond, "BLX"),
    ];
    for (error, needle) in cases {
        let text = error.to_string();
        assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    }
}

/// Built at compile time: the encoders are `const fn`, so trampoline templates can be too.
const TEMPLATE_BRANCH: Insn = match (Branch::B {
    cond: Cond::Al,
    target: 0x8010,
})
.encode(0x8000)
{
    Ok(word) => word,
    Err(_) => panic!("in range"),
};
const TEMPLATE_BREAKPOINT: Insn = BreakpointWord::for_original(Insn(0x1a00_0000));

#[test]
fn encoder_reach_and_breakpoint_evaluate_at_compile_time() {
    assert_eq!(TEMPLATE_BRANCH, Insn(0xea00_0002));
    assert_eq!(TEMPLATE_BREAKPOINT, Insn(0x17f0_01f8));
    const {
        assert!(BranchKind::Bl.reach(0, 0x0200_0004).is_ok());
        assert!(matches!(
            BranchKind::B.reach(0, 0x0200_0008),
            Err(BranchError::OutOfRange {
                offset: 0x0200_0000
            })
        ));
    }
}

#[test]
fn breakpoint_takes_the_original_condition_and_al_for_al_or_unconditional() {
    for cond in Cond::ALL {
        let original = Insn(0xe1a0_0000).with_cond(cond);
        let bp = BreakpointWord::for_original(original);
        let expect = if cond == Cond::Unconditional {
            Cond::Al
        } else {
            cond
        };
        assert_eq!(bp, Insn(0x07f0_01f8 | expect.bits() << 28));
        assert!(BreakpointWord::is_breakpoint(bp));
    }
}

#[test]
fn is_breakpoint_claims_conditions_0_to_e_and_nothing_else() {
    for cond in 0..=0xe {
        assert!(BreakpointWord::is_breakpoint(Insn(
            0x07f0_01f8 | cond << 28
        )));
    }
    // The 0xF form is in the unconditional space and never written by us.
    assert!(!BreakpointWord::is_breakpoint(Insn(0xf7f0_01f8)));
    // Any other bit pattern in bits 27:0, e.g. `udf #0` (0xe7f000f0) or a one-bit change.
    for bit in 0..28 {
        for cond in 0..=0xf {
            let word = (0x07f0_01f8 ^ (1 << bit)) | cond << 28;
            assert!(!BreakpointWord::is_breakpoint(Insn(word)), "{word:#010x}");
        }
    }
    assert!(!BreakpointWord::is_breakpoint(Insn(0xe7f0_00f0)));
}

/// What capstone actually does with our breakpoint (observed, then pinned here): capstone,
/// built from LLVM's A32 tables, knows `UDF` only with cond 0xE (the ARM ARM's UDF encoding
/// has bits 31:28 fixed at 1110) and decodes `0xe7f001f8` as `udf #0x18` (imm16 =
/// bits 19:8 : bits 3:0 = 0x001:0x8). For conditions 0x0 to 0xD it decodes no instruction at
/// all: the ARMv7 ARM puts those words in the same permanently-undefined space (bits 27:20 =
/// 0x7f, bits 7:4 = 0xf, any cond but 0xF) but names no instruction there, so "not decodable"
/// is capstone's precise answer, asserted condition by condition. The 0xF form belongs to the
/// unconditional space; capstone does not decode it either, and it is not ours.
#[test]
fn capstone_reads_our_breakpoint_as_udf_under_al_and_as_no_instruction_otherwise() {
    for cond in Cond::ALL {
        let word = 0x07f0_01f8 | cond.bits() << 28;
        let seen = capstone_reads(word, 0x8000);
        if cond == Cond::Al {
            assert_eq!(
                seen,
                Some(Seen {
                    id: ArmInsn::ARM_INS_UDF as u32,
                    mnemonic: "udf".to_owned(),
                    cc: ArmCC::ARM_CC_AL,
                    imms: vec![0x18],
                    op_str: "#0x18".to_owned(),
                })
            );
        } else {
            assert_eq!(seen, None, "cond {cond:?}: {word:#010x}");
        }
    }
}

/// A capstone for Thumb mode (ARMv7 Thumb-2), with detail.
fn thumb_capstone() -> Capstone {
    Capstone::new()
        .arm()
        .mode(ArchMode::Thumb)
        .detail(true)
        .build()
        .expect("capstone builds for Thumb")
}

/// What capstone (Thumb mode, ARMv7 Thumb-2) made of each instruction in `bytes` at `at`,
/// with its size in bytes.
fn capstone_reads_thumb(bytes: &[u8], at: u32) -> Vec<(Seen, usize)> {
    capstone_reads_thumb_with(&thumb_capstone(), bytes, at)
}

/// [`capstone_reads_thumb`] with a capstone built once by the caller, for the loops.
fn capstone_reads_thumb_with(cs: &Capstone, bytes: &[u8], at: u32) -> Vec<(Seen, usize)> {
    let insns = cs
        .disasm_all(bytes, u64::from(at))
        .expect("capstone reports undecodable words as an empty list, not an error");
    insns
        .iter()
        .map(|insn| {
            let detail = cs.insn_detail(insn).expect("detail is enabled");
            let arch = detail.arch_detail();
            let arm = arch.arm().expect("ARM detail for an ARM capstone");
            let imms = arch
                .operands()
                .into_iter()
                .filter_map(|op| match op {
                    ArchOperand::ArmOperand(op) => match op.op_type {
                        ArmOperandType::Imm(imm) => Some(imm as u32),
                        _ => None,
                    },
                    // capstone is built for ARM only (Cargo.toml): no other operand kind.
                    #[allow(unreachable_patterns)]
                    _ => None,
                })
                .collect();
            let seen = Seen {
                id: insn.id().0,
                mnemonic: insn.mnemonic().unwrap_or_default().to_owned(),
                cc: arm.cc(),
                imms,
                op_str: insn.op_str().unwrap_or_default().to_owned(),
            };
            (seen, insn.bytes().len())
        })
        .collect()
}

/// Capstone's `udf` with immediate 0x18 and condition `cc`, under `mnemonic`.
fn udf_0x18(mnemonic: &str, cc: ArmCC) -> Seen {
    Seen {
        id: ArmInsn::ARM_INS_UDF as u32,
        mnemonic: mnemonic.to_owned(),
        cc,
        imms: vec![0x18],
        op_str: "#0x18".to_owned(),
    }
}

/// The Thumb breakpoints, fed to capstone as the bytes the crate writes (so the memory order,
/// hw1 first, is checked too): the 16-bit one is a 2-byte `udf #0x18`, the 32-bit one a
/// 4-byte `udf.w #0x18`. Capstone, like for the A32 `udf`, decodes UDF as the instruction
/// `ARM_INS_UDF` rather than refusing it: the permanently undefined encodings have a name.
/// Behind `it eq` capstone still decodes each one (UDF is allowed in an IT block) but reports
/// it as `AL`, unconditional: capstone does not carry the IT condition onto UDF. That is
/// capstone's model, not the architecture's: the ARM ARM's UDF
/// is `if ConditionPassed() then UNDEFINED` with ITSTATE's condition, which is why the hit
/// path tests ITSTATE. Pinned here so a capstone that changes its mind is noticed.
#[test]
fn capstone_reads_the_thumb_breakpoints_as_udf_of_the_originals_size() {
    let narrow = capstone_reads_thumb(&ThumbBreakpoint::NARROW_BYTES, 0x8000);
    assert_eq!(narrow, vec![(udf_0x18("udf", ArmCC::ARM_CC_AL), 2)]);
    let wide = capstone_reads_thumb(&ThumbBreakpoint::WIDE_BYTES, 0x8002);
    assert_eq!(wide, vec![(udf_0x18("udf.w", ArmCC::ARM_CC_AL), 4)]);
    assert_eq!(
        ThumbBreakpoint::WIDE_ALIGNED_WORD.to_le_bytes(),
        ThumbBreakpoint::WIDE_BYTES
    );

    // The words read the other way round are not our breakpoint: hw2 first is a 16-bit
    // `adr r0`, then a lone 32-bit prefix capstone cannot finish.
    let swapped = capstone_reads_thumb(&0xf7f0_a018u32.to_le_bytes(), 0x8000);
    assert_ne!(
        swapped.first().map(|(s, _)| s.id),
        Some(ArmInsn::ARM_INS_UDF as u32)
    );

    // `it eq` (0xbf08) then each breakpoint: decoded, of its size, but reported as `AL`.
    const IT_EQ: [u8; 2] = 0xbf08u16.to_le_bytes();
    for (bp, mnemonic) in [
        (ThumbBreakpoint::Narrow, "udf"),
        (ThumbBreakpoint::Wide, "udf.w"),
    ] {
        let bytes: Vec<u8> = IT_EQ.iter().chain(bp.bytes()).copied().collect();
        let seen = capstone_reads_thumb(&bytes, 0x8000);
        assert_eq!(seen.len(), 2, "{bp:?}: {seen:?}");
        assert_eq!(seen[0].0.mnemonic, "it", "{seen:?}");
        assert_eq!(
            seen[1],
            (udf_0x18(mnemonic, ArmCC::ARM_CC_AL), bp.size() as usize)
        );
    }
}

/// Asserts that capstone (Thumb mode) reads the bytes of `halfwords` at `at` as exactly one
/// 4-byte `b.w` or `b<cond>.w` to `branch`'s absolute target, and that our decoder reads the
/// same halfwords back as `branch`.
fn assert_capstone_agrees_thumb(cs: &Capstone, halfwords: [u16; 2], at: u32, branch: ThumbBranch) {
    let bytes = ThumbBranch::bytes(halfwords);
    let seen = capstone_reads_thumb_with(cs, &bytes, at);
    let context = format!("{halfwords:04x?} at {at:#010x} for {branch:?}: {seen:?}");
    let [(seen, size)] = &seen[..] else {
        panic!("not one instruction: {context}");
    };
    let cond = branch.cond().bits() as usize;
    assert_eq!(*size, 4, "{context}");
    assert_eq!(seen.id, ArmInsn::ARM_INS_B as u32, "{context}");
    assert_eq!(seen.mnemonic, format!("b{}.w", SUFFIX[cond]), "{context}");
    assert_eq!(seen.cc, CAPSTONE_CC[cond], "{context}");
    assert_eq!(seen.imms, vec![branch.target()], "{context}");
    assert_eq!(parse_op_str(&seen.op_str), branch.target(), "{context}");
    assert_eq!(
        ThumbBranch::decode(halfwords[0], halfwords[1], at),
        Some(branch),
        "{context}"
    );
}

/// Thumb sources: both halfword phases of a word, the middle and both sides of the
/// wrap-around.
const THUMB_SOURCES: [u32; 8] = [
    0x0000_0000,
    0x0000_0002,
    0x4000_8000,
    0x4000_8002,
    0x7fff_fffe,
    0x8000_0000,
    0xffff_f002,
    0xffff_fffe,
];

/// Even offsets spread over `min..=max` (a fixed pseudo-random draw), besides the edges.
fn sampled_offsets(min: i32, max: i32, count: usize) -> Vec<i32> {
    let span = (i64::from(max) - i64::from(min)) as u64 / 2 + 1;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            min + 2 * ((state >> 33) % span) as i32
        })
        .collect()
}

/// The 32-bit Thumb branch (issue 19's optimized Thumb probes), proven against capstone:
/// for every condition the condition-preserving constructor takes (AL and 0xF give T4
/// `b.w`, EQ..LE give T3 `b<c>.w`), from every source in [`THUMB_SOURCES`], at both range
/// ends, next to zero and at 24 sampled offsets, capstone reads exactly one 4-byte branch
/// with that condition and the absolute target (wrapping modulo 2^32 like the PC), and our
/// decoder reads it back. One step beyond either end, and far beyond, is
/// `ThumbOutOfRange` from the encoder and from `reach` alike.
#[test]
fn thumb_wide_branches_with_every_condition_match_capstone_and_stop_at_their_range_ends() {
    let cs = thumb_capstone();
    let mut checked = 0;
    for cond in Cond::ALL {
        let kind = ThumbBranch::preserving(cond, 0).kind();
        let (min, max) = (kind.min_offset(), kind.max_offset());
        let mut in_range = vec![min, min + 2, -4, -2, 0, 2, 4, max - 2, max];
        in_range.extend(sampled_offsets(min, max, 24));
        let beyond = [
            min - 2,
            max + 2,
            min - 0x0010_0000,
            max + 0x0010_0000,
            i32::MIN,
        ];
        for from in THUMB_SOURCES {
            for offset in in_range.iter().copied() {
                let to = from.wrapping_add(4).wrapping_add(offset as u32);
                let branch = ThumbBranch::preserving(cond, to);
                assert_eq!(branch.kind().reach(from, to), Ok(offset));
                let words = ThumbBranch::replacing(cond, from, to)
                    .unwrap_or_else(|e| panic!("{branch:?} at {from:#x}: {e}"));
                assert_eq!(branch.encode(from), Ok(words));
                assert_capstone_agrees_thumb(&cs, words, from, branch);
                checked += 1;
            }
            for offset in beyond {
                let to = from.wrapping_add(4).wrapping_add(offset as u32);
                let refused = Err(BranchError::ThumbOutOfRange { offset, kind });
                assert_eq!(ThumbBranch::replacing(cond, from, to), refused);
                assert_eq!(
                    kind.reach(from, to).map(|_| ()),
                    refused.map(|_: [u16; 2]| ())
                );
            }
        }
    }
    // 16 conditions × 8 sources × 33 offsets.
    assert_eq!(checked, 4224);
}

/// T3's own constructor refuses the conditions it cannot carry, and misaligned addresses are
/// refused for both encodings with the errors `reach` gives.
#[test]
fn thumb_wide_branch_errors_match_reach() {
    for cond in [Cond::Al, Cond::Unconditional] {
        assert_eq!(
            ThumbBranch::BCond {
                cond,
                target: 0x9000
            }
            .encode(0x8000),
            Err(BranchError::ThumbCondition { cond })
        );
    }
    for kind in [ThumbBranchKind::B, ThumbBranchKind::BCond] {
        for (from, to) in [(0x8001, 0x9000), (0x8000, 0x9001), (0x8002, 0x8003)] {
            let branch = match kind {
                ThumbBranchKind::B => ThumbBranch::B { target: to },
                ThumbBranchKind::BCond => ThumbBranch::BCond {
                    cond: Cond::Mi,
                    target: to,
                },
            };
            let err = branch.encode(from).expect_err("misaligned");
            assert_eq!(kind.reach(from, to), Err(err));
            assert!(matches!(
                err,
                BranchError::MisalignedThumbSource { .. }
                    | BranchError::MisalignedTarget { alignment: 2, .. }
            ));
        }
    }
}

/// Any `u32`, with a third of the draws close to 0 and a third close to the top, so the
/// wrap-around and both range ends are hit often.
fn address() -> impl Strategy<Value = u32> {
    prop_oneof![any::<u32>(), 0u32..0x0400_0000, 0xfc00_0000u32..=u32::MAX,]
}

fn kind_and_cond() -> impl Strategy<Value = (BranchKind, Cond)> {
    (0usize..3, 0u32..15).prop_map(|(kind, cond)| {
        let kind = [BranchKind::B, BranchKind::Bl, BranchKind::BlxImm][kind];
        let cond = if kind == BranchKind::BlxImm {
            Cond::Unconditional
        } else {
            Cond::from_bits(cond)
        };
        (kind, cond)
    })
}

fn branch_of(kind: BranchKind, cond: Cond, target: u32) -> Branch {
    match kind {
        BranchKind::B => Branch::B { cond, target },
        BranchKind::Bl => Branch::Bl { cond, target },
        BranchKind::BlxImm => Branch::BlxImm { target },
    }
}

proptest! {
    // Each case costs microseconds (capstone included), so cover the 32-bit space densely.
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn any_in_range_branch_encodes_decodes_and_matches_capstone(
        from in address().prop_map(|a| a & !3),
        (kind, cond) in kind_and_cond(),
        raw_offset in BranchKind::MIN_OFFSET..=BranchKind::BlxImm.max_offset(),
    ) {
        let offset = raw_offset & !(kind.target_alignment() as i32 - 1);
        let target = from.wrapping_add(8).wrapping_add(offset as u32);
        let branch = branch_of(kind, cond, target);
        let word = check_branch(branch, from);
        prop_assert!(word.is_ok(), "{:?} at {:#x}: {:?}", branch, from, word);
    }

    #[test]
    fn reach_and_encoder_agree_on_any_source_and_target(
        from in address(),
        to in address(),
        (kind, cond) in kind_and_cond(),
    ) {
        let branch = branch_of(kind, cond, to);
        let expect_ok = from.is_multiple_of(4)
            && to.is_multiple_of(kind.target_alignment())
            && (BranchKind::MIN_OFFSET..=kind.max_offset())
                .contains(&(to.wrapping_sub(from.wrapping_add(8)) as i32));
        prop_assert_eq!(check_branch(branch, from).is_ok(), expect_ok);
    }

    #[test]
    fn any_branch_word_decodes_to_the_target_capstone_reads_and_re_encodes(
        word in any::<u32>().prop_map(|w| (w & !(0b111 << 25)) | (0b101 << 25)),
        at in address().prop_map(|a| a & !3),
    ) {
        let branch = Branch::decode(Insn(word), at).expect("bits 27:25 = 101 is a branch");
        assert_capstone_agrees(Insn(word), at, branch);
        prop_assert_eq!(branch.encode(at), Ok(Insn(word)));
    }

    #[test]
    fn any_thumb_wide_branch_word_decodes_to_the_target_capstone_reads_and_re_encodes(
        hw1 in (0xf000u16..=0xf7ff),
        hw2 in any::<u16>().prop_map(|hw| (hw & !0xc000) | 0x8000),
        at in address().prop_map(|a| a & !1),
    ) {
        // Every T3 and T4 word: hw1 11110xxx…, hw2 10x… (bit 12 picks the encoding).
        let t3_cond = (hw1 >> 6) & 0xf;
        match ThumbBranch::decode(hw1, hw2, at) {
            Some(branch) => {
                assert_capstone_agrees_thumb(&thumb_capstone(), [hw1, hw2], at, branch);
                prop_assert_eq!(branch.encode(at), Ok([hw1, hw2]));
            }
            // Only a T3 with cond 111x is not a branch (those bits are the branches and
            // miscellaneous control space: MSR, MRS, hints, UDF.W, …), and capstone agrees.
            None => {
                prop_assert!(hw2 & 0x1000 == 0 && t3_cond >= 0xe, "{:#06x} {:#06x}", hw1, hw2);
                let seen = capstone_reads_thumb(&ThumbBranch::bytes([hw1, hw2]), at);
                prop_assert_ne!(
                    seen.first().map(|(s, _)| s.id),
                    Some(ArmInsn::ARM_INS_B as u32),
                    "{:#06x} {:#06x}: {:?}", hw1, hw2, seen
                );
            }
        }
    }

    #[test]
    fn non_branch_words_and_misaligned_addresses_do_not_decode(
        word in any::<u32>(),
        at in any::<u32>(),
    ) {
        let decoded = Branch::decode(Insn(word), at);
        let is_branch = (word >> 25) & 0b111 == 0b101 && at.is_multiple_of(4);
        prop_assert_eq!(decoded.is_some(), is_branch);
        if let Some(branch) = decoded {
            prop_assert_eq!(branch.encode(at), Ok(Insn(word)));
        }
    }
}
