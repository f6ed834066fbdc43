"""Payment-channel vouchers: the payer's signed promise, and the payload that redeems one.

A voucher is off-ledger: `channel_id 32B | nonce u64 | amount u64`, little-endian, where
`amount` is cumulative (everything the payer owes on this channel so far) and `nonce` strictly
increases, so each voucher supersedes the last. The payer signs
`BLAKE2b-256("mobility/voucher/v1" | voucher bytes)`; the prefix keeps a voucher signature from
ever being valid as a transaction or milestone signature.

To claim, the payee puts the voucher in the transaction essence as a voucher payload (our
type 8; Stardust has none), so the payee's own signature covers it too::

    voucher payload = payload_type u32 = 8 | channel_id 32B | nonce u64 | amount u64
                    | payer public_key 32B | payer signature 64B
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pow_rs
from mobility.wire.codec.errors import CodecError
from mobility.wire.codec.primitives import Reader, fixed, uint

VOUCHER_PAYLOAD_TYPE = 8
VOUCHER_DOMAIN = b"mobility/voucher/v1"


@dataclass(frozen=True, slots=True)
class Voucher:
    """What the payer signs: the cumulative amount owed on a channel, at a nonce."""

    channel_id: bytes
    nonce: int
    amount: int

    def __post_init__(self) -> None:
        fixed(self.channel_id, 32, "voucher.channel_id")

    def to_bytes(self) -> bytes:
        """The wire form (without signature)."""
        return self.channel_id + uint(self.nonce, 8, "voucher.nonce") + uint(self.amount, 8, "voucher.amount")

    def signing_message(self) -> bytes:
        """The domain-separated hash the payer signs."""
        return pow_rs.blake2b_256(VOUCHER_DOMAIN + self.to_bytes())


@dataclass(frozen=True, slots=True)
class VoucherPayload:
    """A payer-signed voucher carried in a claim transaction's essence."""

    TYPE: ClassVar[int] = VOUCHER_PAYLOAD_TYPE

    voucher: Voucher
    public_key: bytes
    signature: bytes

    def __post_init__(self) -> None:
        fixed(self.public_key, 32, "voucher.public_key")
        fixed(self.signature, 64, "voucher.signature")

    def to_bytes(self) -> bytes:
        """The wire form, payload type included."""
        return (
            uint(self.TYPE, 4, "voucher.payload_type")
            + self.voucher.to_bytes()
            + self.public_key
            + self.signature
        )

    @classmethod
    def read_body(cls, reader: Reader) -> VoucherPayload:
        """Read the fields after the payload type."""
        voucher = Voucher(
            reader.take(32, "voucher.channel_id"), reader.u64("voucher.nonce"), reader.u64("voucher.amount")
        )
        return cls(voucher, reader.take(32, "voucher.public_key"), reader.take(64, "voucher.signature"))

    @classmethod
    def from_bytes(cls, data: bytes) -> VoucherPayload:
        """Parse the wire form (payload type included); nothing may follow it."""
        reader = Reader(data)
        kind = reader.u32("voucher.payload_type")
        if kind != cls.TYPE:
            raise CodecError("voucher.payload_type", f"expected {cls.TYPE}, got {kind}")
        payload = cls.read_body(reader)
        reader.expect_end("voucher")
        return payload
