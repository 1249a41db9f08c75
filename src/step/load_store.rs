//! The single load/store classes (A5.3, extra load/stores of A5.2.8): word and byte,
//! halfword and signed, and dual transfers with their offset addressing and writeback.

use super::frame::StepFrame;
use super::pseudocode::{decode_imm_shift, sext8, sext16, shift_c};
use super::{Memory, StepError, bit, field, psr};

impl StepFrame {
    /// LDR, LDRB, STR, STRB with an immediate offset (also LDR literal).
    #[inline(always)]
    pub(super) fn load_store_immediate(
        &mut self,
        w: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        self.load_store_word_byte(w, w & 0xfff, mem)
    }

    /// LDR, LDRB, STR, STRB with a shifted register offset.
    #[inline(always)]
    pub(super) fn load_store_register(
        &mut self,
        w: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let (shift, n) = decode_imm_shift(w >> 5, (w >> 7) & 0x1f);
        let (offset, _) = shift_c(self.r(field(w, 0)), shift, n, self.flag(psr::C));
        self.load_store_word_byte(w, offset, mem)
    }

    /// LDRH, LDRSB, LDRSH, STRH with an immediate offset (also literal).
    #[inline(always)]
    pub(super) fn load_store_half_immediate(
        &mut self,
        w: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        self.load_store_half(w, (w >> 4) & 0xf0 | w & 0xf, mem)
    }

    /// LDRH, LDRSB, LDRSH, STRH with a register offset.
    #[inline(always)]
    pub(super) fn load_store_half_register(
        &mut self,
        w: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        self.load_store_half(w, self.r(field(w, 0)), mem)
    }

    /// LDRD, STRD with an immediate offset (also LDRD literal).
    #[inline(always)]
    pub(super) fn load_store_dual_immediate(
        &mut self,
        w: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        self.load_store_dual(w, (w >> 4) & 0xf0 | w & 0xf, mem)
    }

    /// LDRD, STRD with a register offset.
    #[inline(always)]
    pub(super) fn load_store_dual_register(
        &mut self,
        w: u32,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        self.load_store_dual(w, self.r(field(w, 0)), mem)
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
}
