//! Optimized Thumb probes against the fakes: which Thumb sites are candidates, the branch
//! and the copy a 32-bit one gets, halfwords of two sites in one word, and the callback's
//! two ways (run the copy of the original, or step).

use super::optimized::opt_env;
use super::*;
use crate::insn::{Cond, ThumbBranch};
use crate::optprobe::{self, THUMB_ENTRY, Variant};

const SLOTS: usize = 0x10_0000;
/// SYS mode, A32 state: the CPSR a Thumb copy's frame has before its callback.
const SYS: u32 = 0x1f;

/// The halfword at `at` in the fake text.
fn half(e: &Env, at: usize) -> u16 {
    (e.p.word(at & !3) >> ((at & 2) * 8)) as u16
}

/// Writes `hw` at the halfword address `at`, keeping the other half of its word.
fn set_half(e: &Env, at: usize, hw: u16) {
    let shift = (at & 2) * 8;
    let w = e.p.word(at & !3) & !(0xffff << shift) | u32::from(hw) << shift;
    e.p.set_word(at & !3, w);
}

/// The Thumb branch at `at`.
fn branch_at(e: &Env, at: usize) -> ThumbBranch {
    ThumbBranch::decode(half(e, at), half(e, at + 2), at as u32)
        .unwrap_or_else(|| panic!("no b.w at {at:#x}: {:#06x}", half(e, at)))
}

/// Fills `words` halfwords of text from `at` with `nop` (0xbf00: an IT-like byte pattern
/// with a zero mask, which is no IT).
fn nops(e: &Env, at: usize, count: usize) {
    for i in 0..count {
        set_half(e, at + 2 * i, 0xbf00);
    }
}

fn bump_r1(_: &Kprobe, f: &mut TrapFrame) {
    f.r[1] = f.r[1].wrapping_add(1);
}

fn to_arm(_: &Kprobe, f: &mut TrapFrame) {
    f.pc = 0x9000;
}

fn post_r2(_: &Kprobe, f: &mut TrapFrame) {
    f.r[2] = f.r[0];
}

#[test]
fn a_32_bit_thumb_site_branches_to_its_copys_thumb_entry_and_the_copy_can_run_it() {
    let e = opt_env(SLOTS, 4);
    let a = TEXT + 18; // 2 mod 4: the instruction and its branch lie across two words
    nops(&e, TEXT, 16);
    set_half(&e, a, 0xeb01); // add.w r0, r1, r2
    set_half(&e, a + 2, 0x0002);
    let p = probe(Some(bump_r1), None, 0);
    e.k.register(p, a | 1).unwrap();
    assert_eq!(
        e.k.mechanism_of(p),
        Ok(Mechanism::Breakpoint),
        "a candidate"
    );
    let report = e.k.optimize_pending().unwrap();
    assert_eq!((report.optimized, report.rendezvous), (1, 1));
    assert_eq!(
        e.k.mechanism_of(p),
        Ok(Mechanism::Optimized(Variant::Direct))
    );
    let t = optprobe::template();
    let l = t.layout();
    let b = branch_at(&e, a);
    assert_eq!(b.cond(), Cond::Al, "b.w (T4)");
    let slot = b.target() as usize - t.thumb_entry() as usize;
    assert!((SLOTS..SLOTS + 4 * 256).contains(&slot), "{slot:#x}");
    let hole = |off: u32| e.p.word(slot + off as usize);
    assert_eq!(hole(t.thumb_entry()), THUMB_ENTRY);
    assert_eq!(hole(l.insn), 0x0002_eb01, "the original, in memory order");
    assert_eq!(
        ThumbBranch::decode(
            hole(l.back) as u16,
            (hole(l.back) >> 16) as u16,
            (slot as u32) + l.back
        ),
        Some(ThumbBranch::B {
            target: a as u32 + 4
        }),
        "b.w back after the probed instruction"
    );
    assert_eq!(hole(l.pc), a as u32, "the frame's pc: the halfword address");
    assert_eq!(
        hole(l.fast),
        (slot as u32 + l.insn) | 1,
        "the callback's `run`"
    );
    assert_eq!(
        hole(l.callback),
        5,
        "the Thumb direct callback (host stand-in)"
    );
    assert_eq!(
        [half(&e, a - 2), half(&e, a + 4)],
        [0xbf00, 0xbf00],
        "neighbours kept"
    );

    // The callback: a pre handler only runs the copy (in Thumb state, bit 0 set).
    let (_, site) = e.k.find(a | 1).unwrap();
    let mut f = TrapFrame {
        cpsr: SYS,
        pc: a as u32,
        ..Default::default()
    };
    f.r[1] = 10;
    f.r[2] = 5;
    let run = (slot + l.insn as usize) | 1;
    assert_eq!(
        e.k.thumb_direct_hit(site, &mut f, &mut Mem::default(), run),
        1
    );
    assert_eq!(f.pc as usize, run, "resumes at the copy of the original");
    assert_eq!(f.cpsr, SYS | step::psr::T, "the frame is the Thumb code's");
    assert_eq!(
        (f.r[0], f.r[1], p.hits()),
        (0, 11, 1),
        "the handler ran, not the add"
    );

    // With a post handler the callback steps it and resumes after it, in Thumb state.
    let q = probe(None, Some(post_r2), 1);
    e.k.register(q, a | 1).unwrap();
    let mut f = TrapFrame {
        cpsr: SYS,
        pc: a as u32,
        ..Default::default()
    };
    f.r[1] = 10;
    f.r[2] = 5;
    assert_eq!(
        e.k.thumb_direct_hit(site, &mut f, &mut Mem::default(), run),
        1
    );
    assert_eq!(
        f.pc as usize,
        (a + 4) | 1,
        "stepped; bit 0 for the interworking load"
    );
    assert_eq!(
        (f.r[0], f.r[2]),
        (16, 16),
        "add.w stepped (r1 bumped), then post"
    );
    assert_eq!(f.cpsr, SYS | step::psr::T);

    e.k.unregister(q).unwrap();

    // A handler that moves pc: the copy resumes there, not at `run`.
    let r = probe(Some(to_arm), None, 2);
    e.k.unregister(p).unwrap();
    e.k.register(r, a | 1).unwrap();
    let mut f = TrapFrame {
        cpsr: SYS,
        pc: a as u32,
        ..Default::default()
    };
    assert_eq!(
        e.k.thumb_direct_hit(site, &mut f, &mut Mem::default(), run),
        1
    );
    assert_eq!(
        (f.pc, f.cpsr),
        (0x9001, SYS | step::psr::T),
        "an even pc keeps the frame's Thumb state, as on the breakpoint path (bit 0 set \
         for the interworking load)"
    );
    e.k.unregister(r).unwrap();
    assert_eq!([half(&e, a), half(&e, a + 2)], [0xeb01, 0x0002], "restored");
    assert_eq!([half(&e, a - 2), half(&e, a + 4)], [0xbf00, 0xbf00]);
    e.k.reclaim_slots().unwrap();
    assert_eq!(e.k.slot_counts().unwrap().unwrap().in_use, 0);
}

