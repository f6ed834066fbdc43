"""Ledger configuration from the environment (`MOBILITY_LEDGER_*`), and opening a node from it.

Development defaults: a low minimum PoW score and a milestone every few seconds. Secrets are
not environment variables: the coordinator's seeds live in a file named by
`MOBILITY_LEDGER_COORDINATOR_KEY_FILE` (one 32-byte seed in hex per line).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

import pow_rs
from mobility.clock import Clock, utc_now
from mobility.db import create_db_engine
from mobility.ledger.api.remote_pow import DEVELOPMENT_NETWORK, RemotePow
from mobility.ledger.genesis import genesis_transaction_id, load_genesis
from mobility.ledger.held import HeldLimits
from mobility.ledger.node import Node
from mobility.ledger.params import NetworkParams
from mobility.ledger.store import LedgerStore


class LedgerSettings(BaseSettings):
    """Every knob of a ledger node."""

    model_config = SettingsConfigDict(env_prefix="MOBILITY_LEDGER_", extra="ignore")

    network_name: str = DEVELOPMENT_NETWORK
    protocol_version: int = 2
    min_pow_score: float = 100.0
    bech32_hrp: str = "rms"
    coordinator_key_file: Path | None = None
    coordinator_public_keys: list[str] = []
    coordinator_threshold: int = 1
    milestone_interval_seconds: float = 5.0
    channel_settle_period: int = 3600
    genesis_file: Path | None = None
    # Remote PoW (`POST /ledger/blocks/pow`): None means on for the development network only.
    remote_pow: bool | None = None
    remote_pow_max_bytes: int = 4096
    remote_pow_per_minute: int = 10
    # Blocks held for parents that never come: at most this many, for at most this long.
    held_max_count: int = 1_000
    held_max_age_seconds: float = 600.0

    def remote_pow_policy(self) -> RemotePow:
        """Whether and how much the node's API mines for clients."""
        enabled = self.remote_pow if self.remote_pow is not None else self.network_name == DEVELOPMENT_NETWORK
        return RemotePow(enabled, self.remote_pow_max_bytes, self.remote_pow_per_minute)

    def coordinator_keys(self) -> list[pow_rs.SigningKey]:
        """The coordinator's signing keys, if this node is the coordinator."""
        if self.coordinator_key_file is None:
            return []
        lines = self.coordinator_key_file.read_text().split()
        return [pow_rs.SigningKey(pow_rs.from_hex(line, 32)) for line in lines]

    def network_params(self) -> NetworkParams:
        """Consensus parameters; coordinator keys come from the key file and the public list."""
        public_keys = {pow_rs.from_hex(key, 32) for key in self.coordinator_public_keys}
        public_keys |= {key.public_key for key in self.coordinator_keys()}
        return NetworkParams(
            network_name=self.network_name,
            protocol_version=self.protocol_version,
            min_pow_score=self.min_pow_score,
            coordinator_public_keys=frozenset(public_keys),
            coordinator_threshold=self.coordinator_threshold,
            bech32_hrp=self.bech32_hrp,
            channel_settle_period=self.channel_settle_period,
        )


def open_node(settings: LedgerSettings, database_url: str, clock: Clock = utc_now) -> Node:
    """A node on `database_url`, which the migrations have brought up to date (`mobility db
    upgrade`); genesis is recorded once, on the first start."""
    params = settings.network_params()
    store = LedgerStore(create_db_engine(database_url), clock=clock)
    if settings.genesis_file is not None:
        outputs = load_genesis(settings.genesis_file, params)
        if outputs and store.output(next(iter(outputs))) is None:
            store.add_genesis(outputs, genesis_transaction_id(params.network_name))
    held = HeldLimits(settings.held_max_count, timedelta(seconds=settings.held_max_age_seconds))
    node = Node(store, params, held)
    node.apply_pending_milestones()
    return node
