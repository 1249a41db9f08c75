//! Thumb cases for the conformance lab (issue 19), because the Thumb step engines need the
//! same proof against the CPU as A32 — plus the IT-block behaviour only Thumb has.
//!
//! [`thumb_cases`] walks every simulated row of [`T16`] and [`T32`] and, for each, builds
//! concrete halfwords ([`ThumbCase`]): several with ordinary registers (distinct, or in
//! every fourth T32 case possibly repeated), then — for every
//! register field of the row (T16's `DN:Rdn` and Rm of the special data group; T32's Rn,
//! Rt, Rd, Rm where the row has a register there) — halfwords with that field set to SP,
//! LR and PC (once outside an IT block, once as its last instruction). A placement the
//! row's checks make UNPREDICTABLE is still a case: its
//! [`ThumbCase::expected`] verdict is the rejection, checked without running it. Free bits
//! come from the A32 generator's fixed-seed generator, so the list is the same on every run.
//!
//! # IT blocks
//! Every row also gets cases run with ITSTATE (CPSR\[26:25,15:10\], ARM ARM B1.3.3) set as
//! the instruction's position in an IT block, the condition ITSTATE\[7:4\] one of EQ…LE
//! (never AL, so each case's condition passes in some of the 16 [`FLAG_SCENARIOS`] and
//! fails in others; the host tests check both happen):
//!
//! | position | ITSTATE\[3:0\] | meaning (ARM ARM) |
//! |---|---|---|
//! | [`ItSlot::First`] | `xyz1` | first of a four-instruction block |
//! | [`ItSlot::Inner`] | `x100` | third of four (or second of three): `InITBlock()`, not last |
//! | [`ItSlot::Last`] | `1000` | `LastInITBlock()` |
//!
//! Where the decode depends on the position the verdict follows the ARM ARM: CBZ/CBNZ,
//! `B<c>` (T1, T3) and MOVS (T2) are UNPREDICTABLE in any block position; BX, BLX, B (T2,
//! T4), BL, BLX (immediate), TBB/TBH, ADD/MOV to PC and loads to PC only as the last
//! instruction; and the T16 flag-setting data-processing forms (ADDS, MOVS, …) set no flags
//! inside a block (ADD, MOV, …), which the runs compare.
//!
//! # Layout (relative to [`Layout::insn`], the word the instruction sits in)
//! | offsets | contents |
//! |---|---|
//! | `-64 .. 0` | ARM pads ([`ARM_PAD`]: its first halfword is a Thumb `udf #0xf0` too) |
//! | `0 .. 8` | the instruction at [`ThumbCase::at`] (0 or 2), Thumb pads ([`THUMB_PAD`]) in the other halfwords; the word at 4 is an ARM pad when the instruction ends by 4 |
//! | `8 .. 132` | Thumb pads |
//! | `132 .. 388` | the literal window ([`THUMB_LITERAL_WINDOW`]: T16 LDR (literal) only reaches forwards) |
//!
//! Every way out lands on a pad ([`ThumbCase::is_pad`]): the fall-through, Thumb branch
//! targets on Thumb pads, interworking targets in ARM state on ARM pads. Loads and stores
//! touch the stack buffer and the literal window only, naturally aligned. Before a case is
//! accepted the generator steps it in all 16 scenarios over [`CaseMemory`] (which faults
//! outside those two regions) and keeps it only if every run ends on a pad: the harness
//! never runs natively something that could leave the lab. The Thumb pad is `udf #0xfe`,
//! not the crate's breakpoint (`udf #0x18`).

use super::generator::Rng;
use super::{
    ARM_PAD, ARM_PADS_BEFORE, Alignment, BUFFER_BYTES, CODE_END, CaseMemory, FLAG_SCENARIOS, Fill,
    Layout, RegClass, Seed, fill_word,
};
use crate::decode::{
    ItPosition, RejectReason, T16, T16Action, T16Check, T16Decoded, T16Entry, T16Kind, T32,
    T32Action, T32Check, T32Decoded, T32Entry, T32Kind, T32RegisterField, classify_t16,
    classify_t32,
};
use crate::frame::TrapFrame;
use crate::insn::{Cond, ThumbBranch};
use crate::step::{self, StepError, psr, with_it_state};

/// The Thumb pad: `udf #0xfe` (not the breakpoint's `udf #0x18`).
pub const THUMB_PAD: u16 = 0xdefe;
/// Thumb pads fill the code area from here (relative to the instruction's word) to
/// [`CODE_END`].
pub const THUMB_PADS_START: i32 = 8;
/// The Thumb literal window starts here, relative to the instruction's word.
pub const THUMB_LITERAL_WINDOW: i32 = CODE_END;

/// Cases per row with ordinary registers, outside an IT block.
const ANY_VARIANTS: u32 = 16;
/// Cases per (row, register field, class): outside an IT block and last in one.
const CLASS_VARIANTS: u32 = 2;
/// Cases per (row, IT position).
const IT_VARIANTS: u32 = 2;
/// Cases per load/store row at an address that is not naturally aligned.
const UNALIGNED_VARIANTS: u32 = 4;
/// Attempts at filling free bits before a plan is given up.
const ATTEMPTS: u32 = 64;
/// Where the generator steps a candidate to see that it stays in the lab (any word-aligned
/// layout gives the same relative result).
const PROBE_LAYOUT: Layout = Layout {
    insn: 0x4010_0400,
    buffer: 0x4020_0000,
    mode: 0x1d3,
};

/// Which decode-table row a Thumb case exercises, with the kind it simulates.
#[derive(Clone, Copy, Debug)]
pub enum ThumbRow {
    /// A T16 row.
    T16(&'static T16Entry, T16Kind),
    /// A T32 row.
    T32(&'static T32Entry, T32Kind),
}

impl ThumbRow {
    /// The row's name.
    pub fn name(&self) -> &'static str {
        match self {
            ThumbRow::T16(e, _) => e.name,
            ThumbRow::T32(e, _) => e.name,
        }
    }

    /// The row's address, to count coverage.
    pub fn id(&self) -> usize {
        match self {
            ThumbRow::T16(e, _) => *e as *const T16Entry as usize,
            ThumbRow::T32(e, _) => *e as *const T32Entry as usize,
        }
    }
}

/// The register field a class case sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThumbField {
    /// T16 special data: `DN:Rdn` (bits 7, 2:0).
    HighRdn,
    /// T16 special data: Rm (bits 6:3).
    HighRm,
    /// A T32 register field.
    T32(T32RegisterField),
}

/// An IT block position a case runs at (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItSlot {
    /// Not in an IT block (ITSTATE zero).
    Outside,
    /// First of a four-instruction block.
    First,
    /// Inside, not last.
    Inner,
    /// Last of a block.
    Last,
}

