"""Ledger settings from the environment, and a node opened from them (twice: genesis once)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mobility.ledger.config import LedgerSettings, open_node
from tests.ledger.builders import ALICE, COORDINATORS, address


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    keys = tmp_path / "coordinator.keys"
    keys.write_text("\n".join((bytes([0xD0 + i]) * 32).hex() for i in range(2)))
    monkeypatch.setenv("MOBILITY_LEDGER_NETWORK_NAME", "testnet")
    monkeypatch.setenv("MOBILITY_LEDGER_MIN_POW_SCORE", "20")
    monkeypatch.setenv("MOBILITY_LEDGER_COORDINATOR_KEY_FILE", str(keys))
    monkeypatch.setenv("MOBILITY_LEDGER_COORDINATOR_THRESHOLD", "2")
    settings = LedgerSettings()
    params = settings.network_params()
    assert params.network_name == "testnet"
    assert params.min_pow_score == 20.0
    assert params.coordinator_threshold == 2
    assert params.coordinator_public_keys == {key.public_key for key in COORDINATORS[:2]}


def test_open_node_records_genesis_once(database_url: str, tmp_path: Path) -> None:
    genesis = tmp_path / "genesis.json"
    alice = address(ALICE)
    genesis.write_text(json.dumps({"allocations": [{"address": alice.bech32("rms"), "amount": 7_000_000}]}))
    settings = LedgerSettings(genesis_file=genesis, min_pow_score=20.0)
    for _ in range(2):
        node = open_node(settings, database_url)
        assert node.store.balance(alice.to_bytes()) == 7_000_000
        node.store.engine.dispose()
