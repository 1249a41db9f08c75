//! Never-probe text stays closed: every direct call or branch out of the kernel's
//! never-probe range (`__kprobes_never_probe_start..__kprobes_never_probe_end`, what `link.ld` collects there)
//! lands in never-probe text again, or in a short list of documented exceptions.
//!
//! Why: the hit path, the patcher and the rendezvous live in never-probe text, but the
//! compiler also makes them call code they never name — `__aeabi_memcpy4`,
//! `__aeabi_memclr8`, `__udivsi3`, `memcmp` from compiler-builtins. A probe there would
//! recurse on every hit, or be patched while a CPU runs it. This test builds the test
//! kernel, reads its ELF (symbols, mapping symbols `$a`/`$t`/`$d` so literal pools are
//! never read as code), disassembles the range with capstone and checks every `b`,
//! `bl`, `blx`, `cbz`, `cbnz` with an immediate target.
//!
//! Not checked, by nature: indirect transfers (`blx rN`, `bx rN`, `ldr pc, ...`, `mov
//! pc, ...`). They are the probes' handlers and the hooks the kernel installs (the
//! vector table's `ldr pc, =handler`, an SGI handler, a UND hook); keeping those out of
//! probed text is the integrator's responsibility, as it is the handlers' own. The test
//! counts them.
//!
//! Also here: the never-probe rule holds under both symbol manglings — the kernel built
//! with `-C symbol-mangling-version=v0` (the release-checked build) passes the same scan, and every function of the
//! crate lies in never-probe text in both builds.

use crate::common;

use capstone::Capstone;
use capstone::arch::arm::{ArchMode, ArmInsn, ArmOperandType};
use capstone::arch::{ArchOperand, BuildsCapstone};
use std::collections::BTreeMap;
use std::path::Path;

/// Calls out of never-probe text that are allowed, by what they reach (a substring of
/// the target symbol that both manglings contain: `4core9panicking` is in
/// `_ZN4core9panicking…` and in `_RNvNtCs…_4core9panicking…`), and why.
const ALLOWED_TARGETS: &[(&str, &str)] = &[
    (
        "4core9panicking",
        "panics (bounds checks, asserts): reached only on a bug, on the way to the \
         kernel's panic handler, which does not return",
    ),
    ("4core5slice5index", "slice-index failures: they only panic"),
    (
        "4core3str16slice_error_fail",
        "str-slicing failures: they only panic",
    ),
    ("4core6option13expect_failed", "a failed expect: panics"),
    ("4core6result13unwrap_failed", "a failed unwrap: panics"),
    (
        "4core3fmt",
        "formatting: the crate's error Display impls and the kernel's fatal reports, \
         never the hit, patch or rendezvous path",
    ),
    (
        "5alloc7raw_vec",
        "Vec growth: armv7-kprobes never allocates (no_std, no alloc); these come from the \
         kernel's own Vecs of the crate's types (a Vec<ProbeInfo> in a test), which v0 \
         mangling names after the crate and so places in never-probe text",
    ),
    (
        "11semihosting4exit",
        "the kernel's fatal exit (an unknown undefined instruction, a failed hotplug)",
    ),
    (
        "4uart14print_unlocked",
        "the kernel's fatal report, printed just before exiting",
    ),
    (
        "_undefined_handler",
        "aarch32-rt's default UND glue, linked but unused (the crate's entry replaces it)",
    ),
    (
        "_svc_handler",
        "aarch32-rt's SVC glue: the kernel's SVC handler",
    ),
    (
        "_hvc_handler",
        "aarch32-rt's HVC glue: the kernel's HVC handler",
    ),
];

/// Calls allowed by where they come from and go to: `(from, to, why)`.
const ALLOWED_CALLS: &[(&str, &str, &str)] = &[
    (
        "13armv7_kprobes5trace",
        "4core3str",
        "text handling of probe events (definitions, the event table's kept lines, the \
         capture decoder): thread context, outside every hit, patch and rendezvous path, \
         so a probe on core's string code is hit there like anywhere else",
    ),
    (
        "_asm_core_start",
        "kmain",
        "boot: core 0 starts the kernel before anything is probed",
    ),
    (
        "kmain_secondary",
        "serve_mailbox",
        "a secondary serves its mailbox only after the crate's cpu_online hook returned: \
         it is online, and every text change parks it",
    ),
];

