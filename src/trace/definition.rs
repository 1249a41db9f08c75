//! Probe events as text: parses one `kprobe_events`-style line (`p:open do_open dfd=%r0`)
//! into a fixed-capacity [`Definition`] a registry can turn into probes, without a heap.
//!
//! # Grammar
//!
//! ```text
//! p[:NAME] SYMBOL[+OFFSET]|ADDRESS [FETCHARG...]   entry event (a kprobe)
//! r[:NAME] SYMBOL[+0]|ADDRESS [FETCHARG...]        return event (a kretprobe)
//! -:NAME                                           remove the event NAME
//!
//! FETCHARG := [ARGNAME=]FETCH[:TYPE]
//! FETCH    := %r0 ... %r12 | %fp | %ip | %sp | %lr | %pc | %cpsr
//!           | $retval (return events only) | $cpu
//!           | +OFFSET(FETCH) | -OFFSET(FETCH)        memory at FETCH + OFFSET
//! TYPE     := u8 u16 u32 u64 s8 s16 s32 s64 x8 x16 x32 x64 (default x32) | string
//! ```
//!
//! Numbers are decimal or `0x` hexadecimal. `string` needs a memory fetch (it reads the
//! NUL-terminated bytes at the address the fetch yields, at most [`STRING_MAX_LEN`]).
//! Unnamed arguments are called `arg1`, `arg2`, … by position, and an event without a
//! name is called `p_SYMBOL_OFFSET` / `r_SYMBOL_0` / `p_0xADDRESS`, as Linux names them.
//!
//! Everything is bounded, so a definition is a plain value: at most [`MAX_FETCH_ARGS`]
//! arguments filling at most [`MAX_VALUE_SLOTS`] 64-bit record slots, memory fetches
//! nested at most [`MAX_DEREF_DEPTH`] deep, lines at most [`MAX_LINE_LEN`] bytes. Names
//! are slices of the line. Parsing has no side effects: a line that does not parse
//! registers nothing, and the error names the byte column where it went wrong.

use core::fmt;

/// Most fetch arguments one event records.
pub const MAX_FETCH_ARGS: usize = 8;
/// 64-bit value slots in a record: a number takes one, a string [`STRING_SLOTS`].
pub const MAX_VALUE_SLOTS: usize = 8;
/// Most bytes of a `string` argument a record keeps (longer strings are truncated).
pub const STRING_MAX_LEN: usize = 24;
/// Record slots a `string` argument takes.
pub const STRING_SLOTS: usize = STRING_MAX_LEN / 8;
/// Most memory dereferences nested in one fetch (`+0(+4(+8(%r0)))` is 3).
pub const MAX_DEREF_DEPTH: usize = 4;
/// Longest event or argument name, in bytes.
pub const MAX_NAME_LEN: usize = 63;
/// Longest definition line, in bytes (bounds every name and the capture header).
pub const MAX_LINE_LEN: usize = 1024;

/// One parsed line.
// No heap to box the event into: a definition is a plain value (a few hundred bytes) that
// the caller keeps for as long as it registers the event.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Definition<'a> {
    /// `p:` or `r:`: define an event.
    Event(EventDefinition<'a>),
    /// `-:NAME`: remove the event called `name`.
    Remove {
        /// The event's name.
        name: &'a str,
    },
}

/// Whether an event fires at a probed instruction or when a function returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// `p`: a kprobe at the target.
    Entry,
    /// `r`: a kretprobe on the function at the target.
    Return,
}

/// Where the probe goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// A symbol (looked up through [`SymbolLookup`](crate::SymbolLookup)) plus a byte
    /// offset (always 0 for a return event).
    Symbol {
        /// The symbol's name.
        name: &'a str,
        /// Bytes from the symbol's start.
        offset: u32,
    },
    /// An absolute address.
    Address(u32),
}

