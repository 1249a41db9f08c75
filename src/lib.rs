//! Dynamic kernel probes for bare-metal ARMv7-A kernels, on A32 and Thumb-2 code.
//!
//! The integrating kernel implements [`Platform`] (CPUs, IPIs, interrupt masking, the
//! text it allows to be probed and a writable view of it) and calls the crate from its
//! undefined-instruction handler and its IPI handler. Everything that is not an
//! instruction is plain Rust and is tested on the host against the fakes in
//! `fakes` (enabled by the `fakes` feature, and always in this crate's own tests).
//!
//! The types an integrator names are re-exported here ([`Kprobes`], [`Kprobe`],
//! [`Trap`], [`Kretprobes`], [`Kretprobe`], [`KretprobePool`], [`Rendezvous`],
//! [`RunOn`], [`TrapFrame`], [`Platform`], [`CpuSet`], the error types, …). The
//! differential lab (`conformance`, `corpus`) is behind the `lab` feature.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]
#![warn(clippy::missing_errors_doc)]

pub mod cache;
pub mod claims;
// The differential lab: the case generator and the user corpus format, used by the test
// kernel and the `kprobes-corpus` tool (feature `lab`) and by this crate's own tests.
#[cfg(any(test, feature = "lab"))]
pub mod conformance;
#[cfg(any(test, feature = "lab"))]
pub mod corpus;
pub mod decode;
pub mod frame;
mod hex;
pub mod insn;
// The registries are not part of the loom model (which checks the rendezvous and the
// registry lock), and their const constructors cannot be built on loom's atomics.
#[cfg(not(all(test, loom)))]
pub mod kprobe;
#[cfg(not(all(test, loom)))]
pub mod kretprobe;
#[cfg(not(all(test, loom)))]
pub mod optprobe;
pub mod patch;
pub mod platform;
pub mod slots;
mod spin_lock;
pub mod step;
pub mod stop_machine;
mod sync;
pub mod trace;

// On the host only for documentation (`cargo doc`, docs.rs): rustdoc reads the
// signatures, nothing assembles the instructions.
#[cfg(any(doc, target_arch = "arm"))]
pub mod arch;
// The shipped exception entries (feature `exception-glue`, or `aarch32-rt`).
#[cfg(all(feature = "exception-glue", any(doc, target_arch = "arm")))]
pub mod glue;
// The ranges the crate's linker fragment defines (`kprobes.x`).
#[cfg(any(doc, target_arch = "arm"))]
pub mod linked;

#[cfg(any(test, feature = "fakes"))]
pub mod fakes;

// What an integrator names, at the crate root (the module paths stay valid).
#[cfg(any(doc, target_arch = "arm"))]
pub use arch::{
    cache::ArmCacheOps,
    linked_platform::{Cpus, LinkedPlatform, OneCpu, SingleCpu},
    memory::DirectMemory,
};
pub use cache::CacheOps;
pub use claims::ClaimError;
pub use frame::TrapFrame;
#[cfg(not(all(test, loom)))]
pub use kprobe::{
    FaultFixup, Handler, Kprobe, KprobeError, Kprobes, Mechanism, OptimizeReport, ProbeInfo,
    ProbeState, SymbolLookup, Trap,
};
#[cfg(not(all(test, loom)))]
pub use kretprobe::{
    EntryHandler, Kretprobe, KretprobeError, KretprobeInstance, KretprobePool, Kretprobes, OnEntry,
    ReturnHandler,
};
pub use patch::PatchError;
pub use platform::{CpuIndexSource, CpuSet, InterruptState, MAX_CPUS, Platform};
pub use slots::{Slot, SlotCounts, SlotError};
pub use stop_machine::{HotplugError, Rendezvous, RendezvousError, RunOn};
