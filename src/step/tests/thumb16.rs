//! Tests of the T16 engine: every class with an A32 twin cross-checked against the A32 engine
//! (proven on hardware by the test kernel) on random frames, the rest hand-checked against the
//! ARM ARM, and ITSTATE through a whole IT block.
//!
//! The twin of a halfword is the A32 word doing the same operation on the same registers, at
//! the address where the A32 PC reads (+8) what the Thumb PC reads (+4, or `Align(PC, 4)`);
//! inside an IT block it carries the block's current condition and no S bit. Classes with no
//! twin: CBZ/CBNZ, B (T1, T2: offsets of 2 bytes have no A32 form), and the PC writes of
//! ADD/MOV (register), which do not interwork in Thumb state (they do in ARM state).

use super::*;
use crate::decode::{ItPosition, T16Decoded, T16Kind, decode_t16};
use crate::insn::Cond;
use std::vec::Vec;

/// Memory below `TOP` reads as a fixed function of the address and records writes and hints,
/// so that two engines' effects compare as two logs.
#[derive(Default)]
pub(super) struct Log {
    pub(super) writes: Vec<(u32, u32, u32)>,
    pub(super) hints: Vec<Hint>,
}

const TOP: u32 = 0x4000;

impl Log {
    fn check(address: u32, len: u32, access: Access) -> Result<(), MemoryFault> {
        if address.checked_add(len).is_some_and(|end| end <= TOP) {
            Ok(())
        } else {
            Err(MemoryFault { address, access })
        }
    }

    fn byte(address: u32) -> u8 {
        (address.wrapping_mul(0x9e37_79b9) >> 24) as u8
    }

    fn bytes(address: u32, len: u32) -> u32 {
        (0..len).fold(0, |v, i| v | u32::from(Log::byte(address + i)) << (8 * i))
    }
}

impl Memory for Log {
    fn read_u8(&mut self, address: u32) -> Result<u8, MemoryFault> {
        Log::check(address, 1, Access::Read)?;
        Ok(Log::byte(address))
    }
    fn read_u16(&mut self, address: u32) -> Result<u16, MemoryFault> {
        Log::check(address, 2, Access::Read)?;
        Ok(Log::bytes(address, 2) as u16)
    }
    fn read_u32(&mut self, address: u32) -> Result<u32, MemoryFault> {
        Log::check(address, 4, Access::Read)?;
        Ok(Log::bytes(address, 4))
    }
    fn write_u8(&mut self, address: u32, value: u8) -> Result<(), MemoryFault> {
        Log::check(address, 1, Access::Write)?;
        self.writes.push((address, 1, u32::from(value)));
        Ok(())
    }
    fn write_u16(&mut self, address: u32, value: u16) -> Result<(), MemoryFault> {
        Log::check(address, 2, Access::Write)?;
        self.writes.push((address, 2, u32::from(value)));
        Ok(())
    }
    fn write_u32(&mut self, address: u32, value: u32) -> Result<(), MemoryFault> {
        Log::check(address, 4, Access::Write)?;
        self.writes.push((address, 4, value));
        Ok(())
    }
    fn barrier(&mut self, _: Barrier) {}
    fn hint(&mut self, hint: Hint) {
        self.hints.push(hint);
    }
}

/// A seeded xorshift32: the same cases on every run.
pub(super) struct Rng(pub(super) u32);

impl Rng {
    pub(super) fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }

    /// A register value: an address in the logged memory, a small number, or an edge value.
    pub(super) fn value(&mut self) -> u32 {
        match self.next() % 8 {
            0..=2 => 0x800 + self.next() % 0x1800,
            3 => self.next() % 40,
            4 => {
                [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xffff_ff80][self.next() as usize % 6]
            }
            _ => self.next(),
        }
    }

    /// ITSTATE: half the time outside a block, else a block position whose condition is not
    /// 0b1111 (no IT instruction can make one).
    pub(super) fn it_state(&mut self) -> u8 {
        if self.next().is_multiple_of(2) {
            return 0;
        }
        loop {
            let it = self.next() as u8;
            if it & 0xf != 0 && it >> 4 != 0xf {
                return it;
            }
        }
    }
}

