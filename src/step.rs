//! The single-step engine: makes a probed instruction behave exactly as if it had run in place.
//!
//! [`step`] decodes an instruction and [`simulate`]s it over a [`TrapFrame`] and a
//! [`Memory`] accessor: the condition is checked against the frame's flags (a failing
//! condition only advances the PC), PC operands read as the instruction's address + 8,
//! results, NZCV, Q and GE\[3:0\] are written as the ARMv7 ARM pseudo-code writes them, and a
//! write to PC interworks as ARMv7 does in ARM state (BXWritePC for loads, LDM, BX/BLX and
//! data-processing results; bit 0 set selects Thumb by setting CPSR.T).
//!
//! Everything here is pure Rust, so every class runs in host tests; the only effects outside
//! the frame go through [`Memory`] — loads, stores, barriers and the hints whose effect
//! reaches other CPUs (SEV) or the power state (WFE/WFI).
//!
//! Why simulation and not emulation in a slot: every supported class has integer pseudo-code
//! we can follow bit for bit, so simulating is exact and testable here, costs no executable
//! memory and no cache maintenance per probe, and works before any slot region exists. The
//! few things simulation cannot reproduce (atomicity of exclusives and SWP, banked state the
//! frame does not hold, coprocessors) are rejected by the decoder instead. On failure the
//! frame is left untouched (stores already performed by an STM stay, as a data abort would
//! leave them).
//!
//! [`emulation`] still offers the slot rewrite (registers renamed onto r0–r3, the slot
//! words, loading and storing the frame) for register-only classes, as an opt-in fallback;
//! host tests prove it equivalent to simulation on every conformance case, and `arch::emulate`
//! (ARM builds) runs the slot on the CPU, where the test kernel proves it equal to both
//! simulation and native execution.

use crate::decode::{Decoded, RejectReason, SimKind, decode};
use crate::frame::TrapFrame;
use crate::hex::Hex;
use crate::insn::Insn;
use core::fmt;

/// Which way a faulting access went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// A load.
    Read,
    /// A store.
    Write,
}

/// A memory access the [`Memory`] accessor could not perform.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemoryFault {
    /// The address of the access.
    pub address: u32,
    /// Load or store.
    pub access: Access,
}

/// A DMB/DSB/ISB the stepped instruction asked for, with its 4-bit option field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Barrier {
    /// Data memory barrier.
    Dmb(u8),
    /// Data synchronization barrier.
    Dsb(u8),
    /// Instruction synchronization barrier.
    Isb(u8),
}

/// A hint the stepped instruction asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hint {
    /// NOP.
    Nop,
    /// YIELD.
    Yield,
    /// WFE: wait for event.
    Wfe,
    /// WFI: wait for interrupt.
    Wfi,
    /// SEV: send event to all CPUs (a waiter in WFE depends on it).
    Sev,
}

/// Everything outside the register frame that a stepped instruction touches.
///
/// Addresses are passed exactly as the instruction computes them, including unaligned ones
/// for LDR/STR/LDRH/STRH (ARMv7 allows those with SCTLR.A == 0), so an implementation must
/// not dereference a Rust pointer of the access size (that is undefined behaviour when
/// unaligned). The one on target (`arch::memory::DirectMemory`) makes each access with the
/// load/store instruction of exactly the requested size, so device registers see what the
/// original instruction would have done and a bad address aborts (see
/// `Kprobes::fixup_fault`); an implementation returns a [`MemoryFault`] for an address it
/// will not touch. Values are little-endian; the engine byte-swaps for CPSR.E == 1.
pub trait Memory {
    /// Loads a byte.
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn read_u8(&mut self, address: u32) -> Result<u8, MemoryFault>;
    /// Loads a halfword.
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn read_u16(&mut self, address: u32) -> Result<u16, MemoryFault>;
    /// Loads a word.
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn read_u32(&mut self, address: u32) -> Result<u32, MemoryFault>;
    /// Stores a byte.
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn write_u8(&mut self, address: u32, value: u8) -> Result<(), MemoryFault>;
    /// Stores a halfword.
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn write_u16(&mut self, address: u32, value: u16) -> Result<(), MemoryFault>;
    /// Stores a word.
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn write_u32(&mut self, address: u32, value: u32) -> Result<(), MemoryFault>;
    /// Loads the two words of an LDRD (word-aligned `address`). The default is two word
    /// loads; a target implementation may use one 64-bit access to keep LPAE's single-copy
    /// atomicity for 8-byte aligned pairs.
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn read_pair(&mut self, address: u32) -> Result<[u32; 2], MemoryFault> {
        Ok([
            self.read_u32(address)?,
            self.read_u32(address.wrapping_add(4))?,
        ])
    }
    /// Stores the two words of an STRD; see [`Memory::read_pair`].
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn write_pair(&mut self, address: u32, value: [u32; 2]) -> Result<(), MemoryFault> {
        self.write_u32(address, value[0])?;
        self.write_u32(address.wrapping_add(4), value[1])
    }
    /// Performs a barrier (on target: executes it; on the host: records it).
    fn barrier(&mut self, barrier: Barrier);
    /// Performs a hint (on target at least SEV must really be executed, or a CPU waiting in
    /// WFE may sleep until its next interrupt).
    fn hint(&mut self, hint: Hint);
}

/// Why a step did not complete. The frame is unchanged whenever one is returned.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StepError {
    /// The decoder rejects the instruction.
    Rejected(RejectReason),
    /// The frame's CPSR.T is set: the engine steps A32 code only.
    ThumbState,
    /// A load or store faulted in the [`Memory`] accessor.
    Memory(MemoryFault),
    /// LDRD/STRD/LDM/STM at an address that is not word-aligned: natively an alignment fault.
    AlignmentFault {
        /// The address the instruction computed.
        address: u32,
    },
    /// A write to PC of an address with bits 1:0 == 0b10: UNPREDICTABLE in ARM state.
    UnpredictablePcWrite {
        /// The value written.
        target: u32,
    },
    /// LDR to PC from an address that is not word-aligned: UNPREDICTABLE.
    UnalignedPcLoad {
        /// The address the instruction computed.
        address: u32,
    },
}

impl fmt::Debug for MemoryFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryFault")
            .field("address", &Hex(self.address))
            .field("access", &self.access)
            .finish()
    }
}

impl fmt::Debug for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let address = |f: &mut fmt::Formatter<'_>, name: &str, field: &str, a: u32| {
            f.debug_struct(name).field(field, &Hex(a)).finish()
        };
        match *self {
            StepError::Rejected(r) => f.debug_tuple("Rejected").field(&r).finish(),
            StepError::ThumbState => f.write_str("ThumbState"),
            StepError::Memory(m) => f.debug_tuple("Memory").field(&m).finish(),
            StepError::AlignmentFault { address: a } => address(f, "AlignmentFault", "address", a),
            StepError::UnpredictablePcWrite { target } => {
                address(f, "UnpredictablePcWrite", "target", target)
            }
            StepError::UnalignedPcLoad { address: a } => {
                address(f, "UnalignedPcLoad", "address", a)
            }
        }
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Rejected(reason) => write!(f, "instruction rejected: {reason}"),
            StepError::ThumbState => {
                f.write_str("the frame is in Thumb state; only A32 is stepped")
            }
            StepError::Memory(fault) => write!(
                f,
                "memory {} fault at {:#010x}",
                match fault.access {
                    Access::Read => "read",
                    Access::Write => "write",
                },
                fault.address
            ),
            StepError::AlignmentFault { address } => {
                write!(
                    f,
                    "alignment fault: word access required at {address:#010x}"
                )
            }
            StepError::UnpredictablePcWrite { target } => {
                write!(
                    f,
                    "UNPREDICTABLE write of {target:#010x} to pc (bits 1:0 are 0b10)"
                )
            }
            StepError::UnalignedPcLoad { address } => {
                write!(f, "UNPREDICTABLE load to pc from unaligned {address:#010x}")
            }
        }
    }
}

impl From<MemoryFault> for StepError {
    fn from(fault: MemoryFault) -> StepError {
        StepError::Memory(fault)
    }
}

/// CPSR bits the engine reads or writes.
pub mod psr {
    /// Negative.
    pub const N: u32 = 1 << 31;
    /// Zero.
    pub const Z: u32 = 1 << 30;
    /// Carry.
    pub const C: u32 = 1 << 29;
    /// Overflow.
    pub const V: u32 = 1 << 28;
    /// Sticky saturation.
    pub const Q: u32 = 1 << 27;
    /// GE\[3:0\], bits 19:16.
    pub const GE: u32 = 0xf << 16;
    /// Big-endian data.
    pub const E: u32 = 1 << 9;
    /// Thumb state.
    pub const T: u32 = 1 << 5;
    /// The If-Then state, IT\[1:0\] (bits 26:25) and IT\[7:2\] (bits 15:10).
    pub const IT: u32 = 0x0600_fc00;
    /// What MRS returns of the CPSR in a privileged mode: the execution-state bits (IT, J,
    /// T) read as zero.
    pub const MRS_MASK: u32 = 0xf8ff_03df;
}

/// Single-steps the instruction `insn`, which sits at `addr`, over `frame` and `mem`, as if
/// it had run in place. On return `frame.pc` is where execution continues.
///
/// # Errors
///
/// [`StepError::Rejected`] when the decoder refuses `insn`, and every error of
/// [`simulate`]. The frame is unchanged then.
pub fn step(
    insn: Insn,
    addr: u32,
    frame: &mut TrapFrame,
    mem: &mut (impl Memory + ?Sized),
) -> Result<(), StepError> {
    match decode(insn) {
        Decoded::Rejected(reason) => Err(StepError::Rejected(reason)),
        Decoded::Simulate(kind) => simulate(kind, insn, addr, frame, mem),
    }
}

/// Runs `insn` (already decoded as `kind`) at `addr` over `frame` and `mem`. The kprobe path
/// decodes once at registration and calls this on every hit.
///
/// # Errors
///
/// [`StepError::ThumbState`] when CPSR.T is set, [`StepError::Memory`] when an access
/// faults, [`StepError::AlignmentFault`], [`StepError::UnpredictablePcWrite`] or
/// [`StepError::UnalignedPcLoad`] where the instruction would not run as defined in
/// place. The frame is unchanged then.
pub fn simulate(
    kind: SimKind,
    insn: Insn,
    addr: u32,
    frame: &mut TrapFrame,
    mem: &mut (impl Memory + ?Sized),
) -> Result<(), StepError> {
    if frame.cpsr & psr::T != 0 {
        return Err(StepError::ThumbState);
    }
    let mut cpu = Cpu {
        f: TrapFrame::default(),
        addr,
        pc_written: false,
    };
    copy_frame(&mut cpu.f, frame);
    if insn.cond().passes(frame.cpsr) {
        cpu.execute(kind, insn.word(), mem)?;
    }
    if !cpu.pc_written {
        cpu.f.pc = addr.wrapping_add(4);
    }
    copy_frame(frame, &cpu.f);
    Ok(())
}

