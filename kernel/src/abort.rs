//! Data and prefetch aborts with a full, mutable register frame, so that an abort taken
//! in a probed instruction's step is reported where it belongs: at the probed instruction,
//! with the registers it ran with (`Kprobes::fixup_fault`), and a handler may fix it up
//! and resume through the frame.
//!
//! The entries are the undefined-instruction entry's shape (`trap.rs`), written once as a
//! macro so any kernel could take them: leave ABT mode at once (16 bytes of ABT stack,
//! released before any Rust runs), build an [`EntryFrame`] on the SYS stack
//! `TRAP_STACK_GAP` bytes below the SYS stack pointer at the abort, call Rust, and return
//! with an exception return through the frame — whatever mode, registers and pc it now
//! holds. Interrupted modes supported: USR/SYS, SVC, UND, IRQ, FIQ (ABT itself is not
//! re-entered: this code and the Rust handler are never-probe and do not fault).

use crate::trap::TRAP_STACK_GAP;
use armv7_kprobes::TrapFrame;
use armv7_kprobes::kprobe::FaultFixup;
use core::sync::atomic::{AtomicUsize, Ordering};

/// The frame an exception entry of this kernel builds: the crate's [`TrapFrame`], then
/// the SYS-mode stack pointer at the exception (restored on exit when the frame's mode is
/// not USR/SYS). The undefined-instruction entry builds the same.
#[repr(C)]
pub struct EntryFrame {
    /// The interrupted context.
    pub frame: TrapFrame,
    /// SYS sp when the exception was taken.
    pub sys_sp: u32,
}

const FRAME_ALLOC: usize = core::mem::size_of::<EntryFrame>();
const _: () = assert!(FRAME_ALLOC.is_multiple_of(8) && FRAME_ALLOC == TrapFrame::SIZE + 4);
const OFF_SYS_SP: usize = core::mem::offset_of!(EntryFrame, sys_sp);
// The undefined-instruction entry (trap.rs) saves SYS sp at the same place.
const _: () = assert!(OFF_SYS_SP == TrapFrame::SIZE);

/// Which abort a handler sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abort {
    /// A load or store aborted (DFAR/DFSR describe it).
    Data,
    /// An instruction fetch aborted (IFAR/IFSR describe it).
    Prefetch,
}

/// A handler for aborts, consulted after the crate's fixup: the frame is the aborted
/// context (moved to the probed instruction when `fixup` is `Some`). Returns whether it
/// handled the abort (then execution resumes from the frame, which it may have changed).
pub type AbortHook = fn(Abort, &mut TrapFrame, Option<FaultFixup>) -> bool;

static HOOK: AtomicUsize = AtomicUsize::new(0);

/// Installs (or removes) the abort handler a test uses.
pub fn set_abort_hook(hook: Option<AbortHook>) {
    HOOK.store(hook.map_or(0, |h| h as usize), Ordering::Release);
}

