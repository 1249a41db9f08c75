//! Differential conformance: every case the crate generates from its decode table runs
//! on the CPU itself and through the step engine, in 16 flag scenarios, and everything
//! must match — r0–r14, CPSR, where execution lands, the stack buffer, the literal window.
//!
//! The native run borrows the undefined-instruction trap twice. The harness executes a
//! launch `udf`; the hook saves the harness's frame and returns into the case's frame
//! instead (the case runs in SVC mode, IRQs and FIQs masked, so the SYS stack the trap
//! entry uses stays the harness's own whatever the case does to SP). Every way out of the
//! instruction lands on a pad — an undefined instruction — whose trap frame *is* the
//! native result; the hook records it and resumes the harness after its launch `udf`.

use crate::testing::TestResult;
use crate::{ensure, irq, mmu, trap};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use armv7_kprobes::TrapFrame;
use armv7_kprobes::conformance::{
    self, ARM_PAD, ARM_PADS_BEFORE, Alignment, BUFFER_BYTES, CODE_END, Case, CaseMemory,
    FLAG_SCENARIOS, LITERAL_WINDOW, Layout, THUMB_PAD_WORD, THUMB_PADS,
    thumb::{self, THUMB_LITERAL_WINDOW, ThumbCase},
};
use armv7_kprobes::decode::{self, A32, Action, Entry};
use armv7_kprobes::insn::Cond;
use armv7_kprobes::insn::Insn;
use armv7_kprobes::step;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// The instruction under test sits here in the lab (room below for the literal window).
const CODE_OFFSET: usize = 0x1000;
/// The stack buffer sits here in the lab.
const BUFFER_OFFSET: usize = 0x8000;
/// SVC mode, IRQ and FIQ masked: how cases run.
const CASE_MODE: u32 = 0x1d3;
/// IPI used to leave an interrupt pending for WFI cases.
const IPI_WAKE: u32 = 3;
/// Cases the issue asks for, at least.
const MIN_CASES: usize = 5_000;

const IDLE: u32 = 0;
const ARMED: u32 = 1;
const RUNNING: u32 = 2;

static STATE: AtomicU32 = AtomicU32::new(IDLE);

/// Frames shared between the harness and its trap hook, on core 0 only.
struct Frames {
    case: TrapFrame,
    harness: TrapFrame,
    result: TrapFrame,
}

struct Shared(UnsafeCell<Frames>);

// SAFETY: only core 0 touches FRAMES: the harness between launches, the hook (on core 0,
// interrupts masked) during one; STATE orders the hand-overs.
unsafe impl Sync for Shared {}

static FRAMES: Shared = Shared(UnsafeCell::new(Frames {
    case: zero_frame(),
    harness: zero_frame(),
    result: zero_frame(),
}));

const fn zero_frame() -> TrapFrame {
    TrapFrame {
        r: [0; 13],
        sp: 0,
        lr: 0,
        pc: 0,
        cpsr: 0,
    }
}

// `conformance_launch`: the udf the hook swaps for the case, then a return.
// SAFETY: an AAPCS function that preserves every register: the trap resumes after the
// udf with exactly the frame it saved (see `hook`).
core::arch::global_asm!(
    ".pushsection .text.noprobe.conformance_launch, \"ax\", %progbits",
    ".arm",
    ".global conformance_launch",
    ".type conformance_launch, %function",
    ".p2align 2",
    "conformance_launch:",
    "    udf #0xc0de",
    "    bx  lr",
    ".size conformance_launch, . - conformance_launch",
    ".popsection",
);

unsafe extern "C" {
    fn conformance_launch();
}

fn launch_addr() -> u32 {
    conformance_launch as *const () as usize as u32
}

/// A trap handler that gets the traps of a running case first (the probed-conformance
/// test's breakpoint); when it handles one, the case goes on from the frame it left.
pub type Interceptor = fn(&mut TrapFrame) -> bool;

static INTERCEPTOR: AtomicUsize = AtomicUsize::new(0);

/// Installs (or removes) the interceptor.
pub fn set_probe_interceptor(i: Option<Interceptor>) {
    INTERCEPTOR.store(i.map_or(0, |f| f as usize), Ordering::Release);
}

