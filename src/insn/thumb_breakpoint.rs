//! The breakpoints the crate writes over probed Thumb instructions: a 16-bit `udf #0x18`
//! over a 16-bit instruction and a 32-bit `udf.w #0x18` over a 32-bit one.
//!
//! # The words, and why these immediates
//!
//! Both are UDF, permanently UNDEFINED (ARMv7 ARM A8.8.247, encodings T1 `1101 1110 imm8` and
//! T2 `1111 0111 1111 imm4 1010 imm12`), so they trap to the undefined-instruction handler on
//! every ARMv7-A core; the immediate is ignored by the hardware and only tells the words apart
//! for software. The crate uses 0x18 in both, the same immediate its A32 breakpoint carries
//! ([`BreakpointWord`](super::BreakpointWord), `0xe7f001f8` reads as `udf #0x18`): one
//! number marks "a probe breakpoint" in every instruction set the crate patches, and a
//! disassembly or crash dump of a probed kernel shows it at a glance. They are the words
//! Linux's ARM kprobes uses (`0xde18`, `0xf7f0a018`); there is no Linux in a kernel this crate
//! serves, so nothing else claims them, and keeping Linux's numbers means readers and tools
//! that know Linux's breakpoints recognise ours. Values avoided because others write them:
//! `udf #0xfe` (`0xdefe`, LLVM's Thumb `llvm.trap`, which Rust's `abort` and the conformance
//! lab's Thumb pads use), `udf #0xf0` (the lab's ARM pad `0xe7f0def0` seen as Thumb), `udf #0`
//! and `udf.w #0` (assemblers' default, the step tests' and bench's stray UDFs), Linux's
//! Thumb `BUG()` `0xde02`, ptrace's `0xde01` and GDB's Thumb-2 `0xf7f0a000`.
//!
//! # Sizes match the original
//!
//! A 16-bit instruction gets the 16-bit breakpoint, a 32-bit one the 32-bit breakpoint:
//! a 32-bit breakpoint over a 16-bit instruction would overwrite the next instruction, and a
//! 16-bit breakpoint over the first half of a 32-bit one would leave its second halfword in
//! place, to be run as an instruction of its own whenever the breakpoint does not trap (see
//! below). Whether a halfword starts a 32-bit instruction is decided by its bits 15:11 alone
//! (ARMv7 ARM A6.1: 0b11101, 0b11110, 0b11111), the rule the T16 decoder's `FirstHalfOfT32`
//! rows use.
//!
//! # What the hit path must know (ARMv7 ARM)
//!
//! - Thumb UDF carries no condition field but is conditional inside an IT block: its
//!   operation is `if ConditionPassed() then UNDEFINED` (A8.8.247), and in Thumb state
//!   `ConditionPassed()` uses ITSTATE's IT[7:4] (A2.5.2, A8.3). T1 and T2 are allowed inside
//!   an IT block, unlike A1, which must be unconditional; Arm's AArch32 UDF page (DDI 0597)
//!   says so and only deprecates the IT-block use ("Arm deprecates using the UDF instruction
//!   in an IT block"). So a breakpoint over an instruction in an IT block takes that
//!   instruction's condition, as the A32 breakpoint copies its original's condition field.
//! - A conditional UNDEFINED instruction whose condition fails either traps or executes as
//!   a NOP; which one is IMPLEMENTATION DEFINED on ARMv7-A (Undefined Instruction exception,
//!   "Conditional execution of undefined instructions", part B1). So the handler of a trap in
//!   an IT block must test ITSTATE's condition against the saved flags and, when it fails,
//!   skip the instruction (advance the PC by its size and ITAdvance) rather than run the
//!   probe. On a core that takes the NOP path instead, the CPU itself moves the PC by the
//!   breakpoint's size and advances ITSTATE, which is right only because the breakpoint has
//!   the original's size.
//! - Returning from the trap, the handler computes the next PC and ITSTATE from the
//!   instruction's length (same section: "the instruction emulator must use the instruction
//!   length").
//!
//! # Memory order
//!
//! Thumb code is a stream of little-endian halfwords and a 32-bit instruction stores its first
//! halfword (hw1, the one with the 0b111xx prefix) at the lower address (A6.1). The 32-bit
//! breakpoint is written `0xf7f0a018` by convention (hw1:hw2), but its bytes are
//! `f0 f7 18 a0`, and one little-endian word store at a word-aligned address writes
//! `0xa018_f7f0`. At an address that is 2 mod 4 the two halfwords fall into two different
//! words, which the patcher then touches both of.

