//! LDM/STM in all four modes (A5.5), PUSH/POP included.

use super::frame::StepFrame;
use super::{Insn, Memory, StepError};

impl StepFrame {
    /// LDM/STM (A5.5): P (24), U (23), W (21), L (20), register list (15:0).
    pub(super) fn load_store_multiple(
        &mut self,
        insn: Insn,
        mem: &mut (impl Memory + ?Sized),
    ) -> Result<(), StepError> {
        let n = insn.rn() as usize;
        let list = insn.reglist();
        let bytes = 4 * list.count_ones();
        let base = self.r(n);
        let start = match (insn.p(), insn.u()) {
            (false, true) => base,
            (true, true) => base.wrapping_add(4),
            (false, false) => base.wrapping_sub(bytes).wrapping_add(4),
            (true, false) => base.wrapping_sub(bytes),
        };
        if start & 3 != 0 {
            return Err(StepError::AlignmentFault { address: start });
        }
        let wback = if insn.u() {
            base.wrapping_add(bytes)
        } else {
            base.wrapping_sub(bytes)
        };
        let regs = (0..16usize).filter(|i| list & (1 << i) != 0);
        if insn.l() {
            let mut loaded = [0u32; 16];
            let mut a = start;
            for i in regs {
                loaded[i] = self.load32(mem, a)?;
                a = a.wrapping_add(4);
            }
            for i in (0..15usize).filter(|i| list & (1 << i) != 0) {
                self.set(i, loaded[i]);
            }
            if insn.w() {
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
            if insn.w() {
                self.set(n, wback);
            }
        }
        Ok(())
    }
}
