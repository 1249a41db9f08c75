//! The T32 engine against A32 twins that llvm-mc assembled from the same text as the Thumb
//! instruction: data processing, shifts, bit fields, saturation, MOVW/MOVT, single, dual and
//! multiple loads and stores (PC loads included), on seeded random frames. These twins come
//! from neither the engine nor the other tests' twin builders, so a field both misread would
//! show here.

use super::thumb16::{Log, Rng};
use super::thumb32::{T_ADDR, THUMB};
use super::*;
use crate::decode::{ItPosition, T32Decoded, decode_t32};

/// (T32, A32) pairs: `llvm-mc -triple=thumbv7a-none-eabi -show-encoding` and
/// `-triple=armv7a-none-eabi` on the same line (`.w` dropped for A32).
#[rustfmt::skip]
const ASSEMBLED: [(u32, u32); 305] = [
    (0xf407_637f, 0xe207_3eff), // and.w r3, r7, #0xff0
    (0xf007_4300, 0xe207_3102), // and.w r3, r7, #0x80000000
    (0xf407_337f, 0xe207_3bff), // and.w r3, r7, #0x3fc00
    (0xf417_637f, 0xe217_3eff), // ands.w r3, r7, #0xff0
    (0xf017_4300, 0xe217_3102), // ands.w r3, r7, #0x80000000
    (0xf417_337f, 0xe217_3bff), // ands.w r3, r7, #0x3fc00
    (0xf427_637f, 0xe3c7_3eff), // bic.w r3, r7, #0xff0
    (0xf027_4300, 0xe3c7_3102), // bic.w r3, r7, #0x80000000
    (0xf427_337f, 0xe3c7_3bff), // bic.w r3, r7, #0x3fc00
    (0xf437_637f, 0xe3d7_3eff), // bics.w r3, r7, #0xff0
    (0xf037_4300, 0xe3d7_3102), // bics.w r3, r7, #0x80000000
    (0xf437_337f, 0xe3d7_3bff), // bics.w r3, r7, #0x3fc00
    (0xf447_637f, 0xe387_3eff), // orr.w r3, r7, #0xff0
    (0xf047_4300, 0xe387_3102), // orr.w r3, r7, #0x80000000
    (0xf447_337f, 0xe387_3bff), // orr.w r3, r7, #0x3fc00
    (0xf457_637f, 0xe397_3eff), // orrs.w r3, r7, #0xff0
    (0xf057_4300, 0xe397_3102), // orrs.w r3, r7, #0x80000000
    (0xf457_337f, 0xe397_3bff), // orrs.w r3, r7, #0x3fc00
    (0xf487_637f, 0xe227_3eff), // eor.w r3, r7, #0xff0
    (0xf087_4300, 0xe227_3102), // eor.w r3, r7, #0x80000000
    (0xf487_337f, 0xe227_3bff), // eor.w r3, r7, #0x3fc00
    (0xf497_637f, 0xe237_3eff), // eors.w r3, r7, #0xff0
    (0xf097_4300, 0xe237_3102), // eors.w r3, r7, #0x80000000
    (0xf497_337f, 0xe237_3bff), // eors.w r3, r7, #0x3fc00
    (0xf507_637f, 0xe287_3eff), // add.w r3, r7, #0xff0
    (0xf107_4300, 0xe287_3102), // add.w r3, r7, #0x80000000
    (0xf507_337f, 0xe287_3bff), // add.w r3, r7, #0x3fc00
    (0xf107_0301, 0xe287_3001), // add.w r3, r7, #1
    (0xf107_03ab, 0xe287_30ab), // add.w r3, r7, #0xab
    (0xf517_637f, 0xe297_3eff), // adds.w r3, r7, #0xff0
    (0xf117_4300, 0xe297_3102), // adds.w r3, r7, #0x80000000
    (0xf517_337f, 0xe297_3bff), // adds.w r3, r7, #0x3fc00
    (0xf117_0301, 0xe297_3001), // adds.w r3, r7, #1
    (0xf117_03ab, 0xe297_30ab), // adds.w r3, r7, #0xab
    (0xf5a7_637f, 0xe247_3eff), // sub.w r3, r7, #0xff0
    (0xf1a7_4300, 0xe247_3102), // sub.w r3, r7, #0x80000000
    (0xf5a7_337f, 0xe247_3bff), // sub.w r3, r7, #0x3fc00
    (0xf1a7_0301, 0xe247_3001), // sub.w r3, r7, #1
    (0xf1a7_03ab, 0xe247_30ab), // sub.w r3, r7, #0xab
    (0xf5b7_637f, 0xe257_3eff), // subs.w r3, r7, #0xff0
    (0xf1b7_4300, 0xe257_3102), // subs.w r3, r7, #0x80000000
    (0xf5b7_337f, 0xe257_3bff), // subs.w r3, r7, #0x3fc00
    (0xf1b7_0301, 0xe257_3001), // subs.w r3, r7, #1
    (0xf1b7_03ab, 0xe257_30ab), // subs.w r3, r7, #0xab
    (0xf5c7_637f, 0xe267_3eff), // rsb.w r3, r7, #0xff0
    (0xf1c7_4300, 0xe267_3102), // rsb.w r3, r7, #0x80000000
    (0xf5c7_337f, 0xe267_3bff), // rsb.w r3, r7, #0x3fc00
    (0xf5d7_637f, 0xe277_3eff), // rsbs.w r3, r7, #0xff0
    (0xf1d7_4300, 0xe277_3102), // rsbs.w r3, r7, #0x80000000
    (0xf5d7_337f, 0xe277_3bff), // rsbs.w r3, r7, #0x3fc00
    (0xf44f_637f, 0xe3a0_3eff), // mov.w r3, #0xff0
    (0xf04f_4300, 0xe3a0_3102), // mov.w r3, #0x80000000
    (0xf44f_337f, 0xe3a0_3bff), // mov.w r3, #0x3fc00
    (0xf04f_0301, 0xe3a0_3001), // mov.w r3, #1
    (0xf04f_03ab, 0xe3a0_30ab), // mov.w r3, #0xab
    (0xf45f_637f, 0xe3b0_3eff), // movs.w r3, #0xff0
    (0xf05f_4300, 0xe3b0_3102), // movs.w r3, #0x80000000
    (0xf45f_337f, 0xe3b0_3bff), // movs.w r3, #0x3fc00
    (0xf05f_0301, 0xe3b0_3001), // movs.w r3, #1
    (0xf05f_03ab, 0xe3b0_30ab), // movs.w r3, #0xab
    (0xf46f_637f, 0xe3e0_3eff), // mvn.w r3, #0xff0
    (0xf06f_4300, 0xe3e0_3102), // mvn.w r3, #0x80000000
    (0xf46f_337f, 0xe3e0_3bff), // mvn.w r3, #0x3fc00
    (0xf06f_0301, 0xe3e0_3001), // mvn.w r3, #1
    (0xf06f_03ab, 0xe3e0_30ab), // mvn.w r3, #0xab
    (0xf47f_637f, 0xe3f0_3eff), // mvns.w r3, #0xff0
    (0xf07f_4300, 0xe3f0_3102), // mvns.w r3, #0x80000000
    (0xf47f_337f, 0xe3f0_3bff), // mvns.w r3, #0x3fc00
    (0xf07f_0301, 0xe3f0_3001), // mvns.w r3, #1
    (0xf07f_03ab, 0xe3f0_30ab), // mvns.w r3, #0xab
    (0xf417_6f7f, 0xe317_0eff), // tst.w r7, #0xff0
    (0xf017_4f00, 0xe317_0102), // tst.w r7, #0x80000000
    (0xf417_3f7f, 0xe317_0bff), // tst.w r7, #0x3fc00
    (0xf497_6f7f, 0xe337_0eff), // teq.w r7, #0xff0
    (0xf097_4f00, 0xe337_0102), // teq.w r7, #0x80000000
    (0xf497_3f7f, 0xe337_0bff), // teq.w r7, #0x3fc00
    (0xf5b7_6f7f, 0xe357_0eff), // cmp.w r7, #0xff0
    (0xf1b7_4f00, 0xe357_0102), // cmp.w r7, #0x80000000
    (0xf5b7_3f7f, 0xe357_0bff), // cmp.w r7, #0x3fc00
    (0xf517_6f7f, 0xe377_0eff), // cmn.w r7, #0xff0
    (0xf117_4f00, 0xe377_0102), // cmn.w r7, #0x80000000
    (0xf517_3f7f, 0xe377_0bff), // cmn.w r7, #0x3fc00
    (0xea07_034a, 0xe007_308a), // and.w r3, r7, r10, lsl #1
    (0xea07_031a, 0xe007_302a), // and.w r3, r7, r10, lsr #32
    (0xea07_13ea, 0xe007_33ca), // and.w r3, r7, r10, asr #7
    (0xea07_03fa, 0xe007_31ea), // and.w r3, r7, r10, ror #3
    (0xea07_033a, 0xe007_306a), // and.w r3, r7, r10, rrx
    (0xea17_034a, 0xe017_308a), // ands.w r3, r7, r10, lsl #1
    (0xea17_031a, 0xe017_302a), // ands.w r3, r7, r10, lsr #32
    (0xea17_13ea, 0xe017_33ca), // ands.w r3, r7, r10, asr #7
    (0xea17_03fa, 0xe017_31ea), // ands.w r3, r7, r10, ror #3
    (0xea17_033a, 0xe017_306a), // ands.w r3, r7, r10, rrx
    (0xea27_034a, 0xe1c7_308a), // bic.w r3, r7, r10, lsl #1
    (0xea27_031a, 0xe1c7_302a), // bic.w r3, r7, r10, lsr #32
    (0xea27_13ea, 0xe1c7_33ca), // bic.w r3, r7, r10, asr #7
    (0xea27_03fa, 0xe1c7_31ea), // bic.w r3, r7, r10, ror #3
    (0xea27_033a, 0xe1c7_306a), // bic.w r3, r7, r10, rrx
    (0xea37_034a, 0xe1d7_308a), // bics.w r3, r7, r10, lsl #1
    (0xea37_031a, 0xe1d7_302a), // bics.w r3, r7, r10, lsr #32
    (0xea37_13ea, 0xe1d7_33ca), // bics.w r3, r7, r10, asr #7
    (0xea37_03fa, 0xe1d7_31ea), // bics.w r3, r7, r10, ror #3
    (0xea37_033a, 0xe1d7_306a), // bics.w r3, r7, r10, rrx
    (0xea47_034a, 0xe187_308a), // orr.w r3, r7, r10, lsl #1
    (0xea47_031a, 0xe187_302a), // orr.w r3, r7, r10, lsr #32
    (0xea47_13ea, 0xe187_33ca), // orr.w r3, r7, r10, asr #7
    (0xea47_03fa, 0xe187_31ea), // orr.w r3, r7, r10, ror #3
    (0xea47_033a, 0xe187_306a), // orr.w r3, r7, r10, rrx
    (0xea57_034a, 0xe197_308a), // orrs.w r3, r7, r10, lsl #1
    (0xea57_031a, 0xe197_302a), // orrs.w r3, r7, r10, lsr #32
    (0xea57_13ea, 0xe197_33ca), // orrs.w r3, r7, r10, asr #7
    (0xea57_03fa, 0xe197_31ea), // orrs.w r3, r7, r10, ror #3
    (0xea57_033a, 0xe197_306a), // orrs.w r3, r7, r10, rrx
    (0xea87_034a, 0xe027_308a), // eor.w r3, r7, r10, lsl #1
    (0xea87_031a, 0xe027_302a), // eor.w r3, r7, r10, lsr #32
    (0xea87_13ea, 0xe027_33ca), // eor.w r3, r7, r10, asr #7
    (0xea87_03fa, 0xe027_31ea), // eor.w r3, r7, r10, ror #3
    (0xea87_033a, 0xe027_306a), // eor.w r3, r7, r10, rrx
    (0xea97_034a, 0xe037_308a), // eors.w r3, r7, r10, lsl #1
    (0xea97_031a, 0xe037_302a), // eors.w r3, r7, r10, lsr #32
    (0xea97_13ea, 0xe037_33ca), // eors.w r3, r7, r10, asr #7
    (0xea97_03fa, 0xe037_31ea), // eors.w r3, r7, r10, ror #3
    (0xea97_033a, 0xe037_306a), // eors.w r3, r7, r10, rrx
    (0xeb07_034a, 0xe087_308a), // add.w r3, r7, r10, lsl #1
    (0xeb07_031a, 0xe087_302a), // add.w r3, r7, r10, lsr #32
    (0xeb07_13ea, 0xe087_33ca), // add.w r3, r7, r10, asr #7
    (0xeb07_03fa, 0xe087_31ea), // add.w r3, r7, r10, ror #3
    (0xeb07_033a, 0xe087_306a), // add.w r3, r7, r10, rrx
    (0xeb17_034a, 0xe097_308a), // adds.w r3, r7, r10, lsl #1
    (0xeb17_031a, 0xe097_302a), // adds.w r3, r7, r10, lsr #32
    (0xeb17_13ea, 0xe097_33ca), // adds.w r3, r7, r10, asr #7
    (0xeb17_03fa, 0xe097_31ea), // adds.w r3, r7, r10, ror #3
    (0xeb17_033a, 0xe097_306a), // adds.w r3, r7, r10, rrx
    (0xeb47_034a, 0xe0a7_308a), // adc.w r3, r7, r10, lsl #1
    (0xeb47_031a, 0xe0a7_302a), // adc.w r3, r7, r10, lsr #32
    (0xeb47_13ea, 0xe0a7_33ca), // adc.w r3, r7, r10, asr #7
    (0xeb47_03fa, 0xe0a7_31ea), // adc.w r3, r7, r10, ror #3
    (0xeb47_033a, 0xe0a7_306a), // adc.w r3, r7, r10, rrx
    (0xeb57_034a, 0xe0b7_308a), // adcs.w r3, r7, r10, lsl #1
    (0xeb57_031a, 0xe0b7_302a), // adcs.w r3, r7, r10, lsr #32
    (0xeb57_13ea, 0xe0b7_33ca), // adcs.w r3, r7, r10, asr #7
    (0xeb57_03fa, 0xe0b7_31ea), // adcs.w r3, r7, r10, ror #3
    (0xeb57_033a, 0xe0b7_306a), // adcs.w r3, r7, r10, rrx
    (0xeb67_034a, 0xe0c7_308a), // sbc.w r3, r7, r10, lsl #1
    (0xeb67_031a, 0xe0c7_302a), // sbc.w r3, r7, r10, lsr #32
    (0xeb67_13ea, 0xe0c7_33ca), // sbc.w r3, r7, r10, asr #7
    (0xeb67_03fa, 0xe0c7_31ea), // sbc.w r3, r7, r10, ror #3
    (0xeb67_033a, 0xe0c7_306a), // sbc.w r3, r7, r10, rrx
    (0xeb77_034a, 0xe0d7_308a), // sbcs.w r3, r7, r10, lsl #1
    (0xeb77_031a, 0xe0d7_302a), // sbcs.w r3, r7, r10, lsr #32
    (0xeb77_13ea, 0xe0d7_33ca), // sbcs.w r3, r7, r10, asr #7
    (0xeb77_03fa, 0xe0d7_31ea), // sbcs.w r3, r7, r10, ror #3
    (0xeb77_033a, 0xe0d7_306a), // sbcs.w r3, r7, r10, rrx
    (0xeba7_034a, 0xe047_308a), // sub.w r3, r7, r10, lsl #1
    (0xeba7_031a, 0xe047_302a), // sub.w r3, r7, r10, lsr #32
    (0xeba7_13ea, 0xe047_33ca), // sub.w r3, r7, r10, asr #7
    (0xeba7_03fa, 0xe047_31ea), // sub.w r3, r7, r10, ror #3
    (0xeba7_033a, 0xe047_306a), // sub.w r3, r7, r10, rrx
    (0xebb7_034a, 0xe057_308a), // subs.w r3, r7, r10, lsl #1
    (0xebb7_031a, 0xe057_302a), // subs.w r3, r7, r10, lsr #32
    (0xebb7_13ea, 0xe057_33ca), // subs.w r3, r7, r10, asr #7
    (0xebb7_03fa, 0xe057_31ea), // subs.w r3, r7, r10, ror #3
    (0xebb7_033a, 0xe057_306a), // subs.w r3, r7, r10, rrx
    (0xebc7_034a, 0xe067_308a), // rsb.w r3, r7, r10, lsl #1
    (0xebc7_031a, 0xe067_302a), // rsb.w r3, r7, r10, lsr #32
    (0xebc7_13ea, 0xe067_33ca), // rsb.w r3, r7, r10, asr #7
    (0xebc7_03fa, 0xe067_31ea), // rsb.w r3, r7, r10, ror #3
    (0xebc7_033a, 0xe067_306a), // rsb.w r3, r7, r10, rrx
    (0xebd7_034a, 0xe077_308a), // rsbs.w r3, r7, r10, lsl #1
    (0xebd7_031a, 0xe077_302a), // rsbs.w r3, r7, r10, lsr #32
    (0xebd7_13ea, 0xe077_33ca), // rsbs.w r3, r7, r10, asr #7
    (0xebd7_03fa, 0xe077_31ea), // rsbs.w r3, r7, r10, ror #3
    (0xebd7_033a, 0xe077_306a), // rsbs.w r3, r7, r10, rrx
    (0xea17_0f4a, 0xe117_008a), // tst.w r7, r10, lsl #1
    (0xea17_0f1a, 0xe117_002a), // tst.w r7, r10, lsr #32
    (0xea17_1fea, 0xe117_03ca), // tst.w r7, r10, asr #7
    (0xea17_0ffa, 0xe117_01ea), // tst.w r7, r10, ror #3
    (0xea17_0f3a, 0xe117_006a), // tst.w r7, r10, rrx
    (0xea97_0f4a, 0xe137_008a), // teq.w r7, r10, lsl #1
    (0xea97_0f1a, 0xe137_002a), // teq.w r7, r10, lsr #32
    (0xea97_1fea, 0xe137_03ca), // teq.w r7, r10, asr #7
    (0xea97_0ffa, 0xe137_01ea), // teq.w r7, r10, ror #3
    (0xea97_0f3a, 0xe137_006a), // teq.w r7, r10, rrx
    (0xebb7_0f4a, 0xe157_008a), // cmp.w r7, r10, lsl #1
    (0xebb7_0f1a, 0xe157_002a), // cmp.w r7, r10, lsr #32
    (0xebb7_1fea, 0xe157_03ca), // cmp.w r7, r10, asr #7
    (0xebb7_0ffa, 0xe157_01ea), // cmp.w r7, r10, ror #3
    (0xebb7_0f3a, 0xe157_006a), // cmp.w r7, r10, rrx
    (0xeb17_0f4a, 0xe177_008a), // cmn.w r7, r10, lsl #1
    (0xeb17_0f1a, 0xe177_002a), // cmn.w r7, r10, lsr #32
    (0xeb17_1fea, 0xe177_03ca), // cmn.w r7, r10, asr #7
    (0xeb17_0ffa, 0xe177_01ea), // cmn.w r7, r10, ror #3
    (0xeb17_0f3a, 0xe177_006a), // cmn.w r7, r10, rrx
    (0xea6f_137a, 0xe1e0_32ea), // mvn.w r3, r10, ror #5
    (0xea4f_134a, 0xe1a0_328a), // lsl.w r3, r10, #5
    (0xea4f_031a, 0xe1a0_302a), // lsr.w r3, r10, #32
    (0xea4f_236a, 0xe1a0_34ca), // asr.w r3, r10, #9
    (0xea4f_73fa, 0xe1a0_3fea), // ror.w r3, r10, #31
    (0xea4f_030a, 0xe1a0_300a), // mov.w r3, r10
    (0xfa07_f30a, 0xe1a0_3a17), // lsl.w r3, r7, r10
    (0xfa27_f30a, 0xe1a0_3a37), // lsr.w r3, r7, r10
    (0xfa47_f30a, 0xe1a0_3a57), // asr.w r3, r7, r10
    (0xfa67_f30a, 0xe1a0_3a77), // ror.w r3, r7, r10
    (0xea7f_137a, 0xe1f0_32ea), // mvns.w r3, r10, ror #5
    (0xea5f_134a, 0xe1b0_328a), // lsls.w r3, r10, #5
    (0xea5f_031a, 0xe1b0_302a), // lsrs.w r3, r10, #32
    (0xea5f_236a, 0xe1b0_34ca), // asrs.w r3, r10, #9
    (0xea5f_73fa, 0xe1b0_3fea), // rors.w r3, r10, #31
    (0xea5f_030a, 0xe1b0_300a), // movs.w r3, r10
    (0xfa17_f30a, 0xe1b0_3a17), // lsls.w r3, r7, r10
    (0xfa37_f30a, 0xe1b0_3a37), // lsrs.w r3, r7, r10
    (0xfa57_f30a, 0xe1b0_3a57), // asrs.w r3, r7, r10
    (0xfa77_f30a, 0xe1b0_3a77), // rors.w r3, r7, r10
    (0xeb0d_0d82, 0xe08d_d102), // add.w sp, sp, r2, lsl #2
    (0xebad_0342, 0xe04d_3082), // sub.w r3, sp, r2, lsl #1
    (0xf50d_637f, 0xe28d_3eff), // add.w r3, sp, #0xff0
    (0xf5ad_6d80, 0xe24d_db01), // sub.w sp, sp, #0x400
    (0xf3c7_03c8, 0xe7e8_31d7), // ubfx r3, r7, #3, #9
    (0xf347_031f, 0xe7bf_3057), // sbfx r3, r7, #0, #32
    (0xf347_73c0, 0xe7a0_3fd7), // sbfx r3, r7, #31, #1
    (0xf367_130b, 0xe7cb_3217), // bfi r3, r7, #4, #8
    (0xf36f_131f, 0xe7df_321f), // bfc r3, #4, #28
    (0xf307_1308, 0xe6a8_3217), // ssat r3, #9, r7, lsl #4
    (0xf3a7_03c9, 0xe6e9_31d7), // usat r3, #9, r7, asr #3
    (0xf307_031f, 0xe6bf_3017), // ssat r3, #32, r7
    (0xf387_0300, 0xe6e0_3017), // usat r3, #0, r7
    (0xf327_0308, 0xe6a8_3f37), // ssat16 r3, #9, r7
    (0xf3a7_030f, 0xe6ef_3f37), // usat16 r3, #15, r7
    (0xf64b_63ef, 0xe30b_3eef), // movw r3, #0xbeef
    (0xf6cd_63ad, 0xe34d_3ead), // movt r3, #0xdead
    (0xf8d7_3012, 0xe597_3012), // ldr.w r3, [r7, #0x12]
    (0xf857_3c12, 0xe517_3012), // ldr r3, [r7, #-0x12]
    (0xf857_3b04, 0xe497_3004), // ldr r3, [r7], #4
    (0xf857_3d08, 0xe537_3008), // ldr r3, [r7, #-8]!
    (0xf857_39ff, 0xe417_30ff), // ldr r3, [r7], #-255
    (0xf857_300a, 0xe797_300a), // ldr.w r3, [r7, r10]
    (0xf857_302a, 0xe797_310a), // ldr.w r3, [r7, r10, lsl #2]
    (0xf857_303a, 0xe797_318a), // ldr.w r3, [r7, r10, lsl #3]
    (0xf897_3012, 0xe5d7_3012), // ldrb.w r3, [r7, #0x12]
    (0xf817_3c12, 0xe557_3012), // ldrb r3, [r7, #-0x12]
    (0xf817_3b04, 0xe4d7_3004), // ldrb r3, [r7], #4
    (0xf817_3d08, 0xe577_3008), // ldrb r3, [r7, #-8]!
    (0xf817_39ff, 0xe457_30ff), // ldrb r3, [r7], #-255
    (0xf817_300a, 0xe7d7_300a), // ldrb.w r3, [r7, r10]
    (0xf817_302a, 0xe7d7_310a), // ldrb.w r3, [r7, r10, lsl #2]
    (0xf817_303a, 0xe7d7_318a), // ldrb.w r3, [r7, r10, lsl #3]
    (0xf997_3012, 0xe1d7_31d2), // ldrsb.w r3, [r7, #0x12]
    (0xf917_3c12, 0xe157_31d2), // ldrsb r3, [r7, #-0x12]
    (0xf917_3b04, 0xe0d7_30d4), // ldrsb r3, [r7], #4
    (0xf917_3d08, 0xe177_30d8), // ldrsb r3, [r7, #-8]!
    (0xf917_39ff, 0xe057_3fdf), // ldrsb r3, [r7], #-255
    (0xf917_300a, 0xe197_30da), // ldrsb.w r3, [r7, r10]
    (0xf8b7_3012, 0xe1d7_31b2), // ldrh.w r3, [r7, #0x12]
    (0xf837_3c12, 0xe157_31b2), // ldrh r3, [r7, #-0x12]
    (0xf837_3b04, 0xe0d7_30b4), // ldrh r3, [r7], #4
    (0xf837_3d08, 0xe177_30b8), // ldrh r3, [r7, #-8]!
    (0xf837_39ff, 0xe057_3fbf), // ldrh r3, [r7], #-255
    (0xf837_300a, 0xe197_30ba), // ldrh.w r3, [r7, r10]
    (0xf9b7_3012, 0xe1d7_31f2), // ldrsh.w r3, [r7, #0x12]
    (0xf937_3c12, 0xe157_31f2), // ldrsh r3, [r7, #-0x12]
    (0xf937_3b04, 0xe0d7_30f4), // ldrsh r3, [r7], #4
    (0xf937_3d08, 0xe177_30f8), // ldrsh r3, [r7, #-8]!
    (0xf937_39ff, 0xe057_3fff), // ldrsh r3, [r7], #-255
    (0xf937_300a, 0xe197_30fa), // ldrsh.w r3, [r7, r10]
    (0xf8c7_3012, 0xe587_3012), // str.w r3, [r7, #0x12]
    (0xf847_3c12, 0xe507_3012), // str r3, [r7, #-0x12]
    (0xf847_3b04, 0xe487_3004), // str r3, [r7], #4
    (0xf847_3d08, 0xe527_3008), // str r3, [r7, #-8]!
    (0xf847_39ff, 0xe407_30ff), // str r3, [r7], #-255
    (0xf847_300a, 0xe787_300a), // str.w r3, [r7, r10]
    (0xf847_302a, 0xe787_310a), // str.w r3, [r7, r10, lsl #2]
    (0xf847_303a, 0xe787_318a), // str.w r3, [r7, r10, lsl #3]
    (0xf887_3012, 0xe5c7_3012), // strb.w r3, [r7, #0x12]
    (0xf807_3c12, 0xe547_3012), // strb r3, [r7, #-0x12]
    (0xf807_3b04, 0xe4c7_3004), // strb r3, [r7], #4
    (0xf807_3d08, 0xe567_3008), // strb r3, [r7, #-8]!
    (0xf807_39ff, 0xe447_30ff), // strb r3, [r7], #-255
    (0xf807_300a, 0xe7c7_300a), // strb.w r3, [r7, r10]
    (0xf807_302a, 0xe7c7_310a), // strb.w r3, [r7, r10, lsl #2]
    (0xf807_303a, 0xe7c7_318a), // strb.w r3, [r7, r10, lsl #3]
    (0xf8a7_3012, 0xe1c7_31b2), // strh.w r3, [r7, #0x12]
    (0xf827_3c12, 0xe147_31b2), // strh r3, [r7, #-0x12]
    (0xf827_3b04, 0xe0c7_30b4), // strh r3, [r7], #4
    (0xf827_3d08, 0xe167_30b8), // strh r3, [r7, #-8]!
    (0xf827_39ff, 0xe047_3fbf), // strh r3, [r7], #-255
    (0xf827_300a, 0xe187_30ba), // strh.w r3, [r7, r10]
    (0xf8d7_f004, 0xe597_f004), // ldr.w pc, [r7, #4]
    (0xf857_fb04, 0xe497_f004), // ldr pc, [r7], #4
    (0xf857_f02a, 0xe797_f10a), // ldr.w pc, [r7, r10, lsl #2]
    (0xf8c7_d008, 0xe587_d008), // str.w sp, [r7, #8]
    (0xf8d7_d008, 0xe597_d008), // ldr.w sp, [r7, #8]
    (0xe9d7_2302, 0xe1c7_20d8), // ldrd r2, r3, [r7, #8]
    (0xe967_2304, 0xe167_21f0), // strd r2, r3, [r7, #-16]!
    (0xe8f7_2302, 0xe0c7_20d8), // ldrd r2, r3, [r7], #8
    (0xe9c7_4500, 0xe1c7_40f0), // strd r4, r5, [r7]
    (0xe957_013f, 0xe147_0fdc), // ldrd r0, r1, [r7, #-252]
    (0xe8b7_0205, 0xe8b7_0205), // ldm.w r7!, {r0, r2, r9}
    (0xe917_0006, 0xe917_0006), // ldmdb r7, {r1, r2}
    (0xe927_003e, 0xe927_003e), // stmdb r7!, {r1, r2, r3, r4, r5}
    (0xe887_0401, 0xe887_0401), // stm.w r7, {r0, r10}
    (0xe92d_4ff0, 0xe92d_4ff0), // push.w {r4-r11, lr}
    (0xe8bd_8ff0, 0xe8bd_8ff0), // pop.w {r4-r11, pc}
    (0xe8bd_0030, 0xe8bd_0030), // pop.w {r4, r5}
    (0xe897_8003, 0xe897_8003), // ldm.w r7, {r0, r1, pc}
    (0xe92d_0081, 0xe92d_0081), // stmdb sp!, {r0, r7}
    (0xe937_5001, 0xe937_5001), // ldmdb r7!, {r0, r12, lr}
];

