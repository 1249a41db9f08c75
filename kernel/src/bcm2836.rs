//! BCM2836 back end of the interrupt-controller seam (`irq.rs`), for raspi2b: no GIC;
//! each core's IPIs are its four mailboxes in the "ARM local" control block (addresses
//! and QEMU's behaviour: `board.rs`).
//!
//! IPI `n` to core `t` is mailbox `n` of core `t`. A mailbox is a 32-bit word of
//! set-only bits that raises its core's IRQ while any bit is set: the sender writes its
//! own bit (`1 << sender`) to the mailbox's set register, so the receiver knows who sent
//! it, and the same sender's second IPI before the first was taken merges with it (as a
//! GIC SGI from the same source does). The receiver reads the mailbox and writes the
//! bits it read to the clear register before it runs the handlers: an IPI sent during a
//! handler sets a bit again and is taken afterwards.

/// Mailbox interrupt control of core 0 (+4 per core): bit m routes mailbox m to IRQ.
const MBOX_INT_CONTROL: usize = 0x50;
/// IRQ source of core 0 (+4 per core): bit 4 + m is mailbox m pending.
const IRQ_SOURCE: usize = 0x60;
/// Mailbox 0 of core 0, write-1s-to-set (+0x10 per core, +4 per mailbox).
const MBOX_SET: usize = 0x80;
/// Mailbox 0 of core 0, read / write-1s-to-clear (+0x10 per core, +4 per mailbox).
const MBOX_CLEAR: usize = 0xc0;
/// Mailboxes per core: the kernel's IPIs 0–3.
const MAILBOXES: usize = 4;

#[inline(always)]
fn write(base: usize, off: usize, v: u32) {
    // SAFETY: `base` is the BCM2836 local control block (board.rs, mapped Device) and
    // every offset used is one of its 32-bit registers, below 0x100.
    unsafe { core::ptr::write_volatile((base + off) as *mut u32, v) }
}

#[inline(always)]
fn read(base: usize, off: usize) -> u32 {
    // SAFETY: as in `write`.
    unsafe { core::ptr::read_volatile((base + off) as *const u32) }
}

/// Nothing board-wide to set up: at reset no local source (timers, PMU, GPU routing
/// aside) raises an IRQ, and each core enables its own mailboxes.
pub fn init_global(_base: usize) {}

/// Routes this core's four mailboxes to its IRQ (not FIQ). Never-probe (see
/// `irq::init_cpu`).
#[unsafe(link_section = ".text.noprobe.bcm2836")]
pub fn init_cpu(base: usize) {
    let me = crate::cpu::cpu_id();
    write(base, MBOX_INT_CONTROL + 4 * me, (1 << MAILBOXES) - 1);
}

/// Sets mailbox `ipi` of every core in `targets`, with the sender's bit.
#[inline(always)]
pub fn send(base: usize, ipi: u32, targets: u32) {
    let me = crate::cpu::cpu_id();
    let mut t = targets & ((1 << crate::cpu::MAX_CORES) - 1);
    while t != 0 {
        let core = t.trailing_zeros() as usize;
        t &= t - 1;
        write(base, MBOX_SET + 0x10 * core + 4 * ipi as usize, 1 << me);
    }
}

/// Takes this core's pending mailboxes: each one's bits are cleared, then
/// `dispatch(mailbox, sender)` runs once per sender bit.
#[inline(always)]
pub fn handle(base: usize, me: usize, dispatch: fn(u32, usize)) {
    let pending = (read(base, IRQ_SOURCE + 4 * me) >> 4) & ((1 << MAILBOXES) - 1);
    for mbox in 0..MAILBOXES {
        if pending & (1 << mbox) == 0 {
            continue;
        }
        let reg = MBOX_CLEAR + 0x10 * me + 4 * mbox;
        let mut senders = read(base, reg);
        write(base, reg, senders);
        // The clear completes before any handler runs (a sender answering the handler
        // sets the bit again after it, never before), and the handlers' reads of what
        // the senders wrote come after the read of their bits.
        aarch32_cpu::asm::dsb();
        while senders != 0 {
            let from = senders.trailing_zeros() as usize;
            senders &= senders - 1;
            dispatch(mbox as u32, from);
        }
    }
}