/// Why a [`Target`] names no address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResolveError {
    /// The symbol table has no such symbol.
    UnknownSymbol,
    /// `SYMBOL+OFFSET` lies past the symbol's end.
    OffsetOutsideSymbol {
        /// The symbol's size in bytes.
        size: usize,
    },
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::UnknownSymbol => f.write_str("no such symbol"),
            ResolveError::OffsetOutsideSymbol { size } => {
                write!(f, "offset past the symbol's end ({size} bytes)")
            }
        }
    }
}

// The registries (and `SymbolLookup` with them) are not in the loom build.
#[cfg(not(all(test, loom)))]
impl Target<'_> {
    /// The address to probe: a symbol's start plus the offset (inside the symbol), or the
    /// address itself.
    ///
    /// # Errors
    /// [`ResolveError`]: the symbol is unknown, or the offset leaves it.
    pub fn resolve(&self, symbols: &impl crate::SymbolLookup) -> Result<usize, ResolveError> {
        match *self {
            Target::Address(addr) => Ok(addr as usize),
            Target::Symbol { name, offset } => {
                let range = symbols.lookup(name).ok_or(ResolveError::UnknownSymbol)?;
                let size = range.end.saturating_sub(range.start);
                let offset = offset as usize;
                if offset >= size {
                    return Err(ResolveError::OffsetOutsideSymbol { size });
                }
                Ok(range.start + offset)
            }
        }
    }
}

/// An event's name: as given, or made from its kind and target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventName<'a> {
    /// `p:NAME`.
    Given(&'a str),
    /// No name given: shown as Linux shows it (`p_do_open_16`, `r_do_open_0`, `p_0x80001000`).
    Derived(EventKind, Target<'a>),
}

impl fmt::Display for EventName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = |k: &EventKind| match k {
            EventKind::Entry => 'p',
            EventKind::Return => 'r',
        };
        match self {
            EventName::Given(name) => f.write_str(name),
            EventName::Derived(k, Target::Symbol { name, offset }) => {
                write!(f, "{}_{name}_{offset}", kind(k))
            }
            EventName::Derived(k, Target::Address(addr)) => write!(f, "{}_{addr:#x}", kind(k)),
        }
    }
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Symbol { name, offset: 0 } => f.write_str(name),
            Target::Symbol { name, offset } => write!(f, "{name}+{offset:#x}"),
            Target::Address(addr) => write!(f, "{addr:#x}"),
        }
    }
}

/// A fetch argument's name: as given, or `argN` by its 1-based position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgName<'a> {
    /// `NAME=FETCH`.
    Given(&'a str),
    /// A bare fetch, the `N`th argument: shown as `argN`.
    Position(u8),
}

impl ArgName<'_> {
    /// Whether the two names print the same (`Given("arg2")` is `Position(2)`).
    pub fn same_as(&self, other: &ArgName<'_>) -> bool {
        fn position_of(name: &str) -> Option<u8> {
            let digits = name.strip_prefix("arg")?;
            // `arg02` prints differently from `arg2`.
            if digits.starts_with('0') {
                return None;
            }
            digits.parse().ok()
        }
        match (self, other) {
            (ArgName::Given(a), ArgName::Given(b)) => a == b,
            (ArgName::Position(a), ArgName::Position(b)) => a == b,
            (ArgName::Given(g), ArgName::Position(p))
            | (ArgName::Position(p), ArgName::Given(g)) => position_of(g) == Some(*p),
        }
    }
}

impl fmt::Display for ArgName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgName::Given(name) => f.write_str(name),
            ArgName::Position(n) => write!(f, "arg{n}"),
        }
    }
}

/// Where a fetch starts: a register of the probed context or a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchBase {
    /// `r0`–`r15` as an instruction names them (`%sp` is 13, `%lr` 14, `%pc` 15).
    Register(u8),
    /// `%cpsr`.
    Cpsr,
    /// `$retval`: `r0` when the function returns (return events only).
    ReturnValue,
    /// `$cpu`: the CPU the event fired on.
    Cpu,
}