/// Every halfword the decoder classes as `kind` outside an IT block.
fn halfwords(kind: T16Kind) -> impl Iterator<Item = u16> {
    (0..=u16::MAX)
        .filter(move |&h| decode_t16(h, ItPosition::Outside) == T16Decoded::Simulate(kind))
}

const DP: u32 = 0x0000_0000;
const DP_IMM: u32 = 0x0200_0000;
const fn dp(opcode: u32, s: bool, n: u32, d: u32) -> u32 {
    opcode << 21 | (s as u32) << 20 | n << 16 | d << 12
}
/// The A32 encoding of `imm8 × 4` (rotation 30).
const fn times4(imm8: u32) -> u32 {
    0xf00 | imm8
}

/// The A32 twin of `hw` (with S when `setflags`), and whether the Thumb PC operand is
/// `Align(PC, 4)`; `None` where the class (or this form of it) has none.
fn a32_twin(kind: T16Kind, hw: u16, setflags: bool) -> Option<(u32, bool)> {
    let h = u32::from(hw);
    let f = |lsb: u32, w: u32| (h >> lsb) & ((1 << w) - 1);
    let (rd, rm3, rm6, r8) = (f(0, 3), f(3, 3), f(6, 3), f(8, 3));
    let high_d = f(7, 1) << 3 | rd;
    let high_m = f(3, 4);
    let word = match kind {
        T16Kind::ShiftImmediate => {
            DP | dp(0xd, setflags, 0, rd) | f(6, 5) << 7 | f(11, 2) << 5 | rm3
        }
        T16Kind::AddSubtractRegister => {
            DP | dp(if f(9, 1) == 1 { 0x2 } else { 0x4 }, setflags, rm3, rd) | rm6
        }
        T16Kind::AddSubtractImmediate if f(13, 1) == 1 => {
            DP_IMM | dp(if f(11, 1) == 1 { 0x2 } else { 0x4 }, setflags, r8, r8) | f(0, 8)
        }
        T16Kind::AddSubtractImmediate => {
            DP_IMM | dp(if f(9, 1) == 1 { 0x2 } else { 0x4 }, setflags, rm3, rd) | f(6, 3)
        }
        T16Kind::MoveImmediate => DP_IMM | dp(0xd, setflags, 0, r8) | f(0, 8),
        T16Kind::CompareImmediate => DP_IMM | dp(0xa, true, r8, 0) | f(0, 8),
        T16Kind::DataProcessingRegister => match f(6, 4) {
            0b1000 => DP | dp(0x8, true, rd, 0) | rm3,
            0b1010 => DP | dp(0xa, true, rd, 0) | rm3,
            0b1011 => DP | dp(0xb, true, rd, 0) | rm3,
            0b1001 => DP_IMM | dp(0x3, setflags, rm3, rd),
            0b1111 => DP | dp(0xf, setflags, 0, rd) | rm3,
            op => {
                let opcode = [0x0, 0x1, 0, 0, 0, 0x5, 0x6, 0, 0, 0, 0, 0, 0xc, 0, 0xe][op as usize];
                DP | dp(opcode, setflags, rd, rd) | rm3
            }
        },
        T16Kind::ShiftRegister => {
            let ty = match f(6, 4) {
                0b0010 => 0,
                0b0011 => 1,
                0b0100 => 2,
                _ => 3,
            };
            DP | dp(0xd, setflags, 0, rd) | rm3 << 8 | ty << 5 | 0x10 | rd
        }
        T16Kind::Multiply => 0x0000_0090 | (setflags as u32) << 20 | rd << 16 | rd << 8 | rm3,
        T16Kind::AddHighRegisters if high_d != 15 => DP | dp(0x4, false, high_d, high_d) | high_m,
        T16Kind::CompareHighRegisters => DP | dp(0xa, true, high_d, 0) | high_m,
        T16Kind::MoveHighRegisters if high_d != 15 => DP | dp(0xd, false, 0, high_d) | high_m,
        T16Kind::BranchExchange => 0x012f_ff10 | high_m,
        T16Kind::BranchLinkExchangeRegister => 0x012f_ff30 | high_m,
        T16Kind::LoadLiteral => return Some((0x059f_0000 | r8 << 12 | (f(0, 8) * 4), true)),
        T16Kind::LoadStoreRegister => {
            let op = [
                0x0780_0000,
                0x0180_00b0,
                0x07c0_0000,
                0x0190_00d0,
                0x0790_0000,
                0x0190_00b0,
                0x07d0_0000,
                0x0190_00f0,
            ][f(9, 3) as usize];
            op | rm3 << 16 | rd << 12 | rm6
        }
        T16Kind::LoadStoreImmediate => {
            let imm5 = f(6, 5);
            let base = rm3 << 16 | rd << 12;
            match (f(12, 4), f(11, 1)) {
                (0b0110, 0) => 0x0580_0000 | base | (imm5 * 4),
                (0b0110, _) => 0x0590_0000 | base | (imm5 * 4),
                (0b0111, 0) => 0x05c0_0000 | base | imm5,
                (0b0111, _) => 0x05d0_0000 | base | imm5,
                (_, l) => {
                    let imm = imm5 * 2;
                    0x01c0_00b0 | l << 20 | base | (imm >> 4) << 8 | imm & 0xf
                }
            }
        }
        T16Kind::LoadStoreStack => 0x058d_0000 | f(11, 1) << 20 | r8 << 12 | (f(0, 8) * 4),
        T16Kind::GeneratePcRelativeAddress => {
            return Some((DP_IMM | dp(0x4, false, 15, r8) | times4(f(0, 8)), true));
        }
        T16Kind::GenerateSpRelativeAddress => DP_IMM | dp(0x4, false, 13, r8) | times4(f(0, 8)),
        T16Kind::AdjustStackPointer => {
            let opcode = if f(7, 1) == 1 { 0x2 } else { 0x4 };
            DP_IMM | dp(opcode, false, 13, 13) | times4(f(0, 7))
        }
        T16Kind::Extend => {
            [0x06bf_0070, 0x06af_0070, 0x06ff_0070, 0x06ef_0070][f(6, 2) as usize] | rd << 12 | rm3
        }
        T16Kind::Reverse => {
            [0x06bf_0f30, 0x06bf_0fb0, 0, 0x06ff_0fb0][f(6, 2) as usize] | rd << 12 | rm3
        }
        // STMDB SP!, LDMIA SP!, STMIA Rn!, LDMIA Rn{!}.
        T16Kind::Push => 0x092d_0000 | f(0, 8) | f(8, 1) << 14,
        T16Kind::Pop => 0x08bd_0000 | f(0, 8) | f(8, 1) << 15,
        T16Kind::StoreMultiple => 0x08a0_0000 | r8 << 16 | f(0, 8),
        T16Kind::LoadMultiple => {
            let wback = f(0, 8) & (1 << r8) == 0;
            0x0890_0000 | (wback as u32) << 21 | r8 << 16 | f(0, 8)
        }
        T16Kind::Hint => 0x0320_f000 | f(4, 4),
        _ => return None,
    };
    Some((word, false))
}

