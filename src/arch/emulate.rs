//! Running an emulation slot on the CPU: the rewritten instruction executes for real, on the
//! frame's r0–r3 values and flags.
//!
//! The slot is the nine-word AAPCS function of [`step::slot_words`] (re-exported here): it
//! loads the APSR (`msr APSR_nzcvqg`) and r0–r3 from an [`EmulationBlock`], runs the
//! rewritten word, stores r0–r3 and the APSR back and returns. The integrator copies those
//! words into a slot from the slot allocator (slot size
//! [`EMULATION_SLOT_BYTES`]) through its writable text alias, makes the instruction stream
//! see them on the CPU that will run them, and then calls [`run_slot`] or [`emulate`].
//!
//! Why the template is data in Rust and not a `global_asm!` block described by labels: the
//! slot is nine fixed words with one hole and nothing an assembler would compute — no
//! literal pool, no PC-relative operand, no relocation, no second hole — so there is no
//! label arithmetic to get wrong in the first place. As a `const` array it builds on every
//! target, so the host tests check the very words the kernel copies (capstone disassembles
//! them; the block offsets they use are asserted against `EmulationBlock`'s layout), and no
//! template sits in `.text` as code that must never be called or probed in place. The
//! optimized-probe trampoline, with several patched-in values and a literal pool, is where
//! a labelled `global_asm!` template earns its keep.
//!
//! [`step::slot_words`]: crate::step::slot_words

use crate::frame::TrapFrame;
pub use crate::step::{EMULATION_SLOT_BYTES, EMULATION_SLOT_WORDS, slot_words};
use crate::step::{Emulation, EmulationBlock};

/// The slot's type: the AAPCS function [`slot_words`] assembles.
type SlotFn = extern "C" fn(*mut EmulationBlock);

/// Calls the emulation slot at `slot_exec_addr` on `block`: r0–r3 and the APSR go in,
/// the instruction runs, r0–r3 and the APSR (as MRS reads the CPSR) come back.
///
/// # Safety
///
/// `slot_exec_addr` must be the executable address of a word-aligned slot holding exactly
/// `slot_words(w)`, where `w` names no register but r0–r3 and neither reads nor writes PC,
/// memory or banked state (every [`Emulation::word`] qualifies); the words must be visible
/// to this CPU's instruction stream (written, cleaned to the point of unification,
/// I-cache and branch predictor invalidated, and an ISB executed on this CPU since); and the
/// slot must stay allocated and unchanged until this call returns.
pub unsafe fn run_slot(slot_exec_addr: usize, block: &mut EmulationBlock) {
    assert!(
        slot_exec_addr != 0 && slot_exec_addr.is_multiple_of(4),
        "emulation slot address {slot_exec_addr:#x} is not an A32 function address"
    );
    // SAFETY: the caller guarantees a visible copy of slot_words at this non-null,
    // word-aligned address (bit 0 clear, so the call enters A32 state, which the slot is
    // written in). slot_words is a complete AAPCS function of type SlotFn: it clobbers only
    // r0-r3, r12 and the APSR flags (all caller-saved; the AAPCS leaves NZCV, Q and GE
    // undefined across calls), touches no stack, changes no mode, mask, endianness or
    // floating-point state, and returns with `bx lr`. The rewritten word in it names only
    // r0-r3, so it cannot disturb r12 (the block pointer) or anything the compiler keeps.
    let slot: SlotFn = unsafe { core::mem::transmute::<usize, SlotFn>(slot_exec_addr) };
    // The slot reads and writes the 20 bytes of *block through the pointer, which the
    // exclusive borrow makes valid and unaliased for the duration of the call.
    slot(block);
}

/// Single-steps the instruction `e` was made from, at `addr`, by running its slot at
/// `slot_exec_addr` on `frame`: the mapped registers and the flags are loaded from the
/// frame, the results and flags written back, and the PC advanced to `addr + 4`.
///
/// # Safety
///
/// As for [`run_slot`], with the slot holding `e.slot_words()`.
pub unsafe fn emulate(e: &Emulation, slot_exec_addr: usize, frame: &mut TrapFrame, addr: u32) {
    let mut block = e.load(frame);
    // SAFETY: the caller's guarantee for this slot is run_slot's, and e.word, an
    // Emulation's rewrite, names only r0-r3 without PC, memory or status reads.
    unsafe { run_slot(slot_exec_addr, &mut block) };
    e.store(&block, frame, addr);
}
