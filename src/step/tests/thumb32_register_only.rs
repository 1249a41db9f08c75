//! Tests of the register-only T32 classes (multiplies, divide, extend, pack, reverse, CLZ, SEL,
//! parallel and saturating arithmetic), which the engine runs as their A32 twins: results
//! computed by hand from the ARM ARM, and twins assembled by llvm-mc (not by the engine's own
//! field mapping) cross-checked on random frames.

use super::thumb16::{Log, Rng};
use super::thumb32::{T_ADDR, THUMB, run_t32};
use super::*;
use crate::decode::{ItPosition, T32Decoded, T32Kind, decode_t32};

/// (instruction, registers, CPSR before, r0 after, and r1 after for the long multiplies).
type MediaCase = (u32, &'static [(usize, u32)], u32, u32, Option<u32>);

/// The register-only classes run as their A32 twin; these cases are computed from the ARM ARM
/// pseudo-code by hand, with operands where order matters (MLS, SDIV, QDSUB, SMLSD, PKH).
#[rustfmt::skip]
const MEDIA_AND_MULTIPLY: [MediaCase; 30] = [
    (0xfb01_f002, &[(1, 3), (2, 4)], THUMB, 12, None),                          // mul r0, r1, r2
    (0xfb01_3002, &[(1, 3), (2, 4), (3, 100)], THUMB, 112, None),               // mla r0, r1, r2, r3
    (0xfb01_3012, &[(1, 3), (2, 4), (3, 100)], THUMB, 88, None),                // mls r0, r1, r2, r3
    (0xfb91_f0f2, &[(1, 0xffff_fff9), (2, 2)], THUMB, 0xffff_fffd, None),        // sdiv r0, r1, r2
    (0xfbb1_f0f2, &[(1, 0xffff_fff9), (2, 2)], THUMB, 0x7fff_fffc, None),        // udiv r0, r1, r2
    (0xfbb1_f0f2, &[(0, 9), (1, 5), (2, 0)], THUMB, 0, None),                   // udiv by zero
    (0xfb82_0103, &[(2, 0xffff_fffe), (3, 3)], THUMB, 0xffff_fffa, Some(0xffff_ffff)), // smull r0, r1, r2, r3
    (0xfba2_0103, &[(2, 0xffff_fffe), (3, 3)], THUMB, 0xffff_fffa, Some(2)),     // umull
    (0xfbe2_0163, &[(0, 0xffff_ffff), (1, 0xffff_ffff), (2, 0xffff_ffff), (3, 0xffff_ffff)], THUMB, 0xffff_ffff, Some(0xffff_ffff)), // umaal
    (0xfbc2_0193, &[(0, 10), (2, 0x0000_fffe), (3, 0x0003_0000)], THUMB, 4, Some(0)), // smlalbt
    (0xfb11_f012, &[(1, 0xffff_0005), (2, 0xfffd_0000)], THUMB, 0xffff_fff1, None), // smulbt r0, r1, r2
    (0xfb41_3002, &[(1, 0x0002_0003), (2, 0x0005_0007), (3, 100)], THUMB, 111, None), // smlsd
    (0xfb51_f002, &[(1, 0x4000_0000), (2, 0xffff_fff8)], THUMB, 0xffff_fffe, None), // smmul
    (0xfb61_3002, &[(1, 0x4000_0000), (2, 8), (3, 5)], THUMB, 3, None),          // smmls
    (0xfb31_f012, &[(1, 0x0001_0000), (2, 0x0003_0000)], THUMB, 3, None),        // smulwt
    (0xfb71_3002, &[(1, 0x0a00_0105), (2, 0x0001_0302), (3, 100)], THUMB, 116, None), // usada8
    (0xfa41_f092, &[(1, 200), (2, 0x0000_8000)], THUMB, 72, None),                // sxtab r0, r1, r2, ror #8
    (0xfa1f_f081, &[(1, 0x1234_5678)], THUMB, 0x5678, None),                     // uxth r0, r1
    (0xfa2f_f081, &[(1, 0x0080_017f)], THUMB, 0xff80_007f, None),                // sxtb16 r0, r1
    (0xfad1_f012, &[(1, 0x8000_0005), (2, 0x0001_0007)], THUMB, 0x8000_fffe, None), // qsub16
    (0xfaa1_f022, &[(1, 0x0004_0010), (2, 0x0006_0002)], THUMB, 0x0003_0005, None), // shasx
    (0xfa82_f0b1, &[(1, 100), (2, 0x4000_0000)], THUMB, 0x8000_0065, None),      // qdsub r0, r1, r2
    (0xfa82_f081, &[(1, 0x7fff_ffff), (2, 1)], THUMB, 0x7fff_ffff, None),        // qadd r0, r1, r2
    (0xfa91_f0a1, &[(1, 1)], THUMB, 0x8000_0000, None),                          // rbit r0, r1
    (0xfa91_f0b1, &[(1, 0x0000_80ff)], THUMB, 0xffff_ff80, None),                // revsh r0, r1
    (0xfa91_f091, &[(1, 0x1122_3344)], THUMB, 0x2211_4433, None),                // rev16 r0, r1
    (0xfaa1_f082, &[(1, 0x1111_1111), (2, 0x2222_2222)], THUMB | 0x5 << 16, 0x2211_2211, None), // sel
    (0xfab1_f081, &[(1, 0x0000_0100)], THUMB, 23, None),                         // clz r0, r1
    (0xeac1_4022, &[(1, 0xaaaa_bbbb), (2, 0x1234_5678)], THUMB, 0xaaaa_1234, None), // pkhtb r0, r1, r2, asr #16
    (0xeac1_2002, &[(1, 0xaaaa_bbbb), (2, 0x1234_5678)], THUMB, 0x3456_bbbb, None), // pkhbt r0, r1, r2, lsl #8
];

#[test]
fn step_t32_register_only_classes_compute_the_arm_arm_results() {
    for (w, regs, cpsr, r0, r1) in MEDIA_AND_MULTIPLY {
        let f = run_t32(w, regs, cpsr);
        assert_eq!(f.r[0], r0, "{w:#010x}");
        if let Some(r1) = r1 {
            assert_eq!(f.r[1], r1, "{w:#010x}");
        }
        assert_eq!(f.pc, T_ADDR + 4, "{w:#010x}");
    }
    // Q from the saturating forms, GE from the parallel ones.
    assert_ne!(
        run_t32(0xfa82_f081, &[(1, 0x7fff_ffff), (2, 1)], THUMB).cpsr & psr::Q,
        0
    );
    let f = run_t32(0xfa81_f042, &[(1, 0x01ff_0203), (2, 0x0101_0101)], THUMB); // uadd8
    assert_eq!((f.r[0], f.cpsr & psr::GE), (0x0200_0304, 0x4 << 16));
    // Every class of the group is among the cases.
    for kind in REGISTER_ONLY {
        assert!(
            MEDIA_AND_MULTIPLY.iter().any(|c| decode_t32(
                (c.0 >> 16) as u16,
                c.0 as u16,
                ItPosition::Outside
            ) == T32Decoded::Simulate(kind)),
            "{kind:?}"
        );
    }
}

/// The register-only classes, run as their A32 twin (`register_only_a32_twin`).
pub(super) const REGISTER_ONLY: [T32Kind; 12] = [
    T32Kind::PackHalfword,
    T32Kind::Extend,
    T32Kind::ParallelAddSubtract,
    T32Kind::SaturatingAddSubtract,
    T32Kind::Reverse,
    T32Kind::SelectBytes,
    T32Kind::CountLeadingZeros,
    T32Kind::Multiply,
    T32Kind::SignedMultiply,
    T32Kind::SumOfAbsoluteDifferences,
    T32Kind::LongMultiply,
    T32Kind::Divide,
];

/// (T32, A32) pairs of the register-only classes, both assembled by llvm-mc from the same
/// text (`-triple=thumbv7a-none-eabi -mattr=+hwdiv,+dsp` and `-triple=armv7a-none-eabi
/// -mattr=+hwdiv-arm`): twins that do not come from the engine's own field mapping.
#[rustfmt::skip]
const ASSEMBLED_TWINS: [(u32, u32); 294] = [
    (0xfb07_f30a, 0xe003_0a97), // mul r3, r7, r10
    (0xfb07_530a, 0xe023_5a97), // mla r3, r7, r10, r5
    (0xfb07_531a, 0xe063_5a97), // mls r3, r7, r10, r5
    (0xfb17_f30a, 0xe163_0a87), // smulbb r3, r7, r10
    (0xfb17_530a, 0xe103_5a87), // smlabb r3, r7, r10, r5
    (0xfbc7_298a, 0xe149_2a87), // smlalbb r2, r9, r7, r10
    (0xfb17_f31a, 0xe163_0ac7), // smulbt r3, r7, r10
    (0xfb17_531a, 0xe103_5ac7), // smlabt r3, r7, r10, r5
    (0xfbc7_299a, 0xe149_2ac7), // smlalbt r2, r9, r7, r10
    (0xfb37_f30a, 0xe123_0aa7), // smulwb r3, r7, r10
    (0xfb37_530a, 0xe123_5a87), // smlawb r3, r7, r10, r5
    (0xfb17_f32a, 0xe163_0aa7), // smultb r3, r7, r10
    (0xfb17_532a, 0xe103_5aa7), // smlatb r3, r7, r10, r5
    (0xfbc7_29aa, 0xe149_2aa7), // smlaltb r2, r9, r7, r10
    (0xfb17_f33a, 0xe163_0ae7), // smultt r3, r7, r10
    (0xfb17_533a, 0xe103_5ae7), // smlatt r3, r7, r10, r5
    (0xfbc7_29ba, 0xe149_2ae7), // smlaltt r2, r9, r7, r10
    (0xfb37_f31a, 0xe123_0ae7), // smulwt r3, r7, r10
    (0xfb37_531a, 0xe123_5ac7), // smlawt r3, r7, r10, r5
    (0xfb27_f30a, 0xe703_fa17), // smuad r3, r7, r10
    (0xfb27_530a, 0xe703_5a17), // smlad r3, r7, r10, r5
    (0xfb47_f30a, 0xe703_fa57), // smusd r3, r7, r10
    (0xfb47_530a, 0xe703_5a57), // smlsd r3, r7, r10, r5
    (0xfbc7_29ca, 0xe749_2a17), // smlald r2, r9, r7, r10
    (0xfbd7_29ca, 0xe749_2a57), // smlsld r2, r9, r7, r10
    (0xfb27_f31a, 0xe703_fa37), // smuadx r3, r7, r10
    (0xfb27_531a, 0xe703_5a37), // smladx r3, r7, r10, r5
    (0xfb47_f31a, 0xe703_fa77), // smusdx r3, r7, r10
    (0xfb47_531a, 0xe703_5a77), // smlsdx r3, r7, r10, r5
    (0xfbc7_29da, 0xe749_2a37), // smlaldx r2, r9, r7, r10
    (0xfbd7_29da, 0xe749_2a77), // smlsldx r2, r9, r7, r10
    (0xfb57_f30a, 0xe753_fa17), // smmul r3, r7, r10
    (0xfb57_530a, 0xe753_5a17), // smmla r3, r7, r10, r5
    (0xfb67_530a, 0xe753_5ad7), // smmls r3, r7, r10, r5
    (0xfb57_f31a, 0xe753_fa37), // smmulr r3, r7, r10
    (0xfb57_531a, 0xe753_5a37), // smmlar r3, r7, r10, r5
    (0xfb67_531a, 0xe753_5af7), // smmlsr r3, r7, r10, r5
    (0xfb77_f30a, 0xe783_fa17), // usad8 r3, r7, r10
    (0xfb77_530a, 0xe783_5a17), // usada8 r3, r7, r10, r5
    (0xfb87_290a, 0xe0c9_2a97), // smull r2, r9, r7, r10
    (0xfba7_290a, 0xe089_2a97), // umull r2, r9, r7, r10
    (0xfbc7_290a, 0xe0e9_2a97), // smlal r2, r9, r7, r10
    (0xfbe7_290a, 0xe0a9_2a97), // umlal r2, r9, r7, r10
    (0xfbe7_296a, 0xe049_2a97), // umaal r2, r9, r7, r10
    (0xfb97_f3fa, 0xe713_fa17), // sdiv r3, r7, r10
    (0xfbb7_f3fa, 0xe733_fa17), // udiv r3, r7, r10
    (0xfa0f_f38a, 0xe6bf_307a), // sxth r3, r10
    (0xfa0f_f39a, 0xe6bf_347a), // sxth r3, r10, ror #8
    (0xfa0f_f3aa, 0xe6bf_387a), // sxth r3, r10, ror #16
    (0xfa0f_f3ba, 0xe6bf_3c7a), // sxth r3, r10, ror #24
    (0xfa1f_f38a, 0xe6ff_307a), // uxth r3, r10
    (0xfa1f_f39a, 0xe6ff_347a), // uxth r3, r10, ror #8
    (0xfa1f_f3aa, 0xe6ff_387a), // uxth r3, r10, ror #16
    (0xfa1f_f3ba, 0xe6ff_3c7a), // uxth r3, r10, ror #24
    (0xfa2f_f38a, 0xe68f_307a), // sxtb16 r3, r10
    (0xfa2f_f39a, 0xe68f_347a), // sxtb16 r3, r10, ror #8
    (0xfa2f_f3aa, 0xe68f_387a), // sxtb16 r3, r10, ror #16
    (0xfa2f_f3ba, 0xe68f_3c7a), // sxtb16 r3, r10, ror #24
    (0xfa3f_f38a, 0xe6cf_307a), // uxtb16 r3, r10
    (0xfa3f_f39a, 0xe6cf_347a), // uxtb16 r3, r10, ror #8
    (0xfa3f_f3aa, 0xe6cf_387a), // uxtb16 r3, r10, ror #16
    (0xfa3f_f3ba, 0xe6cf_3c7a), // uxtb16 r3, r10, ror #24
    (0xfa4f_f38a, 0xe6af_307a), // sxtb r3, r10
    (0xfa4f_f39a, 0xe6af_347a), // sxtb r3, r10, ror #8
    (0xfa4f_f3aa, 0xe6af_387a), // sxtb r3, r10, ror #16
    (0xfa4f_f3ba, 0xe6af_3c7a), // sxtb r3, r10, ror #24
    (0xfa5f_f38a, 0xe6ef_307a), // uxtb r3, r10
    (0xfa5f_f39a, 0xe6ef_347a), // uxtb r3, r10, ror #8
    (0xfa5f_f3aa, 0xe6ef_387a), // uxtb r3, r10, ror #16
    (0xfa5f_f3ba, 0xe6ef_3c7a), // uxtb r3, r10, ror #24
    (0xfa07_f38a, 0xe6b7_307a), // sxtah r3, r7, r10
    (0xfa07_f39a, 0xe6b7_347a), // sxtah r3, r7, r10, ror #8
    (0xfa07_f3aa, 0xe6b7_387a), // sxtah r3, r7, r10, ror #16
    (0xfa07_f3ba, 0xe6b7_3c7a), // sxtah r3, r7, r10, ror #24
    (0xfa17_f38a, 0xe6f7_307a), // uxtah r3, r7, r10
    (0xfa17_f39a, 0xe6f7_347a), // uxtah r3, r7, r10, ror #8
    (0xfa17_f3aa, 0xe6f7_387a), // uxtah r3, r7, r10, ror #16
    (0xfa17_f3ba, 0xe6f7_3c7a), // uxtah r3, r7, r10, ror #24
    (0xfa27_f38a, 0xe687_307a), // sxtab16 r3, r7, r10
    (0xfa27_f39a, 0xe687_347a), // sxtab16 r3, r7, r10, ror #8
    (0xfa27_f3aa, 0xe687_387a), // sxtab16 r3, r7, r10, ror #16
    (0xfa27_f3ba, 0xe687_3c7a), // sxtab16 r3, r7, r10, ror #24
    (0xfa37_f38a, 0xe6c7_307a), // uxtab16 r3, r7, r10
    (0xfa37_f39a, 0xe6c7_347a), // uxtab16 r3, r7, r10, ror #8
    (0xfa37_f3aa, 0xe6c7_387a), // uxtab16 r3, r7, r10, ror #16
    (0xfa37_f3ba, 0xe6c7_3c7a), // uxtab16 r3, r7, r10, ror #24
    (0xfa47_f38a, 0xe6a7_307a), // sxtab r3, r7, r10
    (0xfa47_f39a, 0xe6a7_347a), // sxtab r3, r7, r10, ror #8
    (0xfa47_f3aa, 0xe6a7_387a), // sxtab r3, r7, r10, ror #16
    (0xfa47_f3ba, 0xe6a7_3c7a), // sxtab r3, r7, r10, ror #24
    (0xfa57_f38a, 0xe6e7_307a), // uxtab r3, r7, r10
    (0xfa57_f39a, 0xe6e7_347a), // uxtab r3, r7, r10, ror #8
    (0xfa57_f3aa, 0xe6e7_387a), // uxtab r3, r7, r10, ror #16
    (0xfa57_f3ba, 0xe6e7_3c7a), // uxtab r3, r7, r10, ror #24
    (0xfa97_f30a, 0xe617_3f1a), // sadd16 r3, r7, r10
    (0xfaa7_f30a, 0xe617_3f3a), // sasx r3, r7, r10
    (0xfae7_f30a, 0xe617_3f5a), // ssax r3, r7, r10
    (0xfad7_f30a, 0xe617_3f7a), // ssub16 r3, r7, r10
    (0xfa87_f30a, 0xe617_3f9a), // sadd8 r3, r7, r10
    (0xfac7_f30a, 0xe617_3ffa), // ssub8 r3, r7, r10
    (0xfa97_f31a, 0xe627_3f1a), // qadd16 r3, r7, r10
    (0xfaa7_f31a, 0xe627_3f3a), // qasx r3, r7, r10
    (0xfae7_f31a, 0xe627_3f5a), // qsax r3, r7, r10
    (0xfad7_f31a, 0xe627_3f7a), // qsub16 r3, r7, r10
    (0xfa87_f31a, 0xe627_3f9a), // qadd8 r3, r7, r10
    (0xfac7_f31a, 0xe627_3ffa), // qsub8 r3, r7, r10
    (0xfa97_f32a, 0xe637_3f1a), // shadd16 r3, r7, r10
    (0xfaa7_f32a, 0xe637_3f3a), // shasx r3, r7, r10
    (0xfae7_f32a, 0xe637_3f5a), // shsax r3, r7, r10
    (0xfad7_f32a, 0xe637_3f7a), // shsub16 r3, r7, r10
    (0xfa87_f32a, 0xe637_3f9a), // shadd8 r3, r7, r10
    (0xfac7_f32a, 0xe637_3ffa), // shsub8 r3, r7, r10
    (0xfa97_f34a, 0xe657_3f1a), // uadd16 r3, r7, r10
    (0xfaa7_f34a, 0xe657_3f3a), // uasx r3, r7, r10
    (0xfae7_f34a, 0xe657_3f5a), // usax r3, r7, r10
    (0xfad7_f34a, 0xe657_3f7a), // usub16 r3, r7, r10
    (0xfa87_f34a, 0xe657_3f9a), // uadd8 r3, r7, r10
    (0xfac7_f34a, 0xe657_3ffa), // usub8 r3, r7, r10
    (0xfa97_f35a, 0xe667_3f1a), // uqadd16 r3, r7, r10
    (0xfaa7_f35a, 0xe667_3f3a), // uqasx r3, r7, r10
    (0xfae7_f35a, 0xe667_3f5a), // uqsax r3, r7, r10
    (0xfad7_f35a, 0xe667_3f7a), // uqsub16 r3, r7, r10
    (0xfa87_f35a, 0xe667_3f9a), // uqadd8 r3, r7, r10
    (0xfac7_f35a, 0xe667_3ffa), // uqsub8 r3, r7, r10
    (0xfa97_f36a, 0xe677_3f1a), // uhadd16 r3, r7, r10
    (0xfaa7_f36a, 0xe677_3f3a), // uhasx r3, r7, r10
    (0xfae7_f36a, 0xe677_3f5a), // uhsax r3, r7, r10
    (0xfad7_f36a, 0xe677_3f7a), // uhsub16 r3, r7, r10
    (0xfa87_f36a, 0xe677_3f9a), // uhadd8 r3, r7, r10
    (0xfac7_f36a, 0xe677_3ffa), // uhsub8 r3, r7, r10
    (0xfa87_f38a, 0xe107_305a), // qadd r3, r10, r7
    (0xfa87_f39a, 0xe147_305a), // qdadd r3, r10, r7
    (0xfa87_f3aa, 0xe127_305a), // qsub r3, r10, r7
    (0xfa87_f3ba, 0xe167_305a), // qdsub r3, r10, r7
    (0xfa9a_f38a, 0xe6bf_3f3a), // rev r3, r10
    (0xfa9a_f39a, 0xe6bf_3fba), // rev16 r3, r10
    (0xfa9a_f3aa, 0xe6ff_3f3a), // rbit r3, r10
    (0xfa9a_f3ba, 0xe6ff_3fba), // revsh r3, r10
    (0xfaba_f38a, 0xe16f_3f1a), // clz r3, r10
    (0xfaa7_f38a, 0xe687_3fba), // sel r3, r7, r10
    (0xeac7_030a, 0xe687_301a), // pkhbt r3, r7, r10
    (0xeac7_034a, 0xe687_309a), // pkhbt r3, r7, r10, lsl #1
    (0xeac7_13ca, 0xe687_339a), // pkhbt r3, r7, r10, lsl #7
    (0xeac7_73ca, 0xe687_3f9a), // pkhbt r3, r7, r10, lsl #31
    (0xeac7_036a, 0xe687_30da), // pkhtb r3, r7, r10, asr #1
    (0xeac7_432a, 0xe687_385a), // pkhtb r3, r7, r10, asr #16
    (0xeac7_032a, 0xe687_305a), // pkhtb r3, r7, r10, asr #32
    (0xfb00_fc04, 0xe00c_0490), // mul r12, r0, r4
    (0xfb00_bc04, 0xe02c_b490), // mla r12, r0, r4, r11
    (0xfb00_bc14, 0xe06c_b490), // mls r12, r0, r4, r11
    (0xfb10_fc04, 0xe16c_0480), // smulbb r12, r0, r4
    (0xfb10_bc04, 0xe10c_b480), // smlabb r12, r0, r4, r11
    (0xfbc0_8184, 0xe141_8480), // smlalbb r8, r1, r0, r4
    (0xfb10_fc14, 0xe16c_04c0), // smulbt r12, r0, r4
    (0xfb10_bc14, 0xe10c_b4c0), // smlabt r12, r0, r4, r11
    (0xfbc0_8194, 0xe141_84c0), // smlalbt r8, r1, r0, r4
    (0xfb30_fc04, 0xe12c_04a0), // smulwb r12, r0, r4
    (0xfb30_bc04, 0xe12c_b480), // smlawb r12, r0, r4, r11
    (0xfb10_fc24, 0xe16c_04a0), // smultb r12, r0, r4
    (0xfb10_bc24, 0xe10c_b4a0), // smlatb r12, r0, r4, r11
    (0xfbc0_81a4, 0xe141_84a0), // smlaltb r8, r1, r0, r4
    (0xfb10_fc34, 0xe16c_04e0), // smultt r12, r0, r4
    (0xfb10_bc34, 0xe10c_b4e0), // smlatt r12, r0, r4, r11
    (0xfbc0_81b4, 0xe141_84e0), // smlaltt r8, r1, r0, r4
    (0xfb30_fc14, 0xe12c_04e0), // smulwt r12, r0, r4
    (0xfb30_bc14, 0xe12c_b4c0), // smlawt r12, r0, r4, r11
    (0xfb20_fc04, 0xe70c_f410), // smuad r12, r0, r4
    (0xfb20_bc04, 0xe70c_b410), // smlad r12, r0, r4, r11
    (0xfb40_fc04, 0xe70c_f450), // smusd r12, r0, r4
    (0xfb40_bc04, 0xe70c_b450), // smlsd r12, r0, r4, r11
    (0xfbc0_81c4, 0xe741_8410), // smlald r8, r1, r0, r4
    (0xfbd0_81c4, 0xe741_8450), // smlsld r8, r1, r0, r4
    (0xfb20_fc14, 0xe70c_f430), // smuadx r12, r0, r4
    (0xfb20_bc14, 0xe70c_b430), // smladx r12, r0, r4, r11
    (0xfb40_fc14, 0xe70c_f470), // smusdx r12, r0, r4
    (0xfb40_bc14, 0xe70c_b470), // smlsdx r12, r0, r4, r11
    (0xfbc0_81d4, 0xe741_8430), // smlaldx r8, r1, r0, r4
    (0xfbd0_81d4, 0xe741_8470), // smlsldx r8, r1, r0, r4
    (0xfb50_fc04, 0xe75c_f410), // smmul r12, r0, r4
    (0xfb50_bc04, 0xe75c_b410), // smmla r12, r0, r4, r11
    (0xfb60_bc04, 0xe75c_b4d0), // smmls r12, r0, r4, r11
    (0xfb50_fc14, 0xe75c_f430), // smmulr r12, r0, r4
    (0xfb50_bc14, 0xe75c_b430), // smmlar r12, r0, r4, r11
    (0xfb60_bc14, 0xe75c_b4f0), // smmlsr r12, r0, r4, r11
    (0xfb70_fc04, 0xe78c_f410), // usad8 r12, r0, r4
    (0xfb70_bc04, 0xe78c_b410), // usada8 r12, r0, r4, r11
    (0xfb80_8104, 0xe0c1_8490), // smull r8, r1, r0, r4
    (0xfba0_8104, 0xe081_8490), // umull r8, r1, r0, r4
    (0xfbc0_8104, 0xe0e1_8490), // smlal r8, r1, r0, r4
    (0xfbe0_8104, 0xe0a1_8490), // umlal r8, r1, r0, r4
    (0xfbe0_8164, 0xe041_8490), // umaal r8, r1, r0, r4
    (0xfb90_fcf4, 0xe71c_f410), // sdiv r12, r0, r4
    (0xfbb0_fcf4, 0xe73c_f410), // udiv r12, r0, r4
    (0xfa0f_fc84, 0xe6bf_c074), // sxth r12, r4
    (0xfa0f_fc94, 0xe6bf_c474), // sxth r12, r4, ror #8
    (0xfa0f_fca4, 0xe6bf_c874), // sxth r12, r4, ror #16
    (0xfa0f_fcb4, 0xe6bf_cc74), // sxth r12, r4, ror #24
    (0xfa1f_fc84, 0xe6ff_c074), // uxth r12, r4
    (0xfa1f_fc94, 0xe6ff_c474), // uxth r12, r4, ror #8
    (0xfa1f_fca4, 0xe6ff_c874), // uxth r12, r4, ror #16
    (0xfa1f_fcb4, 0xe6ff_cc74), // uxth r12, r4, ror #24
    (0xfa2f_fc84, 0xe68f_c074), // sxtb16 r12, r4
    (0xfa2f_fc94, 0xe68f_c474), // sxtb16 r12, r4, ror #8
    (0xfa2f_fca4, 0xe68f_c874), // sxtb16 r12, r4, ror #16
    (0xfa2f_fcb4, 0xe68f_cc74), // sxtb16 r12, r4, ror #24
    (0xfa3f_fc84, 0xe6cf_c074), // uxtb16 r12, r4
    (0xfa3f_fc94, 0xe6cf_c474), // uxtb16 r12, r4, ror #8
    (0xfa3f_fca4, 0xe6cf_c874), // uxtb16 r12, r4, ror #16
    (0xfa3f_fcb4, 0xe6cf_cc74), // uxtb16 r12, r4, ror #24
    (0xfa4f_fc84, 0xe6af_c074), // sxtb r12, r4
    (0xfa4f_fc94, 0xe6af_c474), // sxtb r12, r4, ror #8
    (0xfa4f_fca4, 0xe6af_c874), // sxtb r12, r4, ror #16
    (0xfa4f_fcb4, 0xe6af_cc74), // sxtb r12, r4, ror #24
    (0xfa5f_fc84, 0xe6ef_c074), // uxtb r12, r4
    (0xfa5f_fc94, 0xe6ef_c474), // uxtb r12, r4, ror #8
    (0xfa5f_fca4, 0xe6ef_c874), // uxtb r12, r4, ror #16
    (0xfa5f_fcb4, 0xe6ef_cc74), // uxtb r12, r4, ror #24
    (0xfa00_fc84, 0xe6b0_c074), // sxtah r12, r0, r4
    (0xfa00_fc94, 0xe6b0_c474), // sxtah r12, r0, r4, ror #8
    (0xfa00_fca4, 0xe6b0_c874), // sxtah r12, r0, r4, ror #16
    (0xfa00_fcb4, 0xe6b0_cc74), // sxtah r12, r0, r4, ror #24
    (0xfa10_fc84, 0xe6f0_c074), // uxtah r12, r0, r4
    (0xfa10_fc94, 0xe6f0_c474), // uxtah r12, r0, r4, ror #8
    (0xfa10_fca4, 0xe6f0_c874), // uxtah r12, r0, r4, ror #16
    (0xfa10_fcb4, 0xe6f0_cc74), // uxtah r12, r0, r4, ror #24
    (0xfa20_fc84, 0xe680_c074), // sxtab16 r12, r0, r4
    (0xfa20_fc94, 0xe680_c474), // sxtab16 r12, r0, r4, ror #8
    (0xfa20_fca4, 0xe680_c874), // sxtab16 r12, r0, r4, ror #16
    (0xfa20_fcb4, 0xe680_cc74), // sxtab16 r12, r0, r4, ror #24
    (0xfa30_fc84, 0xe6c0_c074), // uxtab16 r12, r0, r4
    (0xfa30_fc94, 0xe6c0_c474), // uxtab16 r12, r0, r4, ror #8
    (0xfa30_fca4, 0xe6c0_c874), // uxtab16 r12, r0, r4, ror #16
    (0xfa30_fcb4, 0xe6c0_cc74), // uxtab16 r12, r0, r4, ror #24
    (0xfa40_fc84, 0xe6a0_c074), // sxtab r12, r0, r4
    (0xfa40_fc94, 0xe6a0_c474), // sxtab r12, r0, r4, ror #8
    (0xfa40_fca4, 0xe6a0_c874), // sxtab r12, r0, r4, ror #16
    (0xfa40_fcb4, 0xe6a0_cc74), // sxtab r12, r0, r4, ror #24
    (0xfa50_fc84, 0xe6e0_c074), // uxtab r12, r0, r4
    (0xfa50_fc94, 0xe6e0_c474), // uxtab r12, r0, r4, ror #8
    (0xfa50_fca4, 0xe6e0_c874), // uxtab r12, r0, r4, ror #16
    (0xfa50_fcb4, 0xe6e0_cc74), // uxtab r12, r0, r4, ror #24
    (0xfa90_fc04, 0xe610_cf14), // sadd16 r12, r0, r4
    (0xfaa0_fc04, 0xe610_cf34), // sasx r12, r0, r4
    (0xfae0_fc04, 0xe610_cf54), // ssax r12, r0, r4
    (0xfad0_fc04, 0xe610_cf74), // ssub16 r12, r0, r4
    (0xfa80_fc04, 0xe610_cf94), // sadd8 r12, r0, r4
    (0xfac0_fc04, 0xe610_cff4), // ssub8 r12, r0, r4
    (0xfa90_fc14, 0xe620_cf14), // qadd16 r12, r0, r4
    (0xfaa0_fc14, 0xe620_cf34), // qasx r12, r0, r4
    (0xfae0_fc14, 0xe620_cf54), // qsax r12, r0, r4
    (0xfad0_fc14, 0xe620_cf74), // qsub16 r12, r0, r4
    (0xfa80_fc14, 0xe620_cf94), // qadd8 r12, r0, r4
    (0xfac0_fc14, 0xe620_cff4), // qsub8 r12, r0, r4
    (0xfa90_fc24, 0xe630_cf14), // shadd16 r12, r0, r4
    (0xfaa0_fc24, 0xe630_cf34), // shasx r12, r0, r4
    (0xfae0_fc24, 0xe630_cf54), // shsax r12, r0, r4
    (0xfad0_fc24, 0xe630_cf74), // shsub16 r12, r0, r4
    (0xfa80_fc24, 0xe630_cf94), // shadd8 r12, r0, r4
    (0xfac0_fc24, 0xe630_cff4), // shsub8 r12, r0, r4
    (0xfa90_fc44, 0xe650_cf14), // uadd16 r12, r0, r4
    (0xfaa0_fc44, 0xe650_cf34), // uasx r12, r0, r4
    (0xfae0_fc44, 0xe650_cf54), // usax r12, r0, r4
    (0xfad0_fc44, 0xe650_cf74), // usub16 r12, r0, r4
    (0xfa80_fc44, 0xe650_cf94), // uadd8 r12, r0, r4
    (0xfac0_fc44, 0xe650_cff4), // usub8 r12, r0, r4
    (0xfa90_fc54, 0xe660_cf14), // uqadd16 r12, r0, r4
    (0xfaa0_fc54, 0xe660_cf34), // uqasx r12, r0, r4
    (0xfae0_fc54, 0xe660_cf54), // uqsax r12, r0, r4
    (0xfad0_fc54, 0xe660_cf74), // uqsub16 r12, r0, r4
    (0xfa80_fc54, 0xe660_cf94), // uqadd8 r12, r0, r4
    (0xfac0_fc54, 0xe660_cff4), // uqsub8 r12, r0, r4
    (0xfa90_fc64, 0xe670_cf14), // uhadd16 r12, r0, r4
    (0xfaa0_fc64, 0xe670_cf34), // uhasx r12, r0, r4
    (0xfae0_fc64, 0xe670_cf54), // uhsax r12, r0, r4
    (0xfad0_fc64, 0xe670_cf74), // uhsub16 r12, r0, r4
    (0xfa80_fc64, 0xe670_cf94), // uhadd8 r12, r0, r4
    (0xfac0_fc64, 0xe670_cff4), // uhsub8 r12, r0, r4
    (0xfa80_fc84, 0xe100_c054), // qadd r12, r4, r0
    (0xfa80_fc94, 0xe140_c054), // qdadd r12, r4, r0
    (0xfa80_fca4, 0xe120_c054), // qsub r12, r4, r0
    (0xfa80_fcb4, 0xe160_c054), // qdsub r12, r4, r0
    (0xfa94_fc84, 0xe6bf_cf34), // rev r12, r4
    (0xfa94_fc94, 0xe6bf_cfb4), // rev16 r12, r4
    (0xfa94_fca4, 0xe6ff_cf34), // rbit r12, r4
    (0xfa94_fcb4, 0xe6ff_cfb4), // revsh r12, r4
    (0xfab4_fc84, 0xe16f_cf14), // clz r12, r4
    (0xfaa0_fc84, 0xe680_cfb4), // sel r12, r0, r4
    (0xeac0_0c04, 0xe680_c014), // pkhbt r12, r0, r4
    (0xeac0_0c44, 0xe680_c094), // pkhbt r12, r0, r4, lsl #1
    (0xeac0_1cc4, 0xe680_c394), // pkhbt r12, r0, r4, lsl #7
    (0xeac0_7cc4, 0xe680_cf94), // pkhbt r12, r0, r4, lsl #31
    (0xeac0_0c64, 0xe680_c0d4), // pkhtb r12, r0, r4, asr #1
    (0xeac0_4c24, 0xe680_c854), // pkhtb r12, r0, r4, asr #16
    (0xeac0_0c24, 0xe680_c054), // pkhtb r12, r0, r4, asr #32
];

#[test]
fn step_t32_register_only_classes_match_their_assembled_a32_twins_on_random_frames() {
    let mut rng = Rng(0x7a55_e3b1);
    let mut cases = 0;
    for (w, a32) in ASSEMBLED_TWINS {
        let (hw1, hw2) = ((w >> 16) as u16, w as u16);
        let T32Decoded::Simulate(kind) = decode_t32(hw1, hw2, ItPosition::Outside) else {
            panic!("{w:#010x} rejected");
        };
        assert!(REGISTER_ONLY.contains(&kind), "{w:#010x} {kind:?}");
        for _ in 0..16 {
            let it = rng.it_state();
            let mut thumb = TrapFrame::default();
            for n in 0..15 {
                thumb.set_reg(n, rng.value());
            }
            thumb.cpsr = with_it_state(THUMB | rng.next() & 0xf80f_0000, it);
            thumb.pc = T_ADDR;
            let mut arm = thumb;
            arm.cpsr &= !(psr::T | psr::IT);
            let cond = if it == 0 { 0xe } else { u32::from(it >> 4) };
            let before = thumb;
            step_t32(hw1, hw2, T_ADDR, &mut thumb, &mut Log::default()).unwrap();
            step(
                Insn(cond << 28 | a32 & 0x0fff_ffff),
                T_ADDR - 4,
                &mut arm,
                &mut Log::default(),
            )
            .unwrap();
            let what = || format!("{w:#010x} twin {a32:#010x} it {it:#04x} {before:x?}");
            for n in 0..15 {
                assert_eq!(thumb.reg(n), arm.reg(n), "r{n} {}", what());
            }
            let mask = !(psr::T | psr::IT);
            assert_eq!(thumb.cpsr & mask, arm.cpsr & mask, "{}", what());
            assert_eq!(it_state(thumb.cpsr), it_advance(it), "{}", what());
            assert_eq!(thumb.pc, T_ADDR + 4, "{}", what());
            cases += 1;
        }
    }
    for kind in REGISTER_ONLY {
        assert!(
            ASSEMBLED_TWINS.iter().any(|&(w, _)| decode_t32(
                (w >> 16) as u16,
                w as u16,
                ItPosition::Outside
            ) == T32Decoded::Simulate(kind)),
            "{kind:?}"
        );
    }
    assert_eq!(cases, 16 * ASSEMBLED_TWINS.len());
}