/// Which classes write PC (and so interwork or branch) in the cross-check.
fn writes_pc(kind: T16Kind, hw: u16) -> bool {
    matches!(
        kind,
        T16Kind::BranchExchange | T16Kind::BranchLinkExchangeRegister
    ) || kind == T16Kind::Pop && hw & 0x100 != 0
}

/// Runs every `kind` halfword through both engines on random frames; returns how many
/// cases completed and how many both engines refused with the same error (IT positions the
/// decoder refuses, which it must refuse with a reason, are skipped).
fn cross_check(kind: T16Kind, rng: &mut Rng) -> (usize, usize) {
    let (mut cases, mut errors) = (0, 0);
    // At least 4 frames a halfword, and about 16,384 for a class.
    let frames = (16_384 / halfwords(kind).count()).max(4);
    for hw in halfwords(kind) {
        for _ in 0..frames {
            let it = rng.it_state();
            let in_it = it != 0;
            let Some((word, aligned)) = a32_twin(kind, hw, !in_it) else {
                continue;
            };
            let addr = 0x2000 + (rng.next() % 0x800) * 2;
            let mut thumb = TrapFrame::default();
            for n in 0..15 {
                thumb.set_reg(n, rng.value());
            }
            let e = if rng.next().is_multiple_of(8) {
                psr::E
            } else {
                0
            };
            let nzcv = rng.next() & 0xf000_0000;
            thumb.cpsr = with_it_state(SVC | psr::T | e | nzcv, it);
            thumb.pc = addr;
            let pc_read = if aligned { (addr + 4) & !3 } else { addr + 4 };
            let a32_addr = pc_read - 8;
            let cond = if in_it { u32::from(it >> 4) } else { 0xe };
            let mut arm = thumb;
            arm.cpsr &= !(psr::T | psr::IT);
            arm.pc = a32_addr;

            let before = thumb;
            let (mut tm, mut am) = (Log::default(), Log::default());
            let t = simulate_t16(kind, hw, addr, &mut thumb, &mut tm);
            if let Err(StepError::Rejected(RejectReason::Unpredictable)) = t {
                assert!(in_it, "{hw:#06x} refused outside an IT block");
                assert_eq!(thumb, before);
                continue;
            }
            let a = step(Insn(cond << 28 | word), a32_addr, &mut arm, &mut am);
            let what = || format!("{kind:?} {hw:#06x} twin {word:#010x} it {it:#04x} {before:x?}");
            assert_eq!(t, a, "{}", what());
            assert_eq!((tm.writes, tm.hints), (am.writes, am.hints), "{}", what());
            if t.is_err() {
                assert_eq!(thumb, before, "{}", what());
                errors += 1;
                continue;
            }
            cases += 1;
            let mask = !(psr::T | psr::IT);
            assert_eq!(thumb.cpsr & mask, arm.cpsr & mask, "{}", what());
            assert_eq!(it_state(thumb.cpsr), it_advance(it), "{}", what());
            let executed = Cond::from_bits(cond).passes(before.cpsr);
            let lr_differs = kind == T16Kind::BranchLinkExchangeRegister && executed;
            for n in 0..15 {
                if !(n == 14 && lr_differs) {
                    assert_eq!(thumb.reg(n), arm.reg(n), "r{n} {}", what());
                }
            }
            if lr_differs {
                assert_eq!(thumb.lr, (addr + 2) | 1, "{}", what());
            }
            if writes_pc(kind, hw) && executed {
                assert_eq!(thumb.pc, arm.pc, "{}", what());
                assert_eq!(thumb.cpsr & psr::T, arm.cpsr & psr::T, "{}", what());
            } else {
                assert_eq!(thumb.pc, addr + 2, "{}", what());
                assert_eq!(thumb.cpsr & psr::T, psr::T, "{}", what());
            }
        }
    }
    (cases, errors)
}

