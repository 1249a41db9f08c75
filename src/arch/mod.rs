//! Everything that is an instruction: barriers, cache maintenance, interrupt masking,
//! the generic timer.
//!
//! Only built for `target_arch = "arm"`; the rest of the crate reaches the machine
//! through [`crate::Platform`] and through the functions here.

pub mod cache;
pub mod emulate;
pub mod interrupts;
pub mod kretprobe;
pub mod linked_platform;
pub mod memory;
pub mod timer;
