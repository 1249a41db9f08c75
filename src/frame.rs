//! The register frame a trap hands to the crate: what an interrupted instruction saw.

/// The CPU state at the instruction that trapped, as the exception entry glue saved it.
///
/// The layout is a contract with assembly (the integrator's undefined-instruction
/// entry and, later, the optimized-probe trampolines): `r0`–`r12`, then the interrupted
/// mode's `sp` and `lr`, then the address of the trapped instruction and the CPSR the
/// interrupted code ran with. Whatever a handler leaves here is what the interrupted
/// code resumes with, so changing `pc` redirects execution and changing `cpsr` changes
/// its flags.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrapFrame {
    /// General-purpose registers `r0`–`r12`.
    pub r: [u32; 13],
    /// Stack pointer of the interrupted mode.
    pub sp: u32,
    /// Link register of the interrupted mode.
    pub lr: u32,
    /// Address of the trapped instruction on entry; where execution resumes on exit.
    pub pc: u32,
    /// Program status of the interrupted code (restored from here on exit).
    pub cpsr: u32,
}

impl TrapFrame {
    /// Byte offset of `sp` in the frame, for assembly.
    pub const OFFSET_SP: usize = 13 * 4;
    /// Byte offset of `lr` in the frame, for assembly.
    pub const OFFSET_LR: usize = 14 * 4;
    /// Byte offset of `pc` in the frame, for assembly.
    pub const OFFSET_PC: usize = 15 * 4;
    /// Byte offset of `cpsr` in the frame, for assembly.
    pub const OFFSET_CPSR: usize = 16 * 4;
    /// Size of the frame in bytes.
    pub const SIZE: usize = 17 * 4;

    /// Register `n` (0–15; only its low four bits count) as an instruction names it;
    /// `r15` reads the frame's `pc`.
    pub const fn reg(&self, n: usize) -> u32 {
        self.words()[n & 15]
    }

    /// Sets register `n` (0–15; only its low four bits count) as an instruction names
    /// it; `r15` sets the frame's `pc`.
    pub const fn set_reg(&mut self, n: usize, value: u32) {
        self.words_mut()[n & 15] = value;
    }

    /// [`TrapFrame::reg`] without reducing `n`, for a hit path whose register numbers
    /// come from a four-bit field.
    ///
    /// # Safety
    ///
    /// `n` below 17.
    #[inline(always)]
    pub(crate) unsafe fn reg_unchecked(&self, n: usize) -> u32 {
        debug_assert!(n < 17);
        // SAFETY: the caller's `n` is in bounds of the 17 words.
        unsafe { *self.words().get_unchecked(n) }
    }

    /// [`TrapFrame::set_reg`] without reducing `n`.
    ///
    /// # Safety
    ///
    /// `n` below 17.
    #[inline(always)]
    pub(crate) unsafe fn set_reg_unchecked(&mut self, n: usize, value: u32) {
        debug_assert!(n < 17);
        // SAFETY: the caller's `n` is in bounds of the 17 words.
        unsafe { *self.words_mut().get_unchecked_mut(n) = value };
    }

    /// The frame as the 17 words it is: r0–r12, sp, lr, pc, cpsr (register `n` is word
    /// `n`, which is how [`TrapFrame::reg`] indexes it without a branch).
    const fn words(&self) -> &[u32; 17] {
        // SAFETY: `TrapFrame` is `repr(C)` and consists of 17 `u32`s, no padding (the
        // size and offsets are asserted below): it has the layout of `[u32; 17]`, and
        // the borrow of `self` covers the whole array.
        unsafe { &*(self as *const TrapFrame).cast::<[u32; 17]>() }
    }

    /// [`TrapFrame::words`], mutable.
    const fn words_mut(&mut self) -> &mut [u32; 17] {
        // SAFETY: as `words`; the exclusive borrow of `self` makes the array's exclusive.
        unsafe { &mut *(self as *mut TrapFrame).cast::<[u32; 17]>() }
    }
}

const _: () = {
    assert!(core::mem::size_of::<TrapFrame>() == TrapFrame::SIZE);
    assert!(core::mem::offset_of!(TrapFrame, sp) == TrapFrame::OFFSET_SP);
    assert!(core::mem::offset_of!(TrapFrame, lr) == TrapFrame::OFFSET_LR);
    assert!(core::mem::offset_of!(TrapFrame, pc) == TrapFrame::OFFSET_PC);
    assert!(core::mem::offset_of!(TrapFrame, cpsr) == TrapFrame::OFFSET_CPSR);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reg_numbers_map_to_named_fields() {
        let mut f = TrapFrame::default();
        for n in 0..16 {
            f.set_reg(n, 0x100 + n as u32);
        }
        assert_eq!(f.r[0], 0x100);
        assert_eq!(f.r[12], 0x10c);
        assert_eq!(f.sp, 0x10d);
        assert_eq!(f.lr, 0x10e);
        assert_eq!(f.pc, 0x10f);
        for n in 0..16 {
            assert_eq!(f.reg(n), 0x100 + n as u32);
        }
    }
}