fn allowed(from: &str, to: &str) -> Option<&'static str> {
    ALLOWED_TARGETS
        .iter()
        .find(|(t, _)| to.contains(t))
        .map(|(_, why)| *why)
        .or_else(|| {
            ALLOWED_CALLS
                .iter()
                .find(|(f, t, _)| from.contains(f) && to.contains(t))
                .map(|(_, _, why)| *why)
        })
}

// ---- a minimal ELF32 little-endian reader (sections and the symbol table) ----

struct Section {
    addr: u32,
    offset: u32,
    size: u32,
    kind: u32,
    flags: u32,
    link: u32,
}

struct Symbol {
    name: String,
    value: u32,
    size: u32,
    kind: u8,
}

struct Elf {
    bytes: Vec<u8>,
    sections: Vec<Section>,
    symbols: Vec<Symbol>,
}

const SHT_PROGBITS: u32 = 1;
const SHT_SYMTAB: u32 = 2;
const SHF_ALLOC: u32 = 2;
const SHF_EXECINSTR: u32 = 4;
const STT_FUNC: u8 = 2;

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn c_str(b: &[u8], at: usize) -> String {
    let end = b[at..].iter().position(|&c| c == 0).unwrap() + at;
    String::from_utf8_lossy(&b[at..end]).into_owned()
}

impl Elf {
    fn read(path: &Path) -> Elf {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
        assert_eq!(bytes[4], 1, "not ELF32");
        assert_eq!(bytes[5], 1, "not little-endian");
        let shoff = u32_at(&bytes, 0x20) as usize;
        let shentsize = u16_at(&bytes, 0x2e) as usize;
        let shnum = u16_at(&bytes, 0x30) as usize;
        let sections: Vec<Section> = (0..shnum)
            .map(|i| {
                let h = shoff + i * shentsize;
                Section {
                    kind: u32_at(&bytes, h + 4),
                    flags: u32_at(&bytes, h + 8),
                    addr: u32_at(&bytes, h + 12),
                    offset: u32_at(&bytes, h + 16),
                    size: u32_at(&bytes, h + 20),
                    link: u32_at(&bytes, h + 24),
                }
            })
            .collect();
        let symtab = sections
            .iter()
            .find(|s| s.kind == SHT_SYMTAB)
            .expect("the kernel ELF has a symbol table");
        let strtab = &sections[symtab.link as usize];
        let symbols = (0..symtab.size as usize / 16)
            .map(|i| {
                let e = symtab.offset as usize + 16 * i;
                Symbol {
                    name: c_str(&bytes, strtab.offset as usize + u32_at(&bytes, e) as usize),
                    value: u32_at(&bytes, e + 4),
                    size: u32_at(&bytes, e + 8),
                    kind: bytes[e + 12] & 0xf,
                }
            })
            .collect();
        Elf {
            bytes,
            sections,
            symbols,
        }
    }

    fn symbol(&self, name: &str) -> u32 {
        self.symbols
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no symbol {name}"))
            .value
    }

    /// The loaded bytes at `addr..addr + len` (one executable section).
    fn code(&self, addr: u32, len: u32) -> &[u8] {
        let s = self
            .sections
            .iter()
            .find(|s| {
                s.kind == SHT_PROGBITS
                    && s.flags & (SHF_ALLOC | SHF_EXECINSTR) == SHF_ALLOC | SHF_EXECINSTR
                    && s.addr <= addr
                    && addr + len <= s.addr + s.size
            })
            .unwrap_or_else(|| panic!("{addr:#x}+{len:#x} is in no executable section"));
        let at = (s.offset + addr - s.addr) as usize;
        &self.bytes[at..at + len as usize]
    }

    /// Named code symbols (functions and assembly labels), by address.
    fn names(&self) -> BTreeMap<u32, &str> {
        let mut names = BTreeMap::new();
        for s in &self.symbols {
            let mapping = s.name.starts_with('$');
            if !mapping && !s.name.is_empty() && (s.kind == STT_FUNC || s.kind == 0) {
                // Prefer functions over plain labels at the same address.
                if s.kind == STT_FUNC || !names.contains_key(&s.value) {
                    names.insert(s.value, s.name.as_str());
                }
            }
        }
        names
    }

