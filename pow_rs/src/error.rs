//! The one error type of the crate, and its single mapping to Python exceptions.
//!
//! Every fallible function returns [`Error`]; the `From<Error> for PyErr` impl below is the
//! only place where Rust errors become Python exceptions (the pyca/cryptography pattern), so a
//! caller can always tell malformed input (an exception) from a well-formed but invalid
//! signature or proof (`False`).

use pyo3::PyErr;
use pyo3::create_exception;
use pyo3::exceptions::{PyIndexError, PyTimeoutError};

create_exception!(
    pow_rs,
    PowRsError,
    pyo3::exceptions::PyValueError,
    "Base class of every malformed-input error raised by pow_rs."
);
create_exception!(
    pow_rs,
    InvalidLengthError,
    PowRsError,
    "An argument has the wrong length (a key, a signature, a block, an ID)."
);
create_exception!(
    pow_rs,
    InvalidEncodingError,
    PowRsError,
    "Text that is not valid hex, trytes or Bech32."
);
create_exception!(
    pow_rs,
    InvalidPublicKeyError,
    PowRsError,
    "32 bytes that do not encode a point on the Ed25519 curve."
);
create_exception!(
    pow_rs,
    UnreachableTargetError,
    PowRsError,
    "A PoW target score that no nonce can ever reach."
);
create_exception!(
    pow_rs,
    MiningTimeoutError,
    PyTimeoutError,
    "The miner found no nonce before its timeout."
);

/// Everything that can go wrong inside pow_rs.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    #[error("{what} must be {expected} bytes, got {actual}")]
    InvalidLength {
        what: &'static str,
        expected: String,
        actual: usize,
    },
    #[error("invalid hex: {0}")]
    InvalidHex(String),
    #[error("invalid trytes: {0}")]
    InvalidTrytes(String),
    #[error("invalid bech32: {0}")]
    InvalidBech32(String),
    #[error("public key is not a point on the Ed25519 curve (item {index})")]
    InvalidPublicKey { index: usize },
    #[error("target score {target} is unreachable for a {length}-byte block: {reason}")]
    UnreachableTarget {
        target: f64,
        length: usize,
        reason: &'static str,
    },
    #[error("index {index} out of range for {count} leaves")]
    IndexOutOfRange { index: usize, count: usize },
    #[error("no nonce reaching score {target} found within {seconds} s")]
    MiningTimeout { target: f64, seconds: f64 },
}

impl Error {
    /// A length error for an argument that must be exactly `expected` bytes.
    pub fn length(what: &'static str, expected: usize, actual: usize) -> Self {
        Error::InvalidLength {
            what,
            expected: expected.to_string(),
            actual,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<Error> for PyErr {
    fn from(error: Error) -> PyErr {
        let message = error.to_string();
        match error {
            Error::InvalidLength { .. } => InvalidLengthError::new_err(message),
            Error::InvalidHex(_) | Error::InvalidTrytes(_) | Error::InvalidBech32(_) => {
                InvalidEncodingError::new_err(message)
            }
            Error::InvalidPublicKey { .. } => InvalidPublicKeyError::new_err(message),
            Error::UnreachableTarget { .. } => UnreachableTargetError::new_err(message),
            Error::IndexOutOfRange { .. } => PyIndexError::new_err(message),
            Error::MiningTimeout { .. } => MiningTimeoutError::new_err(message),
        }
    }
}