/// `*dst = *src`, as a 64-byte copy of r0–r15 and a word for the CPSR: LLVM's ARM
/// backend expands a constant copy of up to 64 bytes inline (LDM/STM), but calls
/// `memcpy` for the 68-byte frame — two of those were a third of a probe hit.
#[inline(always)]
fn copy_frame(dst: &mut TrapFrame, src: &TrapFrame) {
    const REGS: usize = 16;
    const _: () = assert!(TrapFrame::OFFSET_CPSR == 4 * REGS);
    // SAFETY: TrapFrame is #[repr(C)] with only u32 fields: r[0..13], sp, lr, pc are
    // its first 16 words, contiguous and 4-byte aligned (asserted above: cpsr follows at
    // 64), so both pointers are valid, aligned views of [u32; 16] inside the two
    // frames, which are distinct objects (a &mut and a & cannot alias).
    unsafe {
        *(dst as *mut TrapFrame).cast::<[u32; REGS]>() =
            *(src as *const TrapFrame).cast::<[u32; REGS]>();
    }
    dst.cpsr = src.cpsr;
}

const fn field(w: u32, lsb: u32) -> usize {
    ((w >> lsb) & 0xf) as usize
}

const fn bit(w: u32, n: u32) -> bool {
    w & (1 << n) != 0
}

/// The shift kinds of A8.4.1.
#[derive(Clone, Copy)]
enum Shift {
    Lsl,
    Lsr,
    Asr,
    Ror,
    Rrx,
}

/// DecodeImmShift: the immediate-shift encoding (LSR/ASR #0 mean #32, ROR #0 means RRX).
fn decode_imm_shift(ty: u32, imm5: u32) -> (Shift, u32) {
    let n32 = if imm5 == 0 { 32 } else { imm5 };
    match ty & 3 {
        0 => (Shift::Lsl, imm5),
        1 => (Shift::Lsr, n32),
        2 => (Shift::Asr, n32),
        _ if imm5 == 0 => (Shift::Rrx, 1),
        _ => (Shift::Ror, imm5),
    }
}

/// DecodeRegShift: the register-shift encoding.
fn decode_reg_shift(ty: u32) -> Shift {
    match ty & 3 {
        0 => Shift::Lsl,
        1 => Shift::Lsr,
        2 => Shift::Asr,
        _ => Shift::Ror,
    }
}

/// Shift_C: the shifted value and the shifter carry-out.
fn shift_c(x: u32, shift: Shift, n: u32, carry: bool) -> (u32, bool) {
    if n == 0 {
        return (x, carry);
    }
    match shift {
        Shift::Lsl => match n {
            1..=31 => (x << n, (x >> (32 - n)) & 1 != 0),
            32 => (0, x & 1 != 0),
            _ => (0, false),
        },
        Shift::Lsr => match n {
            1..=31 => (x >> n, (x >> (n - 1)) & 1 != 0),
            32 => (0, x >> 31 != 0),
            _ => (0, false),
        },
        Shift::Asr => {
            if n < 32 {
                (((x as i32) >> n) as u32, (x >> (n - 1)) & 1 != 0)
            } else {
                (((x as i32) >> 31) as u32, x >> 31 != 0)
            }
        }
        Shift::Ror => {
            let r = x.rotate_right(n % 32);
            (r, r >> 31 != 0)
        }
        Shift::Rrx => ((carry as u32) << 31 | x >> 1, x & 1 != 0),
    }
}

/// AddWithCarry: result, carry-out, overflow.
fn add_with_carry(x: u32, y: u32, carry: bool) -> (u32, bool, bool) {
    let unsigned = u64::from(x) + u64::from(y) + u64::from(carry);
    let signed = i64::from(x as i32) + i64::from(y as i32) + i64::from(carry);
    let result = unsigned as u32;
    (
        result,
        unsigned >> 32 != 0,
        i64::from(result as i32) != signed,
    )
}

/// SignedSatQ: `x` clamped to `bits`-bit two's complement, and whether it was clamped.
fn signed_sat(x: i64, bits: u32) -> (i64, bool) {
    let max = (1i64 << (bits - 1)) - 1;
    let min = -(1i64 << (bits - 1));
    if x > max {
        (max, true)
    } else if x < min {
        (min, true)
    } else {
        (x, false)
    }
}

/// UnsignedSatQ: `x` clamped to `0..2^bits`, and whether it was clamped.
fn unsigned_sat(x: i64, bits: u32) -> (i64, bool) {
    let max = (1i64 << bits) - 1;
    if x > max {
        (max, true)
    } else if x < 0 {
        (0, true)
    } else {
        (x, false)
    }
}

const fn sext16(x: u32) -> i64 {
    x as u16 as i16 as i64
}

const fn sext8(x: u32) -> i64 {
    x as u8 as i8 as i64
}

/// The frame being changed, and the instruction's address for PC reads.
struct Cpu {
    f: TrapFrame,
    addr: u32,
    pc_written: bool,
}

impl Cpu {
    /// R[n] as an operand: PC reads as the instruction's address + 8.
    fn r(&self, n: usize) -> u32 {
        if n == 15 {
            self.addr.wrapping_add(8)
        } else {
            self.f.reg(n)
        }
    }

    /// A write to a general register other than PC.
    fn set(&mut self, n: usize, value: u32) {
        debug_assert!(n != 15, "PC writes go through the interworking helpers");
        self.f.set_reg(n, value);
    }

    fn flag(&self, mask: u32) -> bool {
        self.f.cpsr & mask != 0
    }

    fn set_flag(&mut self, mask: u32, on: bool) {
        if on {
            self.f.cpsr |= mask;
        } else {
            self.f.cpsr &= !mask;
        }
    }

    fn set_nz(&mut self, result: u32) {
        self.set_flag(psr::N, result >> 31 != 0);
        self.set_flag(psr::Z, result == 0);
    }

    fn set_nz64(&mut self, result: u64) {
        self.set_flag(psr::N, result >> 63 != 0);
        self.set_flag(psr::Z, result == 0);
    }

    fn set_q_if(&mut self, saturated: bool) {
        if saturated {
            self.f.cpsr |= psr::Q;
        }
    }

    fn big_endian(&self) -> bool {
        self.flag(psr::E)
    }

    /// BXWritePC (also ALUWritePC and LoadWritePC in ARMv7 ARM state).
    fn bx_write_pc(&mut self, target: u32) -> Result<(), StepError> {
        if target & 1 != 0 {
            self.f.cpsr |= psr::T;
            self.f.pc = target & !1;
        } else if target & 2 == 0 {
            self.f.pc = target;
        } else {
            return Err(StepError::UnpredictablePcWrite { target });
        }
        self.pc_written = true;
        Ok(())
    }

    /// BranchWritePC in ARM state.
    fn branch_write_pc(&mut self, target: u32) {
        self.f.pc = target & !3;
        self.pc_written = true;
    }

    /// A register write that may be PC (loads, data-processing): PC interworks.
    fn set_or_interwork(&mut self, n: usize, value: u32) -> Result<(), StepError> {
        if n == 15 {
            self.bx_write_pc(value)
        } else {
            self.set(n, value);
            Ok(())
        }
    }

    fn load32(&self, mem: &mut (impl Memory + ?Sized), a: u32) -> Result<u32, StepError> {
        let v = mem.read_u32(a)?;
        Ok(if self.big_endian() { v.swap_bytes() } else { v })
    }

    fn store32(&self, mem: &mut (impl Memory + ?Sized), a: u32, v: u32) -> Result<(), StepError> {
        let v = if self.big_endian() { v.swap_bytes() } else { v };
        Ok(mem.write_u32(a, v)?)
    }

    fn load16(&self, mem: &mut (impl Memory + ?Sized), a: u32) -> Result<u32, StepError> {
        let v = mem.read_u16(a)?;
        Ok(u32::from(if self.big_endian() {
            v.swap_bytes()
        } else {
            v
        }))
    }

    fn store16(&self, mem: &mut (impl Memory + ?Sized), a: u32, v: u32) -> Result<(), StepError> {
        let v = v as u16;
        let v = if self.big_endian() { v.swap_bytes() } else { v };
        Ok(mem.write_u16(a, v)?)
    }

