"""Network parameters: what every node of one network must agree on to accept a block."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pow_rs


@cache
def network_id_from_name(name: str) -> int:
    """The u64 network ID of a network name: first 8 bytes of its BLAKE2b-256, as in Stardust.

    Transactions carry it so that a transfer signed for one network cannot be replayed on another.
    Cached: every transaction on arrival is checked against it (a node knows one or two names).
    """
    return int.from_bytes(pow_rs.blake2b_256(name.encode())[:8], "little")


@dataclass(frozen=True, slots=True)
class NetworkParams:
    """Consensus parameters; a development network simply uses a low `min_pow_score`."""

    network_name: str
    protocol_version: int = 2
    min_pow_score: float = 0.0
    coordinator_public_keys: frozenset[bytes] = frozenset()
    coordinator_threshold: int = 1
    bech32_hrp: str = "rms"
    channel_settle_period: int = 3600
    """Seconds a payer's close must leave the payee to claim with its latest voucher."""
    token_supply: int = 2**63 - 1
    """Upper bound of all micro-units in existence; no transaction may output more.

    Stardust has the same parameter; here it also keeps every amount inside a signed 64-bit
    database integer.
    """

    @property
    def network_id(self) -> int:
        """The ID transactions of this network carry."""
        return network_id_from_name(self.network_name)
