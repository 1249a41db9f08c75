//! A32 instruction words, and the two words the crate writes over probed instructions: the
//! breakpoint and the condition-preserving immediate branch (B, BL, BLX(imm)); the Thumb
//! breakpoints are in [`ThumbBreakpoint`], the 32-bit Thumb branch (`b.w`, `b<c>.w`) in
//! [`ThumbBranch`].
//!
//! Everything here is pure `const` logic on `u32`s, so it runs on the host, is proven there
//! against an independent disassembler (`tests/insn_oracle.rs`), and can build templates at
//! compile time.
//!
//! Addresses are `u32` and branch arithmetic wraps modulo 2^32, exactly as the ARM ARM computes
//! the PC: a `b` at `0xffff_fff0` reaches `0x0000_0010`, and the other way round. The encoder
//! accepts such a pair when the wrapped offset is in range, and the decoder wraps the same way,
//! so `decode(encode(x)) == x` everywhere.

use crate::hex::Hex;

mod thumb_branch;
mod thumb_breakpoint;

pub use thumb_branch::{ThumbBranch, ThumbBranchKind};
pub use thumb_breakpoint::ThumbBreakpoint;

/// The condition field (bits 31:28) of an A32 instruction.
///
/// `Unconditional` (0xF) is not "always": it selects the unconditional instruction space
/// (BLX(imm), PLD, barriers, …), a different set of encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Cond {
    /// Equal (Z set).
    Eq = 0x0,
    /// Not equal (Z clear).
    Ne = 0x1,
    /// Carry set / unsigned higher or same.
    Cs = 0x2,
    /// Carry clear / unsigned lower.
    Cc = 0x3,
    /// Minus (N set).
    Mi = 0x4,
    /// Plus or zero (N clear).
    Pl = 0x5,
    /// Overflow (V set).
    Vs = 0x6,
    /// No overflow (V clear).
    Vc = 0x7,
    /// Unsigned higher (C set and Z clear).
    Hi = 0x8,
    /// Unsigned lower or same (C clear or Z set).
    Ls = 0x9,
    /// Signed greater or equal (N == V).
    Ge = 0xa,
    /// Signed less than (N != V).
    Lt = 0xb,
    /// Signed greater than (Z clear and N == V).
    Gt = 0xc,
    /// Signed less or equal (Z set or N != V).
    Le = 0xd,
    /// Always.
    Al = 0xe,
    /// The unconditional instruction space (0xF).
    Unconditional = 0xf,
}

impl Cond {
    /// All sixteen values, in encoding order.
    pub const ALL: [Cond; 16] = [
        Cond::Eq,
        Cond::Ne,
        Cond::Cs,
        Cond::Cc,
        Cond::Mi,
        Cond::Pl,
        Cond::Vs,
        Cond::Vc,
        Cond::Hi,
        Cond::Ls,
        Cond::Ge,
        Cond::Lt,
        Cond::Gt,
        Cond::Le,
        Cond::Al,
        Cond::Unconditional,
    ];

    /// The condition with encoding `bits & 0xf`.
    pub const fn from_bits(bits: u32) -> Cond {
        Cond::ALL[(bits & 0xf) as usize]
    }

    /// The 4-bit encoding.
    pub const fn bits(self) -> u32 {
        self as u32
    }

    /// Whether an instruction with this condition executes under `cpsr`'s NZCV flags.
    /// `Al` and `Unconditional` always execute.
    pub const fn passes(self, cpsr: u32) -> bool {
        let n = cpsr & (1 << 31) != 0;
        let z = cpsr & (1 << 30) != 0;
        let c = cpsr & (1 << 29) != 0;
        let v = cpsr & (1 << 28) != 0;
        match self {
            Cond::Eq => z,
            Cond::Ne => !z,
            Cond::Cs => c,
            Cond::Cc => !c,
            Cond::Mi => n,
            Cond::Pl => !n,
            Cond::Vs => v,
            Cond::Vc => !v,
            Cond::Hi => c && !z,
            Cond::Ls => !c || z,
            Cond::Ge => n == v,
            Cond::Lt => n != v,
            Cond::Gt => !z && n == v,
            Cond::Le => z || n != v,
            Cond::Al | Cond::Unconditional => true,
        }
    }
}

