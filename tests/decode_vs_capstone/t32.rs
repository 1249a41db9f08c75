//! (A module of `tests/decode_vs_capstone.rs`: one test binary for every capstone
//! comparison, so a cold `cargo test` links capstone once.)
//!
//! Checks the T32 decoder against an independent disassembler, capstone (Thumb mode, ARMv7,
//! Thumb-2), on random halfword pairs whose first halfword is a 32-bit prefix (bits 15:11
//! 0b11101, 0b11110 or 0b11111), outside an IT block, from a fixed seed:
//!
//! - a pair we simulate is one capstone decodes, 4 bytes long, with a mnemonic our class
//!   accepts ([`accepted_mnemonics`]);
//! - a pair capstone decodes is never UNDEFINED for us, except the rows in [`DOCUMENTED`], each
//!   with its ARM ARM reason; an entry no pair needs any more fails the test (stale);
//! - a pair we reject for a reason other than UNDEFINED or UNPREDICTABLE that capstone
//!   decodes carries a mnemonic the reason accepts ([`accepted_for_reason`]); one capstone
//!   refuses is refused by both (capstone follows LLVM, which refuses many system and
//!   ARMv7-only forms, and should-be bits, strictly);
//! - UNPREDICTABLE verdicts are not compared with capstone's verdict: capstone decodes most
//!   UNPREDICTABLE register combinations (`BadReg`, should-be bits) as the instruction they
//!   resemble, or refuses them. When it decodes one from a simulated row, its mnemonic must
//!   still fit the row's class (the pair is the instruction we think it is).
//!
//! A second test draws pairs from each table row's own pattern (a structured sweep).
//!
//! `T32_CAPSTONE_PAIRS` overrides the number of pairs (default 10 million in release runs,
//! as `.ci/run` makes them, and 1 million in debug runs so a plain `cargo test` stays
//! quick); `--nocapture` prints the per-verdict counts.

use armv7_kprobes::decode::{
    ItPosition, RejectReason, T32, T32Action, T32Decoded, T32Entry, T32Kind, classify_t32,
};
use capstone::Capstone;
use capstone::arch::BuildsCapstone;
use capstone::arch::arm::ArchMode;
use std::collections::BTreeMap;

fn capstone() -> Capstone {
    Capstone::new()
        .arm()
        .mode(ArchMode::Thumb)
        .build()
        .expect("capstone builds for Thumb")
}

/// The ARM ARM conditions as capstone suffixes them (`b<c>`).
const CONDITIONS: [&str; 14] = [
    "eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le",
];

/// The parallel add/subtract prefixes and operations (A6.3.13, A6.3.14).
const PARALLEL_PREFIXES: [&str; 6] = ["s", "q", "sh", "u", "uq", "uh"];
const PARALLEL_OPERATIONS: [&str; 6] = ["add16", "asx", "sax", "sub16", "add8", "sub8"];

/// The data-processing mnemonics of A6.3.1 and A6.3.11, with and without `s`.
const DATA_PROCESSING: &[&str] = &[
    "and", "ands", "tst", "bic", "bics", "orr", "orrs", "mov", "movs", "orn", "orns", "mvn",
    "mvns", "eor", "eors", "teq", "add", "adds", "cmn", "adc", "adcs", "sbc", "sbcs", "sub",
    "subs", "cmp", "rsb", "rsbs",
];
const SHIFTS: &[&str] = &[
    "lsl", "lsls", "lsr", "lsrs", "asr", "asrs", "ror", "rors", "rrx", "rrxs",
];
const SIGNED_MULTIPLIES: &[&str] = &[
    "smulbb", "smulbt", "smultb", "smultt", "smlabb", "smlabt", "smlatb", "smlatt", "smuad",
    "smuadx", "smlad", "smladx", "smulwb", "smulwt", "smlawb", "smlawt", "smusd", "smusdx",
    "smlsd", "smlsdx", "smmul", "smmulr", "smmla", "smmlar", "smmls", "smmlsr",
];
const LOADS: &[&str] = &["ldr", "ldrb", "ldrsb", "ldrh", "ldrsh"];

