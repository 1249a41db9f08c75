//! Probe events: tracing a running kernel from text definitions, without writing a
//! handler — the definition parser, the fixed-size records and their capture format,
//! and the per-CPU rings that hold them until a drainer streams them out.
//!
//! Work in progress (issue 17): the pieces here are pure logic and host-tested; recording
//! on the probe hit paths and draining from a kernel are not wired in yet.
//!
//! - [`definition`]: `p:NAME SYMBOL[+OFF] ARG=FETCH:TYPE…`, `r:…`, `-:NAME` → a
//!   [`Definition`](definition::Definition), no heap, errors naming the column.
//! - [`record`]: the [`Record`](record::Record) a hit produces, and the framed,
//!   checksummed capture stream (header, event table, records) with its decoder.
//! - [`ring`]: a lock-free single-producer ring of records per CPU, overwriting the
//!   oldest or dropping the newest, with exact `dropped` accounting.
//! - `export` (host, `std`): a capture as ftrace-like text, Chrome trace-event JSON
//!   for Perfetto, and latency summaries — what the `kprobes-trace` tool prints.

pub mod definition;
#[cfg(any(test, feature = "std"))]
pub mod export;
pub mod fetch;
pub mod record;
pub mod ring;
