//! Console output through the board's PL011, shared by all cores.

use crate::board::BOARD;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

const DR: usize = 0x00;
const FR: usize = 0x18;
const FR_TXFF: u32 = 1 << 5;

static LOCK: AtomicBool = AtomicBool::new(false);

struct Pl011;

impl Write for Pl011 {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                put(b'\r');
            }
            put(b);
        }
        Ok(())
    }
}

fn put(b: u8) {
    let base = BOARD.uart;
    // SAFETY: BOARD.uart is the PL011 MMIO block of this board, mapped as Device
    // memory; FR and DR are 32-bit registers, read/written with volatile accesses.
    unsafe {
        while core::ptr::read_volatile((base + FR) as *const u32) & FR_TXFF != 0 {
            core::hint::spin_loop();
        }
        core::ptr::write_volatile((base + DR) as *mut u32, b as u32);
    }
}

/// Prints `args` as one unit (lines from different cores do not interleave).
/// Not for interrupt handlers: the lock is not interrupt-safe.
pub fn print(args: fmt::Arguments) {
    while LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    let _ = Pl011.write_fmt(args);
    LOCK.store(false, Ordering::Release);
}

/// Prints without taking the lock: for panics and fatal traps, where the lock's
/// owner may be the code that failed.
pub fn print_unlocked(args: fmt::Arguments) {
    let _ = Pl011.write_fmt(args);
}

/// `print!` for the kernel console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::uart::print(format_args!($($arg)*)) };
}

/// `println!` for the kernel console.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::uart::print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::uart::print(format_args!("{}\n", format_args!($($arg)*))) };
}
