"""Ed25519 addresses (TIP-31 / Stardust), the only address kind of this ledger.

Layout (33 bytes): `address_type u8 = 0 | BLAKE2b-256(public key) 32B`. This is exactly
what `pow_rs.ed25519_address` returns, so an address from a key and an address from the
wire compare as plain bytes. Stardust's alias (8) and NFT (16) addresses do not exist here:
any other type byte is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pow_rs
from mobility.wire.codec.errors import CodecError
from mobility.wire.codec.primitives import Reader, fixed

ED25519_ADDRESS_TYPE = 0
ADDRESS_LENGTH = 33


@cache
def _field_names(field: str) -> tuple[str, str]:
    """The names of an address's two wire fields under `field`, built once per field: every
    transfer block reads four addresses, and formatting the names each time showed at ingest."""
    return f"{field}.address_type", f"{field}.pubkey_hash"


@dataclass(frozen=True, slots=True)
class Ed25519Address:
    """An address that a signature by the key hashing to `pubkey_hash` unlocks."""

    pubkey_hash: bytes

    def __post_init__(self) -> None:
        fixed(self.pubkey_hash, 32, "address.pubkey_hash")

    @classmethod
    def from_public_key(cls, public_key: bytes) -> Ed25519Address:
        """The address of an Ed25519 public key, hashed by pow_rs (its 33-byte wire form,
        whose first byte is the Ed25519 address type)."""
        return cls(pow_rs.ed25519_address(public_key)[1:])

    def to_bytes(self) -> bytes:
        """The 33-byte wire form."""
        return bytes([ED25519_ADDRESS_TYPE]) + self.pubkey_hash

    @classmethod
    def read(cls, reader: Reader, field: str) -> Ed25519Address:
        """Read one address from `reader`."""
        type_field, hash_field = _field_names(field)
        kind = reader.u8(type_field)
        if kind != ED25519_ADDRESS_TYPE:
            raise CodecError(type_field, f"unknown address type {kind}")
        return cls(reader.take(32, hash_field))

    @classmethod
    def from_bytes(cls, data: bytes) -> Ed25519Address:
        """Parse exactly one address."""
        reader = Reader(data)
        address = cls.read(reader, "address")
        reader.expect_end("address")
        return address

    def bech32(self, hrp: str) -> str:
        """The TIP-31 text form with human-readable part `hrp`."""
        return pow_rs.bech32_encode(hrp, self.to_bytes())
