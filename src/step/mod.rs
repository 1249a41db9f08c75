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
//!
//! The files: [`simulate`] sets up a `StepFrame` (the frame being stepped) and `dispatch`
//! sends each [`SimKind`] to the file of its class family — `data_processing`, `multiply`,
//! `media` (saturating, parallel, extend/pack/reverse, bit fields, CLZ), `load_store`,
//! `load_store_multiple`, `branch` and `system` (MRS, hints, barriers, preloads). The ARM
//! ARM pseudo-code functions they share are in `pseudocode`, the [`Memory`] seam in
//! `memory`, [`StepError`] in `error`, the slot rewrite in `slot_rewrite`. 16-bit Thumb
//! instructions ([`step_t16`], [`simulate_t16`], with ITSTATE) are stepped by `thumb16`,
//! 32-bit ones ([`step_t32`], [`simulate_t32`]) by `thumb32`, over the same frame helpers and
//! pseudo-code.

mod branch;
mod data_processing;
mod dispatch;
mod error;
mod frame;
mod load_store;
mod load_store_multiple;
mod media;
mod memory;
mod multiply;
mod plan;
mod pseudocode;
mod slot_rewrite;
mod system;
#[cfg(all(test, not(loom)))] // capstone/proptest: not in the loom build
mod tests;
mod thumb16;
mod thumb32;

pub use error::StepError;
pub use memory::{Access, Barrier, Hint, Memory, MemoryFault};
pub use plan::Plan;
pub use slot_rewrite::{
    EMULATION_SLOT_BYTES, EMULATION_SLOT_INSN, EMULATION_SLOT_WORDS, Emulation, EmulationBlock,
    emulation, slot_words,
};
pub use thumb16::{
    it_advance, it_position, it_state, simulate_t16, step_t16, step_t16_decoded, with_it_state,
};
pub use thumb32::{simulate_t32, step_t32, step_t32_decoded};

use crate::decode::{Decoded, SimKind, decode};
use crate::frame::TrapFrame;
use crate::insn::Insn;
use frame::StepFrame;

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
    let mut stepped = StepFrame {
        f: TrapFrame::default(),
        addr,
        pc_written: false,
    };
    copy_frame(&mut stepped.f, frame);
    if insn.cond().passes(frame.cpsr) {
        stepped.execute(kind, insn, mem)?;
    }
    if !stepped.pc_written {
        stepped.f.pc = addr.wrapping_add(4);
    }
    copy_frame(frame, &stepped.f);
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

/// Bit `n` of `insn` where the ARM ARM gives the bit no field name: one bit of an encoding
/// table's `op`/`op1`/`op2` selector (signed or unsigned, accumulate, subtract, BL…). Named
/// fields are read with the [`Insn`] accessors.
#[inline(always)]
const fn op_bit(insn: Insn, n: u32) -> bool {
    insn.word() & (1 << n) != 0
}
