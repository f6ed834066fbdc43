//! The one error type of the crate.
//!
//! Every fallible function returns [`Error`] for malformed input, and `Ok(false)` for a
//! well-formed but invalid signature or proof, so a caller can always tell the two apart. The
//! bindings crate maps it to Python exceptions in one place.

/// Everything that can go wrong in these primitives.
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
