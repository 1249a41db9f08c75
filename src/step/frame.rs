//! [`StepFrame`], the state one step works on, and its register, flag, PC-write and
//! endian-aware memory helpers that every instruction class uses.

use super::{Memory, StepError, psr};
use crate::frame::TrapFrame;

/// The frame being stepped: a copy of the [`TrapFrame`] the instruction changes (written back
/// only when the step succeeds), the instruction's address for PC reads, and whether the
/// instruction wrote PC (otherwise execution continues at the next instruction).
pub(super) struct StepFrame {
    pub(super) f: TrapFrame,
    pub(super) addr: u32,
    pub(super) pc_written: bool,
}

impl StepFrame {
    /// R[n] as an operand: PC reads as the instruction's address + 8.
    pub(super) fn r(&self, n: usize) -> u32 {
        if n == 15 {
            self.addr.wrapping_add(8)
        } else {
            self.f.reg(n)
        }
    }

    /// A write to a general register other than PC.
    pub(super) fn set(&mut self, n: usize, value: u32) {
        debug_assert!(n != 15, "PC writes go through the interworking helpers");
        self.f.set_reg(n, value);
    }

    pub(super) fn flag(&self, mask: u32) -> bool {
        self.f.cpsr & mask != 0
    }

    pub(super) fn set_flag(&mut self, mask: u32, on: bool) {
        if on {
            self.f.cpsr |= mask;
        } else {
            self.f.cpsr &= !mask;
        }
    }

    pub(super) fn set_nz(&mut self, result: u32) {
        self.set_flag(psr::N, result >> 31 != 0);
        self.set_flag(psr::Z, result == 0);
    }

    pub(super) fn set_nz64(&mut self, result: u64) {
        self.set_flag(psr::N, result >> 63 != 0);
        self.set_flag(psr::Z, result == 0);
    }

    pub(super) fn set_q_if(&mut self, saturated: bool) {
        if saturated {
            self.f.cpsr |= psr::Q;
        }
    }

    pub(super) fn big_endian(&self) -> bool {
        self.flag(psr::E)
    }

    /// BXWritePC (also ALUWritePC and LoadWritePC in ARMv7 ARM state).
    pub(super) fn bx_write_pc(&mut self, target: u32) -> Result<(), StepError> {
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
    pub(super) fn branch_write_pc(&mut self, target: u32) {
        self.f.pc = target & !3;
        self.pc_written = true;
    }

    /// A register write that may be PC (loads, data-processing): PC interworks.
    pub(super) fn set_or_interwork(&mut self, n: usize, value: u32) -> Result<(), StepError> {
        if n == 15 {
            self.bx_write_pc(value)
        } else {
            self.set(n, value);
            Ok(())
        }
    }

    pub(super) fn load32(
        &self,
        mem: &mut (impl Memory + ?Sized),
        a: u32,
    ) -> Result<u32, StepError> {
        let v = mem.read_u32(a)?;
        Ok(if self.big_endian() { v.swap_bytes() } else { v })
    }

    pub(super) fn store32(
        &self,
        mem: &mut (impl Memory + ?Sized),
        a: u32,
        v: u32,
    ) -> Result<(), StepError> {
        let v = if self.big_endian() { v.swap_bytes() } else { v };
        Ok(mem.write_u32(a, v)?)
    }

    pub(super) fn load16(
        &self,
        mem: &mut (impl Memory + ?Sized),
        a: u32,
    ) -> Result<u32, StepError> {
        let v = mem.read_u16(a)?;
        Ok(u32::from(if self.big_endian() {
            v.swap_bytes()
        } else {
            v
        }))
    }

    pub(super) fn store16(
        &self,
        mem: &mut (impl Memory + ?Sized),
        a: u32,
        v: u32,
    ) -> Result<(), StepError> {
        let v = v as u16;
        let v = if self.big_endian() { v.swap_bytes() } else { v };
        Ok(mem.write_u16(a, v)?)
    }
}
