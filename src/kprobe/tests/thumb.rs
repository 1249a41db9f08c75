//! Thumb probes on the fake platform: registration of both sizes (one word, or across
//! two), the breakpoint halfwords, a hit stepping the original, IT blocks, every refusal.

use super::*;
use crate::step::{it_state, with_it_state};

/// SYS mode, Thumb state.
const THUMB_SYS: u32 = 0x3f;

fn thumb_frame(r0: u32) -> TrapFrame {
    let mut f = TrapFrame {
        cpsr: THUMB_SYS,
        ..Default::default()
    };
    f.r[0] = r0;
    f
}

fn count_pre(p: &Kprobe, _: &mut TrapFrame) {
    p.data(); // the hit count is the probe's own
}

#[test]
fn a_16_bit_thumb_probe_puts_udf_over_its_halfword_only_and_steps_the_original() {
    let e = env();
    let a = TEXT + 16;
    e.p.set_word(a, 0xbf00_3001); // adds r0, #1 ; nop
    let (p1, p2) = (probe(Some(count_pre), None, 1), probe(None, None, 2));
    e.k.register(p1, a + 1).unwrap();
    assert_eq!(
        e.p.word(a),
        0xbf00_de18,
        "udf #0x18 over adds, the nop untouched"
    );
    assert_eq!(
        p1.addr(),
        Some(a + 1),
        "the address as registered, bit 0 included"
    );
    e.k.register(p2, a + 3).unwrap();
    assert_eq!(e.p.word(a), 0xde18_de18, "two 16-bit probes share the word");

    let mut f = thumb_frame(41);
    assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
    assert_eq!(
        (f.r[0], f.pc as usize),
        (42, a + 2),
        "stepped, pc past 2 bytes"
    );
    assert_eq!(f.cpsr, THUMB_SYS, "adds: 42 sets no flag, Thumb state kept");
    assert_eq!(p1.hits(), 1);
    let mut f = thumb_frame(0);
    assert_eq!(hit(e.k, a + 2, &mut f), Trap::Handled);
    assert_eq!(f.pc as usize, a + 4, "the nop stepped");
    assert_eq!(
        e.k.mechanism_of(p1),
        Ok(Mechanism::NotOptimized(NotOptimized::ThumbNarrow)),
        "says why from the start"
    );
    e.k.optimize_pending().unwrap();
    assert_eq!(
        e.k.mechanism_of(p1),
        Ok(Mechanism::NotOptimized(NotOptimized::ThumbNarrow))
    );
    assert_eq!(e.p.word(a), 0xde18_de18, "still breakpoints");
    let why = std::format!("{}", Mechanism::NotOptimized(NotOptimized::ThumbNarrow));
    assert!(why.contains("16-bit Thumb"), "{why}");

    e.k.unregister(p1).unwrap();
    assert_eq!(e.p.word(a), 0xde18_3001);
    e.k.unregister(p2).unwrap();
    assert_eq!(e.p.word(a), 0xbf00_3001, "byte for byte");
    assert_eq!(e.k.sites(), 0);
}

#[test]
fn a_32_bit_thumb_probe_across_two_words_is_armed_stepped_and_restored() {
    let e = env();
    let a = TEXT + 34; // 2 mod 4: hw1 is the high half of one word, hw2 the low of the next
    e.p.set_word(TEXT + 32, 0xf100_bf00); // nop ; add.w r0, r0, #1 (hw1)
    e.p.set_word(TEXT + 36, 0xbf00_0001); // (hw2) ; nop
    let pr = probe(Some(count_pre), None, 0);
    e.k.register(pr, a + 1).unwrap();
    assert_eq!(
        [e.p.word(TEXT + 32), e.p.word(TEXT + 36)],
        [0xf7f0_bf00, 0xbf00_a018],
        "udf.w #0x18 over both halfwords, its neighbours untouched"
    );
    let mut f = thumb_frame(41);
    assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
    assert_eq!((f.r[0], f.pc as usize), (42, a + 4), "pc past 4 bytes");
    e.k.unregister(pr).unwrap();
    assert_eq!(
        [e.p.word(TEXT + 32), e.p.word(TEXT + 36)],
        [0xf100_bf00, 0xbf00_0001]
    );
}

