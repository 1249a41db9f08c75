//! Optimized probes against the fakes: batching, the slot contents, the callback's
//! decisions, unoptimize with reclaim, and every way a candidate stays a breakpoint.

use super::*;
use crate::optprobe::{self, Variant};
use std::vec;

const SLOTS: usize = 0x10_0000;

/// A registry whose platform has room for `slots` trampolines at `slot_base`.
pub(super) fn opt_env(slot_base: usize, slots: usize) -> Env {
    opt_env_on(slot_base, slots, 1)
}

/// [`opt_env`] with CPUs `0..cpus` online.
fn opt_env_on(slot_base: usize, slots: usize, cpus: usize) -> Env {
    FakePlatform::become_cpu(0);
    let words = slots * crate::kprobe::fault::slot_bytes(&optprobe::template()) / 4;
    let p: &'static FakePlatform = Box::leak(Box::new(FakePlatform::new(
        TEXT, 128, slot_base, words, cpus,
    )));
    let r: &'static Rendezvous<FakeCacheOps> =
        Box::leak(Box::new(Rendezvous::new(FakeCacheOps::new(true))));
    let k: &'static Reg = Box::leak(Box::new(Kprobes::new(p, r)));
    Env { p, r, k }
}

/// The slot the optimized probe at `addr` branches into (at its A32 entry).
fn slot_of(e: &Env, addr: usize) -> usize {
    Branch::decode(Insn(e.p.word(addr)), addr as u32)
        .unwrap_or_else(|| panic!("{:#010x} at {addr:#x} is no branch", e.p.word(addr)))
        .target() as usize
        - optprobe::template().arm_entry() as usize
}

const B_SELF: u32 = 0xeaff_fffe; // b . (reads and writes PC)

#[test]
fn one_batch_turns_every_candidate_into_a_branch_in_one_rendezvous() {
    let e = opt_env(SLOTS, 8);
    let (a, c, b) = (TEXT + 8, TEXT + 12, TEXT + 16);
    e.p.set_word(a, ADD_R0_R0_1);
    e.p.set_word(c, ADDNE_R0_R0_1);
    e.p.set_word(b, B_SELF);
    let ps = [
        probe(None, None, 0),
        probe(None, None, 1),
        probe(None, None, 2),
    ];
    for (p, addr) in ps.iter().zip([a, c, b]) {
        e.k.register(p, addr).unwrap();
        assert_eq!(e.k.mechanism_of(p), Ok(Mechanism::Breakpoint));
    }
    let before = e.r.completed();
    let report = e.k.optimize_pending().unwrap();
    assert_eq!(
        report,
        OptimizeReport {
            optimized: 3,
            not_optimized: 0,
            rendezvous: 1
        }
    );
    assert_eq!(e.r.completed().wrapping_sub(before), 1, "one rendezvous");
    let t = optprobe::template();
    let l = t.layout();
    for (addr, original, variant) in [
        (a, ADD_R0_R0_1, Variant::Direct),
        (c, ADDNE_R0_R0_1, Variant::Direct),
        (b, B_SELF, Variant::StepOnly),
    ] {
        let branch = Branch::decode(Insn(e.p.word(addr)), addr as u32).unwrap();
        assert_eq!(
            branch.cond(),
            Insn(original).cond(),
            "condition kept at {addr:#x}"
        );
        let slot = branch.target() as usize - t.arm_entry() as usize;
        assert!((SLOTS..SLOTS + 8 * 256).contains(&slot));
        let hole = |off: u32| e.p.word(slot + off as usize);
        let insn = if variant == Variant::Direct {
            original
        } else {
            optprobe::NEVER_RUN
        };
        assert_eq!(hole(l.insn), insn);
        assert_eq!(hole(l.pc), addr as u32);
        assert_eq!(
            Branch::decode(Insn(hole(l.back)), slot as u32 + l.back).map(|b| b.target()),
            Some(addr as u32 + 4),
            "the branch back lands after the probe"
        );
    }
    let mut listed = Vec::new();
    e.k.list(|i| listed.push((i.addr, i.mechanism))).unwrap();
    listed.sort_by_key(|x| x.0);
    assert_eq!(
        listed,
        [
            (a, Mechanism::Optimized(Variant::Direct)),
            (c, Mechanism::Optimized(Variant::Direct)),
            (b, Mechanism::Optimized(Variant::StepOnly)),
        ]
    );
    assert_eq!(e.k.slot_counts().unwrap().unwrap().in_use, 3);
    // Nothing left to do: no rendezvous.
    let again = e.k.optimize_pending().unwrap();
    assert_eq!(again, OptimizeReport::default());
    assert_eq!(e.r.completed().wrapping_sub(before), 1);
}

