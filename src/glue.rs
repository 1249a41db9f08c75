//! The exception entries a kernel would otherwise write in assembly to use this crate:
//! undefined instruction (the breakpoint path), data and prefetch abort (faults in
//! stepped code), and IRQ (the rendezvous IPI needs the interrupted pc).
//!
//! Feature `exception-glue` assembles them under the names below, for a kernel with its
//! own vector table (`b armv7_kprobes_undefined_entry` in its undefined-instruction
//! slot, and so on); feature `aarch32-rt` also names them `_asm_undefined_handler`,
//! `_asm_data_abort_handler`, `_asm_prefetch_abort_handler` and `_asm_irq_handler`,
//! which replaces aarch32-rt's defaults in its vector table (they are weak there).
//!
//! | entry | calls (the kernel defines it, or [`exception_glue!`](crate::exception_glue) does) |
//! |---|---|
//! | `armv7_kprobes_undefined_entry` | `extern "C" fn armv7_kprobes_undefined(&mut ExceptionFrame)` |
//! | `armv7_kprobes_data_abort_entry` | `extern "C" fn armv7_kprobes_data_abort(&mut ExceptionFrame)` |
//! | `armv7_kprobes_prefetch_abort_entry` | `extern "C" fn armv7_kprobes_prefetch_abort(&mut ExceptionFrame)` |
//! | `armv7_kprobes_irq_entry` | `extern "C" fn armv7_kprobes_irq(interrupted_pc: usize)` |
//!
//! # What the three synchronous entries do (and why)
//!
//! Each saves the whole interrupted context as an [`ExceptionFrame`] — r0–r12, the
//! *interrupted mode's* banked sp and lr, the faulting instruction's address as `pc`,
//! the SPSR as `cpsr` — calls the Rust function with it, and returns through the frame
//! with an exception return, whatever the handler changed (pc, cpsr and so the mode, any
//! register, the interrupted mode's sp and lr).
//!
//! The Rust function runs in **SYS mode** with IRQs and FIQs masked (the exception masked
//! IRQs; the entry masks FIQs too, as probe handlers require, so the hit path finds both
//! masked already), not in the exception's mode: a probe handler
//! may itself hit a probe, and a nested undefined-instruction exception taken in UND mode
//! would overwrite `lr_und`, which compiled code running in UND mode uses as its link
//! register — the outer handler would then return to the wrong place. The entry never
//! uses the exception mode's own stack: `srsdb` stores the return state on the SYS stack,
//! and the exit returns with `rfeia` from the frame.
//!
//! The frame goes on the SYS stack [`STACK_GAP`] bytes below the SYS stack pointer of the
//! moment: stepping a probed `push {r4-r11, lr}` (or any store below `sp`) writes below
//! the interrupted `sp`, and must not overwrite the frame it steps from.
//!
//! Interrupted modes: USR/SYS (which share sp and lr), SVC, ABT, UND, IRQ, FIQ; the entry
//! visits the interrupted mode to read and write its sp and lr, touching only r0–r5
//! there (FIQ banks r8–r12). HYP and MON are not supported.
//!
//! # Stack
//!
//! Per synchronous exception: [`STACK_GAP`] + 76 bytes (the frame) of SYS stack plus the
//! Rust function's own use (the crate's hit path: see the README's stack table); none of
//! the exception mode's stack. The IRQ entry: 32 bytes of
//! SYS stack (and 0 of the IRQ stack) plus the Rust function's use.
//!
//! # Floating point
//!
//! The entries save no VFP/NEON registers: they are for soft-float targets
//! (`armv7a-none-eabi`), where compiled Rust never touches them. Building them for a
//! hard-float target is a compile error.
//!
//! # Placement
//!
//! All of it lives in `.text.noprobe.*` sections, which the crate's linker fragment
//! (`kprobes.x`, `kprobes-never-probe.x`) puts in the never-probe range: a probe inside
//! an exception entry would recurse.