/// The classes with an A32 twin.
const TWINNED: [T16Kind; 27] = [
    T16Kind::ShiftImmediate,
    T16Kind::AddSubtractRegister,
    T16Kind::AddSubtractImmediate,
    T16Kind::MoveImmediate,
    T16Kind::CompareImmediate,
    T16Kind::DataProcessingRegister,
    T16Kind::ShiftRegister,
    T16Kind::Multiply,
    T16Kind::AddHighRegisters,
    T16Kind::CompareHighRegisters,
    T16Kind::MoveHighRegisters,
    T16Kind::BranchExchange,
    T16Kind::BranchLinkExchangeRegister,
    T16Kind::LoadLiteral,
    T16Kind::LoadStoreRegister,
    T16Kind::LoadStoreImmediate,
    T16Kind::LoadStoreStack,
    T16Kind::GeneratePcRelativeAddress,
    T16Kind::GenerateSpRelativeAddress,
    T16Kind::AdjustStackPointer,
    T16Kind::Extend,
    T16Kind::Reverse,
    T16Kind::Push,
    T16Kind::Pop,
    T16Kind::StoreMultiple,
    T16Kind::LoadMultiple,
    T16Kind::Hint,
];

#[test]
fn step_t16_twinned_classes_match_the_a32_engine_on_random_frames() {
    let mut rng = Rng(0x1234_5678);
    let (mut total, mut total_errors) = (0, 0);
    for kind in TWINNED {
        let (cases, errors) = cross_check(kind, &mut rng);
        assert!(cases >= 20, "{kind:?}: {cases} cases");
        std::println!("{kind:?}: {cases} completed, {errors} same error");
        total += cases;
        total_errors += errors;
    }
    std::println!("{total} T16 cases completed and {total_errors} failed alike in both engines");
}

