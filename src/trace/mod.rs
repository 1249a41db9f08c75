//! Probe events: tracing a running kernel from text definitions, without writing a
//! handler — the definition parser, the fixed-size records and their capture format,
//! and the per-CPU rings that hold them until a drainer streams them out.
//!
//! [`events`] ties them to the registries: a `static` table that turns definition lines
//! into registered probes whose handlers record each hit into the hitting CPU's ring,
//! and drains every ring into one capture while events keep firing.
//!
//! - [`events`]: the event table (`define`, `drain`), the recording hit path and the
//!   [`EventPlatform`](events::EventPlatform) seam (CPU, clock, checked memory reads).
//! - [`definition`]: `p:NAME SYMBOL[+OFF] ARG=FETCH:TYPE…`, `r:…`, `-:NAME` → a
//!   [`Definition`](definition::Definition), no heap, errors naming the column.
//! - [`record`]: the [`Record`](record::Record) a hit produces, and the framed,
//!   checksummed capture stream (header, event table, records) with its decoder.
//! - [`ring`]: a lock-free single-producer ring of variable-length word entries per CPU
//!   (a hit writes only the words its event needs), overwriting the oldest or dropping
//!   the newest, with exact `dropped` accounting.
//! - `export` (host, `std`): a capture as ftrace-like text, Chrome trace-event JSON
//!   for Perfetto, and latency summaries — what the `kprobes-trace` tool prints.

pub mod definition;
// The registries are not in the loom build.
#[cfg(not(all(test, loom)))]
pub mod events;
#[cfg(any(test, feature = "std"))]
pub mod export;
pub mod fetch;
pub mod record;
pub mod ring;