use crate::cache::CacheOps;
use crate::frame::TrapFrame;
use crate::kprobe::{FaultFixup, Kprobes, Trap};
use crate::platform::Platform;

#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
compile_error!(
    "armv7-kprobes' exception glue saves no VFP registers and supports soft-float targets \
     (armv7a-none-eabi) only; write your own entries for a hard-float target"
);

/// Bytes left free below the interrupted SYS-mode stack pointer before the frame: room
/// for the stores a stepped instruction makes below `sp` (`push` of up to 16 registers,
/// `stmdb sp!`, `str rX, [sp, #-N]!` with N below 192).
pub const STACK_GAP: usize = 256;

/// What the synchronous entries build on the SYS stack and hand to Rust: the interrupted
/// context, then SYS mode's stack pointer and link register at the exception (restored
/// on exit, as the handler left them, when the frame's mode is not USR/SYS; for USR/SYS
/// the frame's `sp` and `lr` are them).
#[repr(C)]
#[derive(Debug)]
pub struct ExceptionFrame {
    /// The interrupted context; change it to change where and how execution resumes.
    pub frame: TrapFrame,
    /// SYS-mode sp when the exception was taken.
    pub sys_sp: u32,
    /// SYS-mode (= USR-mode) lr when the exception was taken: the Rust function runs in
    /// SYS mode, whose calls overwrite it.
    pub sys_lr: u32,
}

const FRAME_ALLOC: usize = core::mem::size_of::<ExceptionFrame>();
const _: () = assert!(FRAME_ALLOC == TrapFrame::SIZE + 8);
// The exit's `rfeia` loads pc and cpsr from two adjacent words, in that order.
const _: () = assert!(TrapFrame::OFFSET_CPSR == TrapFrame::OFFSET_PC + 4);
const _: () = assert!(
    STACK_GAP.is_multiple_of(8)
        && STACK_GAP >= crate::optprobe::MAX_STACK_WRITE_BELOW_SP as usize + 8
);
#[cfg(target_arch = "arm")]
const OFF_SYS_SP: usize = core::mem::offset_of!(ExceptionFrame, sys_sp);
// The entry stores sp, lr, pc, cpsr, sys_sp and sys_lr with one `stm`.
const _: () = assert!(
    core::mem::offset_of!(ExceptionFrame, sys_sp) == TrapFrame::SIZE
        && core::mem::offset_of!(ExceptionFrame, sys_lr) == TrapFrame::SIZE + 4
);
#[cfg(target_arch = "arm")]
const OFF_SYS_LR: usize = core::mem::offset_of!(ExceptionFrame, sys_lr);

/// Which abort a handler sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abort {
    /// A load or store aborted (DFAR/DFSR describe it).
    Data,
    /// An instruction fetch aborted (IFAR/IFSR describe it).
    Prefetch,
}

const MODE_MASK: u32 = 0x1f;
const MODE_USR: u32 = 0x10;
const MODE_SYS: u32 = 0x1f;

/// The undefined-instruction path through `kprobes`: whether the trap was one of its
/// probes' (the frame then says where to resume).
///
/// # Safety
///
/// IRQs and FIQs masked on the calling CPU, as the shipped undefined-instruction entry
/// leaves them for the function it calls ([`Kprobes::handle_undefined_masked`]'s
/// contract).
///
/// # Panics
///
/// When the probed instruction cannot be stepped ([`Trap::StepFailed`]): executing it
/// could not have gone on either.
#[cfg_attr(
    target_arch = "arm",
    unsafe(link_section = ".text.noprobe.armv7_kprobes_glue")
)]
#[inline(always)]
pub unsafe fn undefined<P: Platform, C: CacheOps, const N: usize>(
    kprobes: &Kprobes<P, C, N>,
    frame: &mut TrapFrame,
) -> bool {
    // SAFETY: the caller's contract is the callee's.
    match unsafe { kprobes.handle_undefined_masked(frame, &mut crate::arch::memory::DirectMemory) }
    {
        Trap::Handled | Trap::Retry => true,
        Trap::NotOurs => false,
        Trap::StepFailed(e) => step_failed(frame, e),
    }
}