/// The mnemonics (without a `.w` suffix) capstone may print for a class, outside an IT block.
fn accepted_mnemonics(kind: T32Kind) -> &'static [&'static str] {
    match kind {
        T32Kind::DataProcessingModifiedImmediate => DATA_PROCESSING,
        T32Kind::AddSubtractWideImmediate => &["addw", "subw", "add", "sub"],
        T32Kind::GeneratePcRelativeAddress => &["adr", "addw", "subw", "add", "sub"],
        T32Kind::MoveWideImmediate => &["movw", "movt", "mov"],
        T32Kind::Saturate => &["ssat", "usat", "ssat16", "usat16"],
        T32Kind::BitfieldExtract => &["sbfx", "ubfx"],
        T32Kind::BitfieldInsert => &["bfi", "bfc"],
        T32Kind::PackHalfword => &["pkhbt", "pkhtb"],
        T32Kind::ShiftRegister => SHIFTS,
        T32Kind::Extend => &[
            "sxth", "uxth", "sxtb16", "uxtb16", "sxtb", "uxtb", "sxtah", "uxtah", "sxtab16",
            "uxtab16", "sxtab", "uxtab",
        ],
        T32Kind::DataProcessingShiftedRegister | T32Kind::ParallelAddSubtract => &[],
        T32Kind::SaturatingAddSubtract => &["qadd", "qdadd", "qsub", "qdsub"],
        T32Kind::Reverse => &["rev", "rev16", "rbit", "revsh"],
        T32Kind::SelectBytes => &["sel"],
        T32Kind::CountLeadingZeros => &["clz"],
        T32Kind::Multiply => &["mul", "mla", "mls"],
        T32Kind::SignedMultiply => SIGNED_MULTIPLIES,
        T32Kind::SumOfAbsoluteDifferences => &["usad8", "usada8"],
        T32Kind::LongMultiply => &[
            "smull", "umull", "smlal", "umlal", "umaal", "smlalbb", "smlalbt", "smlaltb",
            "smlaltt", "smlald", "smlaldx", "smlsld", "smlsldx",
        ],
        T32Kind::Divide => &["sdiv", "udiv"],
        T32Kind::ConditionalBranch => &[],
        T32Kind::Branch => &["b"],
        T32Kind::BranchWithLink => &["bl"],
        T32Kind::BranchWithLinkExchange => &["blx"],
        T32Kind::MoveFromStatus => &["mrs"],
        T32Kind::Hint => &["nop", "yield", "wfe", "wfi", "sev"],
        // DSB with the reserved option 0b1100 executes as DSB SY on ARMv7-A (A8.8.44); capstone
        // names it DFB, an ARMv8-R/M alias.
        T32Kind::Barrier => &["dsb", "dmb", "isb", "dfb"],
        T32Kind::StoreMultiple => &["stm", "stmia", "stmea", "stmdb", "stmfd"],
        T32Kind::LoadMultiple => &["ldm", "ldmia", "ldmfd", "ldmdb", "ldmea"],
        T32Kind::Push => &["push", "stmdb"],
        T32Kind::Pop => &["pop", "ldm", "ldmia"],
        T32Kind::LoadStoreDual => &["ldrd", "strd"],
        T32Kind::LoadDualLiteral => &["ldrd"],
        T32Kind::TableBranch => &["tbb", "tbh"],
        T32Kind::LoadLiteral | T32Kind::LoadRegister => LOADS,
        T32Kind::LoadImmediate => &["ldr", "ldrb", "ldrsb", "ldrh", "ldrsh", "pop"],
        T32Kind::StoreImmediate => &["str", "strb", "strh", "push"],
        T32Kind::StoreRegister => &["str", "strb", "strh"],
        T32Kind::PreloadData => &["pld", "pldw"],
        T32Kind::PreloadInstruction => &["pli"],
    }
}

