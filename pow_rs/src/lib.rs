//! pow_rs: the Rust core of the mobility engine.
//!
//! Hashing (BLAKE2b), the ternary encodings and Curl-P-81 behind the TIP-12 proof of work, a
//! parallel nonce miner, Ed25519 under ZIP-215, Bech32 addresses and TIP-4 Merkle proofs.
//! Each primitive is a module with its Rust API and its Python functions; errors become Python
//! exceptions in one place, `error.rs`.

pub mod address;
pub mod blake2b;
pub mod curl;
pub mod ed25519;
pub mod error;
pub mod hex;
pub mod merkle;
pub mod miner;
pub mod pow;
pub mod ternary;
#[cfg(test)]
mod testing;

use pyo3::prelude::*;

/// The extension module, importable as `pow_rs._native` and re-exported by `pow_rs`.
#[pymodule(gil_used = false)]
mod _native {
    #[pymodule_export]
    use crate::address::{bech32_decode, bech32_encode, ed25519_address};
    #[pymodule_export]
    use crate::blake2b::{blake2b, blake2b_256};
    #[pymodule_export]
    use crate::curl::curl_p81;
    #[pymodule_export]
    use crate::ed25519::{SigningKey, ed25519_strong_key, ed25519_verify, ed25519_verify_batch};
    #[pymodule_export]
    use crate::error::{
        InvalidEncodingError, InvalidLengthError, InvalidPublicKeyError, MiningTimeoutError, PowRsError,
        UnreachableTargetError,
    };
    #[pymodule_export]
    use crate::hex::from_hex;
    #[pymodule_export]
    use crate::merkle::{merkle_proof, merkle_root, merkle_verify};
    #[pymodule_export]
    use crate::miner::mine_nonce;
    #[pymodule_export]
    use crate::pow::{pow_score, pow_trailing_zeros};
    #[pymodule_export]
    use crate::ternary::{b1t6_decode, b1t6_encode};

    use super::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("MINER_LANES", crate::miner::lanes())?;
        Ok(())
    }
}
