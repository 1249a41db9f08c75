//! Tests of the media and saturating classes.

use super::*;

#[test]
fn saturating_add_subtract_sets_q() {
    let f = run(0xe102_0051, &[(1, 0x7fff_ffff), (2, 1)], SVC); // qadd r0, r1, r2
    assert_eq!((f.r[0], f.cpsr), (0x7fff_ffff, SVC | psr::Q));
    let f = run(0xe122_0051, &[(1, 0x8000_0000), (2, 1)], SVC); // qsub
    assert_eq!((f.r[0], f.cpsr), (0x8000_0000, SVC | psr::Q));
    let f = run(0xe142_0051, &[(1, u32::MAX), (2, 0x4000_0000)], SVC); // qdadd
    assert_eq!((f.r[0], f.cpsr), (0x7fff_fffe, SVC | psr::Q));
    let f = run(0xe162_0051, &[(1, 0), (2, 3)], SVC); // qdsub
    assert_eq!((f.r[0], f.cpsr), ((-6i32) as u32, SVC));
}

const GE: u32 = 16;

#[test]
fn parallel_add_subtract_lanes_and_ge_flags() {
    let f = run(0xe611_0f12, &[(1, 0xffff_0001), (2, 1)], SVC | 0xc << GE); // sadd16
    assert_eq!((f.r[0], f.cpsr), (0xffff_0002, SVC | 0b0011 << GE));
    let f = run(0xe651_0f92, &[(1, 0xff01_8000), (2, 0x0101_8000)], SVC); // uadd8
    assert_eq!((f.r[0], f.cpsr), (0x0002_0000, SVC | 0b1010 << GE));
    let f = run(0xe651_0ff2, &[(1, 0x0105_00ff), (2, 0x0205_0100)], SVC); // usub8
    assert_eq!((f.r[0], f.cpsr), (0xff00_ffff, SVC | 0b0101 << GE));
    let f = run(
        0xe621_0ff2,
        &[(1, 0x807f_0010), (2, 0x01ff_0020)],
        SVC | 0x5 << GE,
    ); // qsub8
    assert_eq!(
        (f.r[0], f.cpsr),
        (0x807f_00f0, SVC | 0x5 << GE),
        "Q forms leave GE"
    );
    let f = run(0xe631_0f12, &[(1, 0x7fff_fffe), (2, 0x7fff_fffc)], SVC); // shadd16
    assert_eq!(f.r[0], 0x7fff_fffd);
    let f = run(0xe671_0f72, &[(1, 1), (2, 0x0001_0003)], SVC); // uhsub16
    assert_eq!(f.r[0], u32::MAX);
    let f = run(0xe661_0f12, &[(1, 0xfff0_0001), (2, 0x0020_0001)], SVC); // uqadd16
    assert_eq!(f.r[0], 0xffff_0002);
    let f = run(0xe611_0f32, &[(1, 0x0005_0003), (2, 0x0004_0002)], SVC); // sasx
    assert_eq!((f.r[0], f.cpsr), (0x0007_ffff, SVC | 0b1100 << GE));
    let f = run(0xe651_0f52, &[(1, 0x0001_ffff), (2, 0x0002_0001)], SVC); // usax
    assert_eq!((f.r[0], f.cpsr), (0x0000_0001, SVC | 0b1111 << GE));
}

#[test]
fn saturate_instructions_clamp_and_set_q() {
    let f = run(0xe6a7_0011, &[(1, 300)], SVC); // ssat r0, #8, r1
    assert_eq!((f.r[0], f.cpsr), (127, SVC | psr::Q));
    let f = run(0xe6a7_0251, &[(1, 0x7f0)], SVC); // ssat r0, #8, r1, asr #4
    assert_eq!((f.r[0], f.cpsr), (127, SVC));
    let f = run(0xe6e8_0011, &[(1, (-5i32) as u32)], SVC); // usat r0, #8, r1
    assert_eq!((f.r[0], f.cpsr), (0, SVC | psr::Q));
    let f = run(0xe6e8_0011, &[(1, 255)], SVC);
    assert_eq!((f.r[0], f.cpsr), (255, SVC));
    let f = run(0xe6a7_0f31, &[(1, 0x0100_ff00)], SVC); // ssat16 r0, #8, r1
    assert_eq!((f.r[0], f.cpsr), (0x007f_ff80, SVC | psr::Q));
    let f = run(0xe6e4_0f31, &[(1, 0xffff_0010)], SVC); // usat16 r0, #4, r1
    assert_eq!((f.r[0], f.cpsr), (0x0000_000f, SVC | psr::Q));
}

