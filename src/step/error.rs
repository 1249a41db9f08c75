//! [`StepError`]: why a step did not complete, with the messages the probe paths report.

use super::memory::{Access, MemoryFault};
use crate::decode::RejectReason;
use crate::hex::Hex;
use core::fmt;

/// Why a step did not complete. The frame is unchanged whenever one is returned.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StepError {
    /// The decoder rejects the instruction.
    Rejected(RejectReason),
    /// The frame's CPSR.T is set: the engine steps A32 code only.
    ThumbState,
    /// The frame's CPSR.T is clear, but a Thumb (16- or 32-bit) instruction was to be stepped.
    ArmState,
    /// The halfword handed to the T16 engine is not of the [`T16Kind`](crate::decode::T16Kind)
    /// it came with (or is the first half of a 32-bit instruction), or the pair handed to the
    /// T32 engine not of its [`T32Kind`](crate::decode::T32Kind).
    KindMismatch,
    /// A load or store faulted in the [`Memory`](super::Memory) accessor.
    Memory(MemoryFault),
    /// LDRD/STRD/LDM/STM at an address that is not word-aligned: natively an alignment fault.
    AlignmentFault {
        /// The address the instruction computed.
        address: u32,
    },
    /// A write to PC of an address with bits 1:0 == 0b10: UNPREDICTABLE in ARM state.
    UnpredictablePcWrite {
        /// The value written.
        target: u32,
    },
    /// LDR to PC from an address that is not word-aligned: UNPREDICTABLE.
    UnalignedPcLoad {
        /// The address the instruction computed.
        address: u32,
    },
}

impl fmt::Debug for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let address = |f: &mut fmt::Formatter<'_>, name: &str, field: &str, a: u32| {
            f.debug_struct(name).field(field, &Hex(a)).finish()
        };
        match *self {
            StepError::Rejected(r) => f.debug_tuple("Rejected").field(&r).finish(),
            StepError::ThumbState => f.write_str("ThumbState"),
            StepError::ArmState => f.write_str("ArmState"),
            StepError::KindMismatch => f.write_str("KindMismatch"),
            StepError::Memory(m) => f.debug_tuple("Memory").field(&m).finish(),
            StepError::AlignmentFault { address: a } => address(f, "AlignmentFault", "address", a),
            StepError::UnpredictablePcWrite { target } => {
                address(f, "UnpredictablePcWrite", "target", target)
            }
            StepError::UnalignedPcLoad { address: a } => {
                address(f, "UnalignedPcLoad", "address", a)
            }
        }
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Rejected(reason) => write!(f, "instruction rejected: {reason}"),
            StepError::ThumbState => {
                f.write_str("the frame is in Thumb state; only A32 is stepped")
            }
            StepError::ArmState => {
                f.write_str("the frame is in ARM state; a Thumb instruction was stepped")
            }
            StepError::KindMismatch => {
                f.write_str("the instruction is not of the class it was stepped as")
            }
            StepError::Memory(fault) => write!(
                f,
                "memory {} fault at {:#010x}",
                match fault.access {
                    Access::Read => "read",
                    Access::Write => "write",
                },
                fault.address
            ),
            StepError::AlignmentFault { address } => {
                write!(
                    f,
                    "alignment fault: word access required at {address:#010x}"
                )
            }
            StepError::UnpredictablePcWrite { target } => {
                write!(
                    f,
                    "UNPREDICTABLE write of {target:#010x} to pc (bits 1:0 are 0b10)"
                )
            }
            StepError::UnalignedPcLoad { address } => {
                write!(f, "UNPREDICTABLE load to pc from unaligned {address:#010x}")
            }
        }
    }
}

impl From<MemoryFault> for StepError {
    fn from(fault: MemoryFault) -> StepError {
        StepError::Memory(fault)
    }
}