#[test]
fn a_conditional_branch_keeps_its_condition_and_a_pc_user_is_only_stepped() {
    let e = opt_env(SLOTS, 4);
    nops(&e, TEXT, 16);
    let (c, r) = (TEXT + 4, TEXT + 10);
    set_half(&e, c, 0xf000); // beq.w +0
    set_half(&e, c + 2, 0x8000);
    set_half(&e, r, 0xf8df); // ldr.w r0, [pc, #4]
    set_half(&e, r + 2, 0x0004);
    let (pc_, pr) = (probe(None, None, 0), probe(None, None, 1));
    e.k.register(pc_, c | 1).unwrap();
    e.k.register(pr, r | 1).unwrap();
    assert_eq!(e.k.optimize_pending().unwrap().optimized, 2);
    for (at, p, cond) in [(c, pc_, Cond::Eq), (r, pr, Cond::Al)] {
        assert_eq!(
            e.k.mechanism_of(p),
            Ok(Mechanism::Optimized(Variant::StepOnly))
        );
        let b = branch_at(&e, at);
        assert_eq!(b.cond(), cond, "{at:#x}");
        let t = optprobe::template();
        let slot = b.target() as usize - t.thumb_entry() as usize;
        let l = t.layout();
        let hole = |off: u32| e.p.word(slot + off as usize);
        assert_eq!(
            (hole(l.insn), hole(l.back)),
            (optprobe::NEVER_RUN, optprobe::NEVER_RUN),
            "a step-only copy never runs its original"
        );
        assert_eq!(
            hole(l.callback),
            6,
            "the Thumb step callback (host stand-in)"
        );
    }
    // The step callback: the literal load reads Align(PC, 4) + 4 through memory.
    let (_, site) = e.k.find(r | 1).unwrap();
    let mut f = TrapFrame {
        cpsr: SYS,
        pc: r as u32,
        ..Default::default()
    };
    let mut mem = Mem::default();
    let literal = ((r + 4) & !3) + 4;
    mem.write_u32(literal as u32, 0x1234_5678).unwrap();
    assert_eq!(e.k.thumb_optimized_hit(site, &mut f, &mut mem, 0, false), 1);
    assert_eq!((f.r[0], f.pc as usize), (0x1234_5678, (r + 4) | 1));
    e.k.unregister(pc_).unwrap();
    e.k.unregister(pr).unwrap();
    assert_eq!([half(&e, c), half(&e, c + 2)], [0xf000, 0x8000]);
    assert_eq!([half(&e, r), half(&e, r + 2)], [0xf8df, 0x0004]);
}

