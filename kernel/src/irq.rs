//! The interrupt-controller seam: the kernel's inter-processor interrupts (IPIs) and its
//! IRQ entry, whichever controller the board has — a GICv2 (`gic.rs`: virt,
//! vexpress-a15) or the BCM2836 local mailboxes (`bcm2836.rs`: raspi2b). Everything
//! above this module (the rendezvous' IPI, the smoke tests, the conformance lab's wake-up)
//! speaks of IPI 0–3 and CPU bit masks only.
//!
//! An IPI names its sender ([`IpiHandler`]'s `from_cpu`) and is level-like on both
//! controllers: sending the same IPI from the same core again before the target took it
//! delivers it once; an IPI sent while the target's handler runs is delivered again
//! afterwards. The generic timer is only ever read (`timer.rs`): IPIs are the only
//! interrupts the kernel takes.

use crate::board::{BOARD, InterruptController};
use crate::{bcm2836, gic};
use core::sync::atomic::{AtomicUsize, Ordering};

/// Number of IPIs (0–3): the BCM2836 has four mailboxes per core; on a GIC they are
/// SGIs 0–3.
pub const IPI_COUNT: usize = 4;

/// An IPI handler: called in IRQ context (SYS mode, IRQs masked) with the IPI number and
/// the sending CPU.
pub type IpiHandler = fn(ipi: u32, from_cpu: usize);

static HANDLERS: [AtomicUsize; IPI_COUNT] = [const { AtomicUsize::new(0) }; IPI_COUNT];

/// Per core: the pc the IRQ being handled will return to.
static INTERRUPTED_PC: [AtomicUsize; crate::cpu::MAX_CORES] =
    [const { AtomicUsize::new(0) }; crate::cpu::MAX_CORES];

/// The pc the IRQ this core is handling will return to (meaningful inside an IPI
/// handler; IRQs do not nest in this kernel).
pub fn interrupted_pc() -> usize {
    INTERRUPTED_PC[crate::cpu::cpu_id() % crate::cpu::MAX_CORES].load(Ordering::Relaxed)
}

/// Board-wide set-up of the controller. Core 0, once, before any core's [`init_cpu`].
pub fn init_global() {
    match BOARD.intc {
        InterruptController::GicV2 { gicd, .. } => gic::init_distributor(gicd),
        InterruptController::Bcm2836Local { base } => bcm2836::init_global(base),
    }
}

/// Lets this core take IPIs (masked in the CPSR until the caller unmasks them).
/// Idempotent: a core powered off and on again runs it again. Never-probe: a secondary
/// runs it before it is online.
#[unsafe(link_section = ".text.noprobe.irq")]
pub fn init_cpu() {
    match BOARD.intc {
        InterruptController::GicV2 { gicd, gicc } => gic::init_cpu(gicd, gicc),
        InterruptController::Bcm2836Local { base } => bcm2836::init_cpu(base),
    }
}

/// Installs the handler for IPI `ipi` (0–3).
pub fn set_ipi_handler(ipi: u32, handler: IpiHandler) {
    HANDLERS[ipi as usize].store(handler as usize, Ordering::Release);
}

/// Sends IPI `ipi` (0–3) to the CPUs in the `targets` bit mask (bit n = core n).
pub fn send_ipi(ipi: u32, targets: u32) {
    debug_assert!((ipi as usize) < IPI_COUNT);
    // Make prior writes visible to the targets before they can take the interrupt.
    aarch32_cpu::asm::dsb();
    match BOARD.intc {
        InterruptController::GicV2 { gicd, .. } => gic::send_sgi(gicd, ipi, targets),
        InterruptController::Bcm2836Local { base } => bcm2836::send(base, ipi, targets),
    }
}

/// Calls the handler of IPI `ipi` from `from`, if one is installed.
fn dispatch(ipi: u32, from: usize) {
    let h = HANDLERS[ipi as usize % IPI_COUNT].load(Ordering::Acquire);
    if h != 0 {
        // SAFETY: the only non-zero values stored in HANDLERS are `IpiHandler` function
        // pointers (set_ipi_handler), so the transmute restores one.
        let f: IpiHandler = unsafe { core::mem::transmute::<usize, IpiHandler>(h) };
        f(ipi, from);
    }
}

/// The IRQ entry: acknowledge, dispatch, complete. `interrupted_pc` is where the
/// interrupted context resumes ([`interrupted_pc`] tells the handlers).
pub fn handle_irq(interrupted_pc: usize) {
    let me = crate::cpu::cpu_id() % crate::cpu::MAX_CORES;
    // Only this core writes its entry, with IRQs masked, before any handler reads it.
    INTERRUPTED_PC[me].store(interrupted_pc, Ordering::Relaxed);
    match BOARD.intc {
        InterruptController::GicV2 { gicc, .. } => gic::handle(gicc, dispatch),
        InterruptController::Bcm2836Local { base } => bcm2836::handle(base, me, dispatch),
    }
}
