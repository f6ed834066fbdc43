"""Milestone payload: the coordinator's signed checkpoint (after Stardust's TIP-29).

Layout, little-endian::

    milestone  = payload_type u32 = 7 | essence | signatures_count u8 (1..255) | signature x n
    essence    = index u32 | timestamp u32 | protocol_version u8 | previous_milestone_id 32B
               | parents_count u8 (1..8) | parents 32B x n (sorted, unique)
               | inclusion_merkle_root 32B | applied_merkle_root 32B
    signature  = signature_type u8 = 0 | public_key 32B | signature 64B   (sorted by key, unique)

Milestone ID = BLAKE2b-256 of the essence; every coordinator key signs that ID, so the
signatures are outside what they sign. `inclusion_merkle_root` is the TIP-4 root
(`pow_rs.merkle_root`) over the IDs of all blocks the milestone references, in white-flag
order; `applied_merkle_root` is the root over the transactions that changed the ledger.

Differences from Stardust: no metadata field and no milestone options (receipts, protocol
parameter updates), so the essence ends after the two roots. `timestamp` is Unix seconds, UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import pow_rs
from mobility.wire.codec.errors import CodecError
from mobility.wire.codec.primitives import Reader, check_count, check_sorted_unique, fixed, uint

MILESTONE_PAYLOAD_TYPE = 7
ED25519_SIGNATURE_TYPE = 0
MIN_PARENTS = 1
MAX_PARENTS = 8
MAX_SIGNATURES = 255


def read_parents(reader: Reader, field: str) -> tuple[bytes, ...]:
    """A parents list: count u8 in 1..8, then sorted, unique 32-byte block IDs."""
    count = reader.u8(f"{field}_count")
    check_count(count, MIN_PARENTS, MAX_PARENTS, f"{field}_count")
    parents = tuple(reader.take(32, field) for _ in range(count))
    check_sorted_unique(parents, field)
    return parents


def write_parents(parents: tuple[bytes, ...], field: str) -> bytes:
    """The wire form of a parents list, checked as `read_parents` checks it."""
    check_count(len(parents), MIN_PARENTS, MAX_PARENTS, f"{field}_count")
    for parent in parents:
        fixed(parent, 32, field)
    check_sorted_unique(parents, field)
    return bytes([len(parents)]) + b"".join(parents)


@dataclass(frozen=True, slots=True)
class MilestoneSignature:
    """One coordinator key's Ed25519 signature over the milestone ID."""

    public_key: bytes
    signature: bytes

    def __post_init__(self) -> None:
        fixed(self.public_key, 32, "milestone_signature.public_key")
        fixed(self.signature, 64, "milestone_signature.signature")

    def to_bytes(self) -> bytes:
        """The wire form."""
        return bytes([ED25519_SIGNATURE_TYPE]) + self.public_key + self.signature

    @classmethod
    def read(cls, reader: Reader) -> MilestoneSignature:
        """Read one signature."""
        kind = reader.u8("milestone.signature_type")
        if kind != ED25519_SIGNATURE_TYPE:
            raise CodecError("milestone.signature_type", f"unknown signature type {kind}")
        public_key = reader.take(32, "milestone.public_key")
        return cls(public_key, reader.take(64, "milestone.signature"))


@dataclass(frozen=True, slots=True)
class MilestoneEssence:
    """What the coordinator signs."""

    index: int
    timestamp: int
    protocol_version: int
    previous_milestone_id: bytes
    parents: tuple[bytes, ...]
    inclusion_merkle_root: bytes
    applied_merkle_root: bytes

    def __post_init__(self) -> None:
        fixed(self.previous_milestone_id, 32, "milestone.previous_milestone_id")
        fixed(self.inclusion_merkle_root, 32, "milestone.inclusion_merkle_root")
        fixed(self.applied_merkle_root, 32, "milestone.applied_merkle_root")

    @property
    def time(self) -> datetime:
        """`timestamp` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp, UTC)

    def to_bytes(self) -> bytes:
        """The wire form."""
        return b"".join(
            (
                uint(self.index, 4, "milestone.index"),
                uint(self.timestamp, 4, "milestone.timestamp"),
                uint(self.protocol_version, 1, "milestone.protocol_version"),
                self.previous_milestone_id,
                write_parents(self.parents, "milestone.parents"),
                self.inclusion_merkle_root,
                self.applied_merkle_root,
            )
        )

    def milestone_id(self) -> bytes:
        """BLAKE2b-256 of the essence: the message each coordinator key signs."""
        return pow_rs.blake2b_256(self.to_bytes())

    @classmethod
    def read(cls, reader: Reader) -> MilestoneEssence:
        """Read an essence."""
        return cls(
            index=reader.u32("milestone.index"),
            timestamp=reader.u32("milestone.timestamp"),
            protocol_version=reader.u8("milestone.protocol_version"),
            previous_milestone_id=reader.take(32, "milestone.previous_milestone_id"),
            parents=read_parents(reader, "milestone.parents"),
            inclusion_merkle_root=reader.take(32, "milestone.inclusion_merkle_root"),
            applied_merkle_root=reader.take(32, "milestone.applied_merkle_root"),
        )


@dataclass(frozen=True, slots=True)
class MilestonePayload:
    """A milestone essence with the coordinator's signatures."""

    TYPE: ClassVar[int] = MILESTONE_PAYLOAD_TYPE

    essence: MilestoneEssence
    signatures: tuple[MilestoneSignature, ...]

    @property
    def milestone_id(self) -> bytes:
        """The ID of this milestone (hash of the essence only)."""
        return self.essence.milestone_id()

    def to_bytes(self) -> bytes:
        """The wire form, payload type included."""
        check_count(len(self.signatures), 1, MAX_SIGNATURES, "milestone.signatures_count")
        check_sorted_unique(tuple(item.public_key for item in self.signatures), "milestone.public_key")
        return b"".join(
            (
                uint(self.TYPE, 4, "milestone.payload_type"),
                self.essence.to_bytes(),
                bytes([len(self.signatures)]),
                *(item.to_bytes() for item in self.signatures),
            )
        )

    @classmethod
    def read_body(cls, reader: Reader) -> MilestonePayload:
        """Read the fields after the payload type."""
        essence = MilestoneEssence.read(reader)
        count = reader.u8("milestone.signatures_count")
        check_count(count, 1, MAX_SIGNATURES, "milestone.signatures_count")
        signatures = tuple(MilestoneSignature.read(reader) for _ in range(count))
        check_sorted_unique(tuple(item.public_key for item in signatures), "milestone.public_key")
        return cls(essence, signatures)
