//! The registry's host tests (fakes for text, caches and CPUs).

mod fault;
mod optimized;
mod thumb;
mod thumb_optimized;

use super::*;
use crate::fakes::{FakeCacheOps, FakePlatform};
use std::boxed::Box;
use std::sync::atomic::AtomicU32;
use std::vec::Vec;

const TEXT: usize = 0x8000;
const NOPROBE: usize = TEXT + 0x100;
type Reg = Kprobes<FakePlatform, FakeCacheOps, 16>;

struct Env {
    p: &'static FakePlatform,
    r: &'static Rendezvous<FakeCacheOps>,
    k: &'static Reg,
}

fn env() -> Env {
    FakePlatform::become_cpu(0);
    let p: &'static FakePlatform = Box::leak(Box::new(
        FakePlatform::new(TEXT, 128, 0x10_0000, 16, 1).with_never_probe(NOPROBE..NOPROBE + 16),
    ));
    let r: &'static Rendezvous<FakeCacheOps> =
        Box::leak(Box::new(Rendezvous::new(FakeCacheOps::new(true))));
    let k: &'static Reg = Box::leak(Box::new(Kprobes::new(p, r)));
    Env { p, r, k }
}

fn probe(pre: Option<Handler>, post: Option<Handler>, data: usize) -> &'static Kprobe {
    Box::leak(Box::new(Kprobe::new(pre, post, data)))
}

type Mem = crate::fakes::FakeMemory;

const ADD_R0_R0_1: u32 = 0xe280_0001; // add r0, r0, #1
const ADDNE_R0_R0_1: u32 = 0x1280_0001; // addne r0, r0, #1
const Z: u32 = 1 << 30;

fn hit(k: &Reg, addr: usize, frame: &mut TrapFrame) -> Trap {
    frame.pc = addr as u32;
    k.handle_undefined(frame, &mut Mem::default())
}

#[test]
fn register_arms_a_breakpoint_with_the_original_condition_and_unregister_restores_it() {
    let e = env();
    let a = TEXT + 8;
    e.p.set_word(a, ADDNE_R0_R0_1);
    let pr = probe(None, None, 0);
    e.k.register(pr, a).unwrap();
    assert_eq!(e.p.word(a), 0x17f0_01f8, "breakpoint keeps cond NE");
    assert_eq!(pr.state(), ProbeState::Enabled);
    assert_eq!(pr.addr(), Some(a));
    e.k.unregister(pr).unwrap();
    assert_eq!(e.p.word(a), ADDNE_R0_R0_1);
    assert_eq!(pr.state(), ProbeState::Unregistered);
    assert_eq!(pr.addr(), None);
    assert_eq!(e.k.sites(), 0);
}

static ORDER: AtomicU32 = AtomicU32::new(0);

fn record_pre(p: &Kprobe, f: &mut TrapFrame) {
    // Each probe appends its data digit; the frame shows the step has not run yet.
    assert_eq!(f.r[0], 41);
    ORDER.store(
        ORDER.load(Ordering::Relaxed) * 10 + p.data() as u32,
        Ordering::Relaxed,
    );
}

fn record_post(p: &Kprobe, f: &mut TrapFrame) {
    assert_eq!(f.r[0], 42, "post sees the stepped result");
    ORDER.store(
        ORDER.load(Ordering::Relaxed) * 10 + 5 + p.data() as u32,
        Ordering::Relaxed,
    );
}

