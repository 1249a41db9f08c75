//! Differential conformance cases generated from the decode tables, so that every row and
//! every register class runs natively and through the step engine and must agree.
//!
//! [`cases`] walks every simulated row of [`crate::decode::A32`] and, for each, builds
//! concrete instruction words: several with ordinary registers ([`RegClass::Any`]) and, for
//! every register field of the row, words with that field set to SP, LR, PC and — for a
//! load/store base — PC with writeback. A word whose register class the ARM ARM makes
//! UNPREDICTABLE is still a case: its [`Case::expected`] verdict is a rejection, which the
//! harness checks without running it natively. Free bits (immediates, shifts, condition,
//! P/U/W…) are filled from a fixed-seed generator, so the list is the same on every run.
//!
//! # The harness contract ([`Layout`])
//! Each runnable case is executed twice, once natively and once by [`crate::step::step`],
//! from the same [`Case::frame`] (one per [`FLAG_SCENARIOS`] entry: NZCV, Q and GE vary),
//! with the same memory contents, and everything must match afterwards: r0–r14, the CPSR
//! (flags, GE, T), the landing address, the 256-byte stack buffer and the 256-byte literal
//! window. The harness lays out, around the instruction at address `A`:
//!
//! | offsets from `A` | contents |
//! |---|---|
//! | `-320 .. -64` | literal window: data that PC-relative loads and stores touch |
//! | `-64 .. 0` | ARM pads ([`ARM_PAD`]) |
//! | `0` | the instruction |
//! | `4 .. 68` | ARM pads |
//! | `68 .. 132` | Thumb pads ([`THUMB_PAD_WORD`]) |
//!
//! Every way out of the instruction lands on a pad, including the fall-through to `A + 4`:
//! the native run ends in the harness's undefined-instruction handler, whose trap address
//! and state (ARM, or Thumb with CPSR.T) are the landing the step engine must predict in
//! `frame.pc`. An ARM pad's first halfword is also a Thumb UDF, so a data-processing result
//! that gains bit 0 from the carry flag (ADC/SBC/RSC into PC) lands on a pad too. The
//! generator keeps every other target halfword-aligned Thumb targets inside the Thumb pads.
//!
//! Loads and stores touch only the stack buffer (anywhere the harness likes, word-aligned;
//! SP and base registers point into it as [`Seed::Buffer`]) and the literal window, both
//! filled as [`Case::memory_word`] says, at naturally aligned addresses — except the
//! [`Alignment::Unaligned`] cases: LDR, STR, LDRH, STRH and LDRSH at unaligned addresses in
//! the buffer, which ARMv7 performs with SCTLR.A clear on Normal memory (so the harness
//! must run them with the MMU on, its buffer mapped Normal). LDRD, STRD, LDM and STM at an
//! address that is not word-aligned always take an alignment fault on the CPU: those
//! [`Alignment::Faults`] cases are not run natively; the step engine must refuse them with
//! [`StepError::AlignmentFault`] and leave the frame as it was. Cases that load PC
//! fill memory with pad addresses. WFE and WFI cases ([`Case::waits`]) need a pending
//! wake-up before the native run (SEV before WFE; a pending interrupt before WFI).
//!
//! The files: this one holds the harness contract, the case types and [`CaseMemory`];
//! `generator` builds the cases ([`cases`]); `tests` checks them on the host; [`thumb`]
//! does the same for the T16 and T32 tables (its own layout, IT-block positions and
//! halfword offsets, [`thumb::thumb_cases`]).

use crate::decode::{Decoded, Entry, SimKind};
use crate::frame::TrapFrame;
use crate::insn::Insn;
use crate::step::{Access, Barrier, Hint, Memory, MemoryFault, StepError};

mod generator;
#[cfg(test)]
mod tests;
pub mod thumb;

pub use generator::{Cases, cases};

/// The ARM pad word: `udf #0xdef0` in A32, and its first halfword is `udf #0xf0` in T32.
pub const ARM_PAD: u32 = 0xe7f0_def0;
/// A word of Thumb pads: two `udf #0xfe` halfwords.
pub const THUMB_PAD_WORD: u32 = 0xdefe_defe;
/// Size of the stack buffer and of the literal window.
pub const BUFFER_BYTES: u32 = 256;
/// Where the literal window starts, relative to the instruction.
pub const LITERAL_WINDOW: i32 = -320;
/// The ARM pads before the instruction start here (relative to it).
pub const ARM_PADS_BEFORE: i32 = -64;
/// The ARM pads after the instruction end here, where the Thumb pads start.
pub const THUMB_PADS: i32 = 68;
/// The Thumb pads end here.
pub const CODE_END: i32 = 132;

