//! pow-core: the mobility ledger's cryptographic primitives in plain Rust, with no Python.
//!
//! Hashing (BLAKE2b), the ternary encodings and Curl-P-81 behind the TIP-12 proof of work, a
//! parallel nonce miner, Ed25519 under ZIP-215, Bech32 addresses and TIP-4 Merkle proofs. A
//! module per primitive; malformed input is an [`Error`]. The Python module `pow_rs` is a thin
//! binding over this crate (`pow-rs-py`), which is where errors become Python exceptions.

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

pub use error::{Error, Result};