fn optimized_hit(e: &Env, addr: usize, frame: &mut TrapFrame) -> u32 {
    let (_, site) = e.k.find(addr).expect("site");
    frame.pc = addr as u32;
    e.k.optimized_hit(site, frame, &mut Mem::default())
}

fn bump_r1(_: &Kprobe, f: &mut TrapFrame) {
    f.r[1] += 1;
}

fn set_pc(_: &Kprobe, f: &mut TrapFrame) {
    f.pc = 0x9000;
}

#[test]
fn the_callback_leaves_pc_free_instructions_to_the_trampoline_and_steps_the_rest() {
    let e = opt_env(SLOTS, 8);
    let (a, b) = (TEXT + 8, TEXT + 16);
    e.p.set_word(a, ADD_R0_R0_1);
    e.p.set_word(b, B_SELF);
    let pre = probe(Some(bump_r1), None, 0);
    e.k.register(pre, a).unwrap();
    let branch = probe(Some(bump_r1), None, 0);
    e.k.register(branch, b).unwrap();
    e.k.optimize_pending().unwrap();
    let mut f = TrapFrame {
        r: [41, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        cpsr: 0x6000_01d3,
        ..Default::default()
    };
    // Pre handler only: the trampoline runs the instruction (0), the frame holds the
    // handler's change and is not stepped.
    assert_eq!(optimized_hit(&e, a, &mut f), 0);
    assert_eq!((f.r[0], f.r[1], f.pc), (41, 2, a as u32));
    assert_eq!(pre.hits(), 1);
    // A post handler at the same address: the callback steps it (1).
    let post = probe(None, Some(record_post_42), 0);
    e.k.register(post, a).unwrap();
    f.r[0] = 41;
    assert_eq!(optimized_hit(&e, a, &mut f), 1);
    assert_eq!((f.r[0], f.pc), (42, a as u32 + 4));
    assert_eq!((pre.hits(), post.hits()), (2, 1));
    // A branch is always stepped: `b .` resumes at itself.
    assert_eq!(optimized_hit(&e, b, &mut f), 1);
    assert_eq!(f.pc, b as u32);
    // A handler that moves pc: no step, resume where it says.
    let mover = probe(Some(set_pc), None, 0);
    e.k.register(mover, TEXT + 20).unwrap();
    e.k.optimize_pending().unwrap();
    assert_eq!(optimized_hit(&e, TEXT + 20, &mut f), 1);
    assert_eq!(f.pc, 0x9000);
}

fn record_post_42(_: &Kprobe, f: &mut TrapFrame) {
    assert_eq!(f.r[0], 42, "post sees the step");
}

static REENTERED: AtomicU32 = AtomicU32::new(0);

fn reenter_optimized(_: &Kprobe, _: &mut TrapFrame) {
    let e = REENTER_ENV.with(|c| c.get()).unwrap();
    let mut inner = TrapFrame {
        r: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        cpsr: 0x1d3,
        ..Default::default()
    };
    REENTERED.store(optimized_hit(e, TEXT + 12, &mut inner), Ordering::Relaxed);
}

std::thread_local! {
    static REENTER_ENV: core::cell::Cell<Option<&'static Env>> = const { core::cell::Cell::new(None) };
}

#[test]
fn a_reentrant_optimized_hit_counts_missed_and_leaves_the_instruction_to_the_trampoline() {
    let e: &'static Env = Box::leak(Box::new(opt_env(SLOTS, 8)));
    REENTER_ENV.with(|c| c.set(Some(e)));
    e.p.set_word(TEXT + 8, ADD_R0_R0_1);
    e.p.set_word(TEXT + 12, ADD_R0_R0_1);
    let outer = probe(Some(reenter_optimized), None, 0);
    let inner = probe(Some(bump_r1), None, 0);
    e.k.register(outer, TEXT + 8).unwrap();
    e.k.register(inner, TEXT + 12).unwrap();
    e.k.optimize_pending().unwrap();
    let mut f = TrapFrame {
        cpsr: 0x1d3,
        ..Default::default()
    };
    REENTERED.store(99, Ordering::Relaxed);
    assert_eq!(optimized_hit(e, TEXT + 8, &mut f), 0);
    assert_eq!(
        REENTERED.load(Ordering::Relaxed),
        0,
        "inner hit runs in place"
    );
    assert_eq!((outer.hits(), inner.hits(), inner.missed()), (1, 0, 1));
}

#[test]
fn a_step_into_thumb_sets_bit_0_of_pc_for_the_trampolines_interworking_load() {
    let e = opt_env(SLOTS, 8);
    let a = TEXT + 8;
    e.p.set_word(a, 0xe12f_ff10); // bx r0
    let p = probe(None, None, 0);
    e.k.register(p, a).unwrap();
    e.k.optimize_pending().unwrap();
    assert_eq!(
        e.k.mechanism_of(p),
        Ok(Mechanism::Optimized(Variant::StepOnly))
    );
    let mut f = TrapFrame {
        r: [0x9001, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        cpsr: 0x1d3,
        ..Default::default()
    };
    assert_eq!(optimized_hit(&e, a, &mut f), 1);
    // The step says Thumb in the CPSR; the trampoline restores only the flags, so the
    // state change travels in bit 0 of the address it loads into PC.
    assert_eq!((f.pc, f.cpsr & step::psr::T), (0x9001, step::psr::T));
}

#[test]
fn disable_and_unregister_unoptimize_and_the_slot_is_reclaimed() {
    let e = opt_env(SLOTS, 1);
    let a = TEXT + 8;
    e.p.set_word(a, ADDNE_R0_R0_1);
    let p = probe(None, None, 0);
    e.k.register(p, a).unwrap();
    e.k.optimize_pending().unwrap();
    let slot = slot_of(&e, a);
    e.k.disable(p).unwrap();
    assert_eq!(e.p.word(a), ADDNE_R0_R0_1, "disable: original back");
    assert_eq!(e.k.mechanism_of(p), Ok(Mechanism::Disarmed));
    let c = e.k.slot_counts().unwrap().unwrap();
    assert_eq!(
        (c.free, c.in_use, c.dirty),
        (1, 0, 0),
        "reclaimed after a rendezvous"
    );
    e.k.enable(p).unwrap();
    assert_eq!(e.p.word(a), 0x17f0_01f8, "enable: a breakpoint again");
    assert_eq!(e.k.mechanism_of(p), Ok(Mechanism::Breakpoint));
    e.k.optimize_pending().unwrap();
    assert_eq!(slot_of(&e, a), slot, "the one slot is reused");
    // A second probe at an optimized address changes no text.
    let q = probe(None, None, 1);
    e.k.register(q, a).unwrap();
    assert_eq!(slot_of(&e, a), slot);
    e.k.unregister(p).unwrap();
    assert_eq!(slot_of(&e, a), slot, "still optimized for q");
    e.k.unregister(q).unwrap();
    assert_eq!(e.p.word(a), ADDNE_R0_R0_1);
    let c = e.k.slot_counts().unwrap().unwrap();
    assert_eq!((c.free, c.in_use, c.dirty), (1, 0, 0));
    assert_eq!(e.k.sites(), 0);
}

#[test]
fn slots_out_of_reach_leave_a_working_breakpoint_probe_that_says_why() {
    // 64 MiB above text: no `b` reaches.
    let e = opt_env(TEXT + 0x0400_0000, 4);
    let a = TEXT + 8;
    e.p.set_word(a, ADD_R0_R0_1);
    let p = probe(None, None, 0);
    e.k.register(p, a).unwrap();
    let before = e.r.completed();
    let report = e.k.optimize_pending().unwrap();
    assert_eq!(
        (report.optimized, report.not_optimized, report.rendezvous),
        (0, 1, 0)
    );
    assert_eq!(e.r.completed(), before, "no rendezvous for nothing");
    let m = e.k.mechanism_of(p).unwrap();
    assert_eq!(m, Mechanism::NotOptimized(NotOptimized::OutOfRange));
    assert!(std::format!("{m}").contains("branch range"), "{m}");
    assert_eq!(e.p.word(a), 0xe7f0_01f8);
    let mut f = TrapFrame {
        r: [41, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        cpsr: 0x1d3,
        ..Default::default()
    };
    assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
    assert_eq!((f.r[0], p.hits()), (42, 1));
    // Not retried: out of reach stays out of reach.
    assert_eq!(e.k.optimize_pending().unwrap().not_optimized, 0);
    e.k.unregister(p).unwrap();
    assert_eq!(e.p.word(a), ADD_R0_R0_1);
}

#[test]
fn without_a_free_slot_a_probe_waits_and_is_optimized_once_one_is_free() {
    let e = opt_env(SLOTS, 1);
    let (a, b) = (TEXT + 8, TEXT + 12);
    e.p.set_word(a, ADD_R0_R0_1);
    e.p.set_word(b, ADD_R0_R0_1);
    let (p, q) = (probe(None, None, 0), probe(None, None, 1));
    e.k.register(p, a).unwrap();
    e.k.register(q, b).unwrap();
    let report = e.k.optimize_pending().unwrap();
    assert_eq!((report.optimized, report.not_optimized), (1, 1));
    let waiting = [p, q]
        .into_iter()
        .find(|x| e.k.mechanism_of(x) == Ok(Mechanism::NotOptimized(NotOptimized::NoSlot)))
        .expect("one probe has no slot");
    let optimized = if core::ptr::eq(waiting, p) { q } else { p };
    e.k.unregister(optimized).unwrap();
    assert_eq!(e.k.optimize_pending().unwrap().optimized, 1, "retried");
    assert_eq!(
        e.k.mechanism_of(waiting),
        Ok(Mechanism::Optimized(Variant::Direct))
    );
    e.k.unregister(waiting).unwrap();
}

#[test]
fn an_unusable_slot_region_is_reported_for_every_candidate() {
    // env() gives the platform 16 words of slot memory: less than one trampoline.
    let e = env();
    e.p.set_word(TEXT + 8, ADD_R0_R0_1);
    let p = probe(None, None, 0);
    e.k.register(p, TEXT + 8).unwrap();
    let report = e.k.optimize_pending().unwrap();
    assert_eq!((report.optimized, report.not_optimized), (0, 1));
    let m = e.k.mechanism_of(p).unwrap();
    assert!(
        matches!(
            m,
            Mechanism::NotOptimized(NotOptimized::SlotRegion(SlotError::BadGeometry { .. }))
        ),
        "{m:?}"
    );
    assert!(std::format!("{m}").contains("slot region unusable"), "{m}");
    assert_eq!(
        e.k.allocate_slot().map(|_| ()),
        Err(KprobeError::Slot(m_err(m)))
    );
}

fn m_err(m: Mechanism) -> SlotError {
    match m {
        Mechanism::NotOptimized(NotOptimized::SlotRegion(e)) => e,
        _ => unreachable!(),
    }
}

#[test]
fn optimizing_inside_a_rendezvous_is_refused_and_changes_nothing() {
    let e = opt_env(SLOTS, 4);
    let a = TEXT + 8;
    e.p.set_word(a, ADD_R0_R0_1);
    let p = probe(None, None, 0);
    e.k.register(p, a).unwrap();
    let result = std::sync::Mutex::new(None);
    e.r.run(e.p, RunOn::OneCpu(0), &|_| {
        *result.lock().unwrap() = Some(e.k.optimize_pending());
    })
    .unwrap();
    let r = result.into_inner().unwrap().unwrap();
    assert!(
        matches!(r, Err(KprobeError::InterruptsMasked { cpu: 0 })),
        "{r:?}"
    );
    assert_eq!(e.p.word(a), 0xe7f0_01f8, "still the breakpoint");
    assert_eq!(e.k.mechanism_of(p), Ok(Mechanism::Breakpoint));
    assert_eq!(
        e.k.slot_counts(),
        Ok(None),
        "refused before any slot was made"
    );

    // A batch whose publishing rendezvous is refused (the caller is not an online CPU)
    // after its slots were written: the slots are free again, the probe a breakpoint.
    FakePlatform::become_cpu(31);
    let r = e.k.optimize_pending();
    FakePlatform::become_cpu(0);
    assert!(
        matches!(
            r,
            Err(KprobeError::Patch(PatchError::Rendezvous(
                RendezvousError::CallerNotOnline { cpu: 31 }
            )))
        ),
        "{r:?}"
    );
    assert_eq!(e.p.word(a), 0xe7f0_01f8, "still the breakpoint");
    assert_eq!(e.k.mechanism_of(p), Ok(Mechanism::Breakpoint));
    let c = e.k.slot_counts().unwrap().unwrap();
    assert_eq!(
        (c.in_use, c.dirty),
        (0, 0),
        "the prepared slot is free again"
    );
    assert_eq!(
        e.k.optimize_pending().unwrap().optimized,
        1,
        "works afterwards"
    );
}

#[test]
fn lent_slots_come_from_the_same_allocator_and_only_they_can_be_released() {
    let e = opt_env(SLOTS, 3);
    e.p.set_word(TEXT + 8, ADD_R0_R0_1);
    let p = probe(None, None, 0);
    e.k.register(p, TEXT + 8).unwrap();
    e.k.optimize_pending().unwrap();
    let lent = e.k.allocate_slot().unwrap();
    assert!(lent.addr() >= SLOTS && lent.addr() != slot_of(&e, TEXT + 8));
    assert_eq!(e.k.slot_counts().unwrap().unwrap().in_use, 2);
    // The trampoline's slot is not the caller's to release.
    let (_, site) = e.k.find(TEXT + 8).unwrap();
    let index = e.k.index_of(site);
    let Opt::Optimized(theirs, _) = e.k.lock().unwrap().opt[index] else {
        panic!("not optimized")
    };
    assert_eq!(
        e.k.release_slot(theirs),
        Err(KprobeError::Slot(SlotError::NotInUse(theirs)))
    );
    e.k.release_slot(lent).unwrap();
    assert_eq!(
        e.k.release_slot(lent),
        Err(KprobeError::Slot(SlotError::NotInUse(lent))),
        "twice"
    );
    assert_eq!(e.k.slot_counts().unwrap().unwrap().dirty, 1);
    assert_eq!(e.k.reclaim_slots(), Ok(1));
    assert_eq!(e.k.slot_counts().unwrap().unwrap().dirty, 0);
    e.k.unregister(p).unwrap();
}

#[test]
fn mechanisms_read_as_sentences() {
    for (m, text) in [
        (Mechanism::Breakpoint, "breakpoint (optimization pending)"),
        (
            Mechanism::NotOptimized(NotOptimized::NoSlot),
            "not optimized: no free instruction slot",
        ),
        (
            Mechanism::Optimized(Variant::Direct),
            "optimized (direct execution)",
        ),
        (
            Mechanism::Optimized(Variant::StepOnly),
            "optimized (stepped)",
        ),
        (Mechanism::Disarmed, "disarmed"),
    ] {
        assert!(std::format!("{m}").contains(text), "{m}");
    }
}

static PAIRS: AtomicU32 = AtomicU32::new(0);

fn pre_then_disabled_elsewhere(p: &Kprobe, _: &mut TrapFrame) {
    PAIRS.fetch_add(1, Ordering::Relaxed);
    // What another CPU's `disable` does first, while this hit is in its pre handler.
    p.state.store(DISABLED, Ordering::Release);
}

fn post_pairs(_: &Kprobe, _: &mut TrapFrame) {
    PAIRS.fetch_add(10, Ordering::Relaxed);
}

#[test]
fn a_probe_disabled_during_a_hit_still_gets_its_post_handler() {
    for optimized in [false, true] {
        let e = opt_env(SLOTS, 2);
        e.p.set_word(TEXT + 8, ADD_R0_R0_1);
        let p = probe(Some(pre_then_disabled_elsewhere), Some(post_pairs), 0);
        e.k.register(p, TEXT + 8).unwrap();
        let mut f = TrapFrame {
            cpsr: 0x1d3,
            ..Default::default()
        };
        PAIRS.store(0, Ordering::Relaxed);
        if optimized {
            e.k.optimize_pending().unwrap();
            assert_eq!(optimized_hit(&e, TEXT + 8, &mut f), 1);
        } else {
            assert_eq!(hit(e.k, TEXT + 8, &mut f), Trap::Handled);
        }
        assert_eq!(PAIRS.load(Ordering::Relaxed), 11, "optimized: {optimized}");
        assert_eq!(f.r[0], 1, "stepped once");
    }
}

/// The fake machine of `inner` with another slot region: a second registry over the
/// same text whose slots lie elsewhere.
struct OtherSlots {
    inner: &'static FakePlatform,
    slots: core::ops::Range<usize>,
}

impl Platform for OtherSlots {
    fn cpu_id(&self) -> usize {
        self.inner.cpu_id()
    }
    fn online_cpus(&self) -> crate::platform::CpuSet {
        self.inner.online_cpus()
    }
    fn send_ipi(&self, targets: crate::platform::CpuSet) {
        self.inner.send_ipi(targets)
    }
    fn mask_interrupts(&self) -> crate::platform::InterruptState {
        self.inner.mask_interrupts()
    }
    fn restore_interrupts(&self, previous: crate::platform::InterruptState) {
        self.inner.restore_interrupts(previous)
    }
    fn interrupts_masked(&self) -> bool {
        self.inner.interrupts_masked()
    }
    fn kernel_text(&self) -> core::ops::Range<usize> {
        self.inner.kernel_text()
    }
    fn never_probe(&self) -> &[core::ops::Range<usize>] {
        self.inner.never_probe()
    }
    fn slot_region(&self) -> core::ops::Range<usize> {
        self.slots.clone()
    }
    fn text_alias(&self, addr: usize) -> *mut u32 {
        self.inner.text_alias(addr)
    }
}

#[test]
fn a_second_registry_over_the_same_text_refuses_the_first_ones_probes_and_slots() {
    let e = opt_env(SLOTS, 4);
    let (a, c, d) = (TEXT + 8, TEXT + 12, TEXT + 16);
    for addr in [a, c, d] {
        e.p.set_word(addr, ADD_R0_R0_1);
    }
    let p = probe(None, None, 0);
    e.k.register(p, a).unwrap();
    e.k.optimize_pending().unwrap();
    let branch = e.p.word(a);
    let p2 = probe(None, None, 0);
    e.k.register(p2, c).unwrap();

    // Same platform (so the same slot region), same rendezvous: a second registry.
    let second: &'static Reg = Box::leak(Box::new(Kprobes::new(e.p, e.r)));
    let q = probe(None, None, 1);
    assert_eq!(
        second.register(q, a),
        Err(KprobeError::ForeignProbe {
            addr: a,
            word: branch
        }),
        "a branch into the first registry's slots is not an instruction"
    );
    assert_eq!(
        second.register(q, c),
        Err(KprobeError::ForeignProbe {
            addr: c,
            word: 0xe7f0_01f8
        }),
        "a breakpoint word is not an instruction"
    );
    assert!(
        std::format!("{}", second.register(q, c).unwrap_err()).contains("one registry per text")
    );
    // Its own probe elsewhere works as a breakpoint, but it cannot take the slots.
    second.register(q, d).unwrap();
    let r = second.optimize_pending().unwrap();
    assert_eq!((r.optimized, r.not_optimized), (0, 1));
    let m = second.mechanism_of(q).unwrap();
    assert!(
        matches!(
            m,
            Mechanism::NotOptimized(NotOptimized::SlotRegion(SlotError::Claimed(
                crate::claims::ClaimError::Overlaps { .. }
            )))
        ),
        "{m:?}"
    );
    assert!(std::format!("{m}").contains("another registry owns"), "{m}");

    // A third registry whose own slots lie elsewhere still knows the first one's region.
    let elsewhere: &'static OtherSlots = Box::leak(Box::new(OtherSlots {
        inner: e.p,
        slots: 0x20_0000..0x20_1000,
    }));
    let third: &'static Kprobes<OtherSlots, FakeCacheOps, 16> =
        Box::leak(Box::new(Kprobes::new(elsewhere, e.r)));
    assert_eq!(
        third.register(probe(None, None, 2), a),
        Err(KprobeError::ForeignProbe {
            addr: a,
            word: branch
        })
    );

    // Everything unregisters to the exact original text.
    second.unregister(q).unwrap();
    e.k.unregister(p).unwrap();
    e.k.unregister(p2).unwrap();
    for addr in [a, c, d] {
        assert_eq!(e.p.word(addr), ADD_R0_R0_1, "{addr:#x}");
    }
}

