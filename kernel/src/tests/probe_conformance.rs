//! The conformance suite again, through real probes: each case's instruction gets a probe
//! (written through the rendezvous), runs in every flag scenario, and must end exactly as
//! its native run did — registers, flags, landing address, buffer, literal window — with
//! the handlers having run exactly when the instruction's condition passed. Four ways:
//! a breakpoint probe; an optimized probe with a post handler (the trampoline's step
//! path for every instruction); an optimized probe with only a pre handler (the
//! trampoline runs every PC-free instruction itself, and steps the rest), once with the
//! hit handled in the trampoline's assembly (the kernel's CPU index register) and once
//! in the crate's callback (the lab's platform hiding that register).
//!
//! The lab is not kernel text, so it gets a registry of its own over a platform that
//! differs from the kernel's only in what it calls text and where its slots are (in the
//! lab too, read-write-execute): the code is the crate's, generic over the platform,
//! exactly as the kernel's registry runs it.

use super::TestPlatform;
use super::conformance::{Lab, diff, set_probe_interceptor, thumb_landing};
use crate::cache::KernelCacheOps;
use crate::probes::RENDEZVOUS;
use crate::testing::TestResult;
use crate::{ensure, kprintln};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use armv7_kprobes::arch::memory::DirectMemory;
use armv7_kprobes::conformance::thumb::{self, ThumbCase};
use armv7_kprobes::conformance::{self, FLAG_SCENARIOS};
use armv7_kprobes::insn::{Branch, BreakpointWord, Cond, Insn, ThumbBranch, ThumbBreakpoint};
use armv7_kprobes::kprobe::{Kprobe, KprobeError, Kprobes, Mechanism, Trap};
use armv7_kprobes::optprobe::Variant;
use armv7_kprobes::{CpuIndexSource, Platform, TrapFrame};
use core::ops::Range;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

static LAB_TEXT: AtomicUsize = AtomicUsize::new(0);
/// How many bytes of "text" the lab has: its instruction word (A32), or the two words a
/// Thumb instruction at either halfword offset may span.
static LAB_TEXT_BYTES: AtomicUsize = AtomicUsize::new(4);

/// Where in the lab the trampolines go (clear of the code area and the stack buffer).
const LAB_SLOTS: Range<usize> = 0x1_0000..0x2_0000;

/// The kernel's platform, except that "text" is the lab's one instruction word and the
/// slots are in the lab too (mapped read-write-execute, so the lab is its own alias).
static LAB_PLATFORM: TestPlatform = TestPlatform {
    text: || {
        let a = LAB_TEXT.load(Ordering::Relaxed);
        a..a + LAB_TEXT_BYTES.load(Ordering::Relaxed)
    },
    never_probe: || &[],
    slots: || {
        let lab = crate::mmu::lab_region();
        lab.start + LAB_SLOTS.start..lab.start + LAB_SLOTS.end
    },
    alias: |addr| addr as *mut u32,
    cpu_index: || {
        if LAB_WITHOUT_CPU_REGISTER.load(Ordering::Relaxed) {
            CpuIndexSource::None
        } else {
            crate::platform::PLATFORM.cpu_index_register()
        }
    },
};
/// Whether the lab's platform hides the kernel's CPU index register (its trampolines
/// then call the crate for every hit, which runs the direct fast path in Rust).
static LAB_WITHOUT_CPU_REGISTER: AtomicBool = AtomicBool::new(false);
static LAB_KPROBES: Kprobes<TestPlatform, KernelCacheOps, 4> =
    Kprobes::new(&LAB_PLATFORM, &RENDEZVOUS);
static PRE: AtomicU32 = AtomicU32::new(0);
static POST: AtomicU32 = AtomicU32::new(0);

fn count_pre(_: &Kprobe, _: &mut TrapFrame) {
    PRE.fetch_add(1, Ordering::Relaxed);
}

fn count_post(_: &Kprobe, _: &mut TrapFrame) {
    POST.fetch_add(1, Ordering::Relaxed);
}

static LAB_PROBE: Kprobe = Kprobe::new(Some(count_pre), Some(count_post), 0);
static LAB_PRE_ONLY: Kprobe = Kprobe::new(Some(count_pre), None, 0);

