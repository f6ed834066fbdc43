//! The TIP-12 proof-of-work score of a block.
//!
//! `score = 3^z / len(block)`, where z counts the trailing zero trits of
//! `CurlP81(b1t6(BLAKE2b-256(block[..len-8])) || b1t6(nonce) || 000)` and the nonce is the
//! block's last 8 bytes.

use crate::blake2b;
use crate::curl::{self, HASH_TRITS};
use crate::error::{Error, Result};
use crate::ternary::{Trit, b1t6_trits};

pub const NONCE_BYTES: usize = 8;
/// Trit offset of the nonce in the Curl input: 32 digest bytes, six trits each.
pub const NONCE_OFFSET: usize = 32 * 6;
/// Trits of the nonce: 8 bytes, six trits each.
pub const NONCE_TRITS: usize = NONCE_BYTES * 6;

/// The 243 trits hashed with Curl: digest, nonce, and three zero trits.
pub fn curl_input(digest: &[u8; 32], nonce: &[u8; NONCE_BYTES]) -> [Trit; HASH_TRITS] {
    let mut trits = Vec::with_capacity(HASH_TRITS);
    b1t6_trits(digest, &mut trits);
    b1t6_trits(nonce, &mut trits);
    trits.resize(HASH_TRITS, 0);
    trits.try_into().expect("exactly 243 trits")
}

fn split_block(block: &[u8]) -> Result<(&[u8], [u8; NONCE_BYTES])> {
    if block.len() < NONCE_BYTES {
        return Err(Error::InvalidLength {
            what: "block",
            expected: format!("at least {NONCE_BYTES}"),
            actual: block.len(),
        });
    }
    let (body, nonce) = block.split_at(block.len() - NONCE_BYTES);
    Ok((body, nonce.try_into().expect("8 bytes")))
}

/// Trailing zero trits of the block's Curl hash.
pub fn trailing_zeros(block: &[u8]) -> Result<u32> {
    let (body, nonce) = split_block(block)?;
    let hash = curl::hash(&curl_input(&blake2b::hash_256(body), &nonce), HASH_TRITS);
    Ok(hash.iter().rev().take_while(|&&t| t == 0).count() as u32)
}

/// Score of `zeros` trailing zero trits on a block of `length` bytes.
pub fn score_of(zeros: u32, length: usize) -> f64 {
    3f64.powi(zeros as i32) / length as f64
}

/// TIP-12 score of a whole block (nonce included).
pub fn score(block: &[u8]) -> Result<f64> {
    Ok(score_of(trailing_zeros(block)?, block.len()))
}

/// Fewest trailing zero trits whose score reaches `target` on a block of `length` bytes.
pub fn required_zeros(target: f64, length: usize) -> Result<u32> {
    let unreachable = |reason| Error::UnreachableTarget {
        target,
        length,
        reason,
    };
    if target.is_nan() {
        return Err(unreachable("the target is NaN"));
    }
    (0..=HASH_TRITS as u32)
        .find(|&z| score_of(z, length) >= target)
        .ok_or_else(|| unreachable("it needs more trailing zero trits than a Curl hash has"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ternary::trits_to_trytes;

    fn vectors() -> serde_json::Value {
        serde_json::from_str(&crate::testing::vector("pow_score_tip12.json")).unwrap()
    }

    #[test]
    fn worked_example_every_step() {
        let doc = vectors();
        let ex = &doc["worked_example"];
        let block = hex::decode(ex["block_hex"].as_str().unwrap()).unwrap();
        let (body, nonce) = split_block(&block).unwrap();
        assert_eq!(u64::from_le_bytes(nonce), ex["nonce_u64"].as_u64().unwrap());
        let digest = blake2b::hash_256(body);
        assert_eq!(hex::encode(digest), ex["digest_hex"].as_str().unwrap());
        let input = curl_input(&digest, &nonce);
        assert_eq!(trits_to_trytes(&input), ex["curl_input_trytes"].as_str().unwrap());
        let output = curl::hash(&input, HASH_TRITS);
        assert_eq!(
            trits_to_trytes(&output),
            ex["curl_output_trytes"].as_str().unwrap()
        );
        let zeros = trailing_zeros(&block).unwrap();
        assert_eq!(zeros as u64, ex["trailing_zeros"].as_u64().unwrap());
        assert_eq!(score(&block).unwrap(), ex["score"].as_f64().unwrap());
    }

    #[test]
    fn score_vectors() {
        let doc = vectors();
        for case in doc["scores"].as_array().unwrap() {
            let block = hex::decode(case["block_hex"].as_str().unwrap()).unwrap();
            assert_eq!(
                trailing_zeros(&block).unwrap() as u64,
                case["trailing_zeros"].as_u64().unwrap()
            );
            assert_eq!(score(&block).unwrap(), case["score"].as_f64().unwrap());
        }
    }

    #[test]
    fn tip24_example_block() {
        let doc: serde_json::Value =
            serde_json::from_str(&crate::testing::vector("block_tip24_example.json")).unwrap();
        let block = hex::decode(doc["block_hex"].as_str().unwrap()).unwrap();
        assert_eq!(
            trailing_zeros(&block).unwrap() as u64,
            doc["trailing_zeros"].as_u64().unwrap()
        );
        assert_eq!(score(&block).unwrap(), doc["score"].as_f64().unwrap());
    }

    #[test]
    fn short_block_is_rejected() {
        assert!(matches!(score(&[0; 7]), Err(Error::InvalidLength { .. })));
    }

    #[test]
    fn required_zeros_is_the_least_sufficient() {
        assert_eq!(required_zeros(0.0, 100).unwrap(), 0);
        assert_eq!(required_zeros(-5.0, 100).unwrap(), 0);
        // 3^4 / 100 = 0.81 < 1 <= 3^5 / 100.
        assert_eq!(required_zeros(1.0, 100).unwrap(), 5);
        assert!(matches!(
            required_zeros(f64::INFINITY, 100),
            Err(Error::UnreachableTarget { .. })
        ));
        assert!(matches!(
            required_zeros(f64::NAN, 100),
            Err(Error::UnreachableTarget { .. })
        ));
        assert!(matches!(
            required_zeros(1e300, 100),
            Err(Error::UnreachableTarget { .. })
        ));
    }
}