    fn execute(
        &mut self,
        kind: SimKind,
        w: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        match kind {
            SimKind::DataProcessingImmediate => {
                let imm12 = w & 0xfff;
                let rotation = 2 * (imm12 >> 8);
                let value = (imm12 & 0xff).rotate_right(rotation);
                let carry = if rotation == 0 {
                    self.flag(psr::C)
                } else {
                    value >> 31 != 0
                };
                self.data_processing(w, value, carry)
            }
            SimKind::DataProcessingRegister => {
                let (shift, n) = decode_imm_shift(w >> 5, (w >> 7) & 0x1f);
                let (value, carry) = shift_c(self.r(field(w, 0)), shift, n, self.flag(psr::C));
                self.data_processing(w, value, carry)
            }
            SimKind::DataProcessingRegisterShifted => {
                let n = self.r(field(w, 8)) & 0xff;
                let shift = decode_reg_shift(w >> 5);
                let (value, carry) = shift_c(self.r(field(w, 0)), shift, n, self.flag(psr::C));
                self.data_processing(w, value, carry)
            }
            SimKind::MoveWide => {
                self.set(field(w, 12), (w >> 4) & 0xf000 | w & 0xfff);
                Ok(())
            }
            SimKind::MoveTop => {
                let d = field(w, 12);
                let imm16 = (w >> 4) & 0xf000 | w & 0xfff;
                self.set(d, imm16 << 16 | self.r(d) & 0xffff);
                Ok(())
            }
            SimKind::Multiply => {
                let mut result = self.r(field(w, 0)).wrapping_mul(self.r(field(w, 8)));
                if bit(w, 21) {
                    result = result.wrapping_add(self.r(field(w, 12)));
                }
                self.set(field(w, 16), result);
                if bit(w, 20) {
                    self.set_nz(result);
                }
                Ok(())
            }
            SimKind::MultiplySubtract => {
                let product = self.r(field(w, 0)).wrapping_mul(self.r(field(w, 8)));
                self.set(field(w, 16), self.r(field(w, 12)).wrapping_sub(product));
                Ok(())
            }
            SimKind::MultiplyLong => {
                let (n, m) = (self.r(field(w, 0)), self.r(field(w, 8)));
                let (hi, lo) = (field(w, 16), field(w, 12));
                let mut result = if bit(w, 22) {
                    (i64::from(n as i32) * i64::from(m as i32)) as u64
                } else {
                    u64::from(n) * u64::from(m)
                };
                if bit(w, 21) {
                    let acc = u64::from(self.r(hi)) << 32 | u64::from(self.r(lo));
                    result = result.wrapping_add(acc);
                }
                self.set(hi, (result >> 32) as u32);
                self.set(lo, result as u32);
                if bit(w, 20) {
                    self.set_nz64(result);
                }
                Ok(())
            }
            SimKind::MultiplyAccumulateAccumulateLong => {
                let (hi, lo) = (field(w, 16), field(w, 12));
                let result = u64::from(self.r(field(w, 0))) * u64::from(self.r(field(w, 8)))
                    + u64::from(self.r(hi))
                    + u64::from(self.r(lo));
                self.set(hi, (result >> 32) as u32);
                self.set(lo, result as u32);
                Ok(())
            }
            SimKind::HalfwordMultiply => {
                let n = self.r(field(w, 0));
                let m = self.r(field(w, 8));
                let op1 = sext16(if bit(w, 5) { n >> 16 } else { n });
                let op2 = sext16(if bit(w, 6) { m >> 16 } else { m });
                let product = op1 * op2;
                if (w >> 21) & 3 == 0b11 {
                    self.set(field(w, 16), product as u32);
                } else {
                    let result = product + i64::from(self.r(field(w, 12)) as i32);
                    self.set(field(w, 16), result as u32);
                    self.set_q_if(result != i64::from(result as i32));
                }
                Ok(())
            }
            SimKind::WordHalfwordMultiply => {
                let m = self.r(field(w, 8));
                let op2 = sext16(if bit(w, 6) { m >> 16 } else { m });
                let product = i64::from(self.r(field(w, 0)) as i32) * op2;
                if bit(w, 5) {
                    self.set(field(w, 16), (product >> 16) as u32);
                } else {
                    let result = product + (i64::from(self.r(field(w, 12)) as i32) << 16);
                    let d = (result >> 16) as u32;
                    self.set(field(w, 16), d);
                    self.set_q_if(result >> 16 != i64::from(d as i32));
                }
                Ok(())
            }
            SimKind::HalfwordMultiplyLong => {
                let n = self.r(field(w, 0));
                let m = self.r(field(w, 8));
                let op1 = sext16(if bit(w, 5) { n >> 16 } else { n });
                let op2 = sext16(if bit(w, 6) { m >> 16 } else { m });
                let (hi, lo) = (field(w, 16), field(w, 12));
                let acc = (u64::from(self.r(hi)) << 32 | u64::from(self.r(lo))) as i64;
                let result = acc.wrapping_add(op1 * op2) as u64;
                self.set(hi, (result >> 32) as u32);
                self.set(lo, result as u32);
                Ok(())
            }
            SimKind::DualMultiply => {
                let (p1, p2) = self.dual_products(w);
                let mut result = if bit(w, 6) { p1 - p2 } else { p1 + p2 };
                let a = field(w, 12);
                if a != 15 {
                    result += i64::from(self.r(a) as i32);
                }
                self.set(field(w, 16), result as u32);
                self.set_q_if(result != i64::from(result as i32));
                Ok(())
            }
            SimKind::DualMultiplyLong => {
                let (p1, p2) = self.dual_products(w);
                let (hi, lo) = (field(w, 16), field(w, 12));
                let acc = (u64::from(self.r(hi)) << 32 | u64::from(self.r(lo))) as i64;
                let sum = if bit(w, 6) { p1 - p2 } else { p1 + p2 };
                let result = acc.wrapping_add(sum) as u64;
                self.set(hi, (result >> 32) as u32);
                self.set(lo, result as u32);
                Ok(())
            }
            SimKind::MostSignificantMultiply => {
                let product =
                    i64::from(self.r(field(w, 0)) as i32) * i64::from(self.r(field(w, 8)) as i32);
                let a = field(w, 12);
                let acc = if a == 15 {
                    0
                } else {
                    i64::from(self.r(a) as i32) << 32
                };
                let mut result = if bit(w, 6) {
                    acc.wrapping_sub(product)
                } else {
                    acc.wrapping_add(product)
                };
                if bit(w, 5) {
                    result = result.wrapping_add(0x8000_0000);
                }
                self.set(field(w, 16), (result >> 32) as u32);
                Ok(())
            }
            SimKind::Divide => {
                let n = self.r(field(w, 0));
                let m = self.r(field(w, 8));
                // ARMv7-A has no divide-by-zero trap: the quotient is zero.
                let q = if m == 0 {
                    0
                } else if bit(w, 21) {
                    n / m
                } else {
                    (n as i32).wrapping_div(m as i32) as u32
                };
                self.set(field(w, 16), q);
                Ok(())
            }
            SimKind::SaturatingAddSubtract => {
                let n = i64::from(self.r(field(w, 16)) as i32);
                let m = i64::from(self.r(field(w, 0)) as i32);
                let (operand, doubled_sat) = if bit(w, 22) {
                    signed_sat(2 * n, 32)
                } else {
                    (n, false)
                };
                let (result, sat) = if bit(w, 21) {
                    signed_sat(m - operand, 32)
                } else {
                    signed_sat(m + operand, 32)
                };
                self.set(field(w, 12), result as u32);
                self.set_q_if(sat || doubled_sat);
                Ok(())
            }
            SimKind::ParallelAddSubtract => {
                self.parallel(w);
                Ok(())
            }
            SimKind::Saturate => {
                let (shift, n) = if bit(w, 6) {
                    decode_imm_shift(2, (w >> 7) & 0x1f)
                } else {
                    decode_imm_shift(0, (w >> 7) & 0x1f)
                };
                let (operand, _) = shift_c(self.r(field(w, 0)), shift, n, self.flag(psr::C));
                let sat_imm = (w >> 16) & 0x1f;
                let (result, sat) = if bit(w, 22) {
                    unsigned_sat(i64::from(operand as i32), sat_imm)
                } else {
                    signed_sat(i64::from(operand as i32), sat_imm + 1)
                };
                self.set(field(w, 12), result as u32);
                self.set_q_if(sat);
                Ok(())
            }
            SimKind::Saturate16 => {
                let n = self.r(field(w, 0));
                let sat_imm = (w >> 16) & 0xf;
                let sat = |half: u32| {
                    if bit(w, 22) {
                        unsigned_sat(sext16(half), sat_imm)
                    } else {
                        signed_sat(sext16(half), sat_imm + 1)
                    }
                };
                let (lo, sat_lo) = sat(n);
                let (hi, sat_hi) = sat(n >> 16);
                self.set(field(w, 12), (hi as u32) << 16 | (lo as u32) & 0xffff);
                self.set_q_if(sat_lo || sat_hi);
                Ok(())
            }
            SimKind::Extend => {
                let rotated = self.r(field(w, 0)).rotate_right(8 * ((w >> 10) & 3));
                let signed = !bit(w, 22);
                let ext8 = |x: u32| if signed { sext8(x) as u32 } else { x & 0xff };
                let n = field(w, 16);
                let base = if n == 15 { 0 } else { self.r(n) };
                let result = match (w >> 20) & 3 {
                    0b00 => {
                        let lo = base.wrapping_add(ext8(rotated)) & 0xffff;
                        let hi = (base >> 16).wrapping_add(ext8(rotated >> 16)) & 0xffff;
                        hi << 16 | lo
                    }
                    0b10 => base.wrapping_add(ext8(rotated)),
                    _ => {
                        let half = if signed {
                            sext16(rotated) as u32
                        } else {
                            rotated & 0xffff
                        };
                        base.wrapping_add(half)
                    }
                };
                self.set(field(w, 12), result);
                Ok(())
            }
            SimKind::PackHalfword => {
                let tb = bit(w, 6);
                let (shift, amount) = decode_imm_shift(if tb { 2 } else { 0 }, (w >> 7) & 0x1f);
                let (operand, _) = shift_c(self.r(field(w, 0)), shift, amount, self.flag(psr::C));
                let n = self.r(field(w, 16));
                let result = if tb {
                    n & 0xffff_0000 | operand & 0xffff
                } else {
                    operand & 0xffff_0000 | n & 0xffff
                };
                self.set(field(w, 12), result);
                Ok(())
            }
            SimKind::SelectBytes => {
                let (n, m) = (self.r(field(w, 16)), self.r(field(w, 0)));
                let mut mask = 0;
                for i in 0..4 {
                    if self.f.cpsr & (1 << (16 + i)) != 0 {
                        mask |= 0xff << (8 * i);
                    }
                }
                self.set(field(w, 12), n & mask | m & !mask);
                Ok(())
            }
            SimKind::Reverse => {
                let m = self.r(field(w, 0));
                let result = match (bit(w, 22), bit(w, 7)) {
                    (false, false) => m.swap_bytes(),
                    (false, true) => (m & 0x00ff_00ff) << 8 | (m >> 8) & 0x00ff_00ff,
                    (true, false) => m.reverse_bits(),
                    (true, true) => (((m & 0xff) << 8 | (m >> 8) & 0xff) as u16 as i16) as u32,
                };
                self.set(field(w, 12), result);
                Ok(())
            }
            SimKind::SumAbsoluteDifferences => {
                let (n, m) = (self.r(field(w, 0)), self.r(field(w, 8)));
                let a = field(w, 12);
                let mut sum = if a == 15 { 0 } else { self.r(a) };
                for i in 0..4 {
                    let x = (n >> (8 * i)) & 0xff;
                    let y = (m >> (8 * i)) & 0xff;
                    sum = sum.wrapping_add(x.abs_diff(y));
                }
                self.set(field(w, 16), sum);
                Ok(())
            }
            SimKind::BitFieldExtract => {
                let lsb = (w >> 7) & 0x1f;
                let width = ((w >> 16) & 0x1f) + 1;
                let n = self.r(field(w, 0));
                let result = if bit(w, 22) {
                    (n >> lsb) & (u32::MAX >> (32 - width))
                } else {
                    (((n << (32 - lsb - width)) as i32) >> (32 - width)) as u32
                };
                self.set(field(w, 12), result);
                Ok(())
            }
            SimKind::BitFieldInsert => {
                let lsb = (w >> 7) & 0x1f;
                let msb = (w >> 16) & 0x1f;
                let mask = (u32::MAX >> (31 - msb)) & (u32::MAX << lsb);
                let n = field(w, 0);
                let src = if n == 15 { 0 } else { self.r(n) << lsb };
                let d = field(w, 12);
                self.set(d, self.r(d) & !mask | src & mask);
                Ok(())
            }
            SimKind::CountLeadingZeros => {
                self.set(field(w, 12), self.r(field(w, 0)).leading_zeros());
                Ok(())
            }
            SimKind::LoadStoreImmediate => self.load_store_word_byte(w, w & 0xfff, mem),
            SimKind::LoadStoreRegister => {
                let (shift, n) = decode_imm_shift(w >> 5, (w >> 7) & 0x1f);
                let (offset, _) = shift_c(self.r(field(w, 0)), shift, n, self.flag(psr::C));
                self.load_store_word_byte(w, offset, mem)
            }
            SimKind::LoadStoreHalfImmediate => {
                self.load_store_half(w, (w >> 4) & 0xf0 | w & 0xf, mem)
            }
            SimKind::LoadStoreHalfRegister => self.load_store_half(w, self.r(field(w, 0)), mem),
            SimKind::LoadStoreDualImmediate => {
                self.load_store_dual(w, (w >> 4) & 0xf0 | w & 0xf, mem)
            }
            SimKind::LoadStoreDualRegister => self.load_store_dual(w, self.r(field(w, 0)), mem),
            SimKind::LoadStoreMultiple => self.load_store_multiple(w, mem),
            SimKind::Branch => {
                let offset = ((w << 8) as i32 >> 6) as u32;
                if bit(w, 24) {
                    self.set(14, self.addr.wrapping_add(4));
                }
                self.branch_write_pc(self.r(15).wrapping_add(offset));
                Ok(())
            }
            SimKind::BranchLinkExchangeImmediate => {
                let offset = ((w << 8) as i32 >> 6) as u32 | (w >> 23) & 2;
                self.set(14, self.addr.wrapping_add(4));
                self.f.cpsr |= psr::T;
                self.f.pc = self.r(15).wrapping_add(offset);
                self.pc_written = true;
                Ok(())
            }
            SimKind::BranchExchange => self.bx_write_pc(self.r(field(w, 0))),
            SimKind::BranchLinkExchangeRegister => {
                let target = self.r(field(w, 0));
                self.bx_write_pc(target)?;
                self.set(14, self.addr.wrapping_add(4));
                Ok(())
            }
            SimKind::ReadStatus => {
                self.set(field(w, 12), self.f.cpsr & psr::MRS_MASK);
                Ok(())
            }
            SimKind::Hint => {
                mem.hint(match w & 0xff {
                    1 => Hint::Yield,
                    2 => Hint::Wfe,
                    3 => Hint::Wfi,
                    4 => Hint::Sev,
                    _ => Hint::Nop,
                });
                Ok(())
            }
            SimKind::Preload => Ok(()),
            SimKind::Barrier => {
                let option = (w & 0xf) as u8;
                mem.barrier(match (w >> 4) & 0xf {
                    0b0100 => Barrier::Dsb(option),
                    0b0101 => Barrier::Dmb(option),
                    _ => Barrier::Isb(option),
                });
                Ok(())
            }
        }
    }

