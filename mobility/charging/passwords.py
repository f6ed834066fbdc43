"""Charge point passwords (OCPP security profiles 1 and 2), stored as salted scrypt hashes.

A hash takes tens of milliseconds of CPU and 16 MiB: `PasswordHasher` runs them on threads of
their own (never the database's), at most `HASH_WORKERS` at once and `HASH_QUEUE` waiting.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from mobility.offload import BoundedExecutor, BusyError

HASH_WORKERS = 2  # of the machine's cores, what hashing may take at most
# Calls waiting for a hashing thread: enough for every charger of a site reconnecting at once;
# past it, a handshake or registration is refused (503) instead of waiting without end.
HASH_QUEUE = 128

_N, _R, _P = 2**14, 8, 1
_SCHEME = "scrypt"


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt_hex$hash_hex`, with a fresh 16-byte salt per call."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"{_SCHEME}${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of `password` against a value made by `hash_password`."""
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != _SCHEME:
            return False
        digest = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, bytes.fromhex(digest_hex))


class PasswordHasher:
    """Hashes and checks passwords on a `BoundedExecutor` of their own (`BusyError` when full)."""

    def __init__(self, workers: int = HASH_WORKERS, queue: int = HASH_QUEUE) -> None:
        self.executor = BoundedExecutor("password-hash", workers, queue)

    async def hash(self, password: str) -> str:
        """`hash_password(password)`, off the event loop."""
        return await self.executor.run(hash_password, password)

    async def verify(self, password: str, stored: str) -> bool:
        """`verify_password(password, stored)`, off the event loop."""
        return await self.executor.run(verify_password, password, stored)


__all__ = ["BusyError", "PasswordHasher", "hash_password", "verify_password"]