fn intercepted(frame: &mut TrapFrame) -> bool {
    match INTERCEPTOR.load(Ordering::Acquire) {
        0 => false,
        f => {
            // SAFETY: INTERCEPTOR only holds 0 or an `Interceptor` (set_probe_interceptor).
            let i = unsafe { core::mem::transmute::<usize, Interceptor>(f) };
            i(frame)
        }
    }
}

fn hook(frame: &mut TrapFrame) -> bool {
    if crate::smp::cpu_id() != 0 {
        return false;
    }
    let frames = FRAMES.0.get();
    match STATE.load(Ordering::Acquire) {
        ARMED if frame.pc == launch_addr() => {
            // SAFETY: see Shared's Sync impl.
            unsafe {
                (*frames).harness = *frame;
                *frame = (*frames).case;
            }
            STATE.store(RUNNING, Ordering::Release);
            true
        }
        RUNNING if intercepted(frame) => true,
        RUNNING => {
            // SAFETY: see Shared's Sync impl.
            unsafe {
                (*frames).result = *frame;
                *frame = (*frames).harness;
            }
            frame.pc += 4;
            STATE.store(IDLE, Ordering::Release);
            true
        }
        _ => false,
    }
}

/// SVC mode's banked sp and lr (a case leaves its own values there).
fn svc_banked() -> (u32, u32) {
    let (sp, lr): (u32, u32);
    // SAFETY: a round trip to SVC mode with IRQs masked (CPS keeps them as they are; the
    // caller masks them) reading two banked registers; back in SYS mode after.
    unsafe {
        core::arch::asm!("cps #0x13", "mov {s}, sp", "mov {l}, lr", "cps #0x1f",
            s = out(reg) sp, l = out(reg) lr, options(nostack, nomem, preserves_flags));
    }
    (sp, lr)
}

fn set_svc_banked(sp: u32, lr: u32) {
    // SAFETY: as in svc_banked, writing them back.
    unsafe {
        core::arch::asm!("cps #0x13", "mov sp, {s}", "mov lr, {l}", "cps #0x1f",
            s = in(reg) sp, l = in(reg) lr, options(nostack, nomem, preserves_flags));
    }
}

/// Runs `case_frame` natively; returns the frame its landing pad trapped with.
fn run_native(case_frame: TrapFrame, wake: bool) -> TrapFrame {
    // SAFETY: see Shared's Sync impl (idle: the hook does not touch FRAMES now).
    unsafe { (*FRAMES.0.get()).case = case_frame };
    let masked = armv7_kprobes::Platform::mask_interrupts(&crate::platform::PLATFORM);
    let (svc_sp, svc_lr) = svc_banked();
    if wake {
        irq::send_ipi(IPI_WAKE, 1); // a pending interrupt ends WFI at once
        aarch32_cpu::asm::sev(); // and a set event register ends WFE
    }
    STATE.store(ARMED, Ordering::Release);
    // SAFETY: conformance_launch preserves every register (see its definition).
    unsafe { conformance_launch() };
    set_svc_banked(svc_sp, svc_lr);
    armv7_kprobes::Platform::restore_interrupts(&crate::platform::PLATFORM, masked);
    // SAFETY: see Shared's Sync impl (idle again).
    unsafe { (*FRAMES.0.get()).result }
}

