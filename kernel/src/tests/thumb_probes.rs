//! Thumb probes on the real machine: 16- and 32-bit Thumb instructions (one across a
//! word boundary), inside and outside an IT block, probed through the Thumb breakpoints,
//! stepped by the T16/T32 engines, hit by every core, and the text restored exactly.

use super::safety_step::{SKIPPED, UNMAPPED};
use crate::abort::{self, Abort};
use crate::ensure;
use crate::probes::{KPROBES, KRETPROBES};
use crate::testing::TestResult;
use crate::{mmu, smp};
use alloc::format;
use alloc::vec::Vec;
use armv7_kprobes::TrapFrame;
use armv7_kprobes::kprobe::{FaultFixup, Kprobe, Mechanism, NotOptimized};
use armv7_kprobes::kretprobe::{Kretprobe, KretprobeInstance, KretprobePool};
use core::sync::atomic::{AtomicU32, Ordering};

// Thumb functions with known instructions at known offsets, each starting on a word so
// the 32-bit instructions at +2 and +6 lie across a word boundary.
// SAFETY: each is an AAPCS function in Thumb state (`.thumb_func`, so its symbol has bit
// 0 set and calls from A32 interwork): arguments in r0/r1, result in r0, r4 saved and
// restored on the stack by kp_thumb_push, which returns with `pop {pc}`. The block ends
// in A32 state (`.arm`), as the next assembly block expects.
core::arch::global_asm!(
    ".pushsection .text.kp_thumb_targets, \"ax\", %progbits",
    ".syntax unified",
    ".thumb",
    ".p2align 2",
    ".global kp_thumb_add",
    ".type kp_thumb_add, %function",
    ".thumb_func",
    "kp_thumb_add:",          // u32 kp_thumb_add(a, b) = a + b + 3
    "    adds    r0, r0, r1", // +0: 16-bit
    "    add.w   r0, r0, #3", // +2: 32-bit, across a word boundary
    "    bx      lr",         // +6
    ".p2align 2",
    ".global kp_thumb_it",
    ".type kp_thumb_it, %function",
    ".thumb_func",
    "kp_thumb_it:",            // u32 kp_thumb_it(a) = a == 0 ? 10 : a + 20
    "    cmp     r0, #0",      // +0
    "    ite     eq",          // +2
    "    moveq   r0, #10",     // +4: 16-bit, first in the IT block
    "    addne.w r0, r0, #20", // +6: 32-bit, last in the IT block, across a word boundary
    "    bx      lr",          // +10
    ".p2align 2",
    ".global kp_thumb_push",
    ".type kp_thumb_push, %function",
    ".thumb_func",
    "kp_thumb_push:",         // u32 kp_thumb_push(a) = 2a, through the stack
    "    push    {{r4, lr}}", // +0: 8 bytes below sp
    "    adds    r4, r0, r0", // +2
    "    mov     r0, r4",     // +4
    "    pop     {{r4, pc}}", // +6: returns to the A32 caller (bit 0 of lr clear)
    ".p2align 2",
    ".global kp_thumb_calls_add",
    ".type kp_thumb_calls_add, %function",
    ".thumb_func",
    "kp_thumb_calls_add:", // u32 kp_thumb_calls_add(a, b) = kp_thumb_add(a, b) + 1
    "    push    {{r4, lr}}",
    "    bl      kp_thumb_add", // a Thumb caller: lr has bit 0 set
    "    adds    r0, r0, #1",
    "    pop     {{r4, pc}}",
    ".p2align 2",
    ".global kp_thumb_load",
    ".type kp_thumb_load, %function",
    ".thumb_func",
    "kp_thumb_load:",       // u32 kp_thumb_load(p) = *p
    "    ldr     r0, [r0]", // +0: 16-bit load, stepped by the T16 engine
    "    bx      lr",
    "kp_thumb_end:",
    ".arm",
    ".popsection",
);

unsafe extern "C" {
    fn kp_thumb_add(a: u32, b: u32) -> u32;
    fn kp_thumb_it(a: u32) -> u32;
    fn kp_thumb_push(a: u32) -> u32;
    fn kp_thumb_calls_add(a: u32, b: u32) -> u32;
    fn kp_thumb_load(p: *const u32) -> u32;
    fn kp_thumb_end();
}