fn mnemonic_fits(kind: T32Kind, mnemonic: &str) -> bool {
    let m = mnemonic.strip_suffix(".w").unwrap_or(mnemonic);
    match kind {
        T32Kind::ConditionalBranch => m.strip_prefix('b').is_some_and(|c| CONDITIONS.contains(&c)),
        T32Kind::ParallelAddSubtract => PARALLEL_PREFIXES.iter().any(|p| {
            m.strip_prefix(p)
                .is_some_and(|op| PARALLEL_OPERATIONS.contains(&op))
        }),
        T32Kind::DataProcessingShiftedRegister => {
            DATA_PROCESSING.contains(&m) || SHIFTS.contains(&m)
        }
        _ => accepted_mnemonics(kind).contains(&m),
    }
}

/// The mnemonics capstone may print for a pair we reject with `reason`; `None`: any.
fn accepted_for_reason(reason: RejectReason) -> Option<&'static [&'static str]> {
    match reason {
        RejectReason::Exclusive => Some(&[
            "strex", "ldrex", "strexb", "strexh", "strexd", "ldrexb", "ldrexh", "ldrexd", "clrex",
        ]),
        RejectReason::Unprivileged => Some(&[
            "strt", "strbt", "strht", "ldrt", "ldrbt", "ldrsbt", "ldrht", "ldrsht",
        ]),
        RejectReason::ExceptionGenerating => Some(&["hvc", "smc"]),
        RejectReason::ProcessorState => Some(&["cps", "cpsie", "cpsid"]),
        RejectReason::ReservedHint => Some(&["hint", "dbg", "pld", "pli", "nop"]),
        RejectReason::ExceptionReturn => Some(&["subs", "eret", "rfedb", "rfeia", "rfe"]),
        RejectReason::BankedRegister => Some(&["srsdb", "srsia", "srs", "msr", "mrs"]),
        RejectReason::StatusWrite => Some(&["msr"]),
        RejectReason::Jazelle => Some(&["bxj"]),
        _ => None,
    }
}

/// The rows where we and capstone knowingly disagree, with the ARM ARM's reason: a pair one of
/// them decodes and the other calls UNDEFINED (or decodes as something else). Every entry must
/// still be needed by some pair of the run.
const DOCUMENTED: &[(&str, &str)] = &[
    (
        "STREX",
        "ARMv7-A has STREX here (A8.8.212); with Rt (hw2 15:12) = 1111, `BadReg(t)` makes it \
         UNPREDICTABLE, and capstone, enabling ARMv8-M, decodes it as TT/TTT/TTA/TTAT",
    ),
    (
        "unallocated exclusive and table branch op3",
        "op3 (hw2 7:4) 1xxx and 0110 are unallocated in ARMv7-A's A6.3.6 table; capstone \
         enables ARMv8-A and decodes the load-acquire/store-release forms (LDA, STL, LDAEX, \
         STLEX and their B/H/D forms) there",
    ),
];

/// xorshift64*: a fixed, reproducible stream.
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// What capstone made of a pair: `None`, or its length, mnemonic and operands.
type Theirs = Option<(usize, String, String)>;

fn disassemble(cs: &Capstone, hw1: u16, hw2: u16) -> Theirs {
    let mut bytes = [0u8; 4];
    bytes[..2].copy_from_slice(&hw1.to_le_bytes());
    bytes[2..].copy_from_slice(&hw2.to_le_bytes());
    let insns = cs
        .disasm_count(&bytes, 0x1000, 1)
        .expect("undecodable bytes give an empty list");
    insns.iter().next().map(|i| {
        (
            i.len(),
            i.mnemonic().unwrap_or("?").to_string(),
            i.op_str().unwrap_or("").to_string(),
        )
    })
}

