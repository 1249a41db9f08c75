//! The memory a stepped instruction touches on the real machine: exactly-sized volatile
//! accesses, and barriers and hints executed for real.

use crate::step::{Barrier, Hint, Memory, MemoryFault};

/// Performs a stepped instruction's loads, stores, barriers and hints as the
/// instruction itself would have: one access of the instruction's size per element (so
/// device registers see the same accesses), the barrier it asked for (as the
/// full-system variant, which is at least as strong as any option it named), and the
/// hint (SEV must really signal, or a CPU waiting in WFE may sleep until its next
/// interrupt).
///
/// It never returns a [`MemoryFault`]: an address the instruction could not access
/// faults here exactly as it would have in place.
pub struct DirectMemory;

macro_rules! access {
    ($read:ident, $write:ident, $t:ty) => {
        #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
        fn $read(&mut self, address: u32) -> Result<$t, MemoryFault> {
            // SAFETY: the probed instruction was about to perform this very access at
            // this address with the same size; doing it here has the same effect and
            // the same faults (ARMv7 allows unaligned LDR/LDRH with SCTLR.A clear,
            // which the step engine only asks for where the instruction would).
            Ok(unsafe { core::ptr::read_volatile(address as usize as *const $t) })
        }

        #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
        fn $write(&mut self, address: u32, value: $t) -> Result<(), MemoryFault> {
            // SAFETY: as for the load: the store the probed instruction itself makes.
            unsafe { core::ptr::write_volatile(address as usize as *mut $t, value) };
            Ok(())
        }
    };
}

impl Memory for DirectMemory {
    access!(read_u8, write_u8, u8);
    access!(read_u16, write_u16, u16);
    access!(read_u32, write_u32, u32);

    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn barrier(&mut self, barrier: Barrier) {
        // SAFETY: barriers only order memory accesses and instruction fetch; they read
        // and write no registers or memory. `nostack` because none touches the stack;
        // no `nomem`, since ordering memory is their purpose.
        unsafe {
            match barrier {
                Barrier::Dmb(_) => core::arch::asm!("dmb sy", options(nostack, preserves_flags)),
                Barrier::Dsb(_) => core::arch::asm!("dsb sy", options(nostack, preserves_flags)),
                Barrier::Isb(_) => core::arch::asm!("isb sy", options(nostack, preserves_flags)),
            }
        }
    }

    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn hint(&mut self, hint: Hint) {
        // SAFETY: hints change no architectural register or memory: SEV signals an
        // event to every CPU, WFE/WFI wait (as the probed code asked to), YIELD only
        // hints the pipeline. `nostack`, `nomem`: none touches memory.
        unsafe {
            match hint {
                Hint::Nop => {}
                Hint::Yield => core::arch::asm!("yield", options(nostack, nomem, preserves_flags)),
                Hint::Wfe => core::arch::asm!("wfe", options(nostack, nomem, preserves_flags)),
                Hint::Wfi => core::arch::asm!("wfi", options(nostack, nomem, preserves_flags)),
                Hint::Sev => core::arch::asm!("sev", options(nostack, nomem, preserves_flags)),
            }
        }
    }
}