#[test]
fn pc_relative_thumb_instructions_read_the_thumb_pc() {
    let e = env();
    let a = TEXT + 50; // 2 mod 4: Align(PC, 4) differs from PC
    e.p.set_word(TEXT + 48, 0x4478_bf00); // nop ; add r0, pc
    e.p.set_word(TEXT + 52, 0xbf00_a001); // adr r0, #4 ; nop
    let (p1, p2) = (probe(None, None, 0), probe(None, None, 0));
    e.k.register(p1, a + 1).unwrap();
    e.k.register(p2, a + 3).unwrap();
    let mut f = thumb_frame(1);
    assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
    assert_eq!(
        f.r[0] as usize,
        1 + a + 4,
        "ADD reads PC = address + 4, unaligned"
    );
    let mut f = thumb_frame(0);
    assert_eq!(hit(e.k, a + 2, &mut f), Trap::Handled);
    assert_eq!(
        f.r[0] as usize,
        ((a + 2 + 4) & !3) + 4,
        "ADR reads Align(PC, 4)"
    );
}

fn never_called(_: &Kprobe, _: &mut TrapFrame) {
    panic!("a handler ran although the IT condition failed");
}

/// In an IT block the breakpoint runs under the block's condition. A core may trap on
/// it even when that fails (IMPLEMENTATION DEFINED): then no handler runs, and the
/// instruction is skipped with ITSTATE advanced, as the CPU would.
#[test]
fn a_thumb_probe_in_an_it_block_fires_only_when_the_condition_passes() {
    let e = env();
    let a = TEXT + 60;
    e.p.set_word(a, 0xbf00_3001); // (it eq) adds r0, #1 -> add r0, #1 in the block
    let quiet = probe(Some(never_called), Some(never_called), 0);
    e.k.register(quiet, a + 1).unwrap();
    let it_eq_one = 0b0000_1000; // firstcond EQ, one instruction
    let mut f = thumb_frame(41);
    f.cpsr = with_it_state(THUMB_SYS, it_eq_one);
    assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
    assert_eq!((f.r[0], f.pc as usize), (41, a + 2), "skipped");
    assert_eq!(it_state(f.cpsr), 0, "the IT block is over");
    assert_eq!(quiet.hits(), 0);
    e.k.unregister(quiet).unwrap();

    let counted = probe(Some(count_pre), None, 0);
    e.k.register(counted, a + 1).unwrap();
    let mut f = thumb_frame(41);
    f.cpsr = with_it_state(THUMB_SYS | Z, it_eq_one);
    assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
    assert_eq!((f.r[0], f.pc as usize), (42, a + 2), "stepped under EQ");
    assert_eq!(
        f.cpsr,
        THUMB_SYS | Z,
        "ADD in an IT block sets no flags; IT done"
    );
    assert_eq!(counted.hits(), 1);
}