fn word_at(addr: u32) -> u32 {
    // SAFETY: addresses inside the lab, mapped read-write.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

fn set_word(addr: u32, v: u32) {
    // SAFETY: addresses inside the lab, mapped read-write (and executable).
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
}

/// Writes `v` at `addr` unless the word there already is `v`: the memory ends up the same,
/// but a literal window shares its page with the pads the case lands on, and QEMU sends
/// every store to a page holding translated code through its self-modifying-code check
/// (slow path, translations looked up): rewriting the window's 64 unchanged words before
/// each run made those stores most of the lab's time (Thumb lab on virt: 8.5 s, 2.3 s
/// without them).
fn set_word_if_changed(addr: u32, v: u32) {
    if word_at(addr) != v {
        set_word(addr, v);
    }
}

/// Makes the instruction stream see the word just written at `addr`.
fn sync_icache(addr: u32) {
    // SAFETY: cache maintenance by VA on a mapped lab address, then barriers; no other
    // effect (the ARMv7 code-modification sequence for one word).
    unsafe {
        core::arch::asm!(
            "mcr p15, 0, {a}, c7, c11, 1",
            "dsb ish",
            "mcr p15, 0, {a}, c7, c5, 1",
            "mcr p15, 0, {z}, c7, c5, 6",
            "dsb ish",
            "isb",
            a = in(reg) addr, z = in(reg) 0u32, options(nostack, preserves_flags));
    }
}

fn fill_memory(case: &Case, layout: &Layout) {
    for i in 0..BUFFER_BYTES / 4 {
        let w = case.memory_word(layout, i);
        set_word(layout.buffer + 4 * i, w);
        set_word_if_changed(layout.code(LITERAL_WINDOW) + 4 * i, w);
    }
}

fn snapshot(base: u32) -> [u8; BUFFER_BYTES as usize] {
    let mut out = [0u8; BUFFER_BYTES as usize];
    for i in 0..(BUFFER_BYTES / 4) as usize {
        out[4 * i..4 * i + 4].copy_from_slice(&word_at(base + 4 * i as u32).to_le_bytes());
    }
    out
}

/// The registers and CPSR bits in which `other` (labelled `what`) differs from `native`.
pub fn diff(native: &TrapFrame, other: &TrapFrame, what: &str) -> String {
    let mut s = String::new();
    for n in 0..16 {
        if native.reg(n) != other.reg(n) {
            s += &format!(
                " r{n}: native {:#x} {what} {:#x};",
                native.reg(n),
                other.reg(n)
            );
        }
    }
    if native.cpsr != other.cpsr {
        s += &format!(" cpsr: native {:#x} {what} {:#x};", native.cpsr, other.cpsr);
    }
    s
}

/// Every leaf row the step engine simulates.
fn simulated_rows(table: &'static [Entry], out: &mut Vec<*const Entry>) {
    for e in table {
        match e.action {
            Action::Table(sub) => simulated_rows(sub, out),
            Action::Simulate(_) => out.push(e as *const Entry),
            Action::Reject(_) => {}
        }
    }
}

/// The laboratory the harness runs cases in: the code area with its pads, the buffer, and
/// the trap hook, installed for as long as the value lives.
pub struct Lab {
    layout: Layout,
}

impl Lab {
    /// Lays out the pads and installs the trap hook.
    pub fn new() -> Lab {
        let lab = mmu::lab_region();
        let layout = Layout {
            insn: (lab.start + CODE_OFFSET) as u32,
            buffer: (lab.start + BUFFER_OFFSET) as u32,
            mode: CASE_MODE,
        };
        // The pads never change; only the instruction word does.
        let mut a = layout.code(ARM_PADS_BEFORE);
        while a != layout.code(CODE_END) {
            let pad = if a < layout.code(THUMB_PADS) {
                ARM_PAD
            } else {
                THUMB_PAD_WORD
            };
            set_word(a, pad);
            sync_icache(a);
            a += 4;
        }
        irq::set_ipi_handler(IPI_WAKE, |_, _| {});
        trap::set_undefined_hook(Some(hook));
        Lab { layout }
    }

    /// Where cases run: the instruction's address, the stack buffer, the mode.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Runs `case` natively in flag `scenario` and returns the frame its landing pad trapped
    /// with — behind the guard [`Lab::run`] uses: the step engine must first run the case
    /// onto a pad, or it is refused (the error says why) and never runs natively.
    pub fn native(&self, case: &Case, scenario: usize) -> Result<TrapFrame, String> {
        let layout = self.layout;
        let mut stepped = case.frame(&layout, scenario);
        let mut mem = CaseMemory::new(case, layout);
        if let Err(e) = step::step(Insn(case.word), layout.insn, &mut stepped, &mut mem) {
            return Err(format!("step failed ({e}); not run natively"));
        }
        if !layout.is_pad(stepped.pc, stepped.cpsr & step::psr::T != 0) {
            return Err(format!(
                "continues at {:#x}, off the pads; not run natively",
                stepped.pc
            ));
        }
        if word_at(layout.insn) != case.word {
            set_word(layout.insn, case.word);
            sync_icache(layout.insn);
        }
        fill_memory(case, &layout);
        Ok(run_native(case.frame(&layout, scenario), case.waits()))
    }

    /// Runs `case` natively in `scenario` with whatever word is at the instruction's
    /// address now (e.g. a probe's breakpoint) — for a case [`Lab::native`] already ran,
    /// so it is known to stay inside the lab.
    pub fn launch_as_is(&self, case: &Case, scenario: usize) -> TrapFrame {
        fill_memory(case, &self.layout);
        run_native(case.frame(&self.layout, scenario), case.waits())
    }

    /// The stack buffer and the literal window as they are now.
    pub fn memory(&self) -> ([u8; BUFFER_BYTES as usize], [u8; BUFFER_BYTES as usize]) {
        (
            snapshot(self.layout.buffer),
            snapshot(self.layout.code(LITERAL_WINDOW)),
        )
    }

    /// The word at the instruction's address.
    pub fn word(&self) -> u32 {
        word_at(self.layout.insn)
    }

    /// Runs `case` (which the decoder accepts) in every flag scenario, stepped first — so a
    /// case that would touch memory outside the buffer and literal window, or branch off
    /// the pads, is refused before it runs natively — then natively, and compares.
    /// Returns one line per mismatching scenario.
    pub fn run(&self, case: &Case) -> Vec<String> {
        let layout = self.layout;
        let mut problems = Vec::new();
        set_word(layout.insn, case.word);
        sync_icache(layout.insn);
        for scenario in 0..FLAG_SCENARIOS.len() {
            let mut stepped = case.frame(&layout, scenario);
            let mut mem = CaseMemory::new(case, layout);
            if let Err(e) = step::step(Insn(case.word), layout.insn, &mut stepped, &mut mem) {
                problems.push(format!(
                    "scenario {scenario}: step failed ({e}); not run natively"
                ));
                continue;
            }
            if !layout.is_pad(stepped.pc, stepped.cpsr & step::psr::T != 0) {
                problems.push(format!(
                    "scenario {scenario}: continues at {:#x}, off the pads; not run natively",
                    stepped.pc
                ));
                continue;
            }
            fill_memory(case, &layout);
            let native = run_native(case.frame(&layout, scenario), case.waits());
            let mut d = diff(&native, &stepped, "step");
            if mem.buffer != snapshot(layout.buffer) {
                d += " stack buffer differs;";
            }
            if mem.literal != snapshot(layout.code(LITERAL_WINDOW)) {
                d += " literal window differs;";
            }
            if !d.is_empty() {
                problems.push(format!("scenario {scenario}:{d}"));
            }
        }
        problems
    }
}

/// Thumb cases (issue 19): the same lab with the Thumb layout of
/// [`armv7_kprobes::conformance::thumb`] written around each case.
impl Lab {
    /// Writes `case`'s code area (ARM pads, the instruction's words, Thumb pads), syncing
    /// the instruction stream for each word that changed.
    pub fn place_thumb(&self, case: &ThumbCase) {
        let layout = self.layout;
        let mut a = layout.code(ARM_PADS_BEFORE);
        while a != layout.code(CODE_END) {
            if let Some(w) = case.code_word(&layout, a)
                && word_at(a) != w
            {
                set_word(a, w);
                sync_icache(a);
            }
            a += 4;
        }
    }

    fn fill_thumb_memory(&self, case: &ThumbCase) {
        let layout = self.layout;
        for i in 0..BUFFER_BYTES / 4 {
            let w = case.memory_word(&layout, i);
            set_word(layout.buffer + 4 * i, w);
            set_word_if_changed(layout.code(THUMB_LITERAL_WINDOW) + 4 * i, w);
        }
    }

    /// The stack buffer and the Thumb literal window as they are now.
    pub fn thumb_memory(&self) -> ([u8; BUFFER_BYTES as usize], [u8; BUFFER_BYTES as usize]) {
        (
            snapshot(self.layout.buffer),
            snapshot(self.layout.code(THUMB_LITERAL_WINDOW)),
        )
    }

    /// Steps `case` in `scenario`; refuses (the error says why) a step that fails or ends
    /// off the pads, so that such a case never runs natively.
    pub fn step_thumb(
        &self,
        case: &ThumbCase,
        scenario: usize,
    ) -> Result<(TrapFrame, CaseMemory), String> {
        let layout = self.layout;
        let mut stepped = case.frame(&layout, scenario);
        let mut mem = case.memory(layout);
        if let Err(e) = case.step(&layout, &mut stepped, &mut mem) {
            return Err(format!("step failed ({e}); not run natively"));
        }
        if !case.is_pad(&layout, stepped.pc, stepped.cpsr & step::psr::T != 0) {
            return Err(format!(
                "continues at {:#x}, off the pads; not run natively",
                stepped.pc
            ));
        }
        Ok((stepped, mem))
    }

    /// Runs `case` natively in `scenario` (after [`Lab::step_thumb`] accepted it) with the
    /// code area as it is now (the case's, or with a probe's breakpoint on it).
    pub fn launch_thumb_as_is(&self, case: &ThumbCase, scenario: usize) -> TrapFrame {
        self.fill_thumb_memory(case);
        run_native(case.frame(&self.layout, scenario), case.waits())
    }

    /// Runs the Thumb `case` (which the decoder accepts at its IT position) in every flag
    /// scenario, stepped first, then natively, and compares r0–r14, CPSR (flags, GE, T,
    /// ITSTATE), the landing and both memories. One line per mismatching scenario.
    pub fn run_thumb(&self, case: &ThumbCase) -> Vec<String> {
        let mut problems = Vec::new();
        self.place_thumb(case);
        for scenario in 0..FLAG_SCENARIOS.len() {
            let (stepped, mem) = match self.step_thumb(case, scenario) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("scenario {scenario}: {e}"));
                    continue;
                }
            };
            let native = self.launch_thumb_as_is(case, scenario);
            let mut d = diff(
                &native,
                &landing_after_skipped_pads(&stepped, &native),
                "step",
            );
            let (buffer, literal) = self.thumb_memory();
            if mem.buffer != buffer {
                d += " stack buffer differs;";
            }
            if mem.literal != literal {
                d += " literal window differs;";
            }
            if !d.is_empty() {
                problems.push(format!("scenario {scenario}:{d}"));
            }
        }
        problems
    }
}

