//! Optimized Thumb probes on the real machine: every 32-bit instruction of a Thumb function
//! becomes `b.w` (or `beq.w`, keeping a conditional branch's condition) to its slot's Thumb
//! entry, runs there — in place when it does not touch PC, stepped when it does — on every
//! core, and the text comes back exactly; a load that aborts in either way is seen at the
//! probed instruction.

use super::safety_step::{SKIPPED, UNMAPPED};
use crate::abort::{self, Abort};
use crate::platform::PLATFORM;
use crate::probes::{KPROBES, KRETPROBES};
use crate::testing::TestResult;
use crate::{ensure, mmu, smp};
use alloc::format;
use alloc::vec::Vec;
use armv7_kprobes::insn::{Cond, ThumbBranch};
use armv7_kprobes::kprobe::{FaultFixup, Kprobe, Mechanism};
use armv7_kprobes::kretprobe::{Kretprobe, KretprobeInstance, KretprobePool};
use armv7_kprobes::optprobe::Variant;
use armv7_kprobes::{Platform, TrapFrame};
use core::sync::atomic::{AtomicU32, Ordering};

// A Thumb function made of 32-bit instructions (but two), most at 2 mod 4 so they lie
// across a word boundary, and a 32-bit Thumb load.
// SAFETY: both are AAPCS functions in Thumb state (`.thumb_func`: the symbols have bit 0
// set and calls from A32 interwork): argument in r0, result in r0; kp_thumb_wide saves
// r4-r6 and lr with `push.w` and returns with `pop.w {.., pc}` (to an A32 caller: bit 0
// of lr clear), calling kp_thumb_wide_add (a leaf) in between. The block ends in A32
// state (`.arm`), as the next assembly block expects.
core::arch::global_asm!(
    ".pushsection .text.kp_thumb_wide_targets, \"ax\", %progbits",
    ".syntax unified",
    ".thumb",
    ".p2align 2",
    ".global kp_thumb_wide",
    ".type kp_thumb_wide, %function",
    ".thumb_func",
    "kp_thumb_wide:", // u32 kp_thumb_wide(a) = (a == 0 ? 7 : a + 100) + 4
    "    push.w  {{r4, r5, r6, lr}}", // +0: runs in place (16 bytes below sp)
    "    cmp     r0, #0", // +4: 16-bit
    "    beq.w   1f", // +6: conditional branch (T3): stepped
    "    add.w   r0, r0, #100", // +10: runs in place
    "    b.w     2f", // +14: branch (T4): stepped
    "1:  mov.w   r0, #7", // +18: runs in place
    "2:  movs    r1, #1", // +22: 16-bit
    "    bl      kp_thumb_wide_add", // +24: stepped
    "    pop.w   {{r4, r5, r6, pc}}", // +28: stepped (loads PC)
    ".p2align 2",
    ".thumb_func",
    "kp_thumb_wide_add:", // r0 + r1 + 3
    "    adds    r0, r0, r1",
    "    adds    r0, r0, #3",
    "    bx      lr",
    ".p2align 2",
    ".global kp_thumb_wide_load",
    ".type kp_thumb_wide_load, %function",
    ".thumb_func",
    "kp_thumb_wide_load:",  // u32 kp_thumb_wide_load(p) = *p
    "    nop",              // +0
    "    ldr.w   r0, [r0]", // +2: 32-bit load, across a word boundary
    "    bx      lr",
    "kp_thumb_wide_end:",
    ".arm",
    ".popsection",
);

unsafe extern "C" {
    fn kp_thumb_wide(a: u32) -> u32;
    fn kp_thumb_wide_load(p: *const u32) -> u32;
    fn kp_thumb_wide_end();
}

fn wide(a: u32) -> u32 {
    // SAFETY: kp_thumb_wide is the AAPCS function above.
    unsafe { kp_thumb_wide(a) }
}

fn expected(a: u32) -> u32 {
    (if a == 0 { 7 } else { a.wrapping_add(100) }).wrapping_add(4)
}

