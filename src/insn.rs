//! A32 instruction words and their condition field.

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
}

#[cfg(test)]
mod tests {
    use super::*;

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
                assert_eq!(Cond::from_bits(i as u32).passes(cpsr), *e, "cond {i} nzcv {nzcv:04b}");
            }
        }
    }
}