/// One A32 instruction word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Insn(pub u32);

impl Insn {
    /// The condition field.
    pub const fn cond(self) -> Cond {
        Cond::from_bits(self.0 >> 28)
    }

    /// The raw word.
    pub const fn word(self) -> u32 {
        self.0
    }

    /// Whether the condition passes whatever the flags: AL (0b1110) or the
    /// unconditional space (0b1111).
    pub const fn always_passes(self) -> bool {
        self.0 >= 0xe000_0000
    }

    /// Bits 27:25, the ARM ARM's `op1` in the top-level A32 encoding table (ARMv7 ARM A5.1):
    /// the first thing any A32 decoder looks at.
    pub const fn op1(self) -> u32 {
        (self.0 >> 25) & 0b111
    }

    /// Bit 4, the ARM ARM's `op` in the top-level A32 encoding table (ARMv7 ARM A5.1).
    pub const fn op(self) -> bool {
        self.0 & (1 << 4) != 0
    }

    /// The 4-bit register field whose lowest bit is `lsb` (16, 12, 8 or 0 in the A32
    /// encodings): the register number, 15 for PC.
    #[inline]
    pub const fn reg_at(self, lsb: u32) -> u32 {
        (self.0 >> lsb) & 0xf
    }

    /// Rn, bits 19:16: the first operand or the base register.
    #[inline]
    pub const fn rn(self) -> u32 {
        self.reg_at(16)
    }

    /// Rd, bits 15:12: the destination (multiplies put theirs at 19:16 instead).
    #[inline]
    pub const fn rd(self) -> u32 {
        self.reg_at(12)
    }

    /// Rt, bits 15:12: the register a load/store transfers (the first of an LDRD/STRD pair).
    #[inline]
    pub const fn rt(self) -> u32 {
        self.reg_at(12)
    }

    /// Rs, bits 11:8: the register holding a shift amount.
    #[inline]
    pub const fn rs(self) -> u32 {
        self.reg_at(8)
    }

    /// Rm, bits 3:0: the second operand or the offset register.
    #[inline]
    pub const fn rm(self) -> u32 {
        self.reg_at(0)
    }

    /// P, bit 24: a load/store indexes before the access (offset or pre-indexed).
    #[inline]
    pub const fn p(self) -> bool {
        self.0 & (1 << 24) != 0
    }

    /// U, bit 23: a load/store adds its offset (up) rather than subtracting it.
    #[inline]
    pub const fn u(self) -> bool {
        self.0 & (1 << 23) != 0
    }

    /// W, bit 21: a load/store writes the address back to the base.
    #[inline]
    pub const fn w(self) -> bool {
        self.0 & (1 << 21) != 0
    }

    /// L, bit 20: a load/store (single or multiple) loads.
    #[inline]
    pub const fn l(self) -> bool {
        self.0 & (1 << 20) != 0
    }

    /// S, bit 20: a data-processing instruction sets the flags (the same bit as [`Insn::l`]).
    #[inline]
    pub const fn s(self) -> bool {
        self.0 & (1 << 20) != 0
    }

    /// H, bit 5 of the extra load/store encodings (`1 S H 1` at bits 7:4): set for STRH,
    /// LDRSH and STRD, clear for LDRSB and LDRD.
    #[inline]
    pub const fn h(self) -> bool {
        self.0 & (1 << 5) != 0
    }

    /// The data-processing opcode, bits 24:21 (AND 0000 … MVN 1111).
    #[inline]
    pub const fn opcode(self) -> u32 {
        (self.0 >> 21) & 0xf
    }

