//! Runs the decoders over a sample of the A32 space and of the 32-bit Thumb space, and over
//! every T16 halfword, in every `cargo test` and counts the verdicts; each sampled
//! instruction the decoder accepts is also stepped, so an overflow or a bad shift in a step
//! engine panics in a debug build. The whole spaces (2^32 A32 words, every T32 pair) are
//! swept by `examples/decode_sweep.rs`, which `.ci/run` runs in release.

mod verdicts;

use armv7_kprobes::TrapFrame;
use armv7_kprobes::decode::{
    Decoded, ItPosition, RejectReason, SimKind, T16Decoded, T16Kind, T32Decoded, T32Kind, decode,
    decode_t16, decode_t32,
};
use armv7_kprobes::insn::Insn;
use armv7_kprobes::step::{
    Access, Barrier, Hint, Memory, MemoryFault, StepError, it_advance, it_position, it_state, psr,
    step, step_t16, step_t16_decoded, step_t32, step_t32_decoded, with_it_state,
};
use verdicts::{
    KINDS, REASONS, T16_KINDS, T32_KINDS, count_t16, count_t32, print_counts, print_t16_counts,
    print_t32_counts, slot, slot_t16, slot_t32,
};

#[test]
fn verdict_slots_follow_declaration_order() {
    for (i, r) in RejectReason::ALL.iter().enumerate() {
        assert_eq!(slot(Decoded::Rejected(*r)), i);
    }
    for (i, k) in SimKind::ALL.iter().enumerate() {
        assert_eq!(slot(Decoded::Simulate(*k)), REASONS + i);
    }
    for (i, r) in RejectReason::ALL.iter().enumerate() {
        assert_eq!(slot_t32(T32Decoded::Rejected(*r)), i);
        assert_eq!(slot_t16(T16Decoded::Rejected(*r)), i);
    }
    for (i, k) in T32Kind::ALL.iter().enumerate() {
        assert_eq!(slot_t32(T32Decoded::Simulate(*k)), REASONS + i);
    }
    for (i, k) in T16Kind::ALL.iter().enumerate() {
        assert_eq!(slot_t16(T16Decoded::Simulate(*k)), REASONS + i);
    }
    assert_eq!(slot_t16(T16Decoded::FirstHalfOfT32), REASONS + T16_KINDS);
}

/// Memory that answers every address (a value made from the address) and accepts every store.
struct Anywhere;

impl Memory for Anywhere {
    fn read_u8(&mut self, address: u32) -> Result<u8, MemoryFault> {
        Ok(address as u8 ^ 0x5a)
    }
    fn read_u16(&mut self, address: u32) -> Result<u16, MemoryFault> {
        Ok(address as u16 ^ 0xa55a)
    }
    fn read_u32(&mut self, address: u32) -> Result<u32, MemoryFault> {
        if address >= 0xffff_fff0 {
            return Err(MemoryFault {
                address,
                access: Access::Read,
            });
        }
        Ok(address.rotate_left(7) ^ 0x1234_5679)
    }
    fn write_u8(&mut self, _: u32, _: u8) -> Result<(), MemoryFault> {
        Ok(())
    }
    fn write_u16(&mut self, _: u32, _: u16) -> Result<(), MemoryFault> {
        Ok(())
    }
    fn write_u32(&mut self, _: u32, _: u32) -> Result<(), MemoryFault> {
        Ok(())
    }
    fn barrier(&mut self, _: Barrier) {}
    fn hint(&mut self, _: Hint) {}
}

#[test]
fn sampled_words_decode_and_step_without_panic() {
    let mut counts = [0; REASONS + KINDS];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut stepped = 0u64;
    // Every 4093rd word: about a million words spread over the whole space.
    for w in (0..=u32::MAX).step_by(4093) {
        let d = decode(Insn(w));
        counts[slot(d)] += 1;
        if let Decoded::Simulate(_) = d {
            let mut f = TrapFrame::default();
            for n in 0..16 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                f.set_reg(n, (seed >> 11) as u32);
            }
            // Flags and GE vary with the seed; ARM state, SVC mode.
            f.cpsr = (seed as u32 & 0xf80f_0000) | 0x1d3;
            let before = f;
            match step(Insn(w), 0x8000, &mut f, &mut Anywhere) {
                Ok(()) => stepped += 1,
                Err(
                    StepError::AlignmentFault { .. }
                    | StepError::UnpredictablePcWrite { .. }
                    | StepError::UnalignedPcLoad { .. }
                    | StepError::Memory(_),
                ) => assert_eq!(f, before, "{w:#010x}: a failed step changed the frame"),
                Err(e) => panic!("{w:#010x}: {e}"),
            }
        }
    }
    print_counts("sampled words", &counts);
    println!("  {stepped} stepped");
    assert!(stepped > 100_000);
}

/// A xorshift64 generator for frames and IT states.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A Thumb-state frame with random registers, flags and GE, SVC mode, and an ITSTATE
    /// that one time in two puts the instruction in an IT block (at a random place in a
    /// block some legal IT opened), else outside.
    fn thumb_frame(&mut self) -> TrapFrame {
        let mut f = TrapFrame::default();
        for n in 0..16 {
            f.set_reg(n, (self.next() >> 11) as u32);
        }
        let bits = self.next();
        f.cpsr = (bits as u32 & 0xf80f_0000) | 0x1d3 | psr::T;
        if (bits >> 32) & 1 != 0 {
            // IT firstcond:mask; AL (0b1110) only with a single-instruction mask: one that
            // the T16 decoder takes as an IT (refused for probing, but legal to execute).
            let firstcond = (bits >> 33) as u8 % 15;
            let mask = if firstcond == 0b1110 {
                0b1000
            } else {
                (bits >> 40) as u8 % 15 + 1
            };
            let mut it = firstcond << 4 | mask;
            assert!(matches!(
                decode_t16(0xbf00 | u16::from(it), ItPosition::Outside),
                T16Decoded::Rejected(RejectReason::IfThen)
            ));
            for _ in 0..(bits >> 44) % 4 {
                if it_advance(it) & 0xf != 0 {
                    it = it_advance(it);
                }
            }
            f.cpsr = with_it_state(f.cpsr, it);
        }
        f
    }
}

