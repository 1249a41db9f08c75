//! Exception entries the kernel owns: the undefined-instruction trap (the kprobe
//! breakpoint path) with a full, mutable register frame (aborts: `abort.rs`).
//!
//! The UND entry leaves UND mode at once and runs the Rust handler in SYS mode, so a
//! handler may itself hit a breakpoint (a nested UND would otherwise overwrite
//! `lr_und`, which compiled code uses as its link register). The frame goes on the
//! SYS stack `TRAP_STACK_GAP` bytes below the interrupted SYS stack pointer: stepping
//! an instruction such as `push {r4-r11, lr}` writes below the interrupted `sp`, and
//! must not overwrite the frame.

use armv7_kprobes::TrapFrame;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Bytes left free below the interrupted SYS-mode stack pointer before the frame.
pub const TRAP_STACK_GAP: usize = 256;

/// A handler for undefined-instruction traps. Returns whether it handled the trap
/// (then execution resumes from the frame, which it may have changed).
pub type UndefinedHook = fn(&mut TrapFrame) -> bool;

static HOOK: AtomicUsize = AtomicUsize::new(0);

/// Installs the handler consulted first on every undefined-instruction trap.
pub fn set_undefined_hook(hook: Option<UndefinedHook>) {
    HOOK.store(hook.map_or(0, |h| h as usize), Ordering::Release);
}

// Frame: 17 words (TrapFrame) + the SYS sp at the trap, 72 bytes (8-byte multiple).
const FRAME_ALLOC: usize = TrapFrame::SIZE + 4;
const _: () = assert!(FRAME_ALLOC.is_multiple_of(8));
const OFF_SYS_SP: usize = TrapFrame::SIZE;

// SAFETY (the whole entry): reached only from the vector table on an Undefined
// Instruction exception, in UND mode with IRQs masked. It uses only the UND stack
// (16 bytes, released before any Rust runs) and the SYS stack below the gap, restores
// every register of the interrupted context from the frame, and returns with an
// exception return (`movs pc, lr` in UND mode: CPSR <- SPSR_und). Interrupted modes
// supported: USR/SYS (share sp/lr), SVC, ABT, IRQ, FIQ. UND itself is never
// interrupted by a probe (this code is never-probe) and HYP/MON are not used.
core::arch::global_asm!(
    ".pushsection .text.noprobe.und_entry, \"ax\", %progbits",
    ".arm",
    ".global _asm_undefined_handler",
    ".type _asm_undefined_handler, %function",
    ".p2align 2",
    "_asm_undefined_handler:",
    "    srsdb   sp!, #0x1b",          // UND stack: [lr_und, spsr_und]
    "    push    {{r0, r1}}",          // UND stack: [r0, r1, lr_und, spsr_und]
    "    mov     r0, sp",              // r0 -> those four words
    "    add     sp, sp, #16",         // UND stack empty again; words copied below
    "    cps     #0x1f",               // SYS mode, I still set (F as interrupted)
    "    mov     r1, sp",              // r1 = SYS sp at the trap
    "    sub     sp, sp, #{gap}",      // keep the gap free for stepped stores
    "    bic     sp, sp, #7",          // AAPCS: 8-byte aligned
    "    sub     sp, sp, #{alloc}",
    "    str     r1, [sp, #{off_sys_sp}]",
    "    add     r1, sp, #8",
    "    stmia   r1, {{r2-r12}}",      // frame.r2..r12
    "    ldmia   r0, {{r2-r5}}",       // r2=r0 r3=r1 r4=lr_und r5=spsr
    "    stmia   sp, {{r2, r3}}",      // frame.r0, r1
    "    tst     r5, #0x20",           // trapped in Thumb state?
    "    subne   r4, r4, #2",          // T32: lr_und = insn + 2
    "    subeq   r4, r4, #4",          // A32: lr_und = insn + 4
    "    str     r4, [sp, #{off_pc}]",
    "    str     r5, [sp, #{off_cpsr}]",
    "    and     r6, r5, #0x1f",       // interrupted mode
    "    cmp     r6, #0x10",
    "    cmpne   r6, #0x1f",
    "    bne     1f",
    "    ldr     r2, [sp, #{off_sys_sp}]", // USR/SYS: sp at the trap
    "    mov     r3, lr",              // and lr_sys, untouched so far
    "    b       2f",
    // Other mode: visit it to read its sp/lr. Only r0-r3 are touched while there
    // (never r8-r12, which FIQ mode banks).
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
    "    bl      kernel_undefined_trap", // Rust: extern \"C\" fn(&mut TrapFrame)
    // Back from Rust: write the (possibly changed) frame into the machine.
    "    mov     r0, sp",              // r0 = frame from here on
    "    ldr     r2, [r0, #{off_sp}]",
    "    ldr     r3, [r0, #{off_lr}]",
    "    ldr     r5, [r0, #{off_cpsr}]",
    "    and     r6, r5, #0x1f",
    "    cmp     r6, #0x10",
    "    cmpne   r6, #0x1f",
    "    bne     3f",
    "    mov     lr, r3",              // USR/SYS: lr_sys, sp_sys from the frame
    "    mov     sp, r2",              // (frame stays intact: it is below the gap)
    "    b       4f",
    "3:  mrs     r4, cpsr",            // other mode: set its sp/lr (r0-r4 only)
    "    bic     r1, r4, #0x1f",
    "    orr     r1, r1, r6",
    "    msr     cpsr_c, r1",
    "    mov     sp, r2",
    "    mov     lr, r3",
    "    msr     cpsr_c, r4",
    "    ldr     sp, [r0, #{off_sys_sp}]", // SYS sp as it was at the trap
    "4:  cps     #0x1b",               // UND mode for the exception return
    "    ldr     lr, [r0, #{off_pc}]",
    "    ldr     r1, [r0, #{off_cpsr}]",
    "    msr     spsr_cxsf, r1",
    "    ldmia   r0, {{r0-r12}}",      // base in list, no writeback: r0 loaded too
    "    movs    pc, lr",              // resume: pc = frame.pc, cpsr = frame.cpsr
    ".size _asm_undefined_handler, . - _asm_undefined_handler",
    ".popsection",
    gap = const TRAP_STACK_GAP,
    alloc = const FRAME_ALLOC,
    off_sys_sp = const OFF_SYS_SP,
    off_sp = const TrapFrame::OFFSET_SP,
    off_lr = const TrapFrame::OFFSET_LR,
    off_pc = const TrapFrame::OFFSET_PC,
    off_cpsr = const TrapFrame::OFFSET_CPSR,
);

