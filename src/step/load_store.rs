//! The single load/store classes (A5.3, extra load/stores of A5.2.8): word and byte,
//! halfword and signed, and dual transfers with their offset addressing and writeback.

use super::frame::StepFrame;
use super::pseudocode::{decode_imm_shift, sext8, sext16, shift_c};
use super::{Insn, Memory, StepError, psr};

impl StepFrame {
    /// LDR, LDRB, STR, STRB with an immediate offset (also LDR literal).
    #[inline(always)]
    pub(super) fn load_store_immediate(
        &mut self,
        insn: Insn,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        self.load_store_word_byte(insn, insn.imm12(), mem)
    }

    /// LDR, LDRB, STR, STRB with a shifted register offset.
    #[inline(always)]
    pub(super) fn load_store_register(
        &mut self,
        insn: Insn,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let (shift, n) = decode_imm_shift(insn.shift_type(), insn.imm5());
        let (offset, _) = shift_c(self.r(insn.rm() as usize), shift, n, self.flag(psr::C));
        self.load_store_word_byte(insn, offset, mem)
    }

    /// LDRH, LDRSB, LDRSH, STRH with an immediate offset (also literal).
    #[inline(always)]
    pub(super) fn load_store_half_immediate(
        &mut self,
        insn: Insn,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        self.load_store_half(insn, insn.imm4h_imm4l(), mem)
    }

    /// LDRH, LDRSB, LDRSH, STRH with a register offset.
    #[inline(always)]
    pub(super) fn load_store_half_register(
        &mut self,
        insn: Insn,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        self.load_store_half(insn, self.r(insn.rm() as usize), mem)
    }

    /// LDRD, STRD with an immediate offset (also LDRD literal).
    #[inline(always)]
    pub(super) fn load_store_dual_immediate(
        &mut self,
        insn: Insn,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        self.load_store_dual(insn, insn.imm4h_imm4l(), mem)
    }

    /// LDRD, STRD with a register offset.
    #[inline(always)]
    pub(super) fn load_store_dual_register(
        &mut self,
        insn: Insn,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        self.load_store_dual(insn, self.r(insn.rm() as usize), mem)
    }

    /// Offset addressing shared by single and dual transfers: (address, writeback address).
    fn address(&self, insn: Insn, offset: u32) -> (u32, Option<u32>) {
        let base = self.r(insn.rn() as usize);
        let offset_addr = if insn.u() {
            base.wrapping_add(offset)
        } else {
            base.wrapping_sub(offset)
        };
        let pre = insn.p();
        let address = if pre { offset_addr } else { base };
        let wback = !pre || insn.w();
        (address, wback.then_some(offset_addr))
    }

    fn writeback(&mut self, insn: Insn, wback: Option<u32>) {
        if let Some(a) = wback {
            self.set(insn.rn() as usize, a);
        }
    }

    /// LDR/LDRB/STR/STRB (A5.3): B (22), L (20).
    fn load_store_word_byte(
        &mut self,
        insn: Insn,
        offset: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let (address, wback) = self.address(insn, offset);
        let t = insn.rt() as usize;
        let byte = insn.b();
        if insn.l() {
            let data = if byte {
                u32::from(mem.read_u8(address)?)
            } else {
                self.load32(mem, address)?
            };
            if t == 15 && address & 3 != 0 {
                return Err(StepError::UnalignedPcLoad { address });
            }
            self.writeback(insn, wback);
            self.set_or_interwork(t, data)
        } else {
            let data = self.r(t);
            if byte {
                mem.write_u8(address, data as u8)?;
            } else {
                self.store32(mem, address, data)?;
            }
            self.writeback(insn, wback);
            Ok(())
        }
    }

    /// STRH/LDRH/LDRSB/LDRSH (A5.2.8): op2 (6:5), L (20).
    fn load_store_half(
        &mut self,
        insn: Insn,
        offset: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let (address, wback) = self.address(insn, offset);
        let t = insn.rt() as usize;
        if insn.l() {
            // op2, bits 6:5 (A5.2.8): 01 halfword, 10 signed byte, 11 signed halfword.
            let data = match (insn.word() >> 5) & 3 {
                0b01 => self.load16(mem, address)?,
                0b10 => sext8(u32::from(mem.read_u8(address)?)) as u32,
                _ => sext16(self.load16(mem, address)?) as u32,
            };
            self.writeback(insn, wback);
            self.set(t, data);
        } else {
            self.store16(mem, address, self.r(t))?;
            self.writeback(insn, wback);
        }
        Ok(())
    }

    /// LDRD/STRD (A5.2.8): H (bit 5) set is STRD.
    fn load_store_dual(
        &mut self,
        insn: Insn,
        offset: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let (address, wback) = self.address(insn, offset);
        if address & 3 != 0 {
            return Err(StepError::AlignmentFault { address });
        }
        let t = insn.rt() as usize;
        let swap = |v: u32, be: bool| if be { v.swap_bytes() } else { v };
        let be = self.big_endian();
        if insn.h() {
            let pair = [swap(self.r(t), be), swap(self.r(t + 1), be)];
            mem.write_pair(address, pair)?;
            self.writeback(insn, wback);
        } else {
            let [a, b] = mem.read_pair(address)?;
            self.writeback(insn, wback);
            self.set(t, swap(a, be));
            self.set(t + 1, swap(b, be));
        }
        Ok(())
    }
}
