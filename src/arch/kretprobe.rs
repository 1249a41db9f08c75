//! The return trampoline: where a followed call returns instead of to its caller, so the
//! return handler can run before the caller gets its result.
//!
//! The entry hook ([`crate::kretprobe`]) replaces the probed function's `lr` with the
//! address of the call's own return stub (one `bl` into the stub trampoline, so `lr`
//! names the instance) when its instance has one, else with [`trampoline_address`]. The
//! function returns there with its result in r0/r1 and `sp` as at entry (S). Both
//! trampolines are the same code calling a different Rust half:
//! 1. keeps S in r12, aligns `sp` down to 8 bytes (the AAPCS wants that at a call; a
//!    caller's `sp` need not be) and builds a [`TrapFrame`] below it with two stores:
//!    `sp` = S and `lr` (the function's, or the stub's `bl` return) first, then r0–r12
//!    (r12 holding S); then masks IRQs and FIQs and stores `cpsr`;
//! 2. calls the crate's return path with it, which hands it to the masked half of
//!    [`Kretprobes::handle_return`](crate::kretprobe::Kretprobes::handle_return) of the
//!    table that registered the first return probe (the shared trampoline: the instance
//!    is found by entry sp) or straight to the stub's instance: that fills in `pc` (the
//!    real return address) and runs the return handler;
//! 3. restores the flags and the interrupt masks as they were, `lr` and r0–r11 from the
//!    frame, loads `pc` into r12, `sp` = S, and `bx r12`: as for `bx`, bit 0 of the
//!    address picks Thumb or A32 state.
//!
//! r12 (the AAPCS's intra-procedure scratch register, which no caller expects kept
//! across a call) is the one register not carried through: the return handler sees S in
//! `frame.r[12]`, and the caller gets the return address in r12.
//!
//! Everything below S is free stack (the AAPCS has no red zone), and `sp` always stays
//! below what the trampoline still needs, so an interrupt taken on the same stack at any
//! point cannot overwrite it. The code lives in `.text.noprobe`, which kernels must cover
//! with [`crate::Platform::never_probe`]: a breakpoint here would trap on every return.

use crate::frame::TrapFrame;

/// Bytes the trampoline reserves for the frame, rounded up to 8.
const FRAME_ALLOC: usize = TrapFrame::SIZE.next_multiple_of(8);
/// From the aligned `sp` down to the frame's `sp` field.
const TO_SP_FIELD: usize = FRAME_ALLOC - TrapFrame::OFFSET_SP;
const _: () = assert!(TrapFrame::OFFSET_LR == TrapFrame::OFFSET_SP + 4);
const _: () = assert!(TrapFrame::OFFSET_SP == 13 * 4);

/// One return trampoline: `$name` its symbol, in section `$section`, `$call` the
/// instructions that call its Rust half with the frame (at `sp`), followed by `$after`
/// (more code in the same section), `$($op)*` the operands they use.
macro_rules! return_trampoline {
    ($name:literal, $section:literal, [$($call:literal),*], [$($after:literal),*], $($op:tt)*) => {
        // SAFETY (the whole trampoline): it is entered only as the return of a function
        // whose `lr` the entry hook replaced (the shared trampoline), or from that
        // function's own return stub (`bl`, so `lr` names the stub; `lr` is dead at a
        // return), so at entry r0-r3/r12/lr/flags are dead to the function and live only
        // as its results (r12 never: the AAPCS lets any call clobber it), sp is the
        // caller's sp, and the caller expects r4-r11 and sp preserved. It touches memory
        // only below S (free stack): the frame is FRAME_ALLOC bytes below the aligned sp,
        // and sp moves there before (`sub`) or with (`stmdb` writeback) each store into
        // it. It keeps sp 8-byte aligned across the Rust call (AAPCS), which preserves
        // r4-r11 and sp itself, restores r0-r11 and lr from the frame, sp to S, and
        // branches to the real return address with interworking (`bx r12`). It masks
        // IRQs and FIQs (`cpsid if`) right after the frame's registers are saved, and
        // puts back the control byte it read then (`msr cpsr_c` from r4, callee-saved
        // across the call and reloaded from the frame after; the mode is unchanged, so
        // no banked register moves) before reloading the registers; sp stays at the
        // frame until the `ldr sp` before the branch, which needs nothing below S. It is
        // never probed: `.text.noprobe`.
        core::arch::global_asm!(
            concat!(".pushsection ", $section, ", \"ax\", %progbits"),
            ".arm",
            concat!(".global ", $name),
            concat!(".type ", $name, ", %function"),
            ".p2align 2",
            concat!($name, ":"),
            "    mov     r12, sp",                // S
            "    bic     sp, sp, #7",             // AAPCS: 8-byte aligned for the call
            "    sub     sp, sp, #{to_sp}",       // at the frame's sp field
            "    stmia   sp, {{r12, lr}}",        // frame.sp = S, frame.lr
            "    stmdb   sp!, {{r0-r12}}",        // frame.r0..r12 (r12 = S); sp = frame
            "    mrs     r4, cpsr",               // r4 (saved above) keeps it across the call
            "    cpsid   if",                     // the return path runs with IRQs, FIQs masked
            "    str     r4, [sp, #{off_cpsr}]",  // frame.cpsr (its flags are restored below)
            $($call,)*                            // Rust: sets frame.pc
            "    ldr     r1, [sp, #{off_cpsr}]",
            "    msr     APSR_nzcvqg, r1",        // flags as the return handler left them
            "    msr     cpsr_c, r4",             // masks as at the return (same mode)
            "    ldr     lr, [sp, #{off_lr}]",
            "    ldr     r12, [sp, #{off_pc}]",   // the real return address
            "    ldmia   sp, {{r0-r11}}",         // no writeback: sp still the frame
            "    ldr     sp, [sp, #{off_sp}]",    // sp = S
            "    bx      r12",
            concat!(".size ", $name, ", . - ", $name),
            $($after,)*
            ".popsection",
            $($op)*
            to_sp = const TO_SP_FIELD,
            off_lr = const TrapFrame::OFFSET_LR,
            off_sp = const TrapFrame::OFFSET_SP,
            off_pc = const TrapFrame::OFFSET_PC,
            off_cpsr = const TrapFrame::OFFSET_CPSR,
        );
    };
}