/// A Thumb function's address: its symbol's, bit 0 set.
fn thumb(f: usize) -> usize {
    f | 1
}

pub(crate) fn a_add() -> usize {
    thumb(kp_thumb_add as *const () as usize)
}
pub(crate) fn a_it() -> usize {
    thumb(kp_thumb_it as *const () as usize)
}
fn a_push() -> usize {
    thumb(kp_thumb_push as *const () as usize)
}

pub(crate) fn add(a: u32, b: u32) -> u32 {
    // SAFETY: kp_thumb_add is the AAPCS function above.
    unsafe { kp_thumb_add(a, b) }
}
pub(crate) fn it(a: u32) -> u32 {
    // SAFETY: kp_thumb_it is the AAPCS function above.
    unsafe { kp_thumb_it(a) }
}
fn calls_add(a: u32, b: u32) -> u32 {
    // SAFETY: kp_thumb_calls_add is the AAPCS function above.
    unsafe { kp_thumb_calls_add(a, b) }
}
fn push(a: u32) -> u32 {
    // SAFETY: kp_thumb_push is the AAPCS function above.
    unsafe { kp_thumb_push(a) }
}

/// The Thumb targets' halfwords, read as data.
pub(crate) fn text() -> Vec<u16> {
    let (start, end) = (
        kp_thumb_add as *const () as usize & !1,
        kp_thumb_end as *const () as usize & !1,
    );
    (start..end)
        .step_by(2)
        // SAFETY: kernel text, mapped readable, halfword aligned.
        .map(|a| unsafe { core::ptr::read_volatile(a as *const u16) })
        .collect()
}

/// Pre handlers that saw Thumb state (CPSR.T), and those that did not.
static THUMB_SEEN: AtomicU32 = AtomicU32::new(0);
static ARM_SEEN: AtomicU32 = AtomicU32::new(0);

fn saw_state(_: &Kprobe, f: &mut TrapFrame) {
    if f.cpsr & 0x20 != 0 {
        THUMB_SEEN.fetch_add(1, Ordering::Relaxed);
    } else {
        ARM_SEEN.fetch_add(1, Ordering::Relaxed);
    }
}

/// Adds 100 to the second argument before `adds r0, r0, r1` runs.
fn bump_r1(_: &Kprobe, f: &mut TrapFrame) {
    f.r[1] = f.r[1].wrapping_add(100);
}

static ADDS: Kprobe = Kprobe::new(Some(bump_r1), None, 0);
static ADD_W: Kprobe = Kprobe::new(Some(saw_state), None, 0);
static MOVEQ: Kprobe = Kprobe::new(Some(saw_state), None, 0);
static ADDNE_W: Kprobe = Kprobe::new(Some(saw_state), None, 0);
static PUSH: Kprobe = Kprobe::new(Some(saw_state), None, 0);
static POP_PC: Kprobe = Kprobe::new(Some(saw_state), None, 0);

const CALLS: u32 = 2_000;