/// The halfwords from kp_thumb_wide to the end of the block, read as data.
fn text() -> Vec<u16> {
    let (start, end) = (
        kp_thumb_wide as *const () as usize & !1,
        kp_thumb_wide_end as *const () as usize & !1,
    );
    (start..end)
        .step_by(2)
        // SAFETY: kernel text, mapped readable, halfword aligned.
        .map(|a| unsafe { core::ptr::read_volatile(a as *const u16) })
        .collect()
}

fn half_at(a: usize) -> u16 {
    // SAFETY: kernel text, mapped readable, halfword aligned.
    unsafe { core::ptr::read_volatile(a as *const u16) }
}

/// Pre handlers that ran in Thumb state, and those that did not.
static THUMB_SEEN: AtomicU32 = AtomicU32::new(0);
static ARM_SEEN: AtomicU32 = AtomicU32::new(0);
static POSTS: AtomicU32 = AtomicU32::new(0);

fn saw_state(_: &Kprobe, f: &mut TrapFrame) {
    if f.cpsr & 0x20 != 0 && f.cpsr & 0x0600_fc00 == 0 {
        THUMB_SEEN.fetch_add(1, Ordering::Relaxed);
    } else {
        ARM_SEEN.fetch_add(1, Ordering::Relaxed);
    }
}

fn count_post(_: &Kprobe, _: &mut TrapFrame) {
    POSTS.fetch_add(1, Ordering::Relaxed);
}

static PUSH_W: Kprobe = Kprobe::new(Some(saw_state), None, 0);
static BEQ_W: Kprobe = Kprobe::new(Some(saw_state), None, 0);
static ADD_W: Kprobe = Kprobe::new(Some(saw_state), None, 0);
/// A second probe on add.w with a post handler: that site is stepped while it is enabled.
static ADD_W_POST: Kprobe = Kprobe::new(Some(saw_state), Some(count_post), 0);
static B_W: Kprobe = Kprobe::new(Some(saw_state), None, 0);
static MOV_W: Kprobe = Kprobe::new(Some(saw_state), None, 0);
static BL: Kprobe = Kprobe::new(Some(saw_state), None, 0);
static POP_W: Kprobe = Kprobe::new(Some(saw_state), None, 0);

const CALLS: u32 = 2_000;

