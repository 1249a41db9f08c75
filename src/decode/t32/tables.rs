//! The T32 decode tables (ARM ARM ARMv7-A section A6.3), one row a line: the data the T32
//! decoder walks, kept apart so the encodings read like the manual's tables.
//!
//! Each row's encoding is a 32-bit ARM ARM bit pattern over `hw1:hw2` (see `pattern`): the
//! first four groups are hw1, the last four hw2. `0`/`1` select the row, letters are bits it
//! does not look at (`nnnn` Rn, `tttt` Rt, `dddd` Rd, `mmmm` Rm, `aaaa` Ra, `llll`/`hhhh`
//! RdLo/RdHi, `iiii` immediates, `rrrr` register lists, `cccc` a condition, `x` anything else).
//! Should-be bits (`(0)`, `(1)` in the manual) are not part of the pattern: `sbz`/`sbo` give
//! them, as word masks. A check names the register position it reads ([`T32RegisterField`]).

use super::entry::{T32Check as C, T32Entry, T32RegisterField, reject, sim, table};
use super::{RejectReason as R, T32Kind as K};
use T32RegisterField::{D, M, N, T};

/// `BadReg(Rd) || BadReg(Rn) || BadReg(Rm)`.
const BAD_DNM: &[C] = &[C::NotSpOrPc(D), C::NotSpOrPc(N), C::NotSpOrPc(M)];
/// `BadReg(Rd) || BadReg(Rn)`.
const BAD_DN: &[C] = &[C::NotSpOrPc(D), C::NotSpOrPc(N)];
/// `BadReg(Rd) || BadReg(Rm)`.
const BAD_DM: &[C] = &[C::NotSpOrPc(D), C::NotSpOrPc(M)];
/// The multiply-accumulate rules: `BadReg(d) || BadReg(n) || BadReg(m) || a == 13`.
const MULTIPLY_ACCUMULATE: &[C] = &[
    C::NotSpOrPc(D),
    C::NotSpOrPc(N),
    C::NotSpOrPc(M),
    C::NotSp(T),
];
/// MLS and SMMLS take no `Ra == 1111` short form: `BadReg(a)` too.
const MULTIPLY_SUBTRACT: &[C] = &[
    C::NotSpOrPc(D),
    C::NotSpOrPc(N),
    C::NotSpOrPc(M),
    C::NotSpOrPc(T),
];
/// The long multiplies: `BadReg` for RdLo, RdHi, Rn, Rm, and RdHi != RdLo.
const LONG_MULTIPLY: &[C] = &[
    C::NotSpOrPc(T),
    C::NotSpOrPc(D),
    C::NotSpOrPc(N),
    C::NotSpOrPc(M),
    C::DistinctDestinations,
];
/// `(0)` at hw2 bit 15 (data-processing, shifted register).
const HW2_BIT15: u32 = 0x8000;
/// `(0)` at hw1 bit 10 and hw2 bit 5 (saturate, bitfield).
const SATURATE_BITFIELD_ZEROS: u32 = 0x0400_0020;
/// `(1)(1)(1)(1)` at hw1 bits 3:0 (hints, barriers, MRS).
const HW1_LOW_ONES: u32 = 0x000f_0000;

/// The whole 32-bit Thumb space (ARM ARM A6.3, by op1 = hw1 12:11, op2 = hw1 10:4 and
/// op = hw2 15). A first halfword `1110 0xxx` is T16's B, no T32 prefix: no row, UNDEFINED; so
/// are the load forms `1111 100x x111` (op2 `00xx111`).
#[rustfmt::skip]
pub static T32: &[T32Entry] = &[
    table("load/store multiple", "1110 100x x0xx xxxx xxxx xxxx xxxx xxxx", LOAD_STORE_MULTIPLE),
    table("load/store dual, load/store exclusive, table branch", "1110 100x x1xx xxxx xxxx xxxx xxxx xxxx", DUAL_EXCLUSIVE_TABLE_BRANCH),
    table("data-processing (shifted register)", "1110 101x xxxx xxxx xxxx xxxx xxxx xxxx", DATA_PROCESSING_SHIFTED_REGISTER),
    table("coprocessor, Advanced SIMD, floating-point", "111x 11xx xxxx xxxx xxxx xxxx xxxx xxxx", COPROCESSOR),
    table("data-processing (modified immediate)", "1111 0x0x xxxx xxxx 0xxx xxxx xxxx xxxx", DATA_PROCESSING_MODIFIED_IMMEDIATE),
    table("data-processing (plain binary immediate)", "1111 0x1x xxxx xxxx 0xxx xxxx xxxx xxxx", DATA_PROCESSING_PLAIN_IMMEDIATE),
    table("branches and miscellaneous control", "1111 0xxx xxxx xxxx 1xxx xxxx xxxx xxxx", BRANCHES_AND_MISCELLANEOUS_CONTROL),
    table("store single data item", "1111 1000 xxx0 xxxx xxxx xxxx xxxx xxxx", STORE_SINGLE),
    table("load byte, memory hints", "1111 100x x001 xxxx xxxx xxxx xxxx xxxx", LOAD_BYTE),
    table("load halfword, memory hints", "1111 100x x011 xxxx xxxx xxxx xxxx xxxx", LOAD_HALFWORD),
    table("load word", "1111 100x x101 xxxx xxxx xxxx xxxx xxxx", LOAD_WORD),
    reject("Advanced SIMD element or structure load/store", "1111 1001 xxx0 xxxx xxxx xxxx xxxx xxxx", R::FloatingPointOrSimd),
    table("data-processing (register)", "1111 1010 xxxx xxxx xxxx xxxx xxxx xxxx", DATA_PROCESSING_REGISTER),
    table("multiply, multiply accumulate, absolute difference", "1111 1011 0xxx xxxx xxxx xxxx xxxx xxxx", MULTIPLY),
    table("long multiply, long multiply accumulate, divide", "1111 1011 1xxx xxxx xxxx xxxx xxxx xxxx", LONG_MULTIPLY_DIVIDE),
];

