//! The 32-bit Thumb branch an optimized Thumb probe writes over a 32-bit instruction: `b.w`
//! (or `b<c>.w`) to its Thumb trampoline, with the reach rule, the encoder and the decoder.
//!
//! # The encodings (ARMv7 ARM A8.8.18, B)
//!
//! - T4, `B.W label`, unconditional: `11110 S imm10 | 10 J1 1 J2 imm11`, with
//!   `I1 = NOT(J1 EOR S)`, `I2 = NOT(J2 EOR S)` and
//!   `imm32 = SignExtend(S:I1:I2:imm10:imm11:'0', 32)`: a 25-bit even offset,
//!   `-16_777_216 ..= +16_777_214` (±16 MiB).
//! - T3, `B<c>.W label`, conditional: `11110 S cond imm6 | 10 J1 0 J2 imm11`, with
//!   `imm32 = SignExtend(S:J2:J1:imm6:imm11:'0', 32)`: J1 and J2 are used as they are, in the
//!   other order, and the offset has 21 bits, `-1_048_576 ..= +1_048_574` (±1 MiB). `cond` is
//!   0b0000 to 0b1101 only: with `cond<3:1> == '111'` the same bits are the branches and
//!   miscellaneous control space (MSR, MRS, hints, UDF.W, …), so T3 cannot carry AL, and the
//!   unconditional T4 is the always-branch.
//!
//! The offset is from the branch's PC, its address + 4 (Thumb state), to the target:
//! `offset = to - (from + 4)`, modulo 2^32 as for the A32 branches (see the parent module).
//! Both addresses are halfword addresses: a Thumb instruction sits at an even address, and a
//! target is the address of the instruction, without the interworking bit 0 (B.W does not
//! change the instruction set, so there is no bit 0 to carry).
//!
//! # IT blocks (same section)
//!
//! The words this module builds are the forms for outside an IT block, which is where the
//! ARM ARM allows both:
//! - T3 is UNPREDICTABLE anywhere in an IT block (`if InITBlock() then UNPREDICTABLE`): its
//!   condition is its own, never ITSTATE's.
//! - T4 is UNPREDICTABLE in an IT block unless it is the block's last instruction
//!   (`if InITBlock() && !LastInITBlock() then UNPREDICTABLE`); as the last one it runs under
//!   the IT condition, like any instruction there.
//!
//! So whoever places a branch (the probe registry) must never put one at an IT-block position
//! other than the last, and never a T3 in an IT block at all. Outside an IT block a Thumb
//! instruction runs under AL unless it is itself a conditional branch (`B<c>` T1 or T3), so there
//! [`ThumbBranch::preserving`] gives T4 for everything but a conditional branch, which gets a
//! T3 with its own condition. At the last position of an IT block the branch that keeps the
//! replaced instruction's condition is the unconditional T4 ([`ThumbBranch::B`]), whose
//! condition then comes from ITSTATE, never the T3 that `preserving` would make from that
//! condition. The crate's T32 decoder has the same rules (`B T3`: not in an IT block; `B T4`:
//! outside or last), and the tests hold these words to it.
//!
//! # Memory order
//!
//! As for [`ThumbBreakpoint`](super::ThumbBreakpoint): hw1 (the `11110` prefix) is stored at
//! the lower address, hw2 at address + 2, each halfword little-endian. A branch written
//! `0xf000_b802` (hw1:hw2) has the bytes `00 f0 02 b8`, and one little-endian word store at a
//! word-aligned address writes `0xb802_f000` ([`ThumbBranch::aligned_word`]). At an address
//! that is 2 mod 4 the two halfwords fall into two different words.

use super::{BranchError, Cond};

/// Which 32-bit Thumb branch a [`ThumbBranch`] is: it fixes the reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThumbBranchKind {
    /// Encoding T4, `B.W label`: unconditional, ±16 MiB.
    B,
    /// Encoding T3, `B<c>.W label`: carries its own condition (EQ to LE), ±1 MiB.
    BCond,
}

