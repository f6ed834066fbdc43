"""The one exception every parse or serialize failure raises."""

from __future__ import annotations


class CodecError(ValueError):
    """Bytes (or a value) that do not fit the wire format; `field` names where it broke.

    A single class with a field name lets the node answer "which field" to a client
    without a zoo of exception types, and lets tests assert the exact place.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
