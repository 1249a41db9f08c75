//! The kernel's probe-event table: text definitions (`p:open bench_fn %r0 %r1`) bound to
//! the kernel's registries, recording into per-CPU rings stamped with the generic timer,
//! drained as captures the host tool `kprobes-trace` reads.

use crate::board::{BOARD, RAM_SIZE};
use crate::cpu::MAX_CORES;
use crate::mmu;
use armv7_kprobes::arch::timer;
use armv7_kprobes::kprobe::SymbolLookup;
use armv7_kprobes::trace::events::{EventPlatform, Events};
use core::ops::Range;

/// Words of each CPU's ring (128 KiB): a bench row's 3,001 hits of five words fit without
/// a drain between them.
pub const RING_WORDS: usize = 32 * 1024;

/// Events the kernel's table holds.
pub const EVENT_SLOTS: usize = 16;

/// What the event table asks of the kernel: the CPU (MPIDR.Aff0), CNTVCT, and reads of
/// mapped RAM only.
pub struct KernelEventPlatform;

impl EventPlatform for KernelEventPlatform {
    #[inline(always)]
    fn cpu_id(&self) -> usize {
        let mpidr: u32;
        // SAFETY: reads MPIDR into a register: no memory access, no side effect.
        unsafe {
            core::arch::asm!("mrc p15, 0, {}, c0, c0, 5", out(reg) mpidr,
                options(nomem, nostack, preserves_flags));
        }
        (mpidr & 0xff) as usize
    }

    #[inline(always)]
    fn now(&self) -> u64 {
        timer::virtual_count()
    }

    fn frequency(&self) -> u32 {
        timer::frequency()
    }

    fn read_memory(&self, addr: u32, buf: &mut [u8]) -> bool {
        let start = addr as usize;
        let ram = BOARD.ram_base..BOARD.ram_base + RAM_SIZE;
        let Some(end) = start.checked_add(buf.len()) else {
            return false;
        };
        // RAM only (never device memory, where a read can have effects), and only what
        // the translation maps: the first and the last byte (a fetch reads at most a
        // string's bound, so it spans at most two pages).
        let mapped = !buf.is_empty()
            && ram.contains(&start)
            && end <= ram.end
            && mmu::readable(start)
            && mmu::readable(end - 1);
        if !mapped {
            return false;
        }
        for (i, b) in buf.iter_mut().enumerate() {
            // SAFETY: the byte is in RAM and translates for a privileged read (checked
            // above for the range's two ends, which lie in at most two pages that the
            // kernel maps as whole sections).
            *b = unsafe { core::ptr::read_volatile((start + i) as *const u8) };
        }
        true
    }
}

/// The platform instance.
pub static EVENT_PLATFORM: KernelEventPlatform = KernelEventPlatform;

/// The kernel's event table: one ring per core.
pub static EVENTS: Events<KernelEventPlatform, EVENT_SLOTS, MAX_CORES, RING_WORDS> =
    Events::new(&EVENT_PLATFORM);

unsafe extern "C" {
    fn bench_fn(a: u32) -> u32;
}

/// The functions events may name: the benchmark's probe site, and the kernel tests'.
pub struct EventSymbols;

impl SymbolLookup for EventSymbols {
    fn lookup(&self, name: &str) -> Option<Range<usize>> {
        match name {
            // `add r0, r0, #1; bx lr` (kernel/src/bench.rs).
            "bench_fn" => {
                let start = bench_fn as *const () as usize;
                Some(start..start + 8)
            }
            _ => crate::tests::kprobes::KernelSymbols.lookup(name),
        }
    }
}