#[test]
fn two_sites_sharing_a_word_are_optimized_in_one_rendezvous_halfword_by_halfword() {
    let e = opt_env(SLOTS, 4);
    nops(&e, TEXT, 16);
    // add.w r0, r0, #1 at +2 and +6: the word at +4 holds the second half of the first
    // and the first half of the second.
    let (a, b) = (TEXT + 2, TEXT + 6);
    for at in [a, b] {
        set_half(&e, at, 0xf100);
        set_half(&e, at + 2, 0x0001);
    }
    let (pa, pb) = (probe(None, None, 0), probe(None, None, 1));
    e.k.register(pa, a | 1).unwrap();
    e.k.register(pb, b | 1).unwrap();
    let before = e.r.completed();
    e.r.cache_ops().take_log(0);
    assert_eq!(e.k.optimize_pending().unwrap().optimized, 2);
    assert_eq!(e.r.completed().wrapping_sub(before), 1, "one rendezvous");
    // Only final words are stored: never the shared word with one site's halfword new
    // and the other's old (where maintenance is not broadcast, a CPU that has already
    // invalidated its caches could fetch that mix).
    let shared = e.p.word(TEXT + 4);
    for op in e.r.cache_ops().take_log(0) {
        if let crate::fakes::CacheOp::Store { addr, word } = op {
            assert!(
                addr != TEXT + 4 || word == shared,
                "stored {word:#010x} at {addr:#x}, final {shared:#010x}"
            );
        }
    }
    let (ba, bb) = (branch_at(&e, a), branch_at(&e, b));
    assert_ne!(ba.target(), bb.target(), "a slot each");
    assert_eq!([half(&e, TEXT), half(&e, b + 4)], [0xbf00, 0xbf00]);
    e.k.unregister(pa).unwrap();
    assert_eq!(branch_at(&e, b), bb, "the other site's branch kept");
    assert_eq!([half(&e, a), half(&e, a + 2)], [0xf100, 0x0001]);
    e.k.unregister(pb).unwrap();
    assert_eq!([half(&e, b), half(&e, b + 2)], [0xf100, 0x0001]);
}

#[test]
fn a_site_an_it_instruction_may_cover_stays_a_breakpoint_and_says_why() {
    let e = opt_env(SLOTS, 4);
    nops(&e, TEXT, 32);
    let a = TEXT + 30;
    set_half(&e, a, 0xf100); // add.w r0, r0, #1
    set_half(&e, a + 2, 0x0001);
    // `ite eq` 14 bytes before: its block could reach the site. 16 bytes before: not.
    for (it_at, optimized) in [(a - 14, false), (a - 2, false), (a - 16, true)] {
        nops(&e, TEXT, 15);
        set_half(&e, it_at, 0xbf0c);
        let p = probe(None, None, 0);
        e.k.register(p, a | 1).unwrap();
        let report = e.k.optimize_pending().unwrap();
        let mechanism = e.k.mechanism_of(p).unwrap();
        if optimized {
            assert_eq!(report.optimized, 1, "IT at {:#x}", a - it_at);
            assert_eq!(mechanism, Mechanism::Optimized(Variant::Direct));
        } else {
            assert_eq!(
                report,
                OptimizeReport::default(),
                "IT {} bytes before",
                a - it_at
            );
            assert_eq!(
                mechanism,
                Mechanism::NotOptimized(NotOptimized::MaybeInItBlock)
            );
            let why = std::format!("{mechanism}");
            assert!(why.contains("IT block"), "{why}");
        }
        e.k.unregister(p).unwrap();
        e.k.reclaim_slots().unwrap();
    }
    // At the start of text, halfwords before it are not read.
    nops(&e, TEXT, 4);
    set_half(&e, TEXT, 0xf100);
    set_half(&e, TEXT + 2, 0x0001);
    let p = probe(None, None, 0);
    e.k.register(p, TEXT | 1).unwrap();
    assert_eq!(e.k.optimize_pending().unwrap().optimized, 1);
    e.k.unregister(p).unwrap();
}

#[test]
fn another_registrys_thumb_branch_into_a_slot_region_is_a_foreign_probe() {
    let e = opt_env(SLOTS, 4);
    nops(&e, TEXT, 16);
    let a = TEXT + 8;
    let [hw1, hw2] = ThumbBranch::B {
        target: SLOTS as u32 + 0x40,
    }
    .encode(a as u32)
    .unwrap();
    set_half(&e, a, hw1);
    set_half(&e, a + 2, hw2);
    let p = probe(None, None, 0);
    assert_eq!(
        e.k.register(p, a | 1),
        Err(KprobeError::ForeignProbe {
            addr: a | 1,
            word: u32::from(hw1) << 16 | u32::from(hw2)
        })
    );
    // A b.w into kernel text is an instruction like any other.
    let [hw1, hw2] = ThumbBranch::B {
        target: TEXT as u32,
    }
    .encode(a as u32)
    .unwrap();
    set_half(&e, a, hw1);
    set_half(&e, a + 2, hw2);
    e.k.register(p, a | 1).unwrap();
    e.k.unregister(p).unwrap();
}