impl ThumbBranchKind {
    /// The alignment of the branch's own address and of its target, in bytes: Thumb code
    /// sits at halfword addresses.
    pub const ALIGNMENT: u32 = 2;

    /// The most negative reachable offset, `target - (address + 4)`: -16 MiB for T4, -1 MiB
    /// for T3.
    pub const fn min_offset(self) -> i32 {
        match self {
            ThumbBranchKind::B => -0x0100_0000,
            ThumbBranchKind::BCond => -0x0010_0000,
        }
    }

    /// The most positive reachable offset, `target - (address + 4)`: 16 MiB - 2 for T4,
    /// 1 MiB - 2 for T3.
    pub const fn max_offset(self) -> i32 {
        match self {
            ThumbBranchKind::B => 0x00ff_fffe,
            ThumbBranchKind::BCond => 0x000f_fffe,
        }
    }

    /// The ARM ARM's name of the encoding: `"T4"` or `"T3"`.
    pub const fn encoding(self) -> &'static str {
        match self {
            ThumbBranchKind::B => "T4",
            ThumbBranchKind::BCond => "T3",
        }
    }

    /// Whether a branch of this kind at `from` can reach `to`, and with which offset
    /// (`to - (from + 4)`, modulo 2^32, as a signed number, always even).
    ///
    /// This is the encoder's own rule, the only one: [`ThumbBranch::encode`] calls it, so
    /// whoever asks "is this reachable?" gets the encoder's answer. Checks, in order: `from`
    /// halfword-aligned, `to` halfword-aligned, offset within
    /// [`min_offset`](Self::min_offset) ..= [`max_offset`](Self::max_offset). Offsets wrap
    /// around the 32-bit address space, as the PC does.
    ///
    /// # Errors
    ///
    /// [`BranchError::MisalignedThumbSource`], [`BranchError::MisalignedTarget`] (alignment
    /// 2) or [`BranchError::ThumbOutOfRange`], in that order of checking.
    pub const fn reach(self, from: u32, to: u32) -> Result<i32, BranchError> {
        if !from.is_multiple_of(Self::ALIGNMENT) {
            return Err(BranchError::MisalignedThumbSource { from });
        }
        if !to.is_multiple_of(Self::ALIGNMENT) {
            return Err(BranchError::MisalignedTarget {
                to,
                alignment: Self::ALIGNMENT,
            });
        }
        let offset = to.wrapping_sub(from.wrapping_add(4)) as i32;
        if offset < self.min_offset() || offset > self.max_offset() {
            return Err(BranchError::ThumbOutOfRange { offset, kind: self });
        }
        Ok(offset)
    }
}

/// A 32-bit Thumb branch, with its absolute target (target = address + 4 + offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThumbBranch {
    /// `B.W target`, encoding T4: always taken (outside an IT block).
    B {
        /// The absolute halfword address of the target (bit 0 clear).
        target: u32,
    },
    /// `B<cond>.W target`, encoding T3: taken when `cond` passes.
    BCond {
        /// The condition, `Eq` to `Le`; `Al` and `Unconditional` cannot be encoded in T3.
        cond: Cond,
        /// The absolute halfword address of the target (bit 0 clear).
        target: u32,
    },
}

/// hw1 bits 15:11 of both encodings.
const HW1_PREFIX: u16 = 0b11110 << 11;
/// hw2 bits 15:14 and 12 (`10x1`) of T4.
const HW2_T4: u16 = 0x9000;
/// hw2 bits 15:14 and 12 (`10x0`) of T3.
const HW2_T3: u16 = 0x8000;
/// The hw2 bits that tell T3 and T4 apart from each other and from BL/BLX (15, 14, 12).
const HW2_MASK: u16 = 0xd000;

