"""Hand-written stubs for the Rust extension; checked against it by mypy.stubtest."""

from collections.abc import Sequence
from typing import final

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

MINER_LANES: int
"""Nonces the miner hashes per batch on this CPU (256 with AVX2, else 128)."""

class PowRsError(ValueError):
    """Base class of every malformed-input error raised by pow_rs."""

class InvalidLengthError(PowRsError):
    """An argument has the wrong length (a key, a signature, a block, an ID)."""

class InvalidEncodingError(PowRsError):
    """Text that is not valid hex, trytes or Bech32."""

class InvalidPublicKeyError(PowRsError):
    """32 bytes that do not encode a point on the Ed25519 curve."""

class UnreachableTargetError(PowRsError):
    """A PoW target score that no nonce can ever reach."""

class MiningTimeoutError(TimeoutError):
    """The miner found no nonce before its timeout."""

def blake2b_256(data: bytes) -> bytes:
    """BLAKE2b-256 of `data`."""

def blake2b(data: bytes, digest_size: int = 64) -> bytes:
    """BLAKE2b of `data` with a digest of `digest_size` bytes (1 to 64)."""

def b1t6_encode(data: bytes) -> str:
    """b1t6 encoding of `data` as trytes."""

def b1t6_decode(trytes: str) -> bytes:
    """Bytes of a b1t6 tryte string; raises `InvalidEncodingError` for anything else."""

def curl_p81(trytes: str, hash_trytes: int = 81) -> str:
    """Curl-P-81 hash of trytes (a multiple of 81), squeezing `hash_trytes` (a multiple of 81)."""

def pow_score(block: bytes) -> float:
    """TIP-12 PoW score of `block`, which ends with its 8-byte nonce."""

def pow_trailing_zeros(block: bytes) -> int:
    """Trailing zero trits of the Curl hash behind `block`'s PoW score."""

def mine(
    block_without_nonce: bytes,
    target_score: float,
    threads: int | None = None,
    timeout: float | None = None,
) -> int:
    """A nonce such that `block_without_nonce + nonce.to_bytes(8, "little")` scores >= target."""

@final
class SigningKey:
    """An Ed25519 signing key made from a 32-byte seed (RFC 8032 deterministic signatures)."""

    def __new__(cls, seed: bytes) -> SigningKey: ...
    @property
    def public_key(self) -> bytes:
        """The 32-byte public key."""

    def sign(self, message: bytes) -> bytes:
        """The 64-byte signature of `message`."""

def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """ZIP-215 verification; False for a wrong signature, raises for malformed input."""

def ed25519_strong_key(public_key: bytes) -> bool:
    """Whether the key may name an account or payer: a canonical encoding of a point that is not
    of small order (ZIP-215 verification accepts those; identities must not)."""

def ed25519_verify_batch(items: Sequence[tuple[bytes, bytes, bytes]]) -> list[bool]:
    """Verify `(public_key, message, signature)` items; one verdict per item."""

def ed25519_address(public_key: bytes) -> bytes:
    """The 33-byte Ed25519 address (`0x00 || BLAKE2b-256(public_key)`)."""

def bech32_encode(hrp: str, data: bytes) -> str:
    """Bech32 text of `data` with human-readable part `hrp`."""

def bech32_decode(text: str) -> tuple[str, bytes]:
    """`(hrp, data)` of a Bech32 string; raises `InvalidEncodingError` on a bad checksum."""

def from_hex(text: str, length: int | None = None) -> bytes:
    """Bytes of hex `text` (optional `0x`), optionally of exactly `length` bytes."""

def merkle_root(ids: Sequence[bytes]) -> bytes:
    """TIP-4 inclusion Merkle root over 32-byte block IDs, in the given order."""

def merkle_proof(ids: Sequence[bytes], index: int) -> list[bytes]:
    """Audit path (sibling hashes, leaf to root) proving `ids[index]` under `merkle_root(ids)`."""

def merkle_verify(root: bytes, id: bytes, index: int, count: int, proof: Sequence[bytes]) -> bool:
    """Whether `proof` shows block `id` is leaf `index` of a `count`-leaf tree with `root`."""