    /// imm12, bits 11:0: the offset of a word/byte load/store (immediate), or the rotated
    /// immediate of data-processing (immediate): rotation at 11:8, imm8 at 7:0.
    #[inline]
    pub const fn imm12(self) -> u32 {
        self.0 & 0xfff
    }

    /// imm24, bits 23:0: the word offset of B/BL/BLX(imm).
    #[inline]
    pub const fn imm24(self) -> u32 {
        self.0 & 0x00ff_ffff
    }

    /// imm4H:imm4L, bits 11:8 and 3:0: the 8-bit offset of an extra load/store (immediate).
    #[inline]
    pub const fn imm4h_imm4l(self) -> u32 {
        (self.0 >> 4) & 0xf0 | self.0 & 0xf
    }

    /// imm5, bits 11:7: a shift amount, or the lsb of a bit-field instruction.
    #[inline]
    pub const fn imm5(self) -> u32 {
        (self.0 >> 7) & 0x1f
    }

    /// msb, bits 20:16 of BFI/BFC.
    #[inline]
    pub const fn msb(self) -> u32 {
        (self.0 >> 16) & 0x1f
    }

    /// widthm1, bits 20:16 of SBFX/UBFX (the same bits as [`Insn::msb`]).
    #[inline]
    pub const fn widthm1(self) -> u32 {
        (self.0 >> 16) & 0x1f
    }

    /// register_list, bits 15:0 of LDM/STM: bit n set transfers rn.
    #[inline]
    pub const fn reglist(self) -> u32 {
        self.0 & 0xffff
    }

    /// I, bit 25: the operand-2 selector of data-processing (set: a rotated immediate) and of
    /// word/byte loads/stores (set: a register offset).
    #[inline]
    pub const fn i(self) -> bool {
        self.0 & (1 << 25) != 0
    }

    /// B, bit 22 of a word/byte load/store (LDRB, STRB): the access is one byte.
    #[inline]
    pub const fn b(self) -> bool {
        self.0 & (1 << 22) != 0
    }

    /// imm4:imm12, bits 19:16 and 11:0: the 16-bit immediate of MOVW/MOVT.
    #[inline]
    pub const fn imm4_imm12(self) -> u32 {
        (self.0 >> 4) & 0xf000 | self.0 & 0xfff
    }

    /// type, bits 6:5: the shift of a shifted-register operand (LSL 00, LSR 01, ASR 10,
    /// ROR/RRX 11), as DecodeImmShift and DecodeRegShift take it.
    #[inline]
    pub const fn shift_type(self) -> u32 {
        (self.0 >> 5) & 0b11
    }

    /// sh, bit 6 of SSAT/USAT: the operand is shifted right (ASR) rather than left.
    #[inline]
    pub const fn sh(self) -> bool {
        self.0 & (1 << 6) != 0
    }

    /// tb, bit 6 of PKHBT/PKHTB: set for PKHTB (top from Rn, bottom from Rm ASR), the same bit
    /// as [`Insn::sh`].
    #[inline]
    pub const fn tb(self) -> bool {
        self.0 & (1 << 6) != 0
    }

    /// sat_imm, bits 20:16 of SSAT/USAT: the saturation bit position (SSAT saturates to
    /// sat_imm + 1 bits).
    #[inline]
    pub const fn sat_imm(self) -> u32 {
        (self.0 >> 16) & 0x1f
    }

    /// sat_imm, bits 19:16 of SSAT16/USAT16: the 4-bit saturation position of each halfword.
    #[inline]
    pub const fn sat_imm4(self) -> u32 {
        (self.0 >> 16) & 0xf
    }

    /// rotate, bits 11:10 of the extend instructions (SXTB…UXTAH): Rm rotates right by
    /// 8 × rotate bits.
    #[inline]
    pub const fn rotate(self) -> u32 {
        (self.0 >> 10) & 0b11
    }

