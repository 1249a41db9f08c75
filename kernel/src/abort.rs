//! The kernel's side of the data and prefetch abort entries the crate ships
//! (`armv7_kprobes::glue`): an abort taken in a probed instruction's step is reported
//! where it belongs — at the probed instruction, with the registers it ran with
//! (`glue::fixup_abort`) — and a test's hook may fix it up and resume through the frame.

use armv7_kprobes::TrapFrame;
use armv7_kprobes::glue::{self, ExceptionFrame};
use armv7_kprobes::kprobe::FaultFixup;
use core::sync::atomic::{AtomicUsize, Ordering};

pub use armv7_kprobes::glue::Abort;

/// A handler for aborts, consulted after the crate's fixup: the frame is the aborted
/// context (moved to the probed instruction when `fixup` is `Some`). Returns whether it
/// handled the abort (then execution resumes from the frame, which it may have changed).
pub type AbortHook = fn(Abort, &mut TrapFrame, Option<FaultFixup>) -> bool;

static HOOK: AtomicUsize = AtomicUsize::new(0);

/// Installs (or removes) the abort handler a test uses.
pub fn set_abort_hook(hook: Option<AbortHook>) {
    HOOK.store(hook.map_or(0, |h| h as usize), Ordering::Release);
}

/// Only the kernel's registry is asked to fix the abort up: a kernel with several
/// registries asks each (at most one has a step in progress on this CPU or owns the slot).
/// Never-probe like the rest of the abort path (whether the compiler inlines it into the
/// entry functions or not).
#[unsafe(link_section = ".text.noprobe.abort_rust")]
fn handle(kind: Abort, entry: &mut ExceptionFrame) {
    let fix = glue::fixup_abort(&crate::probes::KPROBES, entry);
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

pub use armv7_kprobes::glue::fault_registers;

/// Called by the crate's data-abort entry with the saved frame.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.noprobe.abort_rust")]
extern "C" fn armv7_kprobes_data_abort(entry: &mut ExceptionFrame) {
    handle(Abort::Data, entry);
}

/// Called by the crate's prefetch-abort entry with the saved frame.
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.noprobe.abort_rust")]
extern "C" fn armv7_kprobes_prefetch_abort(entry: &mut ExceptionFrame) {
    handle(Abort::Prefetch, entry);
}
