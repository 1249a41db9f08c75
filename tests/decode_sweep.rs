//! Runs the decoder over a sample of the A32 space in every `cargo test` and counts the
//! verdicts; each sampled word the decoder accepts is also stepped, so an overflow or a bad
//! shift in the step engine panics in a debug build. The whole 2^32 space is swept by
//! `examples/decode_sweep.rs`, which `.ci/run` runs in release.

mod verdicts;

use armv7_kprobes::TrapFrame;
use armv7_kprobes::decode::{Decoded, RejectReason, SimKind, decode};
use armv7_kprobes::insn::Insn;
use armv7_kprobes::step::{Access, Barrier, Hint, Memory, MemoryFault, StepError, step};
use verdicts::{KINDS, REASONS, print_counts, slot};

#[test]
fn verdict_slots_follow_declaration_order() {
    for (i, r) in RejectReason::ALL.iter().enumerate() {
        assert_eq!(slot(Decoded::Rejected(*r)), i);
    }
    for (i, k) in SimKind::ALL.iter().enumerate() {
        assert_eq!(slot(Decoded::Simulate(*k)), REASONS + i);
    }
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