/// A6.3.5: op (hw1 8:7), W (5), L (4). PUSH and POP are the SP! forms of STMDB and LDM.
#[rustfmt::skip]
const LOAD_STORE_MULTIPLE: &[T32Entry] = &[
    reject("SRS encoding T1 (SRSDB)", "1110 1000 00x0 xxxx xxxx xxxx xxxx xxxx", R::BankedRegister),
    reject("RFE encoding T1 (RFEDB)", "1110 1000 00x1 xxxx xxxx xxxx xxxx xxxx", R::ExceptionReturn),
    sim("STM (STMIA, STMEA) T2", "1110 1000 10x0 nnnn xxrr rrrr rrrr rrrr", K::StoreMultiple).sbz(0xa000).checks(&[C::NotPc(N), C::AtLeastTwoRegisters, C::WritebackBaseNotInList]),
    sim("POP T2", "1110 1000 1011 1101 xxrr rrrr rrrr rrrr", K::Pop).sbz(0x2000).checks(&[C::AtLeastTwoRegisters, C::NotBothPcAndLr, C::ListPcOutsideOrLastInItBlock]),
    sim("LDM (LDMIA, LDMFD) T2", "1110 1000 10x1 nnnn xxrr rrrr rrrr rrrr", K::LoadMultiple).sbz(0x2000).checks(&[C::NotPc(N), C::AtLeastTwoRegisters, C::NotBothPcAndLr, C::ListPcOutsideOrLastInItBlock, C::WritebackBaseNotInList]),
    sim("PUSH T2", "1110 1001 0010 1101 xxrr rrrr rrrr rrrr", K::Push).sbz(0xa000).checks(&[C::AtLeastTwoRegisters]),
    sim("STMDB (STMFD) T1", "1110 1001 00x0 nnnn xxrr rrrr rrrr rrrr", K::StoreMultiple).sbz(0xa000).checks(&[C::NotPc(N), C::AtLeastTwoRegisters, C::WritebackBaseNotInList]),
    sim("LDMDB (LDMEA) T1", "1110 1001 00x1 nnnn xxrr rrrr rrrr rrrr", K::LoadMultiple).sbz(0x2000).checks(&[C::NotPc(N), C::AtLeastTwoRegisters, C::NotBothPcAndLr, C::ListPcOutsideOrLastInItBlock, C::WritebackBaseNotInList]),
    reject("SRS encoding T2 (SRSIA)", "1110 1001 10x0 xxxx xxxx xxxx xxxx xxxx", R::BankedRegister),
    reject("RFE encoding T2 (RFEIA)", "1110 1001 10x1 xxxx xxxx xxxx xxxx xxxx", R::ExceptionReturn),
];

/// A6.3.6: op1 (hw1 8:7), op2 (hw1 5:4), op3 (hw2 7:4). With P (8) and W (5) both clear the
/// space is the exclusives and the table branches; otherwise LDRD/STRD.
#[rustfmt::skip]
const DUAL_EXCLUSIVE_TABLE_BRANCH: &[T32Entry] = &[
    reject("STREX", "1110 1000 0100 xxxx xxxx xxxx xxxx xxxx", R::Exclusive),
    reject("LDREX", "1110 1000 0101 xxxx xxxx xxxx xxxx xxxx", R::Exclusive),
    reject("STREXB, STREXH", "1110 1000 1100 xxxx xxxx xxxx 010x xxxx", R::Exclusive),
    reject("STREXD", "1110 1000 1100 xxxx xxxx xxxx 0111 xxxx", R::Exclusive),
    sim("TBB, TBH", "1110 1000 1101 nnnn xxxx xxxx 000x mmmm", K::TableBranch).sbo(0xf000).sbz(0x0f00).checks(&[C::NotSp(N), C::NotSpOrPc(M), C::OutsideOrLastInItBlock]),
    reject("LDREXB, LDREXH", "1110 1000 1101 xxxx xxxx xxxx 010x xxxx", R::Exclusive),
    reject("LDREXD", "1110 1000 1101 xxxx xxxx xxxx 0111 xxxx", R::Exclusive),
    reject("unallocated exclusive and table branch op3", "1110 1000 x10x xxxx xxxx xxxx xxxx xxxx", R::Undefined),
    sim("LDRD (literal)", "1110 100x x1x1 1111 tttt dddd iiii iiii", K::LoadDualLiteral).checks(&[C::NotSpOrPc(T), C::NotSpOrPc(D), C::DualDistinctRegisters, C::NoWriteback]),
    sim("STRD (immediate)", "1110 100x x1x0 nnnn tttt dddd iiii iiii", K::LoadStoreDual).checks(&[C::NotPc(N), C::NotSpOrPc(T), C::NotSpOrPc(D), C::DualWritebackBaseNotTransferred]),
    sim("LDRD (immediate)", "1110 100x x1x1 nnnn tttt dddd iiii iiii", K::LoadStoreDual).checks(&[C::NotSpOrPc(T), C::NotSpOrPc(D), C::DualDistinctRegisters, C::DualWritebackBaseNotTransferred]),
];