/// Where the CPU traps after the stepped instruction left `stepped`: on the pad at
/// `stepped.pc` — unless that pad sits inside the rest of an IT block and its condition
/// fails, where the ARM ARM (A8.3, conditional execution of UNDEFINED instructions) lets an
/// implementation treat the `udf` as a NOP; QEMU does, so the next pad (ITSTATE advanced)
/// traps instead. Returns the stepped frame moved to the native landing when `native`
/// shows the CPU skipped pads that way, and `stepped` itself otherwise.
fn landing_after_skipped_pads(stepped: &TrapFrame, native: &TrapFrame) -> TrapFrame {
    let f = thumb_landing(stepped, native);
    if f.pc != stepped.pc {
        SKIPPED_PAD_LANDINGS.fetch_add(1, Ordering::Relaxed);
    }
    f
}

/// [`landing_after_skipped_pads`] without counting: where a CPU that ran the stepped
/// instruction natively (`native`, e.g. a probed run) lands, given the stepped frame.
pub fn thumb_landing(stepped: &TrapFrame, native: &TrapFrame) -> TrapFrame {
    let mut f = *stepped;
    if native.pc == f.pc || f.cpsr & step::psr::T == 0 {
        return f;
    }
    for _ in 0..4 {
        let it = step::it_state(f.cpsr);
        if it & 0xf == 0 || Cond::from_bits(u32::from(it >> 4)).passes(f.cpsr) {
            break;
        }
        f.pc += 2;
        f.cpsr = step::with_it_state(f.cpsr, step::it_advance(it));
    }
    if f.pc == native.pc { f } else { *stepped }
}