/// What to record for one argument: a base value, then zero or more memory reads, each
/// at the previous value plus an offset (innermost first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fetch {
    /// The starting value.
    pub base: FetchBase,
    derefs: [i32; MAX_DEREF_DEPTH],
    depth: u8,
}

impl Fetch {
    /// A fetch of `base` with no memory read.
    pub const fn new(base: FetchBase) -> Fetch {
        Fetch {
            base,
            derefs: [0; MAX_DEREF_DEPTH],
            depth: 0,
        }
    }

    /// The offsets of the memory reads, innermost (first applied) first: `+4(+8(%r1))`
    /// reads at `r1 + 8`, then at that word `+ 4`: `[8, 4]`.
    pub fn derefs(&self) -> &[i32] {
        &self.derefs[..usize::from(self.depth)]
    }

    /// Whether the value comes from memory.
    pub fn reads_memory(&self) -> bool {
        self.depth != 0
    }

    fn push_deref(&mut self, offset: i32) {
        self.derefs[usize::from(self.depth)] = offset;
        self.depth += 1;
    }
}

/// How a fetched value is stored and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FetchType {
    /// Unsigned 8 bits, shown in decimal.
    U8 = 0,
    /// Unsigned 16 bits, shown in decimal.
    U16 = 1,
    /// Unsigned 32 bits, shown in decimal.
    U32 = 2,
    /// Unsigned 64 bits, shown in decimal.
    U64 = 3,
    /// Signed 8 bits, shown in decimal.
    S8 = 4,
    /// Signed 16 bits, shown in decimal.
    S16 = 5,
    /// Signed 32 bits, shown in decimal.
    S32 = 6,
    /// Signed 64 bits, shown in decimal.
    S64 = 7,
    /// 8 bits, shown in hexadecimal.
    X8 = 8,
    /// 16 bits, shown in hexadecimal.
    X16 = 9,
    /// 32 bits, shown in hexadecimal (the default).
    X32 = 10,
    /// 64 bits, shown in hexadecimal.
    X64 = 11,
    /// NUL-terminated bytes at the fetched address, at most [`STRING_MAX_LEN`].
    String = 12,
}

impl FetchType {
    const ALL: [(&'static str, FetchType); 13] = [
        ("u8", FetchType::U8),
        ("u16", FetchType::U16),
        ("u32", FetchType::U32),
        ("u64", FetchType::U64),
        ("s8", FetchType::S8),
        ("s16", FetchType::S16),
        ("s32", FetchType::S32),
        ("s64", FetchType::S64),
        ("x8", FetchType::X8),
        ("x16", FetchType::X16),
        ("x32", FetchType::X32),
        ("x64", FetchType::X64),
        ("string", FetchType::String),
    ];

    /// The type called `name` in a definition.
    pub fn from_name(name: &str) -> Option<FetchType> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// The type's name in a definition.
    pub fn name(self) -> &'static str {
        Self::ALL[self as usize].0
    }

    /// The type with this [`FetchType`] code (its `repr(u8)` value), as a capture stores it.
    pub fn from_code(code: u8) -> Option<FetchType> {
        Self::ALL.get(usize::from(code)).map(|(_, t)| *t)
    }

    /// Bytes a number of this type occupies in memory (`None` for `string`).
    pub fn size(self) -> Option<usize> {
        Some(match self {
            FetchType::U8 | FetchType::S8 | FetchType::X8 => 1,
            FetchType::U16 | FetchType::S16 | FetchType::X16 => 2,
            FetchType::U32 | FetchType::S32 | FetchType::X32 => 4,
            FetchType::U64 | FetchType::S64 | FetchType::X64 => 8,
            FetchType::String => return None,
        })
    }

    /// Record slots a value of this type takes.
    pub fn slots(self) -> usize {
        match self {
            FetchType::String => STRING_SLOTS,
            _ => 1,
        }
    }

    /// Whether values are shown signed.
    pub fn is_signed(self) -> bool {
        matches!(
            self,
            FetchType::S8 | FetchType::S16 | FetchType::S32 | FetchType::S64
        )
    }

