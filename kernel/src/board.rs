//! The two QEMU boards the test kernel runs on: their addresses and how they start CPUs.

/// How secondary CPUs come to life on a board (each board build uses one variant).
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondaryStart {
    /// Powered off until PSCI CPU_ON (QEMU virt, through `hvc`).
    PsciCpuOn,
    /// Already running the entry code; parked until released (vexpress-a15).
    ReleaseFromPark,
}

/// One board's memory map.
pub struct Board {
    /// Name as the runner spells it.
    pub name: &'static str,
    /// PL011 UART base.
    pub uart: usize,
    /// GIC distributor base.
    pub gicd: usize,
    /// GIC CPU interface base.
    pub gicc: usize,
    /// Base of RAM (also where the image is linked).
    pub ram_base: usize,
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
    gicd: 0x0800_0000,
    gicc: 0x0801_0000,
    ram_base: 0x4000_0000,
    mmio: &[(0x0800_0000, 0x0a00_0000)],
    secondary_start: SecondaryStart::PsciCpuOn,
};

#[cfg(feature = "board-vexpress-a15")]
/// QEMU `-M vexpress-a15`: Secure SVC at reset, every core starts at the entry point.
pub const BOARD: Board = Board {
    name: "vexpress-a15",
    uart: 0x1c09_0000,
    gicd: 0x2c00_1000,
    gicc: 0x2c00_2000,
    ram_base: 0x8000_0000,
    mmio: &[(0x1c00_0000, 0x1d00_0000), (0x2c00_0000, 0x2c10_0000)],
    secondary_start: SecondaryStart::ReleaseFromPark,
};

/// Bytes of RAM the kernel maps (must match RAM_SIZE in kernel/build.rs).
pub const RAM_SIZE: usize = 0x1000_0000;

/// Where the runner's boot arguments sit (BOOTARGS_BASE in link.ld).
pub const BOOTARGS: usize = BOARD.ram_base + 0x0f00_0000;

/// Virtual address of the writable alias of the RX region (TEXT_ALIAS in link.ld).
pub const TEXT_ALIAS: usize = BOARD.ram_base + RAM_SIZE;
