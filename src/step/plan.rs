//! Step plans: the operands of a probed instruction decoded once, at registration, so a
//! hit runs the common classes straight on the frame instead of decoding its fields,
//! copying the frame in and out and dispatching on every hit.
//!
//! A plan exists for unconditional data-processing instructions (AND…MVN, with a rotated
//! immediate or a register shifted by an immediate) that read and write only r0–r14 —
//! the arithmetic of function prologues and bodies (`sub sp, sp, #16`, `mov r4, r0`,
//! `add r0, r0, #1`, `cmp r0, #0`). It computes exactly what [`simulate`] computes, with
//! the same pseudo-code functions (`alu`, `shift_c`); everything else runs [`simulate`]
//! with the decode. Such an instruction touches no memory and cannot fail except in
//! Thumb state, as [`simulate`].

use super::pseudocode::{Shift, alu, decode_imm_shift, shift_c};
use super::{Memory, StepError, psr, simulate};
use crate::decode::{RejectReason, SimKind};
use crate::frame::TrapFrame;
use crate::insn::{Cond, Insn};

/// How a hit steps one probed instruction: its operands decoded once, at registration.
///
/// A plan exists for unconditional data-processing instructions (AND…MVN, with a rotated
/// immediate or a register shifted by an immediate) that read and write only r0–r14;
/// [`Plan::run`] computes exactly what [`simulate`] computes for them, straight on the
/// frame, and runs [`simulate`] for every other instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan(Kind);

/// `repr(u8)`: an explicit tag byte, which the hit path dispatches on with one compare
/// (a niche-packed tag costs several).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    /// No instruction yet (a free site): stepping it is refused.
    Unset,
    /// No plan: [`simulate`] from the decode.
    Simulate { kind: SimKind, insn: Insn },
    /// `rd = rn + imm` without flags: ADD or SUB (imm negated) with an immediate, and
    /// MOV of a register without shift (imm 0): most of what prologues and bodies do.
    AddImmediate { rd: u8, rn: u8, imm: u32 },
    /// `rd = value` without flags: MOV or MVN (value inverted) with an immediate.
    MoveImmediate { rd: u8, value: u32 },
    /// Data processing whose operands and result are r0–r14, condition AL.
    Alu {
        opcode: u8,
        s: bool,
        rd: u8,
        rn: u8,
        operand: Operand,
    },
}

/// The shifter operand of a planned data-processing instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operand {
    /// The rotated immediate and the shifter carry it gives (`None`: the C flag, for a
    /// rotation of 0).
    Immediate { value: u32, carry: Option<bool> },
    /// A register shifted by an immediate (DecodeImmShift already applied).
    Register { rm: u8, shift: Shift, n: u8 },
}

impl Plan {
    /// The plan of no instruction (a free probe site's): [`Plan::run`] refuses it.
    pub const UNSET: Plan = Plan(Kind::Unset);