/// The 16 flag scenarios each case runs under: CPSR bits for NZCV (all 16 values), Q and
/// GE\[3:0\], to be ORed into the mode bits.
pub const FLAG_SCENARIOS: [u32; 16] = {
    let mut s = [0; 16];
    let mut i = 0;
    while i < 16 {
        let ge = (i as u32 * 7 + 3) & 0xf;
        s[i] = (i as u32) << 28 | ((i as u32 >> 1) & 1) << 27 | ge << 16;
        i += 1;
    }
    s
};

/// Where the harness put a case: the instruction's address `A` and the stack buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The instruction's address (word-aligned, with the code area of the module docs
    /// around it).
    pub insn: u32,
    /// The stack buffer's address (word-aligned, [`BUFFER_BYTES`] long).
    pub buffer: u32,
    /// The mode and mask bits of the CPSR the cases run with (e.g. `0x1d3`, SVC with IRQ and
    /// FIQ masked).
    pub mode: u32,
}

impl Layout {
    /// The address `delta` bytes from the instruction.
    pub const fn code(&self, delta: i32) -> u32 {
        self.insn.wrapping_add(delta as u32)
    }

    /// The word the harness puts at `address` in the code area, if it is in it.
    pub fn code_word(&self, address: u32, insn: u32) -> Option<u32> {
        let delta = address.wrapping_sub(self.insn) as i32;
        match delta {
            0 => Some(insn),
            d if (ARM_PADS_BEFORE..THUMB_PADS).contains(&d) => Some(ARM_PAD),
            d if (THUMB_PADS..CODE_END).contains(&d) => Some(THUMB_PAD_WORD),
            _ => None,
        }
    }

    /// Whether execution landing at `pc` in the given state hits a pad (or the fall-through).
    pub fn is_pad(&self, pc: u32, thumb: bool) -> bool {
        let delta = pc.wrapping_sub(self.insn) as i32;
        let arm_pad =
            (ARM_PADS_BEFORE..THUMB_PADS).contains(&delta) && delta != 0 && delta % 4 == 0;
        if thumb {
            arm_pad || ((THUMB_PADS..CODE_END).contains(&delta) && delta % 2 == 0)
        } else {
            arm_pad
        }
    }
}

/// How a register's initial value is made from the [`Layout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seed {
    /// This value.
    Value(u32),
    /// The stack buffer's address plus this offset.
    Buffer(u32),
    /// The instruction's address plus this (possibly odd, for Thumb) offset.
    Code(i32),
    /// The bitwise NOT of the instruction's address plus this offset (for MVN into PC).
    NotCode(i32),
}

impl Seed {
    /// The value under `layout`.
    pub const fn resolve(self, layout: &Layout) -> u32 {
        match self {
            Seed::Value(v) => v,
            Seed::Buffer(off) => layout.buffer.wrapping_add(off),
            Seed::Code(delta) => layout.code(delta),
            Seed::NotCode(delta) => !layout.code(delta),
        }
    }
}

/// How the stack buffer and the literal window are filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// A pseudo-random pattern from this seed.
    Pattern(u32),
    /// Pad addresses (ARM, every fourth a Thumb one), for cases that load PC.
    Pads,
    /// Pad addresses of the Thumb layout (`thumb`): even words ARM pads before the
    /// instruction, odd words Thumb pads after it (bit 0 set), for Thumb cases that load PC.
    ThumbPads,
    /// This word in every slot (a table of equal entries for TBB and TBH).
    Repeat(u32),
}

/// Which register class a case exercises in one register field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegClass {
    /// Ordinary registers (r0–r12) in every field.
    Any,
    /// SP in the field.
    Sp,
    /// LR in the field.
    Lr,
    /// PC in the field (without writeback for a load/store base).
    Pc,
    /// PC as a load/store base with writeback: always UNPREDICTABLE.
    PcWriteback,
}

impl RegClass {
    /// Every class, in order.
    pub const ALL: [RegClass; 5] = [
        RegClass::Any,
        RegClass::Sp,
        RegClass::Lr,
        RegClass::Pc,
        RegClass::PcWriteback,
    ];
}