    /// N, bit 5 of `SMLA<x><y>`, `SMUL<x><y>` and `SMLAL<x><y>`: x = T, Rn's top half.
    #[inline]
    pub const fn halfword_n(self) -> bool {
        self.0 & (1 << 5) != 0
    }

    /// M, bit 6 of the halfword multiplies (`SMLA<x><y>`, `SMUL<x><y>`, `SMLAL<x><y>`,
    /// `SMLAW<y>`, `SMULW<y>`): y = T, Rm's top half.
    #[inline]
    pub const fn halfword_m(self) -> bool {
        self.0 & (1 << 6) != 0
    }

    /// M, bit 5 of the dual multiplies (SMLAD, SMUAD, SMLSD, SMUSD, SMLALD, SMLSLD): the X
    /// suffix, Rm's halves swapped.
    #[inline]
    pub const fn dual_m(self) -> bool {
        self.0 & (1 << 5) != 0
    }

    /// R, bit 5 of SMMLA, SMMUL and SMMLS: the result is rounded.
    #[inline]
    pub const fn round(self) -> bool {
        self.0 & (1 << 5) != 0
    }

    /// option, bits 3:0 of DMB, DSB and ISB: the shareability domain and access types.
    #[inline]
    pub const fn option(self) -> u32 {
        self.0 & 0xf
    }

    /// The same word with its condition field replaced by `cond`.
    pub const fn with_cond(self, cond: Cond) -> Insn {
        Insn((self.0 & 0x0fff_ffff) | (cond.bits() << 28))
    }

    /// The condition for a word written in place of this instruction (breakpoint or branch),
    /// chosen so it executes exactly when this one would: this instruction's own condition,
    /// or `Al` for `Al` and for the unconditional space (0xF), where the replacement must not
    /// carry 0xF because that would change what it is (a `b` would become BLX(imm)).
    pub const fn replacement_cond(self) -> Cond {
        match self.cond() {
            Cond::Unconditional => Cond::Al,
            cond => cond,
        }
    }
}

/// Which immediate branch an A32 word is; it fixes the target's alignment and the reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BranchKind {
    /// `B<c> label`: branch within A32 code.
    B,
    /// `BL<c> label`: branch with link within A32 code.
    Bl,
    /// `BLX label` (immediate, cond field 0xF): branch with link to Thumb code at a halfword
    /// address.
    BlxImm,
}

impl BranchKind {
    /// The most negative reachable offset, `target - (address + 8)`, for every kind.
    pub const MIN_OFFSET: i32 = -0x0200_0000;

    /// The most positive reachable offset, `target - (address + 8)`: `0x01ff_fffc` for B/BL,
    /// `0x01ff_fffe` for BLX(imm), whose H bit adds a halfword.
    pub const fn max_offset(self) -> i32 {
        match self {
            BranchKind::B | BranchKind::Bl => 0x01ff_fffc,
            BranchKind::BlxImm => 0x01ff_fffe,
        }
    }

    /// The alignment of a target in bytes: 4 for A32 code, 2 for Thumb code.
    pub const fn target_alignment(self) -> u32 {
        match self {
            BranchKind::B | BranchKind::Bl => 4,
            BranchKind::BlxImm => 2,
        }
    }

    /// Whether a branch of this kind at `from` can reach `to`, and with which offset
    /// (`to - (from + 8)`, modulo 2^32, as a signed number).
    ///
    /// This is the encoder's own rule, the only one: [`Branch::encode`] calls it, so whoever
    /// asks "is this reachable?" (the slot allocator) gets the encoder's answer. Checks, in
    /// order: `from` word-aligned, `to` aligned for the kind, offset within
    /// [`MIN_OFFSET`](Self::MIN_OFFSET) ..= [`max_offset`](Self::max_offset). Offsets wrap
    /// around the 32-bit address space, as the PC does.
    ///
    /// # Errors
    ///
    /// [`BranchError::MisalignedSource`], [`BranchError::MisalignedTarget`] or
    /// [`BranchError::OutOfRange`], in that order of checking.
    pub const fn reach(self, from: u32, to: u32) -> Result<i32, BranchError> {
        if !from.is_multiple_of(4) {
            return Err(BranchError::MisalignedSource { from });
        }
        let alignment = self.target_alignment();
        if !to.is_multiple_of(alignment) {
            return Err(BranchError::MisalignedTarget { to, alignment });
        }
        let offset = to.wrapping_sub(from.wrapping_add(8)) as i32;
        if offset < Self::MIN_OFFSET || offset > self.max_offset() {
            return Err(BranchError::OutOfRange { offset });
        }
        Ok(offset)
    }
}