/// Called by the entry above with the saved frame.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.noprobe.und_rust")]
extern "C" fn kernel_undefined_trap(frame: &mut TrapFrame) {
    let h = HOOK.load(Ordering::Acquire);
    if h != 0 {
        // SAFETY: HOOK only ever holds 0 or an `UndefinedHook` (set_undefined_hook).
        let hook: UndefinedHook = unsafe { core::mem::transmute::<usize, UndefinedHook>(h) };
        if hook(frame) {
            return;
        }
    }
    if crate::probes::handle_undefined(frame) {
        return;
    }
    // SAFETY: reading the word at the trapped pc: kernel text, mapped readable.
    let word = unsafe { core::ptr::read_volatile(frame.pc as *const u32) };
    crate::uart::print_unlocked(format_args!(
        "\n!!! undefined instruction {word:#010x} at {:#010x} on cpu {}\n{frame:x?}\n",
        frame.pc,
        crate::smp::cpu_id()
    ));
    crate::semihosting::exit(3);
}

// The IRQ entry: aarch32-rt's default entry, plus one thing it does not tell the Rust
// handler: the pc the interrupted context resumes at (lr_irq - 4), which the crate's
// rendezvous needs to know whether this CPU may be inside an instruction slot.
//
// SAFETY (the whole entry): reached only from the vector table on an IRQ, in IRQ mode
// with IRQs masked. Like aarch32-rt's `_asm_default_irq_handler` (this kernel is
// soft-float: there is no FPU context to save) it stores the return state on the SYS
// stack (`srsfd`, so the IRQ stack is never used and a nested IRQ cannot overwrite
// lr_irq in use), switches to SYS mode, saves lr_sys and the caller-saved registers on
// an 8-byte aligned stack and calls the Rust handler with r0 = the return pc (read back
// from the words `srsfd` stored: sp + 24 (six saved registers) + the alignment amount
// (in lr) + 4 (lr_sys)). It then restores every register it saved and returns with
// `rfefd`, which reloads PC and CPSR together. The handler never re-enables IRQs.
core::arch::global_asm!(
    ".pushsection .text.noprobe.irq_entry, \"ax\", %progbits",
    ".arm",
    ".global _asm_irq_handler",
    ".type _asm_irq_handler, %function",
    ".p2align 2",
    "_asm_irq_handler:",
    "    sub     lr, lr, #4", // the resume pc
    "    srsfd   sp!, #0x1f", // SYS stack: [pc, spsr_irq]
    "    cps     #0x1f",      // SYS mode, IRQs still masked
    "    push    {{lr}}",     // lr_sys
    "    and     lr, sp, #7", // AAPCS: 8-byte aligned from here
    "    sub     sp, sp, lr",
    "    push    {{r0-r3, r12, lr}}", // lr = the alignment amount
    "    add     r0, sp, lr",
    "    ldr     r0, [r0, #28]", // the resume pc stored by srsfd
    "    bl      _irq_handler",
    "    pop     {{r0-r3, r12, lr}}",
    "    add     sp, sp, lr",
    "    pop     {{lr}}",
    "    rfefd   sp!", // pc and cpsr together
    ".size _asm_irq_handler, . - _asm_irq_handler",
    ".popsection",
);

/// Called by the IRQ entry above (SYS mode, IRQs masked) with the pc the interrupted
/// context resumes at.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.noprobe.irq_rust")]
extern "C" fn _irq_handler(interrupted_pc: usize) {
    crate::gic::handle_irq(interrupted_pc);
}
