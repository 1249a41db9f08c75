//! What can go wrong with a change of the event table or a drain: [`EventsError`], with a
//! sentence for each case.

use super::*;

/// Why [`Events::define`] or [`Events::drain`] did nothing. The table, the registries
/// and the text are exactly as they were.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventsError {
    /// The line is not a definition.
    Definition(definition::DefinitionError),
    /// The line is longer than the table keeps ([`MAX_KEPT_LINE`]).
    LineTooLong {
        /// The line's length in bytes.
        len: usize,
    },
    /// The event's name (given or derived) is longer than [`MAX_EVENT_NAME`].
    NameTooLong {
        /// The name's length in bytes.
        len: usize,
    },
    /// The symbol table has no symbol the definition names.
    UnknownSymbol,
    /// `SYMBOL+OFFSET` lies past the symbol's end.
    OffsetOutsideSymbol {
        /// The offset given.
        offset: u32,
        /// The symbol's size.
        size: usize,
    },
    /// An event of that name exists.
    DuplicateName,
    /// Every slot of the table holds an event.
    TableFull {
        /// The table's capacity.
        capacity: usize,
    },
    /// `-:NAME` names no event.
    UnknownName,
    /// The kprobe registry refused the entry event's probe (or its removal).
    Kprobe(KprobeError),
    /// The return-probe table refused the return event's probe (or its removal).
    Kretprobe(KretprobeError),
    /// Another definition, removal or drain is running (they never wait for each other).
    Busy,
}

impl fmt::Display for EventsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventsError::Definition(e) => write!(f, "bad definition: {e}"),
            EventsError::LineTooLong { len } => write!(
                f,
                "the definition is {len} bytes long; the event table keeps at most {MAX_KEPT_LINE}"
            ),
            EventsError::NameTooLong { len } => write!(
                f,
                "the event's name is {len} bytes long; the event table keeps at most {MAX_EVENT_NAME}"
            ),
            EventsError::UnknownSymbol => write!(f, "the symbol table has no such symbol"),
            EventsError::OffsetOutsideSymbol { offset, size } => write!(
                f,
                "offset {offset:#x} lies past the symbol's end ({size:#x} bytes)"
            ),
            EventsError::DuplicateName => write!(f, "an event of that name is already defined"),
            EventsError::TableFull { capacity } => {
                write!(f, "the event table is full ({capacity} events)")
            }
            EventsError::UnknownName => write!(f, "no event of that name is defined"),
            EventsError::Kprobe(e) => write!(f, "the probe registry refused: {e}"),
            EventsError::Kretprobe(e) => write!(f, "the return-probe table refused: {e}"),
            EventsError::Busy => write!(
                f,
                "another definition, removal or drain of the event table is running"
            ),
        }
    }
}

impl core::error::Error for EventsError {}