/// Why a branch cannot be encoded.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BranchError {
    /// The target is beyond the ±32 MiB reach. `offset` is `to - (from + 8)` modulo 2^32 as a
    /// signed number: the distance the branch would have to cover.
    OutOfRange {
        /// The offset from the branch's PC (its address + 8) to the target.
        offset: i32,
    },
    /// The branch's own address is not word-aligned: no A32 instruction can live there.
    MisalignedSource {
        /// The address the branch was to be placed at.
        from: u32,
    },
    /// The target is not aligned for the code it lands in (4 for A32, 2 for Thumb). A Thumb
    /// target is the halfword address itself, without the interworking bit 0.
    MisalignedTarget {
        /// The requested target.
        to: u32,
        /// The alignment the target needs, in bytes.
        alignment: u32,
    },
    /// A B or BL was asked to carry condition 0xF, which encodes BLX(imm) instead.
    UnconditionalCond,
    /// A 32-bit Thumb branch's target is beyond its reach (±16 MiB for T4, ±1 MiB for T3).
    /// `offset` is `to - (from + 4)` modulo 2^32 as a signed number.
    ThumbOutOfRange {
        /// The offset from the branch's PC (its address + 4) to the target.
        offset: i32,
        /// The encoding that cannot reach it.
        kind: ThumbBranchKind,
    },
    /// A Thumb branch's own address is odd: no Thumb instruction can live there.
    MisalignedThumbSource {
        /// The address the branch was to be placed at.
        from: u32,
    },
    /// A T3 `B<c>.W` was asked to carry `Al` or `Unconditional`: with `cond<3:1> == '111'`
    /// its bits are other instructions. The always-branch is T4.
    ThumbCondition {
        /// The condition refused.
        cond: Cond,
    },
}

impl core::fmt::Debug for BranchError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            BranchError::OutOfRange { offset } => f
                .debug_struct("OutOfRange")
                .field("offset", &offset)
                .finish(),
            BranchError::MisalignedSource { from } => f
                .debug_struct("MisalignedSource")
                .field("from", &Hex(from))
                .finish(),
            BranchError::MisalignedTarget { to, alignment } => f
                .debug_struct("MisalignedTarget")
                .field("to", &Hex(to))
                .field("alignment", &alignment)
                .finish(),
            BranchError::UnconditionalCond => f.write_str("UnconditionalCond"),
            BranchError::ThumbOutOfRange { offset, kind } => f
                .debug_struct("ThumbOutOfRange")
                .field("offset", &offset)
                .field("kind", &kind)
                .finish(),
            BranchError::MisalignedThumbSource { from } => f
                .debug_struct("MisalignedThumbSource")
                .field("from", &Hex(from))
                .finish(),
            BranchError::ThumbCondition { cond } => f
                .debug_struct("ThumbCondition")
                .field("cond", &cond)
                .finish(),
        }
    }
}

