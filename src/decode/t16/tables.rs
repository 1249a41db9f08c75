//! The T16 decode tables (ARM ARM ARMv7-A section A6.2), one row a line: the data the T16
//! decoder walks, kept apart so the encodings read like the manual's tables.
//!
//! Each row's encoding is a 16-bit ARM ARM bit pattern (see `pattern16`): `0`/`1` select the
//! row, letters are bits it does not look at (`dddd`/`nnn`/`mmm`/`ttt` registers, `iiii`
//! immediates, `rrrr` register lists, `cccc` a condition, `x` anything else). Should-be bits
//! (`(0)`, `(1)` in the manual) are not part of the pattern: `sbz`/`sbo` give them.

use super::entry::{T16Check as C, T16Entry, first_half_of_t32, reject, sim, table};
use super::{RejectReason as R, T16Kind as K};

/// The whole 16-bit Thumb space (ARM ARM A6.1 and A6.2): the three first-halfword prefixes of
/// 32-bit instructions first, then the A6.2 groups by opcode (bits 15:10).
#[rustfmt::skip]
pub static T16: &[T16Entry] = &[
    first_half_of_t32("32-bit instruction, first halfword 0b11101", "1110 1xxx xxxx xxxx"),
    first_half_of_t32("32-bit instruction, first halfword 0b11110", "1111 0xxx xxxx xxxx"),
    first_half_of_t32("32-bit instruction, first halfword 0b11111", "1111 1xxx xxxx xxxx"),
    table("shift (immediate), add, subtract, move, and compare", "00xx xxxx xxxx xxxx", SHIFT_ADD_SUBTRACT_MOVE_COMPARE),
    table("data-processing", "0100 00xx xxxx xxxx", DATA_PROCESSING),
    table("special data instructions and branch and exchange", "0100 01xx xxxx xxxx", SPECIAL_DATA_AND_BRANCH_EXCHANGE),
    sim("LDR (literal)", "0100 1ttt iiii iiii", K::LoadLiteral),
    table("load/store single data item, register offset", "0101 xxxx xxxx xxxx", LOAD_STORE_REGISTER),
    sim("STR (immediate) T1", "0110 0iii iinn nttt", K::LoadStoreImmediate),
    sim("LDR (immediate) T1", "0110 1iii iinn nttt", K::LoadStoreImmediate),
    sim("STRB (immediate) T1", "0111 0iii iinn nttt", K::LoadStoreImmediate),
    sim("LDRB (immediate) T1", "0111 1iii iinn nttt", K::LoadStoreImmediate),
    sim("STRH (immediate) T1", "1000 0iii iinn nttt", K::LoadStoreImmediate),
    sim("LDRH (immediate) T1", "1000 1iii iinn nttt", K::LoadStoreImmediate),
    sim("STR (immediate) T2, SP-relative", "1001 0ttt iiii iiii", K::LoadStoreStack),
    sim("LDR (immediate) T2, SP-relative", "1001 1ttt iiii iiii", K::LoadStoreStack),
    sim("ADR", "1010 0ddd iiii iiii", K::GeneratePcRelativeAddress),
    sim("ADD (SP plus immediate) T1", "1010 1ddd iiii iiii", K::GenerateSpRelativeAddress),
    table("miscellaneous 16-bit instructions", "1011 xxxx xxxx xxxx", MISCELLANEOUS),
    sim("STM (STMIA, STMEA)", "1100 0nnn rrrr rrrr", K::StoreMultiple).checks(&[C::NonEmptyList, C::StoreBaseLowest]),
    sim("LDM (LDMIA, LDMFD)", "1100 1nnn rrrr rrrr", K::LoadMultiple).checks(&[C::NonEmptyList]),
    table("conditional branch, and supervisor call", "1101 xxxx xxxx xxxx", CONDITIONAL_BRANCH_AND_SVC),
    sim("B T2 (unconditional)", "1110 0iii iiii iiii", K::Branch).checks(&[C::OutsideOrLastInItBlock]),
];