#[test]
fn every_thumb_registration_error_leaves_text_and_registry_unchanged() {
    let e = env();
    let pr = probe(None, None, 0);
    e.p.set_word(TEXT + 64, 0xde18_bf08); // it eq ; udf #0x18
    e.p.set_word(TEXT + 68, 0xa018_f7f0); // udf.w #0x18
    e.p.set_word(TEXT + 72, 0x0dff_f84d); // str r0, [sp, #-255]!
    e.p.set_word(TEXT + 76, 0x0001_f84d); // str.w r0, [sp, r1]
    e.p.set_word(TEXT + 80, 0xbf00_deff); // udf #0xff (not ours: UNDEFINED)
    e.p.set_word(NOPROBE - 4, 0xf100_bf00); // add.w whose hw2 is in the never-probe range
    let text_end = TEXT + 4 * 128;
    e.p.set_word(text_end - 4, 0xf100_bf00); // add.w whose hw2 is past the text
    let before: Vec<u32> = (0..128).map(|i| e.p.word(TEXT + 4 * i)).collect();
    let cases = [
        (
            TEXT + 65,
            KprobeError::Rejected {
                addr: TEXT + 65,
                word: 0xbf08,
                reason: RejectReason::IfThen,
            },
        ),
        (
            TEXT + 67,
            KprobeError::ForeignProbe {
                addr: TEXT + 67,
                word: 0xde18,
            },
        ),
        (
            TEXT + 69,
            KprobeError::ForeignProbe {
                addr: TEXT + 69,
                word: 0xf7f0_a018,
            },
        ),
        (
            TEXT + 73,
            KprobeError::StackWrite {
                addr: TEXT + 73,
                bytes: Some(255),
            },
        ),
        (
            TEXT + 77,
            KprobeError::StackWrite {
                addr: TEXT + 77,
                bytes: None,
            },
        ),
        (
            TEXT + 81,
            KprobeError::Rejected {
                addr: TEXT + 81,
                word: 0xdeff,
                reason: RejectReason::Undefined,
            },
        ),
        (
            NOPROBE - 1,
            KprobeError::NeverProbe {
                addr: NOPROBE - 1,
                range: (NOPROBE, NOPROBE + 16),
            },
        ),
        (
            NOPROBE + 5,
            KprobeError::NeverProbe {
                addr: NOPROBE + 5,
                range: (NOPROBE, NOPROBE + 16),
            },
        ),
        (
            text_end - 1,
            KprobeError::OutsideText { addr: text_end - 1 },
        ),
        (
            text_end + 1,
            KprobeError::OutsideText { addr: text_end + 1 },
        ),
    ];
    for (addr, expected) in cases {
        assert_eq!(e.k.register(pr, addr), Err(expected), "{addr:#x}");
        assert_eq!(pr.state(), ProbeState::Unregistered);
    }
    let after: Vec<u32> = (0..128).map(|i| e.p.word(TEXT + 4 * i)).collect();
    assert_eq!(before, after, "text unchanged");
    assert_eq!(e.k.sites(), 0);
}

/// A Thumb probe inside a probed 32-bit Thumb instruction or a probed A32 word, or the
/// other way round, is refused: arming one would corrupt the other.
#[test]
fn probes_whose_instructions_overlap_are_refused() {
    let e = env();
    let (p1, p2, p3, p4) = (
        probe(None, None, 0),
        probe(None, None, 0),
        probe(None, None, 0),
        probe(None, None, 0),
    );
    let q = probe(None, None, 0);
    e.p.set_word(TEXT + 100, 0x0001_f100); // add.w r0, r0, #1 at a word
    e.p.set_word(TEXT + 108, 0xf100_bf00); // nop ; add.w r0, r0, #1 (hw1)
    e.p.set_word(TEXT + 112, 0x3001_0001); // (hw2) ; adds r0, #1
    e.p.set_word(TEXT + 116, ADD_R0_R0_1); // A32
    let before: Vec<u32> = (0..128).map(|i| e.p.word(TEXT + 4 * i)).collect();

    e.k.register(p1, TEXT + 101).unwrap(); // the aligned add.w
    e.k.register(p2, TEXT + 111).unwrap(); // the straddling add.w
    e.k.register(p3, TEXT + 116).unwrap(); // the A32 word
    let armed: Vec<u32> = (0..128).map(|i| e.p.word(TEXT + 4 * i)).collect();
    let cases = [
        (TEXT + 103, TEXT + 101), // Thumb in the second half of a 32-bit Thumb probe
        (TEXT + 100, TEXT + 101), // an A32 word holding a 32-bit Thumb probe
        (TEXT + 108, TEXT + 111), // an A32 word holding its first half
        (TEXT + 112, TEXT + 111), // and its second
        (TEXT + 113, TEXT + 111), // Thumb in its second half
        (TEXT + 117, TEXT + 116), // Thumb inside an A32 probe
        (TEXT + 119, TEXT + 116), // the second halfword of an A32 probe
    ];
    for (addr, probed) in cases {
        assert_eq!(
            e.k.register(q, addr),
            Err(KprobeError::Overlaps { addr, probed }),
            "{addr:#x}"
        );
        assert_eq!(q.state(), ProbeState::Unregistered);
    }
    let after: Vec<u32> = (0..128).map(|i| e.p.word(TEXT + 4 * i)).collect();
    assert_eq!(armed, after, "the refusals wrote nothing");
    // The 16-bit instruction after the straddling one is its own: allowed.
    e.k.register(p4, TEXT + 115).unwrap();
    for p in [p1, p2, p3, p4] {
        e.k.unregister(p).unwrap();
    }
    let restored: Vec<u32> = (0..128).map(|i| e.p.word(TEXT + 4 * i)).collect();
    assert_eq!(before, restored, "text restored");
    // A 32-bit Thumb instruction whose second half is a probed 16-bit one.
    e.p.set_word(TEXT + 120, 0xf100_bf00); // nop ; hw1 of add.w
    e.p.set_word(TEXT + 124, 0xbf00_3001); // hw2 = adds r0, #1 read as a 16-bit insn
    e.k.register(p1, TEXT + 125).unwrap();
    assert_eq!(
        e.k.register(q, TEXT + 123),
        Err(KprobeError::Overlaps {
            addr: TEXT + 123,
            probed: TEXT + 125
        })
    );
    e.k.unregister(p1).unwrap();
}