/// [`undefined`]'s panic, out of line (the hit path keeps no formatting in its frame).
#[cold]
#[inline(never)]
#[cfg_attr(
    target_arch = "arm",
    unsafe(link_section = ".text.noprobe.armv7_kprobes_glue")
)]
fn step_failed(frame: &TrapFrame, e: crate::step::StepError) -> ! {
    panic!(
        "armv7-kprobes: the probed instruction at {:#010x} cannot be stepped: {e}",
        frame.pc
    )
}

/// Asks `kprobes` whether an abort belongs to one of its probes' stepped instructions
/// and, if so, moves the frame there ([`Kprobes::fixup_fault`]), including the SYS stack
/// pointer to go back to when the breakpoint path's step (which runs in SYS mode on the
/// stack this module's undefined-instruction entry chose) aborted for code that ran in
/// another mode. Kernels with several registries ask each: at most one answers `Some`.
#[cfg_attr(
    target_arch = "arm",
    unsafe(link_section = ".text.noprobe.armv7_kprobes_glue")
)]
pub fn fixup_abort<P: Platform, C: CacheOps, const N: usize>(
    kprobes: &Kprobes<P, C, N>,
    entry: &mut ExceptionFrame,
) -> Option<FaultFixup> {
    let aborted_in_sys = entry.frame.cpsr & MODE_MASK == MODE_SYS;
    let fix = kprobes.fixup_fault(&mut entry.frame)?;
    if let FaultFixup::Stepped { stepped_frame, .. } = fix
        && aborted_in_sys
        && !matches!(entry.frame.cpsr & MODE_MASK, MODE_USR | MODE_SYS)
    {
        // SAFETY: an abort taken in SYS mode during a step whose probed code ran in
        // another mode is the breakpoint path (a trampoline steps in the probed mode), so
        // the frame the step ran from was built by this module's undefined-instruction
        // entry as an ExceptionFrame, still intact above the aborted handler's stack.
        entry.sys_sp = unsafe { (*(stepped_frame as *const ExceptionFrame)).sys_sp };
    }
    Some(fix)
}

/// The fault address and status registers of `kind`: (DFAR, DFSR) or (IFAR, IFSR).
#[cfg_attr(
    target_arch = "arm",
    unsafe(link_section = ".text.noprobe.armv7_kprobes_glue")
)]
pub fn fault_registers(kind: Abort) -> (u32, u32) {
    #[cfg(target_arch = "arm")]
    {
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
    #[cfg(not(target_arch = "arm"))]
    {
        let _ = kind;
        unreachable!("documentation build")
    }
}

/// The default for an undefined instruction no probe claims: a panic naming it.
///
/// # Panics
///
/// Always.
#[cfg_attr(
    target_arch = "arm",
    unsafe(link_section = ".text.noprobe.armv7_kprobes_glue")
)]
pub fn unhandled_undefined(frame: &mut TrapFrame) -> ! {
    panic!(
        "undefined instruction at {:#010x} (cpsr {:#010x})",
        frame.pc, frame.cpsr
    )
}

/// The default for an abort: a panic naming it, and the probe whose stepped instruction
/// it was, if any.
///
/// # Panics
///
/// Always.
#[cfg_attr(
    target_arch = "arm",
    unsafe(link_section = ".text.noprobe.armv7_kprobes_glue")
)]
pub fn unhandled_abort(kind: Abort, frame: &mut TrapFrame, fixup: Option<FaultFixup>) -> ! {
    let (far, fsr) = fault_registers(kind);
    match fixup {
        Some(f) => panic!(
            "{kind:?} abort in the step of the probe at {:#010x} (FAR {far:#010x} FSR {fsr:#x})",
            f.addr()
        ),
        None => panic!(
            "{kind:?} abort at {:#010x} (FAR {far:#010x} FSR {fsr:#x})",
            frame.pc
        ),
    }
}

