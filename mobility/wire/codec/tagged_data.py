"""Tagged data payload (TIP-23), unchanged from Stardust.

Layout: `payload_type u32 = 5 | tag_length u8 | tag (0..64 B) | data_length u32 | data`.
The tag is capped at 64 bytes as in TIP-23; the data is bounded only by the block size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mobility.wire.codec.errors import CodecError
from mobility.wire.codec.primitives import Reader, uint

TAGGED_DATA_PAYLOAD_TYPE = 5
MAX_TAG_LENGTH = 64


@dataclass(frozen=True, slots=True)
class TaggedDataPayload:
    """Arbitrary data with an indexable tag: feeless messages, session references."""

    TYPE: ClassVar[int] = TAGGED_DATA_PAYLOAD_TYPE

    tag: bytes
    data: bytes

    def __post_init__(self) -> None:
        if len(self.tag) > MAX_TAG_LENGTH:
            raise CodecError("tagged_data.tag", f"longer than {MAX_TAG_LENGTH} bytes")

    def to_bytes(self) -> bytes:
        """The wire form, payload type included."""
        return b"".join(
            (
                uint(self.TYPE, 4, "tagged_data.payload_type"),
                uint(len(self.tag), 1, "tagged_data.tag_length"),
                self.tag,
                uint(len(self.data), 4, "tagged_data.data_length"),
                self.data,
            )
        )

    @classmethod
    def read_body(cls, reader: Reader) -> TaggedDataPayload:
        """Read the fields after the payload type."""
        tag_length = reader.u8("tagged_data.tag_length")
        if tag_length > MAX_TAG_LENGTH:
            raise CodecError("tagged_data.tag_length", f"{tag_length} exceeds {MAX_TAG_LENGTH}")
        tag = reader.take(tag_length, "tagged_data.tag")
        data = reader.take(reader.u32("tagged_data.data_length"), "tagged_data.data")
        return cls(tag, data)
