//! Ed25519 addresses (`0x00 || BLAKE2b-256(public key)`) and their Bech32 form (TIP-31).

use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32, Hrp};

use crate::blake2b;
use crate::ed25519::PUBLIC_KEY_BYTES;
use crate::error::{Error, Result};

/// Address type byte of an Ed25519 address.
pub const ED25519_ADDRESS_TYPE: u8 = 0;
pub const ADDRESS_BYTES: usize = 33;

/// The 33-byte address of an Ed25519 public key.
pub fn address_of(public_key: &[u8]) -> Result<[u8; ADDRESS_BYTES]> {
    if public_key.len() != PUBLIC_KEY_BYTES {
        return Err(Error::length("public key", PUBLIC_KEY_BYTES, public_key.len()));
    }
    let mut address = [ED25519_ADDRESS_TYPE; ADDRESS_BYTES];
    address[1..].copy_from_slice(&blake2b::hash_256(public_key));
    Ok(address)
}

/// Bech32 (not Bech32m) encoding of `data` under the human-readable part `hrp`.
pub fn encode(hrp: &str, data: &[u8]) -> Result<String> {
    let hrp =
        Hrp::parse(hrp).map_err(|e| Error::InvalidBech32(format!("human-readable part {hrp:?}: {e}")))?;
    bech32::encode::<Bech32>(hrp, data).map_err(|e| Error::InvalidBech32(e.to_string()))
}

/// Human-readable part (lower case) and data of a Bech32 string; checksum verified.
pub fn decode(text: &str) -> Result<(String, Vec<u8>)> {
    let checked = CheckedHrpstring::new::<Bech32>(text).map_err(|e| Error::InvalidBech32(e.to_string()))?;
    Ok((checked.hrp().to_lowercase(), checked.byte_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tip31_vectors() {
        let doc: serde_json::Value =
            serde_json::from_str(&crate::testing::vector("address_tip31.json")).unwrap();
        let public_key = hex::decode(doc["public_key_hex"].as_str().unwrap()).unwrap();
        let address = address_of(&public_key).unwrap();
        assert_eq!(hex::encode(address), doc["address_hex"].as_str().unwrap());
        for (hrp, text) in doc["bech32"].as_object().unwrap() {
            assert_eq!(encode(hrp, &address).unwrap(), text.as_str().unwrap());
            assert_eq!(
                decode(text.as_str().unwrap()).unwrap(),
                (hrp.clone(), address.to_vec())
            );
        }
    }

    #[test]
    fn malformed() {
        assert!(matches!(address_of(&[0; 31]), Err(Error::InvalidLength { .. })));
        assert!(matches!(encode("", &[1]), Err(Error::InvalidBech32(_))));
        assert!(matches!(decode("iota1qqqqqqqq"), Err(Error::InvalidBech32(_))));
        let good = encode("iota", &[0; 33]).unwrap();
        let mut bad = good.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'q' { b'p' } else { b'q' };
        assert!(matches!(
            decode(std::str::from_utf8(&bad).unwrap()),
            Err(Error::InvalidBech32(_))
        ));
    }
}
