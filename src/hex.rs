//! Hexadecimal `Debug` for addresses and words in the error types, so that `{:?}` of an
//! error shows `addr: 0x80001000` rather than `addr: 2147487744`.

use core::fmt;

/// Prints its value as `{:#x}` under `Debug`.
pub(crate) struct Hex<T>(pub(crate) T);

impl<T: fmt::LowerHex> fmt::Debug for Hex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Hex;

    #[test]
    fn prints_hex_with_prefix() {
        assert_eq!(format!("{:?}", Hex(0x8000_1000usize)), "0x80001000");
        assert_eq!(format!("{:?}", Hex(0u32)), "0x0");
    }
}
