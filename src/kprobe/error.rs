//! What can go wrong with a registry call: [`KprobeError`], with a sentence for each case.

use super::*;

/// Why a probe operation failed. The probe, the registry and the text are exactly as
/// they were before the call. `Debug` prints addresses and words in hex.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KprobeError {
    /// The address is not 4-byte aligned (A32 instructions are) and has bit 0 clear (a
    /// Thumb instruction's address has it set).
    Misaligned {
        /// The address given.
        addr: usize,
    },
    /// The address is outside the kernel text the platform declared.
    OutsideText {
        /// The address given.
        addr: usize,
    },
    /// The address is in a never-probe range (vectors, exception entry, the crate's own
    /// code and trampolines).
    NeverProbe {
        /// The address given.
        addr: usize,
        /// The never-probe range it falls in.
        range: (usize, usize),
    },
    /// The decoder refuses the instruction there.
    Rejected {
        /// The address given.
        addr: usize,
        /// The word there.
        word: u32,
        /// Why.
        reason: RejectReason,
    },
    /// The instruction may write further below SP than [`MAX_STACK_WRITE_BELOW_SP`]
    /// (or an amount only known at run time).
    StackWrite {
        /// The address given.
        addr: usize,
        /// Bytes it may write below SP, `None` when unknown.
        bytes: Option<u32>,
    },
    /// The probe is already registered (at `addr`).
    AlreadyRegistered {
        /// Where it is registered.
        addr: usize,
    },
    /// The probe is not registered.
    NotRegistered,
    /// The registry has no room for another probed address.
    OutOfSites,
    /// This address already carries [`PROBES_PER_ADDRESS`] probes.
    TooManyAtAddress {
        /// The address given.
        addr: usize,
    },
    /// The symbol lookup does not know the name.
    UnknownSymbol,
    /// The offset is past the end of the symbol.
    OffsetOutsideSymbol {
        /// The offset given.
        offset: usize,
        /// The symbol's size.
        size: usize,
    },
    /// The offset is not a multiple of 4 (of 2 in a Thumb function), so not on an
    /// instruction boundary.
    MisalignedOffset {
        /// The offset given.
        offset: usize,
    },
    /// Writing text failed (e.g. called from inside a rendezvous).
    Patch(PatchError),
    /// The quiescence rendezvous that ends a disable or unregister was refused.
    Rendezvous(RendezvousError),
    /// Called with IRQs masked: from a probe handler, an exception or interrupt handler,
    /// or with interrupts off. Registry calls change text in a rendezvous (or wait for
    /// a CPU that does), which needs every CPU to take an IPI; they are refused at once
    /// instead of risking a deadlock. Call from thread context with IRQs enabled — on a
    /// kernel whose entry leaves them masked (aarch32-rt enters `kmain` with IRQs
    /// masked, even on a single core), enable them first, e.g.
    /// `aarch32_cpu::interrupt::enable()`.
    InterruptsMasked {
        /// The calling CPU.
        cpu: usize,
    },
    /// This CPU is already inside a call on this registry (an interrupt handler that
    /// interrupted one, or the callback of [`Kprobes::list`] calling back in): waiting
    /// for the registry lock would wait for itself.
    Reentered {
        /// The calling CPU.
        cpu: usize,
    },
    /// An instruction slot could not be lent or given back.
    Slot(SlotError),
    /// The word at the address is already a probe of another registry over the same
    /// text (a breakpoint word, or a branch into an instruction slot region). One text
    /// has one registry: register every probe of this text with the same one.
    ForeignProbe {
        /// The address given.
        addr: usize,
        /// The word there.
        word: u32,
    },
    /// The instruction at the address shares bytes with an instruction probed at
    /// `probed`: a Thumb address inside a probed 32-bit Thumb instruction or a probed A32
    /// word, or the other way round (one of the two is not an instruction start, and
    /// arming it would corrupt the other).
    Overlaps {
        /// The address given.
        addr: usize,
        /// The probed address it overlaps (bit 0 set for a Thumb probe).
        probed: usize,
    },
}