/// Whether our verdict and capstone's reading agree (see the module comment); `row_kind` is
/// the class of the row that decided the pair, if it is a simulated row.
fn agrees(ours: T32Decoded, row_kind: Option<T32Kind>, theirs: &Theirs) -> bool {
    match (ours, theirs) {
        // An UNPREDICTABLE form of a simulated row that capstone decodes is still that
        // instruction: its mnemonic fits the row's class.
        (T32Decoded::Rejected(RejectReason::Unpredictable), Some((len, mnemonic, _)))
            if row_kind.is_some() =>
        {
            *len == 4 && row_kind.is_some_and(|k| mnemonic_fits(k, mnemonic))
        }
        (T32Decoded::Simulate(kind), Some((len, mnemonic, _))) => {
            *len == 4 && mnemonic_fits(kind, mnemonic)
        }
        (T32Decoded::Simulate(_), None) => false,
        (T32Decoded::Rejected(RejectReason::Unpredictable), _) => true,
        (T32Decoded::Rejected(RejectReason::Undefined), None) => true,
        (T32Decoded::Rejected(RejectReason::Undefined), Some((_, mnemonic, _))) => {
            mnemonic == "udf" || mnemonic == "udf.w"
        }
        // Refused by both, for different words: nothing to probe either way.
        (T32Decoded::Rejected(_), None) => true,
        (T32Decoded::Rejected(reason), Some((len, mnemonic, _))) => {
            let m = mnemonic.strip_suffix(".w").unwrap_or(mnemonic);
            let fits = match accepted_for_reason(reason) {
                Some(names) => names.contains(&m),
                None => true,
            };
            *len == 4 && fits
        }
    }
}

/// The counts of one comparison run.
struct Tally {
    pairs: u64,
    kinds: [u64; T32Kind::ALL.len()],
    reasons: [u64; RejectReason::ALL.len()],
    agreements: u64,
    unpredictable_decoded: u64,
    /// (our row, capstone decodes it) → (count, example)
    documented: BTreeMap<(&'static str, bool), (u64, u32)>,
    /// (our row, our verdict, capstone's mnemonic) → (count, example, capstone's text)
    mismatches: BTreeMap<(String, String, String), (u64, u32, String)>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            pairs: 0,
            kinds: [0; T32Kind::ALL.len()],
            reasons: [0; RejectReason::ALL.len()],
            agreements: 0,
            unpredictable_decoded: 0,
            documented: BTreeMap::new(),
            mismatches: BTreeMap::new(),
        }
    }

    fn compare(&mut self, cs: &Capstone, hw1: u16, hw2: u16) {
        let word = u32::from(hw1) << 16 | u32::from(hw2);
        let c = classify_t32(hw1, hw2, ItPosition::Outside);
        let ours = c.decoded;
        let row = c.entry.map_or("(no row)", |e| e.name);
        self.pairs += 1;
        match ours {
            T32Decoded::Simulate(k) => self.kinds[k as usize] += 1,
            T32Decoded::Rejected(reason) => self.reasons[reason as usize] += 1,
        }
        let theirs = disassemble(cs, hw1, hw2);
        let row_kind = c.entry.and_then(|e| match e.action {
            T32Action::Simulate(k) => Some(k),
            _ => None,
        });
        if agrees(ours, row_kind, &theirs) {
            self.agreements += 1;
            if ours == T32Decoded::Rejected(RejectReason::Unpredictable) && theirs.is_some() {
                self.unpredictable_decoded += 1;
            }
            return;
        }
        if DOCUMENTED.iter().any(|(r, _)| *r == row) {
            self.documented
                .entry((row, theirs.is_some()))
                .or_insert((0, word))
                .0 += 1;
            return;
        }
        let (key, text) = match &theirs {
            None => ("invalid".to_string(), "(invalid)".to_string()),
            Some((len, m, ops)) => (m.clone(), format!("{m} {ops} ({len} bytes)")),
        };
        self.mismatches
            .entry((row.to_string(), format!("{ours:?}"), key))
            .or_insert((0, word, text))
            .0 += 1;
    }

    /// Prints the counts and fails on a mismatch or a stale documented disagreement.
    fn report(&self, what: &str) {
        println!(
            "{} {what} compared with capstone (Thumb, outside an IT block)",
            self.pairs
        );
        for (k, n) in T32Kind::ALL.iter().zip(self.kinds) {
            println!("  {n:>9}  simulate {k:?}");
        }
        for (r, n) in RejectReason::ALL.iter().zip(self.reasons) {
            if n > 0 {
                println!("  {n:>9}  rejected {r:?}");
            }
        }
        println!(
            "  agreements: {} (of which UNPREDICTABLE for us, decoded by capstone: {})",
            self.agreements, self.unpredictable_decoded
        );
        for ((row, decoded), (n, example)) in &self.documented {
            let capstone = if *decoded { "decodes" } else { "refuses" };
            println!("  documented {n:>7}: {row}, capstone {capstone} (e.g. {example:#010x})");
        }
        for ((row, ours, theirs), (n, word, text)) in &self.mismatches {
            println!(
                "MISMATCH {n:>7} {row}: ours {ours}, capstone {theirs}; e.g. {word:#010x} = {text}"
            );
        }
        let stale: Vec<&str> = DOCUMENTED
            .iter()
            .map(|(r, _)| *r)
            .filter(|r| !self.documented.keys().any(|(row, _)| row == r))
            .collect();
        assert!(
            stale.is_empty(),
            "stale documented disagreements: {stale:?}"
        );
        assert!(
            self.mismatches.is_empty(),
            "{} disagreeing classes",
            self.mismatches.len()
        );
        assert_eq!(
            self.agreements + self.documented.values().map(|(n, _)| n).sum::<u64>(),
            self.pairs
        );
    }
}

