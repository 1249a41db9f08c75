//! The case generator, kept apart from the harness contract and case types in `mod.rs`: the
//! [`cases`] iterator walks the decode tables' simulated rows and fills each row's free bits
//! from a fixed-seed generator, shaping every runnable word so the harness can run it
//! (memory operands in the buffer or literal window, control flow onto pads).

use super::{ARM_PADS_BEFORE, Alignment, Case, Fill, RegClass, Seed, THUMB_PADS};
use crate::decode::classify;
use crate::decode::{A32, Action, Decoded, Entry, REG_FIELDS, RegRule, RejectReason, SimKind};
use crate::insn::Insn;

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

/// The leaf rows the step engine simulates, in table order (the tests walk them too).
pub(super) struct Rows {
    pub(super) stack: [(&'static [Entry], usize); 6],
    pub(super) depth: usize,
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
pub(super) struct Rng(u32);

impl Rng {
    pub(super) fn new(seed: u32) -> Rng {
        Rng(seed | 1)
    }

    pub(super) fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }

    pub(super) fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }

    /// A value that exercises edges: zero, extremes, halfword and byte boundaries, or random.
    pub(super) fn interesting(&mut self) -> u32 {
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

/// Seeds register `n` (a register field's value); PC has no seed.
fn set(regs: &mut [Seed; 15], n: u32, seed: Seed) {
    if n < 15 {
        regs[n as usize] = seed;
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
            if Insn(w).rd() == 15 =>
        {
            // TST, TEQ, CMP, CMN (opcode 10xx, S set) write no register.
            let compare = Insn(w).opcode() >> 2 == 0b10 && Insn(w).s();
            if !compare {
                return alu_to_pc(w, regs, rng);
            }
        }
        SimKind::DataProcessingRegisterShifted => {
            const AMOUNTS: [u32; 8] = [0, 1, 4, 31, 32, 33, 0x100, 0xffff_ff03];
            set(
                regs,
                Insn(w).rs(),
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
            let n = Insn(w).rn();
            let mut list = rng.next() & 0xffff;
            if Insn(w).w() {
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
            if Insn(w).l() && Insn(w).reglist() & (1 << 15) != 0 {
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
            set(regs, Insn(w).rm(), target);
        }
        _ => {}
    }
    Some(w)
}

/// Data-processing into PC: operands chosen so the result is a pad (plus the carry for
/// ADC/SBC/RSC, which a pad also catches).
fn alu_to_pc(mut w: u32, regs: &mut [Seed; 15], rng: &mut Rng) -> Option<u32> {
    let op = Insn(w).opcode();
    let n = Insn(w).rn();
    let d = rng.arm_pad();
    if Insn(w).i() {
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
    let m = Insn(w).rm();
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
        if Insn(w).b() { 1 } else { 4 }
    } else if (w >> 5) & 3 == 0b10 {
        1
    } else {
        2
    };
    let n = Insn(w).rn();
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
        let m = Insn(w).rm();
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
    let load = if dual { !Insn(w).h() } else { Insn(w).l() };
    if load && Insn(w).rt() == 15 {
        *fill = Fill::Pads;
    }
    Some(w)
}