/// One abort entry: `$name` is the vector's symbol, `$adjust` what to subtract from
/// LR_abt to get the aborting instruction (8 for a data abort, 4 for a prefetch abort,
/// in both instruction sets), `$rust` the `extern "C" fn(&mut EntryFrame)` to call.
macro_rules! abort_entry {
    ($name:literal, $adjust:literal, $rust:literal) => {
        // SAFETY (the whole entry): reached only from the vector table on an abort, in
        // ABT mode with IRQs and asynchronous aborts masked. It uses 16 bytes of the ABT
        // stack (released before any Rust runs) and the SYS stack below the gap (the
        // aborted code's own SYS stack, if that is what it used, stays intact above),
        // saves and restores every register of the interrupted context through the
        // frame, visits another mode touching only r0-r4 (never the r8-r12 FIQ mode
        // banks), and returns with an exception return (`movs pc, lr` in ABT mode: CPSR
        // <- SPSR_abt = frame.cpsr). The Rust callee is an AAPCS function that may change
        // the frame; the exit writes whatever it left into the machine.
        core::arch::global_asm!(
            concat!(".pushsection .text.noprobe.", $name, ", \"ax\", %progbits"),
            ".arm",
            concat!(".global ", $name),
            concat!(".type ", $name, ", %function"),
            ".p2align 2",
            concat!($name, ":"),
            "    srsdb   sp!, #0x17",          // ABT stack: [lr_abt, spsr_abt]
            "    push    {{r0, r1}}",          // ABT stack: [r0, r1, lr_abt, spsr_abt]
            "    mov     r0, sp",
            "    add     sp, sp, #16",         // ABT stack empty again; words read below
            "    cps     #0x1f",               // SYS mode, I and A still set
            "    mov     r1, sp",              // SYS sp at the abort
            "    sub     sp, sp, #{gap}",
            "    bic     sp, sp, #7",
            "    sub     sp, sp, #{alloc}",
            "    str     r1, [sp, #{off_sys_sp}]",
            "    add     r1, sp, #8",
            "    stmia   r1, {{r2-r12}}",      // frame.r2..r12
            "    ldmia   r0, {{r2-r5}}",       // r2=r0 r3=r1 r4=lr_abt r5=spsr
            "    stmia   sp, {{r2, r3}}",      // frame.r0, r1
            concat!("    sub     r4, r4, #", $adjust),
            "    str     r4, [sp, #{off_pc}]",
            "    str     r5, [sp, #{off_cpsr}]",
            "    and     r6, r5, #0x1f",       // aborted mode
            "    cmp     r6, #0x10",
            "    cmpne   r6, #0x1f",
            "    bne     1f",
            "    ldr     r2, [sp, #{off_sys_sp}]",
            "    mov     r3, lr",
            "    b       2f",
            "1:  mrs     r0, cpsr",
            "    bic     r1, r0, #0x1f",
            "    orr     r1, r1, r6",
            "    msr     cpsr_c, r1",
            "    mov     r2, sp",
            "    mov     r3, lr",
            "    msr     cpsr_c, r0",
            "2:  str     r2, [sp, #{off_sp}]",
            "    str     r3, [sp, #{off_lr}]",
            "    mov     r0, sp",
            concat!("    bl      ", $rust),
            "    mov     r0, sp",
            "    ldr     r2, [r0, #{off_sp}]",
            "    ldr     r3, [r0, #{off_lr}]",
            "    ldr     r5, [r0, #{off_cpsr}]",
            "    and     r6, r5, #0x1f",
            "    cmp     r6, #0x10",
            "    cmpne   r6, #0x1f",
            "    bne     3f",
            "    mov     lr, r3",              // USR/SYS: lr, sp from the frame
            "    mov     sp, r2",
            "    b       4f",
            "3:  mrs     r4, cpsr",            // other mode: its sp/lr from the frame
            "    bic     r1, r4, #0x1f",
            "    orr     r1, r1, r6",
            "    msr     cpsr_c, r1",
            "    mov     sp, r2",
            "    mov     lr, r3",
            "    msr     cpsr_c, r4",
            "    ldr     sp, [r0, #{off_sys_sp}]", // SYS sp as the handler left it
            "4:  cps     #0x17",               // ABT mode for the exception return
            "    ldr     lr, [r0, #{off_pc}]",
            "    ldr     r1, [r0, #{off_cpsr}]",
            "    msr     spsr_cxsf, r1",
            "    ldmia   r0, {{r0-r12}}",
            "    movs    pc, lr",
            concat!(".size ", $name, ", . - ", $name),
            ".popsection",
            gap = const TRAP_STACK_GAP,
            alloc = const FRAME_ALLOC,
            off_sys_sp = const OFF_SYS_SP,
            off_sp = const TrapFrame::OFFSET_SP,
            off_lr = const TrapFrame::OFFSET_LR,
            off_pc = const TrapFrame::OFFSET_PC,
            off_cpsr = const TrapFrame::OFFSET_CPSR,
        );
    };
}

abort_entry!("_asm_data_abort_handler", "8", "kernel_data_abort");
abort_entry!("_asm_prefetch_abort_handler", "4", "kernel_prefetch_abort");

const MODE_USR: u32 = 0x10;
const MODE_SYS: u32 = 0x1f;

fn usr_or_sys(cpsr: u32) -> bool {
    matches!(cpsr & 0x1f, MODE_USR | MODE_SYS)
}