    /// Whether values are shown in hexadecimal.
    pub fn is_hex(self) -> bool {
        matches!(
            self,
            FetchType::X8 | FetchType::X16 | FetchType::X32 | FetchType::X64
        )
    }
}

/// One argument an event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchArg<'a> {
    /// Its name.
    pub name: ArgName<'a>,
    /// What to fetch.
    pub fetch: Fetch,
    /// How to store and show it.
    pub ty: FetchType,
    /// Its first value slot in the record.
    pub slot: u8,
}

impl FetchArg<'_> {
    const UNUSED: FetchArg<'static> = FetchArg {
        name: ArgName::Position(0),
        fetch: Fetch::new(FetchBase::Cpu),
        ty: FetchType::X32,
        slot: 0,
    };
}

/// A `p:` or `r:` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventDefinition<'a> {
    /// Entry or return.
    pub kind: EventKind,
    /// Its name.
    pub name: EventName<'a>,
    /// Where it is probed.
    pub target: Target<'a>,
    args: [FetchArg<'a>; MAX_FETCH_ARGS],
    arg_count: u8,
}

impl<'a> EventDefinition<'a> {
    /// The fetch arguments, in order.
    pub fn args(&self) -> &[FetchArg<'a>] {
        &self.args[..usize::from(self.arg_count)]
    }

    /// Record slots the arguments fill.
    pub fn slots_used(&self) -> usize {
        self.args().iter().map(|a| a.ty.slots()).sum()
    }
}

/// Why a line is not a definition: what was expected, at which byte column (0-based
/// offset in the line; the line's length when the line ended too early).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DefinitionError {
    /// The line is longer than [`MAX_LINE_LEN`].
    LineTooLong {
        /// Where the limit was passed.
        column: usize,
    },
    /// Nothing but blanks.
    Empty {
        /// The line's length.
        column: usize,
    },
    /// Not `p`, `r` or `-` where the line starts.
    ExpectedKind {
        /// The first non-blank byte.
        column: usize,
    },
    /// After `p`/`r` came neither `:NAME` nor a blank.
    ExpectedColonOrBlank {
        /// The byte after the kind.
        column: usize,
    },
    /// `-` not followed by `:`.
    ExpectedColon {
        /// The byte after `-`.
        column: usize,
    },
    /// A name must start with a letter or `_` and go on with letters, digits and `_`.
    ExpectedName {
        /// Where the name (or its first bad byte) is.
        column: usize,
    },
    /// A name longer than [`MAX_NAME_LEN`].
    NameTooLong {
        /// Where the name starts.
        column: usize,
    },
    /// No `SYMBOL` or `ADDRESS` after `p`/`r`.
    ExpectedTarget {
        /// Where it should be.
        column: usize,
    },
    /// A number (decimal, or hexadecimal after `0x`) that does not parse or does not
    /// fit 32 bits.
    ExpectedNumber {
        /// Where the number starts.
        column: usize,
    },
    /// A return event is on a function's first instruction: `SYMBOL` or `SYMBOL+0`.
    ReturnProbeOffset {
        /// Where the offset starts.
        column: usize,
    },
    /// `-:NAME` takes nothing after the name.
    RemoveTakesNothingMore {
        /// The first byte after the name.
        column: usize,
    },
    /// More than [`MAX_FETCH_ARGS`] fetch arguments.
    TooManyArgs {
        /// Where the first one too many starts.
        column: usize,
    },
    /// Not one of `%REG`, `$VAR`, `+OFF(…)`, `-OFF(…)`.
    ExpectedFetch {
        /// Where the fetch starts.
        column: usize,
    },
    /// `%` followed by no register this crate knows.
    UnknownRegister {
        /// Where the register's name starts (after `%`).
        column: usize,
    },
    /// `$` followed by neither `retval` nor `cpu`.
    UnknownVariable {
        /// Where the variable's name starts (after `$`).
        column: usize,
    },
    /// `$retval` in an entry (`p`) event.
    ReturnValueInEntryEvent {
        /// Where `$retval` is.
        column: usize,
    },
    /// Memory fetches nested deeper than [`MAX_DEREF_DEPTH`].
    DerefTooDeep {
        /// The `+`/`-` of the first one too deep.
        column: usize,
    },
    /// `+OFF` / `-OFF` not followed by `(`.
    ExpectedOpenParen {
        /// Where `(` should be.
        column: usize,
    },
    /// A memory fetch not closed by `)`.
    ExpectedCloseParen {
        /// Where `)` should be.
        column: usize,
    },
    /// A memory offset outside `-2^31 ..= 2^31 - 1`.
    OffsetOutOfRange {
        /// Where the offset's digits start.
        column: usize,
    },
    /// `:` followed by no type this crate knows.
    UnknownType {
        /// Where the type's name starts (after `:`).
        column: usize,
    },
    /// `:string` on a fetch that reads no memory.
    StringNeedsMemory {
        /// Where `string` is.
        column: usize,
    },
    /// Something after a fetch argument that is neither `:TYPE` nor a blank.
    ExpectedTypeOrBlank {
        /// The first unexpected byte.
        column: usize,
    },
    /// Two arguments of one event with the same name (an unnamed one is `argN`).
    DuplicateArgName {
        /// Where the second one starts.
        column: usize,
    },
    /// The arguments need more than [`MAX_VALUE_SLOTS`] record slots (a `string` takes
    /// [`STRING_SLOTS`]).
    RecordFull {
        /// Where the argument that does not fit starts.
        column: usize,
    },
}