impl ThumbBranch {
    /// The branch to write over an instruction that runs under `cond` (`Al` outside an IT
    /// block), so that it branches exactly when that instruction would have executed:
    /// [`ThumbBranch::B`] (T4) for `Al`, [`ThumbBranch::BCond`] (T3) for `Eq` to `Le`.
    /// `Unconditional` (0xF), which [`Cond::passes`] treats as always, gives T4 too, as
    /// [`Insn::replacement_cond`](super::Insn::replacement_cond) turns it into `Al`.
    ///
    /// The result is the form for outside an IT block: a T3 must not be placed in an IT block,
    /// and a branch over the last instruction of one is the T4 whatever that instruction's
    /// IT condition (see the module documentation).
    pub const fn preserving(cond: Cond, target: u32) -> ThumbBranch {
        match cond {
            Cond::Al | Cond::Unconditional => ThumbBranch::B { target },
            cond => ThumbBranch::BCond { cond, target },
        }
    }

    /// The halfwords of [`ThumbBranch::preserving`]`(cond, to)` placed at `from`: the caller
    /// never picks the encoding, and a conditional one has T3's smaller reach.
    ///
    /// # Errors
    ///
    /// As [`ThumbBranch::encode`].
    pub const fn replacing(cond: Cond, from: u32, to: u32) -> Result<[u16; 2], BranchError> {
        Self::preserving(cond, to).encode(from)
    }

    /// Which encoding this is.
    pub const fn kind(self) -> ThumbBranchKind {
        match self {
            ThumbBranch::B { .. } => ThumbBranchKind::B,
            ThumbBranch::BCond { .. } => ThumbBranchKind::BCond,
        }
    }

    /// The condition the branch is taken under: `Al` for T4.
    pub const fn cond(self) -> Cond {
        match self {
            ThumbBranch::B { .. } => Cond::Al,
            ThumbBranch::BCond { cond, .. } => cond,
        }
    }

    /// The absolute target address.
    pub const fn target(self) -> u32 {
        match self {
            ThumbBranch::B { target } | ThumbBranch::BCond { target, .. } => target,
        }
    }

    /// The two halfwords `[hw1, hw2]` of this branch placed at address `from`, in memory order:
    /// hw1 at `from`, hw2 at `from + 2`.
    ///
    /// Reachability is decided by [`ThumbBranchKind::reach`]; a T3 with a condition it cannot
    /// carry is refused first.
    ///
    /// # Errors
    ///
    /// [`BranchError::ThumbCondition`] for a [`ThumbBranch::BCond`] with `Al` or
    /// `Unconditional`, then every error of [`ThumbBranchKind::reach`].
    pub const fn encode(self, from: u32) -> Result<[u16; 2], BranchError> {
        if let ThumbBranch::BCond { cond, .. } = self
            && matches!(cond, Cond::Al | Cond::Unconditional)
        {
            return Err(BranchError::ThumbCondition { cond });
        }
        let offset = match self.kind().reach(from, self.target()) {
            Ok(offset) => offset as u32,
            Err(e) => return Err(e),
        };
        let s = (offset >> 24) & 1;
        let imm11 = ((offset >> 1) & 0x7ff) as u16;
        Ok(match self {
            ThumbBranch::B { .. } => {
                // offset = S:I1:I2:imm10:imm11:'0'; J1 = NOT(I1 EOR S), J2 = NOT(I2 EOR S).
                let j1 = !(((offset >> 23) & 1) ^ s) & 1;
                let j2 = !(((offset >> 22) & 1) ^ s) & 1;
                let imm10 = ((offset >> 12) & 0x3ff) as u16;
                [
                    HW1_PREFIX | (s as u16) << 10 | imm10,
                    HW2_T4 | (j1 as u16) << 13 | (j2 as u16) << 11 | imm11,
                ]
            }
            ThumbBranch::BCond { cond, .. } => {
                // offset = S:J2:J1:imm6:imm11:'0', sign-extended from bit 20 (so bit 24 is
                // S too).
                let j2 = ((offset >> 19) & 1) as u16;
                let j1 = ((offset >> 18) & 1) as u16;
                let imm6 = ((offset >> 12) & 0x3f) as u16;
                [
                    HW1_PREFIX | (s as u16) << 10 | (cond.bits() as u16) << 6 | imm6,
                    HW2_T3 | j1 << 13 | j2 << 11 | imm11,
                ]
            }
        })
    }