#[test]
fn t32_decoder_agrees_with_capstone_on_random_pairs() {
    let pairs: u64 = std::env::var("T32_CAPSTONE_PAIRS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) {
            1_000_000
        } else {
            10_000_000
        });
    let cs = capstone();
    let mut stream = Stream(0x7432_5eed_0019_0032);
    let mut tally = Tally::new();
    for _ in 0..pairs {
        let r = stream.next();
        // One of the three prefixes, then 11 random bits of hw1 and 16 of hw2.
        let prefix = [0b11101u16, 0b11110, 0b11111][(r >> 40) as usize % 3];
        let hw1 = prefix << 11 | (r as u16) & 0x07ff;
        let hw2 = (r >> 16) as u16;
        tally.compare(&cs, hw1, hw2);
    }
    tally.report("random 32-bit Thumb pairs");
}

/// Every leaf row of the tables, in walk order.
fn leaves(rows: &'static [T32Entry], out: &mut Vec<&'static T32Entry>) {
    for e in rows {
        match e.action {
            T32Action::Table(sub) => leaves(sub, out),
            _ => out.push(e),
        }
    }
}

#[test]
fn t32_decoder_agrees_with_capstone_row_by_row() {
    // The random pairs meet a rare row (CLZ, REV, MRS, the barriers) a few times in a million;
    // this sweep draws 2,000 pairs from each row's own pattern, half of them with the
    // should-be bits as they should be.
    let cs = capstone();
    let mut stream = Stream(0x0019_7432_0000_5eed);
    let mut rows = Vec::new();
    leaves(T32, &mut rows);
    let mut tally = Tally::new();
    for row in &rows {
        for i in 0..2_000 {
            let free = stream.next() as u32 & !row.mask;
            let word = if i % 2 == 0 {
                row.value | free & !row.should_be_zero | row.should_be_one
            } else {
                row.value | free
            };
            tally.compare(&cs, (word >> 16) as u16, word as u16);
        }
    }
    tally.report(&format!("pairs drawn from the {} rows", rows.len()));
}
