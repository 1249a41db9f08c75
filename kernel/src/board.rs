//! The three QEMU boards the test kernel runs on: their addresses, their interrupt
//! controller and how they start CPUs.
//!
//! # Raspberry Pi 2B (`-M raspi2b`, QEMU 7.2), as established by experiment
//!
//! - **CPU**: four Cortex-A7 (BCM2836). MPIDR = `0x8000_0F00 | n`: the cluster id (Aff1)
//!   is 0xF, Aff0 is the core number, so the kernel's `cpu_id = MPIDR & 0xff` (and
//!   aarch32-rt's start-up, and the crate's `CpuIndexSource::MpidrAff0`) hold as on the
//!   other boards. ID_PFR1 = 0x0001_1011 (Security and Virtualization Extensions, generic
//!   timer); CNTFRQ is programmed. ID_MMFR3 = 0x0210_2211: QEMU's A7, like its A15,
//!   reports broadcast cache and TLB maintenance.
//! - **Boot**: an ELF kernel is loaded at its ELF addresses and **all four cores start at
//!   its entry**, in Secure SVC mode, as on vexpress-a15 (QEMU's mailbox-polling
//!   "smpboot" stub is only written for raw Linux-style images). So
//!   [`SecondaryStart::ReleaseFromPark`]. QEMU refuses an ELF whose LOAD segments overlap
//!   ("ROM regions overlapping"); link.ld gives one segment per output region.
//! - **Memory**: RAM at 0 (QEMU insists on `-m 1G`; the kernel maps its first 256 MiB
//!   but the first MiB). The image is linked at 1 MiB, not 0: rustc assumes no static
//!   lives at address 0 (`addr_of!(__rx_start) as usize == 0` folds to false), and an
//!   unmapped first MiB keeps null pointers faulting as on the other boards. VBAR
//!   points at the vector table (aarch32-rt), so nothing needs to be at 0. Peripherals ("ARM physical"
//!   view) at 0x3F00_0000–0x3FFF_FFFF, PL011 UART0 at 0x3F20_1000 (`-serial stdio`).
//! - **Interrupts**: no GIC. The BCM2836 "ARM local" control block at 0x4000_0000 routes
//!   each core's IRQ: four 32-bit mailboxes per core — write 1s to set at
//!   `0x4000_0080 + 0x10 * core + 4 * mbox`, read and write 1s to clear at
//!   `0x4000_00C0 + 0x10 * core + 4 * mbox`; mailbox interrupt control at
//!   `0x4000_0050 + 4 * core` (bit m: mailbox m raises IRQ, bit 4 + m: FIQ); the
//!   core's IRQ source at `0x4000_0060 + 4 * core` (bits 4–7: mailbox 0–3 pending). A
//!   mailbox interrupts its core as long as any of its bits is set (level). The kernel's
//!   four IPIs are the four mailboxes; the sender writes its own bit, so the receiver
//!   knows who sent (`bcm2836.rs`). The generic timer is only read, never an interrupt.
//! - **Exit**: semihosting works (`-semihosting`).

/// How secondary CPUs come to life on a board (each board build uses one variant).
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondaryStart {
    /// Powered off until PSCI CPU_ON (QEMU virt, through `hvc`).
    PsciCpuOn,
    /// Already running the entry code; parked until released (vexpress-a15, raspi2b).
    ReleaseFromPark,
}

/// A board's interrupt controller: what carries the kernel's IPIs.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterruptController {
    /// An Arm GICv2: IPIs are software-generated interrupts (`gic.rs`).
    GicV2 {
        /// Distributor base.
        gicd: usize,
        /// CPU interface base.
        gicc: usize,
    },
    /// The BCM2836 ARM-local control block: IPIs are its per-core mailboxes
    /// (`bcm2836.rs`).
    Bcm2836Local {
        /// Base of the block (0x4000_0000).
        base: usize,
    },
}

/// One board's memory map.
pub struct Board {
    /// Name as the runner spells it.
    pub name: &'static str,
    /// PL011 UART base.
    pub uart: usize,
    /// The interrupt controller.
    pub intc: InterruptController,
    /// Base of RAM.
    pub ram_base: usize,
    /// Where the image is linked (IMAGE_BASE in kernel/build.rs): the start of the RX
    /// region. RAM's base, but never address 0 (see raspi2b).
    pub image_base: usize,
    /// Device space to map (start, end) as Device memory.
    pub mmio: &'static [(usize, usize)],
    /// How secondaries start.
    pub secondary_start: SecondaryStart,
}

#[cfg(feature = "board-virt")]
/// QEMU `-M virt -cpu cortex-a15`: Non-secure, GICv2, PSCI over HVC.
pub const BOARD: Board = Board {
    name: "virt",
    uart: 0x0900_0000,
    intc: InterruptController::GicV2 {
        gicd: 0x0800_0000,
        gicc: 0x0801_0000,
    },
    ram_base: 0x4000_0000,
    image_base: 0x4000_0000,
    mmio: &[(0x0800_0000, 0x0a00_0000)],
    secondary_start: SecondaryStart::PsciCpuOn,
};

#[cfg(feature = "board-vexpress-a15")]
/// QEMU `-M vexpress-a15`: Secure SVC at reset, every core starts at the entry point.
pub const BOARD: Board = Board {
    name: "vexpress-a15",
    uart: 0x1c09_0000,
    intc: InterruptController::GicV2 {
        gicd: 0x2c00_1000,
        gicc: 0x2c00_2000,
    },
    ram_base: 0x8000_0000,
    image_base: 0x8000_0000,
    mmio: &[(0x1c00_0000, 0x1d00_0000), (0x2c00_0000, 0x2c10_0000)],
    secondary_start: SecondaryStart::ReleaseFromPark,
};

#[cfg(feature = "board-raspi2b")]
/// QEMU `-M raspi2b -m 1G` (see the module docs): Secure SVC at reset, every core starts
/// at the entry point, IPIs through the BCM2836 local mailboxes.
pub const BOARD: Board = Board {
    name: "raspi2b",
    uart: 0x3f20_1000,
    intc: InterruptController::Bcm2836Local { base: 0x4000_0000 },
    ram_base: 0,
    image_base: 0x0010_0000,
    mmio: &[(0x3f00_0000, 0x4010_0000)],
    secondary_start: SecondaryStart::ReleaseFromPark,
};

/// Bytes of RAM the kernel maps (must match RAM_SIZE in kernel/build.rs).
pub const RAM_SIZE: usize = 0x1000_0000;

/// Where the runner's boot arguments sit (BOOTARGS_BASE in link.ld).
pub const BOOTARGS: usize = BOARD.ram_base + 0x0f00_0000;

/// Virtual address of the writable alias of the RX region (TEXT_ALIAS in link.ld): it
/// maps the RX region from its start, `BOARD.image_base`.
pub const TEXT_ALIAS: usize = BOARD.ram_base + RAM_SIZE;
