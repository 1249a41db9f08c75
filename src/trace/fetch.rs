//! Evaluates an event's fetch arguments against a hit's registers into a [`Record`], with
//! every memory read going through a [`FetchMemory`] that may refuse it, so that a bad
//! pointer in a traced argument becomes a fault marker, never a crash.

use super::definition::{
    EventDefinition, EventKind, Fetch, FetchArg, FetchBase, FetchType, STRING_MAX_LEN,
};
use super::record::Record;
use crate::frame::TrapFrame;

/// Memory as the tracer may read it.
///
/// The kernel implements it over the ranges it knows are mapped (or with the crate's
/// fault fixup): a read it cannot prove safe must return `Err`, which the record shows as
/// a fault marker for that argument.
pub trait FetchMemory {
    /// Fills `buf` with the bytes at `addr..addr + buf.len()`, or refuses.
    ///
    /// # Errors
    /// `Err(())` when any of the bytes may not be read (unmapped, device memory, …).
    #[allow(clippy::result_unit_err)]
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), ()>;
}

/// What a hit offers the fetches besides memory.
#[derive(Clone, Copy, Debug)]
pub struct FetchContext<'f> {
    /// The registers at the probed instruction (entry) or at the return (return event:
    /// `r0`, and `r1` for 64-bit values, hold the return value).
    pub frame: &'f TrapFrame,
    /// The CPU the event fires on.
    pub cpu: u8,
}

/// Fills `record`'s `values`, `faults` and `truncated` from `event`'s arguments.
///
/// A register fetch keeps the register's low bits of the type's width (`$retval` of a
/// 64-bit type is `r1:r0`, as AAPCS returns it); a memory fetch reads 32-bit pointers
/// through the inner levels and the type's width at the outermost (a `string`: bytes up
/// to a NUL, at most [`STRING_MAX_LEN`]). A refused read leaves the argument's slots 0
/// and sets its `faults` bit. `faults` and `truncated` start clear; nothing else of
/// `record` changes (slots no argument uses keep their values).
pub fn fetch_args(
    event: &EventDefinition<'_>,
    ctx: &FetchContext<'_>,
    memory: &mut impl FetchMemory,
    record: &mut Record,
) {
    fetch_arg_list(event.kind, event.args(), ctx, memory, record);
}

/// [`fetch_args`] of the arguments `args` of an event of kind `kind` (a caller that keeps
/// the arguments without their definition line: their names play no part).
pub fn fetch_arg_list(
    kind: EventKind,
    args: &[FetchArg<'_>],
    ctx: &FetchContext<'_>,
    memory: &mut impl FetchMemory,
    record: &mut Record,
) {
    record.faults = 0;
    record.truncated = 0;
    for (i, arg) in args.iter().take(8).enumerate() {
        let bit = 1u8 << i;
        match fetch_one(kind, arg, ctx, memory, record) {
            Ok(false) => {}
            Ok(true) => record.truncated |= bit,
            Err(()) => {
                record.faults |= bit;
                let slot = usize::from(arg.slot);
                record.values[slot..slot + arg.ty.slots()].fill(0);
            }
        }
    }
}

fn base_value(kind: EventKind, fetch: &Fetch, ty: FetchType, ctx: &FetchContext<'_>) -> u64 {
    let frame = ctx.frame;
    match fetch.base {
        FetchBase::Register(n) => u64::from(frame.reg(usize::from(n))),
        FetchBase::Cpsr => u64::from(frame.cpsr),
        FetchBase::ReturnValue
            if kind == EventKind::Return && ty.size() == Some(8) && !fetch.reads_memory() =>
        {
            u64::from(frame.r[0]) | (u64::from(frame.r[1]) << 32)
        }
        FetchBase::ReturnValue => u64::from(frame.r[0]),
        FetchBase::Cpu => u64::from(ctx.cpu),
    }
}

fn read_u32(memory: &mut impl FetchMemory, addr: u32) -> Result<u32, ()> {
    let mut b = [0; 4];
    memory.read(addr, &mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// The address the outermost read is at (the inner levels read pointers).
fn outer_address(
    kind: EventKind,
    arg: &FetchArg<'_>,
    ctx: &FetchContext<'_>,
    memory: &mut impl FetchMemory,
) -> Result<u32, ()> {
    let derefs = arg.fetch.derefs();
    // The base of a memory fetch is a 32-bit address even for a 64-bit type.
    let mut addr = base_value(kind, &arg.fetch, FetchType::U32, ctx) as u32;
    let (last, inner) = derefs.split_last().ok_or(())?;
    for &offset in inner {
        addr = read_u32(memory, addr.wrapping_add(offset as u32))?;
    }
    Ok(addr.wrapping_add(*last as u32))
}

/// Whether a string was cut at its bound, or `Err` if a read was refused.
fn fetch_one(
    kind: EventKind,
    arg: &FetchArg<'_>,
    ctx: &FetchContext<'_>,
    memory: &mut impl FetchMemory,
    record: &mut Record,
) -> Result<bool, ()> {
    let slot = usize::from(arg.slot);
    if !arg.fetch.reads_memory() {
        let value = base_value(kind, &arg.fetch, arg.ty, ctx);
        let bits = arg.ty.size().unwrap_or(8) * 8;
        record.values[slot] = if bits == 64 {
            value
        } else {
            value & ((1u64 << bits) - 1)
        };
        return Ok(false);
    }
    let addr = outer_address(kind, arg, ctx, memory)?;
    match arg.ty.size() {
        Some(size) => {
            let mut b = [0u8; 8];
            memory.read(addr, &mut b[..size])?;
            record.values[slot] = u64::from_le_bytes(b);
            Ok(false)
        }
        None => {
            let mut text = [0u8; STRING_MAX_LEN];
            // Byte by byte: a string that ends just before an unmapped page is still read.
            // One byte past the bound tells whether the string went on (a refused read
            // there: it did not, as far as anyone may look).
            let mut cut = false;
            for i in 0..=STRING_MAX_LEN {
                let mut b = [0u8];
                if memory.read(addr.wrapping_add(i as u32), &mut b).is_err() {
                    if i == 0 {
                        return Err(());
                    }
                    break;
                }
                if b[0] == 0 {
                    break;
                }
                match text.get_mut(i) {
                    Some(byte) => *byte = b[0],
                    None => cut = true,
                }
            }
            for (value, chunk) in record.values[slot..slot + arg.ty.slots()]
                .iter_mut()
                .zip(text.chunks_exact(8))
            {
                let mut w = [0u8; 8];
                w.copy_from_slice(chunk);
                *value = u64::from_le_bytes(w);
            }
            Ok(cut)
        }
    }
}

#[cfg(all(test, not(loom)))] // proptest and capstone are not in the loom build
mod tests;
