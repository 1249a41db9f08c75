//! armv7-kprobes wired into the kernel, as a user would: the rendezvous and its IPI, the
//! probe registry, and the undefined-instruction path into it.

use crate::cache::KernelCacheOps;
use crate::irq;
use crate::platform::{IPI_KPROBES, PLATFORM, QemuPlatform};
use armv7_kprobes::TrapFrame;
use armv7_kprobes::arch::memory::DirectMemory;
use armv7_kprobes::kprobe::{Kprobes, Trap};
use armv7_kprobes::kretprobe::Kretprobes;
use armv7_kprobes::stop_machine::Rendezvous;

/// The machine's one rendezvous.
pub static RENDEZVOUS: Rendezvous<KernelCacheOps> = Rendezvous::new(KernelCacheOps);

/// Lookup-table entries of the kernel's registry (up to half as many probed addresses).
pub const TABLE: usize = 32 * 1024;

/// The kernel's probe registry.
pub static KPROBES: Kprobes<QemuPlatform, KernelCacheOps, TABLE> =
    Kprobes::new(&PLATFORM, &RENDEZVOUS);

/// The kernel's return probes: the table the crate's return trampoline consults.
pub static KRETPROBES: Kretprobes<QemuPlatform> = Kretprobes::new(&PLATFORM);

fn on_ipi(_ipi: u32, _from: usize) {
    // Where this core resumes after the IPI: the rendezvous must know whether it may be
    // inside a trampoline slot. Sound here: IRQs never nest and no thread is preempted.
    RENDEZVOUS.ipi_entry_at(&PLATFORM, irq::interrupted_pc());
}

/// Routes the crate's IPI to the rendezvous. Core 0, before the secondaries start.
pub fn init() {
    irq::set_ipi_handler(IPI_KPROBES, on_ipi);
}

/// The undefined-instruction path: whether the trap was a probe's (the frame then says
/// where to resume). A probe whose instruction cannot be stepped is fatal, as the
/// instruction itself would have been.
///
/// # Safety
///
/// IRQs and FIQs masked, as the crate's undefined-instruction entry leaves them for
/// `trap.rs`'s handlers.
pub unsafe fn handle_undefined(frame: &mut TrapFrame) -> bool {
    // SAFETY: the caller's contract is `handle_undefined_masked`'s.
    match unsafe { KPROBES.handle_undefined_masked(frame, &mut DirectMemory) } {
        Trap::Handled | Trap::Retry => true,
        Trap::NotOurs => false,
        Trap::StepFailed(e) => {
            crate::uart::print_unlocked(format_args!(
                "\n!!! probed instruction at {:#010x} cannot be stepped: {e}\n",
                frame.pc
            ));
            crate::semihosting::exit(5)
        }
    }
}
