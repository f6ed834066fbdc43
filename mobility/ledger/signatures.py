"""Ed25519 (ZIP-215) verification of several signatures at once, through pow_rs.

One call per block: a batch when there are several signatures, which is where pow_rs is
fastest, and a single verify otherwise. Malformed keys count as bad signatures, never as
exceptions, so a hostile block can only ever be rejected.
"""

from __future__ import annotations

from collections.abc import Sequence

import pow_rs


def verify_all(items: Sequence[tuple[bytes, bytes, bytes]]) -> list[bool]:
    """One verdict per `(public_key, message, signature)`."""
    if len(items) > 1:
        return pow_rs.ed25519_verify_batch(items)
    verdicts = []
    for public_key, message, signature in items:
        try:
            verdicts.append(pow_rs.ed25519_verify(public_key, message, signature))
        except pow_rs.PowRsError:
            verdicts.append(False)
    return verdicts
