//! Tests of the T32 engine: every class with an A32 twin cross-checked against the A32 engine
//! on seeded random frames, the rest (branches, TBB/TBH, ORN, barriers, preloads) checked by
//! hand against the ARM ARM, ITSTATE inside a block, and every error path. The register-only
//! classes, which the engine runs as A32 twins, are tested in `thumb32_register_only`.
//!
//! The twin of an instruction is the A32 word doing the same operation on the same registers,
//! at the address where the A32 PC reads (+8) what the Thumb PC reads (+4, or `Align(PC, 4)`).
//! Where A32 has no encoding for an operand (a Thumb modified immediate no A32 rotation gives,
//! a 12-bit halfword offset, an ADDW immediate), the twin takes it from a scratch register
//! that the test fills, in both frames, with the value the ARM ARM gives: a ThumbExpandImm
//! computed here by hand (rotated forms as `ROR #rot` of `'1':imm7`, whose shifter carry is
//! ThumbExpandImm_C's), the offset, the immediate.

use super::thumb16::{Log, Rng};
use super::thumb32_register_only::REGISTER_ONLY;
use super::*;
use crate::decode::{ItPosition, T32Decoded, T32Kind, decode_t32};
use crate::insn::Cond;
use std::vec::Vec;

/// SVC mode in Thumb state, flags clear, outside any IT block.
pub(super) const THUMB: u32 = SVC | psr::T;
pub(super) const T_ADDR: u32 = 0x2000;

/// What an A32 twin needs: the word (condition field clear), whether the Thumb PC operand is
/// `Align(PC, 4)`, and a scratch register to fill with a value in both frames.
struct Twin {
    word: u32,
    aligned: bool,
    scratch: Option<(usize, u32)>,
}

const fn twin(word: u32) -> Option<Twin> {
    Some(Twin {
        word,
        aligned: false,
        scratch: None,
    })
}

/// `hw1:hw2` bits `lsb + width - 1 : lsb`.
const fn field(w: u32, lsb: u32, width: u32) -> u32 {
    (w >> lsb) & ((1 << width) - 1)
}

/// The lowest of r0–r12 that is none of `used`.
fn scratch_register(used: &[usize]) -> usize {
    (0..13).find(|r| !used.contains(r)).unwrap()
}

/// ThumbExpandImm by the table of A6.3.2, written out byte by byte.
fn expand_by_hand(imm12: u32) -> u32 {
    let b = imm12 & 0xff;
    match imm12 >> 8 {
        0 => b,
        1 => u32::from_be_bytes([0, b as u8, 0, b as u8]),
        2 => u32::from_be_bytes([b as u8, 0, b as u8, 0]),
        3 => u32::from_be_bytes([b as u8; 4]),
        _ => {
            let unrotated = 0x80 | (imm12 & 0x7f);
            let rot = imm12 >> 7;
            // The 64-bit left shift by 32 - rot puts both halves of the rotation in place.
            let wide = u64::from(unrotated) << (32 - rot);
            wide as u32 | (wide >> 32) as u32
        }
    }
}

/// The A32 data-processing opcode of T32 op (hw1 8:5); ORN (0011) has none.
fn a32_opcode(op: u32, rn: u32, rd: u32) -> Option<u32> {
    Some(match (op, rn, rd) {
        (0b0000, _, 15) => 0x8,
        (0b0000, ..) => 0x0,
        (0b0001, ..) => 0xe,
        (0b0010, 15, _) => 0xd,
        (0b0010, ..) => 0xc,
        (0b0011, 15, _) => 0xf,
        (0b0100, _, 15) => 0x9,
        (0b0100, ..) => 0x1,
        (0b1000, _, 15) => 0xb,
        (0b1000, ..) => 0x4,
        (0b1010, ..) => 0x5,
        (0b1011, ..) => 0x6,
        (0b1101, _, 15) => 0xa,
        (0b1101, ..) => 0x2,
        (0b1110, ..) => 0x3,
        _ => return None,
    })
}

/// A32 data processing, register form: `opcode S Rn Rd imm5 type 0 Rm`; a compare's Rd (and
/// MOV's Rn) is 0 in A32.
fn a32_dp_register(opcode: u32, s: bool, rn: u32, rd: u32, imm5: u32, ty: u32, rm: u32) -> u32 {
    let rn = if opcode == 0xd || opcode == 0xf {
        0
    } else {
        rn
    };
    let rd = if (0x8..=0xb).contains(&opcode) { 0 } else { rd };
    opcode << 21 | (s as u32) << 20 | rn << 16 | rd << 12 | imm5 << 7 | ty << 5 | rm
}