/// Runs whose native landing was a later pad because a failing `udf` in an IT block was
/// skipped (see [`landing_after_skipped_pads`]), counted for the test's report.
static SKIPPED_PAD_LANDINGS: AtomicUsize = AtomicUsize::new(0);

/// Every Thumb case natively and stepped (issue 19): see [`Lab::run_thumb`].
pub fn thumb_step_engines_match_native_execution() -> TestResult {
    let lab = Lab::new();
    SKIPPED_PAD_LANDINGS.store(0, Ordering::Relaxed);
    let (mut cases, mut t16, mut rejections, mut runs, mut failures) = (0usize, 0usize, 0, 0, 0);
    let (mut in_it, mut mismatching_scenarios) = (0usize, 0usize);
    let (mut unaligned, mut refused_unaligned) = (0usize, 0usize);
    let mut covered: Vec<usize> = Vec::new();
    let mut reports: Vec<String> = Vec::new();
    for case in thumb::thumb_cases() {
        cases += 1;
        if case.hw2.is_none() {
            t16 += 1;
        }
        if !covered.contains(&case.row.id()) {
            covered.push(case.row.id());
        }
        let (same_row, verdict) = case.decoded();
        if !same_row || verdict != case.expected {
            failures += 1;
            reports.push(format!(
                "{:#06x} {:?} ({}): decodes differently",
                case.hw1,
                case.hw2,
                case.row.name()
            ));
            continue;
        }
        if case.alignment == Alignment::Faults {
            // Never run natively (the CPU faults); the step must refuse and change nothing.
            rejections += 1;
            refused_unaligned += 1;
            if !case.refused_as_the_cpu_faults(&lab.layout()) {
                failures += 1;
                reports.push(format!(
                    "{:#06x} {:?} ({}): unaligned, not refused as an alignment fault",
                    case.hw1,
                    case.hw2,
                    case.row.name()
                ));
            }
            continue;
        }
        if !case.runs() {
            rejections += 1;
            continue;
        }
        if case.alignment == Alignment::Unaligned {
            unaligned += 1;
        }
        if case.slot != thumb::ItSlot::Outside {
            in_it += 1;
        }
        runs += FLAG_SCENARIOS.len();
        let problems = lab.run_thumb(&case);
        if !problems.is_empty() {
            failures += 1;
        }
        for p in problems {
            mismatching_scenarios += 1;
            if reports.len() < 30 {
                reports.push(format!(
                    "{:#06x} {:?} at +{} it {:#04x} ({}, {:?}) {p}",
                    case.hw1,
                    case.hw2.map(|h| format!("{h:#06x}")),
                    case.at,
                    case.it,
                    case.row.name(),
                    case.class
                ));
            }
        }
    }
    drop(lab);
    let rows = thumb::thumb_rows().count();
    crate::kprintln!(
        "\n     thumb conformance lab: {cases} cases ({t16} T16, {} T32; {rejections} checked \
         rejections; {in_it} run in IT blocks), {} scenarios each, {runs} runs: {} passed, \
         {mismatching_scenarios} failed; rows covered {}/{rows}",
        cases - t16,
        FLAG_SCENARIOS.len(),
        runs - mismatching_scenarios,
        covered.len(),
    );
    crate::kprintln!(
        "     {} runs landed on a later pad: a udf pad failing its IT condition was skipped \
         (IMPLEMENTATION DEFINED, ARM ARM A8.3; stepped pc at the skipped pad)",
        SKIPPED_PAD_LANDINGS.load(Ordering::Relaxed)
    );
    crate::kprintln!(
        "     thumb unaligned: {unaligned} LDR/STR/LDRH/STRH/LDRSH cases run at unaligned \
         addresses, {refused_unaligned} LDM/STM/PUSH/POP/LDRD/STRD cases refused as alignment \
         faults"
    );
    for r in &reports {
        crate::kprintln!("     mismatch {r}");
    }
    ensure!(failures == 0, "{failures} failing cases (first ones above)");
    ensure!(
        unaligned > 0 && refused_unaligned > 0,
        "no unaligned Thumb cases ({unaligned} run, {refused_unaligned} refused)"
    );
    ensure!(
        covered.len() == rows,
        "rows covered {}/{rows}",
        covered.len()
    );
    ensure!(
        cases - rejections >= 3_000,
        "only {} runnable cases",
        cases - rejections
    );
    Ok(())
}

