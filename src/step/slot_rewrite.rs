//! The slot rewrite ([`emulation`]): the opt-in fallback that runs a register-only instruction
//! out of line, renamed onto r0–r3, instead of simulating it.

use super::psr;
use crate::decode::{Decoded, SimKind};
use crate::frame::TrapFrame;
use crate::insn::Insn;

/// An instruction rewritten to run out of line from an instruction slot: the fallback to
/// simulation, for an integrator who wants a register-only instruction executed by the CPU
/// itself (for instance to cross-check the simulator on new silicon).
///
/// Every register field of the original is renamed onto r0–r3 (at most four distinct
/// registers appear in a register-only A32 instruction), so the slot is the short AAPCS
/// function [`slot_words`] builds around [`Emulation::word`]: load APSR and r0–r3 from an
/// [`EmulationBlock`], run the word, store r0–r3 and the APSR back.
///
/// [`Emulation::load`] fills the block from the frame and [`Emulation::store`] writes the
/// results, the flags and the next PC back. Only classes without memory access, PC or
/// status-register reads qualify; everything else is simulated, and the decoder's verdict
/// stays "simulate" either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Emulation {
    /// The rewritten instruction, naming only r0–r3.
    pub word: u32,
    /// `map[i]` is the original register that r`i` stands for; `None` past the last one used.
    pub map: [Option<u8>; 4],
}

/// The values a slot loads into r0–r3 and the APSR, and reads back. The slot addresses it
/// by offset: `regs` at 0, `apsr` at 16.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct EmulationBlock {
    /// r0–r3.
    pub regs: [u32; 4],
    /// APSR: NZCV, Q and GE in their CPSR positions. After a slot has run it holds what MRS
    /// read, so the other CPSR bits may be set; [`Emulation::store`] takes only NZCV, Q, GE.
    pub apsr: u32,
}

/// The CPSR bits a slot carries in and out (NZCV, Q, GE).
pub(super) const APSR_BITS: u32 = psr::N | psr::Z | psr::C | psr::V | psr::Q | psr::GE;

/// Whether `kind` touches only registers and the APSR, so a renamed copy can run in a slot.
fn register_only(kind: SimKind) -> bool {
    !matches!(
        kind,
        SimKind::LoadStoreImmediate
            | SimKind::LoadStoreRegister
            | SimKind::LoadStoreHalfImmediate
            | SimKind::LoadStoreHalfRegister
            | SimKind::LoadStoreDualImmediate
            | SimKind::LoadStoreDualRegister
            | SimKind::LoadStoreMultiple
            | SimKind::Branch
            | SimKind::BranchLinkExchangeImmediate
            | SimKind::BranchExchange
            | SimKind::BranchLinkExchangeRegister
            | SimKind::ReadStatus
            | SimKind::Hint
            | SimKind::Preload
            | SimKind::Barrier
    )
}

/// The slot rewrite of `insn`, or `None` when it is not a register-only class or names PC.
pub fn emulation(insn: Insn) -> Option<Emulation> {
    let c = crate::decode::classify(insn);
    let (Decoded::Simulate(kind), Some(row)) = (c.decoded, c.entry) else {
        return None;
    };
    if !register_only(kind) {
        return None;
    }
    let mut word = insn.word();
    let mut map = [None; 4];
    let mut used = 0;
    for (rule, lsb) in row.regs.iter().zip(crate::decode::REG_FIELDS) {
        if *rule == crate::decode::RegRule::NotRegister {
            continue;
        }
        let r = ((word >> lsb) & 0xf) as u8;
        if r == 15 {
            return None;
        }
        let low = match map[..used].iter().position(|m| *m == Some(r)) {
            Some(i) => i,
            None => {
                map[used] = Some(r);
                used += 1;
                used - 1
            }
        };
        word = word & !(0xf << lsb) | (low as u32) << lsb;
    }
    Some(Emulation { word, map })
}

impl Emulation {
    /// The block a slot starts from, for `frame`.
    pub fn load(&self, frame: &TrapFrame) -> EmulationBlock {
        let mut block = EmulationBlock {
            regs: [0; 4],
            apsr: frame.cpsr & APSR_BITS,
        };
        for (slot, original) in block.regs.iter_mut().zip(self.map) {
            if let Some(r) = original {
                *slot = frame.reg(usize::from(r));
            }
        }
        block
    }

    /// Writes what the slot left in `block` back to `frame`, and advances past `addr`.
    pub fn store(&self, block: &EmulationBlock, frame: &mut TrapFrame, addr: u32) {
        for (value, original) in block.regs.iter().zip(self.map) {
            if let Some(r) = original {
                frame.set_reg(usize::from(r), *value);
            }
        }
        frame.cpsr = frame.cpsr & !APSR_BITS | block.apsr & APSR_BITS;
        frame.pc = addr.wrapping_add(4);
    }

    /// The slot that runs this rewrite: [`slot_words`] of [`Emulation::word`].
    pub const fn slot_words(&self) -> [u32; EMULATION_SLOT_WORDS] {
        slot_words(self.word)
    }
}

/// Words in an emulation slot.
pub const EMULATION_SLOT_WORDS: usize = SLOT_TEMPLATE.len();

/// Bytes in an emulation slot: the slot size to give a
/// slot allocator that hands out emulation slots.
pub const EMULATION_SLOT_BYTES: usize = 4 * EMULATION_SLOT_WORDS;

/// Index in the slot of the rewritten instruction.
pub const EMULATION_SLOT_INSN: usize = 4;

/// The emulation slot, an AAPCS function `extern "C" fn(*mut EmulationBlock)`, with a NOP
/// where the rewritten instruction goes. It touches only r0–r3, r12 and the APSR, all of
/// which the AAPCS lets a callee clobber (NZCV, Q and GE are undefined across a call), so
/// it saves nothing and uses no stack. It reads no PC-relative operand, so it runs
/// wherever it is copied.
const SLOT_TEMPLATE: [u32; 9] = [
    0xe1a0_c000, // mov  r12, r0            @ r12: the EmulationBlock
    0xe59c_0010, // ldr  r0, [r12, #16]     @ block.apsr
    0xe12c_f000, // msr  APSR_nzcvqg, r0    @ NZCV, Q, GE[3:0]: the frame's flags
    0xe89c_000f, // ldm  r12, {r0-r3}       @ block.regs
    0xe320_f000, // nop                     @ EMULATION_SLOT_INSN: the rewritten word
    0xe88c_000f, // stm  r12, {r0-r3}       @ block.regs
    0xe10f_0000, // mrs  r0, APSR
    0xe58c_0010, // str  r0, [r12, #16]     @ block.apsr
    0xe12f_ff1e, // bx   lr
];

/// The emulation slot for `rewritten` (an [`Emulation::word`], naming only r0–r3): copy
/// these words to an executable slot, make the instruction stream see them, and call the
/// slot's address as `extern "C" fn(*mut EmulationBlock)`. The word keeps its condition,
/// which passes or fails on the flags loaded from the block.
pub const fn slot_words(rewritten: u32) -> [u32; EMULATION_SLOT_WORDS] {
    let mut words = SLOT_TEMPLATE;
    words[EMULATION_SLOT_INSN] = rewritten;
    words
}