/// Stops the IPI-serving CPU thread even when an assertion fails.
struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_slot_a_cpu_was_seen_in_stays_dirty_and_its_site_taken_until_a_rendezvous_sees_it_empty() {
    let e = opt_env_on(SLOTS, 2, 2);
    let (a, b) = (TEXT + 8, TEXT + 12);
    e.p.set_word(a, ADD_R0_R0_1);
    e.p.set_word(b, ADD_R0_R0_1);
    let (p, q, again) = (
        probe(None, None, 0),
        probe(None, None, 1),
        probe(None, None, 2),
    );
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| e.p.serve_ipis_until(1, e.r, &stop));
        let _stop = StopOnDrop(&stop);
        FakePlatform::become_cpu(0);
        e.k.register(p, a).unwrap();
        e.k.optimize_pending().unwrap();
        let slot = slot_of(&e, a);
        let site_a = e.k.find(a).unwrap().1 as *const Site;
        // CPU 1 takes every IPI inside the trampoline's entry window (before its
        // `cpsid`): interrupted there, it comes back there.
        e.p.set_interrupted_pc(1, slot + 4);
        e.k.unregister(p).unwrap();
        assert_eq!(e.p.word(a), ADD_R0_R0_1, "the original is back at once");
        let c = e.k.slot_counts().unwrap().unwrap();
        assert_eq!(
            (c.in_use, c.dirty),
            (0, 1),
            "the slot CPU 1 is in stays dirty"
        );
        assert_eq!(e.k.sites(), 0, "the address is no longer probed");
        // Neither the slot nor the site its trampoline names is reused meanwhile.
        e.k.register(q, b).unwrap();
        assert!(
            !core::ptr::eq(e.k.find(b).unwrap().1, site_a),
            "the retired site was reused"
        );
        assert_eq!(e.k.optimize_pending().unwrap().optimized, 1);
        assert_ne!(slot_of(&e, b), slot, "the dirty slot was reused");
        // Seen there again: still dirty (another rendezvous proves nothing).
        assert_eq!(e.k.reclaim_slots(), Ok(0));
        // CPU 1 has left the slot: the next rendezvous sees it outside, and frees the
        // slot and the site with it.
        e.p.set_interrupted_pc(1, TEXT + 0x40);
        assert_eq!(e.k.reclaim_slots(), Ok(1));
        e.k.register(again, a).unwrap();
        assert!(
            core::ptr::eq(e.k.find(a).unwrap().1, site_a),
            "the freed site is the lowest free one again"
        );
        assert_eq!(e.k.optimize_pending().unwrap().optimized, 1);
        assert_eq!(slot_of(&e, a), slot, "and so is the freed slot");
        e.k.unregister(again).unwrap();
        e.k.unregister(q).unwrap();
        let c = e.k.slot_counts().unwrap().unwrap();
        assert_eq!((c.free, c.in_use, c.dirty), (2, 0, 0));
    });
}