impl core::fmt::Display for BranchError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            BranchError::OutOfRange { offset } => {
                let sign = if offset < 0 { "-" } else { "+" };
                write!(
                    f,
                    "branch target out of range: offset {sign}{:#x} from the branch's PC \
                     (address + 8) is outside -0x2000000..=+0x1fffffc",
                    offset.unsigned_abs()
                )
            }
            BranchError::MisalignedSource { from } => {
                write!(f, "branch address {from:#010x} is not word-aligned")
            }
            BranchError::MisalignedTarget { to, alignment } => {
                write!(
                    f,
                    "branch target {to:#010x} is not {alignment}-byte aligned"
                )
            }
            BranchError::UnconditionalCond => {
                f.write_str("condition 0xF on B/BL would encode BLX(imm)")
            }
            BranchError::ThumbOutOfRange { offset, kind } => {
                let sign = if offset < 0 { "-" } else { "+" };
                write!(
                    f,
                    "Thumb branch target out of range: offset {sign}{:#x} from the branch's PC \
                     (address + 4) is outside -{:#x}..=+{:#x} for encoding {}",
                    offset.unsigned_abs(),
                    kind.min_offset().unsigned_abs(),
                    kind.max_offset(),
                    kind.encoding()
                )
            }
            BranchError::MisalignedThumbSource { from } => {
                write!(
                    f,
                    "Thumb branch address {from:#010x} is not halfword-aligned"
                )
            }
            BranchError::ThumbCondition { cond } => {
                write!(
                    f,
                    "condition {cond:?} cannot be carried by a Thumb B<c>.W (T3 takes EQ to LE; \
                     the always-branch is B.W, T4)"
                )
            }
        }
    }
}

impl core::error::Error for BranchError {}

/// An immediate branch, with its absolute target (target = address + 8 + offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Branch {
    /// `B<cond> target`.
    B {
        /// The condition; never `Unconditional` in an encodable branch.
        cond: Cond,
        /// The absolute A32 target.
        target: u32,
    },
    /// `BL<cond> target`.
    Bl {
        /// The condition; never `Unconditional` in an encodable branch.
        cond: Cond,
        /// The absolute A32 target.
        target: u32,
    },
    /// `BLX target` (immediate): always executes, switches to Thumb.
    BlxImm {
        /// The absolute halfword address of the Thumb target (bit 0 clear).
        target: u32,
    },
}

/// Bits 27:25 of every B, BL and BLX(imm).
const BRANCH_OP1: u32 = 0b101;

impl Branch {
    /// Which kind of branch this is.
    pub const fn kind(self) -> BranchKind {
        match self {
            Branch::B { .. } => BranchKind::B,
            Branch::Bl { .. } => BranchKind::Bl,
            Branch::BlxImm { .. } => BranchKind::BlxImm,
        }
    }

    /// The condition field the word carries (`Unconditional` for BLX(imm)).
    pub const fn cond(self) -> Cond {
        match self {
            Branch::B { cond, .. } | Branch::Bl { cond, .. } => cond,
            Branch::BlxImm { .. } => Cond::Unconditional,
        }
    }

    /// The absolute target address.
    pub const fn target(self) -> u32 {
        match self {
            Branch::B { target, .. } | Branch::Bl { target, .. } | Branch::BlxImm { target } => {
                target
            }
        }
    }

    /// The word for this branch placed at address `from`.
    ///
    /// Reachability is decided by [`BranchKind::reach`]; a B or BL with condition
    /// `Unconditional` is refused because 0xF in that position means BLX(imm).
    ///
    /// # Errors
    ///
    /// Every error of [`BranchKind::reach`], and [`BranchError::UnconditionalCond`] for a
    /// B or BL with condition `Unconditional`.
    pub const fn encode(self, from: u32) -> Result<Insn, BranchError> {
        let (cond, link) = match self {
            Branch::B { cond, .. } => (cond, 0),
            Branch::Bl { cond, .. } => (cond, 1),
            Branch::BlxImm { .. } => (Cond::Unconditional, 0),
        };
        if matches!(cond, Cond::Unconditional) && !matches!(self, Branch::BlxImm { .. }) {
            return Err(BranchError::UnconditionalCond);
        }
        let offset = match self.kind().reach(from, self.target()) {
            Ok(offset) => offset,
            Err(e) => return Err(e),
        };
        // imm24 holds offset bits 25:2. Bit 24 is L for B/BL and H (offset bit 1) for
        // BLX(imm).
        let imm24 = ((offset >> 2) as u32) & 0x00ff_ffff;
        let bit24 = match self {
            Branch::BlxImm { .. } => ((offset >> 1) & 1) as u32,
            _ => link,
        };
        let word = (cond.bits() << 28) | (BRANCH_OP1 << 25) | (bit24 << 24) | imm24;
        Ok(Insn(word))
    }