/// The A32 twin of the single load/store `w`, over `frame`.
fn single_twin(w: u32, frame: &TrapFrame) -> Option<Twin> {
    let (rn, rt, rm) = (field(w, 16, 4), field(w, 12, 4), field(w, 0, 4));
    let load = field(w, 20, 1) != 0;
    let signed = field(w, 24, 1) != 0;
    let size = field(w, 21, 2);
    // (P, U, W, offset as an immediate, or from a register with an LSL amount)
    enum Offset {
        Immediate(u32),
        Register(u32, u32),
    }
    let (p, u, wb, offset) = if rn == 15 {
        (1, field(w, 23, 1), 0, Offset::Immediate(field(w, 0, 12)))
    } else if field(w, 23, 1) != 0 {
        (1, 1, 0, Offset::Immediate(field(w, 0, 12)))
    } else if field(w, 11, 1) != 0 {
        (
            field(w, 10, 1),
            field(w, 9, 1),
            field(w, 8, 1),
            Offset::Immediate(field(w, 0, 8)),
        )
    } else {
        (1, 1, 0, Offset::Register(rm, field(w, 4, 2)))
    };
    // A32 post-indexed forms have W = 0.
    let wb = if p == 0 { 0 } else { wb };
    let aligned = rn == 15;
    let mut scratch = None;
    let word = if size == 2 || size == 0 && !signed {
        // LDR, LDRB, STR, STRB: cond 01IP UBWL Rn Rt offset.
        let b = u32::from(size == 0);
        let head =
            p << 24 | u << 23 | b << 22 | wb << 21 | u32::from(load) << 20 | rn << 16 | rt << 12;
        match offset {
            Offset::Immediate(imm) => 0x0400_0000 | head | imm,
            Offset::Register(m, lsl) => 0x0600_0000 | head | lsl << 7 | m,
        }
    } else {
        // LDRH, LDRSB, LDRSH, STRH: cond 000P U1WL Rn Rt imm4H 1 op2 1 imm4L, or the register
        // form (bit 22 clear).
        let op2 = match (size, signed) {
            (1, false) => 0b01,
            (0, true) => 0b10,
            _ => 0b11,
        };
        let head = p << 24 | u << 23 | wb << 21 | u32::from(load) << 20 | rn << 16 | rt << 12;
        let tail = 0x90 | op2 << 5;
        match offset {
            Offset::Immediate(imm) if imm <= 0xff => {
                head | 1 << 22 | (imm >> 4) << 8 | tail | imm & 0xf
            }
            Offset::Immediate(_) if rn == 15 => return None,
            Offset::Immediate(imm) => {
                let s = scratch_register(&[rn as usize, rt as usize]);
                scratch = Some((s, imm));
                head | tail | s as u32
            }
            Offset::Register(m, 0) => head | tail | m,
            Offset::Register(m, lsl) => {
                let s = scratch_register(&[rn as usize, rt as usize, m as usize]);
                scratch = Some((s, frame.reg(m as usize) << lsl));
                head | tail | s as u32
            }
        }
    };
    Some(Twin {
        word,
        aligned,
        scratch,
    })
}