#[test]
fn a_cpu_whose_kernel_does_not_say_where_it_was_keeps_every_dirty_slot_dirty() {
    let e = opt_env_on(SLOTS, 1, 2);
    let a = TEXT + 8;
    e.p.set_word(a, ADD_R0_R0_1);
    let p = probe(None, None, 0);
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        // CPU 1's kernel calls the pc-less `ipi_entry`.
        s.spawn(|| {
            FakePlatform::become_cpu(1);
            while !stop.load(Ordering::SeqCst) {
                if !(e.p.take_pending_ipi() && e.r.ipi_entry(e.p)) {
                    std::thread::yield_now();
                }
            }
        });
        let _stop = StopOnDrop(&stop);
        FakePlatform::become_cpu(0);
        e.k.register(p, a).unwrap();
        e.k.optimize_pending().unwrap();
        e.k.unregister(p).unwrap();
        assert_eq!(e.k.reclaim_slots(), Ok(0));
        let c = e.k.slot_counts().unwrap().unwrap();
        assert_eq!((c.free, c.dirty), (0, 1));
        e.k.register(p, a).unwrap();
        let r = e.k.optimize_pending().unwrap();
        assert_eq!((r.optimized, r.not_optimized), (0, 1), "no slot comes back");
        assert_eq!(
            e.k.mechanism_of(p),
            Ok(Mechanism::NotOptimized(NotOptimized::NoSlot))
        );
        e.k.unregister(p).unwrap();
    });
}

