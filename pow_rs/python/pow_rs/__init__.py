"""pow_rs: the Rust core of the mobility engine.

BLAKE2b, b1t6 and Curl-P-81, the TIP-12 proof-of-work score and a parallel miner, Ed25519
under ZIP-215 (TIP-14), Ed25519 addresses in Bech32 (TIP-31) and TIP-4 Merkle proofs. Every
hash, score and signature check in the project goes through here.
"""

from pow_rs._native import (
    MINER_LANES,
    InvalidEncodingError,
    InvalidLengthError,
    InvalidPublicKeyError,
    MiningTimeoutError,
    PowRsError,
    SigningKey,
    UnreachableTargetError,
    b1t6_decode,
    b1t6_encode,
    bech32_decode,
    bech32_encode,
    blake2b,
    blake2b_256,
    curl_p81,
    ed25519_address,
    ed25519_strong_key,
    ed25519_verify,
    ed25519_verify_batch,
    from_hex,
    merkle_proof,
    merkle_root,
    merkle_verify,
    mine,
    pow_score,
    pow_trailing_zeros,
)

__all__ = [
    "MINER_LANES",
    "InvalidEncodingError",
    "InvalidLengthError",
    "InvalidPublicKeyError",
    "MiningTimeoutError",
    "PowRsError",
    "SigningKey",
    "UnreachableTargetError",
    "b1t6_decode",
    "b1t6_encode",
    "bech32_decode",
    "bech32_encode",
    "blake2b",
    "blake2b_256",
    "curl_p81",
    "ed25519_address",
    "ed25519_strong_key",
    "ed25519_verify",
    "ed25519_verify_batch",
    "from_hex",
    "merkle_proof",
    "merkle_root",
    "merkle_verify",
    "mine",
    "pow_score",
    "pow_trailing_zeros",
]