impl ItSlot {
    /// The decoder's view of the slot.
    pub const fn position(self) -> ItPosition {
        match self {
            ItSlot::Outside => ItPosition::Outside,
            ItSlot::First | ItSlot::Inner => ItPosition::Inside,
            ItSlot::Last => ItPosition::Last,
        }
    }
}

/// What the decoder must say about a Thumb case at its IT position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThumbVerdict {
    /// Simulated (the row's kind): the case runs.
    Simulate,
    /// Rejected for this reason: checked, never run.
    Rejected(RejectReason),
}

/// One Thumb conformance case.
#[derive(Clone, Copy, Debug)]
pub struct ThumbCase {
    /// The first (or only) halfword.
    pub hw1: u16,
    /// The second halfword of a 32-bit instruction.
    pub hw2: Option<u16>,
    /// The row it exercises.
    pub row: ThumbRow,
    /// The register field a class applies to; `None` for [`RegClass::Any`].
    pub field: Option<ThumbField>,
    /// The register class.
    pub class: RegClass,
    /// Where the instruction sits in its word: 0 or 2.
    pub at: u32,
    /// The IT block position.
    pub slot: ItSlot,
    /// ITSTATE the case runs with (0 outside a block).
    pub it: u8,
    /// What the decoder must say.
    pub expected: ThumbVerdict,
    /// Initial r0–r14.
    pub regs: [Seed; 15],
    /// Initial contents of the stack buffer and the literal window.
    pub fill: Fill,
    /// How its memory address is aligned: [`Alignment::Unaligned`] word and halfword
    /// transfers run (SCTLR.A clear, Normal memory); [`Alignment::Faults`] multiples,
    /// pairs, PUSH and POP never run natively and the step must refuse them
    /// ([`ThumbCase::refused_as_the_cpu_faults`]).
    pub alignment: Alignment,
}

impl ThumbCase {
    /// Whether the case runs (natively and stepped), rather than checking a rejection or
    /// an alignment fault.
    pub fn runs(&self) -> bool {
        self.expected == ThumbVerdict::Simulate && self.alignment != Alignment::Faults
    }

    /// For an [`Alignment::Faults`] case: whether, in every flag scenario under `layout`,
    /// the step returns [`StepError::AlignmentFault`] and leaves the frame and memory as
    /// they were where the condition passes, and only moves past the instruction (ITSTATE
    /// advanced) where it fails.
    pub fn refused_as_the_cpu_faults(&self, layout: &Layout) -> bool {
        (0..FLAG_SCENARIOS.len()).all(|s| {
            let start = self.frame(layout, s);
            let mut f = start;
            let mut mem = self.memory(*layout);
            let before = (mem.buffer, mem.literal);
            let got = self.step(layout, &mut f, &mut mem);
            if self.condition_passes(s) {
                matches!(got, Err(StepError::AlignmentFault { .. }))
                    && f == start
                    && (mem.buffer, mem.literal) == before
            } else {
                got.is_ok() && f.pc == start.pc + self.len()
            }
        })
    }

    /// The instruction's length in bytes.
    pub fn len(&self) -> u32 {
        if self.hw2.is_some() { 4 } else { 2 }
    }

    /// Never empty (an instruction is 2 or 4 bytes); for clippy's `len` rule.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The instruction's address under `layout`.
    pub fn addr(&self, layout: &Layout) -> u32 {
        layout.insn + self.at
    }

    /// Whether the native run needs a wake-up first (WFE: an SEV; WFI: a pending interrupt).
    pub fn waits(&self) -> bool {
        match self.row {
            ThumbRow::T16(_, T16Kind::Hint) => matches!((self.hw1 >> 4) & 0xf, 2 | 3),
            ThumbRow::T32(_, T32Kind::Hint) => {
                matches!(self.hw2.unwrap_or(0) & 0xff, 2 | 3)
            }
            _ => false,
        }
    }

    /// What the decoder says about the case at its IT position (and whether the row that
    /// decided is the case's row).
    pub fn decoded(&self) -> (bool, ThumbVerdict) {
        let pos = self.slot.position();
        let (same, verdict) = match (self.row, self.hw2) {
            (ThumbRow::T16(row, _), None) => {
                let c = classify_t16(self.hw1, pos);
                let v = match c.decoded {
                    T16Decoded::Simulate(_) => ThumbVerdict::Simulate,
                    T16Decoded::Rejected(r) => ThumbVerdict::Rejected(r),
                    T16Decoded::FirstHalfOfT32 => ThumbVerdict::Rejected(RejectReason::Undefined),
                };
                (c.entry.is_some_and(|e| core::ptr::eq(e, row)), v)
            }
            (ThumbRow::T32(row, _), Some(hw2)) => {
                let c = classify_t32(self.hw1, hw2, pos);
                let v = match c.decoded {
                    T32Decoded::Simulate(_) => ThumbVerdict::Simulate,
                    T32Decoded::Rejected(r) => ThumbVerdict::Rejected(r),
                };
                (c.entry.is_some_and(|e| core::ptr::eq(e, row)), v)
            }
            _ => (false, ThumbVerdict::Rejected(RejectReason::Undefined)),
        };
        (same, verdict)
    }

    /// The frame both runs start from under `layout` in flag `scenario` (0–15): Thumb
    /// state, ITSTATE [`ThumbCase::it`], pc at the instruction.
    pub fn frame(&self, layout: &Layout, scenario: usize) -> TrapFrame {
        let cpsr = layout.mode | psr::T | FLAG_SCENARIOS[scenario % 16];
        let mut f = TrapFrame {
            pc: self.addr(layout),
            cpsr: with_it_state(cpsr, self.it),
            ..TrapFrame::default()
        };
        for (n, seed) in self.regs.iter().enumerate() {
            f.set_reg(n, seed.resolve(layout));
        }
        f
    }

    /// Whether the instruction's own condition passes in `scenario`: ITSTATE's inside a
    /// block, a conditional branch's outside one, always otherwise.
    pub fn condition_passes(&self, scenario: usize) -> bool {
        let flags = FLAG_SCENARIOS[scenario % 16];
        if self.slot != ItSlot::Outside {
            return Cond::from_bits(u32::from(self.it >> 4)).passes(flags);
        }
        ThumbBranch::own_condition(self.hw1, self.hw2).is_none_or(|c| c.passes(flags))
    }

    /// Word `index` (0–63) of the stack buffer and of the literal window, before the run.
    pub fn memory_word(&self, layout: &Layout, index: u32) -> u32 {
        fill_word(self.fill, layout, index)
    }

    /// The memory a stepped run of the case sees under `layout`.
    pub fn memory(&self, layout: Layout) -> CaseMemory {
        let mut m = CaseMemory {
            layout,
            buffer: [0; BUFFER_BYTES as usize],
            literal: [0; BUFFER_BYTES as usize],
            barriers: 0,
            hints: 0,
            unaligned: self.alignment == Alignment::Unaligned,
            literal_at: THUMB_LITERAL_WINDOW,
        };
        m.fill(|i| self.memory_word(&layout, i));
        m
    }