/// How the probed cases run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Through {
    /// A breakpoint probe with pre and post handlers.
    Breakpoint,
    /// An optimized probe with pre and post handlers: always the step path.
    OptimizedStep,
    /// An optimized probe with a pre handler: direct execution where allowed, the hit
    /// handled in the trampoline's assembly.
    OptimizedDirect,
    /// The same on a platform without a CPU index register: the hit handled in Rust.
    OptimizedDirectInRust,
}

pub fn probed_instructions_match_native_execution() -> TestResult {
    run_through(Through::Breakpoint)
}

pub fn optimized_probes_step_every_case_like_native_execution() -> TestResult {
    run_through(Through::OptimizedStep)
}

pub fn optimized_probes_run_pc_free_cases_in_the_slot_like_native_execution() -> TestResult {
    run_through(Through::OptimizedDirect)
}

pub fn optimized_probes_without_a_cpu_index_register_run_pc_free_cases_like_native_execution()
-> TestResult {
    LAB_WITHOUT_CPU_REGISTER.store(true, Ordering::Relaxed);
    let r = run_through(Through::OptimizedDirectInRust);
    LAB_WITHOUT_CPU_REGISTER.store(false, Ordering::Relaxed);
    r
}

/// The lab's trap hook hands breakpoint traps here first.
fn intercept(frame: &mut TrapFrame) -> bool {
    matches!(
        LAB_KPROBES.handle_undefined(frame, &mut DirectMemory),
        Trap::Handled | Trap::Retry
    )
}