/// The classes no A32 word reproduces, hand-checked below.
const HAND_CHECKED: [T16Kind; 3] = [
    T16Kind::CompareAndBranch,
    T16Kind::ConditionalBranch,
    T16Kind::Branch,
];

#[test]
fn every_t16_kind_is_cross_checked_or_hand_checked() {
    for kind in T16Kind::ALL {
        assert!(
            TWINNED.contains(&kind) ^ HAND_CHECKED.contains(&kind),
            "{kind:?}"
        );
    }
}

const T_ADDR: u32 = 0x2000;
/// SVC mode in Thumb state, flags clear, outside any IT block.
const THUMB: u32 = SVC | psr::T;

/// Steps `hw` at `addr` over a frame with `regs` and `cpsr`, with memory `ram`.
fn run_t16_at(
    hw: u16,
    addr: u32,
    regs: &[(usize, u32)],
    cpsr: u32,
    ram: &mut Ram,
) -> Result<TrapFrame, StepError> {
    let mut f = frame(regs, cpsr);
    f.pc = addr;
    let before = f;
    let result = step_t16(hw, addr, &mut f, ram);
    if result.is_err() {
        assert_eq!(f, before, "{hw:#06x}: a failed step changed the frame");
    }
    result.map(|()| f)
}

fn run_t16(hw: u16, regs: &[(usize, u32)], cpsr: u32) -> TrapFrame {
    run_t16_at(hw, T_ADDR, regs, cpsr, &mut Ram::new()).unwrap()
}

#[test]
fn step_t16_cbz_and_cbnz_branch_forward_on_zero_and_nonzero() {
    // cbz r2, . + 4 + 126 (i = 1, imm5 = 31: the farthest target).
    assert_eq!(run_t16(0xb3fa, &[(2, 0)], THUMB).pc, T_ADDR + 4 + 126);
    assert_eq!(run_t16(0xb3fa, &[(2, 1)], THUMB).pc, T_ADDR + 2);
    // cbnz r3, . + 4 + 4: flags are neither read nor written.
    let f = run_t16(0xb913, &[(3, 5)], THUMB | psr::Z);
    assert_eq!((f.pc, f.cpsr), (T_ADDR + 8, THUMB | psr::Z));
    assert_eq!(run_t16(0xb913, &[(3, 0)], THUMB).pc, T_ADDR + 2);
}

#[test]
fn step_t16_conditional_branch_uses_its_own_condition() {
    // beq . + 4 - 4 (imm8 = 0xfe): taken with Z, falls through without.
    assert_eq!(run_t16(0xd0fe, &[], THUMB | psr::Z).pc, T_ADDR);
    assert_eq!(run_t16(0xd0fe, &[], THUMB).pc, T_ADDR + 2);
    // bne . + 4 + 254, the farthest forward.
    assert_eq!(run_t16(0xd17f, &[], THUMB).pc, T_ADDR + 4 + 254);
    // bgt with N != V: not taken.
    assert_eq!(run_t16(0xdc10, &[], THUMB | psr::N).pc, T_ADDR + 2);
    assert_eq!(run_t16(0xdc10, &[], THUMB).pc, T_ADDR + 4 + 32);
}