    /// Steps the case over `frame` and `mem` with the crate's Thumb step engine.
    ///
    /// # Errors
    ///
    /// Whatever `step_t16` / `step_t32` return.
    pub fn step(
        &self,
        layout: &Layout,
        frame: &mut TrapFrame,
        mem: &mut CaseMemory,
    ) -> Result<(), StepError> {
        let addr = self.addr(layout);
        match self.hw2 {
            None => step::step_t16(self.hw1, addr, frame, mem),
            Some(hw2) => step::step_t32(self.hw1, hw2, addr, frame, mem),
        }
    }

    /// The word the harness puts at `address` in the code area, if it is in it.
    pub fn code_word(&self, layout: &Layout, address: u32) -> Option<u32> {
        let delta = address.wrapping_sub(layout.insn) as i32;
        if delta % 4 != 0 {
            return None;
        }
        match delta {
            d if (ARM_PADS_BEFORE..0).contains(&d) => Some(ARM_PAD),
            0 | 4 => {
                // An ARM pad at 4 (for BX PC) only where the instruction can end an IT
                // block: inside one a failing pad may be skipped (see the harness), so the
                // halfwords after the instruction are all Thumb pads.
                let ends_block = matches!(self.slot, ItSlot::Outside | ItSlot::Last);
                if delta == 4 && self.at + self.len() <= 4 && ends_block {
                    return Some(ARM_PAD);
                }
                let mut h = [THUMB_PAD; 4];
                h[(self.at / 2) as usize] = self.hw1;
                if let Some(hw2) = self.hw2 {
                    h[(self.at / 2 + 1) as usize] = hw2;
                }
                let i = (delta / 2) as usize;
                Some(u32::from(h[i]) | u32::from(h[i + 1]) << 16)
            }
            d if (THUMB_PADS_START..CODE_END).contains(&d) => {
                Some(u32::from(THUMB_PAD) | u32::from(THUMB_PAD) << 16)
            }
            _ => None,
        }
    }

    /// Whether execution landing at `pc` in the given state hits a pad.
    pub fn is_pad(&self, layout: &Layout, pc: u32, thumb: bool) -> bool {
        let delta = pc.wrapping_sub(layout.insn);
        let Some(word) = self.code_word(layout, pc & !3) else {
            return false;
        };
        if thumb {
            let inside = delta.wrapping_sub(self.at) < self.len();
            let half = if pc & 2 == 0 { word } else { word >> 16 };
            pc & 1 == 0 && !inside && half & 0xff00 == 0xde00
        } else {
            pc & 3 == 0 && word == ARM_PAD
        }
    }
}

