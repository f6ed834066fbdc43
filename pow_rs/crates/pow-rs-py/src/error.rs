//! The one place where errors become Python exceptions (the pyca/cryptography pattern).
//!
//! `pow-core` knows nothing of Python: its functions return `pow_core::Error` for malformed
//! input. Every binding returns [`Result`], and `From<Error> for PyErr` below picks the
//! exception, so a caller can always tell malformed input (an exception) from a well-formed but
//! invalid signature or proof (`False`).

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

/// What a binding can fail with: malformed input found by `pow-core`, or a Python error met on
/// the way (a signal while mining, an argument Python-side checks refuse).
#[derive(Debug)]
pub enum Error {
    Core(pow_core::Error),
    Python(PyErr),
}

impl From<pow_core::Error> for Error {
    fn from(error: pow_core::Error) -> Self {
        Error::Core(error)
    }
}

impl From<PyErr> for Error {
    fn from(error: PyErr) -> Self {
        Error::Python(error)
    }
}

impl From<Error> for PyErr {
    fn from(error: Error) -> PyErr {
        use pow_core::Error as E;
        let error = match error {
            Error::Python(error) => return error,
            Error::Core(error) => error,
        };
        let message = error.to_string();
        match error {
            E::InvalidLength { .. } => InvalidLengthError::new_err(message),
            E::InvalidHex(_) | E::InvalidTrytes(_) | E::InvalidBech32(_) => {
                InvalidEncodingError::new_err(message)
            }
            E::InvalidPublicKey { .. } => InvalidPublicKeyError::new_err(message),
            E::UnreachableTarget { .. } => UnreachableTargetError::new_err(message),
            E::IndexOutOfRange { .. } => PyIndexError::new_err(message),
            E::MiningTimeout { .. } => MiningTimeoutError::new_err(message),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