    /// AND…MVN (A8.8 data-processing pseudo-code) given the shifter operand and carry.
    fn data_processing(&mut self, w: u32, op2: u32, shifter_carry: bool) -> Result<(), StepError> {
        let opcode = (w >> 21) & 0xf;
        let n = self.r(field(w, 16));
        let c = self.flag(psr::C);
        let logical = |r: u32| (r, shifter_carry, None);
        let arith = |(r, c, v): (u32, bool, bool)| (r, c, Some(v));
        let (result, carry, overflow) = match opcode {
            0x0 | 0x8 => logical(n & op2),
            0x1 | 0x9 => logical(n ^ op2),
            0x2 | 0xa => arith(add_with_carry(n, !op2, true)),
            0x3 => arith(add_with_carry(!n, op2, true)),
            0x4 | 0xb => arith(add_with_carry(n, op2, false)),
            0x5 => arith(add_with_carry(n, op2, c)),
            0x6 => arith(add_with_carry(n, !op2, c)),
            0x7 => arith(add_with_carry(!n, op2, c)),
            0xc => logical(n | op2),
            0xd => logical(op2),
            0xe => logical(n & !op2),
            _ => logical(!op2),
        };
        if bit(w, 20) {
            self.set_nz(result);
            self.set_flag(psr::C, carry);
            if let Some(v) = overflow {
                self.set_flag(psr::V, v);
            }
        }
        if (0x8..=0xb).contains(&opcode) {
            Ok(())
        } else {
            self.set_or_interwork(field(w, 12), result)
        }
    }

    /// The two 16 × 16 products of SMLAD/SMLSD/SMLALD/SMLSLD (M, bit 5, swaps Rm's halves).
    fn dual_products(&self, w: u32) -> (i64, i64) {
        let n = self.r(field(w, 0));
        let m = self.r(field(w, 8));
        let m = if bit(w, 5) { m.rotate_right(16) } else { m };
        (sext16(n) * sext16(m), sext16(n >> 16) * sext16(m >> 16))
    }

    /// The 36 parallel add/subtract instructions: U (22), prefix (21:20), operation (7:5).
    fn parallel(&mut self, w: u32) {
        let unsigned = bit(w, 22);
        let prefix = (w >> 20) & 3;
        let op = (w >> 5) & 7;
        let n = self.r(field(w, 16));
        let m = self.r(field(w, 0));
        let bytes = op == 0b100 || op == 0b111;
        let width = if bytes { 8 } else { 16 };
        let lanes = 32 / width;
        let lane = |x: u32, i: u32| -> i64 {
            let v = (x >> (width * i)) & ((1 << width) - 1);
            match (unsigned, bytes) {
                (true, _) => i64::from(v),
                (false, true) => sext8(v),
                (false, false) => sext16(v),
            }
        };
        let mut result = 0u32;
        let mut ge = 0u32;
        for i in 0..lanes {
            // (sum or difference, whether it is a sum) for lane i.
            let (v, add) = match op {
                0b000 | 0b100 => (lane(n, i) + lane(m, i), true),
                0b011 | 0b111 => (lane(n, i) - lane(m, i), false),
                // ASX: low lane n.lo - m.hi, high lane n.hi + m.lo.
                0b001 if i == 0 => (lane(n, 0) - lane(m, 1), false),
                0b001 => (lane(n, 1) + lane(m, 0), true),
                // SAX: low lane n.lo + m.hi, high lane n.hi - m.lo.
                0b010 if i == 0 => (lane(n, 0) + lane(m, 1), true),
                _ => (lane(n, 1) - lane(m, 0), false),
            };
            let out = match prefix {
                0b01 => {
                    let ge_set = if unsigned && add {
                        v >= 1 << width
                    } else {
                        v >= 0
                    };
                    if ge_set {
                        let per_lane = if bytes { 1 } else { 3 };
                        ge |= per_lane << (i * (width / 8));
                    }
                    v
                }
                0b10 if unsigned => unsigned_sat(v, width).0,
                0b10 => signed_sat(v, width).0,
                _ => v >> 1,
            };
            result |= ((out as u32) & ((1 << width) - 1)) << (width * i);
        }
        self.set(field(w, 12), result);
        if prefix == 0b01 {
            self.f.cpsr = self.f.cpsr & !psr::GE | ge << 16;
        }
    }

    /// Offset addressing shared by single and dual transfers: (address, writeback address).
    fn address(&self, w: u32, offset: u32) -> (u32, Option<u32>) {
        let base = self.r(field(w, 16));
        let offset_addr = if bit(w, 23) {
            base.wrapping_add(offset)
        } else {
            base.wrapping_sub(offset)
        };
        let pre = bit(w, 24);
        let address = if pre { offset_addr } else { base };
        let wback = !pre || bit(w, 21);
        (address, wback.then_some(offset_addr))
    }

    fn writeback(&mut self, w: u32, wback: Option<u32>) {
        if let Some(a) = wback {
            self.set(field(w, 16), a);
        }
    }

    /// LDR/LDRB/STR/STRB (A5.3): B (22), L (20).
    fn load_store_word_byte(
        &mut self,
        w: u32,
        offset: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let (address, wback) = self.address(w, offset);
        let t = field(w, 12);
        let byte = bit(w, 22);
        if bit(w, 20) {
            let data = if byte {
                u32::from(mem.read_u8(address)?)
            } else {
                self.load32(mem, address)?
            };
            if t == 15 && address & 3 != 0 {
                return Err(StepError::UnalignedPcLoad { address });
            }
            self.writeback(w, wback);
            self.set_or_interwork(t, data)
        } else {
            let data = self.r(t);
            if byte {
                mem.write_u8(address, data as u8)?;
            } else {
                self.store32(mem, address, data)?;
            }
            self.writeback(w, wback);
            Ok(())
        }
    }

    /// STRH/LDRH/LDRSB/LDRSH (A5.2.8): op2 (6:5), L (20).
    fn load_store_half(
        &mut self,
        w: u32,
        offset: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let (address, wback) = self.address(w, offset);
        let t = field(w, 12);
        if bit(w, 20) {
            let data = match (w >> 5) & 3 {
                0b01 => self.load16(mem, address)?,
                0b10 => sext8(u32::from(mem.read_u8(address)?)) as u32,
                _ => sext16(self.load16(mem, address)?) as u32,
            };
            self.writeback(w, wback);
            self.set(t, data);
        } else {
            self.store16(mem, address, self.r(t))?;
            self.writeback(w, wback);
        }
        Ok(())
    }

    /// LDRD/STRD (A5.2.8): bit 5 set is STRD.
    fn load_store_dual(
        &mut self,
        w: u32,
        offset: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let (address, wback) = self.address(w, offset);
        if address & 3 != 0 {
            return Err(StepError::AlignmentFault { address });
        }
        let t = field(w, 12);
        let swap = |v: u32, be: bool| if be { v.swap_bytes() } else { v };
        let be = self.big_endian();
        if bit(w, 5) {
            let pair = [swap(self.r(t), be), swap(self.r(t + 1), be)];
            mem.write_pair(address, pair)?;
            self.writeback(w, wback);
        } else {
            let [a, b] = mem.read_pair(address)?;
            self.writeback(w, wback);
            self.set(t, swap(a, be));
            self.set(t + 1, swap(b, be));
        }
        Ok(())
    }

    /// LDM/STM (A5.5): P (24), U (23), W (21), L (20), register list (15:0).
    fn load_store_multiple(
        &mut self,
        w: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let n = field(w, 16);
        let list = w & 0xffff;
        let bytes = 4 * list.count_ones();
        let base = self.r(n);
        let start = match (bit(w, 24), bit(w, 23)) {
            (false, true) => base,
            (true, true) => base.wrapping_add(4),
            (false, false) => base.wrapping_sub(bytes).wrapping_add(4),
            (true, false) => base.wrapping_sub(bytes),
        };
        if start & 3 != 0 {
            return Err(StepError::AlignmentFault { address: start });
        }
        let wback = if bit(w, 23) {
            base.wrapping_add(bytes)
        } else {
            base.wrapping_sub(bytes)
        };
        let regs = (0..16usize).filter(|i| list & (1 << i) != 0);
        if bit(w, 20) {
            let mut loaded = [0u32; 16];
            let mut a = start;
            for i in regs {
                loaded[i] = self.load32(mem, a)?;
                a = a.wrapping_add(4);
            }
            for i in (0..15usize).filter(|i| list & (1 << i) != 0) {
                self.set(i, loaded[i]);
            }
            if bit(w, 21) {
                self.set(n, wback);
            }
            if list & (1 << 15) != 0 {
                self.bx_write_pc(loaded[15])?;
            }
        } else {
            let mut a = start;
            for i in regs {
                self.store32(mem, a, self.r(i))?;
                a = a.wrapping_add(4);
            }
            if bit(w, 21) {
                self.set(n, wback);
            }
        }
        Ok(())
    }
}

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
const APSR_BITS: u32 = psr::N | psr::Z | psr::C | psr::V | psr::Q | psr::GE;

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

#[cfg(all(test, not(loom)))] // capstone/proptest: not in the loom build
mod tests {
    use super::*;
    use crate::decode::RejectReason;
    use std::vec::Vec;

