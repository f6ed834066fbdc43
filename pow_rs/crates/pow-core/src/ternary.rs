//! Balanced ternary: trits, trytes and the b1t6 bytes-to-trytes encoding (TIP-5).
//!
//! A trit is -1, 0 or 1; a tryte is three trits (least significant first) written with the
//! alphabet `9A..Z`, where `9` is 0, `A`..`M` are 1..13 and `N`..`Z` are -13..-1.

use crate::error::{Error, Result};

pub type Trit = i8;

const ALPHABET: &[u8; 27] = b"9ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Value of one tryte character, or `None` if it is not in the alphabet.
fn tryte_value(c: u8) -> Option<i8> {
    match c {
        b'9' => Some(0),
        b'A'..=b'M' => Some((c - b'A') as i8 + 1),
        b'N'..=b'Z' => Some((c - b'N') as i8 - 13),
        _ => None,
    }
}

fn tryte_char(value: i8) -> char {
    ALPHABET[value.rem_euclid(27) as usize] as char
}

/// Split a signed value in -13..=13 into its three balanced trits, least significant first.
fn tryte_trits(value: i8) -> [Trit; 3] {
    let mut v = value;
    let mut trits = [0; 3];
    for trit in &mut trits {
        let r = ((v + 1).rem_euclid(3)) - 1;
        *trit = r;
        v = (v - r) / 3;
    }
    trits
}

/// The two trytes of one byte read as a signed integer (b1t6).
pub fn byte_trytes(byte: u8) -> [i8; 2] {
    let v = byte as i8 as i16;
    let low = ((v + 13).rem_euclid(27)) - 13;
    [low as i8, ((v - low) / 27) as i8]
}

/// Append the six trits of each byte (b1t6) to `out`.
pub fn b1t6_trits(bytes: &[u8], out: &mut Vec<Trit>) {
    for &byte in bytes {
        for tryte in byte_trytes(byte) {
            out.extend_from_slice(&tryte_trits(tryte));
        }
    }
}

/// b1t6 encoding of `bytes` as a tryte string.
pub fn encode_b1t6(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|&b| byte_trytes(b))
        .map(tryte_char)
        .collect()
}

/// Decode a b1t6 tryte string back to bytes; every tryte pair must encode a value in -128..=127.
pub fn decode_b1t6(trytes: &str) -> Result<Vec<u8>> {
    let values = tryte_values(trytes)?;
    if values.len() % 2 != 0 {
        return Err(Error::InvalidTrytes(format!(
            "b1t6 needs an even number of trytes, got {}",
            values.len()
        )));
    }
    values
        .chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| {
            let v = pair[0] as i16 + 27 * pair[1] as i16;
            i8::try_from(v)
                .map(|b| b as u8)
                .map_err(|_| Error::InvalidTrytes(format!("tryte pair {i} encodes {v}, outside -128..=127")))
        })
        .collect()
}

fn tryte_values(trytes: &str) -> Result<Vec<i8>> {
    trytes
        .chars()
        .enumerate()
        .map(|(i, c)| {
            u8::try_from(c)
                .ok()
                .and_then(tryte_value)
                .ok_or_else(|| Error::InvalidTrytes(format!("character {c:?} at {i} is not a tryte")))
        })
        .collect()
}

/// Trits of a tryte string, three per tryte.
pub fn trytes_to_trits(trytes: &str) -> Result<Vec<Trit>> {
    Ok(tryte_values(trytes)?.into_iter().flat_map(tryte_trits).collect())
}

/// Tryte string of trits; `trits.len()` must be a multiple of 3.
pub fn trits_to_trytes(trits: &[Trit]) -> String {
    debug_assert_eq!(trits.len() % 3, 0);
    trits
        .chunks_exact(3)
        .map(|t| tryte_char(t[0] + 3 * t[1] + 9 * t[2]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tip5_vectors() {
        let doc: serde_json::Value = serde_json::from_str(&crate::testing::vector("b1t6_tip5.json")).unwrap();
        for case in doc["vectors"].as_array().unwrap() {
            let bytes = hex::decode(case["bytes_hex"].as_str().unwrap()).unwrap();
            let trytes = case["trytes"].as_str().unwrap();
            assert_eq!(encode_b1t6(&bytes), trytes);
            assert_eq!(decode_b1t6(trytes).unwrap(), bytes);
        }
    }

    #[test]
    fn every_byte_round_trips() {
        for b in 0..=255u8 {
            assert_eq!(decode_b1t6(&encode_b1t6(&[b])).unwrap(), vec![b]);
            let mut trits = Vec::new();
            b1t6_trits(&[b], &mut trits);
            assert_eq!(trits_to_trytes(&trits), encode_b1t6(&[b]));
        }
    }

    #[test]
    fn trits_round_trip() {
        let trytes = "9ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        assert_eq!(trits_to_trytes(&trytes_to_trits(trytes).unwrap()), trytes);
    }

    #[test]
    fn malformed_trytes() {
        assert!(matches!(decode_b1t6("9"), Err(Error::InvalidTrytes(_))));
        assert!(matches!(decode_b1t6("a9"), Err(Error::InvalidTrytes(_))));
        // 13 + 27 * 13 = 364 does not fit a signed byte.
        assert!(matches!(decode_b1t6("MM"), Err(Error::InvalidTrytes(_))));
    }
}