fn run_through(through: Through) -> TestResult {
    let (probe, with_post) = match through {
        Through::OptimizedDirect | Through::OptimizedDirectInRust => (&LAB_PRE_ONLY, false),
        _ => (&LAB_PROBE, true),
    };
    let mut variants = [0usize; 2];
    let mut not_a_stack = 0usize;
    let lab = Lab::new();
    let layout = lab.layout();
    let a = layout.insn as usize;
    LAB_TEXT.store(a, Ordering::Relaxed);
    set_probe_interceptor(Some(intercept));
    let (mut cases, mut runs, mut mismatches, mut fired, mut unprobeable) =
        (0usize, 0usize, 0usize, 0u32, 0usize);
    let mut reports: Vec<String> = Vec::new();
    let mut report = |s: String| {
        if reports.len() < 20 {
            reports.push(s);
        }
    };
    for case in conformance::cases().filter(|c| c.runs()) {
        // Native results first, with the original word in place.
        let mut natives = Vec::with_capacity(FLAG_SCENARIOS.len());
        for scenario in 0..FLAG_SCENARIOS.len() {
            match lab.native(&case, scenario) {
                Ok(f) => natives.push((f, lab.memory())),
                Err(e) => {
                    report(format!("{:#010x}: native run refused: {e}", case.word));
                    mismatches += 1;
                    break;
                }
            }
        }
        if natives.len() != FLAG_SCENARIOS.len() {
            continue;
        }
        // An optimized probe's trampoline saves its frame on the interrupted stack, as
        // any code on that stack may: a case whose SP is not a stack (a seeded operand
        // value) can only be probed by a breakpoint, whose trap runs on its own stack.
        let sp = case.frame(&layout, 0).sp;
        let stack = layout.buffer..=layout.buffer + conformance::BUFFER_BYTES;
        if through != Through::Breakpoint && !(sp.is_multiple_of(4) && stack.contains(&sp)) {
            not_a_stack += 1;
            continue;
        }
        match LAB_KPROBES.register(probe, a) {
            Ok(()) => {}
            Err(KprobeError::StackWrite { .. }) => {
                unprobeable += 1; // the kernel's trap entry cannot leave room for it
                continue;
            }
            Err(e) => {
                mismatches += 1;
                report(format!("{:#010x}: register failed: {e}", case.word));
                continue;
            }
        }
        cases += 1;
        if through != Through::Breakpoint {
            match LAB_KPROBES.optimize_pending() {
                Ok(r) if r.optimized == 1 => {}
                other => {
                    mismatches += 1;
                    report(format!("{:#010x}: optimize: {other:?}", case.word));
                }
            }
        }
        let armed = lab.word();
        let mechanism = LAB_KPROBES.mechanism_of(probe);
        let good = match (through, mechanism) {
            (Through::Breakpoint, Ok(Mechanism::Breakpoint)) => {
                armed == BreakpointWord::for_original(Insn(case.word)).word()
            }
            (Through::Breakpoint, _) => false,
            (_, Ok(Mechanism::Optimized(v))) => {
                variants[(v == Variant::Direct) as usize] += 1;
                Branch::decode(Insn(armed), a as u32).is_some_and(|b| {
                    b.cond() == Insn(case.word).replacement_cond()
                        && LAB_PLATFORM.slot_region().contains(&(b.target() as usize))
                })
            }
            _ => false,
        };
        if !good {
            mismatches += 1;
            report(format!(
                "{:#010x}: armed word is {armed:#010x}, mechanism {mechanism:?}",
                case.word
            ));
        }
        for (scenario, (native, native_mem)) in natives.iter().enumerate() {
            runs += 1;
            PRE.store(0, Ordering::Relaxed);
            POST.store(0, Ordering::Relaxed);
            let probed = lab.launch_as_is(&case, scenario);
            let expect = u32::from(
                Insn(case.word)
                    .cond()
                    .passes(case.frame(&layout, scenario).cpsr),
            );
            let expect_post = if with_post { expect } else { 0 };
            let (pre, post) = (PRE.load(Ordering::Relaxed), POST.load(Ordering::Relaxed));
            fired += pre;
            let mut d = diff(native, &probed, "probed");
            if lab.memory() != *native_mem {
                d += " memory differs;";
            }
            if (pre, post) != (expect, expect_post) {
                d += &format!(
                    " handlers ran pre {pre} post {post} times, expected {expect} {expect_post};"
                );
            }
            if !d.is_empty() {
                mismatches += 1;
                report(format!(
                    "{:#010x} ({}) scenario {scenario}:{d}",
                    case.word, case.row.name
                ));
            }
        }
        if let Err(e) = LAB_KPROBES.unregister(probe) {
            set_probe_interceptor(None);
            return Err(format!("unregister failed: {e}"));
        }
        if lab.word() != case.word {
            mismatches += 1;
            report(format!(
                "{:#010x}: after unregister the word is {:#010x}",
                case.word,
                lab.word()
            ));
        }
    }
    set_probe_interceptor(None);
    drop(lab);
    kprintln!(
        "\n     probed conformance ({through:?}): {cases} cases, {} scenarios each, {runs} runs: \
         {} passed, {mismatches} failed; handlers fired {fired} times; {unprobeable} cases \
         refused (stack use); {not_a_stack} not run (SP not a stack); trampolines: {} \
         direct, {} step-only",
        FLAG_SCENARIOS.len(),
        runs.saturating_sub(mismatches),
        variants[1],
        variants[0]
    );
    for r in &reports {
        kprintln!("     mismatch {r}");
    }
    ensure!(
        mismatches == 0,
        "{mismatches} mismatches (first ones above)"
    );
    ensure!(cases >= 5000, "only {cases} probed cases");
    let slots = LAB_KPROBES
        .slot_counts()
        .map_err(|e| alloc::format!("{e}"))?;
    ensure!(
        slots.is_none_or(|c| c.in_use == 0 && c.dirty == 0),
        "lab slots not all free: {slots:?}"
    );
    if matches!(
        through,
        Through::OptimizedDirect | Through::OptimizedDirectInRust
    ) {
        ensure!(
            variants[1] > 4000 && variants[0] > 100,
            "direct {} step-only {}: both variants must be exercised",
            variants[1],
            variants[0]
        );
    }
    Ok(())
}

/// The Thumb cases (issue 19) through real Thumb breakpoint probes: each runnable case's
/// instruction gets a probe at `addr | 1` in the lab registry (a `udf #0x18` or
/// `udf.w #0x18` over it), runs in every flag scenario and must end exactly as its native
/// run did — registers, CPSR (ITSTATE included), landing, buffer, literal window — with
/// the handlers having run exactly when the instruction's condition passed (ITSTATE's in
/// a block, a conditional branch's own outside one; a failing breakpoint is skipped as the
/// CPU skips the original, handlers not run).
pub fn thumb_breakpoint_probes_match_native_execution() -> TestResult {
    run_thumb_through(false)
}

