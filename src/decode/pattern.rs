//! ARM ARM bit patterns (`"cccc 0001 0110 xxxx …"`) turned into `(mask, value)` pairs at compile
//! time, so every decode-table row is written the way the manual draws its encoding.
//!
//! A pattern is 32 bit characters, most significant first, in eight groups of four separated
//! by single spaces. `0` and `1` are fixed bits (set in the mask); `x` or any other lowercase
//! letter (`cccc` for the condition, `nnnn` for Rn, …) is a bit the row does not look at. The
//! 16-bit Thumb patterns ([`pattern16`]) are the same with 16 bits in four groups. The
//! conversion is a `const fn` and the tables are constants, so a malformed pattern — wrong
//! length, a missing or misplaced space, any other character — fails the build (a const
//! panic), never a test.

/// The `(mask, value)` a bit pattern selects: `word & mask == value`.
pub const fn pattern(p: &str) -> (u32, u32) {
    assert!(
        p.len() == 39,
        "a bit pattern is 32 bits in eight groups of four, e.g. \"cccc 0001 xxxx …\""
    );
    parse(p.as_bytes())
}

/// The `(mask, value)` a 16-bit Thumb bit pattern selects (`"0100 0111 0mmm m000"`: 16 bits in
/// four groups of four): `halfword & mask == value`.
pub const fn pattern16(p: &str) -> (u16, u16) {
    assert!(
        p.len() == 19,
        "a 16-bit bit pattern is 16 bits in four groups of four, e.g. \"0100 0111 xxxx x000\""
    );
    let (mask, value) = parse(p.as_bytes());
    // At most 16 bits were shifted in.
    (mask as u16, value as u16)
}

/// The bits of a pattern of any length (groups of four, one space between groups).
const fn parse(bytes: &[u8]) -> (u32, u32) {
    let mut mask = 0u32;
    let mut value = 0u32;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if i % 5 == 4 {
            assert!(
                c == b' ',
                "bit pattern groups of four are separated by one space"
            );
        } else {
            mask <<= 1;
            value <<= 1;
            match c {
                b'0' => mask |= 1,
                b'1' => {
                    mask |= 1;
                    value |= 1;
                }
                b'a'..=b'z' => {}
                _ => panic!("a bit pattern holds only 0, 1 and lowercase field letters (x: any)"),
            }
        }
        i += 1;
    }
    (mask, value)
}

#[cfg(test)]
mod tests {
    use super::{pattern, pattern16};

    #[test]
    fn hand_checked_patterns() {
        // Fixed bits land in the mask, letters are free; the condition is free unless 1111.
        assert_eq!(pattern("xxxx xxxx xxxx xxxx xxxx xxxx xxxx xxxx"), (0, 0));
        assert_eq!(
            pattern("0000 0000 0000 0000 0000 0000 0000 0001"),
            (0xffff_ffff, 1)
        );
        // MOVW.
        assert_eq!(
            pattern("cccc 0011 0000 xxxx xxxx xxxx xxxx xxxx"),
            (0x0ff0_0000, 0x0300_0000)
        );
        // BX: cond 0001 0010 (1111)(1111)(1111) 0001 Rm; the (1)s are should-be bits, not matched.
        assert_eq!(
            pattern("cccc 0001 0010 xxxx xxxx xxxx 0001 mmmm"),
            (0x0ff0_00f0, 0x0120_0010)
        );
        // STRD (immediate): P U 1 W 0, 1111.
        assert_eq!(
            pattern("cccc 000p u1w0 nnnn tttt iiii 1111 iiii"),
            (0x0e50_00f0, 0x0040_00f0)
        );
        // USAD8: Rd 19:16, 1111 at 15:12.
        assert_eq!(
            pattern("cccc 0111 1000 dddd 1111 mmmm 0001 nnnn"),
            (0x0ff0_f0f0, 0x0780_f010)
        );
        // The unconditional space.
        assert_eq!(
            pattern("1111 101h iiii iiii iiii iiii iiii iiii"),
            (0xfe00_0000, 0xfa00_0000)
        );
        // DMB: 1111 0101 0111 (1)(1)(1)(1) (1)(1)(1)(1) (0)(0)(0)(0) 0101 option.
        assert_eq!(
            pattern("1111 0101 0111 xxxx xxxx xxxx 0101 xxxx"),
            (0xfff0_00f0, 0xf570_0050)
        );
        // Bits everywhere: each position is where it should be.
        assert_eq!(
            pattern("1000 0000 0000 0000 0000 0000 0000 000x"),
            (0xffff_fffe, 0x8000_0000)
        );
        assert_eq!(
            pattern("x1x0 1x0x xxxx xxxx xxxx xxxx xxxx xxx1"),
            (0x5a00_0001, 0x4800_0001)
        );
    }

    #[test]
    fn hand_checked_16_bit_patterns() {
        assert_eq!(pattern16("xxxx xxxx xxxx xxxx"), (0, 0));
        // BX: 0100 0111 0 Rm (0)(0)(0); the (0)s are should-be bits, not matched.
        assert_eq!(pattern16("0100 0111 0mmm mxxx"), (0xff80, 0x4700));
        // CBZ/CBNZ: 1011 o0i1 imm5 Rn.
        assert_eq!(pattern16("1011 x0x1 xxxx xxxx"), (0xf500, 0xb100));
        assert_eq!(pattern16("1000 0000 0000 0001"), (0xffff, 0x8001));
    }

    #[test]
    #[should_panic(expected = "four groups")]
    fn a_long_16_bit_pattern_is_refused() {
        pattern16("0100 0111 0mmm mxxx x");
    }

    #[test]
    #[should_panic(expected = "eight groups")]
    fn a_short_pattern_is_refused() {
        pattern("cccc 0011 0000 xxxx xxxx xxxx xxxx");
    }

    #[test]
    #[should_panic(expected = "one space")]
    fn a_misplaced_space_is_refused() {
        pattern("cccc0 011 0000 xxxx xxxx xxxx xxxx xxxx");
    }

    #[test]
    #[should_panic(expected = "only 0, 1")]
    fn a_stray_character_is_refused() {
        pattern("cccc 0011 0000 xxxx xxxx xxxx xxxx xxx2");
    }
}