/// A breakpoint over one Thumb instruction; the variant is the size, which equals the
/// original's (see the module documentation for why it must).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThumbBreakpoint {
    /// `udf #0x18` (T1), over a 16-bit instruction.
    Narrow,
    /// `udf.w #0x18` (T2), over a 32-bit instruction.
    Wide,
}

impl ThumbBreakpoint {
    /// The immediate both breakpoints carry (`imm8` of T1, `imm4:imm12` of T2), the same as
    /// the A32 breakpoint's.
    pub const IMMEDIATE: u16 = 0x18;

    /// The 16-bit breakpoint: `udf #0x18`, `1101 1110 imm8`.
    pub const NARROW_HALFWORD: u16 = 0xde00 | Self::IMMEDIATE;

    /// The 32-bit breakpoint's first halfword (imm4 = 0): `1111 0111 1111 imm4`.
    pub const WIDE_HW1: u16 = 0xf7f0 | (Self::IMMEDIATE >> 12);

    /// The 32-bit breakpoint's second halfword: `1010 imm12`.
    pub const WIDE_HW2: u16 = 0xa000 | (Self::IMMEDIATE & 0xfff);

    /// The bytes of the 16-bit breakpoint as they lie in memory, lowest address first.
    pub const NARROW_BYTES: [u8; 2] = Self::NARROW_HALFWORD.to_le_bytes();

    /// The bytes of the 32-bit breakpoint as they lie in memory, lowest address first: hw1's
    /// two bytes, then hw2's.
    pub const WIDE_BYTES: [u8; 4] = {
        let [a, b] = Self::WIDE_HW1.to_le_bytes();
        let [c, d] = Self::WIDE_HW2.to_le_bytes();
        [a, b, c, d]
    };

    /// The value a little-endian 32-bit store writes to put the 32-bit breakpoint at a
    /// word-aligned address: hw2 in the top half, hw1 in the bottom.
    pub const WIDE_ALIGNED_WORD: u32 = u32::from_le_bytes(Self::WIDE_BYTES);

    /// Whether `hw` is the first halfword of a 32-bit Thumb instruction: bits 15:11 are
    /// 0b11101, 0b11110 or 0b11111 (ARMv7 ARM A6.1). It does not depend on the IT block.
    pub const fn starts_32_bit_instruction(hw: u16) -> bool {
        hw >> 11 >= 0b11101
    }

    /// The breakpoint for the Thumb instruction whose first halfword is `hw1`: the size
    /// follows `hw1`'s prefix, so the instruction after it is never touched.
    pub const fn for_first_halfword(hw1: u16) -> ThumbBreakpoint {
        if Self::starts_32_bit_instruction(hw1) {
            ThumbBreakpoint::Wide
        } else {
            ThumbBreakpoint::Narrow
        }
    }

    /// The 16-bit breakpoint to write over the 16-bit instruction `hw`, or `None` when `hw`
    /// is the first half of a 32-bit instruction, which needs
    /// [`for_original32`](Self::for_original32). No condition is taken from `hw`: a Thumb
    /// instruction's condition lives in ITSTATE, which the breakpoint inherits in place.
    pub const fn for_original16(hw: u16) -> Option<u16> {
        match Self::for_first_halfword(hw) {
            ThumbBreakpoint::Narrow => Some(Self::NARROW_HALFWORD),
            ThumbBreakpoint::Wide => None,
        }
    }

    /// The 32-bit breakpoint `[hw1, hw2]` (memory order) to write over the 32-bit instruction
    /// `hw1:hw2`, or `None` when `hw1` is a 16-bit instruction (then `hw2` is the next one
    /// and must stay). `hw2` is never inspected: every halfword can end a 32-bit instruction.
    pub const fn for_original32(hw1: u16, _hw2: u16) -> Option<[u16; 2]> {
        match Self::for_first_halfword(hw1) {
            ThumbBreakpoint::Wide => Some([Self::WIDE_HW1, Self::WIDE_HW2]),
            ThumbBreakpoint::Narrow => None,
        }
    }