    /// The branch `insn` is when it sits at address `at`, or `None` when it is not a B, BL or
    /// BLX(imm), or when `at` is not word-aligned (no A32 instruction lives there). Every
    /// `Some` result encodes back to `insn` at `at`.
    pub const fn decode(insn: Insn, at: u32) -> Option<Branch> {
        if insn.op1() != BRANCH_OP1 || !at.is_multiple_of(4) {
            return None;
        }
        let word = insn.word();
        let bit24 = (word >> 24) & 1;
        // Shifting imm24 to the top and back arithmetically sign-extends imm24:'00'.
        let imm = ((word << 8) as i32) >> 6;
        let base = at.wrapping_add(8).wrapping_add(imm as u32);
        Some(match insn.cond() {
            Cond::Unconditional => Branch::BlxImm {
                target: base.wrapping_add(bit24 << 1),
            },
            cond if bit24 == 0 => Branch::B { cond, target: base },
            cond => Branch::Bl { cond, target: base },
        })
    }

    /// The `b` written over `original` at `from` to jump to `to`, taking its condition from
    /// `original` (see [`Insn::replacement_cond`]), so a failing condition skips the
    /// instruction just as it did before it was replaced.
    ///
    /// # Errors
    ///
    /// As [`Branch::encode`] for a `b` from `from` to `to`.
    pub const fn replacing(original: Insn, from: u32, to: u32) -> Result<Insn, BranchError> {
        Branch::B {
            cond: original.replacement_cond(),
            target: to,
        }
        .encode(from)
    }
}

/// The breakpoint the crate writes over a probed instruction: `0x07f001f8` with the probed
/// instruction's condition, in the A32 permanently-undefined space (ARMv7 ARM A5.4, media
/// instructions), so it traps to the undefined-instruction handler.
///
/// A conditional permanently-undefined word may trap even when its condition fails; the
/// handler checks the condition. With cond 0xF the same bits fall in the unconditional space
/// instead; the crate never writes that word and [`is_breakpoint`](Self::is_breakpoint)
/// does not claim it, so an undefined-instruction trap on it is never taken for a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BreakpointWord;

impl BreakpointWord {
    /// The breakpoint with its condition bits clear; the condition is ORed into bits 31:28.
    pub const TEMPLATE: u32 = 0x07f0_01f8;

    /// The breakpoint to write over `original`: the template with
    /// [`original.replacement_cond()`](Insn::replacement_cond) (`Al` for `Al` and 0xF).
    pub const fn for_original(original: Insn) -> Insn {
        Insn(Self::TEMPLATE).with_cond(original.replacement_cond())
    }

