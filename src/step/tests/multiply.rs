//! Tests of the multiply and divide classes.

use super::*;

#[test]
fn multiplies_and_long_multiplies() {
    let f = run(0xe010_0291, &[(1, 0x1_0000), (2, 0x1_0000)], SVC | psr::C); // muls r0, r1, r2
    assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
    let f = run(0xe020_3291, &[(1, 3), (2, 4), (3, 5)], SVC); // mla
    assert_eq!(f.r[0], 17);
    let f = run(0xe060_3291, &[(1, 3), (2, 4), (3, 5)], SVC); // mls
    assert_eq!(f.r[0], (-7i32) as u32);
    let f = run(0xe081_0392, &[(2, u32::MAX), (3, u32::MAX)], SVC); // umull r0, r1, r2, r3
    assert_eq!((f.r[0], f.r[1]), (1, 0xffff_fffe));
    let f = run(0xe0c1_0392, &[(2, u32::MAX), (3, u32::MAX)], SVC); // smull
    assert_eq!((f.r[0], f.r[1]), (1, 0));
    let f = run(0xe0f1_0392, &[(2, (-2i32) as u32), (3, 3)], SVC); // smlals from 0
    assert_eq!((f.r[0], f.r[1]), (0xffff_fffa, u32::MAX));
    assert_eq!(f.cpsr, SVC | psr::N);
    let f = run(0xe0a1_0392, &[(0, u32::MAX), (1, 1), (2, 1), (3, 1)], SVC); // umlal
    assert_eq!((f.r[0], f.r[1]), (0, 2));
    let all = u32::MAX;
    let f = run(0xe041_0392, &[(0, all), (1, all), (2, all), (3, all)], SVC); // umaal
    assert_eq!((f.r[0], f.r[1]), (all, all));
}

#[test]
fn halfword_multiplies_set_q_on_accumulate_overflow() {
    // smlabb r0, r1, r2, r3: 0x8000 * 0x8000 + 2^30 == 2^31 overflows.
    let f = run(
        0xe100_3281,
        &[(1, 0x8000), (2, 0x8000), (3, 0x4000_0000)],
        SVC,
    );
    assert_eq!((f.r[0], f.cpsr), (0x8000_0000, SVC | psr::Q));
    let f = run(0xe160_02e1, &[(1, 0xffff_0000), (2, 0x0005_0000)], SVC); // smultt
    assert_eq!((f.r[0], f.cpsr), ((-5i32) as u32, SVC));
    let f = run(0xe120_32c1, &[(1, 0x2_0000), (2, 0x3_0000), (3, 10)], SVC); // smlawt
    assert_eq!(f.r[0], 16);
    let f = run(0xe120_02a1, &[(1, 0xffff_0000), (2, 3)], SVC); // smulwb
    assert_eq!(f.r[0], (-3i32) as u32);
    let f = run(0xe141_0382, &[(0, 5), (1, 0), (2, 0xffff), (3, 2)], SVC); // smlalbb
    assert_eq!((f.r[0], f.r[1]), (3, 0));
    let f = run(0xe141_0382, &[(0, 1), (1, 0), (2, 0xffff), (3, 2)], SVC);
    assert_eq!((f.r[0], f.r[1]), (u32::MAX, u32::MAX));
}

#[test]
fn dual_multiplies() {
    let f = run(0xe700_f211, &[(1, 0x8000_8000), (2, 0x8000_8000)], SVC); // smuad
    assert_eq!((f.r[0], f.cpsr), (0x8000_0000, SVC | psr::Q));
    let f = run(
        0xe700_3251,
        &[(1, 0x0003_0002), (2, 0x0005_0004), (3, 100)],
        SVC,
    ); // smlsd
    assert_eq!((f.r[0], f.cpsr), (93, SVC));
    let f = run(0xe700_f271, &[(1, 0x0003_0002), (2, 0x0005_0004)], SVC); // smusdx
    assert_eq!(f.r[0], (-2i32) as u32);
    let f = run(
        0xe741_0312,
        &[(0, u32::MAX), (1, 0), (2, 0x0002_0003), (3, 0x0004_0005)],
        SVC,
    ); // smlald
    assert_eq!((f.r[0], f.r[1]), (0x16, 1));
    let f = run(
        0xe741_0352,
        &[(0, 0), (1, 0), (2, 0x0002_0003), (3, 0x0004_0005)],
        SVC,
    ); // smlsld
    assert_eq!((f.r[0], f.r[1]), (7, 0));
}

#[test]
fn most_significant_word_multiplies_round_when_asked() {
    let f = run(0xe750_f211, &[(1, 0x4000_0000), (2, 0x4000_0000)], SVC); // smmul
    assert_eq!(f.r[0], 0x1000_0000);
    let f = run(0xe750_f211, &[(1, 1), (2, 0x8000_0000)], SVC);
    assert_eq!(f.r[0], u32::MAX);
    let f = run(0xe750_f231, &[(1, 1), (2, 0x8000_0000)], SVC); // smmulr
    assert_eq!(f.r[0], 0);
    let f = run(
        0xe750_3211,
        &[(1, 0x4000_0000), (2, 0x4000_0000), (3, 5)],
        SVC,
    ); // smmla
    assert_eq!(f.r[0], 0x1000_0005);
    let f = run(
        0xe750_32d1,
        &[(1, 0x4000_0000), (2, 0x4000_0000), (3, 5)],
        SVC,
    ); // smmls
    assert_eq!(f.r[0], 0xf000_0005);
}

#[test]
fn divides_round_toward_zero_and_divide_by_zero_gives_zero() {
    let sdiv = 0xe710_f211;
    assert_eq!(
        run(sdiv, &[(1, (-7i32) as u32), (2, 2)], SVC).r[0],
        (-3i32) as u32
    );
    assert_eq!(run(sdiv, &[(0, 9), (1, 7), (2, 0)], SVC).r[0], 0);
    assert_eq!(
        run(sdiv, &[(1, 0x8000_0000), (2, u32::MAX)], SVC).r[0],
        0x8000_0000
    );
    assert_eq!(
        run(0xe730_f211, &[(1, u32::MAX), (2, 2)], SVC).r[0],
        0x7fff_ffff
    );
}
