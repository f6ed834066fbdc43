"""Genesis allocations from a configuration file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mobility.ledger.genesis import GenesisError, genesis_transaction_id, load_genesis, parse_genesis
from mobility.wire.codec import BasicOutput, output_id
from tests.ledger.builders import ALICE, BOB, PARAMS, address


def document(*entries: Any) -> str:
    return json.dumps({"allocations": list(entries)})


def test_load_genesis(tmp_path: Path) -> None:
    path = tmp_path / "genesis.json"
    alice, bob = address(ALICE), address(BOB)
    path.write_text(
        document(
            {"address": alice.bech32(PARAMS.bech32_hrp), "amount": 5_000_000},
            {"address": bob.bech32(PARAMS.bech32_hrp), "amount": 1},
        )
    )
    outputs = load_genesis(path, PARAMS)
    transaction_id = genesis_transaction_id(PARAMS.network_name)
    assert outputs == {
        output_id(transaction_id, 0): BasicOutput(5_000_000, alice),
        output_id(transaction_id, 1): BasicOutput(1, bob),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "not a genesis document"),
        (document({"address": "x", "amount": 1.5}), "positive integer"),
        (document({"address": "x", "amount": 0}), "positive integer"),
        (document({"address": "rms1notbech32", "amount": 1}), "bad address"),
        (document({"address": "PLACEHOLDER_IOTA", "amount": 1}), "not 'rms'"),
        (document({"address": "PLACEHOLDER_RMS", "amount": 2**63}), "token supply"),
    ],
)
def test_bad_genesis(text: str, message: str) -> None:
    text = text.replace("PLACEHOLDER_IOTA", address(ALICE).bech32("iota"))
    text = text.replace("PLACEHOLDER_RMS", address(ALICE).bech32("rms"))
    with pytest.raises(GenesisError, match=message):
        parse_genesis(text, PARAMS)
