//! GICv2 bring-up and software-generated interrupts (SGIs), on both boards.
//!
//! vexpress-a15 boots Secure with a GIC that has the Security Extensions: every
//! interrupt stays in Group 0 (the reset value), which a Secure CPU interface signals
//! as IRQ, and SGIs sent from Secure state with NSATT=0 are Group 0. virt boots
//! Non-secure with a GIC without them: there is one group. Enabling "bit 0 and bit 1"
//! of both control registers and acknowledging with IAR/EOIR works in both cases.

use crate::board::BOARD;
use core::sync::atomic::{AtomicUsize, Ordering};

const GICD_CTLR: usize = 0x000;
const GICD_ISENABLER0: usize = 0x100;
const GICD_IPRIORITYR: usize = 0x400;
const GICD_SGIR: usize = 0xf00;
const GICC_CTLR: usize = 0x00;
const GICC_PMR: usize = 0x04;
const GICC_BPR: usize = 0x08;
const GICC_IAR: usize = 0x0c;
const GICC_EOIR: usize = 0x10;

/// Number of SGI ids (0–15).
pub const SGI_COUNT: usize = 16;

/// An SGI handler: called in IRQ context (SYS mode, IRQs masked) with the SGI id and
/// the sending CPU.
pub type SgiHandler = fn(sgi: u32, from_cpu: usize);

static HANDLERS: [AtomicUsize; SGI_COUNT] = [const { AtomicUsize::new(0) }; SGI_COUNT];

/// Per core: the pc the IRQ being handled will return to.
static INTERRUPTED_PC: [AtomicUsize; crate::cpu::MAX_CORES] =
    [const { AtomicUsize::new(0) }; crate::cpu::MAX_CORES];

/// The pc the IRQ this core is handling will return to (meaningful inside an SGI
/// handler; IRQs do not nest in this kernel).
pub fn interrupted_pc() -> usize {
    INTERRUPTED_PC[crate::cpu::cpu_id() % crate::cpu::MAX_CORES].load(Ordering::Relaxed)
}

#[inline(always)]
fn write(base: usize, off: usize, v: u32) {
    // SAFETY: `base` is one of this board's GIC register blocks (mapped Device);
    // every offset used is a 32-bit register of that block.
    unsafe { core::ptr::write_volatile((base + off) as *mut u32, v) }
}

#[inline(always)]
fn read(base: usize, off: usize) -> u32 {
    // SAFETY: as in `write`.
    unsafe { core::ptr::read_volatile((base + off) as *const u32) }
}

/// Enables the distributor. Core 0, once.
pub fn init_distributor() {
    write(BOARD.gicd, GICD_CTLR, 0b11);
}

/// Enables this core's CPU interface and its SGIs (banked per core). Idempotent: a
/// core powered off and on again runs it again. Never-probe: a secondary runs it
/// before it is online.
#[unsafe(link_section = ".text.noprobe.gic")]
pub fn init_cpu() {
    write(BOARD.gicd, GICD_ISENABLER0, 0xffff);
    for i in 0..4 {
        write(BOARD.gicd, GICD_IPRIORITYR + 4 * i, 0x8080_8080);
    }
    write(BOARD.gicc, GICC_PMR, 0xf0);
    write(BOARD.gicc, GICC_BPR, 0);
    write(BOARD.gicc, GICC_CTLR, 0b11);
}

/// Installs the handler for SGI `sgi`.
pub fn set_sgi_handler(sgi: u32, handler: SgiHandler) {
    HANDLERS[sgi as usize].store(handler as usize, Ordering::Release);
}

/// Sends SGI `sgi` to the CPUs in the `targets` bit mask (bit n = CPU interface n).
pub fn send_sgi(sgi: u32, targets: u32) {
    // Make prior writes visible to the targets before they can take the interrupt.
    aarch32_cpu::asm::dsb();
    write(
        BOARD.gicd,
        GICD_SGIR,
        ((targets & 0xff) << 16) | (sgi & 0xf),
    );
}

/// The IRQ entry: acknowledge, dispatch, end of interrupt. `interrupted_pc` is where
/// the interrupted context resumes ([`interrupted_pc`] tells the handlers).
pub fn handle_irq(interrupted_pc: usize) {
    // Only this core writes its entry, with IRQs masked, before any handler reads it.
    INTERRUPTED_PC[crate::cpu::cpu_id() % crate::cpu::MAX_CORES]
        .store(interrupted_pc, Ordering::Relaxed);
    let iar = read(BOARD.gicc, GICC_IAR);
    let id = iar & 0x3ff;
    if id >= 1020 {
        return; // spurious
    }
    if (id as usize) < SGI_COUNT {
        let from = ((iar >> 10) & 7) as usize;
        let h = HANDLERS[id as usize].load(Ordering::Acquire);
        if h != 0 {
            // SAFETY: the only non-zero values stored in HANDLERS are `SgiHandler`
            // function pointers (set_sgi_handler), so the transmute restores one.
            let f: SgiHandler = unsafe { core::mem::transmute::<usize, SgiHandler>(h) };
            f(id, from);
        }
    }
    write(BOARD.gicc, GICC_EOIR, iar);
}
