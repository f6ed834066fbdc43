"""Byte-exact wire formats of the ledger: blocks and their payloads.

Every type is a frozen dataclass with `to_bytes()`; parsing is `Block.from_bytes`,
`payload_from_bytes` or `output_from_bytes`, and any malformation raises `CodecError` naming
the field. Each module's docstring gives its byte layout and how it differs from Stardust.
"""

from mobility.wire.codec.address import ADDRESS_LENGTH, Ed25519Address
from mobility.wire.codec.block import MAX_BLOCK_LENGTH, Block
from mobility.wire.codec.errors import CodecError
from mobility.wire.codec.milestone import MilestoneEssence, MilestonePayload, MilestoneSignature
from mobility.wire.codec.payload import Payload, payload_from_bytes
from mobility.wire.codec.tagged_data import TaggedDataPayload
from mobility.wire.codec.transaction import (
    ZERO_CHANNEL_ID,
    BasicOutput,
    ChannelOutput,
    Output,
    ReferenceUnlock,
    SignatureUnlock,
    TransactionEssence,
    TransactionPayload,
    Unlock,
    UtxoInput,
    output_from_bytes,
    output_id,
)
from mobility.wire.codec.voucher import Voucher, VoucherPayload

__all__ = [
    "ADDRESS_LENGTH",
    "MAX_BLOCK_LENGTH",
    "ZERO_CHANNEL_ID",
    "BasicOutput",
    "Block",
    "ChannelOutput",
    "CodecError",
    "Ed25519Address",
    "MilestoneEssence",
    "MilestonePayload",
    "MilestoneSignature",
    "Output",
    "Payload",
    "ReferenceUnlock",
    "SignatureUnlock",
    "TaggedDataPayload",
    "TransactionEssence",
    "TransactionPayload",
    "Unlock",
    "UtxoInput",
    "Voucher",
    "VoucherPayload",
    "output_from_bytes",
    "output_id",
    "payload_from_bytes",
]
