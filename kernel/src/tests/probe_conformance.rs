//! The conformance suite a second time, through real breakpoint probes: each case's
//! instruction gets a probe (breakpoint written through the rendezvous), runs in every
//! flag scenario, and must end exactly as its native run did — registers, flags, landing
//! address, buffer, literal window — with the pre and post handlers having run exactly
//! when the instruction's condition passed.
//!
//! The lab is not kernel text, so it gets a registry of its own over a platform that
//! differs from the kernel's only in what it calls text: the code is the crate's, generic
//! over the platform, exactly as the kernel's registry runs it.

use super::conformance::{Lab, diff, set_probe_interceptor};
use crate::platform::PLATFORM;
use crate::probes::RENDEZVOUS;
use crate::testing::TestResult;
use crate::{ensure, kprintln};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use armv7_kprobes::arch::cache::ArmCacheOps;
use armv7_kprobes::arch::memory::DirectMemory;
use armv7_kprobes::conformance::{self, FLAG_SCENARIOS};
use armv7_kprobes::insn::{BreakpointWord, Insn};
use armv7_kprobes::kprobe::{Kprobe, KprobeError, Kprobes, Trap};
use armv7_kprobes::{CpuSet, InterruptState, Platform, TrapFrame};
use core::ops::Range;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// The kernel's platform, except that "text" is the lab's one instruction word (mapped
/// read-write-execute, so it is its own alias).
struct LabPlatform;

static LAB_TEXT: AtomicUsize = AtomicUsize::new(0);

impl Platform for LabPlatform {
    fn cpu_id(&self) -> usize {
        PLATFORM.cpu_id()
    }
    fn online_cpus(&self) -> CpuSet {
        PLATFORM.online_cpus()
    }
    fn send_ipi(&self, targets: CpuSet) {
        PLATFORM.send_ipi(targets)
    }
    fn mask_interrupts(&self) -> InterruptState {
        PLATFORM.mask_interrupts()
    }
    fn restore_interrupts(&self, previous: InterruptState) {
        PLATFORM.restore_interrupts(previous)
    }
    fn interrupts_masked(&self) -> bool {
        PLATFORM.interrupts_masked()
    }
    fn kernel_text(&self) -> Range<usize> {
        let a = LAB_TEXT.load(Ordering::Relaxed);
        a..a + 4
    }
    fn never_probe(&self) -> &[Range<usize>] {
        &[]
    }
    fn slot_region(&self) -> Range<usize> {
        0..0
    }
    fn text_alias(&self, addr: usize) -> *mut u32 {
        addr as *mut u32
    }
}

static LAB_PLATFORM: LabPlatform = LabPlatform;
static LAB_KPROBES: Kprobes<LabPlatform, ArmCacheOps, 4> = Kprobes::new(&LAB_PLATFORM, &RENDEZVOUS);
static PRE: AtomicU32 = AtomicU32::new(0);
static POST: AtomicU32 = AtomicU32::new(0);

fn count_pre(_: &Kprobe, _: &mut TrapFrame) {
    PRE.fetch_add(1, Ordering::Relaxed);
}

fn count_post(_: &Kprobe, _: &mut TrapFrame) {
    POST.fetch_add(1, Ordering::Relaxed);
}

static LAB_PROBE: Kprobe = Kprobe::new(Some(count_pre), Some(count_post), 0);

/// The lab's trap hook hands breakpoint traps here first.
fn intercept(frame: &mut TrapFrame) -> bool {
    matches!(
        LAB_KPROBES.handle_undefined(frame, &mut DirectMemory),
        Trap::Handled | Trap::Retry
    )
}

pub fn probed_instructions_match_native_execution() -> TestResult {
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
        match LAB_KPROBES.register(&LAB_PROBE, a) {
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
        let armed = lab.word();
        if armed != BreakpointWord::for_original(Insn(case.word)).word() {
            mismatches += 1;
            report(format!("{:#010x}: armed word is {armed:#010x}", case.word));
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
            let (pre, post) = (PRE.load(Ordering::Relaxed), POST.load(Ordering::Relaxed));
            fired += pre;
            let mut d = diff(native, &probed, "probed");
            if lab.memory() != *native_mem {
                d += " memory differs;";
            }
            if (pre, post) != (expect, expect) {
                d += &format!(" handlers ran pre {pre} post {post} times, expected {expect};");
            }
            if !d.is_empty() {
                mismatches += 1;
                report(format!(
                    "{:#010x} ({}) scenario {scenario}:{d}",
                    case.word, case.row.name
                ));
            }
        }
        if let Err(e) = LAB_KPROBES.unregister(&LAB_PROBE) {
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
        "\n     probed conformance: {cases} cases, {} scenarios each, {runs} runs: {} passed, \
         {mismatches} failed; handlers fired {fired} times; {unprobeable} cases refused (stack use)",
        FLAG_SCENARIOS.len(),
        runs.saturating_sub(mismatches)
    );
    for r in &reports {
        kprintln!("     mismatch {r}");
    }
    ensure!(
        mismatches == 0,
        "{mismatches} mismatches (first ones above)"
    );
    ensure!(cases >= 5000, "only {cases} probed cases");
    Ok(())
}