/// A6.3.11: op (hw1 8:5), S (4), Rn; hw2 is `(0) imm3 Rd imm2 type Rm`. With Rd = 1111 and S
/// the logical and arithmetic forms are the tests and compares; with Rn = 1111, ORR and ORN are
/// MOV (and the immediate shifts) and MVN.
#[rustfmt::skip]
const DATA_PROCESSING_SHIFTED_REGISTER: &[T32Entry] = &[
    sim("TST (register)", "1110 1010 0001 nnnn xiii 1111 iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(&[C::NotSpOrPc(N), C::NotSpOrPc(M)]),
    sim("AND (register)", "1110 1010 000x nnnn xiii dddd iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(BAD_DNM),
    sim("BIC (register)", "1110 1010 001x nnnn xiii dddd iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(BAD_DNM),
    sim("MOV (register) T3", "1110 1010 010x 1111 x000 dddd 0000 mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(&[C::MoveRegisterOperands]),
    sim("LSL, LSR, ASR, ROR, RRX (immediate)", "1110 1010 010x 1111 xiii dddd iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(BAD_DM),
    sim("ORR (register)", "1110 1010 010x nnnn xiii dddd iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(&[C::NotSpOrPc(D), C::NotSp(N), C::NotSpOrPc(M)]),
    sim("MVN (register)", "1110 1010 011x 1111 xiii dddd iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(BAD_DM),
    sim("ORN (register)", "1110 1010 011x nnnn xiii dddd iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(&[C::NotSpOrPc(D), C::NotSp(N), C::NotSpOrPc(M)]),
    sim("TEQ (register)", "1110 1010 1001 nnnn xiii 1111 iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(&[C::NotSpOrPc(N), C::NotSpOrPc(M)]),
    sim("EOR (register)", "1110 1010 100x nnnn xiii dddd iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(BAD_DNM),
    sim("PKHBT, PKHTB", "1110 1010 1100 nnnn xiii dddd iix0 mmmm", K::PackHalfword).sbz(HW2_BIT15).checks(BAD_DNM),
    sim("CMN (register) T2", "1110 1011 0001 nnnn xiii 1111 iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(&[C::NotPc(N), C::NotSpOrPc(M)]),
    sim("ADD (register) T3, ADD (SP plus register) T3", "1110 1011 000x nnnn xiii dddd iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(&[C::NotPc(N), C::AddSubtractDestination, C::StackDestinationShiftLimited, C::NotSpOrPc(M)]),
    sim("ADC (register)", "1110 1011 010x nnnn xiii dddd iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(BAD_DNM),
    sim("SBC (register)", "1110 1011 011x nnnn xiii dddd iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(BAD_DNM),
    sim("CMP (register) T3", "1110 1011 1011 nnnn xiii 1111 iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(&[C::NotPc(N), C::NotSpOrPc(M)]),
    sim("SUB (register) T2, SUB (SP minus register)", "1110 1011 101x nnnn xiii dddd iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(&[C::NotPc(N), C::AddSubtractDestination, C::StackDestinationShiftLimited, C::NotSpOrPc(M)]),
    sim("RSB (register)", "1110 1011 110x nnnn xiii dddd iitt mmmm", K::DataProcessingShiftedRegister).sbz(HW2_BIT15).checks(BAD_DNM),
];

/// A6.3.18: coproc (hw2 11:8) 101x is floating-point and Advanced SIMD; `111x 1111` Advanced
/// SIMD data-processing; op1 (hw1 9:4) `00000x` UNDEFINED.
#[rustfmt::skip]
const COPROCESSOR: &[T32Entry] = &[
    reject("Advanced SIMD data-processing", "111x 1111 xxxx xxxx xxxx xxxx xxxx xxxx", R::FloatingPointOrSimd),
    reject("coprocessor op1 00000x", "111x 1100 000x xxxx xxxx xxxx xxxx xxxx", R::Undefined),
    reject("floating-point, Advanced SIMD transfers and loads (coprocessors 10, 11)", "111x 11xx xxxx xxxx xxxx 101x xxxx xxxx", R::FloatingPointOrSimd),
    reject("STC, LDC, MCRR, MRRC, CDP, MCR, MRC", "111x 11xx xxxx xxxx xxxx xxxx xxxx xxxx", R::Coprocessor),
];

/// A6.3.1: op (hw1 8:5), S (4), Rn; hw2 is `0 imm3 Rd imm8`.
#[rustfmt::skip]
const DATA_PROCESSING_MODIFIED_IMMEDIATE: &[T32Entry] = &[
    sim("TST (immediate)", "1111 0x00 0001 nnnn 0iii 1111 iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotSpOrPc(N), C::ModifiedImmediateValid]),
    sim("AND (immediate)", "1111 0x00 000x nnnn 0iii dddd iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotSpOrPc(D), C::NotSpOrPc(N), C::ModifiedImmediateValid]),
    sim("BIC (immediate)", "1111 0x00 001x nnnn 0iii dddd iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotSpOrPc(D), C::NotSpOrPc(N), C::ModifiedImmediateValid]),
    sim("MOV (immediate) T2", "1111 0x00 010x 1111 0iii dddd iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotSpOrPc(D), C::ModifiedImmediateValid]),
    sim("ORR (immediate)", "1111 0x00 010x nnnn 0iii dddd iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotSpOrPc(D), C::NotSp(N), C::ModifiedImmediateValid]),
    sim("MVN (immediate)", "1111 0x00 011x 1111 0iii dddd iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotSpOrPc(D), C::ModifiedImmediateValid]),
    sim("ORN (immediate)", "1111 0x00 011x nnnn 0iii dddd iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotSpOrPc(D), C::NotSp(N), C::ModifiedImmediateValid]),
    sim("TEQ (immediate)", "1111 0x00 1001 nnnn 0iii 1111 iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotSpOrPc(N), C::ModifiedImmediateValid]),
    sim("EOR (immediate)", "1111 0x00 100x nnnn 0iii dddd iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotSpOrPc(D), C::NotSpOrPc(N), C::ModifiedImmediateValid]),
    sim("CMN (immediate)", "1111 0x01 0001 nnnn 0iii 1111 iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotPc(N), C::ModifiedImmediateValid]),
    sim("ADD (immediate) T3, ADD (SP plus immediate) T3", "1111 0x01 000x nnnn 0iii dddd iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotPc(N), C::AddSubtractDestination, C::ModifiedImmediateValid]),
    sim("ADC (immediate)", "1111 0x01 010x nnnn 0iii dddd iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotSpOrPc(D), C::NotSpOrPc(N), C::ModifiedImmediateValid]),
    sim("SBC (immediate)", "1111 0x01 011x nnnn 0iii dddd iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotSpOrPc(D), C::NotSpOrPc(N), C::ModifiedImmediateValid]),
    sim("CMP (immediate) T2", "1111 0x01 1011 nnnn 0iii 1111 iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotPc(N), C::ModifiedImmediateValid]),
    sim("SUB (immediate) T3, SUB (SP minus immediate) T2", "1111 0x01 101x nnnn 0iii dddd iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotPc(N), C::AddSubtractDestination, C::ModifiedImmediateValid]),
    sim("RSB (immediate) T2", "1111 0x01 110x nnnn 0iii dddd iiii iiii", K::DataProcessingModifiedImmediate).checks(&[C::NotSpOrPc(D), C::NotSpOrPc(N), C::ModifiedImmediateValid]),
];

/// A6.3.3: op (hw1 8:4), Rn; hw2 is `0 imm3 Rd imm8` (imm3:imm2 and a width or saturation
/// for the saturate and bitfield rows).
#[rustfmt::skip]
const DATA_PROCESSING_PLAIN_IMMEDIATE: &[T32Entry] = &[
    sim("ADR T3 (add)", "1111 0x10 0000 1111 0iii dddd iiii iiii", K::GeneratePcRelativeAddress).checks(&[C::NotSpOrPc(D)]),
    sim("ADD (immediate) T4 (ADDW), ADD (SP plus immediate) T4", "1111 0x10 0000 nnnn 0iii dddd iiii iiii", K::AddSubtractWideImmediate).checks(&[C::AddSubtractDestination]),
    sim("MOV (immediate) T3 (MOVW)", "1111 0x10 0100 iiii 0iii dddd iiii iiii", K::MoveWideImmediate).checks(&[C::NotSpOrPc(D)]),
    sim("ADR T2 (subtract)", "1111 0x10 1010 1111 0iii dddd iiii iiii", K::GeneratePcRelativeAddress).checks(&[C::NotSpOrPc(D)]),
    sim("SUB (immediate) T4 (SUBW), SUB (SP minus immediate) T3", "1111 0x10 1010 nnnn 0iii dddd iiii iiii", K::AddSubtractWideImmediate).checks(&[C::AddSubtractDestination]),
    sim("MOVT", "1111 0x10 1100 iiii 0iii dddd iiii iiii", K::MoveWideImmediate).checks(&[C::NotSpOrPc(D)]),
    sim("SSAT16", "1111 0x11 0010 nnnn 0000 dddd 00xx iiii", K::Saturate).sbz(0x0400_0030).checks(BAD_DN),
    sim("SSAT", "1111 0x11 00x0 nnnn 0iii dddd iixi iiii", K::Saturate).sbz(SATURATE_BITFIELD_ZEROS).checks(BAD_DN),
    sim("SBFX", "1111 0x11 0100 nnnn 0iii dddd iixw wwww", K::BitfieldExtract).sbz(SATURATE_BITFIELD_ZEROS).checks(&[C::NotSpOrPc(D), C::NotSpOrPc(N), C::ExtractFieldInWord]),
    sim("BFC", "1111 0x11 0110 1111 0iii dddd iixm mmmm", K::BitfieldInsert).sbz(SATURATE_BITFIELD_ZEROS).checks(&[C::NotSpOrPc(D), C::InsertFieldNotReversed]),
    sim("BFI", "1111 0x11 0110 nnnn 0iii dddd iixm mmmm", K::BitfieldInsert).sbz(SATURATE_BITFIELD_ZEROS).checks(&[C::NotSpOrPc(D), C::NotSp(N), C::InsertFieldNotReversed]),
    sim("USAT16", "1111 0x11 1010 nnnn 0000 dddd 00xx iiii", K::Saturate).sbz(0x0400_0030).checks(BAD_DN),
    sim("USAT", "1111 0x11 10x0 nnnn 0iii dddd iixi iiii", K::Saturate).sbz(SATURATE_BITFIELD_ZEROS).checks(BAD_DN),
    sim("UBFX", "1111 0x11 1100 nnnn 0iii dddd iixw wwww", K::BitfieldExtract).sbz(SATURATE_BITFIELD_ZEROS).checks(&[C::NotSpOrPc(D), C::NotSpOrPc(N), C::ExtractFieldInWord]),
];

/// A6.3.4: op (hw1 10:4), op1 (hw2 14:12), op2 (hw2 11:8). op1 = 0x0 with op = x111xxx is the
/// miscellaneous space (and HVC, SMC, UDF); otherwise op1 selects B T3, B T4, BLX, BL.
#[rustfmt::skip]
const BRANCHES_AND_MISCELLANEOUS_CONTROL: &[T32Entry] = &[
    table("MSR, hints, CPS, miscellaneous control, BXJ, SUBS PC LR, MRS", "1111 0011 1xxx xxxx 10x0 xxxx xxxx xxxx", MISCELLANEOUS_CONTROL),
    reject("HVC", "1111 0111 1110 xxxx 1000 xxxx xxxx xxxx", R::ExceptionGenerating),
    reject("SMC", "1111 0111 1111 xxxx 1000 xxxx xxxx xxxx", R::ExceptionGenerating),
    reject("UDF encoding T2 (permanently undefined)", "1111 0111 1111 xxxx 1010 xxxx xxxx xxxx", R::Undefined),
    reject("unallocated branch and miscellaneous control op", "1111 0x11 1xxx xxxx 10x0 xxxx xxxx xxxx", R::Undefined),
    sim("B T3 (conditional)", "1111 0xcc ccii iiii 10x0 iiii iiii iiii", K::ConditionalBranch).checks(&[C::NotInItBlock]),
    sim("B T4", "1111 0xii iiii iiii 10x1 iiii iiii iiii", K::Branch).checks(&[C::OutsideOrLastInItBlock]),
    reject("BLX (immediate) with H set", "1111 0xxx xxxx xxxx 11x0 xxxx xxxx xxx1", R::Undefined),
    sim("BLX (immediate)", "1111 0xii iiii iiii 11x0 iiii iiii iiix", K::BranchWithLinkExchange).checks(&[C::OutsideOrLastInItBlock]),
    sim("BL", "1111 0xii iiii iiii 11x1 iiii iiii iiii", K::BranchWithLink).checks(&[C::OutsideOrLastInItBlock]),
];

/// A6.3.4, op1 = 0x0, op = 0111xxx. hw2 bit 5 set in MSR/MRS is the banked-register form
/// (Virtualization Extensions); R (hw1 bit 4) the SPSR.
#[rustfmt::skip]
const MISCELLANEOUS_CONTROL: &[T32Entry] = &[
    reject("MSR (banked register)", "1111 0011 100x xxxx 10x0 xxxx xx1x xxxx", R::BankedRegister),
    reject("MSR (register), SPSR", "1111 0011 1001 xxxx 10x0 xxxx xxxx xxxx", R::BankedRegister),
    reject("MSR (register)", "1111 0011 1000 nnnn 10x0 xxxx xxxx xxxx", R::StatusWrite).sbz(0x20ff).checks(&[C::StatusMaskNotEmpty, C::NotSpOrPc(N)]),
    table("change processor state, and hints", "1111 0011 1010 xxxx 10x0 xxxx xxxx xxxx", PROCESSOR_STATE_AND_HINTS),
    table("miscellaneous control instructions", "1111 0011 1011 xxxx 10x0 xxxx xxxx xxxx", MISCELLANEOUS_CONTROL_INSTRUCTIONS),
    reject("BXJ", "1111 0011 1100 mmmm 10x0 xxxx xxxx xxxx", R::Jazelle),
    reject("SUBS PC, LR and related instructions (exception return)", "1111 0011 1101 xxxx 10x0 xxxx xxxx xxxx", R::ExceptionReturn),
    reject("MRS (banked register)", "1111 0011 111x xxxx 10x0 xxxx xx1x xxxx", R::BankedRegister),
    reject("MRS, SPSR", "1111 0011 1111 xxxx 10x0 xxxx xxxx xxxx", R::BankedRegister),
    sim("MRS", "1111 0011 1110 xxxx 10x0 dddd xxxx xxxx", K::MoveFromStatus).sbo(HW1_LOW_ONES).sbz(0x20ff).checks(&[C::NotSpOrPc(D)]),
];

/// A hint: `1111 0011 1010 (1)(1)(1)(1) 10(0)0 (0)000 hint`. Simulated as T16's hints are.
const fn hint(name: &'static str, encoding: &'static str) -> T32Entry {
    sim(name, encoding, K::Hint).sbo(HW1_LOW_ONES).sbz(0x2800)
}

/// A6.3.4, change processor state and hints: op1 (hw2 10:8), op2 (7:0). op1 != 000 is CPS.
#[rustfmt::skip]
const PROCESSOR_STATE_AND_HINTS: &[T32Entry] = &[
    hint("NOP.W", "1111 0011 1010 xxxx 10x0 x000 0000 0000"),
    hint("YIELD.W", "1111 0011 1010 xxxx 10x0 x000 0000 0001"),
    hint("WFE.W", "1111 0011 1010 xxxx 10x0 x000 0000 0010"),
    hint("WFI.W", "1111 0011 1010 xxxx 10x0 x000 0000 0011"),
    hint("SEV.W", "1111 0011 1010 xxxx 10x0 x000 0000 0100"),
    reject("DBG", "1111 0011 1010 xxxx 10x0 x000 1111 xxxx", R::ReservedHint),
    reject("unallocated hint", "1111 0011 1010 xxxx 10x0 x000 xxxx xxxx", R::ReservedHint),
    reject("CPS encoding T2", "1111 0011 1010 xxxx 10x0 xxxx xxxx xxxx", R::ProcessorState),
];

/// A barrier: `1111 0011 1011 (1)(1)(1)(1) 10(0)0 (1)(1)(1)(1) op option`.
const fn barrier(name: &'static str, encoding: &'static str) -> T32Entry {
    sim(name, encoding, K::Barrier)
        .sbo(HW1_LOW_ONES | 0x0f00)
        .sbz(0x2000)
}

/// A6.3.4, miscellaneous control instructions: op (hw2 7:4). ENTERX and LEAVEX switch between
/// Thumb and ThumbEE state.
#[rustfmt::skip]
const MISCELLANEOUS_CONTROL_INSTRUCTIONS: &[T32Entry] = &[
    reject("LEAVEX", "1111 0011 1011 xxxx 10x0 xxxx 0000 xxxx", R::ProcessorState),
    reject("ENTERX", "1111 0011 1011 xxxx 10x0 xxxx 0001 xxxx", R::ProcessorState),
    reject("CLREX", "1111 0011 1011 xxxx 10x0 xxxx 0010 xxxx", R::Exclusive),
    barrier("DSB", "1111 0011 1011 xxxx 10x0 xxxx 0100 xxxx"),
    barrier("DMB", "1111 0011 1011 xxxx 10x0 xxxx 0101 xxxx"),
    barrier("ISB", "1111 0011 1011 xxxx 10x0 xxxx 0110 xxxx"),
];

/// A6.3.10: op1 (hw1 7:5), op2 (hw2 11:6). Rn = 1111 is UNDEFINED; `1PUW` with P = 1, U = 1,
/// W = 0 is the unprivileged form, with P = 0, W = 0 UNDEFINED.
#[rustfmt::skip]
const STORE_SINGLE: &[T32Entry] = &[
    reject("store single with Rn == PC", "1111 1000 xxx0 1111 xxxx xxxx xxxx xxxx", R::Undefined),
    reject("unallocated store single op1 011, 111", "1111 1000 x110 xxxx xxxx xxxx xxxx xxxx", R::Undefined),
    sim("STRB (immediate) T2", "1111 1000 1000 nnnn tttt iiii iiii iiii", K::StoreImmediate).checks(&[C::NotSpOrPc(T)]),
    sim("STRH (immediate) T2", "1111 1000 1010 nnnn tttt iiii iiii iiii", K::StoreImmediate).checks(&[C::NotSpOrPc(T)]),
    sim("STR (immediate) T3", "1111 1000 1100 nnnn tttt iiii iiii iiii", K::StoreImmediate).checks(&[C::NotPc(T)]),
    reject("STRBT, STRHT, STRT", "1111 1000 0xx0 nnnn tttt 1110 iiii iiii", R::Unprivileged),
    reject("store single, P == 0 and W == 0", "1111 1000 0xx0 xxxx xxxx 10x0 xxxx xxxx", R::Undefined),
    sim("STRB (immediate) T3", "1111 1000 0000 nnnn tttt 1xxx iiii iiii", K::StoreImmediate).checks(&[C::NotSpOrPc(T), C::WritebackBaseNotTransferred]),
    sim("STRH (immediate) T3", "1111 1000 0010 nnnn tttt 1xxx iiii iiii", K::StoreImmediate).checks(&[C::NotSpOrPc(T), C::WritebackBaseNotTransferred]),
    sim("STR (immediate) T4, PUSH T3", "1111 1000 0100 nnnn tttt 1xxx iiii iiii", K::StoreImmediate).checks(&[C::NotPc(T), C::WritebackBaseNotTransferred]),
    sim("STRB (register) T2", "1111 1000 0000 nnnn tttt 0000 00ii mmmm", K::StoreRegister).checks(&[C::NotSpOrPc(T), C::NotSpOrPc(M)]),
    sim("STRH (register) T2", "1111 1000 0010 nnnn tttt 0000 00ii mmmm", K::StoreRegister).checks(&[C::NotSpOrPc(T), C::NotSpOrPc(M)]),
    sim("STR (register) T2", "1111 1000 0100 nnnn tttt 0000 00ii mmmm", K::StoreRegister).checks(&[C::NotPc(T), C::NotSpOrPc(M)]),
];

/// A6.3.9: op1 (hw1 8:7), op2 (hw2 11:6), Rn, Rt. Rt = 1111 is a preload (PLD, PLI) where the
/// load would be one.
#[rustfmt::skip]
const LOAD_BYTE: &[T32Entry] = &[
    sim("PLD (literal)", "1111 1000 x001 1111 1111 iiii iiii iiii", K::PreloadData),
    sim("LDRB (literal)", "1111 1000 x001 1111 tttt iiii iiii iiii", K::LoadLiteral).checks(&[C::NotSp(T)]),
    sim("PLI (immediate, literal) T3", "1111 1001 x001 1111 1111 iiii iiii iiii", K::PreloadInstruction),
    sim("LDRSB (literal)", "1111 1001 x001 1111 tttt iiii iiii iiii", K::LoadLiteral).checks(&[C::NotSp(T)]),
    sim("PLD (immediate) T1", "1111 1000 1001 nnnn 1111 iiii iiii iiii", K::PreloadData),
    sim("LDRB (immediate) T2", "1111 1000 1001 nnnn tttt iiii iiii iiii", K::LoadImmediate).checks(&[C::NotSp(T)]),
    sim("PLI (immediate, literal) T1", "1111 1001 1001 nnnn 1111 iiii iiii iiii", K::PreloadInstruction),
    sim("LDRSB (immediate) T1", "1111 1001 1001 nnnn tttt iiii iiii iiii", K::LoadImmediate).checks(&[C::NotSp(T)]),
    sim("PLD (immediate) T2", "1111 1000 0001 nnnn 1111 1100 iiii iiii", K::PreloadData),
    sim("PLI (immediate, literal) T2", "1111 1001 0001 nnnn 1111 1100 iiii iiii", K::PreloadInstruction),
    sim("PLD (register)", "1111 1000 0001 nnnn 1111 0000 00ii mmmm", K::PreloadData).checks(&[C::NotSpOrPc(M)]),
    sim("PLI (register)", "1111 1001 0001 nnnn 1111 0000 00ii mmmm", K::PreloadInstruction).checks(&[C::NotSpOrPc(M)]),
    reject("LDRBT, LDRSBT", "1111 100x 0001 nnnn tttt 1110 iiii iiii", R::Unprivileged),
    reject("load byte, P == 0 and W == 0", "1111 100x 0001 xxxx xxxx 10x0 xxxx xxxx", R::Undefined),
    sim("LDRB (immediate) T3, LDRSB (immediate) T2", "1111 100x 0001 nnnn tttt 1xxx iiii iiii", K::LoadImmediate).checks(&[C::NotSpOrPc(T), C::WritebackBaseNotTransferred]),
    sim("LDRB (register) T2, LDRSB (register) T2", "1111 100x 0001 nnnn tttt 0000 00ii mmmm", K::LoadRegister).checks(&[C::NotSp(T), C::NotSpOrPc(M)]),
];

/// A6.3.8: as A6.3.9 with halfwords; Rt = 1111 is PLDW (Multiprocessing Extensions) in the
/// unsigned space and an unallocated memory hint in the signed one. PLD (literal) has bit 5
/// `(0)`: set, it is UNPREDICTABLE.
#[rustfmt::skip]
const LOAD_HALFWORD: &[T32Entry] = &[
    reject("PLD (literal) with bit 5 set", "1111 1000 x011 1111 1111 xxxx xxxx xxxx", R::Unpredictable),
    sim("LDRH (literal)", "1111 1000 x011 1111 tttt iiii iiii iiii", K::LoadLiteral).checks(&[C::NotSp(T)]),
    reject("unallocated memory hint (literal)", "1111 1001 x011 1111 1111 xxxx xxxx xxxx", R::ReservedHint),
    sim("LDRSH (literal)", "1111 1001 x011 1111 tttt iiii iiii iiii", K::LoadLiteral).checks(&[C::NotSp(T)]),
    sim("PLDW (immediate) T1", "1111 1000 1011 nnnn 1111 iiii iiii iiii", K::PreloadData),
    sim("LDRH (immediate) T2", "1111 1000 1011 nnnn tttt iiii iiii iiii", K::LoadImmediate).checks(&[C::NotSp(T)]),
    reject("unallocated memory hint (12-bit offset)", "1111 1001 1011 xxxx 1111 xxxx xxxx xxxx", R::ReservedHint),
    sim("LDRSH (immediate) T1", "1111 1001 1011 nnnn tttt iiii iiii iiii", K::LoadImmediate).checks(&[C::NotSp(T)]),
    sim("PLDW (immediate) T2", "1111 1000 0011 nnnn 1111 1100 iiii iiii", K::PreloadData),
    reject("unallocated memory hint (negative 8-bit offset)", "1111 1001 0011 xxxx 1111 1100 xxxx xxxx", R::ReservedHint),
    sim("PLDW (register)", "1111 1000 0011 nnnn 1111 0000 00ii mmmm", K::PreloadData).checks(&[C::NotSpOrPc(M)]),
    reject("unallocated memory hint (register)", "1111 1001 0011 xxxx 1111 0000 00xx xxxx", R::ReservedHint),
    reject("LDRHT, LDRSHT", "1111 100x 0011 nnnn tttt 1110 iiii iiii", R::Unprivileged),
    reject("load halfword, P == 0 and W == 0", "1111 100x 0011 xxxx xxxx 10x0 xxxx xxxx", R::Undefined),
    sim("LDRH (immediate) T3, LDRSH (immediate) T2", "1111 100x 0011 nnnn tttt 1xxx iiii iiii", K::LoadImmediate).checks(&[C::NotSpOrPc(T), C::WritebackBaseNotTransferred]),
    sim("LDRH (register) T2, LDRSH (register) T2", "1111 100x 0011 nnnn tttt 0000 00ii mmmm", K::LoadRegister).checks(&[C::NotSp(T), C::NotSpOrPc(M)]),
];

/// A6.3.7: op1 (hw1 8:7), op2 (hw2 11:6), Rn. op1 = 1x with Rn != 1111 has no row: UNDEFINED.
#[rustfmt::skip]
const LOAD_WORD: &[T32Entry] = &[
    sim("LDR (literal) T2", "1111 1000 x101 1111 tttt iiii iiii iiii", K::LoadLiteral).checks(&[C::LoadPcOutsideOrLastInItBlock]),
    sim("LDR (immediate) T3", "1111 1000 1101 nnnn tttt iiii iiii iiii", K::LoadImmediate).checks(&[C::LoadPcOutsideOrLastInItBlock]),
    reject("LDRT", "1111 1000 0101 nnnn tttt 1110 iiii iiii", R::Unprivileged),
    reject("load word, P == 0 and W == 0", "1111 1000 0101 xxxx xxxx 10x0 xxxx xxxx", R::Undefined),
    sim("LDR (immediate) T4, POP T3", "1111 1000 0101 nnnn tttt 1xxx iiii iiii", K::LoadImmediate).checks(&[C::WritebackBaseNotTransferred, C::LoadPcOutsideOrLastInItBlock]),
    sim("LDR (register) T2", "1111 1000 0101 nnnn tttt 0000 00ii mmmm", K::LoadRegister).checks(&[C::NotSpOrPc(M), C::LoadPcOutsideOrLastInItBlock]),
];

/// A6.3.12: op1 (hw1 7:4), Rn, op2 (hw2 7:4); hw2 15:12 is 1111 in the whole group.
#[rustfmt::skip]
const DATA_PROCESSING_REGISTER: &[T32Entry] = &[
    sim("LSL, LSR, ASR, ROR (register)", "1111 1010 0xxx nnnn 1111 dddd 0000 mmmm", K::ShiftRegister).checks(BAD_DNM),
    sim("SXTH, UXTH, SXTB16, UXTB16", "1111 1010 00xx 1111 1111 dddd 1xrr mmmm", K::Extend).sbz(0x40).checks(BAD_DM),
    sim("SXTB, UXTB", "1111 1010 010x 1111 1111 dddd 1xrr mmmm", K::Extend).sbz(0x40).checks(BAD_DM),
    sim("SXTAH, UXTAH, SXTAB16, UXTAB16", "1111 1010 00xx nnnn 1111 dddd 1xrr mmmm", K::Extend).sbz(0x40).checks(&[C::NotSpOrPc(D), C::NotSp(N), C::NotSpOrPc(M)]),
    sim("SXTAB, UXTAB", "1111 1010 010x nnnn 1111 dddd 1xrr mmmm", K::Extend).sbz(0x40).checks(&[C::NotSpOrPc(D), C::NotSp(N), C::NotSpOrPc(M)]),
    reject("unallocated parallel add/subtract op1 011, 111", "1111 1010 1x11 xxxx 1111 xxxx 0xxx xxxx", R::Undefined),
    reject("unallocated parallel add/subtract op2 11", "1111 1010 1xxx xxxx 1111 xxxx 0x11 xxxx", R::Undefined),
    sim("parallel add and subtract, signed and unsigned", "1111 1010 1xxx nnnn 1111 dddd 0xxx mmmm", K::ParallelAddSubtract).checks(BAD_DNM),
    sim("QADD, QDADD, QSUB, QDSUB", "1111 1010 1000 nnnn 1111 dddd 10xx mmmm", K::SaturatingAddSubtract).checks(BAD_DNM),
    sim("REV, REV16, RBIT, REVSH", "1111 1010 1001 mmmm 1111 dddd 10xx mmmm", K::Reverse).checks(&[C::ConsistentRm, C::NotSpOrPc(D), C::NotSpOrPc(M)]),
    sim("SEL", "1111 1010 1010 nnnn 1111 dddd 1000 mmmm", K::SelectBytes).checks(BAD_DNM),
    sim("CLZ", "1111 1010 1011 mmmm 1111 dddd 1000 mmmm", K::CountLeadingZeros).checks(&[C::ConsistentRm, C::NotSpOrPc(D), C::NotSpOrPc(M)]),
];

/// A6.3.16: op1 (hw1 6:4), Ra (hw2 15:12), op2 (hw2 5:4); hw2 7:6 is 00. Ra = 1111 selects
/// the non-accumulating form.
#[rustfmt::skip]
const MULTIPLY: &[T32Entry] = &[
    sim("MUL", "1111 1011 0000 nnnn 1111 dddd 0000 mmmm", K::Multiply).checks(MULTIPLY_ACCUMULATE),
    sim("MLA", "1111 1011 0000 nnnn aaaa dddd 0000 mmmm", K::Multiply).checks(MULTIPLY_ACCUMULATE),
    sim("MLS", "1111 1011 0000 nnnn aaaa dddd 0001 mmmm", K::Multiply).checks(MULTIPLY_SUBTRACT),
    sim("SMULBB, SMULBT, SMULTB, SMULTT", "1111 1011 0001 nnnn 1111 dddd 00xx mmmm", K::SignedMultiply).checks(MULTIPLY_ACCUMULATE),
    sim("SMLABB, SMLABT, SMLATB, SMLATT", "1111 1011 0001 nnnn aaaa dddd 00xx mmmm", K::SignedMultiply).checks(MULTIPLY_ACCUMULATE),
    sim("SMUAD, SMUADX", "1111 1011 0010 nnnn 1111 dddd 000x mmmm", K::SignedMultiply).checks(MULTIPLY_ACCUMULATE),
    sim("SMLAD, SMLADX", "1111 1011 0010 nnnn aaaa dddd 000x mmmm", K::SignedMultiply).checks(MULTIPLY_ACCUMULATE),
    sim("SMULWB, SMULWT", "1111 1011 0011 nnnn 1111 dddd 000x mmmm", K::SignedMultiply).checks(MULTIPLY_ACCUMULATE),
    sim("SMLAWB, SMLAWT", "1111 1011 0011 nnnn aaaa dddd 000x mmmm", K::SignedMultiply).checks(MULTIPLY_ACCUMULATE),
    sim("SMUSD, SMUSDX", "1111 1011 0100 nnnn 1111 dddd 000x mmmm", K::SignedMultiply).checks(MULTIPLY_ACCUMULATE),
    sim("SMLSD, SMLSDX", "1111 1011 0100 nnnn aaaa dddd 000x mmmm", K::SignedMultiply).checks(MULTIPLY_ACCUMULATE),
    sim("SMMUL, SMMULR", "1111 1011 0101 nnnn 1111 dddd 000x mmmm", K::SignedMultiply).checks(MULTIPLY_ACCUMULATE),
    sim("SMMLA, SMMLAR", "1111 1011 0101 nnnn aaaa dddd 000x mmmm", K::SignedMultiply).checks(MULTIPLY_ACCUMULATE),
    sim("SMMLS, SMMLSR", "1111 1011 0110 nnnn aaaa dddd 000x mmmm", K::SignedMultiply).checks(MULTIPLY_SUBTRACT),
    sim("USAD8", "1111 1011 0111 nnnn 1111 dddd 0000 mmmm", K::SumOfAbsoluteDifferences).checks(MULTIPLY_ACCUMULATE),
    sim("USADA8", "1111 1011 0111 nnnn aaaa dddd 0000 mmmm", K::SumOfAbsoluteDifferences).checks(MULTIPLY_ACCUMULATE),
];

/// A6.3.17: op1 (hw1 6:4), op2 (hw2 7:4). SDIV and UDIV (hw2 15:12 `(1)(1)(1)(1)`) are in
/// ARMv7-A cores with the Virtualization Extensions (Cortex-A7, A15).
#[rustfmt::skip]
const LONG_MULTIPLY_DIVIDE: &[T32Entry] = &[
    sim("SMULL", "1111 1011 1000 nnnn llll hhhh 0000 mmmm", K::LongMultiply).checks(LONG_MULTIPLY),
    sim("SDIV", "1111 1011 1001 nnnn xxxx dddd 1111 mmmm", K::Divide).sbo(0xf000).checks(BAD_DNM),
    sim("UMULL", "1111 1011 1010 nnnn llll hhhh 0000 mmmm", K::LongMultiply).checks(LONG_MULTIPLY),
    sim("UDIV", "1111 1011 1011 nnnn xxxx dddd 1111 mmmm", K::Divide).sbo(0xf000).checks(BAD_DNM),
    sim("SMLAL", "1111 1011 1100 nnnn llll hhhh 0000 mmmm", K::LongMultiply).checks(LONG_MULTIPLY),
    sim("SMLALBB, SMLALBT, SMLALTB, SMLALTT", "1111 1011 1100 nnnn llll hhhh 10xx mmmm", K::LongMultiply).checks(LONG_MULTIPLY),
    sim("SMLALD, SMLALDX", "1111 1011 1100 nnnn llll hhhh 110x mmmm", K::LongMultiply).checks(LONG_MULTIPLY),
    sim("SMLSLD, SMLSLDX", "1111 1011 1101 nnnn llll hhhh 110x mmmm", K::LongMultiply).checks(LONG_MULTIPLY),
    sim("UMLAL", "1111 1011 1110 nnnn llll hhhh 0000 mmmm", K::LongMultiply).checks(LONG_MULTIPLY),
    sim("UMAAL", "1111 1011 1110 nnnn llll hhhh 0110 mmmm", K::LongMultiply).checks(LONG_MULTIPLY),
];
