//! Emulation on the CPU: every conformance case the step engine can rewrite onto r0–r3 runs
//! from a real instruction slot, in all 16 flag scenarios, and must match both the step
//! engine's simulation and native execution in the conformance lab.
//!
//! Slots are lent by the kernel's probe registry — the same allocator its optimized-probe
//! trampolines come from — and written through the text alias, as a trampoline's would
//! be. Each case's slot is released and reclaimed after a rendezvous every few cases, so
//! slots are rewritten many times — which also proves the code-write sequence makes the
//! new words visible.

use super::conformance::Lab;
use crate::probes::KPROBES;
use crate::testing::TestResult;
use crate::{ensure, text};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use armv7_kprobes::arch::emulate::{self, EMULATION_SLOT_BYTES};
use armv7_kprobes::conformance::{self, Case, CaseMemory, FLAG_SCENARIOS};
use armv7_kprobes::insn::Insn;
use armv7_kprobes::slots::Slot;
use armv7_kprobes::{TrapFrame, step};

/// Cases between two reclaims of the released slots.
const RECLAIM_EVERY: usize = 8;
/// Mismatch lines printed at most.
const REPORTED: usize = 20;

/// What differs between two frames, as `" r1: slot 0x5 step 0x6;"` items.
fn differences(a_name: &str, a: &TrapFrame, b_name: &str, b: &TrapFrame) -> String {
    let mut s = String::new();
    for n in 0..16 {
        if a.reg(n) != b.reg(n) {
            s += &format!(" r{n}: {a_name} {:#x} {b_name} {:#x};", a.reg(n), b.reg(n));
        }
    }
    if a.cpsr != b.cpsr {
        s += &format!(" cpsr: {a_name} {:#x} {b_name} {:#x};", a.cpsr, b.cpsr);
    }
    s
}

/// Writes `words` into `slot` through the text alias (each word with the code-write
/// sequence and an ISB on this core), then reads them back at the executable address.
fn install(slot: Slot, words: &[u32]) -> TestResult {
    for (i, w) in words.iter().enumerate() {
        text::write_word(slot.addr() + 4 * i, *w);
    }
    for (i, w) in words.iter().enumerate() {
        let a = slot.addr() + 4 * i;
        // SAFETY: a word of an allocated slot, inside the RX region, which is mapped readable.
        let seen = unsafe { core::ptr::read_volatile(a as *const u32) };
        ensure!(
            seen == *w,
            "slot word at {a:#x} reads {seen:#010x}, wrote {w:#010x}"
        );
    }
    Ok(())
}

pub fn slot_emulation_matches_simulation_and_native_execution() -> TestResult {
    let lab = Lab::new();
    let layout = lab.layout();
    let before = KPROBES.slot_counts().map_err(|e| alloc::format!("{e}"))?;
    let (mut cases, mut runs, mut failures, mut reclaimed) = (0usize, 0usize, 0usize, 0usize);
    let mut reports: Vec<String> = Vec::new();
    for case in conformance::cases().filter(Case::runs) {
        let Some(e) = step::emulation(Insn(case.word)) else {
            continue;
        };
        cases += 1;
        let slot = KPROBES.allocate_slot().map_err(|e| format!("{e}"))?;
        install(slot, &e.slot_words())?;
        for scenario in 0..FLAG_SCENARIOS.len() {
            runs += 1;
            let start = case.frame(&layout, scenario);
            let mut simulated = start;
            let mut mem = CaseMemory::new(&case, layout);
            let stepped = step::step(Insn(case.word), layout.insn, &mut simulated, &mut mem);
            let mut emulated = start;
            // SAFETY: the slot is allocated to this case and holds e.slot_words(), written
            // through the alias with the code-write sequence and an ISB on this core (the
            // one running it); e.word is an Emulation's rewrite.
            unsafe { emulate::emulate(&e, slot.addr(), &mut emulated, layout.insn) };
            let mut d = String::new();
            match stepped {
                Ok(()) => d += &differences("slot", &emulated, "step", &simulated),
                Err(err) => d += &format!(" step failed ({err});"),
            }
            match lab.native(&case, scenario) {
                Ok(native) => d += &differences("slot", &emulated, "native", &native),
                Err(why) => d += &format!(" native: {why};"),
            }
            if !d.is_empty() {
                failures += 1;
                if reports.len() < REPORTED {
                    reports.push(format!(
                        "{:#010x} ({}) as {:#010x}, scenario {scenario}:{d}",
                        case.word, case.row.name, e.word
                    ));
                }
            }
        }
        KPROBES.release_slot(slot).map_err(|e| format!("{e}"))?;
        if cases.is_multiple_of(RECLAIM_EVERY) {
            reclaimed += KPROBES.reclaim_slots().map_err(|e| format!("{e}"))?;
        }
    }
    drop(lab);
    reclaimed += KPROBES.reclaim_slots().map_err(|e| format!("{e}"))?;
    let counts = KPROBES
        .slot_counts()
        .map_err(|e| alloc::format!("{e}"))?
        .ok_or("no slot was ever allocated")?;
    crate::kprintln!(
        "\n     emulation: {cases} cases, {} scenarios each, {runs} slot runs: {} passed, \
         {failures} failed; {EMULATION_SLOT_BYTES}-byte copies in the registry's slots \
         ({} free of {}), {reclaimed} reclaimed",
        FLAG_SCENARIOS.len(),
        runs - failures,
        counts.free,
        counts.free + counts.in_use + counts.dirty
    );
    for r in &reports {
        crate::kprintln!("     mismatch {r}");
    }
    ensure!(failures == 0, "{failures} mismatches (first ones above)");
    ensure!(
        before.is_none_or(|b| b == counts) && counts.in_use == 0 && counts.dirty == 0,
        "slots not all free at the end: {counts:?} (before: {before:?})"
    );
    ensure!(
        reclaimed == cases,
        "{reclaimed} slots reclaimed for {cases} cases"
    );
    ensure!(cases > 1000, "only {cases} cases can be emulated");
    Ok(())
}