impl fmt::Display for KprobeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KprobeError::Misaligned { addr } => write!(
                f,
                "{addr:#x} is not 4-byte aligned (an A32 instruction) and has bit 0 clear \
                 (a Thumb instruction)"
            ),
            KprobeError::OutsideText { addr } => write!(f, "{addr:#x} is outside the kernel text"),
            KprobeError::NeverProbe { addr, range } => write!(
                f,
                "{addr:#x} is in the never-probe range {:#x}..{:#x}",
                range.0, range.1
            ),
            KprobeError::Rejected { addr, word, reason } => {
                write!(f, "cannot probe {word:#010x} at {addr:#x}: {reason}")
            }
            KprobeError::StackWrite {
                addr,
                bytes: Some(b),
            } => write!(
                f,
                "the instruction at {addr:#x} may write {b} bytes below sp (limit {MAX_STACK_WRITE_BELOW_SP})"
            ),
            KprobeError::StackWrite { addr, bytes: None } => write!(
                f,
                "the instruction at {addr:#x} may write an unknown amount below sp"
            ),
            KprobeError::AlreadyRegistered { addr } => {
                write!(f, "the probe is already registered at {addr:#x}")
            }
            KprobeError::NotRegistered => write!(f, "the probe is not registered"),
            KprobeError::OutOfSites => write!(f, "no room for another probed address"),
            KprobeError::TooManyAtAddress { addr } => {
                write!(f, "{addr:#x} already carries {PROBES_PER_ADDRESS} probes")
            }
            KprobeError::UnknownSymbol => write!(f, "unknown symbol"),
            KprobeError::OffsetOutsideSymbol { offset, size } => {
                write!(f, "offset {offset:#x} is outside the {size}-byte symbol")
            }
            KprobeError::MisalignedOffset { offset } => {
                write!(f, "offset {offset:#x} is not on an instruction boundary")
            }
            KprobeError::Patch(e) => write!(f, "text patch failed: {e}"),
            KprobeError::Rendezvous(e) => write!(f, "rendezvous failed: {e}"),
            KprobeError::InterruptsMasked { cpu } => write!(
                f,
                "called with IRQs masked on CPU {cpu}. From a probe, exception or interrupt \
                 handler: call from thread context instead. From thread context with \
                 interrupts off (aarch32-rt enters kmain with IRQs masked): enable IRQs \
                 first, e.g. `aarch32_cpu::interrupt::enable()`."
            ),
            KprobeError::Reentered { cpu } => write!(
                f,
                "CPU {cpu} is already inside a call on this registry (interrupt handler or \
                 listing callback)"
            ),
            KprobeError::Slot(e) => write!(f, "instruction slot: {e}"),
            KprobeError::ForeignProbe { addr, word } => write!(
                f,
                "{word:#010x} at {addr:#x} is another registry's probe (one registry per text)"
            ),
            KprobeError::Overlaps { addr, probed } => write!(
                f,
                "the instruction at {addr:#x} overlaps the one probed at {probed:#x}: one of \
                 them is not an instruction start"
            ),
        }
    }
}

impl fmt::Debug for KprobeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addr_only = |f: &mut fmt::Formatter<'_>, name: &str, addr: usize| {
            f.debug_struct(name).field("addr", &Hex(addr)).finish()
        };
        match *self {
            KprobeError::Misaligned { addr } => addr_only(f, "Misaligned", addr),
            KprobeError::OutsideText { addr } => addr_only(f, "OutsideText", addr),
            KprobeError::NeverProbe { addr, range } => f
                .debug_struct("NeverProbe")
                .field("addr", &Hex(addr))
                .field("range", &(Hex(range.0), Hex(range.1)))
                .finish(),
            KprobeError::Rejected { addr, word, reason } => f
                .debug_struct("Rejected")
                .field("addr", &Hex(addr))
                .field("word", &Hex(word))
                .field("reason", &reason)
                .finish(),
            KprobeError::StackWrite { addr, bytes } => f
                .debug_struct("StackWrite")
                .field("addr", &Hex(addr))
                .field("bytes", &bytes)
                .finish(),
            KprobeError::AlreadyRegistered { addr } => addr_only(f, "AlreadyRegistered", addr),
            KprobeError::NotRegistered => f.write_str("NotRegistered"),
            KprobeError::OutOfSites => f.write_str("OutOfSites"),
            KprobeError::TooManyAtAddress { addr } => addr_only(f, "TooManyAtAddress", addr),
            KprobeError::UnknownSymbol => f.write_str("UnknownSymbol"),
            KprobeError::OffsetOutsideSymbol { offset, size } => f
                .debug_struct("OffsetOutsideSymbol")
                .field("offset", &Hex(offset))
                .field("size", &size)
                .finish(),
            KprobeError::MisalignedOffset { offset } => f
                .debug_struct("MisalignedOffset")
                .field("offset", &Hex(offset))
                .finish(),
            KprobeError::Patch(e) => f.debug_tuple("Patch").field(&e).finish(),
            KprobeError::Rendezvous(e) => f.debug_tuple("Rendezvous").field(&e).finish(),
            KprobeError::InterruptsMasked { cpu } => f
                .debug_struct("InterruptsMasked")
                .field("cpu", &cpu)
                .finish(),
            KprobeError::Reentered { cpu } => {
                f.debug_struct("Reentered").field("cpu", &cpu).finish()
            }
            KprobeError::Slot(e) => f.debug_tuple("Slot").field(&e).finish(),
            KprobeError::ForeignProbe { addr, word } => f
                .debug_struct("ForeignProbe")
                .field("addr", &Hex(addr))
                .field("word", &Hex(word))
                .finish(),
            KprobeError::Overlaps { addr, probed } => f
                .debug_struct("Overlaps")
                .field("addr", &Hex(addr))
                .field("probed", &Hex(probed))
                .finish(),
        }
    }
}

impl core::error::Error for KprobeError {}

impl From<PatchError> for KprobeError {
    fn from(e: PatchError) -> Self {
        KprobeError::Patch(e)
    }
}

impl From<SlotError> for KprobeError {
    fn from(e: SlotError) -> Self {
        KprobeError::Slot(e)
    }
}

impl From<LockRefused> for KprobeError {
    fn from(e: LockRefused) -> Self {
        match e {
            LockRefused::InterruptsMasked { cpu } => KprobeError::InterruptsMasked { cpu },
            LockRefused::HeldByThisCpu { cpu } => KprobeError::Reentered { cpu },
            // Never online, so it could change no text anyway.
            LockRefused::CpuOutOfRange { cpu } => {
                KprobeError::Rendezvous(RendezvousError::CallerNotOnline { cpu })
            }
        }
    }
}