static HELD_HANDLERS: AtomicU32 = AtomicU32::new(0);

fn count_held(_: &Kprobe, _: &mut TrapFrame) {
    HELD_HANDLERS.fetch_add(1, Ordering::Relaxed);
}

#[test]
fn a_cpu_the_unregister_rendezvous_held_in_a_trampoline_runs_no_handler_of_the_probe() {
    // The race the optimize churn found under parallel vCPUs: CPU 1 branched into the
    // trampoline and took the rendezvous IPI before its `cpsid`; the moment the
    // rendezvous lets it go it calls the callback. Unregister must have taken the probe
    // out of the list by then, or its handlers run after (or while) unregister returns
    // and `hits` misses them. The fake runs "CPU 1" right after the original's store.
    let e: &'static Env = Box::leak(Box::new(opt_env(SLOTS, 4)));
    let (a, b) = (TEXT + 8, TEXT + 12);
    e.p.set_word(a, ADD_R0_R0_1);
    e.p.set_word(b, ADD_R0_R0_1);
    // Pre only (a direct slot's fast path) and pre + post (the stepped path).
    let (pre_only, pre_post) = (
        probe(Some(count_held), None, 0),
        probe(Some(count_held), Some(count_held), 1),
    );
    e.k.register(pre_only, a).unwrap();
    e.k.register(pre_post, b).unwrap();
    e.k.optimize_pending().unwrap();
    let resumed = std::sync::Arc::new(AtomicU32::new(0));
    let seen = resumed.clone();
    e.r.cache_ops().after_each_store(move |addr, word| {
        if word != ADD_R0_R0_1 {
            return;
        }
        // The site is still in the table: it goes only after the rendezvous.
        let (_, site) = e.k.find(addr).expect("site");
        let mut f = TrapFrame {
            pc: addr as u32,
            cpsr: 0x1d3,
            ..Default::default()
        };
        e.k.optimized_hit(site, &mut f, &mut Mem::default());
        seen.fetch_add(1, Ordering::Relaxed);
    });
    HELD_HANDLERS.store(0, Ordering::Relaxed);
    e.k.unregister(pre_only).unwrap();
    e.k.unregister(pre_post).unwrap();
    assert_eq!(
        resumed.load(Ordering::Relaxed),
        2,
        "both originals went back"
    );
    assert_eq!(
        (
            HELD_HANDLERS.load(Ordering::Relaxed),
            pre_only.hits(),
            pre_post.hits()
        ),
        (0, 0, 0),
        "a handler ran for a hit that began after unregister's rendezvous"
    );
}