#[test]
fn extends_rotate_then_extend_then_add() {
    assert_eq!(run(0xe6af_0071, &[(1, 0x80)], SVC).r[0], 0xffff_ff80); // sxtb
    assert_eq!(run(0xe6af_0471, &[(1, 0x8000)], SVC).r[0], 0xffff_ff80); // sxtb ror #8
    let f = run(0xe6f2_0471, &[(1, 0x1234_5678), (2, 0x1_0000)], SVC); // uxtah ror #8
    assert_eq!(f.r[0], 0x0001_3456);
    let f = run(0xe682_0071, &[(1, 0x0080_00ff), (2, 0x0001_0001)], SVC); // sxtab16
    assert_eq!(f.r[0], 0xff81_0000);
    assert_eq!(run(0xe6cf_0071, &[(1, 0x1234_5678)], SVC).r[0], 0x0034_0078); // uxtb16
    assert_eq!(run(0xe6bf_0071, &[(1, 0x8000)], SVC).r[0], 0xffff_8000); // sxth
    assert_eq!(run(0xe6e2_0071, &[(1, 0xff), (2, 0x100)], SVC).r[0], 0x1ff); // uxtab
}

#[test]
fn pack_select_and_reverse() {
    let regs = [(1, 0x1111_2222), (2, 0x3333_4444)];
    assert_eq!(run(0xe681_0812, &regs, SVC).r[0], 0x4444_2222); // pkhbt lsl #16
    assert_eq!(run(0xe681_0852, &regs, SVC).r[0], 0x1111_3333); // pkhtb asr #16
    let f = run(0xe681_0052, &[(1, 0x1111_2222), (2, 0x8000_0000)], SVC); // pkhtb asr #32
    assert_eq!(f.r[0], 0x1111_ffff);
    let f = run(
        0xe681_0fb2,
        &[(1, 0x1122_3344), (2, 0xaabb_ccdd)],
        SVC | 0b0101 << GE,
    ); // sel
    assert_eq!(f.r[0], 0xaa22_cc44);
    assert_eq!(run(0xe6bf_0f31, &[(1, 0x1234_5678)], SVC).r[0], 0x7856_3412); // rev
    assert_eq!(run(0xe6bf_0fb1, &[(1, 0x1234_5678)], SVC).r[0], 0x3412_7856); // rev16
    assert_eq!(run(0xe6ff_0f31, &[(1, 1)], SVC).r[0], 0x8000_0000); // rbit
    assert_eq!(run(0xe6ff_0fb1, &[(1, 0x80)], SVC).r[0], 0xffff_8000); // revsh
}

#[test]
fn sum_of_absolute_differences() {
    let regs = [(1, 0x0102_ff00), (2, 0x0301_00ff), (3, 10)];
    assert_eq!(run(0xe780_f211, &regs, SVC).r[0], 513); // usad8
    assert_eq!(run(0xe780_3211, &regs, SVC).r[0], 523); // usada8
}

#[test]
fn bit_field_extract_insert_clear() {
    assert_eq!(run(0xe7a7_0251, &[(1, 0xf80)], SVC).r[0], 0xffff_fff8); // sbfx #4, #8
    assert_eq!(run(0xe7e7_0251, &[(1, 0xf80)], SVC).r[0], 0xf8); // ubfx #4, #8
    assert_eq!(run(0xe7ff_0051, &[(1, 0xdead_beef)], SVC).r[0], 0xdead_beef); // ubfx #0, #32
    let f = run(0xe7cf_0411, &[(0, u32::MAX), (1, 0x12)], SVC); // bfi r0, r1, #8, #8
    assert_eq!(f.r[0], 0xffff_12ff);
    assert_eq!(run(0xe7df_001f, &[(0, u32::MAX)], SVC).r[0], 0); // bfc #0, #32
}

#[test]
fn count_leading_zeros() {
    assert_eq!(run(0xe16f_0f11, &[(1, 0)], SVC).r[0], 32);
    assert_eq!(run(0xe16f_0f11, &[(1, 1)], SVC).r[0], 31);
}