    /// The condition a Thumb conditional branch outside an IT block carries itself: `B<c>`
    /// T1 (`1101 cond imm8`, cond not 0b1110/0b1111, which are UDF and SVC) or T3
    /// (`hw2` given); `None` for every other instruction, which runs under AL there.
    pub const fn own_condition(hw1: u16, hw2: Option<u16>) -> Option<Cond> {
        match hw2 {
            None => {
                let cond = (hw1 >> 8) & 0xf;
                if hw1 & 0xf000 == 0xd000 && cond < 0xe {
                    Some(Cond::from_bits(cond as u32))
                } else {
                    None
                }
            }
            Some(hw2) => match Self::decode(hw1, hw2, 0) {
                Some(ThumbBranch::BCond { cond, .. }) => Some(cond),
                _ => None,
            },
        }
    }

    /// The branch `hw1:hw2` is when it sits at address `from`, or `None` when it is not a
    /// T4 or T3 B (with a T3 condition of 0b1110 or 0b1111 the bits are another instruction),
    /// or when `from` is odd (no Thumb instruction lives there). Every `Some` result encodes
    /// back to `[hw1, hw2]` at `from`: each field value is a reachable offset.
    pub const fn decode(hw1: u16, hw2: u16, from: u32) -> Option<ThumbBranch> {
        if hw1 & 0xf800 != HW1_PREFIX || !from.is_multiple_of(ThumbBranchKind::ALIGNMENT) {
            return None;
        }
        let (hw1, hw2) = (hw1 as u32, hw2 as u32);
        let s = (hw1 >> 10) & 1;
        let j1 = (hw2 >> 13) & 1;
        let j2 = (hw2 >> 11) & 1;
        let imm11 = hw2 & 0x7ff;
        let pc = from.wrapping_add(4);
        match (hw2 as u16) & HW2_MASK {
            HW2_T4 => {
                let i1 = !(j1 ^ s) & 1;
                let i2 = !(j2 ^ s) & 1;
                let raw = s << 24 | i1 << 23 | i2 << 22 | (hw1 & 0x3ff) << 12 | imm11 << 1;
                // Shifting the 25-bit offset to the top and back sign-extends it.
                let offset = ((raw << 7) as i32 >> 7) as u32;
                Some(ThumbBranch::B {
                    target: pc.wrapping_add(offset),
                })
            }
            HW2_T3 => {
                let cond = Cond::from_bits(hw1 >> 6);
                if matches!(cond, Cond::Al | Cond::Unconditional) {
                    return None;
                }
                let raw = s << 20 | j2 << 19 | j1 << 18 | (hw1 & 0x3f) << 12 | imm11 << 1;
                // The 21-bit offset, sign-extended the same way.
                let offset = ((raw << 11) as i32 >> 11) as u32;
                Some(ThumbBranch::BCond {
                    cond,
                    target: pc.wrapping_add(offset),
                })
            }
            _ => None,
        }
    }

    /// The bytes of `halfwords` (`[hw1, hw2]`, as [`encode`](Self::encode) returns them) in
    /// memory order, lowest address first.
    pub const fn bytes(halfwords: [u16; 2]) -> [u8; 4] {
        let [a, b] = halfwords[0].to_le_bytes();
        let [c, d] = halfwords[1].to_le_bytes();
        [a, b, c, d]
    }