#[test]
fn step_t16_unconditional_branch_reaches_both_ends() {
    // b . + 4 - 2048 and b . + 4 + 2046.
    assert_eq!(run_t16(0xe400, &[], THUMB).pc, T_ADDR + 4 - 2048);
    assert_eq!(run_t16(0xe3ff, &[], THUMB).pc, T_ADDR + 4 + 2046);
    assert_eq!(run_t16(0xe3ff, &[], THUMB).cpsr, THUMB);
}

#[test]
fn step_t16_pc_relative_forms_read_align_pc_4() {
    // adr r0, Align(PC, 4) + 8: the same target from 0x2000 and 0x2002.
    for addr in [T_ADDR, T_ADDR + 2] {
        let f = run_t16_at(0xa002, addr, &[], THUMB, &mut Ram::new()).unwrap();
        assert_eq!((f.r[0], f.pc), (T_ADDR + 4 + 8, addr + 2));
    }
    // ldr r1, [pc, #4] at RAM + 2 reads Align(RAM + 6, 4) + 4 = RAM + 8.
    let mut ram = Ram::new();
    ram.put(RAM + 8, 0xcafe_f00d);
    let f = run_t16_at(0x4901, RAM + 2, &[], THUMB, &mut ram).unwrap();
    assert_eq!(f.r[1], 0xcafe_f00d);
    // add r0, pc reads the unaligned address + 4.
    let f = run_t16_at(0x4478, T_ADDR + 2, &[(0, 1)], THUMB, &mut Ram::new()).unwrap();
    assert_eq!(f.r[0], T_ADDR + 2 + 4 + 1);
}

#[test]
fn step_t16_add_and_mov_to_pc_branch_without_interworking() {
    // add pc, r1: BranchWritePC, bit 0 dropped, still Thumb.
    let f = run_t16(0x448f, &[(1, 0x101)], THUMB);
    assert_eq!((f.pc, f.cpsr), (T_ADDR + 4 + 0x100, THUMB));
    // mov pc, lr with an even lr: still Thumb (BX lr would return to ARM).
    let f = run_t16(0x46f7, &[(14, 0x3000)], THUMB);
    assert_eq!((f.pc, f.cpsr), (0x3000, THUMB));
    let f = run_t16(0x4770, &[(14, 0x3000)], THUMB);
    assert_eq!((f.pc, f.cpsr), (0x3000, SVC));
}

#[test]
fn step_t16_blx_links_the_next_halfword_with_bit_0_set() {
    let f = run_t16(0x4798, &[(3, 0x4001)], THUMB);
    assert_eq!((f.pc, f.lr, f.cpsr), (0x4000, (T_ADDR + 2) | 1, THUMB));
    // blx lr: the target is the old lr.
    let f = run_t16(0x47f0, &[(14, 0x4000)], THUMB);
    assert_eq!((f.pc, f.lr, f.cpsr), (0x4000, (T_ADDR + 2) | 1, SVC));
}

#[test]
fn step_t16_pop_pc_interworks_and_push_stores_lowest_first() {
    let mut ram = Ram::new();
    // push {r0, r4, lr}
    let f = run_t16_at(
        0xb511,
        T_ADDR,
        &[(0, 10), (4, 40), (13, RAM + 0x40), (14, 0x3001)],
        THUMB,
        &mut ram,
    )
    .unwrap();
    assert_eq!(f.sp, RAM + 0x34);
    assert_eq!(
        [
            ram.word(RAM + 0x34),
            ram.word(RAM + 0x38),
            ram.word(RAM + 0x3c)
        ],
        [10, 40, 0x3001]
    );
    // pop {r0, pc}: the Thumb return, then an ARM one.
    let f = run_t16_at(0xbd01, T_ADDR, &[(13, RAM + 0x38)], THUMB, &mut ram).unwrap();
    assert_eq!(
        (f.r[0], f.pc, f.sp, f.cpsr),
        (40, 0x3000, RAM + 0x40, THUMB)
    );
    ram.put(RAM + 0x3c, 0x3004);
    let f = run_t16_at(0xbd01, T_ADDR, &[(13, RAM + 0x38)], THUMB, &mut ram).unwrap();
    assert_eq!((f.pc, f.cpsr), (0x3004, SVC));
}

