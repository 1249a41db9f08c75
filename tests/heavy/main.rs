//! The slow tests in one test binary: the loom model check, the test kernel's builds
//! and its QEMU boots.
//!
//! Why one binary: cargo runs test binaries one after the other, but the tests of one
//! binary in parallel (one per host core). Each of these tests leaves host cores idle
//! much of the time — a QEMU boot (round-robin TCG) runs on one core, the loom check
//! ends with one long model on one core, a kernel build ends with the crate's one
//! codegen unit — so side by side they fill both cores where one after the other they
//! would not.
//!
//! `qemu_parallel.rs` stays a binary of its own: its boots run two vCPUs on two host
//! threads and need both cores to themselves.
//!
//! Run one part with a filter: `cargo test --test heavy qemu_kernel::`.

#[path = "../common/mod.rs"]
mod common;

mod loom_rendezvous;
mod never_probe_calls;
mod qemu_bench;
mod qemu_filter;
mod qemu_kernel;
mod quickstart;
