//! Ed25519 signing, and verification under the ZIP-215 rules the ledger's consensus uses.
//!
//! ZIP-215 (TIP-14) accepts non-canonical point encodings and uses the cofactored equation, so
//! single and batch verification agree on every input; libsodium does not, which is why
//! verification lives here (ed25519-zebra) and PyNaCl only signs in wallets.

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_zebra::{SigningKey as ZebraSigningKey, VerificationKey, VerificationKeyBytes, batch};
use rayon::prelude::*;

use crate::error::{Error, Result};

pub const PUBLIC_KEY_BYTES: usize = 32;
pub const SIGNATURE_BYTES: usize = 64;
pub const SEED_BYTES: usize = 32;
/// Below this many items a batch is verified on the calling thread only.
const PARALLEL_BATCH: usize = 64;

fn array<const N: usize>(what: &'static str, bytes: &[u8]) -> Result<[u8; N]> {
    bytes.try_into().map_err(|_| Error::length(what, N, bytes.len()))
}

/// A public key decoded to a curve point (non-canonical encodings accepted, as ZIP-215 says).
pub fn decode_public_key(bytes: &[u8], index: usize) -> Result<VerificationKey> {
    VerificationKey::try_from(array::<PUBLIC_KEY_BYTES>("public key", bytes)?)
        .map_err(|_| Error::InvalidPublicKey { index })
}

fn decode_signature(bytes: &[u8]) -> Result<ed25519_zebra::Signature> {
    Ok(ed25519_zebra::Signature::from_bytes(&array::<SIGNATURE_BYTES>(
        "signature",
        bytes,
    )?))
}

/// Whether `public_key` may name an identity (an account, a payer): the canonical encoding of a
/// curve point that is not of small order. ZIP-215 verification accepts every encoding and every
/// point, as consensus must; but a small-order key "verifies" signatures anyone can make (the
/// all-zero key with the all-zero signature), and a non-canonical one is a second name for a key.
/// `Err` only for a wrong length.
pub fn is_strong_key(public_key: &[u8]) -> Result<bool> {
    let bytes = array::<PUBLIC_KEY_BYTES>("public key", public_key)?;
    Ok(CompressedEdwardsY(bytes)
        .decompress()
        .is_some_and(|point| point.compress().to_bytes() == bytes && !point.is_small_order()))
}

/// ZIP-215 verification: `Ok(false)` for a well-formed but wrong signature, `Err` for
/// malformed input (lengths, a public key that is not a point).
pub fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<bool> {
    verify_item(0, public_key, message, signature)
}

