//! Analysis of decoded words: what the probe paths ask beyond the verdict — whether an
//! instruction writes or uses the PC, whether it branches, and how far below SP it may
//! store (the stack checker of the optimized-probe path).

use super::decoder::{Classification, classify, decode};
use super::entry::{REG_FIELDS, RegRule};
use super::{Decoded, RejectReason, SimKind, T16Kind, T32Kind};
use crate::insn::Insn;

/// Whether the instruction, when its condition passes, may write the PC other than by
/// advancing it: branches, data-processing with Rd == PC, loads of PC, LDM with PC in the
/// list, and the rejected exception returns and BXJ. UNDEFINED and UNPREDICTABLE words say
/// `false`.
pub fn writes_pc(insn: Insn) -> bool {
    let c = classify(insn);
    match c.decoded {
        Decoded::Simulate(kind) => match kind {
            SimKind::Branch
            | SimKind::BranchLinkExchangeImmediate
            | SimKind::BranchExchange
            | SimKind::BranchLinkExchangeRegister => true,
            SimKind::DataProcessingImmediate | SimKind::DataProcessingRegister => {
                // TST/TEQ/CMP/CMN (opcode 10xx) have no destination.
                insn.rd() == 15 && insn.opcode() >> 2 != 0b10
            }
            SimKind::LoadStoreImmediate | SimKind::LoadStoreRegister => insn.l() && insn.rt() == 15,
            SimKind::LoadStoreMultiple => insn.l() && insn.reglist() & (1 << 15) != 0,
            _ => false,
        },
        Decoded::Rejected(RejectReason::ExceptionReturn | RejectReason::Jazelle) => true,
        Decoded::Rejected(_) => false,
    }
}

/// Whether the instruction is a branch: B, BL, BLX, BX, and the rejected BXJ.
pub fn is_branch(insn: Insn) -> bool {
    match decode(insn) {
        Decoded::Simulate(kind) => kind.is_branch(),
        Decoded::Rejected(reason) => reason == RejectReason::Jazelle,
    }
}

/// Whether a supported instruction reads or writes PC in any way: a register field that
/// names r15 (as operand, base, offset, stored value or destination), r15 in an LDM/STM
/// list, or a branch. Such an instruction behaves differently when a copy of it runs
/// anywhere but its own address, so the optimized-probe trampoline never executes it
/// directly. Rejected words say `true` (nothing may run them out of place).
pub fn uses_pc(insn: Insn) -> bool {
    uses_pc_classified(insn, &classify(insn))
}

/// [`uses_pc`] of `insn` already classified as `c` (one table walk for several questions).
pub(crate) fn uses_pc_classified(insn: Insn, c: &Classification) -> bool {
    let (Decoded::Simulate(kind), Some(entry)) = (c.decoded, c.entry) else {
        return true;
    };
    kind.is_branch()
        || (kind == SimKind::LoadStoreMultiple && insn.reglist() & (1 << 15) != 0)
        || entry
            .regs
            .iter()
            .zip(REG_FIELDS)
            .any(|(rule, lsb)| *rule != RegRule::NotRegister && insn.reg_at(lsb) == 15)
}

/// How many bytes below the stack pointer an instruction may write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StackUse {
    /// It writes nothing below SP.
    None,
    /// It may write up to this many bytes below SP.
    Bytes(u32),
    /// It may write below SP by an amount only known at run time (a register offset), or it
    /// is not an instruction the step engine runs.
    Unknown,
}

/// The stack checker the optimized-probe path needs: how far below SP `insn` may store.
///
/// Only stores addressed from SP count, as in the kernel's own stack discipline (frame
/// pointers point above SP). Rejected instructions answer [`StackUse::Unknown`].
pub fn stack_use(insn: Insn) -> StackUse {
    match decode(insn) {
        Decoded::Simulate(kind) => stack_use_decoded(insn, kind),
        Decoded::Rejected(_) => StackUse::Unknown,
    }
}

/// [`stack_use`] of `insn` already decoded as `kind`.
pub(crate) fn stack_use_decoded(insn: Insn, kind: SimKind) -> StackUse {
    let sp_based = insn.rn() == 13;
    let load = insn.l();
    let pre = insn.p();
    let up = insn.u();
    let below = |offset: u32| {
        if pre && !up && offset != 0 {
            StackUse::Bytes(offset)
        } else {
            StackUse::None
        }
    };
    // LDRD and STRD share L == 0; H (bit 5) tells STRD (1111) from LDRD (1101).
    let store_dual = insn.h();
    match kind {
        SimKind::LoadStoreImmediate if sp_based && !load => below(insn.imm12()),
        SimKind::LoadStoreHalfImmediate if sp_based && !load => below(insn.imm4h_imm4l()),
        SimKind::LoadStoreDualImmediate if sp_based && store_dual => below(insn.imm4h_imm4l()),
        SimKind::LoadStoreRegister | SimKind::LoadStoreHalfRegister if sp_based && !load => {
            if pre {
                StackUse::Unknown
            } else {
                StackUse::None
            }
        }
        SimKind::LoadStoreDualRegister if sp_based && store_dual => {
            if pre {
                StackUse::Unknown
            } else {
                StackUse::None
            }
        }
        SimKind::LoadStoreMultiple if sp_based && !load && !up => {
            let count = insn.reglist().count_ones();
            // DB starts 4 × count below the base, DA one word higher.
            let bytes = if pre { 4 * count } else { 4 * count - 4 };
            if bytes == 0 {
                StackUse::None
            } else {
                StackUse::Bytes(bytes)
            }
        }
        _ => StackUse::None,
    }
}