/// The default for an IRQ when the kernel names no handler: a panic (a kernel that
/// enables IRQs and has interrupt sources passes `irq = its_handler`).
///
/// # Panics
///
/// Always.
#[cfg_attr(
    target_arch = "arm",
    unsafe(link_section = ".text.noprobe.armv7_kprobes_glue")
)]
pub fn unhandled_irq(interrupted_pc: usize) -> ! {
    panic!("IRQ with no handler (interrupted at {interrupted_pc:#010x})")
}

/// Defines the four Rust functions the shipped exception entries call, for a kernel
/// with one or more [`Kprobes`] registries.
///
/// ```ignore
/// armv7_kprobes::exception_glue!(kprobes = [KPROBES]);
/// // or, with the kernel's own handlers for what no probe claims (all optional, this order):
/// armv7_kprobes::exception_glue!(
///     kprobes = [KPROBES, OTHER_REGISTRY],
///     irq = my_irq,              // fn(interrupted_pc: usize)
///     undefined = my_undefined,  // fn(&mut TrapFrame): resume from the frame, or diverge
///     abort = my_abort,          // fn(Abort, &mut TrapFrame, Option<FaultFixup>): likewise
/// );
/// ```
///
/// An undefined instruction goes to each registry in turn, then to `undefined`
/// (default [`unhandled_undefined`]). An abort is first fixed up by the registry whose
/// stepped instruction made it (if any: the frame then describes the probed instruction),
/// then goes to `abort` (default [`unhandled_abort`]). An IRQ goes to `irq` (default
/// [`unhandled_irq`]) with the pc the interrupted context resumes at, which the kernel's
/// handler of the crate's IPI passes to
/// [`Rendezvous::ipi_entry_at`](crate::Rendezvous::ipi_entry_at).
///
/// The functions are placed in the never-probe sections.
#[macro_export]
macro_rules! exception_glue {
    (
        kprobes = [$($kprobes:path),+ $(,)?]
        $(, irq = $irq:path)?
        $(, undefined = $undefined:path)?
        $(, abort = $abort:path)?
        $(,)?
    ) => {
        #[unsafe(no_mangle)]
        #[unsafe(link_section = ".text.noprobe.armv7_kprobes_glue")]
        extern "C" fn armv7_kprobes_undefined(entry: &mut $crate::glue::ExceptionFrame) {
            $(
                // SAFETY: the shipped entry calls this function with IRQs and FIQs
                // masked.
                if unsafe { $crate::glue::undefined(&$kprobes, &mut entry.frame) } {
                    return;
                }
            )+
            $crate::__glue_or_default!($($undefined)?; $crate::glue::unhandled_undefined)(
                &mut entry.frame,
            );
        }

        #[unsafe(no_mangle)]
        #[unsafe(link_section = ".text.noprobe.armv7_kprobes_glue")]
        extern "C" fn armv7_kprobes_data_abort(entry: &mut $crate::glue::ExceptionFrame) {
            let fixup = None $(.or_else(|| $crate::glue::fixup_abort(&$kprobes, entry)))+;
            $crate::__glue_or_default!($($abort)?; $crate::glue::unhandled_abort)(
                $crate::glue::Abort::Data,
                &mut entry.frame,
                fixup,
            );
        }

        #[unsafe(no_mangle)]
        #[unsafe(link_section = ".text.noprobe.armv7_kprobes_glue")]
        extern "C" fn armv7_kprobes_prefetch_abort(entry: &mut $crate::glue::ExceptionFrame) {
            let fixup = None $(.or_else(|| $crate::glue::fixup_abort(&$kprobes, entry)))+;
            $crate::__glue_or_default!($($abort)?; $crate::glue::unhandled_abort)(
                $crate::glue::Abort::Prefetch,
                &mut entry.frame,
                fixup,
            );
        }

        #[unsafe(no_mangle)]
        #[unsafe(link_section = ".text.noprobe.armv7_kprobes_glue")]
        extern "C" fn armv7_kprobes_irq(interrupted_pc: usize) {
            $crate::__glue_or_default!($($irq)?; $crate::glue::unhandled_irq)(interrupted_pc);
        }
    };
}