#[test]
fn step_t16_ldm_with_the_base_in_the_list_does_not_write_back() {
    let mut ram = Ram::new();
    ram.put(RAM, 7);
    ram.put(RAM + 4, 8);
    // ldm r0, {r0, r1}
    let f = run_t16_at(0xc803, T_ADDR, &[(0, RAM)], THUMB, &mut ram).unwrap();
    assert_eq!((f.r[0], f.r[1]), (7, 8));
    // ldm r0!, {r1, r2}
    let f = run_t16_at(0xc806, T_ADDR, &[(0, RAM)], THUMB, &mut ram).unwrap();
    assert_eq!((f.r[0], f.r[1], f.r[2]), (RAM + 8, 7, 8));
    // stm r1!, {r1, r2}: the base is lowest, so its original value is stored.
    let f = run_t16_at(0xc106, T_ADDR, &[(1, RAM + 0x10), (2, 9)], THUMB, &mut ram).unwrap();
    assert_eq!(f.r[1], RAM + 0x18);
    assert_eq!(
        [ram.word(RAM + 0x10), ram.word(RAM + 0x14)],
        [RAM + 0x10, 9]
    );
}

#[test]
fn step_t16_hints_go_to_the_memory_seam() {
    let mut ram = Ram::new();
    for hw in [0xbf00, 0xbf10, 0xbf20, 0xbf30, 0xbf40] {
        run_t16_at(hw, T_ADDR, &[], THUMB, &mut ram).unwrap();
    }
    assert_eq!(
        ram.hints,
        [Hint::Nop, Hint::Yield, Hint::Wfe, Hint::Wfi, Hint::Sev]
    );
}

#[test]
fn it_state_round_trips_and_advances_as_the_arm_arm_says() {
    for it in 0..=u8::MAX {
        let cpsr = with_it_state(THUMB | psr::N, it);
        assert_eq!(it_state(cpsr), it);
        assert_eq!(cpsr & !psr::IT, THUMB | psr::N);
    }
    // The ITTET EQ block of the next test: 0x05, 0x0a, 0x14, 0x08, then out.
    assert_eq!(it_advance(0x05), 0x0a);
    assert_eq!(it_advance(0x0a), 0x14);
    assert_eq!(it_advance(0x14), 0x08);
    assert_eq!(it_advance(0x08), 0x00);
    assert_eq!(it_position(0x00), ItPosition::Outside);
    assert_eq!(it_position(0x18), ItPosition::Last);
    assert_eq!(it_position(0x14), ItPosition::Inside);
}

#[test]
fn step_t16_runs_an_ittet_block_as_the_cpu_does() {
    // ITTET EQ: firstcond 0000, mask 0101, so ITSTATE starts at 0x05 and the conditions are
    // EQ, EQ, NE, EQ. Z is set: the third instruction is skipped.
    let mut ram = Ram::new();
    let mut f = frame(
        &[(0, 0), (1, 5), (2, 9)],
        with_it_state(THUMB | psr::Z, 0x05),
    );
    let block: [(u16, u8); 4] = [
        (0x3001, 0x0a), // adds r0, #1 -> add (no flags inside the block)
        (0x4249, 0x14), // negs r1, r1 -> neg: would set N, clear Z and C outside
        (0x2205, 0x08), // movs r2, #5 (NE): skipped
        (0x2802, 0x00), // cmp r0, #2 (EQ, last): compares always set flags
    ];
    for (i, (hw, it_after)) in block.into_iter().enumerate() {
        let addr = T_ADDR + 2 * i as u32;
        f.pc = addr;
        step_t16(hw, addr, &mut f, &mut ram).unwrap();
        assert_eq!((f.pc, it_state(f.cpsr)), (addr + 2, it_after), "{hw:#06x}");
        if i < 3 {
            assert_eq!(f.cpsr & 0xf000_0000, psr::Z, "{hw:#06x} set flags");
        }
    }
    assert_eq!((f.r[0], f.r[1], f.r[2]), (1, 5u32.wrapping_neg(), 9));
    // cmp 1, #2: N, borrow (C clear), Z clear, no overflow; out of the block.
    assert_eq!(f.cpsr, THUMB | psr::N);
}