/// [`stack_use`] for a 16-bit Thumb instruction decoded as `kind`: only PUSH stores
/// below SP (STR/STRB/STRH take an r0–r7 base or a positive SP offset, STM an r0–r7
/// base). The registry refuses a probe whose instruction may store further below SP
/// than its trap frame leaves room for, as for A32.
pub fn stack_use_t16(kind: T16Kind, hw: u16) -> StackUse {
    match kind {
        // PUSH {list, lr?}: `1011 010M rrrr rrrr`, 4 bytes per register below SP.
        T16Kind::Push => StackUse::Bytes(4 * ((hw & 0x01ff).count_ones())),
        _ => StackUse::None,
    }
}

/// [`stack_use`] for a 32-bit Thumb instruction decoded as `kind` (halfwords `hw1`, `hw2`):
/// PUSH and STMDB from SP store `4 × registers` below it; STR/STRB/STRH (8-bit
/// immediate, pre-indexed, subtracted) and STRD from SP store `offset` below it; a
/// register offset from SP is [`StackUse::Unknown`]. Everything else stores nothing
/// below SP.
pub fn stack_use_t32(kind: T32Kind, hw1: u16, hw2: u16) -> StackUse {
    let sp_based = hw1 & 0xf == 13;
    let below = |subtracted: bool, offset: u32| {
        if subtracted && offset != 0 {
            StackUse::Bytes(offset)
        } else {
            StackUse::None
        }
    };
    match kind {
        T32Kind::Push => {
            // PUSH T2 (STMDB SP!) lists registers in hw2; PUSH T3 (STR Rt, [SP, #-4]!) is
            // a StoreImmediate row.
            StackUse::Bytes(4 * u32::from(hw2).count_ones())
        }
        // STMDB (hw1 bits 8:7 = 0b10) stores below its base; STMIA above it.
        T32Kind::StoreMultiple if sp_based && (hw1 >> 7) & 0b11 == 0b10 => {
            StackUse::Bytes(4 * u32::from(hw2).count_ones())
        }
        // The 8-bit immediate forms (hw1 bit 7 clear, hw2 bit 11 set): P (bit 10) and
        // U (bit 9) clear subtracts before the store; the 12-bit forms only add.
        T32Kind::StoreImmediate if sp_based && hw1 & 0x80 == 0 => {
            let (pre, up) = (hw2 & 0x400 != 0, hw2 & 0x200 != 0);
            below(pre && !up, u32::from(hw2 & 0xff))
        }
        T32Kind::StoreRegister if sp_based => StackUse::Unknown,
        // STRD (L, hw1 bit 4, clear): P is hw1 bit 8, U bit 7, the offset imm8 × 4.
        T32Kind::LoadStoreDual if sp_based && hw1 & 0x10 == 0 => {
            let (pre, up) = (hw1 & 0x100 != 0, hw1 & 0x80 != 0);
            below(pre && !up, 4 * u32::from(hw2 & 0xff))
        }
        _ => StackUse::None,
    }
}

/// Whether the 32-bit Thumb instruction `hw1:hw2`, decoded as `kind` outside an IT block,
/// reads or writes PC, so that it only behaves as at its own address when stepped (an
/// optimized Thumb probe runs any other one natively in its slot): the branches,
/// table branches, ADR, the literal loads and preloads, and loads to PC (LDR, and LDM or
/// POP with PC in the list). Every other T32 row refuses PC in its register fields (the
/// decoder rejects those encodings), so it neither reads nor writes it.
pub fn uses_pc_t32(kind: T32Kind, hw1: u16, hw2: u16) -> bool {
    let rn_is_pc = hw1 & 0xf == 15;
    let rt_is_pc = hw2 >> 12 == 15;
    match kind {
        T32Kind::ConditionalBranch
        | T32Kind::Branch
        | T32Kind::BranchWithLink
        | T32Kind::BranchWithLinkExchange
        | T32Kind::TableBranch
        | T32Kind::GeneratePcRelativeAddress
        | T32Kind::LoadLiteral
        | T32Kind::LoadDualLiteral => true,
        T32Kind::LoadImmediate | T32Kind::LoadRegister => rn_is_pc || rt_is_pc,
        T32Kind::LoadMultiple | T32Kind::Pop => hw2 & 0x8000 != 0,
        T32Kind::PreloadData | T32Kind::PreloadInstruction => rn_is_pc,
        _ => false,
    }
}