/// The A32 twin of `w`, decoded as `kind`, over `frame` (`None`: no twin for this one).
fn a32_twin(kind: T32Kind, w: u32, frame: &TrapFrame) -> Option<Twin> {
    let (rn, rd, rm) = (field(w, 16, 4), field(w, 8, 4), field(w, 0, 4));
    let s = field(w, 20, 1) != 0;
    let imm5 = field(w, 12, 3) << 2 | field(w, 6, 2);
    let imm12 = field(w, 26, 1) << 11 | field(w, 12, 3) << 8 | field(w, 0, 8);
    match kind {
        T32Kind::DataProcessingModifiedImmediate => {
            let opcode = a32_opcode(field(w, 21, 4), rn, rd)?;
            let value = expand_by_hand(imm12);
            // An A32 rotation that gives the value (rotation 0 only where Thumb keeps C).
            let rotation = (0..16)
                .find(|&r| (imm12 >> 10 == 0) == (r == 0) && value.rotate_left(2 * r) <= 0xff);
            if let Some(r) = rotation {
                let word = 0x0200_0000
                    | a32_dp_register(opcode, s, rn, rd, 0, 0, 0)
                    | r << 8
                    | value.rotate_left(2 * r);
                return twin(word);
            }
            let x = scratch_register(&[rn as usize, rd as usize]);
            let (held, imm5, ty) = if imm12 >> 10 == 0 {
                (value, 0, 0)
            } else {
                (0x80 | imm12 & 0x7f, imm12 >> 7, 3)
            };
            Some(Twin {
                word: a32_dp_register(opcode, s, rn, rd, imm5, ty, x as u32),
                aligned: false,
                scratch: Some((x, held)),
            })
        }
        T32Kind::DataProcessingShiftedRegister => {
            let opcode = a32_opcode(field(w, 21, 4), rn, rd)?;
            twin(a32_dp_register(opcode, s, rn, rd, imm5, field(w, 4, 2), rm))
        }
        T32Kind::ShiftRegister => {
            // MOV{S} Rd, Rn, <type> Rm: cond 0001 101S 0000 Rd Rm 0 type 1 Rn.
            let ty = field(w, 21, 2);
            twin(0x01a0_0010 | (s as u32) << 20 | rd << 12 | rm << 8 | ty << 5 | rn)
        }
        T32Kind::AddSubtractWideImmediate | T32Kind::GeneratePcRelativeAddress => {
            let opcode = if field(w, 23, 1) != 0 { 0x2 } else { 0x4 };
            let x = scratch_register(&[rn as usize, rd as usize]);
            Some(Twin {
                word: a32_dp_register(opcode, false, rn, rd, 0, 0, x as u32),
                aligned: rn == 15,
                scratch: Some((x, imm12)),
            })
        }
        T32Kind::MoveWideImmediate => {
            // MOVW / MOVT: cond 0011 0T00 imm4 Rd imm12.
            let top = field(w, 23, 1);
            let imm16 = field(w, 16, 4) << 12 | imm12;
            twin(0x0300_0000 | top << 22 | (imm16 >> 12) << 16 | rd << 12 | imm16 & 0xfff)
        }
        T32Kind::Saturate => {
            let unsigned = field(w, 23, 1);
            let sat = field(w, 0, 5);
            let sh = field(w, 21, 1);
            if sh == 1 && imm5 == 0 {
                // SSAT16 / USAT16: cond 0110 1U10 sat_imm Rd 1111 0011 Rn.
                twin(0x06a0_0f30 | unsigned << 22 | (sat & 0xf) << 16 | rd << 12 | rn)
            } else {
                // SSAT / USAT: cond 0110 1U1 sat_imm Rd imm5 sh 01 Rn.
                twin(0x06a0_0010 | unsigned << 22 | sat << 16 | rd << 12 | imm5 << 7 | sh << 6 | rn)
            }
        }
        T32Kind::BitfieldExtract => {
            // SBFX / UBFX: cond 0111 1U1 widthm1 Rd lsb 101 Rn.
            let unsigned = field(w, 23, 1);
            twin(0x07a0_0050 | unsigned << 22 | field(w, 0, 5) << 16 | rd << 12 | imm5 << 7 | rn)
        }
        T32Kind::BitfieldInsert => {
            // BFI / BFC: cond 0111 110 msb Rd lsb 001 Rn.
            twin(0x07c0_0010 | field(w, 0, 5) << 16 | rd << 12 | imm5 << 7 | rn)
        }
        T32Kind::LoadLiteral
        | T32Kind::LoadImmediate
        | T32Kind::LoadRegister
        | T32Kind::StoreImmediate
        | T32Kind::StoreRegister => single_twin(w, frame),
        T32Kind::StoreMultiple | T32Kind::LoadMultiple | T32Kind::Push | T32Kind::Pop => {
            // cond 100P U0WL Rn list: IA is P = 0, U = 1; DB is P = 1, U = 0.
            let db = field(w, 24, 1);
            let pu = if db == 1 { 0b10 } else { 0b01 };
            twin(0x0800_0000 | pu << 23 | field(w, 20, 2) << 20 | rn << 16 | field(w, 0, 16))
        }
        T32Kind::LoadStoreDual | T32Kind::LoadDualLiteral => {
            // Only Rt even, Rt2 = Rt + 1 and an 8-bit offset have an A32 form.
            let (rt, rt2) = (field(w, 12, 4), field(w, 8, 4));
            let imm = field(w, 0, 8) * 4;
            if rt % 2 != 0 || rt2 != rt + 1 || imm > 0xff {
                return None;
            }
            let (p, u, wb, l) = (
                field(w, 24, 1),
                field(w, 23, 1),
                field(w, 21, 1),
                field(w, 20, 1),
            );
            let wb = if p == 0 { 0 } else { wb };
            let op = if l == 1 { 0xd0 } else { 0xf0 };
            Some(Twin {
                word: p << 24
                    | u << 23
                    | 1 << 22
                    | wb << 21
                    | rn << 16
                    | rt << 12
                    | (imm >> 4) << 8
                    | op
                    | imm & 0xf,
                aligned: rn == 15,
                scratch: None,
            })
        }
        T32Kind::MoveFromStatus => twin(0x010f_0000 | rd << 12),
        T32Kind::Hint => twin(0x0320_f000 | field(w, 0, 8)),
        _ => None,
    }
}

