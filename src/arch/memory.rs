//! The memory a stepped instruction touches on the real machine: each load and store made
//! by the very instruction of that size (`ldr`, `ldrh`, `ldrb`, `str`, `strh`, `strb`),
//! barriers executed for real, and the hints that may run with interrupts masked.

use crate::step::{Barrier, Hint, Memory, MemoryFault};

/// Performs a stepped instruction's loads, stores, barriers and hints as the
/// instruction itself would have: one access of the instruction's size per element, made
/// by an `ldr`/`ldrh`/`ldrb`/`str`/`strh`/`strb` in assembly (so device registers see the
/// same accesses, an unaligned LDR/LDRH/STR/STRH is the same unaligned access the CPU
/// allows with SCTLR.A clear, and an address the instruction could not access raises the
/// same abort, with the same fault address and status), the barrier it asked for (as the
/// full-system variant, which is at least as strong as any option it named), and the
/// hint as described at [`DirectMemory::hint`].
///
/// It never returns a [`MemoryFault`]: the CPU takes the abort instead, with its pc on one
/// of the access instructions below (see [`is_access_instruction`]). The kernel's abort
/// handler asks the registry to move it to the probed instruction
/// ([`crate::kprobe::Kprobes::fixup_fault`]).
///
/// Why assembly and not `read_volatile`: a Rust pointer access must be aligned, so a
/// `read_volatile::<u32>` at an unaligned address is undefined behaviour (and a panic in a
/// debug-assertion build) even though the CPU performs it; the assembly access has no such
/// precondition, and it is exactly the access the probed instruction would have made.
pub struct DirectMemory;

// The access instructions, one tiny AAPCS function each, between two labels so an abort
// handler can tell a fault in a stepped access from any other (`is_access_instruction`).
//
// SAFETY: each function performs exactly one load or store of its size at the address in
// r0 (a store writes r1) and returns; it uses no stack and clobbers only r0 (the result
// register) as AAPCS allows. Whether the access itself is sound is the caller's
// obligation (see `DirectMemory`'s `Memory` impl).
core::arch::global_asm!(
    ".pushsection .text.noprobe.kp_direct_memory, \"ax\", %progbits",
    ".arm",
    ".p2align 2",
    ".global kp_access_start",
    "kp_access_start:",
    ".global kp_access_ldr",
    "kp_access_ldr:",
    "    ldr   r0, [r0]",
    "    bx    lr",
    ".global kp_access_ldrh",
    "kp_access_ldrh:",
    "    ldrh  r0, [r0]",
    "    bx    lr",
    ".global kp_access_ldrb",
    "kp_access_ldrb:",
    "    ldrb  r0, [r0]",
    "    bx    lr",
    ".global kp_access_str",
    "kp_access_str:",
    "    str   r1, [r0]",
    "    bx    lr",
    ".global kp_access_strh",
    "kp_access_strh:",
    "    strh  r1, [r0]",
    "    bx    lr",
    ".global kp_access_strb",
    "kp_access_strb:",
    "    strb  r1, [r0]",
    "    bx    lr",
    ".global kp_access_end",
    "kp_access_end:",
    ".popsection",
);

unsafe extern "C" {
    static kp_access_start: u8;
    static kp_access_end: u8;
    fn kp_access_ldr(address: u32) -> u32;
    fn kp_access_ldrh(address: u32) -> u16;
    fn kp_access_ldrb(address: u32) -> u8;
    fn kp_access_str(address: u32, value: u32);
    fn kp_access_strh(address: u32, value: u16);
    fn kp_access_strb(address: u32, value: u8);
}

/// Whether `pc` is one of [`DirectMemory`]'s load or store instructions: an abort taken
/// there is a stepped instruction's access.
pub fn is_access_instruction(pc: u32) -> bool {
    let start = core::ptr::addr_of!(kp_access_start) as usize as u32;
    let end = core::ptr::addr_of!(kp_access_end) as usize as u32;
    (start..end).contains(&pc)
}

