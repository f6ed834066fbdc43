"""The payload union and its dispatch on the u32 payload type."""

from __future__ import annotations

from mobility.wire.codec.errors import CodecError
from mobility.wire.codec.milestone import MILESTONE_PAYLOAD_TYPE, MilestonePayload
from mobility.wire.codec.primitives import Reader
from mobility.wire.codec.tagged_data import TAGGED_DATA_PAYLOAD_TYPE, TaggedDataPayload
from mobility.wire.codec.transaction import TRANSACTION_PAYLOAD_TYPE, TransactionPayload

Payload = TaggedDataPayload | TransactionPayload | MilestonePayload


def payload_from_bytes(data: bytes) -> Payload:
    """Parse exactly one payload of any known type."""
    reader = Reader(data)
    kind = reader.u32("payload.payload_type")
    payload: Payload
    if kind == TAGGED_DATA_PAYLOAD_TYPE:
        payload = TaggedDataPayload.read_body(reader)
    elif kind == TRANSACTION_PAYLOAD_TYPE:
        payload = TransactionPayload.read_body(reader)
    elif kind == MILESTONE_PAYLOAD_TYPE:
        payload = MilestonePayload.read_body(reader)
    else:
        raise CodecError("payload.payload_type", f"unknown payload type {kind}")
    reader.expect_end("payload")
    return payload