/// (mask, value) of the space each twinned class is drawn from; the decoder picks the class.
fn space(kind: T32Kind) -> (u32, u32) {
    match kind {
        T32Kind::DataProcessingModifiedImmediate => (0xfa00_8000, 0xf000_0000),
        T32Kind::AddSubtractWideImmediate
        | T32Kind::GeneratePcRelativeAddress
        | T32Kind::MoveWideImmediate
        | T32Kind::Saturate
        | T32Kind::BitfieldExtract
        | T32Kind::BitfieldInsert => (0xfa00_8000, 0xf200_0000),
        T32Kind::DataProcessingShiftedRegister => (0xfe00_0000, 0xea00_0000),
        T32Kind::ShiftRegister => (0xff80_f0f0, 0xfa00_f000),
        // The should-be-zero list bits (13; 15 in stores) clear.
        T32Kind::StoreMultiple => (0xfe50_a000, 0xe800_0000),
        T32Kind::LoadMultiple => (0xfe50_2000, 0xe810_0000),
        T32Kind::Push => (0xffff_a000, 0xe92d_0000),
        T32Kind::Pop => (0xffff_2000, 0xe8bd_0000),
        // Offsets below 256, as A32 needs (Rt2 = Rt + 1 is set by `cross_check`).
        T32Kind::LoadStoreDual => (0xfe40_00c0, 0xe840_0000),
        T32Kind::LoadDualLiteral => (0xfe4f_00c0, 0xe84f_0000),
        T32Kind::MoveFromStatus => (0xffff_f0ff, 0xf3ef_8000),
        T32Kind::Hint => (0xffff_fff8, 0xf3af_8000),
        T32Kind::LoadLiteral => (0xfe0f_0000, 0xf80f_0000),
        _ => (0xfe00_0000, 0xf800_0000),
    }
}

/// The simulated classes with an A32 twin.
const TWINNED: [T32Kind; 22] = [
    T32Kind::DataProcessingModifiedImmediate,
    T32Kind::AddSubtractWideImmediate,
    T32Kind::GeneratePcRelativeAddress,
    T32Kind::MoveWideImmediate,
    T32Kind::Saturate,
    T32Kind::BitfieldExtract,
    T32Kind::BitfieldInsert,
    T32Kind::DataProcessingShiftedRegister,
    T32Kind::ShiftRegister,
    T32Kind::StoreMultiple,
    T32Kind::LoadMultiple,
    T32Kind::Push,
    T32Kind::Pop,
    T32Kind::LoadStoreDual,
    T32Kind::LoadDualLiteral,
    T32Kind::LoadLiteral,
    T32Kind::LoadImmediate,
    T32Kind::LoadRegister,
    T32Kind::StoreImmediate,
    T32Kind::StoreRegister,
    T32Kind::MoveFromStatus,
    T32Kind::Hint,
];

/// Simulated classes with no A32 twin, checked by hand below.
const HAND_CHECKED: [T32Kind; 8] = [
    T32Kind::ConditionalBranch,
    T32Kind::Branch,
    T32Kind::BranchWithLink,
    T32Kind::BranchWithLinkExchange,
    T32Kind::TableBranch,
    T32Kind::Barrier,
    T32Kind::PreloadData,
    T32Kind::PreloadInstruction,
];