    const ADDR: u32 = 0x8000;
    const RAM: u32 = 0x1000;
    /// SVC mode, IRQ and FIQ masked, flags clear.
    const SVC: u32 = 0x1d3;

    /// 256 bytes of little-endian memory at `RAM`, recording barriers and hints.
    struct Ram {
        bytes: [u8; 256],
        barriers: Vec<Barrier>,
        hints: Vec<Hint>,
    }

    impl Ram {
        fn new() -> Ram {
            let mut bytes = [0; 256];
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = i as u8;
            }
            Ram {
                bytes,
                barriers: Vec::new(),
                hints: Vec::new(),
            }
        }

        fn index(&self, address: u32, len: u32, access: Access) -> Result<usize, MemoryFault> {
            let off = address.wrapping_sub(RAM);
            if off.checked_add(len).is_some_and(|end| end <= 256) {
                Ok(off as usize)
            } else {
                Err(MemoryFault { address, access })
            }
        }

        fn word(&self, address: u32) -> u32 {
            let i = (address - RAM) as usize;
            u32::from_le_bytes(self.bytes[i..i + 4].try_into().unwrap())
        }

        fn put(&mut self, address: u32, value: u32) {
            let i = (address - RAM) as usize;
            self.bytes[i..i + 4].copy_from_slice(&value.to_le_bytes());
        }
    }

    impl Memory for Ram {
        fn read_u8(&mut self, address: u32) -> Result<u8, MemoryFault> {
            Ok(self.bytes[self.index(address, 1, Access::Read)?])
        }
        fn read_u16(&mut self, address: u32) -> Result<u16, MemoryFault> {
            let i = self.index(address, 2, Access::Read)?;
            Ok(u16::from_le_bytes([self.bytes[i], self.bytes[i + 1]]))
        }
        fn read_u32(&mut self, address: u32) -> Result<u32, MemoryFault> {
            self.index(address, 4, Access::Read)?;
            Ok(self.word(address))
        }
        fn write_u8(&mut self, address: u32, value: u8) -> Result<(), MemoryFault> {
            let i = self.index(address, 1, Access::Write)?;
            self.bytes[i] = value;
            Ok(())
        }
        fn write_u16(&mut self, address: u32, value: u16) -> Result<(), MemoryFault> {
            let i = self.index(address, 2, Access::Write)?;
            self.bytes[i..i + 2].copy_from_slice(&value.to_le_bytes());
            Ok(())
        }
        fn write_u32(&mut self, address: u32, value: u32) -> Result<(), MemoryFault> {
            self.index(address, 4, Access::Write)?;
            self.put(address, value);
            Ok(())
        }
        fn barrier(&mut self, barrier: Barrier) {
            self.barriers.push(barrier);
        }
        fn hint(&mut self, hint: Hint) {
            self.hints.push(hint);
        }
    }

    fn frame(regs: &[(usize, u32)], cpsr: u32) -> TrapFrame {
        let mut f = TrapFrame {
            pc: ADDR,
            cpsr,
            ..TrapFrame::default()
        };
        for &(n, v) in regs {
            f.set_reg(n, v);
        }
        f
    }

    /// Steps `word` at `ADDR`; panics on an error.
    fn run(word: u32, regs: &[(usize, u32)], cpsr: u32) -> TrapFrame {
        let mut f = frame(regs, cpsr);
        step(Insn(word), ADDR, &mut f, &mut Ram::new()).unwrap();
        f
    }

    fn flags(n: bool, z: bool, c: bool, v: bool) -> u32 {
        (n as u32) << 31 | (z as u32) << 30 | (c as u32) << 29 | (v as u32) << 28
    }

    #[test]
    fn adds_sets_negative_and_overflow_on_signed_wrap() {
        let f = run(0xe091_0002, &[(1, 0x7fff_ffff), (2, 1)], SVC); // adds r0, r1, r2
        assert_eq!(f.r[0], 0x8000_0000);
        assert_eq!(f.cpsr, SVC | flags(true, false, false, true));
        assert_eq!(f.pc, ADDR + 4);
    }

    #[test]
    fn subs_of_equal_operands_sets_zero_and_carry() {
        let f = run(0xe051_0002, &[(1, 5), (2, 5)], SVC); // subs r0, r1, r2
        assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
    }

    #[test]
    fn carry_using_arithmetic_reads_the_carry_flag() {
        let f = run(0xe0c1_0002, &[(1, 10), (2, 3)], SVC); // sbc r0, r1, r2, C = 0
        assert_eq!(f.r[0], 6);
        let f = run(0xe0e1_0002, &[(1, 10), (2, 3)], SVC | psr::C); // rsc r0, r1, r2
        assert_eq!(f.r[0], (-7i32) as u32);
        let f = run(0xe0a1_0002, &[(1, 10), (2, 3)], SVC | psr::C); // adc r0, r1, r2
        assert_eq!(f.r[0], 14);
        assert_eq!(f.cpsr, SVC | psr::C, "no S bit: flags unchanged");
    }

    #[test]
    fn immediate_shifts_follow_decode_imm_shift() {
        // movs r0, r1, lsl #1: carry out is bit 31; V is left alone.
        let f = run(0xe1b0_0081, &[(1, 0x8000_0001)], SVC | psr::V);
        assert_eq!((f.r[0], f.cpsr), (2, SVC | flags(false, false, true, true)));
        // lsr #0 encodes lsr #32.
        let f = run(0xe1b0_0021, &[(1, 0x8000_0000)], SVC);
        assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
        // asr #0 encodes asr #32.
        let f = run(0xe1b0_0041, &[(1, 0x8000_0000)], SVC);
        assert_eq!(
            (f.r[0], f.cpsr),
            (u32::MAX, SVC | flags(true, false, true, false))
        );
        // ror #0 encodes rrx.
        let f = run(0xe1b0_0061, &[(1, 1)], SVC | psr::C);
        assert_eq!(
            (f.r[0], f.cpsr),
            (0x8000_0000, SVC | flags(true, false, true, false))
        );
    }

    #[test]
    fn register_shifts_use_the_bottom_byte_of_rs() {
        let lsl = 0xe1b0_0211; // movs r0, r1, lsl r2
        let f = run(lsl, &[(1, 3), (2, 32)], SVC);
        assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
        let f = run(lsl, &[(1, 3), (2, 33)], SVC | psr::C);
        assert_eq!(
            (f.r[0], f.cpsr),
            (0, SVC | flags(false, true, false, false))
        );
        let f = run(lsl, &[(1, 3), (2, 0x100)], SVC | psr::C);
        assert_eq!((f.r[0], f.cpsr), (3, SVC | psr::C), "shift by 0 keeps C");
        let f = run(0xe1b0_0271, &[(1, 0x8000_0000), (2, 32)], SVC); // ror r2 == 32
        assert_eq!(
            (f.r[0], f.cpsr),
            (0x8000_0000, SVC | flags(true, false, true, false))
        );
        let f = run(0xe1b0_0251, &[(1, 0x8000_0000), (2, 40)], SVC); // asr by 40
        assert_eq!(
            (f.r[0], f.cpsr),
            (u32::MAX, SVC | flags(true, false, true, false))
        );
    }

    #[test]
    fn rotated_immediates_set_carry_only_when_rotated() {
        let f = run(0xe3b0_0102, &[], SVC); // movs r0, #0x80000000
        assert_eq!(
            (f.r[0], f.cpsr),
            (0x8000_0000, SVC | flags(true, false, true, false))
        );
        let f = run(0xe211_00ff, &[(1, 0x100)], SVC | psr::C); // ands r0, r1, #0xff
        assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
        let f = run(0xe351_0005, &[(1, 3)], SVC); // cmp r1, #5
        assert_eq!(f.cpsr, SVC | flags(true, false, false, false));
        assert_eq!(f.r[0], 0, "compare writes no register");
    }

    #[test]
    fn alu_write_to_pc_interworks() {
        let f = run(0xe1a0_f00e, &[(14, 0x2001)], SVC); // mov pc, lr
        assert_eq!((f.pc, f.cpsr), (0x2000, SVC | psr::T));
        let f = run(0xe1a0_f00e, &[(14, 0x2000)], SVC);
        assert_eq!((f.pc, f.cpsr), (0x2000, SVC));
        let mut f = frame(&[(14, 0x2002)], SVC);
        let before = f;
        let err = step(Insn(0xe1a0_f00e), ADDR, &mut f, &mut Ram::new());
        assert_eq!(err, Err(StepError::UnpredictablePcWrite { target: 0x2002 }));
        assert_eq!(f, before, "a failed step leaves the frame alone");
    }

    #[test]
    fn pc_operand_reads_address_plus_eight() {
        let f = run(0xe08f_f100, &[(0, 1)], SVC); // add pc, pc, r0, lsl #2
        assert_eq!(f.pc, ADDR + 12);
        let f = run(0xe28f_0008, &[], SVC); // adr r0, . + 16
        assert_eq!(f.r[0], ADDR + 16);
    }

    #[test]
    fn failing_condition_only_advances_pc() {
        let f = run(0x03a0_0001, &[(0, 7)], SVC); // moveq r0, #1 with Z clear
        assert_eq!((f.r[0], f.pc, f.cpsr), (7, ADDR + 4, SVC));
        let f = run(0x03a0_0001, &[(0, 7)], SVC | psr::Z);
        assert_eq!(f.r[0], 1);
        let f = run(0x1a00_0010, &[(14, 9)], SVC | psr::Z); // bne not taken
        assert_eq!((f.pc, f.lr), (ADDR + 4, 9));
    }

    #[test]
    fn movw_and_movt_build_a_constant() {
        let f = run(0xe301_0234, &[(0, 0xffff_ffff)], SVC);
        assert_eq!(f.r[0], 0x1234);
        let f = run(0xe34a_0bcd, &[(0, 0x1234)], SVC);
        assert_eq!(f.r[0], 0xabcd_1234);
    }

    #[test]
    fn multiplies_and_long_multiplies() {
        let f = run(0xe010_0291, &[(1, 0x1_0000), (2, 0x1_0000)], SVC | psr::C); // muls r0, r1, r2
        assert_eq!((f.r[0], f.cpsr), (0, SVC | flags(false, true, true, false)));
        let f = run(0xe020_3291, &[(1, 3), (2, 4), (3, 5)], SVC); // mla
        assert_eq!(f.r[0], 17);
        let f = run(0xe060_3291, &[(1, 3), (2, 4), (3, 5)], SVC); // mls
        assert_eq!(f.r[0], (-7i32) as u32);
        let f = run(0xe081_0392, &[(2, u32::MAX), (3, u32::MAX)], SVC); // umull r0, r1, r2, r3
        assert_eq!((f.r[0], f.r[1]), (1, 0xffff_fffe));
        let f = run(0xe0c1_0392, &[(2, u32::MAX), (3, u32::MAX)], SVC); // smull
        assert_eq!((f.r[0], f.r[1]), (1, 0));
        let f = run(0xe0f1_0392, &[(2, (-2i32) as u32), (3, 3)], SVC); // smlals from 0
        assert_eq!((f.r[0], f.r[1]), (0xffff_fffa, u32::MAX));
        assert_eq!(f.cpsr, SVC | psr::N);
        let f = run(0xe0a1_0392, &[(0, u32::MAX), (1, 1), (2, 1), (3, 1)], SVC); // umlal
        assert_eq!((f.r[0], f.r[1]), (0, 2));
        let all = u32::MAX;
        let f = run(0xe041_0392, &[(0, all), (1, all), (2, all), (3, all)], SVC); // umaal
        assert_eq!((f.r[0], f.r[1]), (all, all));
    }

    #[test]
    fn halfword_multiplies_set_q_on_accumulate_overflow() {
        // smlabb r0, r1, r2, r3: 0x8000 * 0x8000 + 2^30 == 2^31 overflows.
        let f = run(
            0xe100_3281,
            &[(1, 0x8000), (2, 0x8000), (3, 0x4000_0000)],
            SVC,
        );
        assert_eq!((f.r[0], f.cpsr), (0x8000_0000, SVC | psr::Q));
        let f = run(0xe160_02e1, &[(1, 0xffff_0000), (2, 0x0005_0000)], SVC); // smultt
        assert_eq!((f.r[0], f.cpsr), ((-5i32) as u32, SVC));
        let f = run(0xe120_32c1, &[(1, 0x2_0000), (2, 0x3_0000), (3, 10)], SVC); // smlawt
        assert_eq!(f.r[0], 16);
        let f = run(0xe120_02a1, &[(1, 0xffff_0000), (2, 3)], SVC); // smulwb
        assert_eq!(f.r[0], (-3i32) as u32);
        let f = run(0xe141_0382, &[(0, 5), (1, 0), (2, 0xffff), (3, 2)], SVC); // smlalbb
        assert_eq!((f.r[0], f.r[1]), (3, 0));
        let f = run(0xe141_0382, &[(0, 1), (1, 0), (2, 0xffff), (3, 2)], SVC);
        assert_eq!((f.r[0], f.r[1]), (u32::MAX, u32::MAX));
    }

    #[test]
    fn dual_multiplies() {
        let f = run(0xe700_f211, &[(1, 0x8000_8000), (2, 0x8000_8000)], SVC); // smuad
        assert_eq!((f.r[0], f.cpsr), (0x8000_0000, SVC | psr::Q));
        let f = run(
            0xe700_3251,
            &[(1, 0x0003_0002), (2, 0x0005_0004), (3, 100)],
            SVC,
        ); // smlsd
        assert_eq!((f.r[0], f.cpsr), (93, SVC));
        let f = run(0xe700_f271, &[(1, 0x0003_0002), (2, 0x0005_0004)], SVC); // smusdx
        assert_eq!(f.r[0], (-2i32) as u32);
        let f = run(
            0xe741_0312,
            &[(0, u32::MAX), (1, 0), (2, 0x0002_0003), (3, 0x0004_0005)],
            SVC,
        ); // smlald
        assert_eq!((f.r[0], f.r[1]), (0x16, 1));
        let f = run(
            0xe741_0352,
            &[(0, 0), (1, 0), (2, 0x0002_0003), (3, 0x0004_0005)],
            SVC,
        ); // smlsld
        assert_eq!((f.r[0], f.r[1]), (7, 0));
    }

    #[test]
    fn most_significant_word_multiplies_round_when_asked() {
        let f = run(0xe750_f211, &[(1, 0x4000_0000), (2, 0x4000_0000)], SVC); // smmul
        assert_eq!(f.r[0], 0x1000_0000);
        let f = run(0xe750_f211, &[(1, 1), (2, 0x8000_0000)], SVC);
        assert_eq!(f.r[0], u32::MAX);
        let f = run(0xe750_f231, &[(1, 1), (2, 0x8000_0000)], SVC); // smmulr
        assert_eq!(f.r[0], 0);
        let f = run(
            0xe750_3211,
            &[(1, 0x4000_0000), (2, 0x4000_0000), (3, 5)],
            SVC,
        ); // smmla
        assert_eq!(f.r[0], 0x1000_0005);
        let f = run(
            0xe750_32d1,
            &[(1, 0x4000_0000), (2, 0x4000_0000), (3, 5)],
            SVC,
        ); // smmls
        assert_eq!(f.r[0], 0xf000_0005);
    }

    #[test]
    fn divides_round_toward_zero_and_divide_by_zero_gives_zero() {
        let sdiv = 0xe710_f211;
        assert_eq!(
            run(sdiv, &[(1, (-7i32) as u32), (2, 2)], SVC).r[0],
            (-3i32) as u32
        );
        assert_eq!(run(sdiv, &[(0, 9), (1, 7), (2, 0)], SVC).r[0], 0);
        assert_eq!(
            run(sdiv, &[(1, 0x8000_0000), (2, u32::MAX)], SVC).r[0],
            0x8000_0000
        );
        assert_eq!(
            run(0xe730_f211, &[(1, u32::MAX), (2, 2)], SVC).r[0],
            0x7fff_ffff
        );
    }

    #[test]
    fn saturating_add_subtract_sets_q() {
        let f = run(0xe102_0051, &[(1, 0x7fff_ffff), (2, 1)], SVC); // qadd r0, r1, r2
        assert_eq!((f.r[0], f.cpsr), (0x7fff_ffff, SVC | psr::Q));
        let f = run(0xe122_0051, &[(1, 0x8000_0000), (2, 1)], SVC); // qsub
        assert_eq!((f.r[0], f.cpsr), (0x8000_0000, SVC | psr::Q));
        let f = run(0xe142_0051, &[(1, u32::MAX), (2, 0x4000_0000)], SVC); // qdadd
        assert_eq!((f.r[0], f.cpsr), (0x7fff_fffe, SVC | psr::Q));
        let f = run(0xe162_0051, &[(1, 0), (2, 3)], SVC); // qdsub
        assert_eq!((f.r[0], f.cpsr), ((-6i32) as u32, SVC));
    }

    const GE: u32 = 16;

    #[test]
    fn parallel_add_subtract_lanes_and_ge_flags() {
        let f = run(0xe611_0f12, &[(1, 0xffff_0001), (2, 1)], SVC | 0xc << GE); // sadd16
        assert_eq!((f.r[0], f.cpsr), (0xffff_0002, SVC | 0b0011 << GE));
        let f = run(0xe651_0f92, &[(1, 0xff01_8000), (2, 0x0101_8000)], SVC); // uadd8
        assert_eq!((f.r[0], f.cpsr), (0x0002_0000, SVC | 0b1010 << GE));
        let f = run(0xe651_0ff2, &[(1, 0x0105_00ff), (2, 0x0205_0100)], SVC); // usub8
        assert_eq!((f.r[0], f.cpsr), (0xff00_ffff, SVC | 0b0101 << GE));
        let f = run(
            0xe621_0ff2,
            &[(1, 0x807f_0010), (2, 0x01ff_0020)],
            SVC | 0x5 << GE,
        ); // qsub8
        assert_eq!(
            (f.r[0], f.cpsr),
            (0x807f_00f0, SVC | 0x5 << GE),
            "Q forms leave GE"
        );
        let f = run(0xe631_0f12, &[(1, 0x7fff_fffe), (2, 0x7fff_fffc)], SVC); // shadd16
        assert_eq!(f.r[0], 0x7fff_fffd);
        let f = run(0xe671_0f72, &[(1, 1), (2, 0x0001_0003)], SVC); // uhsub16
        assert_eq!(f.r[0], u32::MAX);
        let f = run(0xe661_0f12, &[(1, 0xfff0_0001), (2, 0x0020_0001)], SVC); // uqadd16
        assert_eq!(f.r[0], 0xffff_0002);
        let f = run(0xe611_0f32, &[(1, 0x0005_0003), (2, 0x0004_0002)], SVC); // sasx
        assert_eq!((f.r[0], f.cpsr), (0x0007_ffff, SVC | 0b1100 << GE));
        let f = run(0xe651_0f52, &[(1, 0x0001_ffff), (2, 0x0002_0001)], SVC); // usax
        assert_eq!((f.r[0], f.cpsr), (0x0000_0001, SVC | 0b1111 << GE));
    }

    #[test]
    fn saturate_instructions_clamp_and_set_q() {
        let f = run(0xe6a7_0011, &[(1, 300)], SVC); // ssat r0, #8, r1
        assert_eq!((f.r[0], f.cpsr), (127, SVC | psr::Q));
        let f = run(0xe6a7_0251, &[(1, 0x7f0)], SVC); // ssat r0, #8, r1, asr #4
        assert_eq!((f.r[0], f.cpsr), (127, SVC));
        let f = run(0xe6e8_0011, &[(1, (-5i32) as u32)], SVC); // usat r0, #8, r1
        assert_eq!((f.r[0], f.cpsr), (0, SVC | psr::Q));
        let f = run(0xe6e8_0011, &[(1, 255)], SVC);
        assert_eq!((f.r[0], f.cpsr), (255, SVC));
        let f = run(0xe6a7_0f31, &[(1, 0x0100_ff00)], SVC); // ssat16 r0, #8, r1
        assert_eq!((f.r[0], f.cpsr), (0x007f_ff80, SVC | psr::Q));
        let f = run(0xe6e4_0f31, &[(1, 0xffff_0010)], SVC); // usat16 r0, #4, r1
        assert_eq!((f.r[0], f.cpsr), (0x0000_000f, SVC | psr::Q));
    }

    #[test]
    fn extends_rotate_then_extend_then_add() {
        assert_eq!(run(0xe6af_0071, &[(1, 0x80)], SVC).r[0], 0xffff_ff80); // sxtb
        assert_eq!(run(0xe6af_0471, &[(1, 0x8000)], SVC).r[0], 0xffff_ff80); // sxtb ror #8
        let f = run(0xe6f2_0471, &[(1, 0x1234_5678), (2, 0x1_0000)], SVC); // uxtah ror #8
        assert_eq!(f.r[0], 0x0001_3456);
        let f = run(0xe682_0071, &[(1, 0x0080_00ff), (2, 0x0001_0001)], SVC); // sxtab16
        assert_eq!(f.r[0], 0xff81_0000);
        assert_eq!(run(0xe6cf_0071, &[(1, 0x1234_5678)], SVC).r[0], 0x0034_0078); // uxtb16
        assert_eq!(run(0xe6bf_0071, &[(1, 0x8000)], SVC).r[0], 0xffff_8000); // sxth
        assert_eq!(run(0xe6e2_0071, &[(1, 0xff), (2, 0x100)], SVC).r[0], 0x1ff); // uxtab
    }

    #[test]
    fn pack_select_and_reverse() {
        let regs = [(1, 0x1111_2222), (2, 0x3333_4444)];
        assert_eq!(run(0xe681_0812, &regs, SVC).r[0], 0x4444_2222); // pkhbt lsl #16
        assert_eq!(run(0xe681_0852, &regs, SVC).r[0], 0x1111_3333); // pkhtb asr #16
        let f = run(0xe681_0052, &[(1, 0x1111_2222), (2, 0x8000_0000)], SVC); // pkhtb asr #32
        assert_eq!(f.r[0], 0x1111_ffff);
        let f = run(
            0xe681_0fb2,
            &[(1, 0x1122_3344), (2, 0xaabb_ccdd)],
            SVC | 0b0101 << GE,
        ); // sel
        assert_eq!(f.r[0], 0xaa22_cc44);
        assert_eq!(run(0xe6bf_0f31, &[(1, 0x1234_5678)], SVC).r[0], 0x7856_3412); // rev
        assert_eq!(run(0xe6bf_0fb1, &[(1, 0x1234_5678)], SVC).r[0], 0x3412_7856); // rev16
        assert_eq!(run(0xe6ff_0f31, &[(1, 1)], SVC).r[0], 0x8000_0000); // rbit
        assert_eq!(run(0xe6ff_0fb1, &[(1, 0x80)], SVC).r[0], 0xffff_8000); // revsh
    }

    #[test]
    fn sum_of_absolute_differences() {
        let regs = [(1, 0x0102_ff00), (2, 0x0301_00ff), (3, 10)];
        assert_eq!(run(0xe780_f211, &regs, SVC).r[0], 513); // usad8
        assert_eq!(run(0xe780_3211, &regs, SVC).r[0], 523); // usada8
    }

    #[test]
    fn bit_field_extract_insert_clear() {
        assert_eq!(run(0xe7a7_0251, &[(1, 0xf80)], SVC).r[0], 0xffff_fff8); // sbfx #4, #8
        assert_eq!(run(0xe7e7_0251, &[(1, 0xf80)], SVC).r[0], 0xf8); // ubfx #4, #8
        assert_eq!(run(0xe7ff_0051, &[(1, 0xdead_beef)], SVC).r[0], 0xdead_beef); // ubfx #0, #32
        let f = run(0xe7cf_0411, &[(0, u32::MAX), (1, 0x12)], SVC); // bfi r0, r1, #8, #8
        assert_eq!(f.r[0], 0xffff_12ff);
        assert_eq!(run(0xe7df_001f, &[(0, u32::MAX)], SVC).r[0], 0); // bfc #0, #32
    }

    #[test]
    fn count_leading_zeros() {
        assert_eq!(run(0xe16f_0f11, &[(1, 0)], SVC).r[0], 32);
        assert_eq!(run(0xe16f_0f11, &[(1, 1)], SVC).r[0], 31);
    }

    fn run_mem(
        word: u32,
        at: u32,
        regs: &[(usize, u32)],
        cpsr: u32,
        ram: &mut Ram,
    ) -> Result<TrapFrame, StepError> {
        let mut f = frame(regs, cpsr);
        f.pc = at;
        step(Insn(word), at, &mut f, ram).map(|()| f)
    }

    #[test]
    fn word_and_byte_transfers_in_every_addressing_mode() {
        let mut ram = Ram::new();
        let f = run_mem(
            0xe581_0004,
            ADDR,
            &[(0, 0xcafe_f00d), (1, RAM)],
            SVC,
            &mut ram,
        )
        .unwrap(); // str r0, [r1, #4]
        assert_eq!((ram.word(RAM + 4), f.r[1]), (0xcafe_f00d, RAM));
        let f = run_mem(
            0xe52d_e004,
            ADDR,
            &[(13, RAM + 0x80), (14, 0x1234)],
            SVC,
            &mut ram,
        )
        .unwrap(); // str lr, [sp, #-4]!
        assert_eq!((ram.word(RAM + 0x7c), f.sp), (0x1234, RAM + 0x7c));
        let f = run_mem(0xe491_0004, ADDR, &[(1, RAM + 4)], SVC, &mut ram).unwrap(); // ldr r0, [r1], #4
        assert_eq!((f.r[0], f.r[1]), (0xcafe_f00d, RAM + 8));
        ram.put(RAM + 8, 0x5555_aaaa);
        let f = run_mem(0xe711_0102, ADDR, &[(1, RAM + 0x10), (2, 2)], SVC, &mut ram).unwrap(); // ldr r0, [r1, -r2, lsl #2]
        assert_eq!(f.r[0], 0x5555_aaaa);
        ram.put(RAM + 0x10, 0x600d_cafe);
        let f = run_mem(0xe59f_0008, RAM, &[], SVC, &mut ram).unwrap(); // ldr r0, [pc, #8] at RAM
        assert_eq!(f.r[0], 0x600d_cafe);
        run_mem(0xe581_f000, ADDR, &[(1, RAM + 0x20)], SVC, &mut ram).unwrap(); // str pc, [r1]
        assert_eq!(ram.word(RAM + 0x20), ADDR + 8);
        let f = run_mem(0xe5d1_0003, ADDR, &[(1, RAM + 0x40)], SVC, &mut ram).unwrap(); // ldrb r0, [r1, #3]
        assert_eq!(f.r[0], 0x43);
        run_mem(
            0xe5c1_0001,
            ADDR,
            &[(0, 0x1ff), (1, RAM + 0x40)],
            SVC,
            &mut ram,
        )
        .unwrap(); // strb r0, [r1, #1]
        assert_eq!(ram.word(RAM + 0x40), 0x4342_ff40);
    }

    #[test]
    fn load_to_pc_interworks_and_needs_word_alignment() {
        let mut ram = Ram::new();
        ram.put(RAM, 0x2001);
        let f = run_mem(0xe591_f000, ADDR, &[(1, RAM)], SVC, &mut ram).unwrap(); // ldr pc, [r1]
        assert_eq!((f.pc, f.cpsr), (0x2000, SVC | psr::T));
        let err = run_mem(0xe591_f000, ADDR, &[(1, RAM + 1)], SVC, &mut ram);
        assert_eq!(err, Err(StepError::UnalignedPcLoad { address: RAM + 1 }));
    }

    #[test]
    fn halfword_signed_and_dual_transfers() {
        let mut ram = Ram::new();
        ram.put(RAM, 0x8081_f0f1);
        let f = run_mem(0xe1d1_00b2, ADDR, &[(1, RAM)], SVC, &mut ram).unwrap(); // ldrh r0, [r1, #2]
        assert_eq!(f.r[0], 0x8081);
        let f = run_mem(0xe191_00f2, ADDR, &[(1, RAM), (2, 2)], SVC, &mut ram).unwrap(); // ldrsh r0, [r1, r2]
        assert_eq!(f.r[0], 0xffff_8081);
        let f = run_mem(0xe171_00d1, ADDR, &[(1, RAM + 1)], SVC, &mut ram).unwrap(); // ldrsb r0, [r1, #-1]!
        assert_eq!((f.r[0], f.r[1]), (0xffff_fff1, RAM));
        let f = run_mem(
            0xe0c1_00b2,
            ADDR,
            &[(0, 0x1_2345), (1, RAM + 8)],
            SVC,
            &mut ram,
        )
        .unwrap(); // strh r0, [r1], #2
        assert_eq!((ram.word(RAM + 8) & 0xffff, f.r[1]), (0x2345, RAM + 10));
        ram.put(RAM + 0x18, 11);
        ram.put(RAM + 0x1c, 22);
        let f = run_mem(0xe1c1_20d8, ADDR, &[(1, RAM + 0x10)], SVC, &mut ram).unwrap(); // ldrd r2, r3, [r1, #8]
        assert_eq!((f.r[2], f.r[3]), (11, 22));
        let f = run_mem(
            0xe161_20f8,
            ADDR,
            &[(1, RAM + 0x30), (2, 7), (3, 8)],
            SVC,
            &mut ram,
        )
        .unwrap(); // strd r2, r3, [r1, #-8]!
        assert_eq!(
            (ram.word(RAM + 0x28), ram.word(RAM + 0x2c), f.r[1]),
            (7, 8, RAM + 0x28)
        );
        let f = run_mem(0xe181_20d0, ADDR, &[(0, 8), (1, RAM + 0x10)], SVC, &mut ram).unwrap(); // ldrd r2, r3, [r1, r0]
        assert_eq!((f.r[2], f.r[3]), (11, 22));
        let err = run_mem(0xe1c1_20d8, ADDR, &[(1, RAM + 2)], SVC, &mut ram);
        assert_eq!(err, Err(StepError::AlignmentFault { address: RAM + 10 }));
    }

    #[test]
    fn load_store_multiple_in_all_modes() {
        let mut ram = Ram::new();
        let regs = [(0, 10), (1, 11), (13, RAM + 0x80), (14, 0x3001)];
        let f = run_mem(0xe92d_4003, ADDR, &regs, SVC, &mut ram).unwrap(); // push {r0, r1, lr}
        assert_eq!(f.sp, RAM + 0x74);
        assert_eq!(
            [
                ram.word(RAM + 0x74),
                ram.word(RAM + 0x78),
                ram.word(RAM + 0x7c)
            ],
            [10, 11, 0x3001]
        );
        let f = run_mem(0xe8bd_8003, ADDR, &[(13, RAM + 0x74)], SVC, &mut ram).unwrap(); // pop {r0, r1, pc}
        assert_eq!(
            (f.r[0], f.r[1], f.sp, f.pc, f.cpsr),
            (10, 11, RAM + 0x80, 0x3000, SVC | psr::T)
        );
        run_mem(
            0xe981_000c,
            ADDR,
            &[(1, RAM), (2, 2), (3, 3)],
            SVC,
            &mut ram,
        )
        .unwrap(); // stmib r1, {r2, r3}
        assert_eq!((ram.word(RAM + 4), ram.word(RAM + 8)), (2, 3));
        let f = run_mem(0xe831_000c, ADDR, &[(1, RAM + 8)], SVC, &mut ram).unwrap(); // ldmda r1!, {r2, r3}
        assert_eq!((f.r[2], f.r[3], f.r[1]), (2, 3, RAM));
        let f = run_mem(
            0xe92d_6000,
            ADDR,
            &[(13, RAM + 0x90), (14, 5)],
            SVC,
            &mut ram,
        )
        .unwrap(); // stmdb sp!, {sp, lr}
        assert_eq!(
            (ram.word(RAM + 0x88), ram.word(RAM + 0x8c), f.sp),
            (RAM + 0x90, 5, RAM + 0x88)
        );
        run_mem(0xe881_8000, ADDR, &[(1, RAM + 0xa0)], SVC, &mut ram).unwrap(); // stmia r1, {pc}
        assert_eq!(ram.word(RAM + 0xa0), ADDR + 8);
        let f = run_mem(0xe891_0003, ADDR, &[(1, RAM + 0x74)], SVC, &mut ram).unwrap(); // ldmia r1, {r0, r1}
        assert_eq!(
            (f.r[0], f.r[1]),
            (10, 11),
            "base in list without writeback is loaded"
        );
        let err = run_mem(0xe891_0003, ADDR, &[(1, RAM + 2)], SVC, &mut ram);
        assert_eq!(err, Err(StepError::AlignmentFault { address: RAM + 2 }));
    }

    #[test]
    fn branches_link_and_exchange() {
        let f = run(0xeaff_fffe, &[], SVC); // b .
        assert_eq!(f.pc, ADDR);
        let f = run(0xeb00_0040, &[], SVC); // bl . + 0x108
        assert_eq!((f.pc, f.lr), (ADDR + 0x108, ADDR + 4));
        let f = run(0xfb00_0000, &[], SVC); // blx . + 10 (H = 1)
        assert_eq!((f.pc, f.lr, f.cpsr), (ADDR + 10, ADDR + 4, SVC | psr::T));
        let f = run(0xe12f_ff1e, &[(14, 0x3001)], SVC); // bx lr
        assert_eq!((f.pc, f.cpsr), (0x3000, SVC | psr::T));
        let f = run(0xe12f_ff33, &[(3, 0x4000)], SVC); // blx r3
        assert_eq!((f.pc, f.lr, f.cpsr), (0x4000, ADDR + 4, SVC));
        let f = run(0xe12f_ff3e, &[(14, 0x4001)], SVC); // blx lr: target read before lr is written
        assert_eq!((f.pc, f.lr, f.cpsr), (0x4000, ADDR + 4, SVC | psr::T));
    }

    #[test]
    fn mrs_hides_execution_state_bits() {
        let f = run(0xe10f_0000, &[], 0xfe0f_fdd3); // mrs r0, apsr with IT/J bits set
        assert_eq!(f.r[0], 0xf80f_01d3);
    }

    #[test]
    fn hints_and_barriers_reach_memory_and_preloads_do_nothing() {
        let mut ram = Ram::new();
        for w in [
            0xe320_f000,
            0xe320_f001,
            0xe320_f002,
            0xe320_f003,
            0xe320_f004,
        ] {
            run_mem(w, ADDR, &[], SVC, &mut ram).unwrap();
        }
        assert_eq!(
            ram.hints,
            [Hint::Nop, Hint::Yield, Hint::Wfe, Hint::Wfi, Hint::Sev]
        );
        for w in [0xf57f_f05f, 0xf57f_f04e, 0xf57f_f06f] {
            run_mem(w, ADDR, &[], SVC, &mut ram).unwrap();
        }
        assert_eq!(
            ram.barriers,
            [Barrier::Dmb(0xf), Barrier::Dsb(0xe), Barrier::Isb(0xf)]
        );
        let before = ram.bytes;
        let f = run_mem(
            0xf5d0_f000,
            ADDR,
            &[(0, 0xdead_0000)],
            SVC | psr::Z,
            &mut ram,
        )
        .unwrap(); // pld [r0]
        assert_eq!((f.pc, ram.bytes), (ADDR + 4, before));
    }

    #[test]
    fn big_endian_data_is_byte_swapped() {
        let mut ram = Ram::new();
        ram.put(RAM, 0x0403_0201);
        let be = SVC | psr::E;
        assert_eq!(
            run_mem(0xe591_0000, ADDR, &[(1, RAM)], be, &mut ram)
                .unwrap()
                .r[0],
            0x0102_0304
        );
        assert_eq!(
            run_mem(0xe1d1_00b0, ADDR, &[(1, RAM)], be, &mut ram)
                .unwrap()
                .r[0],
            0x0102
        );
        run_mem(
            0xe581_0004,
            ADDR,
            &[(0, 0x0a0b_0c0d), (1, RAM)],
            be,
            &mut ram,
        )
        .unwrap();
        assert_eq!(ram.bytes[4..8], [0x0a, 0x0b, 0x0c, 0x0d]);
    }

    #[test]
    fn every_step_error_is_reported_and_leaves_the_frame() {
        let mut ram = Ram::new();
        type ErrorCase = (u32, &'static [(usize, u32)], u32, StepError);
        let cases: [ErrorCase; 6] = [
            (
                0xef00_0000,
                &[],
                SVC,
                StepError::Rejected(RejectReason::ExceptionGenerating),
            ),
            (0xe1a0_0000, &[], SVC | psr::T, StepError::ThumbState),
            (
                0xe591_0000,
                &[(1, 0)],
                SVC,
                StepError::Memory(MemoryFault {
                    address: 0,
                    access: Access::Read,
                }),
            ),
            (
                0xe581_0000,
                &[(1, 0)],
                SVC,
                StepError::Memory(MemoryFault {
                    address: 0,
                    access: Access::Write,
                }),
            ),
            (
                0xe891_0003,
                &[(1, RAM + 1)],
                SVC,
                StepError::AlignmentFault { address: RAM + 1 },
            ),
            (
                0xe12f_ff12,
                &[(2, 0x2)],
                SVC,
                StepError::UnpredictablePcWrite { target: 2 },
            ),
        ];
        let mut texts = Vec::new();
        for (w, regs, cpsr, want) in cases {
            let mut f = frame(regs, cpsr);
            let before = f;
            assert_eq!(
                step(Insn(w), ADDR, &mut f, &mut ram),
                Err(want),
                "{w:#010x}"
            );
            assert_eq!(f, before);
            texts.push(want.to_string());
        }
        texts.push(StepError::UnalignedPcLoad { address: 1 }.to_string());
        for (i, t) in texts.iter().enumerate() {
            assert!(!texts[..i].contains(t), "{t}");
        }
    }

    #[test]
    fn emulation_renames_registers_onto_r0_to_r3() {
        // smlal r4(lo), r9(hi), r10, r11 → r0..r3 in field order 19:16, 15:12, 11:8, 3:0.
        let e = emulation(Insn(0xe0e9_4b9a)).unwrap();
        assert_eq!(e.map, [Some(9), Some(4), Some(11), Some(10)]);
        assert_eq!(e.word, 0xe0e0_1293);
        // add r8, r8, r8, lsl #3: one register, used three times.
        let e = emulation(Insn(0xe088_8188)).unwrap();
        assert_eq!((e.word, e.map), (0xe080_0180, [Some(8), None, None, None]));
        assert_eq!(emulation(Insn(0xe08f_0001)), None, "PC operand");
        assert_eq!(emulation(Insn(0xe591_0000)), None, "memory");
        assert_eq!(
            emulation(Insn(0xe10f_0000)),
            None,
            "MRS reads the real CPSR"
        );
        assert_eq!(emulation(Insn(0xef00_0000)), None, "rejected");
    }

    /// What capstone, an independent A32 disassembler, reads in `word`: "mnemonic operands".
    fn capstone_text(cs: &capstone::Capstone, word: u32) -> String {
        let insns = cs.disasm_all(&word.to_le_bytes(), 0x1000).unwrap();
        let insn = insns.iter().next().expect("capstone decodes the word");
        format!("{} {}", insn.mnemonic().unwrap(), insn.op_str().unwrap())
    }

    fn a32_capstone() -> capstone::Capstone {
        use capstone::arch::BuildsCapstone;
        capstone::Capstone::new()
            .arm()
            .mode(capstone::arch::arm::ArchMode::Arm)
            .build()
            .unwrap()
    }

    #[test]
    fn emulation_slot_disassembles_as_its_documented_sequence() {
        let cs = a32_capstone();
        // smlal r1, r0, r3, r2: the rewrite of smlal r4, r9, r10, r11 above.
        let text: Vec<String> = slot_words(0xe0e0_1293)
            .iter()
            .map(|w| capstone_text(&cs, *w))
            .collect();
        assert_eq!(
            text,
            [
                "mov ip, r0",
                "ldr r0, [ip, #0x10]",
                "msr apsr_nzcvqg, r0",
                "ldm ip, {r0, r1, r2, r3}",
                "smlal r1, r0, r3, r2",
                "stm ip, {r0, r1, r2, r3}",
                "mrs r0, apsr",
                "str r0, [ip, #0x10]",
                "bx lr",
            ]
        );
    }

    #[test]
    fn emulation_block_layout_matches_the_offsets_the_slot_uses() {
        assert_eq!(
            core::mem::offset_of!(EmulationBlock, regs),
            0,
            "ldm/stm r12"
        );
        assert_eq!(
            core::mem::offset_of!(EmulationBlock, apsr),
            16,
            "[r12, #16]"
        );
        assert_eq!(core::mem::size_of::<EmulationBlock>(), 20);
        assert_eq!(EMULATION_SLOT_BYTES, 36);
    }

    #[test]
    fn slot_words_change_only_the_instruction_word() {
        let e = emulation(Insn(0xe0e9_4b9a)).unwrap();
        let words = e.slot_words();
        assert_eq!(words, slot_words(e.word));
        for (i, (w, t)) in words.iter().zip(slot_words(0xe320_f000)).enumerate() {
            let want = if i == EMULATION_SLOT_INSN { e.word } else { t };
            assert_eq!(*w, want, "word {i}");
        }
    }

    #[test]
    fn every_rewritten_conformance_word_names_only_r0_to_r3_for_capstone() {
        let cs = a32_capstone();
        let high = [
            "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "sb", "sl", "fp", "ip", "sp",
            "lr", "pc",
        ];
        let mut checked = 0;
        for case in crate::conformance::cases().filter(crate::conformance::Case::runs) {
            let Some(e) = emulation(Insn(case.word)) else {
                continue;
            };
            let text = capstone_text(&cs, e.word);
            let operands = text.split_once(' ').map_or("", |(_, ops)| ops);
            let named_high = operands
                .split(|c: char| !c.is_ascii_alphanumeric())
                .find(|token| high.contains(token));
            assert_eq!(
                named_high, None,
                "{:#010x} → {:#010x} ({text})",
                case.word, e.word
            );
            checked += 1;
        }
        assert!(checked > 1000, "{checked}");
    }

    /// A stand-in for the slot on the host: run the rewritten word through the simulator on
    /// a frame holding only r0–r3 and the APSR.
    fn run_in_fake_slot(e: &Emulation, block: &mut EmulationBlock) {
        let mut f = TrapFrame {
            cpsr: SVC | block.apsr,
            ..TrapFrame::default()
        };
        f.r[..4].copy_from_slice(&block.regs);
        step(Insn(e.word), 0x100, &mut f, &mut Ram::new()).unwrap();
        block.regs.copy_from_slice(&f.r[..4]);
        block.apsr = f.cpsr & APSR_BITS;
    }

    #[test]
    fn emulated_rewrite_matches_simulating_the_original() {
        let mut checked = 0;
        for case in crate::conformance::cases().filter(crate::conformance::Case::runs) {
            let Some(e) = emulation(Insn(case.word)) else {
                continue;
            };
            let layout = crate::conformance::Layout {
                insn: ADDR,
                buffer: RAM,
                mode: SVC,
            };
            for scenario in 0..16 {
                let start = case.frame(&layout, scenario);
                let mut simulated = start;
                step(Insn(case.word), ADDR, &mut simulated, &mut Ram::new()).unwrap();
                let mut block = e.load(&start);
                run_in_fake_slot(&e, &mut block);
                let mut emulated = start;
                e.store(&block, &mut emulated, ADDR);
                assert_eq!(
                    emulated, simulated,
                    "{:#010x} → {:#010x}",
                    case.word, e.word
                );
                checked += 1;
            }
        }
        assert!(checked > 16 * 1000, "{checked}");
    }
}