/// Checks one Thumb step's result: `Ok`, or an error that leaves the frame as it was (a
/// fault the engine reports, or the decoder's refusal at the frame's IT position, which
/// must be `refused`).
fn check_thumb_step(
    what: impl Fn() -> String,
    r: Result<(), StepError>,
    refused: Option<RejectReason>,
    f: &TrapFrame,
    before: &TrapFrame,
) -> bool {
    match r {
        Ok(()) => {
            assert_eq!(refused, None, "{}: stepped where refused", what());
            return true;
        }
        Err(StepError::Rejected(reason)) => {
            assert_eq!(Some(reason), refused, "{}: refused for {reason:?}", what());
        }
        Err(
            StepError::AlignmentFault { .. }
            | StepError::UnpredictablePcWrite { .. }
            | StepError::UnalignedPcLoad { .. }
            | StepError::Memory(_),
        ) => assert_eq!(refused, None, "{}: a fault where refused", what()),
        Err(e) => panic!("{}: {e}", what()),
    }
    assert_eq!(f, before, "{}: a failed step changed the frame", what());
    false
}

#[test]
fn sampled_thumb_instructions_decode_and_step_without_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Every 61st pair of the 6,144 x 65,536 T32 pairs (hw1 0xe800..=0xffff, index
    // (hw1 - 0xe800) << 16 | hw2): about 6.6 million, every first halfword, every position.
    let pairs = (0..6144u32 << 16)
        .step_by(61)
        .map(|i| ((0xe800 + (i >> 16)) as u16, i as u16));
    let t32 = count_t32(pairs.clone(), true);
    print_t32_counts("sampled T32 pairs", &t32);
    let sampled = (6144u64 << 16).div_ceil(61);
    for at in &t32.at {
        assert_eq!(at.iter().sum::<u64>(), sampled);
    }
    // The stride cannot be relied on for the rarest kinds (5 hint pairs and 14 MRS ones in
    // 402 million), so every pair under the first halfwords of NOP.W… (0xf3af), DMB/DSB/ISB
    // (0xf3bf) and MRS (0xf3ef) is stepped too.
    let system = [0xf3afu16, 0xf3bf, 0xf3ef]
        .into_iter()
        .flat_map(|hw1| (0..=u16::MAX).map(move |hw2| (hw1, hw2)));
    let mut stepped = [0u64; T32_KINDS];
    for (hw1, hw2) in pairs.chain(system) {
        let T32Decoded::Simulate(kind) = decode_t32(hw1, hw2, ItPosition::Outside) else {
            continue;
        };
        let what = || format!("{hw1:#06x} {hw2:#06x} ({kind:?})");
        let mut f = rng.thumb_frame();
        let before = f;
        let position = it_position(it_state(f.cpsr));
        let refused = match decode_t32(hw1, hw2, position) {
            T32Decoded::Rejected(r) => Some(r),
            T32Decoded::Simulate(k) => {
                assert_eq!(k, kind, "{}: another kind at {position:?}", what());
                None
            }
        };
        // The registry's path (decoded once, outside a block) and the plain one alternately.
        let r = if rng.next() & 1 == 0 {
            step_t32_decoded(kind, hw1, hw2, 0x8000, &mut f, &mut Anywhere)
        } else {
            step_t32(hw1, hw2, 0x8000, &mut f, &mut Anywhere)
        };
        stepped[kind as usize] += u64::from(check_thumb_step(what, r, refused, &f, &before));
    }
    println!("  {} T32 stepped", stepped.iter().sum::<u64>());
    for (k, n) in T32Kind::ALL.iter().zip(stepped) {
        assert!(n > 0, "no {k:?} stepped");
    }

    let t16 = count_t16(0..=u16::MAX, true);
    print_t16_counts("all T16 halfwords", &t16);
    for at in &t16.at {
        assert_eq!(at.iter().sum::<u64>(), 65_536);
    }
    let mut stepped = [0u64; T16_KINDS];
    for hw in 0..=u16::MAX {
        let T16Decoded::Simulate(kind) = decode_t16(hw, ItPosition::Outside) else {
            continue;
        };
        // Each accepted halfword twice: the frames differ, and one in two is in an IT block.
        for _ in 0..2 {
            let what = || format!("{hw:#06x} ({kind:?})");
            let mut f = rng.thumb_frame();
            let before = f;
            let position = it_position(it_state(f.cpsr));
            let refused = match decode_t16(hw, position) {
                T16Decoded::Rejected(r) => Some(r),
                T16Decoded::Simulate(k) => {
                    assert_eq!(k, kind, "{}: another kind at {position:?}", what());
                    None
                }
                T16Decoded::FirstHalfOfT32 => panic!("{}: a first half at {position:?}", what()),
            };
            let r = if rng.next() & 1 == 0 {
                step_t16_decoded(kind, hw, 0x8000, &mut f, &mut Anywhere)
            } else {
                step_t16(hw, 0x8000, &mut f, &mut Anywhere)
            };
            stepped[kind as usize] += u64::from(check_thumb_step(what, r, refused, &f, &before));
        }
    }
    println!("  {} T16 stepped", stepped.iter().sum::<u64>());
    for (k, n) in T16Kind::ALL.iter().zip(stepped) {
        assert!(n > 0, "no {k:?} stepped");
    }
}