fn redirect_to_a32(_: &Kprobe, f: &mut TrapFrame) {
    // A32 code at TEXT + 0x40: bit 0 clear, and the state is chosen by the handler
    // clearing CPSR.T itself (a pc with bit 0 clear keeps the frame's state).
    f.pc = (TEXT + 0x40) as u32;
    f.cpsr &= !0x20;
}

fn redirect_to_thumb(_: &Kprobe, f: &mut TrapFrame) {
    f.pc = (TEXT + 0x42) as u32 | 1;
}

/// A pre handler that moves `pc` decides where a Thumb hit resumes, on the fast path
/// (one pre-only probe) as on the general path (with a post handler, which then does
/// not run): the step is skipped.
#[test]
fn a_thumb_probes_handler_can_redirect() {
    let e = env();
    let a = TEXT + 16;
    e.p.set_word(a, 0xbf00_3001); // adds r0, #1 ; nop
    for (pre, post) in [
        (redirect_to_a32 as Handler, None),
        (redirect_to_a32, Some(never_called as Handler)),
    ] {
        let pr = probe(Some(pre), post, 0);
        e.k.register(pr, a + 1).unwrap();
        let mut f = thumb_frame(41);
        assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
        assert_eq!((f.r[0], f.pc as usize), (41, TEXT + 0x40), "not stepped");
        assert_eq!(f.cpsr & 0x20, 0, "A32 state");
        e.k.unregister(pr).unwrap();
    }
    let pr = probe(Some(redirect_to_thumb), None, 0);
    e.k.register(pr, a + 1).unwrap();
    let mut f = thumb_frame(41);
    assert_eq!(hit(e.k, a, &mut f), Trap::Handled);
    assert_eq!((f.r[0], f.pc as usize), (41, TEXT + 0x42));
    assert_ne!(f.cpsr & 0x20, 0, "Thumb state");
    e.k.unregister(pr).unwrap();
}

#[test]
fn a_thumb_conditional_branch_fires_only_when_its_own_condition_passes() {
    let e = env();
    let (n, w) = (TEXT + 64, TEXT + 70);
    e.p.set_word(TEXT + 64, 0xbf00_d001); // beq +2 (T1) ; nop
    e.p.set_word(TEXT + 68, 0xf000_bf00); // nop ; beq.w +0 (T3, hw1)
    e.p.set_word(TEXT + 72, 0xbf00_8000); // (hw2) ; nop
    let (pn, pw) = (
        probe(Some(count_pre), None, 0),
        probe(Some(count_pre), None, 1),
    );
    e.k.register(pn, n | 1).unwrap();
    e.k.register(pw, w | 1).unwrap();
    for (at, p, len, taken) in [(n, pn, 2, n + 4 + 2), (w, pw, 4, w + 4)] {
        let mut f = thumb_frame(0);
        assert_eq!(hit(e.k, at, &mut f), Trap::Handled);
        assert_eq!(
            (f.pc as usize, p.hits()),
            (at + len, 0),
            "Z clear: skipped, no handler"
        );
        let mut f = thumb_frame(0);
        f.cpsr |= Z;
        assert_eq!(hit(e.k, at, &mut f), Trap::Handled);
        assert_eq!(
            (f.pc as usize, p.hits()),
            (taken, 1),
            "Z set: the handler ran, the branch was taken"
        );
    }
    e.k.unregister(pn).unwrap();
    e.k.unregister(pw).unwrap();
}
