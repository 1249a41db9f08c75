//! The kernel's side of the undefined-instruction and IRQ entries the crate ships
//! (`armv7_kprobes::glue`, feature `aarch32-rt`: they replace aarch32-rt's defaults):
//! the Rust functions those entries call. Aborts: `abort.rs`.
//!
//! The kernel does not use `exception_glue!` because its tests install hooks that see
//! an undefined instruction before the kernel's registry does (a second registry, the
//! conformance harness, the benchmark's skip).

use armv7_kprobes::TrapFrame;
use armv7_kprobes::glue::ExceptionFrame;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// A handler for undefined-instruction traps. Returns whether it handled the trap
/// (then execution resumes from the frame, which it may have changed).
pub type UndefinedHook = fn(&mut TrapFrame) -> bool;

/// What the crate's entry calls: the whole of the kernel's handling of a trap.
pub type UndefinedHandler = fn(&mut ExceptionFrame);

static HOOK: AtomicUsize = AtomicUsize::new(0);

/// The handler the entry calls: [`registry_first`], [`hook_first`] while a hook is
/// installed, or a benchmark's own. Kept as a function pointer so that a trap with no
/// hook installed pays one indirect call, not a test of the hook.
static HANDLER: AtomicPtr<()> = AtomicPtr::new(registry_first as *mut ());

/// Installs the handler consulted first on every undefined-instruction trap.
pub fn set_undefined_hook(hook: Option<UndefinedHook>) {
    HOOK.store(hook.map_or(0, |h| h as usize), Ordering::Release);
    set_undefined_handler(hook.map(|_| hook_first as UndefinedHandler));
}

/// Replaces the kernel's whole handling of undefined instructions with `handler` (the
/// benchmark's exception round trip), or puts the normal one back (`None`).
pub fn set_undefined_handler(handler: Option<UndefinedHandler>) {
    let handler = handler.unwrap_or(registry_first);
    HANDLER.store(handler as *mut (), Ordering::Release);
}

/// Called by the crate's undefined-instruction entry (SYS mode, IRQs and FIQs masked)
/// with the interrupted context.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.noprobe.und_rust")]
extern "C" fn armv7_kprobes_undefined(entry: &mut ExceptionFrame) {
    // Relaxed: the handlers are code; what a hook reads it publishes itself (and
    // `hook_first` loads the hook with Acquire).
    let handler = HANDLER.load(Ordering::Relaxed);
    // SAFETY: HANDLER only ever holds an `UndefinedHandler` (set_undefined_handler).
    let handler = unsafe { core::mem::transmute::<*mut (), UndefinedHandler>(handler) };
    handler(entry);
}

/// The normal handling: the kernel's registry, then a report. Only for the crate's
/// entry (IRQs and FIQs masked), directly or through another handler.
#[unsafe(link_section = ".text.noprobe.und_rust")]
pub fn registry_first(entry: &mut ExceptionFrame) {
    let frame = &mut entry.frame;
    // SAFETY: reached only from the crate's undefined-instruction entry (through
    // `armv7_kprobes_undefined`), which masks IRQs and FIQs.
    if unsafe { crate::probes::handle_undefined(frame) } {
        return;
    }
    unhandled(frame);
}

/// The handling while a test's hook is installed: the hook, then the normal handling.
#[unsafe(link_section = ".text.noprobe.und_rust")]
fn hook_first(entry: &mut ExceptionFrame) {
    let h = HOOK.load(Ordering::Acquire);
    if h != 0 {
        // SAFETY: HOOK only ever holds 0 or an `UndefinedHook` (set_undefined_hook).
        let hook: UndefinedHook = unsafe { core::mem::transmute::<usize, UndefinedHook>(h) };
        if hook(&mut entry.frame) {
            return;
        }
    }
    registry_first(entry);
}

/// An undefined instruction nobody claims: report it and stop (out of line, so the hot
/// path above keeps a small frame).
#[inline(never)]
#[cold]
#[unsafe(link_section = ".text.noprobe.und_rust")]
fn unhandled(frame: &mut TrapFrame) -> ! {
    // SAFETY: reading the word at the trapped pc: kernel text, mapped readable.
    let word = unsafe { core::ptr::read_volatile(frame.pc as *const u32) };
    crate::uart::print_unlocked(format_args!(
        "\n!!! undefined instruction {word:#010x} at {:#010x} on cpu {}\n{frame:x?}\n",
        frame.pc,
        crate::smp::cpu_id()
    ));
    crate::semihosting::exit(3);
}

/// Called by the crate's IRQ entry (SYS mode, IRQs masked) with the pc the interrupted
/// context resumes at.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.noprobe.irq_rust")]
extern "C" fn armv7_kprobes_irq(interrupted_pc: usize) {
    crate::irq::handle_irq(interrupted_pc);
}