/// Runs `cases` random `kind` instructions through both engines on random frames; returns
/// how many completed and how many both refused with the same error.
fn cross_check(kind: T32Kind, rng: &mut Rng, cases: usize) -> (usize, usize) {
    let (mask, value) = space(kind);
    let (mut done, mut errors, mut tries) = (0, 0, 0);
    while done + errors < cases {
        tries += 1;
        assert!(tries < 2_000_000, "{kind:?}: too few twins");
        let mut w = value | rng.next() & !mask;
        if matches!(kind, T32Kind::LoadStoreDual | T32Kind::LoadDualLiteral) {
            // A32 LDRD/STRD: Rt even, Rt2 = Rt + 1.
            let rt = field(w, 12, 4) & !1;
            w = w & !0xff00 | rt << 12 | (rt + 1) << 8;
        }
        let (hw1, hw2) = ((w >> 16) as u16, w as u16);
        if decode_t32(hw1, hw2, ItPosition::Outside) != T32Decoded::Simulate(kind) {
            continue;
        }
        let it = rng.it_state();
        let in_it = it != 0;
        let addr = 0x2000 + (rng.next() % 0x800) * 2;
        let mut thumb = TrapFrame::default();
        for n in 0..15 {
            thumb.set_reg(n, rng.value());
        }
        let e = if rng.next().is_multiple_of(8) {
            psr::E
        } else {
            0
        };
        thumb.cpsr = with_it_state(SVC | psr::T | e | rng.next() & 0xf800_0000, it);
        thumb.pc = addr;
        let Some(tw) = a32_twin(kind, w, &thumb) else {
            continue;
        };
        if let Some((x, v)) = tw.scratch {
            thumb.set_reg(x, v);
        }
        let pc_read = if tw.aligned {
            (addr + 4) & !3
        } else {
            addr + 4
        };
        let a32_addr = pc_read - 8;
        let cond = if in_it { u32::from(it >> 4) } else { 0xe };
        let mut arm = thumb;
        arm.cpsr &= !(psr::T | psr::IT);
        arm.pc = a32_addr;

        let before = thumb;
        let (mut tm, mut am) = (Log::default(), Log::default());
        let t = simulate_t32(kind, hw1, hw2, addr, &mut thumb, &mut tm);
        if let Err(StepError::Rejected(_)) = t {
            assert!(in_it, "{w:#010x} refused outside an IT block");
            assert_eq!(thumb, before);
            continue;
        }
        let a = step(Insn(cond << 28 | tw.word), a32_addr, &mut arm, &mut am);
        let what = || {
            format!(
                "{kind:?} {w:#010x} twin {:#010x} it {it:#04x} {before:x?}",
                tw.word
            )
        };
        assert_eq!(t, a, "{}", what());
        assert_eq!(
            (&tm.writes, &tm.hints),
            (&am.writes, &am.hints),
            "{}",
            what()
        );
        if t.is_err() {
            assert_eq!(thumb, before, "{}", what());
            errors += 1;
            continue;
        }
        done += 1;
        let mask = !(psr::T | psr::IT);
        assert_eq!(thumb.cpsr & mask, arm.cpsr & mask, "{}", what());
        assert_eq!(it_state(thumb.cpsr), it_advance(it), "{}", what());
        for n in 0..15 {
            assert_eq!(thumb.reg(n), arm.reg(n), "r{n} {}", what());
        }
        let executed = Cond::from_bits(cond).passes(before.cpsr);
        let loads_pc = matches!(kind, T32Kind::LoadMultiple | T32Kind::Pop) && w & 0x8000 != 0
            || matches!(
                kind,
                T32Kind::LoadLiteral | T32Kind::LoadImmediate | T32Kind::LoadRegister
            ) && field(w, 12, 4) == 15;
        if loads_pc && executed {
            // Thumb's BXWritePC and ARM's agree on the target and the state it selects.
            assert_eq!(thumb.pc, arm.pc, "{}", what());
            assert_eq!(thumb.cpsr & psr::T, arm.cpsr & psr::T, "{}", what());
        } else {
            assert_eq!(thumb.pc, addr + 4, "{}", what());
            assert_eq!(thumb.cpsr & psr::T, psr::T, "{}", what());
        }
    }
    (done, errors)
}

#[test]
fn step_t32_twinned_classes_match_the_a32_engine_on_random_frames() {
    let mut rng = Rng(0x5eed_7332);
    for kind in TWINNED {
        let (done, errors) = cross_check(kind, &mut rng, 1500);
        std::println!("{kind:?}: {done} cases, {errors} errors");
        assert!(done >= 300, "{kind:?}: {done} cases, {errors} errors");
    }
}

#[test]
fn every_t32_kind_is_cross_checked_or_hand_checked() {
    for kind in T32Kind::ALL {
        let lists = [&TWINNED[..], &HAND_CHECKED, &REGISTER_ONLY];
        let count = lists.iter().filter(|l| l.contains(&kind)).count();
        assert_eq!(count, 1, "{kind:?}");
    }
}

fn run_t32_at(
    w: u32,
    addr: u32,
    regs: &[(usize, u32)],
    cpsr: u32,
    mem: &mut (impl Memory + ?Sized),
) -> Result<TrapFrame, StepError> {
    let mut f = frame(regs, cpsr);
    f.pc = addr;
    let before = f;
    let r = step_t32((w >> 16) as u16, w as u16, addr, &mut f, mem);
    if r.is_err() {
        assert_eq!(f, before, "{w:#010x}");
    }
    r.map(|()| f)
}

pub(super) fn run_t32(w: u32, regs: &[(usize, u32)], cpsr: u32) -> TrapFrame {
    run_t32_at(w, T_ADDR, regs, cpsr, &mut Ram::new()).unwrap()
}

#[test]
fn thumb_expand_imm_follows_the_arm_arm_table() {
    // mov.w r0, #imm for each ThumbExpandImm pattern (A6.3.2), C set before.
    let cases: [(u32, u32, bool); 6] = [
        (0x00ab, 0x0000_00ab, true),  // 00000000 00000000 00000000 abcdefgh
        (0x01ab, 0x00ab_00ab, true),  // 00000000 abcdefgh 00000000 abcdefgh
        (0x02ab, 0xab00_ab00, true),  // abcdefgh 00000000 abcdefgh 00000000
        (0x03ab, 0xabab_abab, true),  // abcdefgh × 4
        (0x0400, 0x8000_0000, true),  // '1':0000000 ror 8: carry = bit 31
        (0x0fff, 0x0000_01fe, false), // '1':1111111 ror 31
    ];
    for (imm12, value, carry) in cases {
        // movs.w r0, #imm: 1111 0i00 0101 1111 0iii 0000 iiii iiii.
        let w = 0xf05f_0000 | (imm12 >> 11) << 26 | ((imm12 >> 8) & 7) << 12 | imm12 & 0xff;
        let f = run_t32(w, &[], THUMB | psr::C);
        assert_eq!(f.r[0], value, "{imm12:#05x}");
        assert_eq!(f.cpsr & psr::C != 0, carry, "{imm12:#05x}");
        assert_eq!(f.pc, T_ADDR + 4);
    }
}