    /// The instruction-set state of each part of `range`, from the mapping symbols:
    /// `(start, end, 'a' | 't' | 'd')`.
    fn mapped_regions(&self, start: u32, end: u32) -> Vec<(u32, u32, char)> {
        let mut marks: BTreeMap<u32, char> = BTreeMap::new();
        for s in &self.symbols {
            let kind = match s.name.as_str() {
                n if n == "$a" || n.starts_with("$a.") => 'a',
                n if n == "$t" || n.starts_with("$t.") => 't',
                n if n == "$d" || n.starts_with("$d.") => 'd',
                _ => continue,
            };
            marks.insert(s.value & !1, kind);
        }
        // The state at `start` is the last mark at or before it.
        let first = marks.range(..=start).next_back().map(|(_, &k)| k);
        let mut points: Vec<(u32, char)> = first.map(|k| (start, k)).into_iter().collect();
        points.extend(marks.range(start + 1..end).map(|(&a, &k)| (a, k)));
        points
            .iter()
            .enumerate()
            .map(|(i, &(a, k))| (a, points.get(i + 1).map_or(end, |p| p.0), k))
            .filter(|(a, b, _)| a < b)
            .collect()
    }
}

fn name_of<'a>(names: &BTreeMap<u32, &'a str>, addr: u32) -> &'a str {
    names.range(..=addr).next_back().map_or("?", |(_, n)| n)
}

/// What the scan found.
#[derive(Default)]
struct Scan {
    instructions: usize,
    direct: usize,
    leaving: usize,
    indirect: usize,
    /// Allowed exits, by reason: how many.
    excused: BTreeMap<&'static str, usize>,
    /// Forbidden exits: (from, to) -> how many.
    forbidden: BTreeMap<(String, String), usize>,
}

fn scan(elf: &Elf) -> Scan {
    let (start, end) = (
        elf.symbol("__kprobes_never_probe_start"),
        elf.symbol("__kprobes_never_probe_end"),
    );
    assert!(start < end, "empty never-probe range");
    let names = elf.names();
    let arm = Capstone::new()
        .arm()
        .mode(ArchMode::Arm)
        .detail(true)
        .build()
        .unwrap();
    let thumb = Capstone::new()
        .arm()
        .mode(ArchMode::Thumb)
        .detail(true)
        .build()
        .unwrap();
    let mut out = Scan::default();
    let regions = elf.mapped_regions(start, end);
    assert!(
        regions.iter().any(|r| r.2 == 'a'),
        "no A32 code in never-probe text: mapping symbols missing?"
    );
    for (from, to, kind) in regions {
        let cs = match kind {
            'a' => &arm,
            't' => &thumb,
            _ => continue,
        };
        let code = elf.code(from, to - from);
        // A32: one word at a time, so an undecodable word cannot shift the rest.
        let chunks: Vec<(u32, &[u8])> = if kind == 'a' {
            (from..to)
                .step_by(4)
                .map(|a| (a, &code[(a - from) as usize..(a - from + 4) as usize]))
                .collect()
        } else {
            vec![(from, code)]
        };
        for (at, bytes) in chunks {
            let insns = cs.disasm_all(bytes, u64::from(at)).unwrap();
            for insn in insns.iter() {
                out.instructions += 1;
                let id = insn.id().0;
                let is_branch = [
                    ArmInsn::ARM_INS_B,
                    ArmInsn::ARM_INS_BL,
                    ArmInsn::ARM_INS_BLX,
                    ArmInsn::ARM_INS_BX,
                    ArmInsn::ARM_INS_CBZ,
                    ArmInsn::ARM_INS_CBNZ,
                ]
                .iter()
                .any(|&b| b as u32 == id);
                let detail = cs.insn_detail(insn).unwrap();
                let ops = detail.arch_detail().operands();
                let target = ops.iter().rev().find_map(|op| match op {
                    ArchOperand::ArmOperand(op) => match op.op_type {
                        ArmOperandType::Imm(imm) => Some(imm as u32),
                        _ => None,
                    },
                    // capstone is built for ARM only (Cargo.toml): no other operand kind.
                    #[allow(unreachable_patterns)]
                    _ => None,
                });
                let writes_pc = detail
                    .regs_write()
                    .iter()
                    .any(|r| cs.reg_name(*r).as_deref() == Some("pc"));
                match (is_branch, target) {
                    (true, Some(target)) => {
                        out.direct += 1;
                        if (start..end).contains(&(target & !1)) {
                            continue;
                        }
                        out.leaving += 1;
                        let from_name = name_of(&names, insn.address() as u32);
                        let to_name = name_of(&names, target & !1);
                        match allowed(from_name, to_name) {
                            Some(why) => *out.excused.entry(why).or_default() += 1,
                            None => {
                                *out.forbidden
                                    .entry((from_name.to_owned(), to_name.to_owned()))
                                    .or_default() += 1
                            }
                        }
                    }
                    (true, None) => out.indirect += 1,
                    (false, _) if writes_pc => out.indirect += 1,
                    _ => {}
                }
            }
        }
    }
    out
}

