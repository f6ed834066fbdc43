"""Block (TIP-24 layout), its ID and the bytes the miner works on.

Layout, little-endian::

    block = protocol_version u8 | parents_count u8 (1..8) | parents 32B x n (sorted, unique)
          | payload_length u32 | payload (0 = none) | nonce u64

At most 32 KiB in all. Block ID = BLAKE2b-256 of the whole block, nonce included, as in
TIP-24, so the TIP-24 example vector pins both layout and ID. The block layout is TIP-24's
byte for byte; only the payloads inside differ from Stardust (see their modules).
"""

from __future__ import annotations

from dataclasses import dataclass

import pow_rs
from mobility.wire.codec.errors import CodecError
from mobility.wire.codec.milestone import read_parents, write_parents
from mobility.wire.codec.payload import Payload, payload_from_bytes
from mobility.wire.codec.primitives import Reader, uint

MAX_BLOCK_LENGTH = 32 * 1024
NONCE_LENGTH = 8


@dataclass(frozen=True, slots=True)
class Block:
    """A vertex of the tangle: parents it approves, an optional payload, a PoW nonce."""

    protocol_version: int
    parents: tuple[bytes, ...]
    payload: Payload | None
    nonce: int = 0

    def bytes_without_nonce(self) -> bytes:
        """The block before its nonce: what `pow_rs.mine` works on."""
        payload = self.payload.to_bytes() if self.payload is not None else b""
        data = b"".join(
            (
                uint(self.protocol_version, 1, "block.protocol_version"),
                write_parents(self.parents, "block.parents"),
                uint(len(payload), 4, "block.payload_length"),
                payload,
            )
        )
        if len(data) + NONCE_LENGTH > MAX_BLOCK_LENGTH:
            raise CodecError("block", f"{len(data) + NONCE_LENGTH} bytes exceeds {MAX_BLOCK_LENGTH}")
        return data

    def to_bytes(self) -> bytes:
        """The wire form."""
        return self.bytes_without_nonce() + uint(self.nonce, 8, "block.nonce")

    @property
    def block_id(self) -> bytes:
        """BLAKE2b-256 of the block bytes."""
        return pow_rs.blake2b_256(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Block:
        """Parse exactly one block; every malformation is a `CodecError`."""
        if len(data) > MAX_BLOCK_LENGTH:
            raise CodecError("block", f"{len(data)} bytes exceeds {MAX_BLOCK_LENGTH}")
        reader = Reader(data)
        protocol_version = reader.u8("block.protocol_version")
        parents = read_parents(reader, "block.parents")
        payload_length = reader.u32("block.payload_length")
        payload_bytes = reader.take(payload_length, "block.payload")
        payload = payload_from_bytes(payload_bytes) if payload_length else None
        nonce = reader.u64("block.nonce")
        reader.expect_end("block")
        return cls(protocol_version, parents, payload, nonce)