#[test]
fn step_t32_orn_or_s_the_complement() {
    // orn r0, r1, #0xff (no A32 twin): r1 | ~0xff.
    let f = run_t32(0xf061_00ff, &[(1, 0x12)], THUMB);
    assert_eq!(f.r[0], 0xffff_ff12);
    // orns r0, r1, r2, lsl #4.
    let f = run_t32(0xea71_1002, &[(1, 0), (2, 0x0fff_ffff)], THUMB);
    assert_eq!(f.r[0], 0x0000_000f);
    assert_eq!(f.cpsr & (psr::N | psr::Z | psr::C), 0);
}

#[test]
fn step_t32_addw_subw_movw_movt_and_adr_use_plain_immediates() {
    // addw r0, r1, #0xfff; subw r0, sp, #0x801.
    assert_eq!(run_t32(0xf601_70ff, &[(1, 1)], THUMB).r[0], 0x1000);
    assert_eq!(run_t32(0xf6ad_0001, &[(13, 0x1000)], THUMB).r[0], 0x7ff);
    // movw r2, #0xbeef; movt r2, #0xdead.
    let f = run_t32(0xf64b_62ef, &[(2, 0xffff_ffff)], THUMB);
    assert_eq!(f.r[2], 0xbeef);
    let f = run_t32(0xf6cd_62ad, &[(2, 0x1234_beef)], THUMB);
    assert_eq!(f.r[2], 0xdead_beef);
    // adr.w r3, . + 4 + 0x10 at an address that is 2 mod 4: Align(PC, 4) + 16.
    let mut ram = Ram::new();
    let f = run_t32_at(0xf20f_0310, T_ADDR + 2, &[], THUMB, &mut ram).unwrap();
    assert_eq!(f.r[3], T_ADDR + 4 + 0x10);
    // adr.w r3, . - 0x10 (encoding T2, subtract).
    let f = run_t32_at(0xf2af_0310, T_ADDR + 2, &[], THUMB, &mut ram).unwrap();
    assert_eq!(f.r[3], T_ADDR + 4 - 0x10);
}

#[test]
fn step_t32_branch_offsets_follow_s_j1_j2() {
    // b.w with S = 0, J1 = J2 = 1 (I1 = I2 = 0): + imm11 * 2.
    assert_eq!(run_t32(0xf000_b802, &[], THUMB).pc, T_ADDR + 4 + 4);
    // b.w backwards: S = 1, J1 = J2 = 1, all ones: -2.
    assert_eq!(run_t32(0xf7ff_bfff, &[], THUMB).pc, T_ADDR + 4 - 2);
    // b.w S = 0, J1 = J2 = 0 (I1 = I2 = 1): + 0xc00000.
    assert_eq!(run_t32(0xf000_9000, &[], THUMB).pc, T_ADDR + 4 + 0xc0_0000);
    // b.w S = 1, J1 = J2 = 0 (I1 = I2 = 0): - 16 MiB.
    assert_eq!(
        run_t32(0xf400_9000, &[], THUMB).pc,
        (T_ADDR + 4).wrapping_sub(0x100_0000)
    );
    // bl . + 4 + 0x1000: LR is the next instruction with bit 0 set.
    let f = run_t32(0xf001_f800, &[], THUMB);
    assert_eq!(
        (f.pc, f.lr, f.cpsr & psr::T),
        (T_ADDR + 4 + 0x1000, (T_ADDR + 4) | 1, psr::T)
    );
    // blx from an address that is 2 mod 4: target Align(PC, 4) + 8, ARM state.
    let mut ram = Ram::new();
    let f = run_t32_at(0xf000_e804, T_ADDR + 2, &[], THUMB, &mut ram).unwrap();
    assert_eq!(
        (f.pc, f.lr, f.cpsr & psr::T),
        (T_ADDR + 4 + 8, (T_ADDR + 6) | 1, 0)
    );
    // blx backwards: S = 1, J1 = J2 = 1, imm10H all ones, imm10L = 0x3fe: -4.
    let f = run_t32(0xf7ff_effc, &[], THUMB);
    assert_eq!(f.pc, T_ADDR + 4 - 8);
}