impl Memory for DirectMemory {
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn read_u8(&mut self, address: u32) -> Result<u8, MemoryFault> {
        // SAFETY: the probed instruction was about to make this very access (same
        // address, same size) in the same context; making it here has the same effect and
        // the same faults, and no Rust object is read (it is a machine access).
        Ok(unsafe { kp_access_ldrb(address) })
    }

    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn read_u16(&mut self, address: u32) -> Result<u16, MemoryFault> {
        // SAFETY: as for `read_u8`; an unaligned address is the unaligned LDRH the
        // instruction itself would have made (allowed with SCTLR.A clear, an alignment
        // fault otherwise — natively too).
        Ok(unsafe { kp_access_ldrh(address) })
    }

    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn read_u32(&mut self, address: u32) -> Result<u32, MemoryFault> {
        // SAFETY: as for `read_u16`, with LDR.
        Ok(unsafe { kp_access_ldr(address) })
    }

    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn write_u8(&mut self, address: u32, value: u8) -> Result<(), MemoryFault> {
        // SAFETY: the store the probed instruction itself makes (same address, size and
        // value); it writes no Rust object the compiler tracks.
        unsafe { kp_access_strb(address, value) };
        Ok(())
    }

    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn write_u16(&mut self, address: u32, value: u16) -> Result<(), MemoryFault> {
        // SAFETY: as for `write_u8`, with STRH (unaligned as the instruction's would be).
        unsafe { kp_access_strh(address, value) };
        Ok(())
    }

    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn write_u32(&mut self, address: u32, value: u32) -> Result<(), MemoryFault> {
        // SAFETY: as for `write_u16`, with STR.
        unsafe { kp_access_str(address, value) };
        Ok(())
    }

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

    /// A step runs with IRQs masked (the undefined-instruction exception masks them, the
    /// trampoline masks IRQs and FIQs), so a hint is executed only if it cannot sleep past
    /// an interrupt the probed code would have woken for:
    ///
    /// - **SEV** is executed: a CPU waiting in WFE depends on it.
    /// - **YIELD** is executed (a pipeline hint).
    /// - **WFE** is a NOP. Its wake-up events include an IRQ or FIQ only when CPSR.I/F
    ///   leave it unmasked, so a real `wfe` here would sleep through the very interrupt
    ///   (a rendezvous IPI, say) that wakes the probed code natively — and the next
    ///   rendezvous would hang. Returning at once is architecturally allowed: WFE may
    ///   complete at any time (a spurious wake-up), so code using it already re-checks its
    ///   condition and waits again; the event register is left as it was, so at worst
    ///   the next WFE also returns at once.
    /// - **WFI** is executed. Unlike WFE, WFI wakes on a pending IRQ or FIQ *whatever*
    ///   CPSR.I and CPSR.F say (ARMv7 ARM B1.8.13), so masking interrupts for the step
    ///   delays only the taking of the interrupt, not the wake-up: the step returns, the
    ///   exception return or the trampoline restores the probed code's masks, and the
    ///   interrupt is taken as it would have been natively right after the `wfi`. A NOP
    ///   would be allowed too, but would turn an idle loop into a busy loop while probed.
    #[cfg_attr(target_arch = "arm", unsafe(link_section = ".text.noprobe"))]
    fn hint(&mut self, hint: Hint) {
        // SAFETY: these hints change no architectural register or memory: SEV signals an
        // event to every CPU, WFI waits for an interrupt (woken by a pending one even
        // while masked, see above), YIELD only hints the pipeline. `nostack`, `nomem`:
        // none touches memory.
        unsafe {
            match hint {
                Hint::Nop | Hint::Wfe => {}
                Hint::Yield => core::arch::asm!("yield", options(nostack, nomem, preserves_flags)),
                Hint::Wfi => core::arch::asm!("wfi", options(nostack, nomem, preserves_flags)),
                Hint::Sev => core::arch::asm!("sev", options(nostack, nomem, preserves_flags)),
            }
        }
    }
}