#[test]
fn step_t16_skipped_instruction_touches_no_memory_and_advances_itstate() {
    let mut ram = Ram::new();
    // Inside IT NE (ITSTATE 0x18: cond 0001, last) with Z set: str r0, [r1] is skipped even
    // though r1 is an address that would fault.
    let mut f = frame(&[(0, 1), (1, 0)], with_it_state(THUMB | psr::Z, 0x18));
    f.pc = T_ADDR;
    step_t16(0x6008, T_ADDR, &mut f, &mut ram).unwrap();
    assert_eq!((f.pc, f.cpsr), (T_ADDR + 2, THUMB | psr::Z));
}

#[test]
fn every_t16_step_error_is_reported_and_leaves_the_frame() {
    let mut ram = Ram::new();
    let in_it_eq = with_it_state(THUMB, 0x08);
    type ErrorCase = (u16, &'static [(usize, u32)], u32, StepError);
    let cases: [ErrorCase; 9] = [
        (0x4770, &[], SVC, StepError::ArmState),
        (0xf000, &[], THUMB, StepError::KindMismatch),
        // cbz inside an IT block.
        (
            0xb100,
            &[],
            in_it_eq | psr::Z,
            StepError::Rejected(RejectReason::Unpredictable),
        ),
        (
            0xdf00,
            &[],
            THUMB,
            StepError::Rejected(RejectReason::ExceptionGenerating),
        ),
        // ldr r0, [r1]; str r0, [r1] with r1 = 0.
        (
            0x6808,
            &[(1, 0)],
            THUMB,
            StepError::Memory(MemoryFault {
                address: 0,
                access: Access::Read,
            }),
        ),
        (
            0x6008,
            &[(1, 0)],
            THUMB,
            StepError::Memory(MemoryFault {
                address: 0,
                access: Access::Write,
            }),
        ),
        // ldm r0!, {r1} and push {r0} off word alignment.
        (
            0xc802,
            &[(0, RAM + 2)],
            THUMB,
            StepError::AlignmentFault { address: RAM + 2 },
        ),
        (
            0xb401,
            &[(13, RAM + 0x42)],
            THUMB,
            StepError::AlignmentFault {
                address: RAM + 0x3e,
            },
        ),
        // bx r2 with bits 1:0 == 0b10.
        (
            0x4710,
            &[(2, 0x2002)],
            THUMB,
            StepError::UnpredictablePcWrite { target: 0x2002 },
        ),
    ];
    let mut texts = Vec::new();
    for (hw, regs, cpsr, want) in cases {
        assert_eq!(
            run_t16_at(hw, T_ADDR, regs, cpsr, &mut ram),
            Err(want),
            "{hw:#06x}"
        );
        texts.push(want.to_string());
    }
    // A kind that is not the halfword's.
    let mut f = frame(&[], THUMB);
    let before = f;
    assert_eq!(
        simulate_t16(T16Kind::Branch, 0x4770, T_ADDR, &mut f, &mut ram),
        Err(StepError::KindMismatch)
    );
    assert_eq!(f, before);
    for (i, t) in texts.iter().enumerate() {
        assert!(!texts[..i].contains(t), "{t}");
    }
}

#[test]
fn step_t16_never_panics_on_any_halfword_at_any_it_position() {
    let mut rng = Rng(0x0bad_5eed);
    for hw in 0..=u16::MAX {
        for it in [0x00, 0x04, 0x08, 0xe8, 0x1c] {
            let mut f = TrapFrame::default();
            for n in 0..15 {
                f.set_reg(n, rng.value());
            }
            f.cpsr = with_it_state(THUMB | (rng.next() & 0xf000_0200), it);
            let before = f;
            let addr = 0x2000 + (rng.next() % 0x800) * 2;
            if step_t16(hw, addr, &mut f, &mut Log::default()).is_err() {
                assert_eq!(f, before, "{hw:#06x}");
            }
        }
    }
}