fn verify_item(index: usize, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<bool> {
    let key = decode_public_key(public_key, index)?;
    let signature = decode_signature(signature)?;
    Ok(key.verify(&signature, message).is_ok())
}

/// One item of a batch: (public key, message, signature).
pub type Item<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// Verify many signatures; the verdict of each equals [`verify`] on it.
///
/// Well-formed items go through one randomized batch equation per chunk; only a chunk whose
/// equation fails is re-checked item by item to say which failed.
pub fn verify_batch(items: &[Item<'_>]) -> Result<Vec<bool>> {
    let mut parsed = Vec::with_capacity(items.len());
    for (index, &(public_key, message, signature)) in items.iter().enumerate() {
        let key_bytes = array::<PUBLIC_KEY_BYTES>("public key", public_key)?;
        decode_public_key(&key_bytes, index)?;
        parsed.push((
            VerificationKeyBytes::from(key_bytes),
            decode_signature(signature)?,
            message,
        ));
    }
    let chunk = if parsed.len() >= PARALLEL_BATCH {
        parsed.len().div_ceil(rayon::current_num_threads())
    } else {
        parsed.len().max(1)
    };
    Ok(parsed
        .par_chunks(chunk)
        .flat_map_iter(|chunk| {
            let mut verifier = batch::Verifier::new();
            for &(key, signature, message) in chunk {
                verifier.queue((key, signature, message));
            }
            let rng = rand_core::UnwrapErr(getrandom::SysRng);
            if verifier.verify(rng).is_ok() {
                vec![true; chunk.len()]
            } else {
                chunk
                    .iter()
                    .map(|&(key, signature, message)| {
                        VerificationKey::try_from(key)
                            .is_ok_and(|key| key.verify(&signature, message).is_ok())
                    })
                    .collect()
            }
        })
        .collect())
}

/// An Ed25519 signing key made from a 32-byte seed (RFC 8032 deterministic signatures).
pub struct SigningKey {
    key: ZebraSigningKey,
}

impl SigningKey {
    pub fn from_seed(seed: &[u8]) -> Result<Self> {
        Ok(SigningKey {
            key: ZebraSigningKey::from(array::<SEED_BYTES>("seed", seed)?),
        })
    }

    pub fn public_key_bytes(&self) -> [u8; PUBLIC_KEY_BYTES] {
        VerificationKeyBytes::from(&self.key).into()
    }

    pub fn sign_bytes(&self, message: &[u8]) -> [u8; SIGNATURE_BYTES] {
        self.key.sign(message).to_bytes()
    }
}

/// Shows the public key only, never the seed.
impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey(public_key={})",
            crate::hex::encode(&self.public_key_bytes())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(v: &serde_json::Value) -> Vec<u8> {
        hex::decode(v.as_str().unwrap()).unwrap()
    }

    /// Every TIP-14 case as `tests/vectors/` records it; case 10 carries ZIP-215's verdict,
    /// not its source file's (see `tests/vectors/README.md` and `docs/ed25519.md`).
    #[test]
    fn tip14_zip215_cases() {
        let cases: Vec<serde_json::Value> =
            serde_json::from_str(&crate::testing::vector("ed25519_zip215_tip14.json")).unwrap();
        assert_eq!(cases.len(), 12);
        let keys: Vec<_> = cases.iter().map(|c| unhex(&c["pub_key"])).collect();
        let messages: Vec<_> = cases.iter().map(|c| unhex(&c["message"])).collect();
        let signatures: Vec<_> = cases.iter().map(|c| unhex(&c["signature"])).collect();
        let mut items = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            let valid = case["valid"].as_bool().unwrap();
            assert_eq!(
                verify(&keys[i], &messages[i], &signatures[i]).unwrap(),
                valid,
                "case {i}"
            );
            items.push((&keys[i][..], &messages[i][..], &signatures[i][..]));
        }
        let expected: Vec<bool> = cases.iter().map(|c| c["valid"].as_bool().unwrap()).collect();
        assert_eq!(verify_batch(&items).unwrap(), expected);
    }

    #[test]
    fn rfc8032_signing_vectors() {
        let doc: serde_json::Value =
            serde_json::from_str(&crate::testing::vector("ed25519_sign.json")).unwrap();
        for case in doc["vectors"].as_array().unwrap() {
            let key = SigningKey::from_seed(&unhex(&case["secret_key"])).unwrap();
            let message = unhex(&case["message"]);
            assert_eq!(key.public_key_bytes().to_vec(), unhex(&case["public_key"]));
            let signature = key.sign_bytes(&message);
            assert_eq!(signature.to_vec(), unhex(&case["signature"]));
            assert!(verify(&key.public_key_bytes(), &message, &signature).unwrap());
        }
    }

    #[test]
    fn malformed_input_is_an_error_not_false() {
        let key = SigningKey::from_seed(&[1; 32]).unwrap();
        let public = key.public_key_bytes();
        let signature = key.sign_bytes(b"m");
        assert!(matches!(
            verify(&public[..31], b"m", &signature),
            Err(Error::InvalidLength { .. })
        ));
        assert!(matches!(
            verify(&public, b"m", &signature[..63]),
            Err(Error::InvalidLength { .. })
        ));
        // y = 2 is not the y-coordinate of any curve point.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        assert_eq!(
            verify(&not_a_point, b"m", &signature),
            Err(Error::InvalidPublicKey { index: 0 })
        );
        assert!(matches!(
            SigningKey::from_seed(&[0; 31]),
            Err(Error::InvalidLength { .. })
        ));
        let items = [
            (&public[..], &b"m"[..], &signature[..]),
            (&not_a_point[..], &b"m"[..], &signature[..]),
        ];
        assert_eq!(verify_batch(&items), Err(Error::InvalidPublicKey { index: 1 }));
    }

    /// The eight points of small order, by their canonical encodings (y little-endian, sign bit
    /// last): what an attacker can name as a key to sign for anyone.
    fn small_order_encodings() -> Vec<[u8; 32]> {
        [
            "0100000000000000000000000000000000000000000000000000000000000000", // identity
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
            "0000000000000000000000000000000000000000000000000000000000000000", // order 4
            "0000000000000000000000000000000000000000000000000000000000000080", // order 4
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
        ]
        .iter()
        .map(|text| hex::decode(text).unwrap().try_into().unwrap())
        .collect()
    }

    #[test]
    fn identity_keys_refuse_small_order_and_non_canonical_encodings() {
        for encoding in small_order_encodings() {
            assert!(
                !is_strong_key(&encoding).unwrap(),
                "{}",
                crate::hex::encode(&encoding)
            );
            // ...though ZIP-215 verification takes them, as consensus must: the all-zero key
            // verifies the all-zero signature over any message.
            assert!(decode_public_key(&encoding, 0).is_ok());
        }
        assert!(verify(&[0; 32], b"anything", &[0; 64]).unwrap());
        for seed in 0..50u8 {
            let key = SigningKey::from_seed(&[seed; 32]).unwrap();
            assert!(is_strong_key(&key.public_key_bytes()).unwrap());
        }
        // y + p encodes the same point as y (for y < 19): a second name for a key. Some such y is
        // on the curve with large order; its canonical encoding is strong, the other one is not.
        let p_plus = |y: u8| {
            let mut bytes = [0xff; 32];
            bytes[0] = 0xed + y;
            bytes[31] = 0x7f;
            bytes
        };
        let mut found = 0;
        for y in 0..19u8 {
            let mut canonical = [0u8; 32];
            canonical[0] = y;
            let Some(point) = CompressedEdwardsY(canonical).decompress() else {
                continue;
            };
            if point.is_small_order() {
                continue;
            }
            found += 1;
            assert!(is_strong_key(&canonical).unwrap());
            assert_eq!(CompressedEdwardsY(p_plus(y)).decompress(), Some(point));
            assert!(!is_strong_key(&p_plus(y)).unwrap(), "y = {y}");
        }
        assert!(found > 0);
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        assert!(!is_strong_key(&not_a_point).unwrap());
        assert!(matches!(
            is_strong_key(&[0; 31]),
            Err(Error::InvalidLength { .. })
        ));
    }

    #[test]
    fn batch_reports_which_items_failed() {
        let keys: Vec<_> = (0..200u8)
            .map(|i| SigningKey::from_seed(&[i; 32]).unwrap())
            .collect();
        let messages: Vec<Vec<u8>> = (0..200u8).map(|i| vec![i; i as usize]).collect();
        let mut signatures: Vec<_> = keys.iter().zip(&messages).map(|(k, m)| k.sign_bytes(m)).collect();
        for i in [3, 77, 150] {
            signatures[i][5] ^= 1;
        }
        let publics: Vec<_> = keys.iter().map(|k| k.public_key_bytes()).collect();
        let items: Vec<Item<'_>> = (0..200)
            .map(|i| (&publics[i][..], &messages[i][..], &signatures[i][..]))
            .collect();
        let verdicts = verify_batch(&items).unwrap();
        for (i, v) in verdicts.iter().enumerate() {
            assert_eq!(*v, ![3, 77, 150].contains(&i), "item {i}");
        }
        assert_eq!(verify_batch(&[]).unwrap(), Vec::<bool>::new());
    }
}