#[test]
fn step_t32_conditional_branch_uses_its_own_condition() {
    // beq.w . + 4 + 0x100 (S = 0, J1 = J2 = 0), then S = 1, J2 = J1 = 1, all ones: -2.
    let beq = 0xf000_8080;
    assert_eq!(run_t32(beq, &[], THUMB).pc, T_ADDR + 4);
    assert_eq!(run_t32(beq, &[], THUMB | psr::Z).pc, T_ADDR + 4 + 0x100);
    assert_eq!(run_t32(0xf43f_afff, &[], THUMB | psr::Z).pc, T_ADDR + 4 - 2);
    // J1 (bit 13) is offset bit 18, J2 (bit 11) bit 19.
    assert_eq!(
        run_t32(0xf000_a000, &[], THUMB | psr::Z).pc,
        T_ADDR + 4 + 0x4_0000
    );
    assert_eq!(
        run_t32(0xf000_8800, &[], THUMB | psr::Z).pc,
        T_ADDR + 4 + 0x8_0000
    );
}

#[test]
fn step_t32_table_branches_read_byte_and_halfword_entries() {
    let mut ram = Ram::new();
    ram.put(RAM, 0x0605_0403);
    // tbb [r0, r1]: entry 2 is 0x05.
    let f = run_t32_at(0xe8d0_f001, T_ADDR, &[(0, RAM), (1, 2)], THUMB, &mut ram).unwrap();
    assert_eq!(f.pc, T_ADDR + 4 + 2 * 5);
    // tbh [r0, r1, lsl #1]: entry 1 is 0x0605.
    let f = run_t32_at(0xe8d0_f011, T_ADDR, &[(0, RAM), (1, 1)], THUMB, &mut ram).unwrap();
    assert_eq!(f.pc, T_ADDR + 4 + 2 * 0x0605);
    // tbb [pc, r1]: the table follows the instruction (PC reads address + 4).
    let mut ram = Ram::new();
    let f = run_t32_at(0xe8df_f001, RAM, &[(1, 3)], THUMB, &mut ram).unwrap();
    assert_eq!(f.pc, RAM + 4 + 2 * 7);
}

#[test]
fn step_t32_barriers_hints_and_preloads_reach_the_memory_seam() {
    let mut ram = Ram::new();
    run_t32_at(0xf3bf_8f5b, T_ADDR, &[], THUMB, &mut ram).unwrap(); // dmb ish
    run_t32_at(0xf3bf_8f4f, T_ADDR, &[], THUMB, &mut ram).unwrap(); // dsb sy
    run_t32_at(0xf3bf_8f6f, T_ADDR, &[], THUMB, &mut ram).unwrap(); // isb sy
    run_t32_at(0xf3af_8003, T_ADDR, &[], THUMB, &mut ram).unwrap(); // wfi.w
    let f = run_t32_at(0xf890_f000, T_ADDR, &[(0, 0)], THUMB, &mut ram).unwrap(); // pld [r0]
    assert_eq!(f.pc, T_ADDR + 4);
    run_t32_at(0xf990_f000, T_ADDR, &[(0, 0)], THUMB, &mut ram).unwrap(); // pli [r0]
    assert_eq!(
        ram.barriers,
        [Barrier::Dmb(0xb), Barrier::Dsb(0xf), Barrier::Isb(0xf)]
    );
    assert_eq!(ram.hints, [Hint::Wfi]);
}

#[test]
fn step_t32_inside_an_it_block_skips_on_a_failing_condition_and_sets_flags_by_s() {
    // ITE EQ: ITSTATE 0x0c (cond 0000, mask 1100): first instruction EQ, second NE.
    let first = with_it_state(THUMB, 0x0c);
    // adds.w r0, r1, #1 with Z clear: skipped, r0 and flags kept, ITSTATE advances.
    let f = run_t32(0xf111_0001, &[(0, 7), (1, 0xffff_ffff)], first);
    assert_eq!((f.r[0], f.pc, f.cpsr & 0xf000_0000), (7, T_ADDR + 4, 0));
    assert_eq!(it_state(f.cpsr), it_advance(0x0c));
    // With Z set it runs and, S set, writes flags even inside the block.
    let f = run_t32(0xf111_0001, &[(0, 7), (1, 0xffff_ffff)], first | psr::Z);
    assert_eq!(f.r[0], 0);
    assert_eq!(f.cpsr & 0xf000_0000, psr::Z | psr::C);
    // The second instruction (NE, last): add.w without S leaves the flags; ITSTATE ends.
    let second = with_it_state(THUMB, it_advance(0x0c));
    let f = run_t32(0xf101_0001, &[(1, 1)], second);
    assert_eq!((f.r[0], f.cpsr), (2, THUMB));
    // A skipped load touches no memory (r1 = 0 would fault).
    let f = run_t32(0xf8d1_0000, &[(0, 5), (1, 0)], first);
    assert_eq!((f.r[0], f.pc), (5, T_ADDR + 4));
}

