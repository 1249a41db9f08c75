//! The ARMv7 ARM pseudo-code functions the classes share (A2.2, A8.4): shifts, AddWithCarry,
//! saturation and sign extension, written once so every class computes them the same way.

/// The shift kinds of A8.4.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shift {
    Lsl,
    Lsr,
    Asr,
    Ror,
    Rrx,
}

/// DecodeImmShift: the immediate-shift encoding (LSR/ASR #0 mean #32, ROR #0 means RRX).
pub(super) fn decode_imm_shift(ty: u32, imm5: u32) -> (Shift, u32) {
    let n32 = if imm5 == 0 { 32 } else { imm5 };
    match ty & 3 {
        0 => (Shift::Lsl, imm5),
        1 => (Shift::Lsr, n32),
        2 => (Shift::Asr, n32),
        _ if imm5 == 0 => (Shift::Rrx, 1),
        _ => (Shift::Ror, imm5),
    }
}

/// DecodeRegShift: the register-shift encoding.
pub(super) fn decode_reg_shift(ty: u32) -> Shift {
    match ty & 3 {
        0 => Shift::Lsl,
        1 => Shift::Lsr,
        2 => Shift::Asr,
        _ => Shift::Ror,
    }
}

/// Shift_C: the shifted value and the shifter carry-out.
pub(super) fn shift_c(x: u32, shift: Shift, n: u32, carry: bool) -> (u32, bool) {
    if n == 0 {
        return (x, carry);
    }
    match shift {
        Shift::Lsl => match n {
            1..=31 => (x << n, (x >> (32 - n)) & 1 != 0),
            32 => (0, x & 1 != 0),
            _ => (0, false),
        },
        Shift::Lsr => match n {
            1..=31 => (x >> n, (x >> (n - 1)) & 1 != 0),
            32 => (0, x >> 31 != 0),
            _ => (0, false),
        },
        Shift::Asr => {
            if n < 32 {
                (((x as i32) >> n) as u32, (x >> (n - 1)) & 1 != 0)
            } else {
                (((x as i32) >> 31) as u32, x >> 31 != 0)
            }
        }
        Shift::Ror => {
            let r = x.rotate_right(n % 32);
            (r, r >> 31 != 0)
        }
        Shift::Rrx => ((carry as u32) << 31 | x >> 1, x & 1 != 0),
    }
}

/// The data-processing operation `opcode` (AND…MVN, A8.8) on `n` and the shifter operand
/// `op2`: the result, the carry out (the shifter's for the logical operations) and the
/// overflow (`None` for the logical operations, which leave V unchanged). `c` is the C
/// flag (ADC, SBC, RSC).
#[inline(always)]
pub(super) fn alu(
    opcode: u32,
    n: u32,
    op2: u32,
    shifter_carry: bool,
    c: bool,
) -> (u32, bool, Option<bool>) {
    let logical = |r: u32| (r, shifter_carry, None);
    let arith = |(r, c, v): (u32, bool, bool)| (r, c, Some(v));
    match opcode {
        0x0 | 0x8 => logical(n & op2),
        0x1 | 0x9 => logical(n ^ op2),
        0x2 | 0xa => arith(add_with_carry(n, !op2, true)),
        0x3 => arith(add_with_carry(!n, op2, true)),
        0x4 | 0xb => arith(add_with_carry(n, op2, false)),
        0x5 => arith(add_with_carry(n, op2, c)),
        0x6 => arith(add_with_carry(n, !op2, c)),
        0x7 => arith(add_with_carry(!n, op2, c)),
        0xc => logical(n | op2),
        0xd => logical(op2),
        0xe => logical(n & !op2),
        _ => logical(!op2),
    }
}

/// AddWithCarry: result, carry-out, overflow.
pub(super) fn add_with_carry(x: u32, y: u32, carry: bool) -> (u32, bool, bool) {
    let unsigned = u64::from(x) + u64::from(y) + u64::from(carry);
    let signed = i64::from(x as i32) + i64::from(y as i32) + i64::from(carry);
    let result = unsigned as u32;
    (
        result,
        unsigned >> 32 != 0,
        i64::from(result as i32) != signed,
    )
}

/// SignedSatQ: `x` clamped to `bits`-bit two's complement, and whether it was clamped.
pub(super) fn signed_sat(x: i64, bits: u32) -> (i64, bool) {
    let max = (1i64 << (bits - 1)) - 1;
    let min = -(1i64 << (bits - 1));
    if x > max {
        (max, true)
    } else if x < min {
        (min, true)
    } else {
        (x, false)
    }
}

/// UnsignedSatQ: `x` clamped to `0..2^bits`, and whether it was clamped.
pub(super) fn unsigned_sat(x: i64, bits: u32) -> (i64, bool) {
    let max = (1i64 << bits) - 1;
    if x > max {
        (max, true)
    } else if x < 0 {
        (0, true)
    } else {
        (x, false)
    }
}

pub(super) const fn sext16(x: u32) -> i64 {
    x as u16 as i16 as i64
}

pub(super) const fn sext8(x: u32) -> i64 {
    x as u8 as i8 as i64
}