impl DefinitionError {
    /// The 0-based byte offset in the line where the error is.
    pub fn column(&self) -> usize {
        match *self {
            DefinitionError::LineTooLong { column }
            | DefinitionError::Empty { column }
            | DefinitionError::ExpectedKind { column }
            | DefinitionError::ExpectedColonOrBlank { column }
            | DefinitionError::ExpectedColon { column }
            | DefinitionError::ExpectedName { column }
            | DefinitionError::NameTooLong { column }
            | DefinitionError::ExpectedTarget { column }
            | DefinitionError::ExpectedNumber { column }
            | DefinitionError::ReturnProbeOffset { column }
            | DefinitionError::RemoveTakesNothingMore { column }
            | DefinitionError::TooManyArgs { column }
            | DefinitionError::ExpectedFetch { column }
            | DefinitionError::UnknownRegister { column }
            | DefinitionError::UnknownVariable { column }
            | DefinitionError::ReturnValueInEntryEvent { column }
            | DefinitionError::DerefTooDeep { column }
            | DefinitionError::ExpectedOpenParen { column }
            | DefinitionError::ExpectedCloseParen { column }
            | DefinitionError::OffsetOutOfRange { column }
            | DefinitionError::UnknownType { column }
            | DefinitionError::StringNeedsMemory { column }
            | DefinitionError::ExpectedTypeOrBlank { column }
            | DefinitionError::DuplicateArgName { column }
            | DefinitionError::RecordFull { column } => column,
        }
    }