/// The 32-bit Thumb cases outside IT blocks through optimized Thumb probes: `b.w` (or
/// `b<c>.w`) to a slot whose copy runs the original in place (a pre handler only, every
/// other case, where the instruction does not touch PC) or steps it (a post handler too,
/// or a PC user). Cases inside IT blocks are not run: real code enters a block only
/// through an IT instruction, which keeps the probe a breakpoint (the registry's scan sees
/// it); the lab enters one through the launch frame's ITSTATE. So are cases whose SP is no
/// stack (the trampoline saves its frame below SP).
pub fn thumb_optimized_probes_match_native_execution() -> TestResult {
    run_thumb_through(true)
}

fn run_thumb_through(optimized: bool) -> TestResult {
    let lab = Lab::new();
    let layout = lab.layout();
    let a = layout.insn as usize;
    LAB_TEXT.store(a, Ordering::Relaxed);
    LAB_TEXT_BYTES.store(8, Ordering::Relaxed);
    set_probe_interceptor(Some(intercept));
    let (mut cases, mut runs, mut mismatches, mut fired, mut refused, mut not_a_stack) =
        (0usize, 0usize, 0usize, 0u32, 0usize, 0usize);
    let mut variants = [0usize; 2];
    let mut reports: Vec<String> = Vec::new();
    let mut report = |s: String| {
        if reports.len() < 20 {
            reports.push(s);
        }
    };
    let name = |c: &ThumbCase| {
        format!(
            "{:#06x} {:?} at +{} it {:#04x} ({})",
            c.hw1,
            c.hw2.map(|h| format!("{h:#06x}")),
            c.at,
            c.it,
            c.row.name()
        )
    };
    let stack = layout.buffer..=layout.buffer + conformance::BUFFER_BYTES;
    let cases_run = thumb::thumb_cases().filter(|c| {
        c.runs() && (!optimized || (c.hw2.is_some() && c.slot == thumb::ItSlot::Outside))
    });
    for case in cases_run {
        if optimized {
            let sp = case.frame(&layout, 0).sp;
            if !(sp.is_multiple_of(4) && stack.contains(&sp)) {
                not_a_stack += 1;
                continue;
            }
        }
        lab.place_thumb(&case);
        // The stepped results: `thumb_step_engines_match_native_execution` proves them
        // equal to native execution case by case, so the probed runs are held to them
        // (and no case runs natively twice).
        let mut stepped_runs = Vec::with_capacity(FLAG_SCENARIOS.len());
        for scenario in 0..FLAG_SCENARIOS.len() {
            match lab.step_thumb(&case, scenario) {
                Ok((f, mem)) => stepped_runs.push((f, (mem.buffer, mem.literal))),
                Err(e) => {
                    report(format!("{}: not run: {e}", name(&case)));
                    mismatches += 1;
                    break;
                }
            }
        }
        if stepped_runs.len() != FLAG_SCENARIOS.len() {
            continue;
        }
        let addr = case.addr(&layout) as usize;
        // Optimized: alternately a pre handler only (run in place where allowed) and a
        // post handler too (always stepped).
        let with_post = !optimized || cases % 2 == 1;
        let probe = if with_post { &LAB_PROBE } else { &LAB_PRE_ONLY };
        match LAB_KPROBES.register(probe, addr | 1) {
            Ok(()) => {}
            Err(KprobeError::StackWrite { .. }) => {
                refused += 1;
                continue;
            }
            Err(e) => {
                mismatches += 1;
                report(format!("{}: register failed: {e}", name(&case)));
                continue;
            }
        }
        cases += 1;
        let armed_ok = match (case.hw2, optimized) {
            (None, _) => {
                ThumbBreakpoint::for_original16(case.hw1).is_some_and(|b| half_at(addr) == b)
            }
            (Some(hw2), false) => ThumbBreakpoint::for_original32(case.hw1, hw2)
                .is_some_and(|[b1, b2]| half_at(addr) == b1 && half_at(addr + 2) == b2),
            (Some(hw2), true) => {
                let report = LAB_KPROBES.optimize_pending();
                let mechanism = LAB_KPROBES.mechanism_of(probe);
                let cond = ThumbBranch::own_condition(case.hw1, Some(hw2)).unwrap_or(Cond::Al);
                let branch = ThumbBranch::decode(half_at(addr), half_at(addr + 2), addr as u32);
                if let Ok(Mechanism::Optimized(v)) = mechanism {
                    variants[(v == Variant::Direct) as usize] += 1;
                }
                matches!(report, Ok(r) if r.optimized == 1)
                    && matches!(mechanism, Ok(Mechanism::Optimized(_)))
                    && branch.is_some_and(|b| {
                        b.cond() == cond
                            && LAB_PLATFORM.slot_region().contains(&(b.target() as usize))
                    })
            }
        };
        if !armed_ok {
            mismatches += 1;
            report(format!(
                "{}: armed as {:#06x} {:#06x}, {:?}",
                name(&case),
                half_at(addr),
                half_at(addr + 2),
                LAB_KPROBES.mechanism_of(probe)
            ));
        }
        for (scenario, (stepped, native_mem)) in stepped_runs.iter().enumerate() {
            runs += 1;
            PRE.store(0, Ordering::Relaxed);
            POST.store(0, Ordering::Relaxed);
            let probed = lab.launch_thumb_as_is(&case, scenario);
            let native = &thumb_landing(stepped, &probed);
            let expect = u32::from(case.condition_passes(scenario));
            let expect_post = if with_post { expect } else { 0 };
            let (pre, post) = (PRE.load(Ordering::Relaxed), POST.load(Ordering::Relaxed));
            fired += pre;
            let mut d = diff(native, &probed, "probed");
            if lab.thumb_memory() != *native_mem {
                d += " memory differs;";
            }
            if (pre, post) != (expect, expect_post) {
                d += &format!(
                    " handlers ran pre {pre} post {post} times, expected {expect} {expect_post};"
                );
            }
            if !d.is_empty() {
                mismatches += 1;
                report(format!("{} scenario {scenario}:{d}", name(&case)));
            }
        }
        if let Err(e) = LAB_KPROBES.unregister(probe) {
            set_probe_interceptor(None);
            LAB_TEXT_BYTES.store(4, Ordering::Relaxed);
            return Err(format!("unregister failed: {e}"));
        }
        let restored =
            half_at(addr) == case.hw1 && case.hw2.is_none_or(|hw2| half_at(addr + 2) == hw2);
        if !restored {
            mismatches += 1;
            report(format!("{}: not restored after unregister", name(&case)));
        }
    }
    set_probe_interceptor(None);
    LAB_TEXT_BYTES.store(4, Ordering::Relaxed);
    drop(lab);
    let mechanism = if optimized {
        format!(
            "Optimized; trampolines: {} run in place, {} step-only; {not_a_stack} not run (SP \
             not a stack)",
            variants[1], variants[0]
        )
    } else {
        String::from("Breakpoint")
    };
    kprintln!(
        "\n     thumb probed conformance ({mechanism}): {cases} cases, {} scenarios each, \
         {runs} runs: {} passed, {mismatches} failed; handlers fired {fired} times; \
         {refused} cases refused (stack use)",
        FLAG_SCENARIOS.len(),
        runs.saturating_sub(mismatches),
    );
    for r in &reports {
        kprintln!("     mismatch {r}");
    }
    ensure!(
        mismatches == 0,
        "{mismatches} mismatches (first ones above)"
    );
    // Every runnable case (5,520 today), or every 32-bit one outside an IT block with a
    // stack (2,691 today): a floor well under both, so a generator that shrinks fails.
    let floor = if optimized { 2500 } else { 5000 };
    ensure!(cases >= floor, "only {cases} probed Thumb cases");
    if optimized {
        ensure!(
            variants[1] > 1000 && variants[0] > 100,
            "run in place {} step-only {}: both copies must be exercised",
            variants[1],
            variants[0]
        );
        let slots = LAB_KPROBES
            .slot_counts()
            .map_err(|e| alloc::format!("{e}"))?;
        ensure!(
            slots.is_none_or(|c| c.in_use == 0 && c.dirty == 0),
            "lab slots not all free: {slots:?}"
        );
    }
    Ok(())
}

/// The halfword at `addr` in the lab.
fn half_at(addr: usize) -> u16 {
    // SAFETY: an address in the lab's code area, mapped and readable.
    unsafe { core::ptr::read_volatile(addr as *const u16) }
}
