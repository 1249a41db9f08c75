//! The seam between the engine and the world outside the frame: the [`Memory`] accessor
//! every load, store, barrier and hint goes through, and the fault it reports.

use crate::hex::Hex;
use core::fmt;

/// Which way a faulting access went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// A load.
    Read,
    /// A store.
    Write,
}

/// A memory access the [`Memory`] accessor could not perform.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemoryFault {
    /// The address of the access.
    pub address: u32,
    /// Load or store.
    pub access: Access,
}

/// A DMB/DSB/ISB the stepped instruction asked for, with its 4-bit option field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Barrier {
    /// Data memory barrier.
    Dmb(u8),
    /// Data synchronization barrier.
    Dsb(u8),
    /// Instruction synchronization barrier.
    Isb(u8),
}

/// A hint the stepped instruction asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hint {
    /// NOP.
    Nop,
    /// YIELD.
    Yield,
    /// WFE: wait for event.
    Wfe,
    /// WFI: wait for interrupt.
    Wfi,
    /// SEV: send event to all CPUs (a waiter in WFE depends on it).
    Sev,
}

/// Everything outside the register frame that a stepped instruction touches.
///
/// Addresses are passed exactly as the instruction computes them, including unaligned ones
/// for LDR/STR/LDRH/STRH (ARMv7 allows those with SCTLR.A == 0), so an implementation must
/// not dereference a Rust pointer of the access size (that is undefined behaviour when
/// unaligned). The one on target (`arch::memory::DirectMemory`) makes each access with the
/// load/store instruction of exactly the requested size, so device registers see what the
/// original instruction would have done and a bad address aborts (see
/// `Kprobes::fixup_fault`); an implementation returns a [`MemoryFault`] for an address it
/// will not touch. Values are little-endian; the engine byte-swaps for CPSR.E == 1.
pub trait Memory {
    /// Loads a byte.
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn read_u8(&mut self, address: u32) -> Result<u8, MemoryFault>;
    /// Loads a halfword.
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn read_u16(&mut self, address: u32) -> Result<u16, MemoryFault>;
    /// Loads a word.
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn read_u32(&mut self, address: u32) -> Result<u32, MemoryFault>;
    /// Stores a byte.
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn write_u8(&mut self, address: u32, value: u8) -> Result<(), MemoryFault>;
    /// Stores a halfword.
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn write_u16(&mut self, address: u32, value: u16) -> Result<(), MemoryFault>;
    /// Stores a word.
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn write_u32(&mut self, address: u32, value: u32) -> Result<(), MemoryFault>;
    /// Loads the two words of an LDRD (word-aligned `address`). The default is two word
    /// loads; a target implementation may use one 64-bit access to keep LPAE's single-copy
    /// atomicity for 8-byte aligned pairs.
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn read_pair(&mut self, address: u32) -> Result<[u32; 2], MemoryFault> {
        Ok([
            self.read_u32(address)?,
            self.read_u32(address.wrapping_add(4))?,
        ])
    }
    /// Stores the two words of an STRD; see [`Memory::read_pair`].
    ///
    /// # Errors
    ///
    /// A [`MemoryFault`] for an address the implementation will not touch.
    fn write_pair(&mut self, address: u32, value: [u32; 2]) -> Result<(), MemoryFault> {
        self.write_u32(address, value[0])?;
        self.write_u32(address.wrapping_add(4), value[1])
    }
    /// Performs a barrier (on target: executes it; on the host: records it).
    fn barrier(&mut self, barrier: Barrier);
    /// Performs a hint (on target at least SEV must really be executed, or a CPU waiting in
    /// WFE may sleep until its next interrupt).
    fn hint(&mut self, hint: Hint);
}

impl fmt::Debug for MemoryFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryFault")
            .field("address", &Hex(self.address))
            .field("access", &self.access)
            .finish()
    }
}