    /// What the parser wanted at [`column`](Self::column), in words.
    pub fn expected(&self) -> &'static str {
        match self {
            DefinitionError::LineTooLong { .. } => "the line to end (at most 1024 bytes)",
            DefinitionError::Empty { .. } => "a definition (`p`, `r` or `-:NAME`)",
            DefinitionError::ExpectedKind { .. } => "`p`, `r` or `-`",
            DefinitionError::ExpectedColonOrBlank { .. } => "`:NAME` or a blank",
            DefinitionError::ExpectedColon { .. } => "`:NAME` after `-`",
            DefinitionError::ExpectedName { .. } => {
                "a name: a letter or `_`, then letters, digits or `_`"
            }
            DefinitionError::NameTooLong { .. } => "a name of at most 63 bytes",
            DefinitionError::ExpectedTarget { .. } => "SYMBOL[+OFFSET] or ADDRESS",
            DefinitionError::ExpectedNumber { .. } => {
                "a 32-bit number (decimal, or hexadecimal after `0x`)"
            }
            DefinitionError::ReturnProbeOffset { .. } => {
                "no offset, or +0: a return event is on a function's entry"
            }
            DefinitionError::RemoveTakesNothingMore { .. } => "the end of the line after `-:NAME`",
            DefinitionError::TooManyArgs { .. } => "at most 8 fetch arguments",
            DefinitionError::ExpectedFetch { .. } => {
                "a fetch: %REG, $retval, $cpu, +OFF(FETCH) or -OFF(FETCH)"
            }
            DefinitionError::UnknownRegister { .. } => {
                "a register: r0-r12, fp, ip, sp, lr, pc or cpsr"
            }
            DefinitionError::UnknownVariable { .. } => "`retval` or `cpu`",
            DefinitionError::ReturnValueInEntryEvent { .. } => {
                "no $retval in an entry event (only `r` events have one)"
            }
            DefinitionError::DerefTooDeep { .. } => "memory fetches nested at most 4 deep",
            DefinitionError::ExpectedOpenParen { .. } => "`(` after the offset",
            DefinitionError::ExpectedCloseParen { .. } => "`)`",
            DefinitionError::OffsetOutOfRange { .. } => "an offset within -2^31..2^31-1",
            DefinitionError::UnknownType { .. } => {
                "a type: u8-u64, s8-s64, x8-x64 (8/16/32/64) or string"
            }
            DefinitionError::StringNeedsMemory { .. } => {
                "a memory fetch (+OFF(FETCH)) for a string"
            }
            DefinitionError::ExpectedTypeOrBlank { .. } => "`:TYPE` or a blank",
            DefinitionError::DuplicateArgName { .. } => "an argument name not used before",
            DefinitionError::RecordFull { .. } => {
                "arguments that fit 8 record slots (a string takes 3)"
            }
        }
    }
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: expected {}", self.column(), self.expected())
    }
}

/// Parses one definition line (a trailing `\n` or `\r\n` is ignored).
///
/// # Errors
/// The first thing on the line that is not what the grammar wants (see the module docs),
/// as a [`DefinitionError`] naming its byte column.
pub fn parse(line: &str) -> Result<Definition<'_>, DefinitionError> {
    let line = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(line);
    if line.len() > MAX_LINE_LEN {
        return Err(DefinitionError::LineTooLong {
            column: MAX_LINE_LEN,
        });
    }
    let mut p = Parser { line, pos: 0 };
    p.skip_blanks();
    let start = p.pos;
    match p.peek() {
        None => return Err(DefinitionError::Empty { column: line.len() }),
        Some(b'-') => {
            p.pos += 1;
            if p.peek() != Some(b':') {
                return Err(DefinitionError::ExpectedColon { column: p.pos });
            }
            p.pos += 1;
            let name = p.name()?;
            p.skip_blanks();
            if p.pos != line.len() {
                return Err(DefinitionError::RemoveTakesNothingMore { column: p.pos });
            }
            return Ok(Definition::Remove { name });
        }
        Some(b'p' | b'r') => {}
        Some(_) => return Err(DefinitionError::ExpectedKind { column: start }),
    }
    let kind = if p.bump() == Some(b'p') {
        EventKind::Entry
    } else {
        EventKind::Return
    };
    let given = match p.peek() {
        Some(b':') => {
            p.pos += 1;
            Some(p.name()?)
        }
        Some(b' ' | b'\t') | None => None,
        Some(_) => return Err(DefinitionError::ExpectedColonOrBlank { column: p.pos }),
    };
    if !p.blank_then_more() {
        return Err(DefinitionError::ExpectedTarget { column: p.pos });
    }
    let target = p.target(kind)?;
    let mut event = EventDefinition {
        kind,
        name: match given {
            Some(name) => EventName::Given(name),
            None => EventName::Derived(kind, target),
        },
        target,
        args: [FetchArg::UNUSED; MAX_FETCH_ARGS],
        arg_count: 0,
    };
    let mut slots = 0;
    while p.blank_then_more() {
        let column = p.pos;
        let count = usize::from(event.arg_count);
        if count == MAX_FETCH_ARGS {
            return Err(DefinitionError::TooManyArgs { column });
        }
        let mut arg = p.fetch_arg(kind, count as u8 + 1)?;
        if event.args().iter().any(|a| a.name.same_as(&arg.name)) {
            return Err(DefinitionError::DuplicateArgName { column });
        }
        if slots + arg.ty.slots() > MAX_VALUE_SLOTS {
            return Err(DefinitionError::RecordFull { column });
        }
        arg.slot = slots as u8;
        slots += arg.ty.slots();
        event.args[count] = arg;
        event.arg_count += 1;
    }
    // `blank_then_more` stops only at the end of the line or at a non-blank right after
    // a token, which each token's parser has already refused.
    debug_assert_eq!(p.pos, line.len());
    Ok(Definition::Event(event))
}