#[test]
fn a_hit_runs_pre_handlers_in_registration_order_steps_once_then_post_handlers() {
    let e = env();
    let a = TEXT + 12;
    e.p.set_word(a, ADD_R0_R0_1);
    let (p1, p2) = (
        probe(Some(record_pre), Some(record_post), 1),
        probe(Some(record_pre), Some(record_post), 2),
    );
    e.k.register(p1, a).unwrap();
    e.k.register(p2, a).unwrap();
    ORDER.store(0, Ordering::Relaxed);
    let mut f = TrapFrame {
        r: [41, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        cpsr: 0x1f,
        ..Default::default()
    };
    assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
    assert_eq!(f.r[0], 42, "stepped exactly once");
    assert_eq!(f.pc as usize, a + 4);
    assert_eq!(ORDER.load(Ordering::Relaxed), 1267);
    assert_eq!((p1.hits(), p2.hits()), (1, 1));
    let mut seen = Vec::new();
    e.k.list(|i| seen.push((i.addr, i.data, i.hits, i.state)))
        .unwrap();
    assert_eq!(
        seen,
        [
            (a, 1, 1, ProbeState::Enabled),
            (a, 2, 1, ProbeState::Enabled)
        ]
    );
}

fn never_called(_: &Kprobe, _: &mut TrapFrame) {
    panic!("handler called although the condition failed");
}

#[test]
fn conditional_probe_does_not_fire_when_the_condition_fails() {
    let e = env();
    let a = TEXT + 16;
    e.p.set_word(a, ADDNE_R0_R0_1);
    let pr = probe(Some(never_called), Some(never_called), 0);
    e.k.register(pr, a).unwrap();
    let mut f = TrapFrame {
        cpsr: 0x1f | Z,
        ..Default::default()
    };
    assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
    assert_eq!((f.pc as usize, f.r[0], pr.hits()), (a + 4, 0, 0));
}

fn redirect(_: &Kprobe, f: &mut TrapFrame) {
    f.pc = 0x9000;
}

#[test]
fn a_pre_handler_that_changes_pc_redirects_and_skips_the_step_and_post_handlers() {
    let e = env();
    let a = TEXT + 20;
    e.p.set_word(a, ADD_R0_R0_1);
    let pr = probe(Some(redirect), Some(never_called), 0);
    e.k.register(pr, a).unwrap();
    let mut f = TrapFrame {
        cpsr: 0x1f,
        ..Default::default()
    };
    assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
    assert_eq!((f.pc, f.r[0]), (0x9000, 0));
}

static INNER: AtomicUsize = AtomicUsize::new(0);
static REG: AtomicUsize = AtomicUsize::new(0);

fn reenter(_: &Kprobe, _: &mut TrapFrame) {
    // The handler itself runs a probed instruction.
    // SAFETY: REG holds the address of a leaked (so `'static`) `Reg`.
    let k = unsafe { &*(REG.load(Ordering::Relaxed) as *const Reg) };
    let mut f = TrapFrame {
        cpsr: 0x1f,
        ..Default::default()
    };
    assert_eq!(hit(k, INNER.load(Ordering::Relaxed), &mut f), Trap::Handled);
    assert_eq!(f.r[0], 1, "the reentrant hit is still stepped");
}

#[test]
fn a_probe_hit_inside_a_handler_counts_missed_and_is_stepped_without_handlers() {
    let e = env();
    let (outer, inner) = (TEXT + 24, TEXT + 28);
    e.p.set_word(outer, ADD_R0_R0_1);
    e.p.set_word(inner, ADD_R0_R0_1);
    REG.store(e.k as *const Reg as usize, Ordering::Relaxed);
    INNER.store(inner, Ordering::Relaxed);
    let (po, pi) = (
        probe(Some(reenter), None, 0),
        probe(Some(never_called), None, 0),
    );
    e.k.register(po, outer).unwrap();
    e.k.register(pi, inner).unwrap();
    let mut f = TrapFrame {
        cpsr: 0x1f,
        ..Default::default()
    };
    assert_eq!(hit(e.k, outer, &mut f), Trap::Handled);
    assert_eq!(
        (po.hits(), po.missed(), pi.hits(), pi.missed()),
        (1, 0, 0, 1)
    );
    // The CPU is no longer "in a handler" afterwards: the next outer hit fires.
    let mut f = TrapFrame {
        cpsr: 0x1f,
        ..Default::default()
    };
    assert_eq!(hit(e.k, outer, &mut f), Trap::Handled);
    assert_eq!((po.hits(), po.missed(), pi.missed()), (2, 0, 2));
}

#[test]
fn a_trap_without_a_probe_is_retried_if_the_word_was_restored_and_not_ours_otherwise() {
    let e = env();
    let a = TEXT + 32;
    let mut f = TrapFrame {
        cpsr: 0x1f,
        ..Default::default()
    };
    e.p.set_word(a, ADD_R0_R0_1);
    assert_eq!(
        hit(e.k, a, &mut f),
        Trap::Retry,
        "restored instruction: run it"
    );
    e.p.set_word(a, 0xe7f0_01f8);
    assert_eq!(
        hit(e.k, a, &mut f),
        Trap::NotOurs,
        "a breakpoint nobody registered"
    );
    e.p.set_word(a, 0xe7f0_00f0);
    assert_eq!(hit(e.k, a, &mut f), Trap::NotOurs, "the kernel's own udf");
    assert_eq!(hit(e.k, 0x20_0000, &mut f), Trap::NotOurs, "outside text");
    let mut t = TrapFrame {
        cpsr: 0x3f,
        ..Default::default()
    };
    // In Thumb state the halfword(s) at pc decide, as for A32.
    e.p.set_word(a, 0xbf00_3001); // adds r0, #1; nop
    assert_eq!(hit(e.k, a, &mut t), Trap::Retry, "Thumb: restored 16-bit");
    e.p.set_word(a, 0x0001_f100); // add.w r0, r0, #1
    assert_eq!(hit(e.k, a, &mut t), Trap::Retry, "Thumb: restored 32-bit");
    e.p.set_word(a, 0xbf00_de18); // udf #0x18
    assert_eq!(
        hit(e.k, a, &mut t),
        Trap::NotOurs,
        "Thumb: our 16-bit breakpoint"
    );
    e.p.set_word(a, 0xa018_f7f0); // udf.w #0x18
    assert_eq!(
        hit(e.k, a, &mut t),
        Trap::NotOurs,
        "Thumb: our 32-bit breakpoint"
    );
    e.p.set_word(a, 0xbf00_defe); // udf #0xfe
    assert_eq!(hit(e.k, a, &mut t), Trap::NotOurs, "Thumb: another udf");
    assert_eq!(hit(e.k, a + 1, &mut t), Trap::NotOurs, "Thumb: odd pc");
    assert_eq!(
        hit(e.k, TEXT + 4 * 128 - 2, &mut t),
        Trap::Retry,
        "last halfword"
    );
}

#[test]
fn disable_restores_the_original_when_no_enabled_probe_remains_and_enable_rearms() {
    let e = env();
    let a = TEXT + 36;
    e.p.set_word(a, ADD_R0_R0_1);
    let (p1, p2) = (probe(None, None, 1), probe(None, None, 2));
    e.k.register(p1, a).unwrap();
    e.k.register(p2, a).unwrap();
    e.k.disable(p1).unwrap();
    assert_eq!(e.p.word(a), 0xe7f0_01f8, "p2 still armed");
    let mut f = TrapFrame {
        cpsr: 0x1f,
        ..Default::default()
    };
    hit(e.k, a, &mut f);
    assert_eq!(
        (p1.hits(), p2.hits()),
        (0, 1),
        "a disabled probe does not fire"
    );
    e.k.disable(p2).unwrap();
    assert_eq!(e.p.word(a), ADD_R0_R0_1, "no enabled probe: original back");
    assert_eq!(e.k.disable(p2), Ok(()), "disabling twice is harmless");
    assert_eq!(p2.state(), ProbeState::Disabled);
    e.k.enable(p2).unwrap();
    assert_eq!(e.p.word(a), 0xe7f0_01f8);
    assert_eq!(e.k.enable(p2), Ok(()), "enabling twice is harmless");
    e.k.unregister(p2).unwrap();
    assert_eq!(e.p.word(a), ADD_R0_R0_1, "p1 is disabled: nothing armed");
    e.k.unregister(p1).unwrap();
    assert_eq!((e.p.word(a), e.k.sites()), (ADD_R0_R0_1, 0));
}

#[test]
fn every_registration_error_leaves_text_and_registry_unchanged() {
    let e = env();
    let pr = probe(None, None, 0);
    e.p.set_word(TEXT + 40, 0xe190_0f9f); // ldrex r0, [r0]
    e.p.set_word(TEXT + 44, 0xe52d_0100); // str r0, [sp, #-256]!
    e.p.set_word(TEXT + 48, 0xe72d_0001); // str r0, [sp, -r1]!
    let before: Vec<u32> = (0..128).map(|i| e.p.word(TEXT + 4 * i)).collect();
    assert_eq!(
        e.k.register(pr, TEXT + 2),
        Err(KprobeError::Misaligned { addr: TEXT + 2 })
    );
    assert_eq!(
        e.k.register(pr, TEXT - 4),
        Err(KprobeError::OutsideText { addr: TEXT - 4 })
    );
    assert_eq!(
        e.k.register(pr, TEXT + 512),
        Err(KprobeError::OutsideText { addr: TEXT + 512 })
    );
    assert_eq!(
        e.k.register(pr, NOPROBE + 4),
        Err(KprobeError::NeverProbe {
            addr: NOPROBE + 4,
            range: (NOPROBE, NOPROBE + 16)
        })
    );
    assert_eq!(
        e.k.register(pr, TEXT + 40),
        Err(KprobeError::Rejected {
            addr: TEXT + 40,
            word: 0xe190_0f9f,
            reason: RejectReason::Exclusive
        })
    );
    assert_eq!(
        e.k.register(pr, TEXT + 44),
        Err(KprobeError::StackWrite {
            addr: TEXT + 44,
            bytes: Some(256)
        })
    );
    assert_eq!(
        e.k.register(pr, TEXT + 48),
        Err(KprobeError::StackWrite {
            addr: TEXT + 48,
            bytes: None
        })
    );
    let after: Vec<u32> = (0..128).map(|i| e.p.word(TEXT + 4 * i)).collect();
    assert_eq!(before, after);
    assert_eq!((pr.state(), e.k.sites()), (ProbeState::Unregistered, 0));
}

#[test]
fn registering_twice_or_using_an_unregistered_probe_is_an_error() {
    let e = env();
    let pr = probe(None, None, 0);
    assert_eq!(e.k.unregister(pr), Err(KprobeError::NotRegistered));
    assert_eq!(e.k.disable(pr), Err(KprobeError::NotRegistered));
    assert_eq!(e.k.enable(pr), Err(KprobeError::NotRegistered));
    e.k.register(pr, TEXT + 52).unwrap();
    assert_eq!(
        e.k.register(pr, TEXT + 56),
        Err(KprobeError::AlreadyRegistered { addr: TEXT + 52 })
    );
    assert_eq!(
        e.k.register(pr, TEXT + 52),
        Err(KprobeError::AlreadyRegistered { addr: TEXT + 52 })
    );
    e.k.unregister(pr).unwrap();
    assert_eq!(
        e.k.unregister(pr),
        Err(KprobeError::NotRegistered),
        "use after unregister"
    );
    e.k.register(pr, TEXT + 56).unwrap();
    assert_eq!(pr.addr(), Some(TEXT + 56), "re-registering elsewhere works");
}

#[test]
fn running_out_of_sites_or_probes_per_address_is_an_error() {
    let e = env();
    // N = 16: at most 8 addresses.
    for i in 0..8 {
        e.k.register(probe(None, None, i), TEXT + 200 + 4 * i)
            .unwrap();
    }
    let extra = probe(None, None, 99);
    assert_eq!(
        e.k.register(extra, TEXT + 240),
        Err(KprobeError::OutOfSites)
    );
    assert_eq!(e.p.word(TEXT + 240), 0xe320_f000, "no breakpoint written");
    for _ in 1..PROBES_PER_ADDRESS {
        e.k.register(probe(None, None, 0), TEXT + 200).unwrap();
    }
    assert_eq!(
        e.k.register(extra, TEXT + 200),
        Err(KprobeError::TooManyAtAddress { addr: TEXT + 200 })
    );
    assert_eq!(extra.state(), ProbeState::Unregistered);
}

#[test]
fn registry_calls_with_irqs_masked_or_from_inside_the_registry_are_refused_at_once() {
    let e = env();
    let (a, b) = (TEXT + 84, TEXT + 88);
    let (p1, p2) = (probe(None, None, 1), probe(None, None, 2));
    e.k.register(p1, a).unwrap();
    let masked = KprobeError::InterruptsMasked { cpu: 0 };
    let irq = e.p.mask_interrupts();
    assert_eq!(e.k.register(p2, b), Err(masked));
    assert_eq!(e.k.register_symbol(p2, &Symbols, "work", 0), Err(masked));
    assert_eq!(e.k.unregister(p1), Err(masked));
    assert_eq!(e.k.disable(p1), Err(masked));
    assert_eq!(e.k.enable(p1), Err(masked));
    assert_eq!(e.k.mechanism_of(p1), Err(masked));
    assert_eq!(e.k.optimize_pending(), Err(masked));
    assert_eq!(e.k.list(|_| {}), Err(masked));
    assert_eq!(e.k.slot_counts(), Err(masked));
    assert_eq!(e.k.allocate_slot().map(|_| ()), Err(masked));
    assert_eq!(e.k.reclaim_slots(), Err(masked));
    e.p.restore_interrupts(irq);
    assert!(
        masked.to_string().contains("IRQs masked on CPU 0"),
        "{masked}"
    );
    assert!(
        masked
            .to_string()
            .contains("enable IRQs first, e.g. `aarch32_cpu::interrupt::enable()`"),
        "{masked}"
    );

    // From the listing callback (the lock is held by this CPU): refused, not a hang.
    let mut inner = None;
    e.k.list(|_| inner = Some(e.k.register(p2, b))).unwrap();
    assert_eq!(inner, Some(Err(KprobeError::Reentered { cpu: 0 })));
    assert_eq!(p2.state(), ProbeState::Unregistered);
    assert_eq!(e.p.word(b), 0xe320_f000, "nothing written");

    // Another CPU holds the lock: a masked caller is refused at once (it would
    // spin where it cannot answer that CPU's rendezvous), an unmasked one waits.
    let (held, release) = (
        std::sync::Barrier::new(2),
        std::sync::atomic::AtomicBool::new(false),
    );
    std::thread::scope(|sc| {
        sc.spawn(|| {
            FakePlatform::become_cpu(1);
            e.k.list(|_| {
                held.wait();
                while !release.load(Ordering::Acquire) {
                    std::thread::yield_now();
                }
            })
            .unwrap();
        });
        held.wait();
        let irq = e.p.mask_interrupts();
        assert_eq!(
            e.k.register(p2, b),
            Err(masked),
            "refused while cpu 1 holds it"
        );
        e.p.restore_interrupts(irq);
        release.store(true, Ordering::Release);
        e.k.register(p2, b).unwrap();
    });
    e.k.unregister(p2).unwrap();
    e.k.unregister(p1).unwrap();
}

struct Symbols;

impl SymbolLookup for Symbols {
    fn lookup(&self, name: &str) -> Option<Range<usize>> {
        match name {
            "work" => Some(TEXT + 64..TEXT + 80),
            // 14 bytes: the word at offset 12 would run past its end.
            "short" => Some(TEXT + 64..TEXT + 78),
            // Thumb (odd start): adds; add.w; adds — 8 bytes; and the same cut after the
            // add.w's first half.
            "thumb" => Some(TEXT + 97..TEXT + 105),
            "thumb_cut" => Some(TEXT + 97..TEXT + 101),
            _ => None,
        }
    }
}

#[test]
fn probes_by_symbol_and_offset_check_the_offset() {
    let e = env();
    let pr = probe(None, None, 0);
    assert_eq!(
        e.k.register_symbol(pr, &Symbols, "nope", 0),
        Err(KprobeError::UnknownSymbol)
    );
    assert_eq!(
        e.k.register_symbol(pr, &Symbols, "work", 6),
        Err(KprobeError::MisalignedOffset { offset: 6 })
    );
    assert_eq!(
        e.k.register_symbol(pr, &Symbols, "work", 16),
        Err(KprobeError::OffsetOutsideSymbol {
            offset: 16,
            size: 16
        })
    );
    assert_eq!(
        e.k.register_symbol(pr, &Symbols, "short", 12),
        Err(KprobeError::OffsetOutsideSymbol {
            offset: 12,
            size: 14
        }),
        "the whole instruction must lie inside the symbol"
    );
    e.k.register_symbol(pr, &Symbols, "work", 12).unwrap();
    assert_eq!(pr.addr(), Some(TEXT + 76));
    e.k.unregister(pr).unwrap();

    // A Thumb function: halfword offsets, each instruction's own length.
    e.p.set_word(TEXT + 96, 0xf100_1840); // adds r0, r0, r1 ; add.w r0, r0, #3 (hw1)
    e.p.set_word(TEXT + 100, 0x3001_0003); // (hw2) ; adds r0, #1
    assert_eq!(
        e.k.register_symbol(pr, &Symbols, "thumb", 3),
        Err(KprobeError::MisalignedOffset { offset: 3 })
    );
    assert_eq!(
        e.k.register_symbol(pr, &Symbols, "thumb_cut", 2),
        Err(KprobeError::OffsetOutsideSymbol { offset: 2, size: 4 }),
        "a 32-bit instruction must lie inside the symbol"
    );
    for (offset, addr) in [(2, TEXT + 99), (6, TEXT + 103)] {
        e.k.register_symbol(pr, &Symbols, "thumb", offset).unwrap();
        assert_eq!(pr.addr(), Some(addr), "a Thumb probe at +{offset}");
        e.k.unregister(pr).unwrap();
    }
}

#[test]
fn probe_operations_from_inside_a_rendezvous_are_refused_and_change_nothing() {
    let e = env();
    let a = TEXT + 84;
    let (p1, p2, p3) = (
        probe(None, None, 1),
        probe(None, None, 2),
        probe(None, None, 3),
    );
    e.k.register(p1, a).unwrap();
    e.k.register(p2, a).unwrap();
    let results = std::sync::Mutex::new(Vec::new());
    e.r.run(e.p, RunOn::OneCpu(0), &|_| {
        let mut r = results.lock().unwrap();
        r.push(
            e.k.register(p3, TEXT + 88)
                .map_err(|e| std::format!("{e:?}")),
        );
        r.push(e.k.unregister(p2).map_err(|e| std::format!("{e:?}")));
        r.push(e.k.disable(p1).map_err(|e| std::format!("{e:?}")));
    })
    .unwrap();
    let r = results.into_inner().unwrap();
    // A rendezvous callback runs with IRQs masked: refused before the registry lock.
    assert_eq!(r, vec![Err("InterruptsMasked { cpu: 0 }".to_string()); 3]);
    assert_eq!(
        (p1.state(), p2.state(), p3.state()),
        (
            ProbeState::Enabled,
            ProbeState::Enabled,
            ProbeState::Unregistered
        )
    );
    assert_eq!(e.p.word(TEXT + 88), 0xe320_f000);
    let mut n = 0;
    e.k.list(|_| n += 1).unwrap();
    assert_eq!(n, 2);
}

#[test]
fn a_step_that_faults_natively_is_reported_not_hidden() {
    let e = env();
    let a = TEXT + 92;
    e.p.set_word(a, 0xe1c2_00d0); // ldrd r0, r1, [r2]
    e.k.register(probe(None, None, 0), a).unwrap();
    let mut f = TrapFrame {
        r: [0, 0, 0x1002, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        cpsr: 0x1f,
        ..Default::default()
    };
    assert_eq!(
        hit(e.k, a, &mut f),
        Trap::StepFailed(StepError::AlignmentFault { address: 0x1002 })
    );
    assert_eq!(f.pc as usize, a, "the frame stays at the probe");
}

#[test]
fn the_lookup_hash_gives_one_stretch_of_text_distinct_slots_and_spreads_aliases() {
    let n = 1 << 15;
    // The words of a table-sized, table-aligned stretch of text: every slot once.
    let base = 0x4000_0000;
    let mut seen = vec![false; n];
    for i in 0..n {
        let slot = hash(base + 4 * i, n);
        assert!(!seen[slot], "word {i} shares slot {slot}");
        seen[slot] = true;
    }
    // Any n - 1 consecutive words, wherever they start (across a multiple of the span
    // too): distinct slots.
    for start in [base + 4 * (n / 2), base + 4 * (n - 1), base - 4 * 3] {
        let mut seen = vec![false; n];
        for i in 0..n - 1 {
            let slot = hash(start + 4 * i, n);
            assert!(!seen[slot], "from {start:#x}: word {i} shares slot {slot}");
            seen[slot] = true;
        }
    }
    // Text a table's span (128 KiB) apart, as in modules loaded at aligned bases: the
    // same offset lands in different slots.
    let slots: std::collections::HashSet<_> =
        (0..64).map(|m| hash(base + 0x40 + m * 4 * n, n)).collect();
    assert_eq!(slots.len(), 64);
    // Any table size works (one slot, not a power of two).
    assert_eq!(hash(base + 0x1234, 1), 0);
    assert!(hash(base + 0x1234, 1000) < 1000);
}

#[test]
fn lookup_finds_every_site_among_many_with_collisions() {
    let e = env();
    let probes: Vec<_> = (0..8).map(|i| probe(None, None, i)).collect();
    // Eight addresses in a 16-entry table: seven share their first probe position.
    assert!((2..8).all(|i| hash(TEXT + 60 * i, 16) == hash(TEXT + 60, 16)));
    for (i, p) in probes.iter().enumerate() {
        e.k.register(p, TEXT + 60 * i).unwrap();
    }
    for (i, p) in probes.iter().enumerate() {
        let mut f = TrapFrame {
            cpsr: 0x1f,
            ..Default::default()
        };
        assert_eq!(hit(e.k, TEXT + 60 * i, &mut f), Trap::Handled);
        assert_eq!(p.hits(), 1);
    }
    // Remove every other one; the rest stay reachable past the tombstones.
    for p in probes.iter().step_by(2) {
        e.k.unregister(p).unwrap();
    }
    for (i, p) in probes.iter().enumerate().skip(1).step_by(2) {
        let mut f = TrapFrame {
            cpsr: 0x1f,
            ..Default::default()
        };
        assert_eq!(hit(e.k, TEXT + 60 * i, &mut f), Trap::Handled);
        assert_eq!(p.hits(), 2);
    }
}

#[test]
fn kprobe_errors_read_as_sentences() {
    let all = [
        KprobeError::Misaligned { addr: 2 },
        KprobeError::OutsideText { addr: 4 },
        KprobeError::NeverProbe {
            addr: 4,
            range: (0, 8),
        },
        KprobeError::Rejected {
            addr: 4,
            word: 0,
            reason: RejectReason::Exclusive,
        },
        KprobeError::StackWrite {
            addr: 4,
            bytes: Some(256),
        },
        KprobeError::StackWrite {
            addr: 4,
            bytes: None,
        },
        KprobeError::AlreadyRegistered { addr: 4 },
        KprobeError::NotRegistered,
        KprobeError::OutOfSites,
        KprobeError::TooManyAtAddress { addr: 4 },
        KprobeError::UnknownSymbol,
        KprobeError::OffsetOutsideSymbol { offset: 8, size: 4 },
        KprobeError::MisalignedOffset { offset: 2 },
        KprobeError::Patch(PatchError::Misaligned { addr: 2 }),
        KprobeError::Rendezvous(RendezvousError::CallerNotOnline { cpu: 9 }),
        KprobeError::InterruptsMasked { cpu: 1 },
        KprobeError::Reentered { cpu: 1 },
        KprobeError::Slot(SlotError::Exhausted),
        KprobeError::Slot(SlotError::Claimed(crate::claims::ClaimError::Full)),
        KprobeError::Slot(SlotError::Claimed(crate::claims::ClaimError::Overlaps {
            start: 0x1000,
            end: 0x2000,
        })),
        KprobeError::ForeignProbe {
            addr: 4,
            word: 0xe7f0_01f8,
        },
        KprobeError::Overlaps { addr: 3, probed: 1 },
    ];
    let texts: Vec<_> = all.iter().map(|e| e.to_string()).collect();
    for (i, t) in texts.iter().enumerate() {
        assert!(!t.is_empty() && !texts[..i].contains(t), "{t}");
    }
    assert!(texts[0].contains("not 4-byte aligned"));
}

#[test]
fn kprobe_error_debug_prints_addresses_in_hex() {
    assert_eq!(
        format!("{:?}", KprobeError::Misaligned { addr: 0x1002 }),
        "Misaligned { addr: 0x1002 }"
    );
    assert_eq!(
        format!(
            "{:?}",
            KprobeError::NeverProbe {
                addr: 0x1004,
                range: (0x1000, 0x2000)
            }
        ),
        "NeverProbe { addr: 0x1004, range: (0x1000, 0x2000) }"
    );
    assert_eq!(
        format!(
            "{:?}",
            KprobeError::ForeignProbe {
                addr: 0x8000_0000,
                word: 0xe7f0_01f8
            }
        ),
        "ForeignProbe { addr: 0x80000000, word: 0xe7f001f8 }"
    );
    assert_eq!(
        format!("{:?}", KprobeError::InterruptsMasked { cpu: 3 }),
        "InterruptsMasked { cpu: 3 }"
    );
    assert_eq!(
        format!(
            "{:?}",
            KprobeError::Patch(PatchError::OutsideText { addr: 0x40 })
        ),
        "Patch(OutsideText { addr: 0x40 })"
    );
}

fn fast_probe(k: &Reg, addr: usize) -> *const Kprobe {
    k.find(addr).expect("site").1.fast.load(Ordering::Relaxed)
}

#[test]
fn the_fast_path_is_taken_exactly_for_a_sites_one_enabled_probe() {
    let e = env();
    let a = TEXT + 40;
    e.p.set_word(a, ADD_R0_R0_1);
    let (p1, p2, with_post) = (
        probe(None, None, 1),
        probe(None, None, 2),
        probe(None, Some(record_post), 3),
    );
    let mut f = TrapFrame {
        cpsr: 0x1f,
        ..Default::default()
    };
    e.k.register(p1, a).unwrap();
    assert_eq!(
        fast_probe(e.k, a),
        p1 as *const Kprobe,
        "one probe, pre only"
    );
    hit(e.k, a, &mut f);
    assert_eq!((p1.hits(), f.r[0]), (1, 1), "counted and stepped");
    e.k.register(p2, a).unwrap();
    assert!(fast_probe(e.k, a).is_null(), "two probes: the general path");
    hit(e.k, a, &mut f);
    assert_eq!((p1.hits(), p2.hits(), f.r[0]), (2, 1, 2));
    e.k.disable(p1).unwrap();
    assert!(
        fast_probe(e.k, a).is_null(),
        "a disabled probe is still listed"
    );
    e.k.unregister(p1).unwrap();
    assert_eq!(fast_probe(e.k, a), p2 as *const Kprobe, "p2 alone again");
    e.k.disable(p2).unwrap();
    assert!(fast_probe(e.k, a).is_null(), "disabled");
    e.k.enable(p2).unwrap();
    assert_eq!(fast_probe(e.k, a), p2 as *const Kprobe, "enabled again");
    hit(e.k, a, &mut f);
    assert_eq!((p2.hits(), f.r[0]), (2, 3));
    e.k.unregister(p2).unwrap();
    e.k.register(with_post, a).unwrap();
    assert_eq!(
        fast_probe(e.k, a),
        with_post as *const Kprobe,
        "a post handler too"
    );
    let site = e.k.find(a).expect("site").1;
    assert!(
        site.fast_pre_only.load(Ordering::Relaxed).is_null(),
        "but not for a direct slot's fast path"
    );
    e.k.unregister(with_post).unwrap();
}
