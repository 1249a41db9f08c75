//! Tests of the data-processing classes: flags, shifts, rotated immediates, MOVW/MOVT.

use super::*;

#[test]
fn adds_sets_negative_and_overflow_on_signed_wrap() {
    let f = run(0xe091_0002, &[(1, 0x7fff_ffff), (2, 1)], SVC); // adds r0, r1, r2
    assert_eq!(f.r[0], 0x8000_0000);
    assert_eq!(f.cpsr, SVC | flags(true, false, false, true));
    assert_eq!(f.pc, ADDR + 4);
}

#[test]
fn subs_of_equal_operands_sets_zero_and_carry() {
    let f = run(0xe051_0002, &[(1, 5), (2, 5)], SVC); // subs r0, r1, r2
    assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
}

#[test]
fn carry_using_arithmetic_reads_the_carry_flag() {
    let f = run(0xe0c1_0002, &[(1, 10), (2, 3)], SVC); // sbc r0, r1, r2, C = 0
    assert_eq!(f.r[0], 6);
    let f = run(0xe0e1_0002, &[(1, 10), (2, 3)], SVC | psr::C); // rsc r0, r1, r2
    assert_eq!(f.r[0], (-7i32) as u32);
    let f = run(0xe0a1_0002, &[(1, 10), (2, 3)], SVC | psr::C); // adc r0, r1, r2
    assert_eq!(f.r[0], 14);
    assert_eq!(f.cpsr, SVC | psr::C, "no S bit: flags unchanged");
}

#[test]
fn immediate_shifts_follow_decode_imm_shift() {
    // movs r0, r1, lsl #1: carry out is bit 31; V is left alone.
    let f = run(0xe1b0_0081, &[(1, 0x8000_0001)], SVC | psr::V);
    assert_eq!((f.r[0], f.cpsr), (2, SVC | flags(false, false, true, true)));
    // lsr #0 encodes lsr #32.
    let f = run(0xe1b0_0021, &[(1, 0x8000_0000)], SVC);
    assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
    // asr #0 encodes asr #32.
    let f = run(0xe1b0_0041, &[(1, 0x8000_0000)], SVC);
    assert_eq!(
        (f.r[0], f.cpsr),
        (u32::MAX, SVC | flags(true, false, true, false))
    );
    // ror #0 encodes rrx.
    let f = run(0xe1b0_0061, &[(1, 1)], SVC | psr::C);
    assert_eq!(
        (f.r[0], f.cpsr),
        (0x8000_0000, SVC | flags(true, false, true, false))
    );
}

#[test]
fn register_shifts_use_the_bottom_byte_of_rs() {
    let lsl = 0xe1b0_0211; // movs r0, r1, lsl r2
    let f = run(lsl, &[(1, 3), (2, 32)], SVC);
    assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
    let f = run(lsl, &[(1, 3), (2, 33)], SVC | psr::C);
    assert_eq!(
        (f.r[0], f.cpsr),
        (0, SVC | flags(false, true, false, false))
    );
    let f = run(lsl, &[(1, 3), (2, 0x100)], SVC | psr::C);
    assert_eq!((f.r[0], f.cpsr), (3, SVC | psr::C), "shift by 0 keeps C");
    let f = run(0xe1b0_0271, &[(1, 0x8000_0000), (2, 32)], SVC); // ror r2 == 32
    assert_eq!(
        (f.r[0], f.cpsr),
        (0x8000_0000, SVC | flags(true, false, true, false))
    );
    let f = run(0xe1b0_0251, &[(1, 0x8000_0000), (2, 40)], SVC); // asr by 40
    assert_eq!(
        (f.r[0], f.cpsr),
        (u32::MAX, SVC | flags(true, false, true, false))
    );
}

#[test]
fn rotated_immediates_set_carry_only_when_rotated() {
    let f = run(0xe3b0_0102, &[], SVC); // movs r0, #0x80000000
    assert_eq!(
        (f.r[0], f.cpsr),
        (0x8000_0000, SVC | flags(true, false, true, false))
    );
    let f = run(0xe211_00ff, &[(1, 0x100)], SVC | psr::C); // ands r0, r1, #0xff
    assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
    let f = run(0xe351_0005, &[(1, 3)], SVC); // cmp r1, #5
    assert_eq!(f.cpsr, SVC | flags(true, false, false, false));
    assert_eq!(f.r[0], 0, "compare writes no register");
}

#[test]
fn alu_write_to_pc_interworks() {
    let f = run(0xe1a0_f00e, &[(14, 0x2001)], SVC); // mov pc, lr
    assert_eq!((f.pc, f.cpsr), (0x2000, SVC | psr::T));
    let f = run(0xe1a0_f00e, &[(14, 0x2000)], SVC);
    assert_eq!((f.pc, f.cpsr), (0x2000, SVC));
    let mut f = frame(&[(14, 0x2002)], SVC);
    let before = f;
    let err = step(Insn(0xe1a0_f00e), ADDR, &mut f, &mut Ram::new());
    assert_eq!(err, Err(StepError::UnpredictablePcWrite { target: 0x2002 }));
    assert_eq!(f, before, "a failed step leaves the frame alone");
}

#[test]
fn movw_and_movt_build_a_constant() {
    let f = run(0xe301_0234, &[(0, 0xffff_ffff)], SVC);
    assert_eq!(f.r[0], 0x1234);
    let f = run(0xe34a_0bcd, &[(0, 0x1234)], SVC);
    assert_eq!(f.r[0], 0xabcd_1234);
}
