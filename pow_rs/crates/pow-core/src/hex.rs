//! Strict hex parsing for IDs, keys and signatures that arrive as text (`0x`-prefixed or not).

use crate::error::{Error, Result};

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Lower-case hex of `bytes`, no prefix.
pub fn encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of a hex string, with an optional `0x` prefix; `length` checks the decoded size.
pub fn decode(text: &str, length: Option<usize>) -> Result<Vec<u8>> {
    let digits = text.strip_prefix("0x").unwrap_or(text).as_bytes();
    if digits.len() % 2 != 0 {
        return Err(Error::InvalidHex(format!(
            "odd number of digits ({})",
            digits.len()
        )));
    }
    let bytes = digits
        .chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| match (nibble(pair[0]), nibble(pair[1])) {
            (Some(h), Some(l)) => Ok(h << 4 | l),
            _ => Err(Error::InvalidHex(format!(
                "{:?} at byte {i} is not a hex digit pair",
                String::from_utf8_lossy(pair)
            ))),
        })
        .collect::<Result<Vec<u8>>>()?;
    match length {
        Some(n) if n != bytes.len() => Err(Error::length("hex value", n, bytes.len())),
        _ => Ok(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_with_and_without_prefix() {
        assert_eq!(decode("0x00ff", None).unwrap(), vec![0, 255]);
        assert_eq!(decode("ABcd", Some(2)).unwrap(), vec![0xab, 0xcd]);
        assert_eq!(decode("", None).unwrap(), Vec::<u8>::new());
        assert_eq!(encode(&[0, 0xab, 0xff]), "00abff");
    }

    #[test]
    fn rejects_bad_hex() {
        assert!(matches!(decode("abc", None), Err(Error::InvalidHex(_))));
        assert!(matches!(decode("zz", None), Err(Error::InvalidHex(_))));
        assert!(matches!(decode("0x0g", None), Err(Error::InvalidHex(_))));
        assert!(matches!(decode("00", Some(32)), Err(Error::InvalidLength { .. })));
    }
}
