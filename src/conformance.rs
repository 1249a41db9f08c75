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

use crate::decode::classify;
use crate::decode::{A32, Action, Decoded, Entry, REG_FIELDS, RegRule, RejectReason, SimKind};
use crate::frame::TrapFrame;
use crate::insn::Insn;
use crate::step::{Access, Barrier, Hint, Memory, MemoryFault, StepError};

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
    /// The register field (bit offset, one of [`REG_FIELDS`]) the class applies to; `None`
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
        let w = self.word;
        let base = f.reg(((w >> 16) & 0xf) as usize);
        let bit = |n: u32| w & (1 << n) != 0;
        let address = if self.expected == Decoded::Simulate(SimKind::LoadStoreMultiple) {
            let bytes = 4 * (w & 0xffff).count_ones();
            match (bit(24), bit(23)) {
                (false, true) => base,
                (true, true) => base.wrapping_add(4),
                (false, false) => base.wrapping_sub(bytes).wrapping_add(4),
                (true, false) => base.wrapping_sub(bytes),
            }
        } else if bit(24) {
            let offset = if bit(22) {
                (w >> 4) & 0xf0 | w & 0xf
            } else {
                f.reg((w & 0xf) as usize)
            };
            if bit(23) {
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
        match self.fill {
            Fill::Pattern(seed) => {
                let mut x = seed ^ index.wrapping_mul(0x9e37_79b9);
                x ^= x >> 15;
                x = x.wrapping_mul(0x2c1b_3c6d);
                x ^ (x >> 12)
            }
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
        };
        for i in 0..BUFFER_BYTES / 4 {
            let w = case.memory_word(&layout, i).to_le_bytes();
            let at = 4 * i as usize;
            m.buffer[at..at + 4].copy_from_slice(&w);
            m.literal[at..at + 4].copy_from_slice(&w);
        }
        m
    }

    fn place(&mut self, address: u32, len: u32, access: Access) -> Result<&mut [u8], MemoryFault> {
        let fault = MemoryFault { address, access };
        if !self.unaligned && !address.is_multiple_of(len) {
            return Err(fault);
        }
        let in_buffer = address.wrapping_sub(self.layout.buffer);
        let in_literal = address.wrapping_sub(self.layout.code(LITERAL_WINDOW));
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

/// Cases per row with ordinary registers.
const ANY_VARIANTS: u32 = 32;
/// Cases per (row, register field, class).
const CLASS_VARIANTS: u32 = 4;
/// Cases per load/store row at unaligned addresses.
const UNALIGNED_VARIANTS: u32 = 8;
/// Attempts at filling free bits before a (row, field, class) is given up.
const ATTEMPTS: u32 = 64;
/// Plans 1..=CLASS_PLANS are (register field, class) pairs.
const CLASS_PLANS: u32 = 4 * REG_FIELDS.len() as u32;
/// The last plan of a load/store row: its unaligned cases.
const UNALIGNED_PLAN: u32 = CLASS_PLANS + 1;

/// How `kind` behaves at an unaligned address: performed (word and halfword transfers;
/// byte rows make no case), an alignment fault (pairs and multiples), or not a transfer.
fn unaligned_alignment(kind: SimKind) -> Option<Alignment> {
    match kind {
        SimKind::LoadStoreImmediate
        | SimKind::LoadStoreRegister
        | SimKind::LoadStoreHalfImmediate
        | SimKind::LoadStoreHalfRegister => Some(Alignment::Unaligned),
        SimKind::LoadStoreDualImmediate
        | SimKind::LoadStoreDualRegister
        | SimKind::LoadStoreMultiple => Some(Alignment::Faults),
        _ => None,
    }
}

/// Every conformance case, in table order. Deterministic.
pub fn cases() -> Cases {
    Cases {
        rows: Rows {
            stack: [(A32, 0); 6],
            depth: 1,
        },
        row: None,
        plan: 0,
        variant: 0,
    }
}

/// The leaf rows the step engine simulates, in table order.
struct Rows {
    stack: [(&'static [Entry], usize); 6],
    depth: usize,
}

impl Iterator for Rows {
    type Item = (&'static Entry, SimKind);

    fn next(&mut self) -> Option<Self::Item> {
        while self.depth > 0 {
            let (table, i) = self.stack[self.depth - 1];
            if i == table.len() {
                self.depth -= 1;
                continue;
            }
            self.stack[self.depth - 1].1 += 1;
            let e = &table[i];
            match e.action {
                Action::Table(sub) => {
                    self.stack[self.depth] = (sub, 0);
                    self.depth += 1;
                }
                Action::Simulate(kind) => return Some((e, kind)),
                Action::Reject(_) => {}
            }
        }
        None
    }
}

/// The iterator [`cases`] returns.
pub struct Cases {
    rows: Rows,
    row: Option<(&'static Entry, SimKind)>,
    plan: u32,
    variant: u32,
}

impl Iterator for Cases {
    type Item = Case;

    fn next(&mut self) -> Option<Case> {
        loop {
            let (row, kind) = match self.row {
                Some(r) => r,
                None => {
                    let r = self.rows.next()?;
                    self.row = Some(r);
                    self.plan = 0;
                    self.variant = 0;
                    r
                }
            };
            // Plan 0 is RegClass::Any; plans 1..=CLASS_PLANS are (field, class) pairs;
            // UNALIGNED_PLAN the unaligned cases of a load/store row.
            let (field, class, variants, alignment) = if self.plan == 0 {
                (None, RegClass::Any, ANY_VARIANTS, Alignment::Natural)
            } else if self.plan > CLASS_PLANS {
                match unaligned_alignment(kind) {
                    Some(a) if self.plan == UNALIGNED_PLAN => {
                        (None, RegClass::Any, UNALIGNED_VARIANTS, a)
                    }
                    _ => {
                        self.row = None;
                        continue;
                    }
                }
            } else {
                let i = self.plan - 1;
                let f = (i / 4) as usize;
                let class = RegClass::ALL[1 + (i % 4) as usize];
                let rule = row.regs[f];
                let applies = match class {
                    RegClass::PcWriteback => rule == RegRule::PcWithoutWriteback,
                    _ => rule != RegRule::NotRegister,
                };
                if !applies {
                    self.plan += 1;
                    continue;
                }
                (
                    Some(REG_FIELDS[f]),
                    class,
                    CLASS_VARIANTS,
                    Alignment::Natural,
                )
            };
            let variant = self.variant;
            self.variant += 1;
            if self.variant >= variants {
                self.variant = 0;
                self.plan += 1;
            }
            let seed = row.value
                ^ row.mask.rotate_left(7)
                ^ self.plan.wrapping_mul(0x0100_0193)
                ^ variant << 20;
            if let Some(case) = build(row, kind, field, class, alignment, seed) {
                return Some(case);
            }
        }
    }
}

/// A small deterministic generator (xorshift32).
struct Rng(u32);

impl Rng {
    fn new(seed: u32) -> Rng {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }

    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }

    /// A value that exercises edges: zero, extremes, halfword and byte boundaries, or random.
    fn interesting(&mut self) -> u32 {
        const EDGES: [u32; 12] = [
            0,
            1,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            0x0000_8000,
            0x0000_7fff,
            0xffff_8000,
            0x8000_8000,
            0x7fff_7fff,
            0x00ff_00ff,
            0x8080_7f7f,
        ];
        match self.below(3) {
            0 => EDGES[self.below(12) as usize],
            _ => self.next(),
        }
    }

    /// A pad offset from the instruction in the ARM pads, never 0.
    fn arm_pad(&mut self) -> i32 {
        let k = 1 + self.below(16) as i32;
        if self.below(2) == 0 { -4 * k } else { 4 * k }
    }
}

const fn field(w: u32, lsb: u32) -> usize {
    ((w >> lsb) & 0xf) as usize
}

const fn with(w: u32, mask: u32, value: u32) -> u32 {
    w & !mask | value & mask
}

/// Whether `class` in `field` of `row` (of `kind`) is UNPREDICTABLE by the ARM ARM's rules.
fn class_is_unpredictable(row: &Entry, kind: SimKind, field: u32, class: RegClass) -> bool {
    let f = REG_FIELDS.iter().position(|&l| l == field).unwrap_or(0);
    let dual_rt = field == 12
        && matches!(
            kind,
            SimKind::LoadStoreDualImmediate | SimKind::LoadStoreDualRegister
        );
    match class {
        RegClass::Any => false,
        RegClass::PcWriteback => true,
        RegClass::Sp | RegClass::Lr => dual_rt,
        RegClass::Pc => dual_rt || row.regs[f] == RegRule::NotPc,
    }
}

/// One case for `row`, or `None` when no filling of the free bits gives a word of this row
/// that the harness can run safely (e.g. `mov pc, #imm`, which cannot land on a pad).
fn build(
    row: &'static Entry,
    kind: SimKind,
    field: Option<u32>,
    class: RegClass,
    alignment: Alignment,
    seed: u32,
) -> Option<Case> {
    let mut rng = Rng::new(seed);
    let rejected = field.is_some_and(|f| class_is_unpredictable(row, kind, f, class));
    let expected = if rejected {
        Decoded::Rejected(RejectReason::Unpredictable)
    } else {
        Decoded::Simulate(kind)
    };
    for _ in 0..ATTEMPTS {
        let Some(case) = attempt(row, kind, field, class, expected, alignment, &mut rng) else {
            continue;
        };
        let c = classify(Insn(case.word));
        if core::ptr::eq(c.entry.unwrap_or(&A32[0]), row) && c.decoded == expected {
            return Some(case);
        }
    }
    None
}

fn attempt(
    row: &'static Entry,
    kind: SimKind,
    field: Option<u32>,
    class: RegClass,
    expected: Decoded,
    alignment: Alignment,
    rng: &mut Rng,
) -> Option<Case> {
    // Free bits random; should-be bits as they should be.
    let mut w = row.value | rng.next() & !row.mask;
    w = w & !row.should_be_zero | row.should_be_one;
    // Mostly AL, sometimes another condition (the 16 flag scenarios make it pass and fail).
    if w >> 28 != 0xf {
        let cond = if rng.below(2) == 0 {
            0xe
        } else {
            rng.below(15)
        };
        w = with(w, 0xf000_0000, cond << 28);
    }
    // Distinct ordinary registers in every register field (even ones for a pair's Rt).
    let mut used = 0u32;
    for (rule, lsb) in row.regs.iter().zip(REG_FIELDS) {
        if *rule == RegRule::NotRegister {
            continue;
        }
        let pair = lsb == 12
            && matches!(
                kind,
                SimKind::LoadStoreDualImmediate | SimKind::LoadStoreDualRegister
            );
        let r = loop {
            let r = if pair {
                2 * rng.below(6)
            } else {
                rng.below(13)
            };
            let span = if pair { 3 << r } else { 1 << r };
            if used & span == 0 {
                used |= span;
                break r;
            }
        };
        w = with(w, 0xf << lsb, r << lsb);
    }
    if let Some(lsb) = field {
        let r = match class {
            RegClass::Any => unreachable!("Any has no field"),
            RegClass::Sp => 13,
            RegClass::Lr => 14,
            RegClass::Pc | RegClass::PcWriteback => 15,
        };
        w = with(w, 0xf << lsb, r << lsb);
        if class == RegClass::PcWriteback {
            w |= 1 << 24 | 1 << 21; // pre-indexed with writeback
        } else if class == RegClass::Pc
            && row.regs[REG_FIELDS.iter().position(|&l| l == lsb)?] == RegRule::PcWithoutWriteback
        {
            w = with(w, 1 << 24 | 1 << 21, 1 << 24); // offset addressing
        }
    }
    let mut regs = [Seed::Value(0); 15];
    for r in regs.iter_mut() {
        *r = Seed::Value(rng.interesting());
    }
    regs[13] = Seed::Buffer(128);
    let mut fill = Fill::Pattern(rng.next());
    if expected == Decoded::Simulate(kind) {
        w = shape(kind, w, &mut regs, &mut fill, alignment, rng)?;
    }
    Some(Case {
        word: w,
        row,
        field,
        class,
        expected,
        regs,
        fill,
        alignment,
    })
}

fn set(regs: &mut [Seed; 15], n: usize, seed: Seed) {
    if n < 15 {
        regs[n] = seed;
    }
}

/// Makes a runnable word safe to run: memory operands inside the buffer or literal window,
/// control flow onto pads. Adjusts free fields of `w` and the seeds; `None` when impossible.
fn shape(
    kind: SimKind,
    mut w: u32,
    regs: &mut [Seed; 15],
    fill: &mut Fill,
    alignment: Alignment,
    rng: &mut Rng,
) -> Option<u32> {
    match kind {
        SimKind::DataProcessingImmediate | SimKind::DataProcessingRegister
            if field(w, 12) == 15 =>
        {
            let compare = (w >> 23) & 3 == 0b10 && w & (1 << 20) != 0;
            if !compare {
                return alu_to_pc(w, regs, rng);
            }
        }
        SimKind::DataProcessingRegisterShifted => {
            const AMOUNTS: [u32; 8] = [0, 1, 4, 31, 32, 33, 0x100, 0xffff_ff03];
            set(
                regs,
                field(w, 8),
                Seed::Value(AMOUNTS[rng.below(8) as usize]),
            );
        }
        SimKind::LoadStoreImmediate
        | SimKind::LoadStoreRegister
        | SimKind::LoadStoreHalfImmediate
        | SimKind::LoadStoreHalfRegister
        | SimKind::LoadStoreDualImmediate
        | SimKind::LoadStoreDualRegister => return transfer(kind, w, regs, fill, alignment, rng),
        SimKind::LoadStoreMultiple => {
            let n = field(w, 16);
            let mut list = rng.next() & 0xffff;
            if bit(w, 21) {
                list &= !(1 << n);
            }
            if list == 0 {
                list = 1 << ((n + 1) % 15);
            }
            w = with(w, 0xffff, list);
            let misalign = if alignment == Alignment::Natural {
                0
            } else {
                1 + rng.below(3)
            };
            set(regs, n, Seed::Buffer(64 + 4 * rng.below(33) + misalign));
            if bit(w, 20) && bit(w, 15) {
                *fill = Fill::Pads;
            }
        }
        SimKind::Branch => {
            let target = rng.arm_pad();
            w = with(w, 0x00ff_ffff, ((target - 8) / 4) as u32);
        }
        SimKind::BranchLinkExchangeImmediate => {
            w = with(w, 0x00ff_ffff, 15 + rng.below(16));
        }
        SimKind::BranchExchange | SimKind::BranchLinkExchangeRegister => {
            let target = if rng.below(2) == 0 {
                Seed::Code(rng.arm_pad())
            } else {
                Seed::Code(THUMB_PADS + 2 * rng.below(32) as i32 + 1)
            };
            set(regs, field(w, 0), target);
        }
        _ => {}
    }
    Some(w)
}

const fn bit(w: u32, n: u32) -> bool {
    w & (1 << n) != 0
}

/// Data-processing into PC: operands chosen so the result is a pad (plus the carry for
/// ADC/SBC/RSC, which a pad also catches).
fn alu_to_pc(mut w: u32, regs: &mut [Seed; 15], rng: &mut Rng) -> Option<u32> {
    let op = (w >> 21) & 0xf;
    let n = field(w, 16);
    let d = rng.arm_pad();
    if bit(w, 25) {
        // Immediate operand: rotation 0, a small multiple of 4 (0 for the logical ops).
        let imm = match op {
            0x1 | 0xc | 0xe => 0,
            0x2 | 0x4 | 0x5 | 0x6 => 4 * rng.below(8),
            _ => return None,
        };
        w = with(w, 0xfff, imm);
        let imm = imm as i32;
        if n == 15 {
            // The operand is A + 8: only some results are pads.
            let target = match op {
                0x4 | 0x5 => 8 + imm,
                0x2 => 8 - imm,
                0x6 => 7 - imm,
                _ => 8,
            };
            return (target != 0 && (ARM_PADS_BEFORE..THUMB_PADS).contains(&target)).then_some(w);
        }
        let base = match op {
            0x4 | 0x5 => d - imm,
            0x2 => d + imm,
            0x6 => d + imm + 1,
            _ => d,
        };
        set(regs, n, Seed::Code(base));
        return Some(w);
    }
    // Register operand, unshifted.
    w = with(w, 0xfe0, 0);
    let m = field(w, 0);
    let mov = op == 0xd || op == 0xf;
    if !mov && n == m {
        return None;
    }
    let v = 4 * rng.below(16) as i32;
    let value = |x: i32| Seed::Value(x as u32);
    match op {
        // ADD, ADC: Rn + Rm (+ C).
        0x4 | 0x5 => match (n == 15, m == 15) {
            (true, _) => set(regs, m, value(d - 8)),
            (_, true) => set(regs, n, value(d - 8)),
            _ => {
                set(regs, n, Seed::Code(d - v));
                set(regs, m, value(v));
            }
        },
        // SUB, SBC: Rn - Rm (- 1 + C).
        0x2 | 0x6 => {
            let borrow = (op == 0x6) as i32;
            match (n == 15, m == 15) {
                (_, true) => return None,
                (true, _) => set(regs, m, value(8 - borrow - d)),
                _ => {
                    set(regs, n, Seed::Code(d + v + borrow));
                    set(regs, m, value(v));
                }
            }
        }
        // RSB, RSC: Rm - Rn (- 1 + C).
        0x3 | 0x7 => {
            let borrow = (op == 0x7) as i32;
            match (n == 15, m == 15) {
                (true, _) => return None,
                (_, true) => set(regs, n, value(8 - borrow - d)),
                _ => {
                    set(regs, m, Seed::Code(d + v + borrow));
                    set(regs, n, value(v));
                }
            }
        }
        // AND with all ones; EOR and ORR with zero; BIC clearing nothing.
        0x0 | 0x1 | 0xc | 0xe => {
            let identity = if op == 0x0 {
                Seed::Value(u32::MAX)
            } else {
                Seed::Value(0)
            };
            match (n == 15, m == 15) {
                (true, _) => set(regs, m, identity),
                (_, true) if op != 0xe => set(regs, n, identity),
                (_, true) => return None,
                _ => {
                    set(regs, n, Seed::Code(d));
                    set(regs, m, identity);
                }
            }
        }
        0xd => set(regs, m, Seed::Code(d)),
        0xf if m != 15 => set(regs, m, Seed::NotCode(d)),
        _ => return None,
    }
    Some(w)
}

/// Loads and stores: naturally aligned addresses inside the buffer, or — for a PC base —
/// inside the literal window; with another `alignment`, a buffer address that is not
/// naturally aligned (no case for byte transfers or a PC base).
fn transfer(
    kind: SimKind,
    mut w: u32,
    regs: &mut [Seed; 15],
    fill: &mut Fill,
    alignment: Alignment,
    rng: &mut Rng,
) -> Option<u32> {
    let word_byte = matches!(
        kind,
        SimKind::LoadStoreImmediate | SimKind::LoadStoreRegister
    );
    let dual = matches!(
        kind,
        SimKind::LoadStoreDualImmediate | SimKind::LoadStoreDualRegister
    );
    let register = matches!(
        kind,
        SimKind::LoadStoreRegister
            | SimKind::LoadStoreHalfRegister
            | SimKind::LoadStoreDualRegister
    );
    let size = if dual {
        4
    } else if word_byte {
        if bit(w, 22) { 1 } else { 4 }
    } else if (w >> 5) & 3 == 0b10 {
        1
    } else {
        2
    };
    let n = field(w, 16);
    let misalign = match alignment {
        Alignment::Natural => 0,
        _ if size == 1 || n == 15 => return None,
        _ if size == 2 => 1 + 2 * rng.below(2),
        _ => 1 + rng.below(3),
    };
    let offset;
    if n == 15 {
        // PC base (offset addressing only): down into the literal window.
        w = with(w, 1 << 23, 0);
        offset = 72 + 8 + 4 * rng.below(40);
    } else {
        set(regs, n, Seed::Buffer(96 + 4 * rng.below(17) + misalign));
        offset = size * rng.below(16);
    }
    if register {
        let m = field(w, 0);
        let mut v = offset;
        if word_byte {
            // LSL by 0–2 keeps the offset exact and aligned.
            let s = if offset % 4 == 0 && n != 15 {
                rng.below(3)
            } else {
                0
            };
            w = with(w, 0xfe0, s << 7);
            v = offset >> s;
            if v << s != offset {
                return None;
            }
        }
        set(regs, m, Seed::Value(v));
    } else if word_byte {
        w = with(w, 0xfff, offset);
    } else {
        w = with(w, 0xf0f, (offset & 0xf0) << 4 | offset & 0xf);
    }
    let load = if dual { !bit(w, 5) } else { bit(w, 20) };
    if load && field(w, 12) == 15 {
        *fill = Fill::Pads;
    }
    Some(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use crate::step::step;
    use std::collections::{BTreeMap, BTreeSet};
    use std::vec::Vec;

    const LAYOUT: Layout = Layout {
        insn: 0x4010_0400,
        buffer: 0x4020_0000,
        mode: 0x1d3,
    };

    #[test]
    fn generator_makes_over_five_thousand_runnable_cases() {
        let all: Vec<Case> = cases().collect();
        let runnable = all.iter().filter(|c| c.runs()).count();
        println!(
            "{} cases, {} runnable, {} checked rejections",
            all.len(),
            runnable,
            all.len() - runnable
        );
        assert!(runnable >= 5000, "{runnable}");
    }

    #[test]
    fn every_case_decodes_as_it_expects() {
        for c in cases() {
            assert_eq!(
                decode(Insn(c.word)),
                c.expected,
                "{:#010x} {} {:?}",
                c.word,
                c.row.name,
                c.class
            );
        }
    }

    #[test]
    fn every_row_and_register_class_is_covered() {
        let mut rows = BTreeSet::new();
        let mut classes: BTreeMap<(&str, u32), BTreeSet<String>> = BTreeMap::new();
        for c in cases() {
            if c.runs() {
                rows.insert(c.row.name);
            }
            if let Some(f) = c.field {
                classes
                    .entry((c.row.name, f))
                    .or_default()
                    .insert(format!("{:?}", c.class));
            }
        }
        let mut missing_rows = Vec::new();
        let mut missing_classes = Vec::new();
        let mut planned = 0;
        let mut covered = 0;
        for (row, _) in (Rows {
            stack: [(A32, 0); 6],
            depth: 1,
        }) {
            if !rows.contains(row.name) {
                missing_rows.push(row.name);
            }
            for (rule, f) in row.regs.iter().zip(REG_FIELDS) {
                if *rule == RegRule::NotRegister {
                    continue;
                }
                for class in [
                    RegClass::Sp,
                    RegClass::Lr,
                    RegClass::Pc,
                    RegClass::PcWriteback,
                ] {
                    if class == RegClass::PcWriteback && *rule != RegRule::PcWithoutWriteback {
                        continue;
                    }
                    planned += 1;
                    let got = classes
                        .get(&(row.name, f))
                        .is_some_and(|s| s.contains(&format!("{class:?}")));
                    if got {
                        covered += 1;
                    } else {
                        missing_classes.push(format!("{} bits {}+ {class:?}", row.name, f));
                    }
                }
            }
        }
        println!("register classes covered: {covered} of {planned}");
        for m in &missing_classes {
            println!("  not generated: {m}");
        }
        assert!(
            missing_rows.is_empty(),
            "rows without a runnable case: {missing_rows:?}"
        );
        // The only (row, field, class) combinations left out are those where the class turns
        // the word into another row (PC in BFI's Rn is BFC, in SMLAD's Ra is SMUAD …) or where
        // no operands land on a pad (MOV pc, #imm …); those are listed above.
        assert!(covered * 100 >= planned * 90, "{covered} of {planned}");
    }

    #[test]
    fn stepped_cases_touch_only_the_buffers_and_land_on_pads() {
        let mut stepped = 0;
        for c in cases().filter(Case::runs) {
            for scenario in 0..16 {
                let mut f = c.frame(&LAYOUT, scenario);
                let mut mem = CaseMemory::new(&c, LAYOUT);
                let result = step(Insn(c.word), LAYOUT.insn, &mut f, &mut mem);
                assert_eq!(
                    result,
                    Ok(()),
                    "{:#010x} {} {:?} scenario {scenario}",
                    c.word,
                    c.row.name,
                    c.class
                );
                let thumb = f.cpsr & (1 << 5) != 0;
                assert!(
                    f.pc == LAYOUT.insn + 4 || LAYOUT.is_pad(f.pc, thumb),
                    "{:#010x} {} lands at {:#x} (thumb {thumb})",
                    c.word,
                    c.row.name,
                    f.pc
                );
                stepped += 1;
            }
        }
        assert!(stepped >= 16 * 5000);
    }

    /// Memory that records whether any access was not naturally aligned.
    struct Recording {
        mem: CaseMemory,
        unaligned: u32,
    }

    impl Recording {
        fn note(&mut self, address: u32, len: u32) {
            if !address.is_multiple_of(len) {
                self.unaligned += 1;
            }
        }
    }

    impl Memory for Recording {
        fn read_u8(&mut self, a: u32) -> Result<u8, MemoryFault> {
            self.mem.read_u8(a)
        }
        fn read_u16(&mut self, a: u32) -> Result<u16, MemoryFault> {
            self.note(a, 2);
            self.mem.read_u16(a)
        }
        fn read_u32(&mut self, a: u32) -> Result<u32, MemoryFault> {
            self.note(a, 4);
            self.mem.read_u32(a)
        }
        fn write_u8(&mut self, a: u32, v: u8) -> Result<(), MemoryFault> {
            self.mem.write_u8(a, v)
        }
        fn write_u16(&mut self, a: u32, v: u16) -> Result<(), MemoryFault> {
            self.note(a, 2);
            self.mem.write_u16(a, v)
        }
        fn write_u32(&mut self, a: u32, v: u32) -> Result<(), MemoryFault> {
            self.note(a, 4);
            self.mem.write_u32(a, v)
        }
        fn barrier(&mut self, b: Barrier) {
            self.mem.barrier(b)
        }
        fn hint(&mut self, h: Hint) {
            self.mem.hint(h)
        }
    }

    /// The mnemonic class of a single word/halfword transfer.
    fn transfer_name(w: u32) -> &'static str {
        let load = w & (1 << 20) != 0;
        if (w >> 26) & 3 == 0b01 {
            if load { "LDR" } else { "STR" }
        } else {
            match ((w >> 5) & 3, load) {
                (0b01, true) => "LDRH",
                (0b01, false) => "STRH",
                (0b11, true) => "LDRSH",
                _ => "other",
            }
        }
    }

    #[test]
    fn unaligned_word_and_halfword_cases_step_at_unaligned_addresses() {
        let mut per_name: BTreeMap<&str, usize> = BTreeMap::new();
        for c in cases().filter(|c| c.alignment == Alignment::Unaligned) {
            assert!(c.runs(), "{:#010x}", c.word);
            let mut f = c.frame(&LAYOUT, 0);
            let mut mem = Recording {
                mem: CaseMemory::new(&c, LAYOUT),
                unaligned: 0,
            };
            let result = step(Insn(c.word), LAYOUT.insn, &mut f, &mut mem);
            assert_eq!(result, Ok(()), "{:#010x} {}", c.word, c.row.name);
            let cond_passed = Insn(c.word).cond().passes(c.frame(&LAYOUT, 0).cpsr);
            assert!(
                !cond_passed || mem.unaligned == 1,
                "{:#010x} {}: {} unaligned accesses",
                c.word,
                c.row.name,
                mem.unaligned
            );
            *per_name.entry(transfer_name(c.word)).or_default() += 1;
        }
        println!("unaligned cases: {per_name:?}");
        for name in ["LDR", "STR", "LDRH", "STRH", "LDRSH"] {
            assert!(
                per_name.get(name).is_some_and(|&n| n >= 8),
                "{name}: {per_name:?}"
            );
        }
        assert_eq!(per_name.get("other"), None, "{per_name:?}");
        // Natural cases still never touch memory unaligned.
        for c in cases().filter(|c| c.runs() && c.alignment == Alignment::Natural) {
            let mut f = c.frame(&LAYOUT, 0);
            let mut mem = CaseMemory::new(&c, LAYOUT);
            assert!(!mem.unaligned);
            assert_eq!(step(Insn(c.word), LAYOUT.insn, &mut f, &mut mem), Ok(()));
        }
    }

    #[test]
    fn unaligned_dual_and_multiple_cases_are_refused_as_alignment_faults() {
        let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
        for c in cases().filter(|c| c.alignment == Alignment::Faults) {
            assert!(!c.runs(), "never run natively: {:#010x}", c.word);
            let want = c
                .alignment_fault(&LAYOUT)
                .expect("a Faults case names its fault");
            let StepError::AlignmentFault { address } = want else {
                panic!("{want:?}");
            };
            assert!(
                !address.is_multiple_of(4),
                "{:#010x} at {address:#x}",
                c.word
            );
            for scenario in 0..16 {
                let start = c.frame(&LAYOUT, scenario);
                let mut f = start;
                let mut mem = CaseMemory::new(&c, LAYOUT);
                let before = (mem.buffer, mem.literal);
                let passes = Insn(c.word).cond().passes(start.cpsr);
                let got = step(Insn(c.word), LAYOUT.insn, &mut f, &mut mem);
                if passes {
                    assert_eq!(got, Err(want), "{:#010x} scenario {scenario}", c.word);
                    assert_eq!(f, start, "the frame stays");
                    assert!((mem.buffer, mem.literal) == before, "memory stays");
                } else {
                    assert_eq!(got, Ok(()), "a failing condition only advances pc");
                }
            }
            let kind = match c.expected {
                Decoded::Simulate(SimKind::LoadStoreMultiple) => {
                    if c.word & (1 << 20) != 0 {
                        "LDM"
                    } else {
                        "STM"
                    }
                }
                _ if c.word & (1 << 5) != 0 => "STRD",
                _ => "LDRD",
            };
            *per_kind.entry(kind.into()).or_default() += 1;
        }
        println!("refused unaligned cases: {per_kind:?}");
        for kind in ["LDRD", "STRD", "LDM", "STM"] {
            assert!(
                per_kind.get(kind).is_some_and(|&n| n >= 8),
                "{kind}: {per_kind:?}"
            );
        }
        assert_eq!(
            cases()
                .filter(|c| c.alignment != Alignment::Faults)
                .filter_map(|c| c.alignment_fault(&LAYOUT))
                .count(),
            0
        );
    }

    #[test]
    fn layout_pads_and_seeds_resolve() {
        assert_eq!(LAYOUT.code_word(LAYOUT.insn, 0x1234), Some(0x1234));
        assert_eq!(LAYOUT.code_word(LAYOUT.code(-4), 0), Some(ARM_PAD));
        assert_eq!(
            LAYOUT.code_word(LAYOUT.code(THUMB_PADS), 0),
            Some(THUMB_PAD_WORD)
        );
        assert_eq!(LAYOUT.code_word(LAYOUT.code(CODE_END), 0), None);
        assert!(LAYOUT.is_pad(LAYOUT.code(8), false) && !LAYOUT.is_pad(LAYOUT.insn, false));
        assert!(LAYOUT.is_pad(LAYOUT.code(THUMB_PADS + 2), true));
        assert!(!LAYOUT.is_pad(LAYOUT.code(THUMB_PADS), false));
        assert_eq!(Seed::NotCode(4).resolve(&LAYOUT), !(LAYOUT.insn + 4));
        assert_eq!(Seed::Buffer(8).resolve(&LAYOUT), LAYOUT.buffer + 8);
        let nzcv: BTreeSet<u32> = FLAG_SCENARIOS.iter().map(|s| s >> 28).collect();
        assert_eq!(nzcv.len(), 16, "every NZCV combination");
        assert!(FLAG_SCENARIOS.iter().any(|s| s & (1 << 27) != 0));
    }
}
