//! What a definition compiles to: the words each argument takes in a ring entry, the
//! hit plan a probe handler follows, and the text the table keeps to describe the event.

use super::*;

/// Entry tag layout: id in bits 0..12, flags in 12..16, generation in 16..24.
pub(super) const ID_BITS: u32 = 12;
pub(super) const FLAG_RETURN: u32 = 1;
pub(super) const FLAG_STATUS: u32 = 2;
pub(super) const GENERATION_SHIFT: u32 = 16;

/// How one argument's value sits in a ring entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ArgWords {
    /// One word; a register's, to be masked to `bits` when draining (32: none).
    Word { bits: u8 },
    /// Two words, low first (a 64-bit memory value, `$retval` as `r1:r0`).
    Pair,
    /// A string's [`STRING_SLOTS`] slots, two words each.
    String,
    /// No word: `$cpu`, which the drainer knows.
    Cpu,
}

impl ArgWords {
    pub(super) fn of(kind: EventKind, arg: &FetchArg<'_>) -> ArgWords {
        let size = arg.ty.size();
        if arg.fetch.reads_memory() {
            return match size {
                None => ArgWords::String,
                Some(8) => ArgWords::Pair,
                Some(_) => ArgWords::Word { bits: 32 },
            };
        }
        match arg.fetch.base {
            FetchBase::Cpu => ArgWords::Cpu,
            FetchBase::ReturnValue if kind == EventKind::Return && size == Some(8) => {
                ArgWords::Pair
            }
            _ => ArgWords::Word {
                bits: (size.unwrap_or(4) * 8).min(32) as u8,
            },
        }
    }

    pub(super) fn count(self) -> usize {
        match self {
            ArgWords::Word { .. } => 1,
            ArgWords::Pair => 2,
            ArgWords::String => 2 * STRING_SLOTS,
            ArgWords::Cpu => 0,
        }
    }
}

/// Words of an entry's body before the argument words: the timestamp, the entry
/// timestamp of a return event, the status word of the general path.
pub(super) const MAX_BODY_HEAD: usize = 5;
pub(super) const MAX_BODY: usize = MAX_ENTRY_WORDS - 1;
const _: () = assert!(MAX_BODY_HEAD + 2 * MAX_VALUE_SLOTS <= MAX_BODY);

/// What a hit does, compiled from the definition.
#[derive(Clone, Copy)]
pub(super) struct HitPlan {
    /// The entry's tag: id, flags, generation.
    pub(super) tag: u32,
    /// A registers-only event's entry header (tag and length).
    pub(super) header: EntryHeader,
    /// Every argument is a frame word: the body is the timestamp(s) and these words.
    pub(super) registers_only: bool,
    /// Frame words (`TrapFrame` word index: r0–r12, sp, lr, pc, cpsr) of a
    /// registers-only event's body, in order.
    pub(super) frame_words: [u8; 2 * MAX_FETCH_ARGS],
    pub(super) frame_word_count: u8,
}

/// Everything the table knows of a defined event besides its probe.
pub(super) struct SlotConfig {
    pub(super) plan: HitPlan,
    /// How each argument sits in the entry, and its first value slot.
    pub(super) layout: [(ArgWords, u8); MAX_FETCH_ARGS],
    /// The arguments as the general path fetches them (names dropped: they stay in the
    /// line).
    pub(super) args: [FetchArg<'static>; MAX_FETCH_ARGS],
    pub(super) arg_count: u8,
    pub(super) kind: EventKind,
    /// The definition line, as given (parsed again to describe the event).
    pub(super) line: [u8; MAX_KEPT_LINE],
    pub(super) line_len: u8,
    pub(super) name: [u8; MAX_EVENT_NAME],
    pub(super) name_len: u8,
    pub(super) generation: u8,
}

impl SlotConfig {
    pub(super) const EMPTY: SlotConfig = SlotConfig {
        plan: HitPlan {
            tag: 0,
            header: EntryHeader::new(0, 1),
            registers_only: true,
            frame_words: [0; 2 * MAX_FETCH_ARGS],
            frame_word_count: 0,
        },
        layout: [(ArgWords::Cpu, 0); MAX_FETCH_ARGS],
        args: [FetchArg {
            name: ArgName::Position(0),
            fetch: Fetch::new(FetchBase::Cpu),
            ty: FetchType::X32,
            slot: 0,
        }; MAX_FETCH_ARGS],
        arg_count: 0,
        kind: EventKind::Entry,
        line: [0; MAX_KEPT_LINE],
        line_len: 0,
        name: [0; MAX_EVENT_NAME],
        name_len: 0,
        generation: 0,
    };

    pub(super) fn line(&self) -> &str {
        // Copied from a `&str` whole (its length is checked against the buffer first).
        core::str::from_utf8(&self.line[..usize::from(self.line_len)]).unwrap_or("")
    }

    pub(super) fn name(&self) -> &[u8] {
        &self.name[..usize::from(self.name_len)]
    }
}

/// Fills `config` for `event` in slot `index`: the hit plan, the layout, the kept text.
pub(super) fn compile(
    config: &mut SlotConfig,
    index: usize,
    line: &str,
    name: &[u8],
    event: &EventDefinition<'_>,
) {
    let args = event.args();
    let mut flags = 0;
    if event.kind == EventKind::Return {
        flags |= FLAG_RETURN;
    }
    let registers_only = args.iter().all(|a| !a.fetch.reads_memory());
    if !registers_only {
        flags |= FLAG_STATUS;
    }
    let mut plan = HitPlan {
        header: EntryHeader::new(0, 1),
        tag: index as u32 | flags << ID_BITS | u32::from(config.generation) << GENERATION_SHIFT,
        registers_only,
        frame_words: [0; 2 * MAX_FETCH_ARGS],
        frame_word_count: 0,
    };
    for (i, arg) in args.iter().enumerate() {
        let words = ArgWords::of(event.kind, arg);
        config.layout[i] = (words, arg.slot);
        config.args[i] = FetchArg {
            name: ArgName::Position(i as u8 + 1),
            ..*arg
        };
        if registers_only {
            let first = match arg.fetch.base {
                FetchBase::Register(n) => n,
                FetchBase::Cpsr => 16,
                FetchBase::ReturnValue => 0,
                FetchBase::Cpu => continue,
            };
            for k in 0..words.count() {
                plan.frame_words[usize::from(plan.frame_word_count)] = first + k as u8;
                plan.frame_word_count += 1;
            }
        }
    }
    plan.header = EntryHeader::new(plan.tag, 3 + usize::from(plan.frame_word_count));
    config.plan = plan;
    config.arg_count = args.len() as u8;
    config.kind = event.kind;
    config.line[..line.len()].copy_from_slice(line.as_bytes());
    config.line_len = line.len() as u8;
    config.name[..name.len()].copy_from_slice(name);
    config.name_len = name.len() as u8;
}

/// An event name, formatted without a heap (its length counted past the buffer).
pub(super) struct NameBuf {
    pub(super) bytes: [u8; MAX_EVENT_NAME],
    pub(super) len: usize,
}

impl Default for NameBuf {
    fn default() -> Self {
        NameBuf {
            bytes: [0; MAX_EVENT_NAME],
            len: 0,
        }
    }
}

impl fmt::Write for NameBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if let Some(slot) = self.bytes.get_mut(self.len) {
                *slot = b;
            }
            self.len += 1;
        }
        Ok(())
    }
}
