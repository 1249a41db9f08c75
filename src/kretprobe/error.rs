//! What can go wrong with a return-probe call: [`KretprobeError`].

use super::*;

/// Why a return-probe operation failed. The probe, the table, the kprobe registry and the
/// text are exactly as they were before the call.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KretprobeError {
    /// The entry breakpoint could not be registered or unregistered (the address is
    /// misaligned, outside text, never-probe, its instruction is refused, the registry is
    /// full, or the call was made inside a rendezvous).
    Kprobe(KprobeError),
    /// The probe is already registered (at `addr`).
    AlreadyRegistered {
        /// Where it is registered.
        addr: usize,
    },
    /// The probe is not registered.
    NotRegistered,
    /// The probe belongs to another [`Kretprobes`] table (the first one that registered
    /// it).
    OtherTable,
    /// The table already holds [`MAX_KRETPROBES`] probes (registered, or with calls in
    /// flight).
    TableFull,
    /// Another [`Kretprobes`] table already serves the return trampoline (there is one
    /// trampoline per kernel image, so one table).
    ReturnPathTaken,
}

impl fmt::Debug for KretprobeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            KretprobeError::Kprobe(e) => f.debug_tuple("Kprobe").field(&e).finish(),
            KretprobeError::AlreadyRegistered { addr } => f
                .debug_struct("AlreadyRegistered")
                .field("addr", &Hex(addr))
                .finish(),
            KretprobeError::NotRegistered => f.write_str("NotRegistered"),
            KretprobeError::OtherTable => f.write_str("OtherTable"),
            KretprobeError::TableFull => f.write_str("TableFull"),
            KretprobeError::ReturnPathTaken => f.write_str("ReturnPathTaken"),
        }
    }
}

impl fmt::Display for KretprobeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KretprobeError::Kprobe(e) => write!(f, "entry probe: {e}"),
            KretprobeError::AlreadyRegistered { addr } => {
                write!(f, "the return probe is already registered at {addr:#x}")
            }
            KretprobeError::NotRegistered => write!(f, "the return probe is not registered"),
            KretprobeError::OtherTable => {
                write!(f, "the return probe belongs to another Kretprobes table")
            }
            KretprobeError::TableFull => {
                write!(f, "the table already holds {MAX_KRETPROBES} return probes")
            }
            KretprobeError::ReturnPathTaken => {
                write!(f, "another Kretprobes table serves the return trampoline")
            }
        }
    }
}

impl core::error::Error for KretprobeError {}

impl From<KprobeError> for KretprobeError {
    fn from(e: KprobeError) -> Self {
        KretprobeError::Kprobe(e)
    }
}