/// Asks the crate whether the abort belongs to a probed instruction and, if so, moves
/// the frame there. Only the kernel's registry is asked: a kernel with several registries
/// asks each (at most one has a step in progress on this CPU or owns the slot). On the breakpoint path the step ran in SYS mode on the stack our
/// undefined-instruction entry chose; when the probed code ran in another mode, the SYS
/// stack pointer to go back to is the one that entry saved next to the frame the step
/// ran from (the abandoned handler stack below it is given up).
#[unsafe(link_section = ".text.noprobe.abort_rust")]
fn fixup(entry: &mut EntryFrame) -> Option<FaultFixup> {
    let aborted_in_sys = entry.frame.cpsr & 0x1f == MODE_SYS;
    let fix = crate::probes::KPROBES.fixup_fault(&mut entry.frame)?;
    if let FaultFixup::Stepped { stepped_frame, .. } = fix
        && aborted_in_sys
        && !usr_or_sys(entry.frame.cpsr)
    {
        // SAFETY: an abort taken in SYS mode during a step whose probed code ran in
        // another mode is the breakpoint path (a trampoline steps in the probed mode),
        // whose frame our undefined-instruction entry built as an EntryFrame, still
        // intact above the aborted handler's stack.
        entry.sys_sp = unsafe { (*(stepped_frame as *const EntryFrame)).sys_sp };
    }
    Some(fix)
}

// Never-probe like the rest of the abort path (whether the compiler inlines it into
// the entries or not).
#[unsafe(link_section = ".text.noprobe.abort_rust")]
fn handle(kind: Abort, entry: &mut EntryFrame) {
    let fix = fixup(entry);
    let h = HOOK.load(Ordering::Acquire);
    if h != 0 {
        // SAFETY: HOOK only ever holds 0 or an `AbortHook` (set_abort_hook).
        let hook: AbortHook = unsafe { core::mem::transmute::<usize, AbortHook>(h) };
        if hook(kind, &mut entry.frame, fix) {
            return;
        }
    }
    let (far, fsr) = fault_registers(kind);
    let cpu = crate::smp::cpu_id();
    let pc = entry.frame.pc;
    if let Some(f) = fix {
        crate::uart::print_unlocked(format_args!(
            "\n!!! {kind:?} abort in the step of the probe at {:#010x} on cpu {cpu} \
             (FAR {far:#010x} FSR {fsr:#x})\n{:x?}\n",
            f.addr(),
            entry.frame
        ));
    } else {
        crate::uart::print_unlocked(format_args!(
            "\n!!! {kind:?} abort at {pc:#010x} on cpu {cpu} (FAR {far:#010x} FSR {fsr:#x})\n{:x?}\n",
            entry.frame
        ));
    }
    crate::semihosting::exit(4);
}

/// The fault address and status registers of `kind` (DFAR/DFSR or IFAR/IFSR).
pub fn fault_registers(kind: Abort) -> (u32, u32) {
    let (far, fsr): (u32, u32);
    // SAFETY: reads the fault address and status registers; no side effects.
    unsafe {
        match kind {
            Abort::Data => core::arch::asm!(
                "mrc p15, 0, {a}, c6, c0, 0", "mrc p15, 0, {s}, c5, c0, 0",
                a = out(reg) far, s = out(reg) fsr, options(nostack, nomem, preserves_flags)),
            Abort::Prefetch => core::arch::asm!(
                "mrc p15, 0, {a}, c6, c0, 2", "mrc p15, 0, {s}, c5, c0, 1",
                a = out(reg) far, s = out(reg) fsr, options(nostack, nomem, preserves_flags)),
        }
    }
    (far, fsr)
}

/// Called by the data-abort entry with the saved frame.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.noprobe.abort_rust")]
extern "C" fn kernel_data_abort(entry: &mut EntryFrame) {
    handle(Abort::Data, entry);
}

/// Called by the prefetch-abort entry with the saved frame.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.noprobe.abort_rust")]
extern "C" fn kernel_prefetch_abort(entry: &mut EntryFrame) {
    handle(Abort::Prefetch, entry);
}