#[test]
fn a_platform_cpu_index_register_gives_direct_slots_the_fast_path_in_the_trampoline() {
    let t = optprobe::template();
    let l = t.layout();
    let template_word = |off: u32| {
        let mut w = vec![0u32; t.bytes() / 4];
        let fill = Fill {
            slot: SLOTS as u32,
            addr: TEXT as u32,
            insn: 0,
            registry: 0,
            site: 0,
            callback: 0,
            running: 0,
            call_pre: 0,
            resume: 0,
            fast: 0,
            cpu: CpuIndexSource::None,
            thumb: false,
        };
        t.fill(fill, &mut w).unwrap();
        w[off as usize / 4]
    };
    for (source, direct_cpu_word, direct_callback) in [
        (CpuIndexSource::None, template_word(l.cpu), 1),
        (CpuIndexSource::MpidrAff0, l.mpidr, 2),
        (CpuIndexSource::Tpidrprw, l.tpidrprw, 2),
    ] {
        let e = opt_env(SLOTS, 8);
        e.p.set_cpu_index_register(source);
        let (a, b) = (TEXT + 8, TEXT + 16);
        e.p.set_word(a, ADD_R0_R0_1);
        e.p.set_word(b, B_SELF);
        let pa = probe(Some(bump_r1), None, 0);
        let pb = probe(Some(bump_r1), None, 0);
        e.k.register(pa, a).unwrap();
        e.k.register(pb, b).unwrap();
        e.k.optimize_pending().unwrap();
        let word = |addr: usize, off: u32| e.p.word(slot_of(&e, addr) + off as usize);
        // A direct slot reads the CPU index (or, without a register, keeps the branch
        // to the callback); a step-only slot never runs the fast path.
        assert_eq!(word(a, l.cpu), direct_cpu_word, "{source:?}");
        assert_eq!(word(b, l.cpu), template_word(l.cpu), "{source:?}");
        assert_eq!(word(a, l.callback), direct_callback, "{source:?}");
        assert_eq!(word(b, l.callback), 0, "{source:?}");
        for addr in [a, b] {
            assert_eq!(word(addr, l.running), e.k.running.as_ptr() as usize as u32);
            assert_eq!(word(addr, l.call_pre), 3);
            assert_eq!(word(addr, l.resume), optprobe::resume_address() as u32);
        }
        assert_eq!(word(a, l.fast), pa as *const Kprobe as usize as u32);
        // The abort fixup knows every callback's copies.
        let mut f = TrapFrame {
            pc: (slot_of(&e, a) + l.insn as usize) as u32,
            ..Default::default()
        };
        assert_eq!(
            e.k.fixup_fault(&mut f),
            Some(crate::kprobe::FaultFixup::InSlot { addr: a })
        );
        // The callback's fast path (and the slow path the trampoline falls back to)
        // run the handler as before.
        let mut f = TrapFrame::default();
        assert_eq!(optimized_hit(&e, a, &mut f), 0);
        assert_eq!((f.r[1], pa.hits()), (1, 1));
    }
}

