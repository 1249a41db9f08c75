//! GICv2 back end of the interrupt-controller seam (`irq.rs`): IPIs are
//! software-generated interrupts (SGIs) 0–3.
//!
//! vexpress-a15 boots Secure with a GIC that has the Security Extensions: every
//! interrupt stays in Group 0 (the reset value), which a Secure CPU interface signals
//! as IRQ, and SGIs sent from Secure state with NSATT=0 are Group 0. virt boots
//! Non-secure with a GIC without them: there is one group. Enabling "bit 0 and bit 1"
//! of both control registers and acknowledging with IAR/EOIR works in both cases.

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
const SGI_COUNT: u32 = 16;

#[inline(always)]
fn write(base: usize, off: usize, v: u32) {
    // SAFETY: `base` is one of this board's GIC register blocks (board.rs, mapped
    // Device); every offset used is a 32-bit register of that block.
    unsafe { core::ptr::write_volatile((base + off) as *mut u32, v) }
}

#[inline(always)]
fn read(base: usize, off: usize) -> u32 {
    // SAFETY: as in `write`.
    unsafe { core::ptr::read_volatile((base + off) as *const u32) }
}

/// Enables the distributor. Core 0, once.
pub fn init_distributor(gicd: usize) {
    write(gicd, GICD_CTLR, 0b11);
}

/// Enables this core's CPU interface and its SGIs (banked per core). Never-probe (see
/// `irq::init_cpu`).
#[unsafe(link_section = ".text.noprobe.gic")]
pub fn init_cpu(gicd: usize, gicc: usize) {
    write(gicd, GICD_ISENABLER0, 0xffff);
    for i in 0..4 {
        write(gicd, GICD_IPRIORITYR + 4 * i, 0x8080_8080);
    }
    write(gicc, GICC_PMR, 0xf0);
    write(gicc, GICC_BPR, 0);
    write(gicc, GICC_CTLR, 0b11);
}

/// Sends SGI `sgi` to the CPU interfaces in `targets` (bit n = interface n = core n).
#[inline(always)]
pub fn send_sgi(gicd: usize, sgi: u32, targets: u32) {
    write(gicd, GICD_SGIR, ((targets & 0xff) << 16) | (sgi & 0xf));
}

/// Acknowledges one interrupt, passes an SGI to `dispatch(sgi, from_cpu)`, ends it.
#[inline(always)]
pub fn handle(gicc: usize, dispatch: fn(u32, usize)) {
    let iar = read(gicc, GICC_IAR);
    let id = iar & 0x3ff;
    if id >= 1020 {
        return; // spurious
    }
    if id < SGI_COUNT {
        dispatch(id, ((iar >> 10) & 7) as usize);
    }
    write(gicc, GICC_EOIR, iar);
}
