//! pow-rs-py: the Python module `pow_rs._native`, thin pyo3 bindings over `pow-core`.
//!
//! Each binding converts its arguments, calls the pure-Rust function and converts the result;
//! errors become Python exceptions in one place, `error.rs`. The Python package `pow_rs`
//! (`pow_rs/python/pow_rs`) re-exports this module.

mod ed25519;
mod error;
mod hashing;
mod merkle;
mod pow;

use pyo3::prelude::*;

/// The extension module, importable as `pow_rs._native` and re-exported by `pow_rs`.
#[pymodule(gil_used = false)]
mod _native {
    #[pymodule_export]
    use crate::ed25519::{
        SigningKey, bech32_decode, bech32_encode, ed25519_address, ed25519_strong_key, ed25519_verify,
        ed25519_verify_batch,
    };
    #[pymodule_export]
    use crate::error::{
        InvalidEncodingError, InvalidLengthError, InvalidPublicKeyError, MiningTimeoutError, PowRsError,
        UnreachableTargetError,
    };
    #[pymodule_export]
    use crate::hashing::{b1t6_decode, b1t6_encode, blake2b, blake2b_256, curl_p81, from_hex};
    #[pymodule_export]
    use crate::merkle::{merkle_proof, merkle_root, merkle_verify};
    #[pymodule_export]
    use crate::pow::{mine_nonce, pow_score, pow_trailing_zeros};

    use super::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("MINER_LANES", pow_core::miner::lanes())?;
        Ok(())
    }
}