/// `exception_glue!`'s choice between a given handler and the default.
#[doc(hidden)]
#[macro_export]
macro_rules! __glue_or_default {
    ($given:path; $default:path) => {
        $given
    };
    (; $default:path) => {
        $default
    };
}

/// One synchronous entry: `$name` its symbol, `$mode` the exception's mode number,
/// `$adjust_arm`/`$adjust_thumb` what to subtract from the exception's lr for the
/// faulting instruction's address in A32/T32 state, `$rust` the Rust function.
#[cfg(target_arch = "arm")]
macro_rules! synchronous_entry {
    ($name:literal, $mode:literal, $adjust_arm:literal, $adjust_thumb:literal, $rust:literal) => {
        // SAFETY (the whole entry): reached only from the vector table on its exception,
        // in that exception's mode with IRQs masked; it masks FIQs too (`cpsid f` with the
        // switch to SYS mode), restored by the exit from the frame's cpsr. `srsdb` stores the exception's
        // return state (lr, spsr) just below the SYS sp of the moment, where nothing
        // lives (an interrupted USR/SYS context's own stack stays intact above; for such
        // a context a stepped store below its sp may later overwrite the two words, which
        // the entry has copied into the frame by then); the exception mode's own stack is
        // never used. The frame goes STACK_GAP bytes below that SYS sp (r0-r12 with one
        // `stmdb sp!`, which stores and moves sp together; the rest with one `stm`); it
        // needs only word alignment, and sp is rounded down below it for the AAPCS call.
        // The entry saves every register of the interrupted context in the frame, and
        // SYS mode's sp and lr (which the Rust call uses) after it, and restores every
        // one from there; visits another mode touching only r0-r5 (never the r8-r12
        // FIQ banks); keeps the frame in r4 (callee-saved) across the call; and returns
        // with an exception return (`rfeia` in the exception's mode, from the frame's
        // adjacent pc and cpsr words through that mode's banked lr: PC <- frame.pc,
        // CPSR <- frame.cpsr). Resuming in USR/SYS, r0-r12 and USR/SYS sp and lr come
        // back with one `ldm ... ^` (the user-bank form, executed in the exception's
        // mode: it writes USR/SYS sp and lr, not the exception mode's); otherwise the
        // resumed mode's sp and lr are written by visiting it, and SYS sp and lr from
        // `sys_sp`/`sys_lr`. The Rust callee is an AAPCS function that may change the
        // frame; the exit writes whatever it left into the machine.
        //
        // USR and SYS are the modes whose number + 1 has bits [3:1] clear (0x11, 0x20);
        // every other mode (FIQ 0x11 .. UND 0x1b) + 1 has one of them set.
        core::arch::global_asm!(
            concat!(".pushsection .text.noprobe.", $name, ", \"ax\", %progbits"),
            ".arm",
            concat!(".global ", $name),
            concat!(".type ", $name, ", %function"),
            ".p2align 2",
            concat!($name, ":"),
            "    srsdb   sp!, #0x1f",               // SYS stack: [lr, spsr]
            "    cpsid   f, #0x1f",                 // SYS mode, FIQs masked as well as IRQs
            "    sub     sp, sp, #{below_srs}",     // to frame.sp's word
            "    stmdb   sp!, {{r0-r12}}",          // frame.r0..r12; sp = frame
            "    add     r8, sp, #{above_frame}",   // SYS sp at the exception
            "    ldmdb   r8, {{r6, r7}}",           // r6 = lr, r7 = spsr
            "    tst     r7, #0x20",                // taken in Thumb state?
            concat!("    subne   r6, r6, #", $adjust_thumb),
            concat!("    subeq   r6, r6, #", $adjust_arm),
            "    mov     r4, r8",                   // USR/SYS: sp at the exception
            "    mov     r5, lr",                   // and lr_sys, untouched so far
            "    add     r1, r7, #1",
            "    tst     r1, #0xe",                 // interrupted mode USR or SYS?
            "    bne     1f",
            "2:  add     r0, sp, #{off_sp}",
            "    stm     r0, {{r4-r8, lr}}",        // frame.sp, lr, pc, cpsr; sys_sp, sys_lr
            "    mov     r0, sp",                   // r0 = frame
            "    mov     r4, sp",                   // r4 = frame from here on
            "    bic     sp, sp, #7",               // AAPCS: 8-byte aligned, below it
            concat!("    bl      ", $rust),         // extern "C" fn(&mut ExceptionFrame)
            "    ldr     r1, [r4, #{off_cpsr}]",
            "    add     r2, r1, #1",
            "    tst     r2, #0xe",                 // resuming in USR or SYS?
            "    bne     3f",
            concat!("    cps     #", $mode),        // back to the exception's mode
            "    add     lr, r4, #{off_pc}",        // its banked lr: frame.pc, frame.cpsr
            "    ldmdb   lr, {{r0-r14}}^",          // r0-r12, USR/SYS sp and lr
            "    rfeia   lr",                       // pc = frame.pc, cpsr = frame.cpsr
            "1:  mrs     r0, cpsr",                 // other mode: visit it for sp, lr
            "    bic     r1, r0, #0x1f",
            "    and     r5, r7, #0x1f",
            "    orr     r1, r1, r5",
            "    msr     cpsr_c, r1",
            "    mov     r4, sp",
            "    mov     r5, lr",
            "    msr     cpsr_c, r0",
            "    b       2b",
            "3:  mrs     r0, cpsr",                 // other mode: its sp, lr
            "    bic     r5, r0, #0x1f",
            "    and     r2, r1, #0x1f",
            "    orr     r5, r5, r2",
            "    ldr     r2, [r4, #{off_sp}]",
            "    ldr     r3, [r4, #{off_lr}]",
            "    msr     cpsr_c, r5",
            "    mov     sp, r2",
            "    mov     lr, r3",
            "    msr     cpsr_c, r0",
            "    ldr     sp, [r4, #{off_sys_sp}]",  // SYS sp and lr as the handler left them
            "    ldr     lr, [r4, #{off_sys_lr}]",
            concat!("    cps     #", $mode),        // back to the exception's mode
            "    add     lr, r4, #{off_pc}",        // its banked lr: frame.pc, frame.cpsr
            "    ldmia   r4, {{r0-r12}}",           // base in the list, no writeback
            "    rfeia   lr",                       // pc = frame.pc, cpsr = frame.cpsr
            concat!(".size ", $name, ", . - ", $name),
            ".popsection",
            below_srs = const STACK_GAP - 8 + (FRAME_ALLOC - TrapFrame::OFFSET_SP),
            above_frame = const STACK_GAP + FRAME_ALLOC,
            off_sys_sp = const OFF_SYS_SP,
            off_sys_lr = const OFF_SYS_LR,
            off_sp = const TrapFrame::OFFSET_SP,
            off_lr = const TrapFrame::OFFSET_LR,
            off_pc = const TrapFrame::OFFSET_PC,
            off_cpsr = const TrapFrame::OFFSET_CPSR,
        );
    };
}

