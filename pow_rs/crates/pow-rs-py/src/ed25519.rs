//! Ed25519 keys, ZIP-215 verification and Bech32 addresses for Python.

use pow_core::ed25519::{self, Item};
use pow_core::{address, hex};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::Result;

/// An Ed25519 signing key made from a 32-byte seed (RFC 8032 deterministic signatures).
#[pyclass(frozen, module = "pow_rs", name = "SigningKey")]
pub struct SigningKey(ed25519::SigningKey);

#[pymethods]
impl SigningKey {
    #[new]
    fn py_new(seed: &[u8]) -> Result<Self> {
        Ok(SigningKey(ed25519::SigningKey::from_seed(seed)?))
    }

    /// The 32-byte public key.
    #[getter]
    fn public_key<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.public_key_bytes())
    }

    /// The 64-byte signature of `message`.
    fn sign<'py>(&self, py: Python<'py>, message: &[u8]) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.sign_bytes(message))
    }

    fn __repr__(&self) -> String {
        format!(
            "SigningKey(public_key={})",
            hex::encode(&self.0.public_key_bytes())
        )
    }
}

/// ZIP-215 verification of one signature. False for a wrong signature; raises for malformed
/// input (`InvalidLengthError`, `InvalidPublicKeyError`).
#[pyfunction]
pub fn ed25519_verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<bool> {
    Ok(ed25519::verify(public_key, message, signature)?)
}

/// Whether a 32-byte public key may name an account or payer: a canonical encoding of a point
/// that is not of small order (ZIP-215 verification accepts those; identities must not).
/// Raises `InvalidLengthError` for another length.
#[pyfunction]
pub fn ed25519_strong_key(public_key: &[u8]) -> Result<bool> {
    Ok(ed25519::is_strong_key(public_key)?)
}

/// Verify `(public_key, message, signature)` items without the GIL; one bool per item.
#[pyfunction]
pub fn ed25519_verify_batch(py: Python<'_>, items: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>) -> Result<Vec<bool>> {
    let verdicts = py.detach(|| {
        let borrowed: Vec<Item<'_>> = items.iter().map(|(k, m, s)| (&k[..], &m[..], &s[..])).collect();
        ed25519::verify_batch(&borrowed)
    });
    Ok(verdicts?)
}

/// The 33-byte Ed25519 address (`0x00 || BLAKE2b-256(public_key)`).
#[pyfunction]
pub fn ed25519_address<'py>(py: Python<'py>, public_key: &[u8]) -> Result<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(py, &address::address_of(public_key)?))
}

/// Bech32 text of `data` with human-readable part `hrp`, e.g. an address as `iota1...`.
#[pyfunction]
pub fn bech32_encode(hrp: &str, data: &[u8]) -> Result<String> {
    Ok(address::encode(hrp, data)?)
}

/// `(hrp, data)` of a Bech32 string; raises `InvalidEncodingError` on a bad checksum or character.
#[pyfunction]
pub fn bech32_decode(text: &str) -> Result<(String, Vec<u8>)> {
    Ok(address::decode(text)?)
}
