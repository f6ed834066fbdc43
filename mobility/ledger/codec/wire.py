"""Little-endian primitives: a bounds-checked reader and a writer, both naming fields.

Every read takes the field's name, so a truncated or malformed input becomes a
`CodecError` that says which field ran short; writes check ranges for the same reason.
"""

from __future__ import annotations

from itertools import pairwise

from mobility.ledger.codec.errors import CodecError

_UINT_BITS = {1: 8, 2: 16, 4: 32, 8: 64}


class Reader:
    """A cursor over bytes that refuses to read past the end."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def position(self) -> int:
        """Offset of the next unread byte."""
        return self._pos

    @property
    def remaining(self) -> int:
        """Bytes not read yet."""
        return len(self._data) - self._pos

    def take(self, count: int, field: str) -> bytes:
        """The next `count` bytes of `field`."""
        if count > self.remaining:
            raise CodecError(field, f"truncated: needs {count} bytes, {self.remaining} left")
        chunk = self._data[self._pos : self._pos + count]
        self._pos += count
        return chunk

    def uint(self, size: int, field: str) -> int:
        """An unsigned little-endian integer of `size` bytes."""
        return int.from_bytes(self.take(size, field), "little")

    def u8(self, field: str) -> int:
        """An unsigned byte."""
        return self.uint(1, field)

    def u16(self, field: str) -> int:
        """An unsigned 16-bit integer."""
        return self.uint(2, field)

    def u32(self, field: str) -> int:
        """An unsigned 32-bit integer."""
        return self.uint(4, field)

    def u64(self, field: str) -> int:
        """An unsigned 64-bit integer."""
        return self.uint(8, field)

    def expect_end(self, field: str) -> None:
        """Reject trailing bytes after the last field of `field`."""
        if self.remaining:
            raise CodecError(field, f"{self.remaining} trailing bytes")


def uint(value: int, size: int, field: str) -> bytes:
    """`value` as `size` little-endian bytes, or `CodecError` if it does not fit."""
    if not 0 <= value < 1 << _UINT_BITS[size]:
        raise CodecError(field, f"{value} does not fit in u{_UINT_BITS[size]}")
    return value.to_bytes(size, "little")


def fixed(value: bytes, size: int, field: str) -> bytes:
    """`value` checked to be exactly `size` bytes."""
    if len(value) != size:
        raise CodecError(field, f"must be {size} bytes, got {len(value)}")
    return value


def check_count(count: int, low: int, high: int, field: str) -> None:
    """Reject a list length outside `low..high`."""
    if not low <= count <= high:
        raise CodecError(field, f"count {count} out of range {low}..{high}")


def check_sorted_unique(items: tuple[bytes, ...], field: str) -> None:
    """Reject items that are not in strictly ascending lexicographic order."""
    for previous, current in pairwise(items):
        if current == previous:
            raise CodecError(field, "duplicate entry")
        if current < previous:
            raise CodecError(field, "not sorted in ascending order")
