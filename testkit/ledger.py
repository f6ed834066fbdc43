"""A test network: its coordinator keys, consensus parameters and genesis transaction ID, the
same for every test and benchmark that runs a node of its own."""

from __future__ import annotations

import pow_rs
from mobility.ledger.params import NetworkParams

COORDINATORS = [pow_rs.SigningKey(bytes([0xD0 + i]) * 32) for i in range(3)]
PARAMS = NetworkParams(
    network_name="mobility-test",
    min_pow_score=20.0,
    coordinator_public_keys=frozenset(key.public_key for key in COORDINATORS),
    coordinator_threshold=2,
)
GENESIS_TX = pow_rs.blake2b_256(b"genesis")
