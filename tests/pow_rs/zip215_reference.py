"""A slow, independent ZIP-215 verifier in pure Python, to referee the TIP-14 vectors.

Decoding accepts every encoding of a curve point (non-canonical y, and x = 0 with the sign
bit set), S must be below the group order, and the cofactored equation
[8][S]B = [8]R + [8][k]A decides, with k = SHA-512(R || A || M) over the bytes as given.
"""

from __future__ import annotations

import hashlib

P = 2**255 - 19
ORDER = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

Point = tuple[int, int]


def _add(a: Point, b: Point) -> Point:
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return (
        (x1 * y2 + x2 * y1) * pow(1 + t, P - 2, P) % P,
        (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P,
    )


def _mul(k: int, point: Point) -> Point:
    result = (0, 1)
    while k:
        if k & 1:
            result = _add(result, point)
        point = _add(point, point)
        k >>= 1
    return result


def decode_point(encoded: bytes) -> Point | None:
    """The point of any encoding (canonical or not), or None when y has no x on the curve."""
    value = int.from_bytes(encoded, "little")
    sign, y = value >> 255, (value & ((1 << 255) - 1)) % P
    xx = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(xx, (P + 3) // 8, P)
    if (x * x - xx) % P:
        x = x * SQRT_M1 % P
    if (x * x - xx) % P:
        return None
    if x & 1 != sign:
        x = (P - x) % P
    return (x, y)


BASE = decode_point((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


def zip215_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """ZIP-215 verdict on well-formed input."""
    a, r = decode_point(public_key), decode_point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= ORDER or BASE is None:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % ORDER
    return _mul(8, _mul(s, BASE)) == _mul(8, _add(r, _mul(k, a)))