/// Every probe, its offset in kp_thumb_wide and the mechanism it must end up with.
fn probes() -> [(&'static Kprobe, usize, Variant); 8] {
    [
        (&PUSH_W, 0, Variant::Direct),
        (&BEQ_W, 6, Variant::StepOnly),
        (&ADD_W, 10, Variant::Direct),
        (&ADD_W_POST, 10, Variant::Direct),
        (&B_W, 14, Variant::StepOnly),
        (&MOV_W, 18, Variant::Direct),
        (&BL, 24, Variant::StepOnly),
        (&POP_W, 28, Variant::StepOnly),
    ]
}

pub fn optimized_thumb_probes_run_in_their_slots_on_every_core() -> TestResult {
    let f = kp_thumb_wide as *const () as usize & !1;
    let before = text();
    ensure!(
        (wide(0), wide(5)) == (11, 109),
        "the unprobed function is wrong"
    );
    THUMB_SEEN.store(0, Ordering::Relaxed);
    ARM_SEEN.store(0, Ordering::Relaxed);
    POSTS.store(0, Ordering::Relaxed);
    for (p, off, _) in probes() {
        KPROBES
            .register(p, (f + off) | 1)
            .map_err(|e| format!("register at +{off}: {e}"))?;
    }
    // Plain loops, not iterator collects: a collect over the crate's types is generic
    // code v0 mangling names after the crate, so it lands in never-probe text, and it
    // calls the kernel's allocator (see tests/heavy/never_probe_calls.rs).
    let mut mechanisms = [Ok(Mechanism::Disarmed); 8];
    for (i, (p, _, _)) in probes().into_iter().enumerate() {
        mechanisms[i] = KPROBES.mechanism_of(p);
    }
    ensure!(
        mechanisms.iter().all(|m| *m == Ok(Mechanism::Breakpoint)),
        "before optimizing: {mechanisms:?}"
    );
    let report = KPROBES.optimize_pending().map_err(|e| format!("{e}"))?;
    ensure!(
        report.optimized == 7 && report.rendezvous == 1,
        "optimize: {report:?}"
    );
    for (i, (p, _, v)) in probes().into_iter().enumerate() {
        mechanisms[i] = KPROBES.mechanism_of(p);
        ensure!(
            mechanisms[i] == Ok(Mechanism::Optimized(v)),
            "after optimizing: {mechanisms:?}"
        );
    }
    // Each site is a 32-bit branch into the slot region, keeping beq.w's condition.
    for (_, off, _) in probes() {
        let at = f + off;
        let branch = ThumbBranch::decode(half_at(at), half_at(at + 2), at as u32);
        let cond = if off == 6 { Cond::Eq } else { Cond::Al };
        ensure!(
            branch.is_some_and(
                |b| b.cond() == cond && PLATFORM.slot_region().contains(&(b.target() as usize))
            ),
            "+{off}: {:#06x} {:#06x} is not a branch to a slot ({branch:?})",
            half_at(at),
            half_at(at + 2)
        );
    }
    let first = (wide(0), wide(5));
    let wrong = AtomicU32::new(0);
    smp::on_each_cpu(&|cpu| {
        for i in 0..CALLS {
            // a == 0 on every tenth call of each core.
            let a = if i % 10 == 0 { 0 } else { i + cpu as u32 };
            if wide(a) != expected(a) {
                wrong.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    // The post handler's probe off: add.w runs in its slot again.
    KPROBES.disable(&ADD_W_POST).map_err(|e| format!("{e}"))?;
    let after_disable = (wide(0), wide(5));
    let cores = smp::online_mask().count_ones();
    let (mut hits, mut missed) = ([0u64; 8], 0u64);
    for (i, (p, _, _)) in probes().into_iter().enumerate() {
        hits[i] = p.hits();
        missed += p.missed();
    }
    for (p, _, _) in probes() {
        KPROBES.unregister(p).map_err(|e| format!("{e}"))?;
    }
    ensure!(text() == before, "text not restored exactly");
    ensure!(
        first == (11, 109) && after_disable == (11, 109),
        "probed results {first:?}, {after_disable:?}"
    );
    ensure!(
        wrong.load(Ordering::Relaxed) == 0,
        "{} wrong results on {cores} cores",
        wrong.load(Ordering::Relaxed)
    );
    // Calls: 2 above, the cores' loops, 2 after the disable; a == 0 in one of the first
    // two, one of the last two and a tenth of each core's loop. beq.w's handler runs
    // only when its condition passes (its `beq.w` to the slot is not taken otherwise),
    // as for a conditional A32 instruction.
    let loop_calls = u64::from(cores * CALLS);
    let zero = 2 + u64::from(cores * CALLS / 10);
    let all = 4 + loop_calls;
    let nonzero = all - zero;
    let add_post = 1 + loop_calls - u64::from(cores * CALLS / 10); // disabled for the last two
    ensure!(
        hits == [all, zero, nonzero, add_post, nonzero, zero, all, all] && missed == 0,
        "hits {hits:?}, missed {missed} (calls {all}, a == 0 in {zero})"
    );
    ensure!(
        u64::from(POSTS.load(Ordering::Relaxed)) == add_post,
        "{} post handler runs, want {add_post}",
        POSTS.load(Ordering::Relaxed)
    );
    ensure!(
        ARM_SEEN.load(Ordering::Relaxed) == 0,
        "{} handlers saw A32 state or ITSTATE",
        ARM_SEEN.load(Ordering::Relaxed)
    );
    KPROBES.reclaim_slots().map_err(|e| format!("{e}"))?;
    Ok(())
}

/// What the abort hook saw (core 0 only).
static SEEN: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];
/// 1: expect `FaultFixup::InSlot`; 2: expect `FaultFixup::Stepped`.
static EXPECT: AtomicU32 = AtomicU32::new(0);

/// The kernel's fixup, as an exception table would: skip the 32-bit load, r0 = a marker.
fn skip_wide_load(_: Abort, frame: &mut TrapFrame, fixup: Option<FaultFixup>) -> bool {
    let addr = match (EXPECT.load(Ordering::Relaxed), fixup) {
        (1, Some(FaultFixup::InSlot { addr })) | (2, Some(FaultFixup::Stepped { addr, .. })) => {
            addr
        }
        _ => return false,
    };
    if smp::cpu_id() != 0 {
        return false;
    }
    SEEN[0].store(frame.pc, Ordering::Relaxed);
    SEEN[1].store(frame.cpsr, Ordering::Relaxed);
    SEEN[2].store(addr as u32, Ordering::Relaxed);
    SEEN[3].fetch_add(1, Ordering::Relaxed);
    frame.pc += 4;
    frame.r[0] = SKIPPED;
    true
}

static LOAD_DIRECT: Kprobe = Kprobe::new(Some(saw_state), None, 0);
static LOAD_STEPPED: Kprobe = Kprobe::new(Some(saw_state), Some(count_post), 0);

/// An optimized Thumb load that aborts — run in its slot (a pre handler only) or stepped
/// (a post handler too) — is seen at the probed instruction, in Thumb state, as
/// `InSlot` or `Stepped`, and fixed up by the kernel; the next hit is a hit.
pub fn an_optimized_thumb_load_that_aborts_is_seen_at_the_probe() -> TestResult {
    ensure!(
        !mmu::readable(UNMAPPED as usize),
        "{UNMAPPED:#x} is mapped on this board"
    );
    let site = (kp_thumb_wide_load as *const () as usize & !1) + 2;
    for (probe, expect) in [(&LOAD_DIRECT, 1), (&LOAD_STEPPED, 2)] {
        KPROBES
            .register(probe, site | 1)
            .map_err(|e| format!("{e}"))?;
        let report = KPROBES.optimize_pending().map_err(|e| format!("{e}"))?;
        let mechanism = KPROBES.mechanism_of(probe);
        SEEN[3].store(0, Ordering::Relaxed);
        EXPECT.store(expect, Ordering::Relaxed);
        abort::set_abort_hook(Some(skip_wide_load));
        // SAFETY: kp_thumb_wide_load is the AAPCS function above; the unmapped load
        // aborts and the hook skips it.
        let got = unsafe { kp_thumb_wide_load(UNMAPPED as *const u32) };
        abort::set_abort_hook(None);
        static VALUE: AtomicU32 = AtomicU32::new(0x1234_5678);
        // SAFETY: as above, on a readable word.
        let again = unsafe { kp_thumb_wide_load(VALUE.as_ptr()) };
        let (hits, missed) = (probe.hits(), probe.missed());
        KPROBES.unregister(probe).map_err(|e| format!("{e}"))?;
        let how = if expect == 1 {
            "in its slot"
        } else {
            "stepped"
        };
        ensure!(
            report.optimized == 1 && mechanism == Ok(Mechanism::Optimized(Variant::Direct)),
            "{how}: {report:?}, {mechanism:?}"
        );
        ensure!(got == SKIPPED, "{how}: the fixed-up load returned {got:#x}");
        let (pc, cpsr, addr, count) = (
            SEEN[0].load(Ordering::Relaxed),
            SEEN[1].load(Ordering::Relaxed),
            SEEN[2].load(Ordering::Relaxed),
            SEEN[3].load(Ordering::Relaxed),
        );
        ensure!(count == 1, "{how}: {count} aborts fixed up");
        ensure!(
            pc as usize == site && addr as usize == site,
            "{how}: abort seen at {pc:#x} (fixup {addr:#x}), probe at {site:#x}"
        );
        ensure!(
            cpsr & 0x20 != 0,
            "{how}: the aborted frame is not in Thumb state: {cpsr:#x}"
        );
        ensure!(
            again == 0x1234_5678,
            "{how}: the next call loaded {again:#x}"
        );
        ensure!(
            (hits, missed) == (2, 0),
            "{how}: {hits} hits, {missed} missed (want 2, 0)"
        );
    }
    EXPECT.store(0, Ordering::Relaxed);
    KPROBES.reclaim_slots().map_err(|e| format!("{e}"))?;
    Ok(())
}

/// Return handler: counts, and adds 1000 to the result.
static RETURNS: AtomicU32 = AtomicU32::new(0);
static WRONG_RESULT_SEEN: AtomicU32 = AtomicU32::new(0);

fn wide_return(_: &Kretprobe, _: &mut KretprobeInstance<'_>, f: &mut TrapFrame) {
    RETURNS.fetch_add(1, Ordering::Relaxed);
    // The caller's argument is gone by now; the result is (a == 0 ? 7 : a + 100) + 4,
    // so anything below 11 is wrong.
    if f.r[0] < 11 || f.pc & 1 != 0 {
        WRONG_RESULT_SEEN.fetch_add(1, Ordering::Relaxed);
    }
    f.r[0] += 1000;
}

static WIDE_POOL: KretprobePool<8, 0> = KretprobePool::new();
static WIDE_RET: Kretprobe = Kretprobe::new(None, wide_return, &WIDE_POOL, 0);

/// A return probe whose entry probe is an optimized Thumb probe (on `push.w`, run in its
/// slot): every core's calls return to their A32 caller with the handler's result.
pub fn a_kretprobe_with_an_optimized_thumb_entry_changes_every_cores_results() -> TestResult {
    let f = kp_thumb_wide as *const () as usize;
    let before = text();
    RETURNS.store(0, Ordering::Relaxed);
    WRONG_RESULT_SEEN.store(0, Ordering::Relaxed);
    KRETPROBES
        .register(&KPROBES, &WIDE_RET, f)
        .map_err(|e| format!("{e}"))?;
    let report = KPROBES.optimize_pending().map_err(|e| format!("{e}"))?;
    let mut mechanism = None;
    KPROBES
        .list(|i| {
            if i.addr == f {
                mechanism = Some(i.mechanism);
            }
        })
        .map_err(|e| format!("{e}"))?;
    let first = wide(5);
    let wrong = AtomicU32::new(0);
    smp::on_each_cpu(&|cpu| {
        for i in 0..CALLS / 4 {
            let a = i + cpu as u32;
            if wide(a) != expected(a) + 1000 {
                wrong.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let calls = 1 + u64::from(smp::online_mask().count_ones() * CALLS / 4);
    let counts = (WIDE_RET.hits(), WIDE_RET.missed(), WIDE_RET.outstanding());
    let in_flight = KRETPROBES
        .unregister(&KPROBES, &WIDE_RET)
        .map_err(|e| format!("{e}"))?;
    ensure!(
        report.optimized == 1 && mechanism == Some(Mechanism::Optimized(Variant::Direct)),
        "the entry probe: {report:?}, {mechanism:?}"
    );
    ensure!(first == 1109, "first result {first}");
    ensure!(
        wrong.load(Ordering::Relaxed) == 0 && WRONG_RESULT_SEEN.load(Ordering::Relaxed) == 0,
        "{} wrong results, {} wrong frames in the return handler",
        wrong.load(Ordering::Relaxed),
        WRONG_RESULT_SEEN.load(Ordering::Relaxed)
    );
    ensure!(
        counts == (calls, 0, 0) && u64::from(RETURNS.load(Ordering::Relaxed)) == calls,
        "hits/missed/outstanding {counts:?}, {} returns, {calls} calls",
        RETURNS.load(Ordering::Relaxed)
    );
    ensure!(in_flight == 0, "{in_flight} in flight");
    ensure!(wide(5) == 109, "unprobed result");
    ensure!(text() == before, "text not restored exactly");
    KPROBES.reclaim_slots().map_err(|e| format!("{e}"))?;
    Ok(())
}
