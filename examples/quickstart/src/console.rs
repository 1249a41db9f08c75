//! Output on QEMU virt's PL011 UART, and leaving QEMU with an exit status (semihosting).

const UART_DR: *mut u32 = 0x0900_0000 as *mut u32;
const UART_FR: *const u32 = 0x0900_0018 as *const u32;

pub struct Uart;

impl core::fmt::Write for Uart {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            // SAFETY: the PL011's flag and data registers on QEMU virt (MMU off: device
            // memory); wait while the transmit FIFO is full, then send one byte.
            unsafe {
                while UART_FR.read_volatile() & (1 << 5) != 0 {}
                UART_DR.write_volatile(b as u32);
            }
        }
        Ok(())
    }
}

#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!($crate::console::Uart, $($arg)*);
    }};
}

/// Ends QEMU (started with `-semihosting`) with exit status `code`.
pub fn exit(code: u32) -> ! {
    let block = [0x2_0026, code]; // ADP_Stopped_ApplicationExit, status
    // SAFETY: `svc 0x123456` with r0 = SYS_EXIT_EXTENDED is the semihosting exit, which
    // QEMU handles itself: it reads the two words r1 points to and exits.
    unsafe {
        core::arch::asm!("svc 0x123456", in("r0") 0x20, in("r1") block.as_ptr(), options(nostack));
    }
    loop {
        core::hint::spin_loop();
    }
}