/// A6.2.1: opcode (13:9). LSL #0 is MOV (register) encoding T2, matched first.
#[rustfmt::skip]
const SHIFT_ADD_SUBTRACT_MOVE_COMPARE: &[T16Entry] = &[
    sim("MOV (register) T2 (MOVS Rd, Rm)", "0000 0000 00mm mddd", K::ShiftImmediate).checks(&[C::NotInItBlock]),
    sim("LSL (immediate)", "0000 0iii iimm mddd", K::ShiftImmediate),
    sim("LSR (immediate)", "0000 1iii iimm mddd", K::ShiftImmediate),
    sim("ASR (immediate)", "0001 0iii iimm mddd", K::ShiftImmediate),
    sim("ADD (register) T1", "0001 100m mmnn nddd", K::AddSubtractRegister),
    sim("SUB (register) T1", "0001 101m mmnn nddd", K::AddSubtractRegister),
    sim("ADD (immediate) T1, 3-bit", "0001 110i iinn nddd", K::AddSubtractImmediate),
    sim("SUB (immediate) T1, 3-bit", "0001 111i iinn nddd", K::AddSubtractImmediate),
    sim("MOV (immediate) T1", "0010 0ddd iiii iiii", K::MoveImmediate),
    sim("CMP (immediate) T1", "0010 1nnn iiii iiii", K::CompareImmediate),
    sim("ADD (immediate) T2, 8-bit", "0011 0ddd iiii iiii", K::AddSubtractImmediate),
    sim("SUB (immediate) T2, 8-bit", "0011 1ddd iiii iiii", K::AddSubtractImmediate),
];

/// A6.2.2: opcode (9:6), Rm (5:3), Rdn (2:0).
#[rustfmt::skip]
const DATA_PROCESSING: &[T16Entry] = &[
    sim("AND (register)", "0100 0000 00mm mddd", K::DataProcessingRegister),
    sim("EOR (register)", "0100 0000 01mm mddd", K::DataProcessingRegister),
    sim("LSL (register)", "0100 0000 10mm mddd", K::ShiftRegister),
    sim("LSR (register)", "0100 0000 11mm mddd", K::ShiftRegister),
    sim("ASR (register)", "0100 0001 00mm mddd", K::ShiftRegister),
    sim("ADC (register)", "0100 0001 01mm mddd", K::DataProcessingRegister),
    sim("SBC (register)", "0100 0001 10mm mddd", K::DataProcessingRegister),
    sim("ROR (register)", "0100 0001 11mm mddd", K::ShiftRegister),
    sim("TST (register)", "0100 0010 00mm mnnn", K::DataProcessingRegister),
    sim("RSB (immediate) (NEG)", "0100 0010 01nn nddd", K::DataProcessingRegister),
    sim("CMP (register) T1", "0100 0010 10mm mnnn", K::DataProcessingRegister),
    sim("CMN (register)", "0100 0010 11mm mnnn", K::DataProcessingRegister),
    sim("ORR (register)", "0100 0011 00mm mddd", K::DataProcessingRegister),
    sim("MUL", "0100 0011 01nn nddd", K::Multiply),
    sim("BIC (register)", "0100 0011 10mm mddd", K::DataProcessingRegister),
    sim("MVN (register)", "0100 0011 11mm mddd", K::DataProcessingRegister),
];

/// A6.2.3: opcode (9:6); `DN:Rdn` is bits 7 and 2:0, Rm bits 6:3.
#[rustfmt::skip]
const SPECIAL_DATA_AND_BRANCH_EXCHANGE: &[T16Entry] = &[
    sim("ADD (register) T2, ADD (SP plus register)", "0100 0100 dmmm mddd", K::AddHighRegisters).checks(&[C::NotPcPlusPc, C::PcDestinationOutsideOrLastInItBlock]),
    reject("CMP (register) T2, two low registers", "0100 0101 00xx xxxx", R::Unpredictable),
    sim("CMP (register) T2", "0100 0101 nmmm mnnn", K::CompareHighRegisters).checks(&[C::CompareNotPc]),
    sim("MOV (register) T1", "0100 0110 dmmm mddd", K::MoveHighRegisters).checks(&[C::PcDestinationOutsideOrLastInItBlock]),
    sim("BX", "0100 0111 0mmm mxxx", K::BranchExchange).sbz(0x0007).checks(&[C::OutsideOrLastInItBlock]),
    sim("BLX (register)", "0100 0111 1mmm mxxx", K::BranchLinkExchangeRegister).sbz(0x0007).checks(&[C::TargetNotPc, C::OutsideOrLastInItBlock]),
];