struct Parser<'a> {
    line: &'a str,
    pos: usize,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Symbols as linkers spell them: C and mangled Rust names (`_ZN…17h…E`, `$`, `.`).
fn is_symbol_byte(b: u8) -> bool {
    is_name_byte(b) || b == b'.' || b == b'$'
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.line.as_bytes().get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek();
        if b.is_some() {
            self.pos += 1;
        }
        b
    }

    fn skip_blanks(&mut self) {
        while self.peek().is_some_and(is_blank) {
            self.pos += 1;
        }
    }

    /// Skips blanks; whether any were skipped and something follows them.
    fn blank_then_more(&mut self) -> bool {
        let start = self.pos;
        self.skip_blanks();
        self.pos != start && self.pos != self.line.len()
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        // Every predicate here accepts ASCII only, so both ends are char boundaries.
        &self.line[start..self.pos]
    }

    fn name(&mut self) -> Result<&'a str, DefinitionError> {
        let column = self.pos;
        if !self.peek().is_some_and(is_name_start) {
            return Err(DefinitionError::ExpectedName { column });
        }
        let name = self.take_while(is_name_byte);
        if name.len() > MAX_NAME_LEN {
            return Err(DefinitionError::NameTooLong { column });
        }
        Ok(name)
    }

    /// A decimal or `0x` hexadecimal number that fits 32 bits, up to a non-alphanumeric.
    fn number(&mut self) -> Result<u32, DefinitionError> {
        let column = self.pos;
        let text = self.take_while(|b| b.is_ascii_alphanumeric());
        let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => text.parse::<u32>(),
        };
        // from_str_radix accepts a leading `+`, which take_while never passes it.
        parsed.map_err(|_| DefinitionError::ExpectedNumber { column })
    }

    fn target(&mut self, kind: EventKind) -> Result<Target<'a>, DefinitionError> {
        let column = self.pos;
        let target = match self.peek() {
            Some(b) if b.is_ascii_digit() => Target::Address(self.number()?),
            Some(b) if is_name_start(b) || b == b'.' || b == b'$' => {
                let name = self.take_while(is_symbol_byte);
                let mut offset = 0;
                if self.peek() == Some(b'+') {
                    self.pos += 1;
                    let at = self.pos;
                    offset = self.number()?;
                    if kind == EventKind::Return && offset != 0 {
                        return Err(DefinitionError::ReturnProbeOffset { column: at });
                    }
                }
                Target::Symbol { name, offset }
            }
            _ => return Err(DefinitionError::ExpectedTarget { column }),
        };
        match self.peek() {
            Some(b) if !is_blank(b) => Err(DefinitionError::ExpectedTarget { column: self.pos }),
            _ => Ok(target),
        }
    }

    fn fetch_arg(
        &mut self,
        kind: EventKind,
        position: u8,
    ) -> Result<FetchArg<'a>, DefinitionError> {
        let start = self.pos;
        let mut name = ArgName::Position(position);
        if self.peek().is_some_and(is_name_start) {
            // Only a name can start with a letter or `_`: NAME=FETCH.
            let given = self.name()?;
            if self.peek() != Some(b'=') {
                return Err(DefinitionError::ExpectedFetch { column: start });
            }
            self.pos += 1;
            name = ArgName::Given(given);
        }
        let fetch = self.fetch(kind, 0)?;
        let mut ty = FetchType::X32;
        match self.peek() {
            Some(b':') => {
                self.pos += 1;
                let column = self.pos;
                let text = self.take_while(|b| b.is_ascii_alphanumeric());
                ty = FetchType::from_name(text).ok_or(DefinitionError::UnknownType { column })?;
                if ty == FetchType::String && !fetch.reads_memory() {
                    return Err(DefinitionError::StringNeedsMemory { column });
                }
                match self.peek() {
                    Some(b) if !is_blank(b) => {
                        return Err(DefinitionError::UnknownType { column });
                    }
                    _ => {}
                }
            }
            Some(b) if !is_blank(b) => {
                return Err(DefinitionError::ExpectedTypeOrBlank { column: self.pos });
            }
            _ => {}
        }
        Ok(FetchArg {
            name,
            fetch,
            ty,
            slot: 0,
        })
    }

    /// `depth`: memory fetches already open around this one.
    fn fetch(&mut self, kind: EventKind, depth: usize) -> Result<Fetch, DefinitionError> {
        let column = self.pos;
        match self.peek() {
            Some(b'%') => {
                self.pos += 1;
                let at = self.pos;
                let name = self.take_while(|b| b.is_ascii_alphanumeric());
                let base = register(name).ok_or(DefinitionError::UnknownRegister { column: at })?;
                Ok(Fetch::new(base))
            }
            Some(b'$') => {
                self.pos += 1;
                let at = self.pos;
                match self.take_while(|b| b.is_ascii_alphanumeric()) {
                    "cpu" => Ok(Fetch::new(FetchBase::Cpu)),
                    "retval" if kind == EventKind::Return => Ok(Fetch::new(FetchBase::ReturnValue)),
                    "retval" => Err(DefinitionError::ReturnValueInEntryEvent { column }),
                    _ => Err(DefinitionError::UnknownVariable { column: at }),
                }
            }
            Some(sign @ (b'+' | b'-')) => {
                if depth == MAX_DEREF_DEPTH {
                    return Err(DefinitionError::DerefTooDeep { column });
                }
                self.pos += 1;
                let at = self.pos;
                let magnitude = i64::from(self.number()?);
                let offset = if sign == b'-' { -magnitude } else { magnitude };
                let offset = i32::try_from(offset)
                    .map_err(|_| DefinitionError::OffsetOutOfRange { column: at })?;
                if self.peek() != Some(b'(') {
                    return Err(DefinitionError::ExpectedOpenParen { column: self.pos });
                }
                self.pos += 1;
                let mut inner = self.fetch(kind, depth + 1)?;
                if self.peek() != Some(b')') {
                    return Err(DefinitionError::ExpectedCloseParen { column: self.pos });
                }
                self.pos += 1;
                inner.push_deref(offset);
                Ok(inner)
            }
            _ => Err(DefinitionError::ExpectedFetch { column }),
        }
    }
}

fn register(name: &str) -> Option<FetchBase> {
    let n = match name {
        "fp" => 11,
        "ip" => 12,
        "sp" => 13,
        "lr" => 14,
        "pc" => 15,
        "cpsr" => return Some(FetchBase::Cpsr),
        _ => {
            let digits = name.strip_prefix('r')?;
            // `r01` is not a register name.
            if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
                return None;
            }
            let n: u8 = digits.parse().ok()?;
            if n > 12 {
                return None;
            }
            n
        }
    };
    Some(FetchBase::Register(n))
}

#[cfg(all(test, not(loom)))] // proptest and capstone are not in the loom build
mod tests;