impl Drop for Lab {
    fn drop(&mut self) {
        trap::set_undefined_hook(None);
    }
}

/// An [`Alignment::Faults`] case in every scenario: where its condition passes the step
/// must return `want` with the frame and memory unchanged (natively the CPU takes an
/// alignment fault); where it fails, only pc advances. One line per violation.
fn refuses_as_the_cpu_faults(layout: &Layout, case: &Case, want: step::StepError) -> Vec<String> {
    let mut problems = Vec::new();
    for scenario in 0..FLAG_SCENARIOS.len() {
        let start = case.frame(layout, scenario);
        let mut f = start;
        let mut mem = CaseMemory::new(case, *layout);
        let before = (mem.buffer, mem.literal);
        let got = step::step(Insn(case.word), layout.insn, &mut f, &mut mem);
        let passes = Insn(case.word).cond().passes(start.cpsr);
        let ok = if passes {
            got == Err(want) && f == start && (mem.buffer, mem.literal) == before
        } else {
            got.is_ok() && f.pc == layout.insn + 4
        };
        if !ok {
            problems.push(format!(
                "scenario {scenario}: unaligned, stepped to {got:?} (want {want:?}){}",
                diff(&start, &f, "after")
            ));
        }
    }
    problems
}

pub fn step_engine_matches_native_execution() -> TestResult {
    let lab = Lab::new();
    let mut rows = Vec::new();
    simulated_rows(A32, &mut rows);
    let mut covered: Vec<*const Entry> = Vec::new();
    let (mut cases, mut rejections, mut runs, mut mismatches, mut failures) = (0usize, 0, 0, 0, 0);
    let mut reports: Vec<String> = Vec::new();
    let (mut unaligned, mut refused_unaligned) = (0usize, 0usize);
    for case in conformance::cases() {
        cases += 1;
        let row = case.row as *const Entry;
        if !covered.contains(&row) {
            covered.push(row);
        }
        if decode::decode(Insn(case.word)) != case.expected {
            failures += 1;
            reports.push(format!(
                "{:#010x} ({}): decodes differently",
                case.word, case.row.name
            ));
            continue;
        }
        if let Some(want) = case.alignment_fault(&lab.layout()) {
            // Never run natively (the CPU faults); the step must refuse and change nothing.
            rejections += 1;
            refused_unaligned += 1;
            for p in refuses_as_the_cpu_faults(&lab.layout(), &case, want) {
                failures += 1;
                if reports.len() < 20 {
                    reports.push(format!("{:#010x} ({}) {p}", case.word, case.row.name));
                }
            }
            continue;
        }
        if !case.runs() {
            rejections += 1;
            continue;
        }
        if case.alignment == Alignment::Unaligned {
            unaligned += 1;
        }
        runs += FLAG_SCENARIOS.len();
        for p in lab.run(&case) {
            failures += 1;
            mismatches += 1;
            if reports.len() < 20 {
                reports.push(format!(
                    "{:#010x} ({}, {:?}) {p}",
                    case.word, case.row.name, case.class
                ));
            }
        }
    }
    drop(lab);
    let uncovered: Vec<&str> = rows
        .iter()
        .filter(|r| !covered.contains(r))
        // SAFETY: the pointers come from the static table A32.
        .map(|r| unsafe { (**r).name })
        .collect();
    crate::kprintln!(
        "\n     conformance: {cases} cases ({rejections} checked rejections), {} scenarios each, \
         {runs} runs: {} passed, {failures} failed; table rows covered {}/{} ({}%)",
        FLAG_SCENARIOS.len(),
        runs - mismatches,
        rows.len() - uncovered.len(),
        rows.len(),
        100 * (rows.len() - uncovered.len()) / rows.len().max(1)
    );
    crate::kprintln!(
        "     unaligned: {unaligned} LDR/STR/LDRH/STRH/LDRSH cases run at unaligned addresses, \
         {refused_unaligned} LDRD/STRD/LDM/STM cases refused as alignment faults"
    );
    for r in &reports {
        crate::kprintln!("     mismatch {r}");
    }
    ensure!(failures == 0, "{failures} mismatches (first ones above)");
    ensure!(
        unaligned > 0 && refused_unaligned > 0,
        "no unaligned cases ({unaligned} run, {refused_unaligned} refused)"
    );
    ensure!(uncovered.is_empty(), "rows without a case: {uncovered:?}");
    ensure!(
        cases >= MIN_CASES,
        "only {cases} cases (want at least {MIN_CASES})"
    );
    Ok(())
}