/// Return stubs: one per instance of the first [`STUBS_PER_ENTRY`] of each table entry's
/// pool. A followed call whose instance has a stub returns to it; the stub's `bl` enters
/// the stub trampoline with `lr` = the stub + 4, which names the instance, so the return
/// path needs no search (see [`crate::kretprobe`]).
pub(crate) const STUBS_PER_ENTRY: usize = 32;
const STUBS: usize = STUBS_PER_ENTRY * crate::kretprobe::MAX_KRETPROBES;

// The shared trampoline: the return path finds the call's instance by its entry sp.
return_trampoline!(
    "armv7_kprobes_kretprobe_trampoline",
    ".text.noprobe.armv7_kprobes_kretprobe_trampoline",
    [
        "    mov     r0, sp",
        "    bl      armv7_kprobes_kretprobe_return"
    ],
    [],
);
// The return stubs' trampoline, and after it the stubs (one section, so `adr` reaches
// them): the stub that called it names the instance. It calls the `stub_return` of the
// header RETURN_PATH points at (never null: a table's, or the one that panics) with the
// header, the stub's number and the frame, as `extern "C"`. SAFETY of the stubs: each is
// one `bl` to the stub trampoline (whose contract it meets: it is only ever a followed
// call's return address, so it runs as that call's return, and `bl` only changes `lr`,
// dead at a return). `.text.noprobe`: never probed. (Not assembled for the host's
// documentation: RETURN_PATH is ARM-only.)
#[cfg(target_arch = "arm")]
return_trampoline!(
    "armv7_kprobes_kretprobe_stub_trampoline",
    ".text.noprobe.kretprobe_stubs",
    [
        "    adr     r1, armv7_kprobes_kretprobe_stubs + 4",
        "    sub     r1, lr, r1",
        "    lsr     r1, r1, #2",              // the stub's number (lr = the stub + 4)
        "    movw    r0, #:lower16:{return_path}",
        "    movt    r0, #:upper16:{return_path}",
        "    ldr     r0, [r0]",                // the header
        "    mov     r2, sp",                  // the frame
        "    ldr     r12, [r0, #{off_stub_return}]",
        "    blx     r12"
    ],
    [
        ".global armv7_kprobes_kretprobe_stubs",
        ".p2align 2",
        "armv7_kprobes_kretprobe_stubs:",
        ".rept {stubs}",
        "    bl      armv7_kprobes_kretprobe_stub_trampoline",
        ".endr"
    ],
    return_path = sym crate::kretprobe::RETURN_PATH,
    off_stub_return = const core::mem::offset_of!(crate::kretprobe::TableHeader, stub_return),
    stubs = const STUBS,
);

unsafe extern "C" {
    /// The trampoline above; never called, only returned to.
    fn armv7_kprobes_kretprobe_trampoline();
    /// The first return stub; never called, only returned to.
    fn armv7_kprobes_kretprobe_stubs();
}

/// The trampoline's address (A32, bit 0 clear).
pub fn trampoline_address() -> usize {
    armv7_kprobes_kretprobe_trampoline as *const () as usize
}

/// The address of return stub `n` (< the stub count), A32.
pub(crate) fn stub_address(n: usize) -> usize {
    armv7_kprobes_kretprobe_stubs as *const () as usize + 4 * n
}