#[test]
fn every_t32_step_error_is_reported_and_leaves_the_frame() {
    let mut ram = Ram::new();
    ram.put(RAM + 0x20, 0x2002);
    let in_it_eq = with_it_state(THUMB, 0x04);
    type ErrorCase = (u32, &'static [(usize, u32)], u32, StepError);
    let cases: [ErrorCase; 10] = [
        (0xf04f_0001, &[], SVC, StepError::ArmState),
        // beq.w inside an IT block.
        (
            0xf000_8080,
            &[],
            in_it_eq | psr::Z,
            StepError::Rejected(RejectReason::Unpredictable),
        ),
        // svc is T16, and udf.w.
        (
            0xf7f0_a000,
            &[],
            THUMB,
            StepError::Rejected(RejectReason::Undefined),
        ),
        // ldrex r0, [r1].
        (
            0xe851_0f00,
            &[],
            THUMB,
            StepError::Rejected(RejectReason::Exclusive),
        ),
        // ldr.w r0, [r1] and str.w r0, [r1] with r1 = 0.
        (
            0xf8d1_0000,
            &[(1, 0)],
            THUMB,
            StepError::Memory(MemoryFault {
                address: 0,
                access: Access::Read,
            }),
        ),
        (
            0xf8c1_0000,
            &[(1, 0)],
            THUMB,
            StepError::Memory(MemoryFault {
                address: 0,
                access: Access::Write,
            }),
        ),
        // ldm.w r0, {r1, r2} and ldrd r1, r2, [r0] off word alignment.
        (
            0xe890_0006,
            &[(0, RAM + 2)],
            THUMB,
            StepError::AlignmentFault { address: RAM + 2 },
        ),
        (
            0xe9d0_1200,
            &[(0, RAM + 6)],
            THUMB,
            StepError::AlignmentFault { address: RAM + 6 },
        ),
        // ldr.w pc, [r0] from an unaligned address, and of a value with bits 1:0 == 0b10.
        (
            0xf8d0_f000,
            &[(0, RAM + 1)],
            THUMB,
            StepError::UnalignedPcLoad { address: RAM + 1 },
        ),
        (
            0xf8d0_f000,
            &[(0, RAM + 0x20)],
            THUMB,
            StepError::UnpredictablePcWrite { target: 0x2002 },
        ),
    ];
    let mut texts = Vec::new();
    for (w, regs, cpsr, want) in cases {
        assert_eq!(
            run_t32_at(w, T_ADDR, regs, cpsr, &mut ram),
            Err(want),
            "{w:#010x}"
        );
        texts.push(want.to_string());
    }
    // A kind that is not the instruction's.
    let mut f = frame(&[], THUMB);
    let before = f;
    assert_eq!(
        simulate_t32(T32Kind::Branch, 0xf04f, 0x0001, T_ADDR, &mut f, &mut ram),
        Err(StepError::KindMismatch)
    );
    assert_eq!(f, before);
    for (i, t) in texts.iter().enumerate() {
        assert!(!texts[..i].contains(t), "{t}");
    }
}

#[test]
fn step_t32_never_panics_on_random_pairs_at_any_it_position() {
    let mut rng = Rng(0x0bad_f00d);
    for _ in 0..100_000 {
        let w = rng.next() | 0xe800_0000;
        let mut f = TrapFrame::default();
        for n in 0..15 {
            f.set_reg(n, rng.value());
        }
        f.cpsr = with_it_state(THUMB | (rng.next() & 0xf000_0200), rng.it_state());
        let _ = step_t32(
            (w >> 16) as u16,
            w as u16,
            0x2000,
            &mut f,
            &mut Log::default(),
        );
    }
}

#[test]
fn step_t32_branches_may_end_an_it_block_and_are_skipped_when_its_condition_fails() {
    // ITSTATE 0x08: cond EQ, last instruction of the block.
    let last_eq = with_it_state(THUMB, 0x08);
    // bl . + 4 + 0x1000: skipped with Z clear (LR kept), taken with Z set; ITSTATE ends.
    let f = run_t32(0xf001_f800, &[(14, 9)], last_eq);
    assert_eq!((f.pc, f.lr, f.cpsr), (T_ADDR + 4, 9, THUMB));
    let f = run_t32(0xf001_f800, &[(14, 9)], last_eq | psr::Z);
    assert_eq!((f.pc, f.lr), (T_ADDR + 4 + 0x1000, (T_ADDR + 4) | 1));
    assert_eq!(f.cpsr, THUMB | psr::Z);
    // Not last (ITSTATE 0x04): b.w and ldr.w pc are UNPREDICTABLE there, refused.
    let inside = with_it_state(THUMB, 0x04);
    for w in [0xf000_b802, 0xf8d0_f000] {
        assert_eq!(
            run_t32_at(w, T_ADDR, &[(0, RAM)], inside, &mut Ram::new()),
            Err(StepError::Rejected(RejectReason::Unpredictable)),
            "{w:#010x}"
        );
    }
}