    /// The plan for `insn`, decoded as `kind`.
    pub fn new(kind: SimKind, insn: Insn) -> Plan {
        let simulate = Plan(Kind::Simulate { kind, insn });
        if insn.cond() != Cond::Al {
            return simulate;
        }
        let opcode = insn.opcode();
        // MOV and MVN ignore Rn; TST, TEQ, CMP and CMN write no Rd.
        let reads_rn = !matches!(opcode, 0xd | 0xf);
        let writes_rd = !(0x8..=0xb).contains(&opcode);
        let (rd, rn) = (insn.rd(), insn.rn());
        if (writes_rd && rd == 15) || (reads_rn && rn == 15) {
            return simulate;
        }
        let operand = match kind {
            SimKind::DataProcessingImmediate => {
                let imm12 = insn.imm12();
                let rotation = 2 * (imm12 >> 8);
                let value = (imm12 & 0xff).rotate_right(rotation);
                Operand::Immediate {
                    value,
                    carry: (rotation != 0).then_some(value >> 31 != 0),
                }
            }
            SimKind::DataProcessingRegister if insn.rm() != 15 => {
                let (shift, n) = decode_imm_shift(insn.shift_type(), insn.imm5());
                Operand::Register {
                    rm: insn.rm() as u8,
                    shift,
                    n: n as u8,
                }
            }
            _ => return simulate,
        };
        let s = insn.s();
        Plan(match (opcode, s, operand) {
            // ADD, SUB: no flags, immediate.
            (0x4 | 0x2, false, Operand::Immediate { value, .. }) => Kind::AddImmediate {
                rd: rd as u8,
                rn: rn as u8,
                imm: if opcode == 0x4 {
                    value
                } else {
                    value.wrapping_neg()
                },
            },
            // MOV rd, rm (LSL #0): DecodeImmShift gives LSL by 0.
            (
                0xd,
                false,
                Operand::Register {
                    rm,
                    shift: Shift::Lsl,
                    n: 0,
                },
            ) => Kind::AddImmediate {
                rd: rd as u8,
                rn: rm,
                imm: 0,
            },
            // MOV, MVN: no flags, immediate.
            (0xd | 0xf, false, Operand::Immediate { value, .. }) => Kind::MoveImmediate {
                rd: rd as u8,
                value: if opcode == 0xd { value } else { !value },
            },
            _ => Kind::Alu {
                opcode: opcode as u8,
                s,
                // A register the instruction does not use reads as r0 (never PC).
                rd: if writes_rd { rd as u8 } else { 0 },
                rn: if reads_rn { rn as u8 } else { 0 },
                operand,
            },
        })
    }

    /// Whether the step may access memory (the hit path records such steps for
    /// `fixup_fault`); a planned instruction never does.
    #[inline(always)]
    pub fn may_access_memory(&self) -> bool {
        matches!(self.0, Kind::Simulate { .. } | Kind::Unset)
    }

    /// Whether the operands were planned (a step that needs no [`simulate`]).
    pub fn is_planned(&self) -> bool {
        !self.may_access_memory()
    }

    /// Steps the planned instruction at `addr` over `frame` and `mem`: the same result,
    /// frame and errors as [`simulate`] of the instruction and its decode.
    ///
    /// # Errors
    ///
    /// Those of [`simulate`]; [`StepError::Rejected`] for [`Plan::UNSET`].
    #[inline(always)]
    pub fn run(
        &self,
        addr: u32,
        frame: &mut TrapFrame,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let (opcode, s, rd, rn, operand) = match self.0 {
            Kind::Simulate { kind, insn } => return simulate(kind, insn, addr, frame, mem),
            Kind::Unset => return Err(StepError::Rejected(RejectReason::Undefined)),
            // Thumb state: as `simulate`, which refuses to step an A32 word there.
            _ if frame.cpsr & psr::T != 0 => return Err(StepError::ThumbState),
            Kind::AddImmediate { rd, rn, imm } => {
                // SAFETY: `rd` and `rn` are four-bit instruction fields (`Plan::new` is
                // the only maker of a `Kind`), below 17.
                unsafe {
                    let value = frame.reg_unchecked(usize::from(rn)).wrapping_add(imm);
                    frame.set_reg_unchecked(usize::from(rd), value);
                }
                frame.pc = addr.wrapping_add(4);
                return Ok(());
            }
            Kind::MoveImmediate { rd, value } => {
                // SAFETY: as for `AddImmediate`.
                unsafe { frame.set_reg_unchecked(usize::from(rd), value) };
                frame.pc = addr.wrapping_add(4);
                return Ok(());
            }
            Kind::Alu {
                opcode,
                s,
                rd,
                rn,
                operand,
            } => (opcode, s, rd, rn, operand),
        };
        let c = frame.cpsr & psr::C != 0;
        let (op2, shifter_carry) = match operand {
            Operand::Immediate { value, carry } => (value, carry.unwrap_or(c)),
            Operand::Register { rm, shift, n } => {
                shift_c(frame.reg(rm as usize), shift, u32::from(n), c)
            }
        };
        let (result, carry, overflow) = alu(
            u32::from(opcode),
            frame.reg(rn as usize),
            op2,
            shifter_carry,
            c,
        );
        if s {
            let mut cpsr = frame.cpsr & !(psr::N | psr::Z | psr::C);
            cpsr |= result & psr::N;
            if result == 0 {
                cpsr |= psr::Z;
            }
            if carry {
                cpsr |= psr::C;
            }
            if let Some(v) = overflow {
                cpsr = if v { cpsr | psr::V } else { cpsr & !psr::V };
            }
            frame.cpsr = cpsr;
        }
        if !(0x8..=0xb).contains(&opcode) {
            frame.set_reg(rd as usize, result);
        }
        frame.pc = addr.wrapping_add(4);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Decoded, decode};
    use crate::fakes::FakeMemory;