#[test]
fn step_t32_matches_llvm_mc_assembled_a32_twins_on_random_frames() {
    let mut rng = Rng(0x11e3_a5b1);
    let (mut done, mut errors) = (0, 0);
    for (w, a32) in ASSEMBLED {
        let (hw1, hw2) = ((w >> 16) as u16, w as u16);
        assert!(
            matches!(
                decode_t32(hw1, hw2, ItPosition::Outside),
                T32Decoded::Simulate(_)
            ),
            "{w:#010x}"
        );
        for _ in 0..32 {
            let it = rng.it_state();
            let mut thumb = TrapFrame::default();
            for n in 0..15 {
                thumb.set_reg(n, rng.value());
            }
            let e = if rng.next().is_multiple_of(8) {
                psr::E
            } else {
                0
            };
            thumb.cpsr = with_it_state(THUMB | e | rng.next() & 0xf800_0000, it);
            thumb.pc = T_ADDR;
            let mut arm = thumb;
            arm.cpsr &= !(psr::T | psr::IT);
            arm.pc = T_ADDR - 4;
            let cond = if it == 0 { 0xe } else { u32::from(it >> 4) };
            let before = thumb;
            let (mut tm, mut am) = (Log::default(), Log::default());
            let t = step_t32(hw1, hw2, T_ADDR, &mut thumb, &mut tm);
            if let Err(StepError::Rejected(_)) = t {
                // A PC load placed inside (not last in) an IT block.
                assert!(it != 0, "{w:#010x}");
                assert_eq!(thumb, before);
                continue;
            }
            let a = step(
                Insn(cond << 28 | a32 & 0x0fff_ffff),
                T_ADDR - 4,
                &mut arm,
                &mut am,
            );
            let what = || format!("{w:#010x} twin {a32:#010x} it {it:#04x} {before:x?}");
            assert_eq!(t, a, "{}", what());
            assert_eq!(tm.writes, am.writes, "{}", what());
            if t.is_err() {
                assert_eq!(thumb, before, "{}", what());
                errors += 1;
                continue;
            }
            done += 1;
            for n in 0..15 {
                assert_eq!(thumb.reg(n), arm.reg(n), "r{n} {}", what());
            }
            let mask = !(psr::T | psr::IT);
            assert_eq!(thumb.cpsr & mask, arm.cpsr & mask, "{}", what());
            assert_eq!(it_state(thumb.cpsr), it_advance(it), "{}", what());
            if arm.pc != T_ADDR {
                // A PC load: the same target and the same instruction set.
                assert_eq!(thumb.pc, arm.pc, "{}", what());
                assert_eq!(thumb.cpsr & psr::T, arm.cpsr & psr::T, "{}", what());
            } else {
                assert_eq!(thumb.pc, T_ADDR + 4, "{}", what());
                assert_eq!(thumb.cpsr & psr::T, psr::T, "{}", what());
            }
        }
    }
    std::println!("{done} cases, {errors} errors");
    assert!(done > 16 * ASSEMBLED.len(), "{done} cases, {errors} errors");
}