/// Every probe, with its address.
fn probes() -> [(&'static Kprobe, usize); 6] {
    [
        (&ADDS, a_add()),
        (&ADD_W, a_add() + 2),
        (&MOVEQ, a_it() + 4),
        (&ADDNE_W, a_it() + 6),
        (&PUSH, a_push()),
        (&POP_PC, a_push() + 6),
    ]
}

pub fn thumb_probes_step_both_sizes_in_and_out_of_it_blocks_on_every_core() -> TestResult {
    let before = text();
    ensure!(
        (add(40, 2), it(0), it(7), push(21)) == (45, 10, 27, 42),
        "the unprobed functions are wrong"
    );
    THUMB_SEEN.store(0, Ordering::Relaxed);
    ARM_SEEN.store(0, Ordering::Relaxed);
    for (p, a) in probes() {
        KPROBES
            .register(p, a)
            .map_err(|e| format!("register at {a:#x}: {e}"))?;
    }
    let armed = text();
    let mechanisms: Vec<_> = probes()
        .iter()
        .map(|(p, _)| KPROBES.mechanism_of(p))
        .collect();
    // One call of each, then every core.
    let first = (add(40, 2), it(0), it(7), push(21));
    let wrong = AtomicU32::new(0);
    smp::on_each_cpu(&|cpu| {
        for i in 0..CALLS {
            let a = i + cpu as u32;
            if add(a, 1) != a + 104 || it(a) != if a == 0 { 10 } else { a + 20 } || push(a) != 2 * a
            {
                wrong.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let cores = smp::online_mask().count_ones();
    let hits: Vec<u64> = probes().iter().map(|(p, _)| p.hits()).collect();
    for (p, _) in probes() {
        KPROBES.unregister(p).map_err(|e| format!("{e}"))?;
    }
    let after = text();
    ensure!(first == (145, 10, 27, 42), "probed results {first:?}");
    ensure!(
        wrong.load(Ordering::Relaxed) == 0,
        "{} wrong results on {cores} cores",
        wrong.load(Ordering::Relaxed)
    );
    let calls = u64::from(cores * CALLS);
    // it(0) is called once on core 0 by the loop (a == 0 only there) and once above.
    let (eq_calls, ne_calls) = (2, 1 + calls - 1);
    ensure!(
        hits == [
            1 + calls,
            1 + calls,
            eq_calls,
            ne_calls,
            1 + calls,
            1 + calls
        ],
        "hits {hits:?} (calls per probe {calls})"
    );
    ensure!(
        ARM_SEEN.load(Ordering::Relaxed) == 0,
        "{} handlers saw A32 state",
        ARM_SEEN.load(Ordering::Relaxed)
    );
    // The 16-bit ones and the one in the IT block stay breakpoints; add.w waits for an
    // optimize pass (this test runs none).
    let narrow = Ok(Mechanism::NotOptimized(NotOptimized::ThumbNarrow));
    let expected = [
        narrow,
        Ok(Mechanism::Breakpoint),
        narrow,
        Ok(Mechanism::NotOptimized(NotOptimized::MaybeInItBlock)),
        narrow,
        narrow,
    ];
    ensure!(mechanisms == expected, "mechanisms {mechanisms:?}");
    ensure!(armed != before, "registering changed no text");
    ensure!(after == before, "text not restored exactly");
    Ok(())
}

/// The result and the return address the last return handler saw.
static RETURNED: [AtomicU32; 2] = [const { AtomicU32::new(0) }; 2];

fn thumb_return(_: &Kretprobe, _: &mut KretprobeInstance<'_>, f: &mut TrapFrame) {
    RETURNED[0].store(f.r[0], Ordering::Relaxed);
    RETURNED[1].store(f.pc, Ordering::Relaxed);
    f.r[0] += 1000;
}

static RET_POOL: KretprobePool<4, 0> = KretprobePool::new();
static THUMB_RET: Kretprobe = Kretprobe::new(None, thumb_return, &RET_POOL, 0);

/// A return probe on a Thumb function (its entry probe a Thumb breakpoint) reports and
/// changes the result of calls from A32 (Rust) and from Thumb (`kp_thumb_calls_add`),
/// and each call returns to its caller in the caller's state.
pub fn a_kretprobe_on_a_thumb_function_returns_to_arm_and_thumb_callers() -> TestResult {
    let before = text();
    KRETPROBES
        .register(&KPROBES, &THUMB_RET, a_add())
        .map_err(|e| format!("{e}"))?;
    let from_arm = add(40, 2);
    let (arm_result, arm_ret) = (
        RETURNED[0].load(Ordering::Relaxed),
        RETURNED[1].load(Ordering::Relaxed),
    );
    let from_thumb = calls_add(40, 2);
    let thumb_ret = RETURNED[1].load(Ordering::Relaxed);
    let counts = (
        THUMB_RET.hits(),
        THUMB_RET.missed(),
        THUMB_RET.outstanding(),
    );
    let in_flight = KRETPROBES
        .unregister(&KPROBES, &THUMB_RET)
        .map_err(|e| format!("{e}"))?;
    ensure!(arm_result == 45, "the return handler saw {arm_result}");
    ensure!(
        (from_arm, from_thumb) == (1045, 1046),
        "results {from_arm} and {from_thumb}: a return handler's change was lost"
    );
    ensure!(arm_ret & 1 == 0, "A32 caller's return address {arm_ret:#x}");
    ensure!(
        thumb_ret & 1 == 1,
        "Thumb caller's return address {thumb_ret:#x}"
    );
    ensure!(counts == (2, 0, 0), "hits/missed/outstanding {counts:?}");
    ensure!(in_flight == 0, "{in_flight} in flight");
    ensure!(
        (add(40, 2), calls_add(40, 2)) == (45, 46),
        "unprobed results"
    );
    ensure!(text() == before, "text not restored exactly");
    Ok(())
}

/// The frame and fixup the abort hook saw (core 0 only; 0 = nothing yet).
static SEEN_PC: AtomicU32 = AtomicU32::new(0);
static SEEN_CPSR: AtomicU32 = AtomicU32::new(0);
static SEEN_FIXUP_ADDR: AtomicU32 = AtomicU32::new(0);
static SEEN_COUNT: AtomicU32 = AtomicU32::new(0);

/// The kernel's fixup, as an exception table would: skip the 16-bit load, r0 = a marker.
fn skip_thumb_load(_: Abort, frame: &mut TrapFrame, fixup: Option<FaultFixup>) -> bool {
    let Some(FaultFixup::Stepped { addr, .. }) = fixup else {
        return false;
    };
    if smp::cpu_id() != 0 {
        return false;
    }
    SEEN_PC.store(frame.pc, Ordering::Relaxed);
    SEEN_CPSR.store(frame.cpsr, Ordering::Relaxed);
    SEEN_FIXUP_ADDR.store(addr as u32, Ordering::Relaxed);
    SEEN_COUNT.fetch_add(1, Ordering::Relaxed);
    frame.pc += 2;
    frame.r[0] = SKIPPED;
    true
}

static LOAD: Kprobe = Kprobe::new(Some(saw_state), None, 0);

/// A stepped Thumb load that aborts is seen at the probed Thumb instruction, in Thumb
/// state, fixed up by the kernel's abort handler, and the next hit is a hit.
pub fn a_stepped_thumb_load_that_aborts_is_seen_at_the_probe() -> TestResult {
    ensure!(
        !mmu::readable(UNMAPPED as usize),
        "{UNMAPPED:#x} is mapped on this board"
    );
    let site = kp_thumb_load as *const () as usize & !1;
    KPROBES
        .register(&LOAD, site | 1)
        .map_err(|e| format!("{e}"))?;
    SEEN_COUNT.store(0, Ordering::Relaxed);
    abort::set_abort_hook(Some(skip_thumb_load));
    // SAFETY: kp_thumb_load is the AAPCS function above; the unmapped load aborts and
    // the hook skips it.
    let got = unsafe { kp_thumb_load(UNMAPPED as *const u32) };
    abort::set_abort_hook(None);
    static VALUE: AtomicU32 = AtomicU32::new(0x1234_5678);
    // SAFETY: as above, on a readable word.
    let again = unsafe { kp_thumb_load(VALUE.as_ptr()) };
    let (hits, missed) = (LOAD.hits(), LOAD.missed());
    KPROBES.unregister(&LOAD).map_err(|e| format!("{e}"))?;
    ensure!(got == SKIPPED, "the fixed-up load returned {got:#x}");
    ensure!(
        SEEN_COUNT.load(Ordering::Relaxed) == 1,
        "{} aborts fixed up",
        SEEN_COUNT.load(Ordering::Relaxed)
    );
    let (pc, cpsr, addr) = (
        SEEN_PC.load(Ordering::Relaxed),
        SEEN_CPSR.load(Ordering::Relaxed),
        SEEN_FIXUP_ADDR.load(Ordering::Relaxed),
    );
    ensure!(
        pc as usize == site && addr as usize == site,
        "abort seen at {pc:#x} (fixup {addr:#x}), probe at {site:#x}"
    );
    ensure!(
        cpsr & 0x20 != 0,
        "the aborted frame is not in Thumb state: {cpsr:#x}"
    );
    ensure!(again == 0x1234_5678, "the next call loaded {again:#x}");
    ensure!(
        (hits, missed) == (2, 0),
        "{hits} hits, {missed} missed (want 2, 0: the hit after an abort is a hit)"
    );
    Ok(())
}