/// The leaf rows of the Thumb tables the step engines simulate, T16 first, in table order.
struct ThumbRows {
    t16: [(&'static [T16Entry], usize); 4],
    t16_depth: usize,
    t32: [(&'static [T32Entry], usize); 4],
    t32_depth: usize,
}

impl ThumbRows {
    fn new() -> ThumbRows {
        ThumbRows {
            t16: [(T16, 0); 4],
            t16_depth: 1,
            t32: [(T32, 0); 4],
            t32_depth: 1,
        }
    }
}

impl Iterator for ThumbRows {
    type Item = ThumbRow;

    fn next(&mut self) -> Option<ThumbRow> {
        while self.t16_depth > 0 {
            let (table, i) = self.t16[self.t16_depth - 1];
            if i == table.len() {
                self.t16_depth -= 1;
                continue;
            }
            self.t16[self.t16_depth - 1].1 += 1;
            match table[i].action {
                T16Action::Table(sub) => {
                    self.t16[self.t16_depth] = (sub, 0);
                    self.t16_depth += 1;
                }
                T16Action::Simulate(k) => return Some(ThumbRow::T16(&table[i], k)),
                _ => {}
            }
        }
        while self.t32_depth > 0 {
            let (table, i) = self.t32[self.t32_depth - 1];
            if i == table.len() {
                self.t32_depth -= 1;
                continue;
            }
            self.t32[self.t32_depth - 1].1 += 1;
            match table[i].action {
                T32Action::Table(sub) => {
                    self.t32[self.t32_depth] = (sub, 0);
                    self.t32_depth += 1;
                }
                T32Action::Simulate(k) => return Some(ThumbRow::T32(&table[i], k)),
                T32Action::Reject(_) => {}
            }
        }
        None
    }
}

/// Every simulated Thumb row, T16 then T32, in table order (for coverage counts).
pub fn thumb_rows() -> impl Iterator<Item = ThumbRow> {
    ThumbRows::new()
}

/// Every Thumb conformance case, T16 rows first. Deterministic.
pub fn thumb_cases() -> ThumbCases {
    ThumbCases {
        rows: ThumbRows::new(),
        row: None,
        plan: 0,
        variant: 0,
    }
}

/// The iterator [`thumb_cases`] returns.
pub struct ThumbCases {
    rows: ThumbRows,
    row: Option<ThumbRow>,
    plan: u32,
    variant: u32,
}

/// The register fields of `row` a class case may set.
fn fields(row: ThumbRow) -> &'static [ThumbField] {
    use T32RegisterField::{D, M, N, T};
    use ThumbField::{HighRdn, HighRm};
    match row {
        ThumbRow::T16(_, kind) => match kind {
            T16Kind::AddHighRegisters
            | T16Kind::CompareHighRegisters
            | T16Kind::MoveHighRegisters => &[HighRdn, HighRm],
            T16Kind::BranchExchange | T16Kind::BranchLinkExchangeRegister => &[HighRm],
            _ => &[],
        },
        ThumbRow::T32(e, kind) => {
            const ND: &[ThumbField] = &[ThumbField::T32(N), ThumbField::T32(D)];
            const NDM: &[ThumbField] =
                &[ThumbField::T32(N), ThumbField::T32(D), ThumbField::T32(M)];
            const NTDM: &[ThumbField] = &[
                ThumbField::T32(N),
                ThumbField::T32(T),
                ThumbField::T32(D),
                ThumbField::T32(M),
            ];
            let all: &'static [ThumbField] = match kind {
                T32Kind::DataProcessingModifiedImmediate
                | T32Kind::AddSubtractWideImmediate
                | T32Kind::Saturate
                | T32Kind::BitfieldExtract
                | T32Kind::BitfieldInsert => ND,
                T32Kind::GeneratePcRelativeAddress
                | T32Kind::MoveWideImmediate
                | T32Kind::MoveFromStatus => &[ThumbField::T32(D)],
                T32Kind::DataProcessingShiftedRegister
                | T32Kind::PackHalfword
                | T32Kind::ShiftRegister
                | T32Kind::Extend
                | T32Kind::ParallelAddSubtract
                | T32Kind::SaturatingAddSubtract
                | T32Kind::SelectBytes
                | T32Kind::Divide => NDM,
                T32Kind::Reverse | T32Kind::CountLeadingZeros => {
                    &[ThumbField::T32(D), ThumbField::T32(M)]
                }
                T32Kind::Multiply
                | T32Kind::SignedMultiply
                | T32Kind::SumOfAbsoluteDifferences
                | T32Kind::LongMultiply => NTDM,
                T32Kind::StoreMultiple | T32Kind::LoadMultiple => &[ThumbField::T32(N)],
                T32Kind::LoadStoreDual => {
                    &[ThumbField::T32(N), ThumbField::T32(T), ThumbField::T32(D)]
                }
                T32Kind::LoadDualLiteral => &[ThumbField::T32(T), ThumbField::T32(D)],
                T32Kind::TableBranch => &[ThumbField::T32(N), ThumbField::T32(M)],
                T32Kind::LoadLiteral => &[ThumbField::T32(T)],
                T32Kind::LoadImmediate | T32Kind::StoreImmediate => {
                    &[ThumbField::T32(N), ThumbField::T32(T)]
                }
                T32Kind::LoadRegister | T32Kind::StoreRegister => {
                    &[ThumbField::T32(N), ThumbField::T32(T), ThumbField::T32(M)]
                }
                T32Kind::PreloadData | T32Kind::PreloadInstruction => {
                    &[ThumbField::T32(N), ThumbField::T32(M)]
                }
                _ => &[],
            };
            // Only the fields the row leaves free are registers of it; Rm of a load, store
            // or preload only in the register forms (hw2 11:6 fixed zero).
            let register_form = e.mask & 0x0fc0 == 0x0fc0 && e.value & 0x0fc0 == 0;
            let memory = matches!(
                kind,
                T32Kind::LoadRegister
                    | T32Kind::StoreRegister
                    | T32Kind::PreloadData
                    | T32Kind::PreloadInstruction
            );
            let n = all.len();
            let free = |f: &ThumbField| match f {
                ThumbField::T32(r) => {
                    let shift = match r {
                        N => 16,
                        T => 12,
                        D => 8,
                        M => 0,
                    };
                    e.mask & (0xf << shift) == 0 && (*r != M || !memory || register_form)
                }
                _ => false,
            };
            // A static subset: the prefix/suffix shapes above are small, so pick the first
            // matching static slice among the candidates.
            let mut mask = 0u8;
            for (i, f) in all.iter().enumerate() {
                if free(f) {
                    mask |= 1 << i;
                }
            }
            if mask == (1u8 << n) - 1 {
                all
            } else {
                subset(all, mask)
            }
        }
    }
}

/// `all` restricted to the fields whose bits are set in `mask` (the tables of [`fields`]
/// have at most four entries, so every subset is one of these statics).
fn subset(all: &'static [ThumbField], mask: u8) -> &'static [ThumbField] {
    use T32RegisterField::{D, M, N, T};
    const F: [ThumbField; 4] = [
        ThumbField::T32(N),
        ThumbField::T32(T),
        ThumbField::T32(D),
        ThumbField::T32(M),
    ];
    const SUBSETS: [&[ThumbField]; 16] = [
        &[],
        &[F[0]],
        &[F[1]],
        &[F[0], F[1]],
        &[F[2]],
        &[F[0], F[2]],
        &[F[1], F[2]],
        &[F[0], F[1], F[2]],
        &[F[3]],
        &[F[0], F[3]],
        &[F[1], F[3]],
        &[F[0], F[1], F[3]],
        &[F[2], F[3]],
        &[F[0], F[2], F[3]],
        &[F[1], F[2], F[3]],
        &[F[0], F[1], F[2], F[3]],
    ];
    let mut canonical = 0usize;
    for (i, f) in all.iter().enumerate() {
        if mask & (1 << i) != 0 {
            canonical |= 1 << F.iter().position(|g| g == f).unwrap_or(0);
        }
    }
    SUBSETS[canonical]
}

impl Iterator for ThumbCases {
    type Item = ThumbCase;

    fn next(&mut self) -> Option<ThumbCase> {
        loop {
            let row = match self.row {
                Some(r) => r,
                None => {
                    let r = self.rows.next()?;
                    self.row = Some(r);
                    self.plan = 0;
                    self.variant = 0;
                    r
                }
            };
            let fs = fields(row);
            let class_plans = 3 * fs.len() as u32;
            // Plan 0: ordinary registers; 1..=class_plans: (field, class); then the three IT
            // positions.
            let (field, class, slot, variants) = if self.plan == 0 {
                (None, RegClass::Any, ItSlot::Outside, ANY_VARIANTS)
            } else if self.plan <= class_plans {
                let i = self.plan - 1;
                let class = [RegClass::Sp, RegClass::Lr, RegClass::Pc][(i % 3) as usize];
                // The second variant is the last instruction of an IT block, where a PC
                // write is allowed and the condition comes from ITSTATE.
                let slot = if self.variant % 2 == 1 {
                    ItSlot::Last
                } else {
                    ItSlot::Outside
                };
                (Some(fs[(i / 3) as usize]), class, slot, CLASS_VARIANTS)
            } else if self.plan <= class_plans + 3 {
                let slot = [ItSlot::First, ItSlot::Inner, ItSlot::Last]
                    [(self.plan - class_plans - 1) as usize];
                (None, RegClass::Any, slot, IT_VARIANTS)
            } else if self.plan == class_plans + 4 && misalignable(row).is_some() {
                (None, RegClass::Any, ItSlot::Outside, UNALIGNED_VARIANTS)
            } else {
                self.row = None;
                continue;
            };
            let (plan, variant) = (self.plan, self.variant);
            self.variant += 1;
            if self.variant >= variants {
                self.variant = 0;
                self.plan += 1;
            }
            let (value, mask) = match row {
                ThumbRow::T16(e, _) => (u32::from(e.value), u32::from(e.mask)),
                ThumbRow::T32(e, _) => (e.value, e.mask),
            };
            let seed = value
                ^ mask.rotate_left(11)
                ^ self.plan.wrapping_mul(0x0100_0193)
                ^ variant << 24
                ^ 0x7455_4d42;
            let alignment = match misalignable(row) {
                Some((a, _)) if plan == class_plans + 4 => a,
                _ => Alignment::Natural,
            };
            if let Some(case) = build(row, field, class, slot, alignment, variant, seed) {
                return Some(case);
            }
        }
    }
}

const fn with(w: u32, mask: u32, value: u32) -> u32 {
    w & !mask | value & mask
}

/// The register number `class` puts in a field.
const fn class_register(class: RegClass) -> u32 {
    match class {
        RegClass::Sp => 13,
        RegClass::Lr => 14,
        _ => 15,
    }
}

/// The verdict the ARM ARM gives a T16 halfword of `row` at `slot`, from the row's
/// register and IT-position rules (the generator keeps its other rules — lists, should-be
/// bits — satisfied and retries when it does not).
fn expected_t16(row: &T16Entry, hw: u16, slot: ItSlot) -> ThumbVerdict {
    let rdn = (hw >> 4) & 8 | hw & 7;
    let rm = (hw >> 3) & 0xf;
    let inside = slot.position() == ItPosition::Inside;
    let in_block = slot != ItSlot::Outside;
    let broken = row.checks.iter().any(|c| match c {
        T16Check::NotInItBlock => in_block,
        T16Check::OutsideOrLastInItBlock => inside,
        T16Check::PcDestinationOutsideOrLastInItBlock => rdn == 15 && inside,
        T16Check::PopPcOutsideOrLastInItBlock => hw & 0x100 != 0 && inside,
        T16Check::NotPcPlusPc => rdn == 15 && rm == 15,
        T16Check::CompareNotPc => rdn == 15 || rm == 15,
        T16Check::TargetNotPc => rm == 15,
        _ => false,
    });
    if broken {
        ThumbVerdict::Rejected(RejectReason::Unpredictable)
    } else {
        ThumbVerdict::Simulate
    }
}

/// As [`expected_t16`] for a T32 instruction `w` (`hw1:hw2`).
fn expected_t32(row: &T32Entry, w: u32, slot: ItSlot) -> ThumbVerdict {
    let inside = slot.position() == ItPosition::Inside;
    let n = T32RegisterField::N.of(w);
    let t = T32RegisterField::T.of(w);
    let d = T32RegisterField::D.of(w);
    let m = T32RegisterField::M.of(w);
    let broken = row.checks.iter().any(|c| match c {
        T32Check::NotSpOrPc(f) => matches!(f.of(w), 13 | 15),
        T32Check::NotPc(f) => f.of(w) == 15,
        T32Check::NotSp(f) => f.of(w) == 13,
        T32Check::NotInItBlock => slot != ItSlot::Outside,
        T32Check::OutsideOrLastInItBlock => inside,
        T32Check::LoadPcOutsideOrLastInItBlock => t == 15 && inside,
        T32Check::ListPcOutsideOrLastInItBlock => w & 0x8000 != 0 && inside,
        T32Check::AddSubtractDestination => {
            if n == 13 {
                d == 15
            } else {
                matches!(d, 13 | 15)
            }
        }
        T32Check::MoveRegisterOperands => {
            if w & (1 << 20) != 0 {
                matches!(d, 13 | 15) || matches!(m, 13 | 15)
            } else {
                d == 15 || m == 15 || (d == 13 && m == 13)
            }
        }
        _ => false,
    });
    if broken {
        ThumbVerdict::Rejected(RejectReason::Unpredictable)
    } else {
        ThumbVerdict::Simulate
    }
}

/// One case for `row`, or `None` when no filling of the free bits gives an instruction of
/// this row, with this verdict, that stays in the lab.
fn build(
    row: ThumbRow,
    field: Option<ThumbField>,
    class: RegClass,
    slot: ItSlot,
    alignment: Alignment,
    variant: u32,
    seed: u32,
) -> Option<ThumbCase> {
    let mut rng = Rng::new(seed);
    for _ in 0..ATTEMPTS {
        let Some(mut case) = attempt(row, field, class, slot, variant, &mut rng) else {
            continue;
        };
        if alignment != Alignment::Natural
            && (case.expected != ThumbVerdict::Simulate
                || !misalign(&mut case, alignment, &mut rng))
        {
            continue;
        }
        let (same_row, verdict) = case.decoded();
        if !same_row || verdict != case.expected {
            continue;
        }
        if case.runs() && !stays_in_lab(&case) {
            continue;
        }
        if case.alignment == Alignment::Faults && !case.refused_as_the_cpu_faults(&PROBE_LAYOUT) {
            continue;
        }
        return Some(case);
    }
    None
}

/// Which alignment cases a row gets, with its access size: word and halfword transfers
/// run unaligned, multiples, pairs, PUSH and POP fault. `None` for every other row (and
/// byte transfers).
fn misalignable(row: ThumbRow) -> Option<(Alignment, u32)> {
    match row {
        ThumbRow::T16(e, kind) => match kind {
            T16Kind::LoadStoreRegister => match (e.value >> 9) & 7 {
                0b000 | 0b100 => Some((Alignment::Unaligned, 4)),
                0b001 | 0b101 | 0b111 => Some((Alignment::Unaligned, 2)),
                _ => None,
            },
            T16Kind::LoadStoreImmediate => match e.value >> 12 {
                0b0110 => Some((Alignment::Unaligned, 4)),
                0b1000 => Some((Alignment::Unaligned, 2)),
                _ => None,
            },
            T16Kind::LoadStoreStack => Some((Alignment::Unaligned, 4)),
            T16Kind::Push | T16Kind::Pop | T16Kind::StoreMultiple | T16Kind::LoadMultiple => {
                Some((Alignment::Faults, 4))
            }
            _ => None,
        },
        ThumbRow::T32(e, kind) => match kind {
            T32Kind::LoadImmediate
            | T32Kind::LoadRegister
            | T32Kind::StoreImmediate
            | T32Kind::StoreRegister
                if e.mask & (3 << 21) == 3 << 21 =>
            {
                match (e.value >> 21) & 3 {
                    0b01 => Some((Alignment::Unaligned, 2)),
                    0b10 => Some((Alignment::Unaligned, 4)),
                    _ => None,
                }
            }
            T32Kind::StoreMultiple
            | T32Kind::LoadMultiple
            | T32Kind::Push
            | T32Kind::Pop
            | T32Kind::LoadStoreDual => Some((Alignment::Faults, 4)),
            _ => None,
        },
    }
}

/// Moves `case`'s base register (a buffer address) off the natural alignment; `false`
/// when the base is not one (e.g. PC).
fn misalign(case: &mut ThumbCase, alignment: Alignment, rng: &mut Rng) -> bool {
    let Some((_, size)) = misalignable(case.row) else {
        return false;
    };
    let base = match case.row {
        ThumbRow::T16(_, kind) => match kind {
            T16Kind::LoadStoreStack | T16Kind::Push | T16Kind::Pop => 13,
            T16Kind::StoreMultiple | T16Kind::LoadMultiple => usize::from((case.hw1 >> 8) & 7),
            _ => usize::from((case.hw1 >> 3) & 7),
        },
        ThumbRow::T32(_, T32Kind::Push | T32Kind::Pop) => 13,
        ThumbRow::T32(..) => usize::from(case.hw1 & 0xf),
    };
    let by = if size == 2 {
        1 + 2 * rng.below(2)
    } else {
        1 + rng.below(3)
    };
    match case.regs.get(base) {
        Some(Seed::Buffer(o)) => {
            case.regs[base] = Seed::Buffer(o + by);
            case.alignment = alignment;
            true
        }
        _ => false,
    }
}

/// Whether stepping `case` in every flag scenario succeeds and lands on a pad, touching
/// only the buffer and the literal window.
fn stays_in_lab(case: &ThumbCase) -> bool {
    (0..FLAG_SCENARIOS.len()).all(|s| {
        let mut f = case.frame(&PROBE_LAYOUT, s);
        let mut mem = case.memory(PROBE_LAYOUT);
        case.step(&PROBE_LAYOUT, &mut f, &mut mem).is_ok()
            && case.is_pad(&PROBE_LAYOUT, f.pc, f.cpsr & psr::T != 0)
    })
}

/// A branch target (relative to the instruction's word) in Thumb state: a Thumb pad or the
/// first halfword of an ARM pad.
fn thumb_target(rng: &mut Rng) -> i32 {
    if rng.below(3) == 0 {
        -4 * (1 + rng.below(16) as i32)
    } else {
        THUMB_PADS_START + 2 * rng.below(60) as i32
    }
}

/// An ARM pad (relative to the instruction's word).
fn arm_target(rng: &mut Rng) -> i32 {
    -4 * (1 + rng.below(16) as i32)
}

/// Seeds register `n`; PC has no seed.
fn set(regs: &mut [Seed; 15], n: u32, seed: Seed) {
    if n < 15 {
        regs[n as usize] = seed;
    }
}

fn attempt(
    row: ThumbRow,
    field: Option<ThumbField>,
    class: RegClass,
    slot: ItSlot,
    variant: u32,
    rng: &mut Rng,
) -> Option<ThumbCase> {
    let at = 2 * ((variant ^ rng.below(2)) & 1);
    let it = match slot {
        ItSlot::Outside => 0,
        ItSlot::First => (rng.below(14) << 4 | (rng.below(8) << 1) | 1) as u8,
        ItSlot::Inner => (rng.below(14) << 4 | rng.below(2) << 3 | 0b0100) as u8,
        ItSlot::Last => (rng.below(14) << 4 | 0b1000) as u8,
    };
    let mut regs = [Seed::Value(0); 15];
    for r in regs.iter_mut() {
        *r = Seed::Value(rng.interesting());
    }
    regs[13] = Seed::Buffer(128);
    let mut fill = Fill::Pattern(rng.next());
    let (hw1, hw2, expected) = match row {
        ThumbRow::T16(e, kind) => {
            let mut hw = e.value | rng.next() as u16 & !e.mask;
            hw = hw & !e.should_be_zero | e.should_be_one;
            if let Some(f) = field {
                let r = class_register(class) as u16;
                hw = match f {
                    ThumbField::HighRdn => hw & !0x87 | (r & 8) << 4 | r & 7,
                    _ => hw & !0x78 | r << 3,
                };
            }
            let expected = expected_t16(e, hw, slot);
            if expected == ThumbVerdict::Simulate {
                hw = shape_t16(kind, hw, at, &mut regs, &mut fill, rng)?;
            }
            (hw, None, expected)
        }
        ThumbRow::T32(e, kind) => {
            let mut w = e.value | rng.next() & !e.mask;
            w = w & !e.should_be_zero | e.should_be_one;
            // Distinct ordinary registers in the register fields — except every fourth
            // case with ordinary registers, whose fields may repeat a register (Rd = Rn,
            // RdLo = Rm, …: the engine must read its operands before it writes).
            let aliasing = class == RegClass::Any && slot == ItSlot::Outside && variant % 4 == 3;
            let mut used = 0u32;
            for f in fields(row) {
                if let ThumbField::T32(r) = f {
                    let shift = match r {
                        T32RegisterField::N => 16,
                        T32RegisterField::T => 12,
                        T32RegisterField::D => 8,
                        T32RegisterField::M => 0,
                    };
                    let reg = loop {
                        // Aliasing cases draw from r0–r3, so most repeat one.
                        let x = rng.below(if aliasing { 4 } else { 13 });
                        if aliasing || used & 1 << x == 0 {
                            used |= 1 << x;
                            break x;
                        }
                    };
                    w = with(w, 0xf << shift, reg << shift);
                }
            }
            if let Some(ThumbField::T32(r)) = field {
                let shift = match r {
                    T32RegisterField::N => 16,
                    T32RegisterField::T => 12,
                    T32RegisterField::D => 8,
                    T32RegisterField::M => 0,
                };
                w = with(w, 0xf << shift, class_register(class) << shift);
            }
            if matches!(kind, T32Kind::Reverse | T32Kind::CountLeadingZeros) {
                // Rm is written twice (hw1 3:0 and hw2 3:0).
                w = with(w, 0xf << 16, (w & 0xf) << 16);
            }
            let expected = expected_t32(e, w, slot);
            if expected == ThumbVerdict::Simulate {
                w = shape_t32(kind, w, at, &mut regs, &mut fill, rng)?;
            }
            ((w >> 16) as u16, Some(w as u16), expected)
        }
    };
    Some(ThumbCase {
        hw1,
        hw2,
        row,
        field,
        class,
        at,
        slot,
        it,
        expected,
        regs,
        fill,
        alignment: Alignment::Natural,
    })
}

/// Makes a runnable T16 halfword safe to run: memory operands inside the buffer or the
/// literal window, control flow onto pads. `None` when impossible.
fn shape_t16(
    kind: T16Kind,
    mut hw: u16,
    at: u32,
    regs: &mut [Seed; 15],
    fill: &mut Fill,
    rng: &mut Rng,
) -> Option<u16> {
    let h = hw;
    let low = move |lsb: u32| u32::from(h >> lsb) & 7;
    let rdn = u32::from((hw >> 4) & 8 | hw & 7);
    let rm = u32::from((hw >> 3) & 0xf);
    let at = at as i32;
    match kind {
        T16Kind::LoadLiteral => {
            // Align(PC, 4) is the word + 4; the window is at 132 .. 388.
            hw = hw & !0xff | (32 + rng.below(64)) as u16;
        }
        T16Kind::LoadStoreRegister => {
            let (n, m) = (low(3), low(6));
            if n == m {
                return None;
            }
            let size = match (hw >> 9) & 7 {
                0b000 | 0b100 => 4,
                0b001 | 0b101 | 0b111 => 2,
                _ => 1,
            };
            set(regs, n, Seed::Buffer(64 + 4 * rng.below(16)));
            set(regs, m, Seed::Value(size * rng.below(16)));
        }
        T16Kind::LoadStoreImmediate => {
            set(regs, low(3), Seed::Buffer(64 + 4 * rng.below(16)));
        }
        T16Kind::LoadStoreStack => {
            hw = hw & !0xff | rng.below(32) as u16;
        }
        T16Kind::Pop => {
            regs[13] = Seed::Buffer(64 + 4 * rng.below(8));
            if hw & 0x100 != 0 {
                *fill = Fill::ThumbPads;
            }
        }
        T16Kind::StoreMultiple | T16Kind::LoadMultiple => {
            set(regs, low(8), Seed::Buffer(64 + 4 * rng.below(16)));
        }
        T16Kind::AddHighRegisters if rdn == 15 => {
            if rm == 13 {
                return None;
            }
            let d = thumb_target(rng);
            set(regs, rm, Seed::Value((d - at - 4) as u32));
        }
        T16Kind::MoveHighRegisters if rdn == 15 => {
            if rm == 13 {
                return None;
            }
            set(
                regs,
                rm,
                Seed::Code(thumb_target(rng) + rng.below(2) as i32),
            );
        }
        T16Kind::BranchExchange | T16Kind::BranchLinkExchangeRegister => {
            if rm == 13 {
                return None;
            }
            let target = if rng.below(2) == 0 {
                arm_target(rng)
            } else {
                THUMB_PADS_START + 2 * rng.below(60) as i32 + 1
            };
            set(regs, rm, Seed::Code(target));
        }
        T16Kind::CompareAndBranch => {
            let off = 2 * (2 + rng.below(58));
            hw = hw & !0x2f8 | ((off >> 6) << 9 | ((off >> 1) & 31) << 3) as u16;
            let v = if rng.below(2) == 0 {
                0
            } else {
                rng.interesting()
            };
            set(regs, low(0), Seed::Value(v));
        }
        T16Kind::ConditionalBranch => {
            let off = thumb_target(rng) - at - 4;
            hw = hw & !0xff | ((off >> 1) & 0xff) as u16;
        }
        T16Kind::Branch => {
            let off = thumb_target(rng) - at - 4;
            hw = hw & !0x7ff | ((off >> 1) & 0x7ff) as u16;
        }
        _ => {}
    }
    Some(hw)
}

/// The T4 / BL / BLX (immediate) branch offset `off` (even) in `w`'s S, J1, J2, imm10 and
/// imm11 fields.
fn encode_t4(w: u32, off: i32) -> u32 {
    let o = off as u32;
    let s = (o >> 24) & 1;
    let i1 = (o >> 23) & 1;
    let i2 = (o >> 22) & 1;
    let j1 = !(i1 ^ s) & 1;
    let j2 = !(i2 ^ s) & 1;
    with(
        w,
        0x07ff_2fff,
        s << 26 | ((o >> 12) & 0x3ff) << 16 | j1 << 13 | j2 << 11 | (o >> 1) & 0x7ff,
    )
}

/// Makes a runnable T32 instruction safe to run (see [`shape_t16`]).
fn shape_t32(
    kind: T32Kind,
    mut w: u32,
    at: u32,
    regs: &mut [Seed; 15],
    fill: &mut Fill,
    rng: &mut Rng,
) -> Option<u32> {
    let n = T32RegisterField::N.of(w);
    let t = T32RegisterField::T.of(w);
    let m = T32RegisterField::M.of(w);
    let at = at as i32;
    // hw1 bits 6:5: byte, halfword, word.
    let size = 1 << ((w >> 21) & 3);
    match kind {
        T32Kind::ConditionalBranch => {
            let o = (thumb_target(rng) - at - 4) as u32;
            w = with(
                w,
                0x043f_2fff,
                ((o >> 20) & 1) << 26
                    | ((o >> 12) & 0x3f) << 16
                    | ((o >> 18) & 1) << 13
                    | ((o >> 19) & 1) << 11
                    | (o >> 1) & 0x7ff,
            );
        }
        T32Kind::Branch | T32Kind::BranchWithLink => {
            w = encode_t4(w, thumb_target(rng) - at - 4);
        }
        T32Kind::BranchWithLinkExchange => {
            // Align(PC, 4) is the word + 4.
            w = encode_t4(w, arm_target(rng) - 4);
        }
        T32Kind::StoreMultiple | T32Kind::LoadMultiple => {
            set(regs, n, Seed::Buffer(96 + 4 * rng.below(8)));
            if w & (1 << 21) != 0 {
                w &= !(1 << n);
            }
            if kind == T32Kind::LoadMultiple && w & 0x8000 != 0 {
                *fill = Fill::ThumbPads;
            }
        }
        T32Kind::Push => regs[13] = Seed::Buffer(128),
        T32Kind::Pop => {
            regs[13] = Seed::Buffer(64 + 4 * rng.below(8));
            if w & 0x8000 != 0 {
                *fill = Fill::ThumbPads;
            }
        }
        T32Kind::LoadStoreDual => {
            set(regs, n, Seed::Buffer(96 + 4 * rng.below(8)));
            w = with(w, 0xff, rng.below(16));
        }
        T32Kind::LoadDualLiteral => {
            w = with(w, 1 << 24 | 1 << 23 | 1 << 21, 1 << 24 | 1 << 23);
            w = with(w, 0xff, 32 + rng.below(62));
        }
        T32Kind::TableBranch => {
            let half = w & 0x10 != 0;
            let d = THUMB_PADS_START + 2 * rng.below(56) as i32;
            let v = ((d - at - 4) / 2) as u32;
            *fill = Fill::Repeat(if half { v | v << 16 } else { v * 0x0101_0101 });
            if n == 15 {
                let base = (THUMB_LITERAL_WINDOW - at - 4) as u32;
                let v = if half {
                    base / 2 + rng.below(100)
                } else {
                    base + rng.below(200)
                };
                set(regs, m, Seed::Value(v));
            } else {
                set(regs, n, Seed::Buffer(64));
                set(regs, m, Seed::Value(rng.below(64)));
            }
        }
        T32Kind::LoadLiteral => {
            w |= 1 << 23;
            let imm = 128 + size * rng.below(256 / size - 1);
            w = with(w, 0xfff, imm);
            if t == 15 {
                *fill = Fill::ThumbPads;
            }
        }
        T32Kind::LoadImmediate | T32Kind::StoreImmediate => {
            set(regs, n, Seed::Buffer(96 + 4 * rng.below(8)));
            if w & 0x800 != 0 && w & 0x0080_0000 == 0 {
                w = with(w, 0xff, size * rng.below(16));
            } else {
                w = with(w, 0xfff, size * rng.below(32));
            }
            if t == 15 {
                *fill = Fill::ThumbPads;
            }
        }
        T32Kind::LoadRegister | T32Kind::StoreRegister => {
            set(regs, n, Seed::Buffer(96 + 4 * rng.below(8)));
            let shift = rng.below(3);
            w = with(w, 0x30, shift << 4);
            set(regs, m, Seed::Value(size * rng.below(8)));
            if t == 15 {
                *fill = Fill::ThumbPads;
            }
        }
        _ => {}
    }
    Some(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::vec::Vec;

    fn rows_t16() -> usize {
        thumb_rows()
            .filter(|r| matches!(r, ThumbRow::T16(..)))
            .count()
    }

    #[test]
    fn every_simulated_thumb_row_has_cases_and_there_are_enough() {
        let all: Vec<ThumbCase> = thumb_cases().collect();
        let covered: BTreeSet<usize> = all.iter().map(|c| c.row.id()).collect();
        let rows: Vec<ThumbRow> = thumb_rows().collect();
        let missing: Vec<&str> = rows
            .iter()
            .filter(|r| !covered.contains(&r.id()))
            .map(|r| r.name())
            .collect();
        assert!(missing.is_empty(), "rows without cases: {missing:?}");
        let t16 = all.iter().filter(|c| c.hw2.is_none()).count();
        let runnable = all.iter().filter(|c| c.runs()).count();
        let t16_runnable = all.iter().filter(|c| c.hw2.is_none() && c.runs()).count();
        let t16_rows = rows_t16();
        std::println!(
            "runnable: {t16_runnable} T16, {} T32; simulated rows: {t16_rows} T16, {} T32",
            runnable - t16_runnable,
            thumb_rows().count() - t16_rows
        );
        let it = all.iter().filter(|c| c.slot != ItSlot::Outside).count();
        std::println!(
            "{} Thumb cases ({t16} T16, {} T32), {runnable} runnable, {it} in IT blocks, {} rows",
            all.len(),
            all.len() - t16,
            rows.len()
        );
        assert!(runnable >= 3000, "{runnable}");
    }

    #[test]
    fn every_thumb_case_decodes_as_its_row_and_verdict() {
        for c in thumb_cases() {
            let (same, verdict) = c.decoded();
            assert!(same, "{:#06x} {:?} not row {}", c.hw1, c.hw2, c.row.name());
            assert_eq!(
                verdict,
                c.expected,
                "{:#06x} {:?} {}",
                c.hw1,
                c.hw2,
                c.row.name()
            );
        }
    }

    #[test]
    fn thumb_unaligned_cases_run_and_faulting_ones_are_refused() {
        let all: Vec<ThumbCase> = thumb_cases().collect();
        let unaligned = all
            .iter()
            .filter(|c| c.alignment == Alignment::Unaligned && c.runs())
            .count();
        let faults: Vec<&ThumbCase> = all
            .iter()
            .filter(|c| c.alignment == Alignment::Faults)
            .collect();
        std::println!(
            "{unaligned} unaligned Thumb cases, {} refused as faults",
            faults.len()
        );
        assert!(unaligned > 50 && faults.len() > 20);
        let layout = Layout {
            insn: 0x6000_2000,
            buffer: 0x6001_0000,
            mode: 0x1d3,
        };
        for c in faults {
            assert!(!c.runs());
            assert!(
                c.refused_as_the_cpu_faults(&layout),
                "{:#06x} {:?}",
                c.hw1,
                c.hw2
            );
        }
    }

    #[test]
    fn some_t32_cases_repeat_a_register_across_fields() {
        let repeats = thumb_cases()
            .filter(|c| c.runs() && c.class == RegClass::Any)
            .filter(|c| {
                let Some(hw2) = c.hw2 else { return false };
                let w = u32::from(c.hw1) << 16 | u32::from(hw2);
                let regs: Vec<u32> = fields(c.row)
                    .iter()
                    .filter_map(|f| match f {
                        ThumbField::T32(r) => Some(r.of(w)),
                        _ => None,
                    })
                    .collect();
                let same_rm = matches!(
                    c.row,
                    ThumbRow::T32(_, T32Kind::Reverse | T32Kind::CountLeadingZeros)
                );
                !same_rm && (1..regs.len()).any(|i| regs[..i].contains(&regs[i]))
            })
            .count();
        std::println!("{repeats} runnable T32 cases repeat a register");
        assert!(repeats > 100, "{repeats}");
    }

    #[test]
    fn thumb_cases_are_deterministic() {
        let key = |c: &ThumbCase| (c.hw1, c.hw2, c.at, c.it, c.regs, c.fill);
        let a: Vec<_> = thumb_cases().map(|c| key(&c)).collect();
        let b: Vec<_> = thumb_cases().map(|c| key(&c)).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn thumb_cases_cover_classes_positions_and_both_halfword_offsets() {
        let all: Vec<ThumbCase> = thumb_cases().collect();
        for class in [RegClass::Sp, RegClass::Lr, RegClass::Pc] {
            assert!(
                all.iter().any(|c| c.class == class && c.runs()),
                "{class:?} runs"
            );
            // No rule forbids LR in a register field; SP and PC have rejections.
            assert!(
                class == RegClass::Lr || all.iter().any(|c| c.class == class && !c.runs()),
                "{class:?} rejected"
            );
        }
        for slot in [ItSlot::First, ItSlot::Inner, ItSlot::Last] {
            assert!(
                all.iter().any(|c| c.slot == slot && c.runs()),
                "{slot:?} runs"
            );
            assert!(
                all.iter().any(|c| c.slot == slot && !c.runs()),
                "{slot:?} rejected"
            );
        }
        for at in [0, 2] {
            for t32 in [false, true] {
                assert!(
                    all.iter()
                        .any(|c| c.at == at && c.hw2.is_some() == t32 && c.runs())
                );
            }
        }
        // Inside a block the condition passes in some scenarios and fails in others.
        for c in all.iter().filter(|c| c.slot != ItSlot::Outside) {
            let passes = (0..16).filter(|&s| c.condition_passes(s)).count();
            assert!(passes > 0 && passes < 16, "it {:#x}", c.it);
        }
        // Position-dependent decodes: CBZ only outside, B T2 only outside or last.
        let cbz = |c: &&ThumbCase| matches!(c.row, ThumbRow::T16(_, T16Kind::CompareAndBranch));
        assert!(
            all.iter()
                .filter(cbz)
                .any(|c| c.slot == ItSlot::Outside && c.runs())
        );
        assert!(
            all.iter()
                .filter(cbz)
                .filter(|c| c.slot != ItSlot::Outside)
                .all(|c| !c.runs())
        );
        let b = |c: &&ThumbCase| matches!(c.row, ThumbRow::T16(_, T16Kind::Branch));
        assert!(
            all.iter()
                .filter(b)
                .any(|c| c.slot == ItSlot::Last && c.runs())
        );
        assert!(
            all.iter()
                .filter(b)
                .any(|c| c.slot == ItSlot::Inner && !c.runs())
        );
    }

    #[test]
    fn stepped_thumb_cases_stay_in_the_lab_and_advance_itstate() {
        let layout = Layout {
            insn: 0x6000_2000,
            buffer: 0x6001_0000,
            mode: 0x1d3,
        };
        for c in thumb_cases().filter(|c| c.runs()) {
            for s in 0..16 {
                let mut f = c.frame(&layout, s);
                let mut mem = c.memory(layout);
                c.step(&layout, &mut f, &mut mem).unwrap();
                assert!(c.is_pad(&layout, f.pc, f.cpsr & psr::T != 0));
                assert_eq!(
                    crate::step::it_state(f.cpsr),
                    crate::step::it_advance(c.it),
                    "{:#06x}",
                    c.hw1
                );
            }
        }
    }
}