// Undefined instruction: lr_und is the instruction + 4 (A32) or + 2 (T32).
#[cfg(target_arch = "arm")]
synchronous_entry!(
    "armv7_kprobes_undefined_entry",
    "0x1b",
    "4",
    "2",
    "armv7_kprobes_undefined"
);
// Data abort: lr_abt is the instruction + 8 in both states.
#[cfg(target_arch = "arm")]
synchronous_entry!(
    "armv7_kprobes_data_abort_entry",
    "0x17",
    "8",
    "8",
    "armv7_kprobes_data_abort"
);
// Prefetch abort: lr_abt is the instruction + 4 in both states.
#[cfg(target_arch = "arm")]
synchronous_entry!(
    "armv7_kprobes_prefetch_abort_entry",
    "0x17",
    "4",
    "4",
    "armv7_kprobes_prefetch_abort"
);

// The IRQ entry: what aarch32-rt's default IRQ entry does on a soft-float target, plus
// the one thing it does not tell Rust: the pc the interrupted context resumes at
// (lr_irq - 4), which the rendezvous needs to know whether this CPU may be inside an
// instruction slot.
//
// SAFETY (the whole entry): reached only from the vector table on an IRQ, in IRQ mode
// with IRQs masked. It stores the return state on the SYS stack (`srsfd`: the IRQ stack
// is never used, and a nested IRQ cannot overwrite an lr_irq in use), switches to SYS
// mode, saves lr_sys and the caller-saved registers on an 8-byte aligned stack and calls
// Rust with r0 = the resume pc (read back from the words `srsfd` stored: sp + 24 (six
// saved registers) + the alignment amount (in lr) + 4 (lr_sys)). It then restores every
// register it saved and returns with `rfefd`, which reloads pc and cpsr together. The
// callee-saved registers are preserved by the AAPCS callee. IRQs stay masked throughout
// unless the Rust function unmasks them (then a nested IRQ nests on the SYS stack).
#[cfg(target_arch = "arm")]
core::arch::global_asm!(
    ".pushsection .text.noprobe.armv7_kprobes_irq_entry, \"ax\", %progbits",
    ".arm",
    ".global armv7_kprobes_irq_entry",
    ".type armv7_kprobes_irq_entry, %function",
    ".p2align 2",
    "armv7_kprobes_irq_entry:",
    "    sub     lr, lr, #4", // the resume pc
    "    srsfd   sp!, #0x1f", // SYS stack: [pc, spsr_irq]
    "    cps     #0x1f",      // SYS mode, IRQs still masked
    "    push    {{lr}}",     // lr_sys
    "    and     lr, sp, #7", // AAPCS: 8-byte aligned from here
    "    sub     sp, sp, lr",
    "    push    {{r0-r3, r12, lr}}", // lr = the alignment amount
    "    add     r0, sp, lr",
    "    ldr     r0, [r0, #28]",     // the resume pc stored by srsfd
    "    bl      armv7_kprobes_irq", // extern "C" fn(interrupted_pc: usize)
    "    pop     {{r0-r3, r12, lr}}",
    "    add     sp, sp, lr",
    "    pop     {{lr}}",
    "    rfefd   sp!", // pc and cpsr together
    ".size armv7_kprobes_irq_entry, . - armv7_kprobes_irq_entry",
    ".popsection",
);

// aarch32-rt's vector table branches to these names, which its linker script provides
// weakly (PROVIDE) as its defaults: a definition here takes their place.
//
// SAFETY: only symbol definitions (aliases of the entries above); no code.
#[cfg(all(target_arch = "arm", feature = "aarch32-rt"))]
core::arch::global_asm!(
    ".global _asm_undefined_handler",
    ".type _asm_undefined_handler, %function",
    ".set _asm_undefined_handler, armv7_kprobes_undefined_entry",
    ".global _asm_data_abort_handler",
    ".type _asm_data_abort_handler, %function",
    ".set _asm_data_abort_handler, armv7_kprobes_data_abort_entry",
    ".global _asm_prefetch_abort_handler",
    ".type _asm_prefetch_abort_handler, %function",
    ".set _asm_prefetch_abort_handler, armv7_kprobes_prefetch_abort_entry",
    ".global _asm_irq_handler",
    ".type _asm_irq_handler, %function",
    ".set _asm_irq_handler, armv7_kprobes_irq_entry",
);