#[test]
fn a_probe_without_a_pre_handler_is_no_direct_fast_path() {
    let e = opt_env(SLOTS, 8);
    let a = TEXT + 8;
    e.p.set_word(a, ADD_R0_R0_1);
    let bare = probe(None, None, 0);
    e.k.register(bare, a).unwrap();
    e.k.optimize_pending().unwrap();
    let site = e.k.find(a).expect("site").1;
    assert!(site.fast_pre_only.load(Ordering::Relaxed).is_null());
    assert_eq!(
        site.fast.load(Ordering::Relaxed),
        bare as *const Kprobe as *mut _
    );
    let mut f = TrapFrame::default();
    assert_eq!(optimized_hit(&e, a, &mut f), 0, "run in place");
    assert_eq!(bare.hits(), 1);
}

#[test]
fn the_trampolines_fast_literal_follows_the_sites_fast_probe_while_the_slot_is_its() {
    let e = opt_env(SLOTS, 8);
    e.p.set_cpu_index_register(CpuIndexSource::MpidrAff0);
    let a = TEXT + 8;
    e.p.set_word(a, ADD_R0_R0_1);
    let (p1, p2) = (probe(Some(bump_r1), None, 0), probe(Some(bump_r1), None, 1));
    e.k.register(p1, a).unwrap();
    e.k.optimize_pending().unwrap();
    let slot = slot_of(&e, a);
    let l = optprobe::template().layout();
    let fast = || e.p.word(slot + l.fast as usize);
    let ptr = |p: &Kprobe| p as *const Kprobe as usize as u32;
    assert_eq!(fast(), ptr(p1), "filled with the site's probe");
    e.k.register(p2, a).unwrap();
    assert_eq!(fast(), 0, "two probes: the general path");
    e.k.unregister(p1).unwrap();
    assert_eq!(fast(), ptr(p2), "one again");
    // A probe that disables itself off the only enabled one: the literal is cleared
    // before the rendezvous that disarms, and the slot is no longer the site's after.
    e.k.disable(p2).unwrap();
    assert_eq!(fast(), 0, "disabled");
    assert_eq!(
        e.k.find(a).unwrap().1.fast_slot.load(Ordering::Relaxed),
        0,
        "the slot is no longer the site's"
    );
    e.k.enable(p2).unwrap();
    assert_eq!(fast(), 0, "a breakpoint again: the old slot is left alone");
    e.k.optimize_pending().unwrap();
    let slot2 = slot_of(&e, a);
    assert_eq!(e.p.word(slot2 + l.fast as usize), ptr(p2));
    e.k.unregister(p2).unwrap();
    assert_eq!(e.p.word(slot2 + l.fast as usize), 0, "unregistered");
}
