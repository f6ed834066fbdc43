//! BLAKE2b, Curl-P-81, b1t6 and hex for Python.

use pow_core::{blake2b as b2, curl, hex, ternary};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::Result;

/// BLAKE2b-256 of `data`.
#[pyfunction]
pub fn blake2b_256<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &b2::hash_256(data))
}

/// BLAKE2b of `data` with a digest of `digest_size` bytes (1 to 64).
#[pyfunction]
#[pyo3(signature = (data, digest_size = 64))]
pub fn blake2b<'py>(py: Python<'py>, data: &[u8], digest_size: usize) -> Result<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(py, &b2::hash_var(data, digest_size)?))
}

/// Curl-P-81 hash of a tryte string whose length is a multiple of 81 trytes (243 trits);
/// `hash_trytes` (a multiple of 81) trytes are squeezed.
#[pyfunction]
#[pyo3(signature = (trytes, hash_trytes = 81))]
pub fn curl_p81(trytes: &str, hash_trytes: usize) -> Result<String> {
    Ok(curl::hash_trytes(trytes, hash_trytes)?)
}

/// b1t6 encoding of `data` as trytes.
#[pyfunction]
pub fn b1t6_encode(data: &[u8]) -> String {
    ternary::encode_b1t6(data)
}

/// Bytes of a b1t6 tryte string; raises `InvalidEncodingError` for anything else.
#[pyfunction]
pub fn b1t6_decode(trytes: &str) -> Result<Vec<u8>> {
    Ok(ternary::decode_b1t6(trytes)?)
}

/// Bytes of hex `text` (optional `0x`); raises `InvalidEncodingError`, or `InvalidLengthError`
/// when `length` is given and differs.
#[pyfunction]
#[pyo3(signature = (text, length = None))]
pub fn from_hex<'py>(py: Python<'py>, text: &str, length: Option<usize>) -> Result<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(py, &hex::decode(text, length)?))
}