    /// Whether `insn` is a breakpoint this crate writes: the template with any condition
    /// 0x0 to 0xE, and nothing else (not the 0xF form, see the type's documentation).
    pub const fn is_breakpoint(insn: Insn) -> bool {
        insn.word() & 0x0fff_ffff == Self::TEMPLATE && !matches!(insn.cond(), Cond::Unconditional)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_fields_read_their_arm_arm_bits() {
        // ldrd r2, r3, [r1, #-0x24]!: P U I W L = 1 0 1 1 0, Rn 1, Rt 2, imm4H:imm4L 0x24.
        let ldrd = Insn(0xe161_22d4);
        assert_eq!((ldrd.rn(), ldrd.rt(), ldrd.imm4h_imm4l()), (1, 2, 0x24));
        assert!(ldrd.p() && !ldrd.u() && ldrd.w() && !ldrd.l() && !ldrd.h());
        // strd r2, r3, [r1] has H set.
        assert!(Insn(0xe1c1_20f0).h());
        // add r3, r4, r5, lsl r6: opcode 0100, Rn 4, Rd 3, Rs 6, Rm 5.
        let add = Insn(0xe084_3615);
        assert_eq!(
            (add.opcode(), add.rn(), add.rd(), add.rs(), add.rm()),
            (0b0100, 4, 3, 6, 5)
        );
        assert!(!add.s() && Insn(0xe094_3615).s());
        assert_eq!(add.reg_at(8), add.rs());
        // ldr r0, [sp, #0x123]; push {r4, lr}; b with the largest imm24.
        assert_eq!(Insn(0xe59d_0123).imm12(), 0x123);
        assert!(Insn(0xe59d_0123).l());
        assert_eq!(Insn(0xe92d_4010).reglist(), 0x4010);
        assert_eq!(Insn(0xeaff_ffff).imm24(), 0x00ff_ffff);
        // ubfx r0, r1, #24, #8: widthm1 7, lsb 24; bfi r0, r1, #4, #8: msb 11, lsb 4.
        let ubfx = Insn(0xe7e7_0c51);
        assert_eq!((ubfx.widthm1(), ubfx.imm5()), (7, 24));
        let bfi = Insn(0xe7cb_0211);
        assert_eq!((bfi.msb(), bfi.imm5()), (11, 4));
    }

    #[test]
    fn insn_fields_read_the_top_level_encoding_bits() {
        // `bl` (op1 = 101), `ldr r0, [r1]` (op1 = 010), `mul r0, r1, r2` (op1 = 000, op = 1).
        assert_eq!(Insn(0xeb00_0000).op1(), 0b101);
        assert_eq!(Insn(0xe591_0000).op1(), 0b010);
        assert_eq!(Insn(0xe000_0291).op1(), 0b000);
        assert!(Insn(0xe000_0291).op());
        assert!(!Insn(0xe1a0_0000).op());
    }

    #[test]
    fn with_cond_changes_only_bits_31_to_28() {
        for cond in Cond::ALL {
            let word = Insn(0x5a5a_5a5a).with_cond(cond);
            assert_eq!(word.cond(), cond);
            assert_eq!(word.word() & 0x0fff_ffff, 0x0a5a_5a5a);
        }
    }

    #[test]
    fn replacement_cond_is_own_cond_or_al_never_unconditional() {
        for cond in Cond::ALL {
            let got = Insn(0).with_cond(cond).replacement_cond();
            let want = if cond == Cond::Unconditional {
                Cond::Al
            } else {
                cond
            };
            assert_eq!(got, want);
        }
    }

    #[test]
    fn cond_round_trips_all_sixteen_encodings() {
        for b in 0..16 {
            assert_eq!(Cond::from_bits(b).bits(), b);
        }
    }

    #[test]
    fn cond_passes_matches_arm_arm_truth_table() {
        // Each flag combination NZCV in bits 31:28.
        for nzcv in 0..16u32 {
            let cpsr = nzcv << 28;
            let (n, z, c, v) = (nzcv & 8 != 0, nzcv & 4 != 0, nzcv & 2 != 0, nzcv & 1 != 0);
            let expect = [
                z,
                !z,
                c,
                !c,
                n,
                !n,
                v,
                !v,
                c && !z,
                !c || z,
                n == v,
                n != v,
                !z && n == v,
                z || n != v,
                true,
                true,
            ];
            for (i, e) in expect.iter().enumerate() {
                assert_eq!(
                    Cond::from_bits(i as u32).passes(cpsr),
                    *e,
                    "cond {i} nzcv {nzcv:04b}"
                );
            }
        }
    }
}