fn check(board: &str, elf: &Elf) {
    let s = scan(elf);
    let forbidden: Vec<String> = s
        .forbidden
        .iter()
        .map(|((from, to), n)| format!("  {n:3} x {from}\n        -> {to}"))
        .collect();
    println!(
        "{board}: {} instructions in never-probe text, {} direct branches ({} leave it, \
         {} of those documented exceptions), {} indirect",
        s.instructions,
        s.direct,
        s.leaving,
        s.excused.values().sum::<usize>(),
        s.indirect
    );
    for (why, n) in &s.excused {
        println!("  {n:3} allowed: {why}");
    }
    assert!(
        s.instructions > 1000 && s.direct > 100,
        "{board}: implausibly little never-probe code scanned"
    );
    assert!(
        forbidden.is_empty(),
        "{board}: never-probe text calls probe-able code:\n{}",
        forbidden.join("\n")
    );
}

/// Every function of the crate lies in never-probe text (and there are many).
fn crate_functions_are_never_probe(board: &str, elf: &Elf, marker: &str) -> usize {
    let (start, end) = (
        elf.symbol("__kprobes_never_probe_start"),
        elf.symbol("__kprobes_never_probe_end"),
    );
    let outside: Vec<&str> = elf
        .symbols
        .iter()
        .filter(|s| s.kind == STT_FUNC && s.size > 0 && s.name.contains(marker))
        .filter(|s| !(start..end).contains(&(s.value & !1)))
        .map(|s| s.name.as_str())
        .collect();
    assert!(
        outside.is_empty(),
        "{board}: crate functions outside never-probe text:\n{}",
        outside.join("\n")
    );
    elf.symbols
        .iter()
        .filter(|s| s.kind == STT_FUNC && s.name.contains(marker))
        .count()
}

#[test]
fn calls_out_of_never_probe_text_land_in_never_probe_text_on_every_board() {
    for board in common::BOARDS {
        let elf = Elf::read(&common::kernel(board));
        check(board, &elf);
        let n = crate_functions_are_never_probe(board, &elf, "armv7_kprobes");
        assert!(n > 100, "{board}: only {n} crate functions found");
    }
}

#[test]
fn the_never_probe_rule_holds_with_v0_symbol_mangling() {
    // The release-checked kernel is the v0-mangled build (see `checked_kernel`).
    let elf = Elf::read(&common::checked_kernel("virt"));
    let v0 = elf
        .symbols
        .iter()
        .filter(|s| {
            s.kind == STT_FUNC && s.name.starts_with("_R") && s.name.contains("13armv7_kprobes")
        })
        .count();
    assert!(
        v0 > 100,
        "only {v0} v0-mangled crate functions: was v0 in effect?"
    );
    assert!(
        !elf.symbols
            .iter()
            .any(|s| s.name.starts_with("_ZN13armv7_kprobes")),
        "legacy-mangled crate symbols in the v0 build"
    );
    check("virt (release-checked, v0 mangling)", &elf);
    crate_functions_are_never_probe(
        "virt (release-checked, v0 mangling)",
        &elf,
        "13armv7_kprobes",
    );
}
