//! BLAKE2b: block IDs, addresses, transaction essences and Merkle nodes all hash with it.

use blake2::digest::{Digest, Update, VariableOutput, consts::U32};
use blake2::{Blake2b, Blake2bVar};

use crate::error::{Error, Result};

/// BLAKE2b with a 32-byte digest.
pub type Blake2b256 = Blake2b<U32>;

/// BLAKE2b-256 of `data`.
pub fn hash_256(data: &[u8]) -> [u8; 32] {
    Blake2b256::digest(data).into()
}

/// BLAKE2b-256 over several parts, as if they were concatenated (no copy).
pub fn hash_256_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Blake2b256::new();
    for part in parts {
        Digest::update(&mut hasher, part);
    }
    hasher.finalize().into()
}

/// BLAKE2b with any digest size from 1 to 64 bytes.
pub fn hash_var(data: &[u8], digest_size: usize) -> Result<Vec<u8>> {
    if !(1..=64).contains(&digest_size) {
        return Err(Error::InvalidLength {
            what: "digest_size",
            expected: "1 to 64".into(),
            actual: digest_size,
        });
    }
    let mut hasher = Blake2bVar::new(digest_size).expect("digest size checked above");
    hasher.update(data);
    let mut out = vec![0u8; digest_size];
    hasher
        .finalize_variable(&mut out)
        .expect("output buffer has the digest size");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors() {
        let cases: Vec<serde_json::Value> =
            serde_json::from_str(&crate::testing::vector("blake2b.json")).unwrap();
        assert_eq!(cases.len(), 256);
        for case in cases {
            let input = hex::decode(case["in"].as_str().unwrap()).unwrap();
            assert_eq!(hex::encode(hash_256(&input)), case["out_256"].as_str().unwrap());
            assert_eq!(
                hex::encode(hash_var(&input, 64).unwrap()),
                case["out"].as_str().unwrap()
            );
            assert_eq!(
                hex::encode(hash_var(&input, 20).unwrap()),
                case["out_160"].as_str().unwrap()
            );
        }
    }

    #[test]
    fn parts_equal_concatenation() {
        assert_eq!(hash_256_parts(&[b"ab", b"", b"cd"]), hash_256(b"abcd"));
    }

    #[test]
    fn digest_size_out_of_range() {
        assert!(matches!(hash_var(b"", 0), Err(Error::InvalidLength { .. })));
        assert!(matches!(hash_var(b"", 65), Err(Error::InvalidLength { .. })));
    }
}