/// How a load/store case's address is aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alignment {
    /// Naturally aligned for the access size (every case that is not one of the below).
    Natural,
    /// LDR, STR, LDRH, STRH or LDRSH at an address that is not naturally aligned: the CPU
    /// performs it (SCTLR.A clear, Normal memory), natively and stepped.
    Unaligned,
    /// LDRD, STRD, LDM or STM at an address that is not word-aligned: the CPU takes an
    /// alignment fault whatever SCTLR.A says, so the case never runs natively; the step
    /// engine must refuse it ([`Case::alignment_fault`]).
    Faults,
}

/// One conformance case.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// The instruction word.
    pub word: u32,
    /// The decode-table row it exercises.
    pub row: &'static Entry,
    /// The register field (bit offset, one of [`REG_FIELDS`](crate::decode::REG_FIELDS)) the class applies to; `None`
    /// for [`RegClass::Any`].
    pub field: Option<u32>,
    /// The register class.
    pub class: RegClass,
    /// What the decoder must say; only `Simulate` cases run.
    pub expected: Decoded,
    /// Initial r0–r14.
    pub regs: [Seed; 15],
    /// Initial contents of the stack buffer and the literal window.
    pub fill: Fill,
    /// How its memory address is aligned.
    pub alignment: Alignment,
}

impl Case {
    /// Whether the case runs (natively and stepped), rather than checking a rejection.
    pub fn runs(&self) -> bool {
        matches!(self.expected, Decoded::Simulate(_)) && self.alignment != Alignment::Faults
    }

    /// For an [`Alignment::Faults`] case, the error the step engine must return under
    /// `layout` (the frame must stay as it was); `None` for every other case.
    pub fn alignment_fault(&self, layout: &Layout) -> Option<StepError> {
        if self.alignment != Alignment::Faults {
            return None;
        }
        let f = self.frame(layout, 0);
        let insn = Insn(self.word);
        let base = f.reg(insn.rn() as usize);
        let address = if self.expected == Decoded::Simulate(SimKind::LoadStoreMultiple) {
            let bytes = 4 * insn.reglist().count_ones();
            match (insn.p(), insn.u()) {
                (false, true) => base,
                (true, true) => base.wrapping_add(4),
                (false, false) => base.wrapping_sub(bytes).wrapping_add(4),
                (true, false) => base.wrapping_sub(bytes),
            }
        } else if insn.p() {
            // LDRD/STRD: bit 22 set is the immediate form (A5.2.8).
            let offset = if insn.word() & (1 << 22) != 0 {
                insn.imm4h_imm4l()
            } else {
                f.reg(insn.rm() as usize)
            };
            if insn.u() {
                base.wrapping_add(offset)
            } else {
                base.wrapping_sub(offset)
            }
        } else {
            base
        };
        Some(StepError::AlignmentFault { address })
    }

    /// Whether the native run needs a wake-up first (WFE: an SEV; WFI: a pending interrupt).
    pub fn waits(&self) -> bool {
        self.expected == Decoded::Simulate(SimKind::Hint) && matches!(self.word & 0xff, 2 | 3)
    }

    /// The frame both runs start from under `layout` and flag scenario `scenario` (0–15).
    pub fn frame(&self, layout: &Layout, scenario: usize) -> TrapFrame {
        let mut f = TrapFrame {
            pc: layout.insn,
            cpsr: layout.mode | FLAG_SCENARIOS[scenario % 16],
            ..TrapFrame::default()
        };
        for (n, seed) in self.regs.iter().enumerate() {
            f.set_reg(n, seed.resolve(layout));
        }
        f
    }

    /// Word `index` (0–63) of the stack buffer and of the literal window, before the run.
    pub fn memory_word(&self, layout: &Layout, index: u32) -> u32 {
        fill_word(self.fill, layout, index)
    }
}

/// Word `index` (0–63) of the stack buffer and of the literal window under `fill`.
pub fn fill_word(fill: Fill, layout: &Layout, index: u32) -> u32 {
    match fill {
        Fill::Pattern(seed) => {
            let mut x = seed ^ index.wrapping_mul(0x9e37_79b9);
            x ^= x >> 15;
            x = x.wrapping_mul(0x2c1b_3c6d);
            x ^ (x >> 12)
        }
        Fill::ThumbPads if index.is_multiple_of(2) => {
            layout.code(ARM_PADS_BEFORE + 4 * (index as i32 % 16))
        }
        Fill::ThumbPads => layout.code(thumb::THUMB_PADS_START + 2 * (index as i32 % 56) + 1),
        Fill::Repeat(w) => w,
        Fill::Pads if index % 4 == 3 => layout.code(THUMB_PADS + 2 * (index as i32 % 32) + 1),
        Fill::Pads => {
            let k = (index % 32) as i32;
            if k < 16 {
                layout.code(ARM_PADS_BEFORE + 4 * k)
            } else {
                layout.code(4 * (k - 15))
            }
        }
    }
}