    /// The value one little-endian 32-bit store writes to put `halfwords` (`[hw1, hw2]`) at a
    /// word-aligned address: hw2 in the top half, hw1 in the bottom. At an address that is
    /// 2 mod 4 there is no such word; write the two halfwords.
    pub const fn aligned_word(halfwords: [u16; 2]) -> u32 {
        u32::from_le_bytes(Self::bytes(halfwords))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{ItPosition, T32Decoded, T32Kind, decode_t32};
    use crate::fakes::FakeMemory;
    use crate::frame::TrapFrame;
    use crate::step::{psr, step_t32};

    const KINDS: [ThumbBranchKind; 2] = [ThumbBranchKind::B, ThumbBranchKind::BCond];

    /// A branch of `kind` to `target`, with `cond` when it is T3.
    fn branch(kind: ThumbBranchKind, cond: Cond, target: u32) -> ThumbBranch {
        match kind {
            ThumbBranchKind::B => ThumbBranch::B { target },
            ThumbBranchKind::BCond => ThumbBranch::BCond { cond, target },
        }
    }

    /// Encodes `b` at `from` and checks what every encoded word must satisfy: reach gives the
    /// same answer, the decoder gives `b` back, the crate's T32 decoder classes the word as
    /// this branch outside an IT block, and the step engine jumps where `b` says.
    fn check(b: ThumbBranch, from: u32) -> Result<[u16; 2], BranchError> {
        let encoded = b.encode(from);
        let reach = b.kind().reach(from, b.target());
        match (encoded, reach) {
            (Ok([hw1, hw2]), Ok(offset)) => {
                assert_eq!(from.wrapping_add(4).wrapping_add(offset as u32), b.target());
                assert_eq!(
                    ThumbBranch::decode(hw1, hw2, from),
                    Some(b),
                    "{b:?} at {from:#x}"
                );
                let kind = match b.kind() {
                    ThumbBranchKind::B => T32Kind::Branch,
                    ThumbBranchKind::BCond => T32Kind::ConditionalBranch,
                };
                assert_eq!(
                    decode_t32(hw1, hw2, ItPosition::Outside),
                    T32Decoded::Simulate(kind)
                );
                assert_eq!(step_target(hw1, hw2, from, b.cond(), true), b.target());
                if b.kind() == ThumbBranchKind::BCond {
                    assert_eq!(
                        step_target(hw1, hw2, from, b.cond(), false),
                        from.wrapping_add(4)
                    );
                }
            }
            (Err(e), Err(r)) if !matches!(e, BranchError::ThumbCondition { .. }) => {
                assert_eq!(e, r, "encoder and reach give the same error");
            }
            (Err(BranchError::ThumbCondition { .. }), _) => {}
            (e, r) => panic!("encoder {e:?} and reach {r:?} disagree for {b:?} at {from:#x}"),
        }
        encoded
    }

    /// Where the step engine continues after `hw1:hw2` at `from`, with flags that make `cond`
    /// pass (`passing`) or fail.
    fn step_target(hw1: u16, hw2: u16, from: u32, cond: Cond, passing: bool) -> u32 {
        let cpsr = (0..16u32)
            .map(|nzcv| nzcv << 28)
            .find(|&flags| cond.passes(flags) == passing)
            .expect("every condition but AL has flags that fail it");
        let mut frame = TrapFrame {
            pc: from,
            cpsr: cpsr | psr::T,
            ..TrapFrame::default()
        };
        step_t32(hw1, hw2, from, &mut frame, &mut FakeMemory::default()).expect("steps");
        frame.pc
    }

    /// Sources on both halfword phases of a word and on both sides of the wrap-around.
    const SOURCES: [u32; 6] = [
        0,
        0x8002,
        0x4000_8000,
        0x8000_0002,
        0xffff_fff0,
        0xffff_fffe,
    ];

    #[test]
    fn known_words_are_the_documented_encodings() {
        let t = 0x8000;
        // The step engine's tests' words: b.w . + 4 + 4, . + 4 - 2, . + 4 + 0xc00000, -16 MiB.
        let cases = [
            (ThumbBranch::B { target: t + 8 }, [0xf000, 0xb802]),
            (ThumbBranch::B { target: t + 2 }, [0xf7ff, 0xbfff]),
            (
                ThumbBranch::B {
                    target: t + 4 + 0xc0_0000,
                },
                [0xf000, 0x9000],
            ),
            (
                ThumbBranch::B {
                    target: (t + 4).wrapping_sub(0x100_0000),
                },
                [0xf400, 0x9000],
            ),
            // beq.w . + 4 + 0x100, beq.w . + 4 - 2, J1 (offset bit 18) and J2 (bit 19).
            (
                ThumbBranch::BCond {
                    cond: Cond::Eq,
                    target: t + 4 + 0x100,
                },
                [0xf000, 0x8080],
            ),
            (
                ThumbBranch::BCond {
                    cond: Cond::Eq,
                    target: t + 2,
                },
                [0xf43f, 0xafff],
            ),
            (
                ThumbBranch::BCond {
                    cond: Cond::Eq,
                    target: t + 4 + 0x4_0000,
                },
                [0xf000, 0xa000],
            ),
            (
                ThumbBranch::BCond {
                    cond: Cond::Eq,
                    target: t + 4 + 0x8_0000,
                },
                [0xf000, 0x8800],
            ),
        ];
        for (b, words) in cases {
            assert_eq!(check(b, t), Ok(words), "{b:?}");
        }
        // Memory order: hw1 first, each halfword little-endian.
        assert_eq!(
            ThumbBranch::bytes([0xf000, 0xb802]),
            [0x00, 0xf0, 0x02, 0xb8]
        );
        assert_eq!(ThumbBranch::aligned_word([0xf000, 0xb802]), 0xb802_f000);
    }

    #[test]
    fn every_kind_and_condition_reaches_exactly_its_boundary_offsets() {
        assert_eq!(
            (
                ThumbBranchKind::B.min_offset(),
                ThumbBranchKind::B.max_offset()
            ),
            (-16_777_216, 16_777_214)
        );
        assert_eq!(
            (
                ThumbBranchKind::BCond.min_offset(),
                ThumbBranchKind::BCond.max_offset()
            ),
            (-1_048_576, 1_048_574)
        );
        for kind in KINDS {
            let (min, max) = (kind.min_offset(), kind.max_offset());
            let conds: &[Cond] = match kind {
                ThumbBranchKind::B => &[Cond::Al],
                // The conditions T3 carries, EQ to LE.
                ThumbBranchKind::BCond => &Cond::ALL[..14],
            };
            let in_range = [min, min + 2, -4, -2, 0, 2, 4, max - 2, max];
            let beyond = [
                min - 2,
                max + 2,
                min - 0x1000,
                max + 0x1000,
                i32::MIN,
                i32::MAX - 1,
            ];
            for from in SOURCES {
                for &cond in conds {
                    for offset in in_range {
                        let to = from.wrapping_add(4).wrapping_add(offset as u32);
                        let b = branch(kind, cond, to);
                        assert!(check(b, from).is_ok(), "{b:?} at {from:#x}");
                    }
                    for offset in beyond {
                        let to = from.wrapping_add(4).wrapping_add(offset as u32);
                        assert_eq!(
                            check(branch(kind, cond, to), from),
                            Err(BranchError::ThumbOutOfRange { offset, kind })
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_offset_bit_lands_in_its_field_and_back() {
        // One bit at a time, and all ones below it, in both directions.
        for kind in KINDS {
            let top = match kind {
                ThumbBranchKind::B => 24,
                ThumbBranchKind::BCond => 20,
            };
            for bit in 1..top {
                for offset in [1i32 << bit, -(1i32 << bit), (1i32 << bit) - 2] {
                    let to = 0x10_0000u32.wrapping_add(4).wrapping_add(offset as u32);
                    let b = branch(kind, Cond::Ne, to);
                    assert!(check(b, 0x10_0000).is_ok(), "{kind:?} {offset:#x}");
                }
            }
        }
    }

    #[test]
    fn branches_wrap_around_the_top_of_the_address_space_like_the_pc() {
        // Forward across 2^32: 0xffff_fff0 + 4 + 0x1c = 0x1_0000_0010.
        let up = check(ThumbBranch::B { target: 0x10 }, 0xffff_fff0).expect("in range");
        assert_eq!(
            ThumbBranch::decode(up[0], up[1], 0xffff_fff0).map(ThumbBranch::target),
            Some(0x10)
        );
        // Backward across 0: 0x10 + 4 - 0x24 = -0x10.
        let down = ThumbBranch::BCond {
            cond: Cond::Ne,
            target: 0xffff_fff0,
        };
        assert!(check(down, 0x10).is_ok());
        // The PC itself wraps: a branch at 0xffff_fffe sees PC = 0x0000_0002.
        assert_eq!(
            check(ThumbBranch::B { target: 2 }, 0xffff_fffe),
            Ok([0xf000, 0xb800])
        );
    }

    #[test]
    fn preserving_picks_t4_for_always_and_t3_for_every_other_condition() {
        for cond in Cond::ALL {
            let b = ThumbBranch::preserving(cond, 0x9000);
            let always = matches!(cond, Cond::Al | Cond::Unconditional);
            assert_eq!(b.kind() == ThumbBranchKind::B, always, "{cond:?}");
            assert_eq!(b.cond(), if always { Cond::Al } else { cond });
            assert_eq!(b.target(), 0x9000);
            let words = ThumbBranch::replacing(cond, 0x8000, 0x9000).expect("in range");
            assert_eq!(check(b, 0x8000), Ok(words));
        }
        // A conditional replacement has T3's reach, an unconditional one T4's.
        let far = 0x8004 + 0x10_0000;
        assert_eq!(
            ThumbBranch::replacing(Cond::Gt, 0x8000, far),
            Err(BranchError::ThumbOutOfRange {
                offset: 0x10_0000,
                kind: ThumbBranchKind::BCond
            })
        );
        assert!(ThumbBranch::replacing(Cond::Al, 0x8000, far).is_ok());
    }

    #[test]
    fn t3_refuses_the_conditions_it_cannot_carry_before_anything_else() {
        for cond in [Cond::Al, Cond::Unconditional] {
            // Even at a misaligned address with an unreachable target.
            for (from, to) in [(0x8000, 0x9000), (0x8001, 0x7fff_ffff)] {
                assert_eq!(
                    ThumbBranch::BCond { cond, target: to }.encode(from),
                    Err(BranchError::ThumbCondition { cond })
                );
            }
        }
    }

    #[test]
    fn misaligned_source_and_target_are_refused_in_that_order() {
        for kind in KINDS {
            for from in [1, 0x8001, 0xffff_ffff] {
                assert_eq!(
                    check(branch(kind, Cond::Eq, 0x8001), from),
                    Err(BranchError::MisalignedThumbSource { from })
                );
            }
            // Odd targets (a Thumb address with the interworking bit) are misaligned; every
            // even one is a halfword address.
            for to in [0x8001, 0x8003, 0xffff_ffff] {
                assert_eq!(
                    check(branch(kind, Cond::Eq, to), 0x8000),
                    Err(BranchError::MisalignedTarget { to, alignment: 2 })
                );
            }
            assert!(check(branch(kind, Cond::Eq, 0x8002), 0x8000).is_ok());
        }
    }

    #[test]
    fn decode_takes_exactly_the_t3_and_t4_words() {
        // Every first halfword, against one second halfword of each shape.
        for hw1 in 0..=u16::MAX {
            for hw2 in [
                0x9000, 0xbfff, 0x8000, 0xafff, 0xd000, 0xf800, 0xc000, 0x0000,
            ] {
                let is_b = hw1 & 0xf800 == 0xf000
                    && match hw2 & 0xd000 {
                        0x9000 => true,
                        0x8000 => (hw1 >> 6) & 0xf < 0xe,
                        _ => false,
                    };
                let decoded = ThumbBranch::decode(hw1, hw2, 0x8000);
                assert_eq!(decoded.is_some(), is_b, "{hw1:#06x} {hw2:#06x}");
                if let Some(b) = decoded {
                    assert_eq!(b.encode(0x8000), Ok([hw1, hw2]), "{hw1:#06x} {hw2:#06x}");
                }
                assert_eq!(ThumbBranch::decode(hw1, hw2, 0x8001), None);
            }
        }
    }

    #[test]
    fn words_are_refused_by_the_t32_decoder_where_the_arm_arm_forbids_them() {
        let t4 = ThumbBranch::B { target: 0x9000 }
            .encode(0x8000)
            .expect("in range");
        let t3 = ThumbBranch::BCond {
            cond: Cond::Eq,
            target: 0x9000,
        }
        .encode(0x8000)
        .expect("in range");
        for it in ItPosition::ALL {
            let t4_ok = !matches!(it, ItPosition::Inside);
            let t3_ok = matches!(it, ItPosition::Outside);
            assert_eq!(
                decode_t32(t4[0], t4[1], it) == T32Decoded::Simulate(T32Kind::Branch),
                t4_ok,
                "{it:?}"
            );
            assert_eq!(
                decode_t32(t3[0], t3[1], it) == T32Decoded::Simulate(T32Kind::ConditionalBranch),
                t3_ok,
                "{it:?}"
            );
        }
    }

    #[test]
    fn every_thumb_branch_error_displays_its_cause_and_numbers() {
        let cases = [
            (
                BranchError::ThumbOutOfRange {
                    offset: 0x0100_0000,
                    kind: ThumbBranchKind::B,
                },
                "+0x1000000",
            ),
            (
                BranchError::ThumbOutOfRange {
                    offset: -0x0010_0002,
                    kind: ThumbBranchKind::BCond,
                },
                "-0x100002 from the branch's PC (address + 4) is outside -0x100000..=+0xffffe",
            ),
            (
                BranchError::ThumbOutOfRange {
                    offset: i32::MIN,
                    kind: ThumbBranchKind::B,
                },
                "-0x80000000",
            ),
            (
                BranchError::MisalignedThumbSource { from: 0x8001 },
                "0x00008001 is not halfword-aligned",
            ),
            (BranchError::ThumbCondition { cond: Cond::Al }, "Al"),
        ];
        for (error, needle) in cases {
            let text = error.to_string();
            assert!(text.contains(needle), "{text:?} lacks {needle:?}");
        }
        let debug = format!(
            "{:?}",
            BranchError::ThumbOutOfRange {
                offset: -2,
                kind: ThumbBranchKind::BCond
            }
        );
        assert_eq!(debug, "ThumbOutOfRange { offset: -2, kind: BCond }");
        assert_eq!(
            format!("{:?}", BranchError::MisalignedThumbSource { from: 0x8001 }),
            "MisalignedThumbSource { from: 0x8001 }"
        );
        assert_eq!(
            format!(
                "{:?}",
                BranchError::ThumbCondition {
                    cond: Cond::Unconditional
                }
            ),
            "ThumbCondition { cond: Unconditional }"
        );
    }

    #[test]
    fn encoder_and_reach_evaluate_at_compile_time() {
        const WORDS: Result<[u16; 2], BranchError> =
            ThumbBranch::replacing(Cond::Al, 0x8000, 0x800c);
        const REACH: Result<i32, BranchError> = ThumbBranchKind::BCond.reach(0, 0x0010_0004);
        assert_eq!(WORDS, Ok([0xf000, 0xb804]));
        assert!(matches!(
            REACH,
            Err(BranchError::ThumbOutOfRange {
                offset: 0x10_0000,
                ..
            })
        ));
    }
}
