"""Genesis allocation: the outputs a network starts with, read from configuration, not code.

A genesis file is JSON: `{"allocations": [{"address": "<bech32>", "amount": <micro-units>}]}`.
The outputs belong to a pseudo-transaction whose ID is BLAKE2b-256 of
`"mobility/genesis/" + network name`, so every node of a network derives the same output IDs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pow_rs
from mobility.ledger.params import NetworkParams
from mobility.wire.codec import BasicOutput, Ed25519Address, Output, output_id


class GenesisError(ValueError):
    """A genesis file that cannot be used."""


def genesis_transaction_id(network_name: str) -> bytes:
    """The pseudo-transaction ID the genesis outputs hang from."""
    return pow_rs.blake2b_256(b"mobility/genesis/" + network_name.encode())


def parse_genesis(text: str, params: NetworkParams) -> dict[bytes, Output]:
    """Genesis outputs by output ID; amounts must be positive integers within the token supply."""
    try:
        allocations = json.loads(text)["allocations"]
    except (ValueError, KeyError, TypeError) as error:
        raise GenesisError(f"not a genesis document: {error}") from error
    transaction_id = genesis_transaction_id(params.network_name)
    outputs: dict[bytes, Output] = {}
    total = 0
    for index, entry in enumerate(allocations):
        amount = entry.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise GenesisError(f"allocation {index}: amount must be a positive integer of micro-units")
        try:
            hrp, raw = pow_rs.bech32_decode(str(entry.get("address")))
            address = Ed25519Address.from_bytes(raw)
        except ValueError as error:
            raise GenesisError(f"allocation {index}: bad address: {error}") from error
        if hrp != params.bech32_hrp:
            raise GenesisError(f"allocation {index}: address is for {hrp!r}, not {params.bech32_hrp!r}")
        total += amount
        outputs[output_id(transaction_id, index)] = BasicOutput(amount, address)
    if total > params.token_supply:
        raise GenesisError(f"allocations total {total} > token supply {params.token_supply}")
    return outputs


def load_genesis(path: Path, params: NetworkParams) -> dict[bytes, Output]:
    """`parse_genesis` of a file."""
    return parse_genesis(path.read_text(), params)