/// The memory a stepped case may touch: copies of the stack buffer and the literal window.
/// Any other address faults, which is how the host test proves the generator keeps its
/// promise; the in-kernel harness steps through it too and compares it with the native run.
#[derive(Clone, Debug)]
pub struct CaseMemory {
    /// Where the case is laid out.
    pub layout: Layout,
    /// The stack buffer.
    pub buffer: [u8; BUFFER_BYTES as usize],
    /// The literal window.
    pub literal: [u8; BUFFER_BYTES as usize],
    /// Barriers the step asked for.
    pub barriers: u32,
    /// Hints the step asked for.
    pub hints: u32,
    /// Whether accesses may be unaligned ([`Alignment::Unaligned`] cases); otherwise an
    /// unaligned access faults.
    pub unaligned: bool,
    /// Where the literal window starts, relative to the instruction's word:
    /// [`LITERAL_WINDOW`] for A32 cases, [`thumb::THUMB_LITERAL_WINDOW`] for Thumb ones.
    pub literal_at: i32,
}

impl CaseMemory {
    /// The initial memory of `case` under `layout`.
    pub fn new(case: &Case, layout: Layout) -> CaseMemory {
        let mut m = CaseMemory {
            layout,
            buffer: [0; BUFFER_BYTES as usize],
            literal: [0; BUFFER_BYTES as usize],
            barriers: 0,
            hints: 0,
            unaligned: case.alignment == Alignment::Unaligned,
            literal_at: LITERAL_WINDOW,
        };
        m.fill(|i| case.memory_word(&layout, i));
        m
    }

    /// Fills the buffer and the literal window, word `i` of each with `word(i)`.
    pub(crate) fn fill(&mut self, word: impl Fn(u32) -> u32) {
        for i in 0..BUFFER_BYTES / 4 {
            let w = word(i).to_le_bytes();
            let at = 4 * i as usize;
            self.buffer[at..at + 4].copy_from_slice(&w);
            self.literal[at..at + 4].copy_from_slice(&w);
        }
    }

    fn place(&mut self, address: u32, len: u32, access: Access) -> Result<&mut [u8], MemoryFault> {
        let fault = MemoryFault { address, access };
        if !self.unaligned && !address.is_multiple_of(len) {
            return Err(fault);
        }
        let in_buffer = address.wrapping_sub(self.layout.buffer);
        let in_literal = address.wrapping_sub(self.layout.code(self.literal_at));
        let (region, off) = if in_buffer < BUFFER_BYTES {
            (&mut self.buffer, in_buffer)
        } else if in_literal < BUFFER_BYTES {
            (&mut self.literal, in_literal)
        } else {
            return Err(fault);
        };
        if off + len > BUFFER_BYTES {
            return Err(fault);
        }
        Ok(&mut region[off as usize..(off + len) as usize])
    }
}

impl Memory for CaseMemory {
    fn read_u8(&mut self, address: u32) -> Result<u8, MemoryFault> {
        Ok(self.place(address, 1, Access::Read)?[0])
    }
    fn read_u16(&mut self, address: u32) -> Result<u16, MemoryFault> {
        let b = self.place(address, 2, Access::Read)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn read_u32(&mut self, address: u32) -> Result<u32, MemoryFault> {
        let b = self.place(address, 4, Access::Read)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn write_u8(&mut self, address: u32, value: u8) -> Result<(), MemoryFault> {
        self.place(address, 1, Access::Write)?[0] = value;
        Ok(())
    }
    fn write_u16(&mut self, address: u32, value: u16) -> Result<(), MemoryFault> {
        self.place(address, 2, Access::Write)?
            .copy_from_slice(&value.to_le_bytes());
        Ok(())
    }
    fn write_u32(&mut self, address: u32, value: u32) -> Result<(), MemoryFault> {
        self.place(address, 4, Access::Write)?
            .copy_from_slice(&value.to_le_bytes());
        Ok(())
    }
    fn barrier(&mut self, _: Barrier) {
        self.barriers += 1;
    }
    fn hint(&mut self, _: Hint) {
        self.hints += 1;
    }
}