    /// xorshift32: a reproducible stream of words.
    fn next(x: &mut u32) -> u32 {
        *x ^= *x << 13;
        *x ^= *x >> 17;
        *x ^= *x << 5;
        *x
    }

    #[test]
    fn a_planned_step_is_exactly_the_simulated_one() {
        let mut x = 0x2545_f491;
        let (mut planned, mut compared) = (0, 0);
        // How many of each plan kind: AddImmediate, MoveImmediate, Alu.
        let mut kinds = [0u32; 3];
        for i in 0..400_000u32 {
            // Data-processing encodings (bits 27:26 = 00), mostly AL, every field random.
            let mut word = next(&mut x) & 0x0fff_ffff;
            word |= if i % 8 == 0 {
                next(&mut x) & 0xf000_0000
            } else {
                0xe000_0000
            };
            let insn = Insn(word & !0x0c00_0000);
            let Decoded::Simulate(kind) = decode(insn) else {
                continue;
            };
            let plan = Plan::new(kind, insn);
            if !plan.is_planned() {
                continue;
            }
            planned += 1;
            kinds[match plan.0 {
                Kind::AddImmediate { .. } => 0,
                Kind::MoveImmediate { .. } => 1,
                _ => 2,
            }] += 1;
            assert!(!plan.may_access_memory());
            for _ in 0..4 {
                let mut frame = TrapFrame::default();
                for n in 0..15 {
                    frame.set_reg(n, next(&mut x));
                }
                frame.pc = 0x8000;
                // Flags, Q and GE random; SYS mode, ARM state (or, now and then, Thumb).
                let thumb = (next(&mut x) & 0x20) * u32::from(i % 16 == 1);
                frame.cpsr = (next(&mut x) & 0xf80f_0000) | 0x1f | thumb;
                let mut simulated = frame;
                let want = simulate(
                    kind,
                    insn,
                    0x8000,
                    &mut simulated,
                    &mut FakeMemory::default(),
                );
                let got = plan.run(0x8000, &mut frame, &mut FakeMemory::default());
                assert_eq!(got, want, "{word:#010x}");
                assert_eq!(frame, simulated, "{word:#010x}");
                compared += 1;
            }
        }
        assert!(planned > 10_000 && compared > 40_000, "{planned} planned");
        assert!(kinds.iter().all(|&k| k > 300), "plans by kind: {kinds:?}");
    }

    #[test]
    fn only_unconditional_instructions_without_pc_operands_are_planned() {
        for (word, planned) in [
            (0xe280_0001, true),  // add r0, r0, #1
            (0xe24d_d010, true),  // sub sp, sp, #16
            (0xe1a0_4000, true),  // mov r4, r0
            (0xe3e0_0000, true),  // mvn r0, #0
            (0xe1a0_4080, true),  // lsl r4, r0, #1 (mov with a shift)
            (0xe350_0000, true),  // cmp r0, #0
            (0xe1b0_1102, true),  // lsls r1, r2, #2
            (0xe1a0_1062, true),  // rrx r1, r2
            (0x1280_0001, false), // addne r0, r0, #1
            (0xe28f_0008, false), // adr r0 (add r0, pc, #8)
            (0xe1a0_f00e, false), // mov pc, lr
            (0xe1a0_000f, false), // mov r0, pc
            (0xe081_0312, false), // add r0, r1, r2, lsl r3 (register-shifted)
            (0xe591_0004, false), // ldr r0, [r1, #4]
        ] {
            let Decoded::Simulate(kind) = decode(Insn(word)) else {
                panic!("{word:#010x} is not supported");
            };
            assert_eq!(
                Plan::new(kind, Insn(word)).is_planned(),
                planned,
                "{word:#010x}"
            );
        }
    }
}