/// A6.2.4, opA == 0101: opB (11:9), Rm (8:6), Rn (5:3), Rt (2:0).
#[rustfmt::skip]
const LOAD_STORE_REGISTER: &[T16Entry] = &[
    sim("STR (register)", "0101 000m mmnn nttt", K::LoadStoreRegister),
    sim("STRH (register)", "0101 001m mmnn nttt", K::LoadStoreRegister),
    sim("STRB (register)", "0101 010m mmnn nttt", K::LoadStoreRegister),
    sim("LDRSB (register)", "0101 011m mmnn nttt", K::LoadStoreRegister),
    sim("LDR (register)", "0101 100m mmnn nttt", K::LoadStoreRegister),
    sim("LDRH (register)", "0101 101m mmnn nttt", K::LoadStoreRegister),
    sim("LDRB (register)", "0101 110m mmnn nttt", K::LoadStoreRegister),
    sim("LDRSH (register)", "0101 111m mmnn nttt", K::LoadStoreRegister),
];

/// A6.2.5: opcode (11:5). Halfwords no row matches (`1011 0110 00xx`, `1011 0110 1xxx`,
/// `1011 0111`, `1011 1000`, `1011 1010 10xx`) are unallocated: UNDEFINED.
#[rustfmt::skip]
const MISCELLANEOUS: &[T16Entry] = &[
    sim("ADD (SP plus immediate) T2", "1011 0000 0iii iiii", K::AdjustStackPointer),
    sim("SUB (SP minus immediate)", "1011 0000 1iii iiii", K::AdjustStackPointer),
    sim("CBZ/CBNZ", "1011 x0x1 iiii innn", K::CompareAndBranch).checks(&[C::NotInItBlock]),
    sim("SXTH", "1011 0010 00mm mddd", K::Extend),
    sim("SXTB", "1011 0010 01mm mddd", K::Extend),
    sim("UXTH", "1011 0010 10mm mddd", K::Extend),
    sim("UXTB", "1011 0010 11mm mddd", K::Extend),
    sim("PUSH", "1011 010r rrrr rrrr", K::Push).checks(&[C::NonEmptyPushPopList]),
    reject("SETEND", "1011 0110 010x exxx", R::ProcessorState).sbo(0x0010).sbz(0x0007).checks(&[C::NotInItBlock]),
    reject("CPS", "1011 0110 011i xaif", R::ProcessorState).sbz(0x0008).checks(&[C::CpsFlagsNotEmpty, C::NotInItBlock]),
    sim("REV", "1011 1010 00mm mddd", K::Reverse),
    sim("REV16", "1011 1010 01mm mddd", K::Reverse),
    sim("REVSH", "1011 1010 11mm mddd", K::Reverse),
    sim("POP", "1011 110r rrrr rrrr", K::Pop).checks(&[C::NonEmptyPushPopList, C::PopPcOutsideOrLastInItBlock]),
    reject("BKPT", "1011 1110 iiii iiii", R::ExceptionGenerating),
    table("If-Then, and hints", "1011 1111 xxxx xxxx", IT_AND_HINTS),
];

/// A hint: `1011 1111 opA 0000`. Simulated as A32's hints are (handed to the platform).
const fn hint(name: &'static str, encoding: &'static str) -> T16Entry {
    sim(name, encoding, K::Hint)
}

/// A6.2.5, If-Then and hints: opA (7:4), opB (3:0). opB == 0000 is a hint, anything else IT.
#[rustfmt::skip]
const IT_AND_HINTS: &[T16Entry] = &[
    hint("NOP", "1011 1111 0000 0000"),
    hint("YIELD", "1011 1111 0001 0000"),
    hint("WFE", "1011 1111 0010 0000"),
    hint("WFI", "1011 1111 0011 0000"),
    hint("SEV", "1011 1111 0100 0000"),
    reject("unallocated hint", "1011 1111 xxxx 0000", R::ReservedHint),
    reject("IT", "1011 1111 cccc mmmm", R::IfThen).checks(&[C::ItConditionAllowed, C::NotInItBlock]),
];

/// A6.2.6: cond (11:8); 1110 is UDF, 1111 SVC.
#[rustfmt::skip]
const CONDITIONAL_BRANCH_AND_SVC: &[T16Entry] = &[
    reject("UDF", "1101 1110 iiii iiii", R::Undefined),
    reject("SVC", "1101 1111 iiii iiii", R::ExceptionGenerating),
    sim("B T1 (conditional)", "1101 cccc iiii iiii", K::ConditionalBranch).checks(&[C::NotInItBlock]),
];