    /// Whether `hw` is the crate's 16-bit breakpoint, exactly. Any other UDF (the kernel's
    /// own, a `trap`) is not, so its trap is never taken for a probe. It says nothing about
    /// where `hw` sits: the hit path matches the trapping PC against a registered site.
    pub const fn is_breakpoint16(hw: u16) -> bool {
        hw == Self::NARROW_HALFWORD
    }

    /// Whether `hw1:hw2` is the crate's 32-bit breakpoint, exactly.
    pub const fn is_breakpoint32(hw1: u16, hw2: u16) -> bool {
        hw1 == Self::WIDE_HW1 && hw2 == Self::WIDE_HW2
    }

    /// The size of this breakpoint, and of the instruction it replaces, in bytes.
    pub const fn size(self) -> u32 {
        match self {
            ThumbBreakpoint::Narrow => 2,
            ThumbBreakpoint::Wide => 4,
        }
    }

    /// This breakpoint's halfwords in memory order (hw1 first for the 32-bit one).
    pub const fn halfwords(self) -> &'static [u16] {
        match self {
            ThumbBreakpoint::Narrow => &[Self::NARROW_HALFWORD],
            ThumbBreakpoint::Wide => &[Self::WIDE_HW1, Self::WIDE_HW2],
        }
    }

    /// This breakpoint's bytes in memory order, lowest address first.
    pub const fn bytes(self) -> &'static [u8] {
        match self {
            ThumbBreakpoint::Narrow => &Self::NARROW_BYTES,
            ThumbBreakpoint::Wide => &Self::WIDE_BYTES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{ItPosition, RejectReason, T16Decoded, T32Decoded, decode_t16, decode_t32};

    /// Whether the T16 decoder calls `hw` the first half of a 32-bit instruction at `it`:
    /// the verdict [`ThumbBreakpoint::starts_32_bit_instruction`] is held to.
    fn decoder_says_32_bit(hw: u16, it: ItPosition) -> bool {
        decode_t16(hw, it) == T16Decoded::FirstHalfOfT32
    }

    #[test]
    fn words_are_the_documented_encodings() {
        assert_eq!(ThumbBreakpoint::NARROW_HALFWORD, 0xde18);
        assert_eq!(
            (ThumbBreakpoint::WIDE_HW1, ThumbBreakpoint::WIDE_HW2),
            (0xf7f0, 0xa018)
        );
        assert_eq!(ThumbBreakpoint::NARROW_BYTES, [0x18, 0xde]);
        assert_eq!(ThumbBreakpoint::WIDE_BYTES, [0xf0, 0xf7, 0x18, 0xa0]);
        assert_eq!(ThumbBreakpoint::WIDE_ALIGNED_WORD, 0xa018_f7f0);
        assert_eq!(ThumbBreakpoint::Narrow.bytes(), &[0x18, 0xde]);
        assert_eq!(ThumbBreakpoint::Wide.halfwords(), &[0xf7f0, 0xa018]);
    }

    #[test]
    fn breakpoints_decode_as_undefined_at_every_it_position() {
        for it in ItPosition::ALL {
            assert_eq!(
                decode_t16(ThumbBreakpoint::NARROW_HALFWORD, it),
                T16Decoded::Rejected(RejectReason::Undefined),
                "{it:?}"
            );
            // The wide breakpoint's first halfword alone is a 32-bit prefix, so a decoder
            // reading it knows to fetch the second.
            assert_eq!(
                decode_t16(ThumbBreakpoint::WIDE_HW1, it),
                T16Decoded::FirstHalfOfT32
            );
            assert_eq!(
                decode_t32(ThumbBreakpoint::WIDE_HW1, ThumbBreakpoint::WIDE_HW2, it),
                T32Decoded::Rejected(RejectReason::Undefined),
                "{it:?}"
            );
        }
    }

    #[test]
    fn size_rule_matches_the_t16_decoders_first_half_verdict() {
        for hw in 0..=u16::MAX {
            for it in ItPosition::ALL {
                assert_eq!(
                    ThumbBreakpoint::starts_32_bit_instruction(hw),
                    decoder_says_32_bit(hw, it),
                    "{hw:#06x} {it:?}"
                );
            }
        }
    }

    #[test]
    fn for_original_gives_a_breakpoint_of_the_originals_size_and_no_other() {
        for hw in 0..=u16::MAX {
            let wide = decoder_says_32_bit(hw, ItPosition::Outside);
            let narrow_bp = ThumbBreakpoint::for_original16(hw);
            let wide_bp = ThumbBreakpoint::for_original32(hw, 0x4770);
            if wide {
                assert_eq!(narrow_bp, None, "{hw:#06x}");
                assert_eq!(wide_bp, Some([0xf7f0, 0xa018]), "{hw:#06x}");
                assert_eq!(
                    ThumbBreakpoint::for_first_halfword(hw),
                    ThumbBreakpoint::Wide
                );
            } else {
                assert_eq!(narrow_bp, Some(0xde18), "{hw:#06x}");
                assert_eq!(wide_bp, None, "{hw:#06x}");
                assert_eq!(
                    ThumbBreakpoint::for_first_halfword(hw),
                    ThumbBreakpoint::Narrow
                );
            }
            let bp = ThumbBreakpoint::for_first_halfword(hw);
            assert_eq!(bp.size(), 2 * bp.halfwords().len() as u32);
            assert_eq!(bp.size(), bp.bytes().len() as u32);
        }
        // Named cases: `push {r4, lr}` (T16), `bl` (T32), `ldr.w r0, [r1]` (T32).
        assert_eq!(ThumbBreakpoint::for_first_halfword(0xb510).size(), 2);
        assert_eq!(ThumbBreakpoint::for_first_halfword(0xf000).size(), 4);
        assert_eq!(ThumbBreakpoint::for_first_halfword(0xf8d1).size(), 4);
    }

    #[test]
    fn is_breakpoint16_accepts_exactly_the_narrow_word() {
        for hw in 0..=u16::MAX {
            assert_eq!(
                ThumbBreakpoint::is_breakpoint16(hw),
                hw == 0xde18,
                "{hw:#06x}"
            );
        }
        // Other UDFs: the kernel's `udf #0`, LLVM's `trap`, the debuggers' and Linux's BUG().
        for other in [0xde00, 0xdefe, 0xde01, 0xde02, 0xdef0] {
            assert!(!ThumbBreakpoint::is_breakpoint16(other));
        }
    }

    #[test]
    fn is_breakpoint32_accepts_exactly_the_wide_word() {
        // Every first halfword with our second, and our first with every second.
        for hw in 0..=u16::MAX {
            assert_eq!(
                ThumbBreakpoint::is_breakpoint32(hw, 0xa018),
                hw == 0xf7f0,
                "{hw:#06x}"
            );
            assert_eq!(
                ThumbBreakpoint::is_breakpoint32(0xf7f0, hw),
                hw == 0xa018,
                "{hw:#06x}"
            );
        }
        // `udf.w #0`, the halves swapped, the narrow word paired with anything.
        assert!(!ThumbBreakpoint::is_breakpoint32(0xf7f0, 0xa000));
        assert!(!ThumbBreakpoint::is_breakpoint32(0xa018, 0xf7f0));
        assert!(!ThumbBreakpoint::is_breakpoint32(0xde18, 0xde18));
        for bp in [ThumbBreakpoint::Narrow, ThumbBreakpoint::Wide] {
            let hw = bp.halfwords();
            let claimed = match bp {
                ThumbBreakpoint::Narrow => ThumbBreakpoint::is_breakpoint16(hw[0]),
                ThumbBreakpoint::Wide => ThumbBreakpoint::is_breakpoint32(hw[0], hw[1]),
            };
            assert!(claimed, "{bp:?}");
        }
    }

    #[test]
    fn breakpoints_evaluate_at_compile_time() {
        const NARROW: Option<u16> = ThumbBreakpoint::for_original16(0x4770);
        const WIDE: Option<[u16; 2]> = ThumbBreakpoint::for_original32(0xf000, 0xf800);
        assert_eq!(NARROW, Some(0xde18));
        assert_eq!(WIDE, Some([0xf7f0, 0xa018]));
    }
}
