"""The node's intake (validate, then store), and durability across a SIGKILL, on every backend."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mobility.db import create_db_engine
from mobility.ledger.node import Node
from mobility.ledger.store import GENESIS_ENTRY_POINT, LedgerStore
from mobility.ledger.validation import BlockRejectedError, RejectReason
from mobility.wire.codec import BasicOutput, Block, TaggedDataPayload, UtxoInput
from tests.ledger.builders import (
    ALICE,
    BOB,
    CAROL,
    address,
    mined,
    spend,
    transfer,
)

ROOT = (GENESIS_ENTRY_POINT,)


def test_accepted_block_is_stored_and_solid(node: Node) -> None:
    data = mined(TaggedDataPayload(b"hello", b""), parents=ROOT)
    result = node.submit(data)
    assert result.created
    assert result.solid
    assert node.store.block_bytes(result.block_id) == data
    assert not node.submit(data).created


def test_rejected_block_is_not_stored(node: Node) -> None:
    data = mined(transfer([spend(0)], [BasicOutput(1_000_000, address(BOB))], [BOB]), parents=ROOT)
    with pytest.raises(BlockRejectedError) as caught:
        node.submit(data)
    assert caught.value.reason is RejectReason.ADDRESS_MISMATCH
    assert node.store.unsolid_count() == 0
    assert node.store.missing_parents() == []


def test_chained_unconfirmed_transactions_are_checked(node: Node) -> None:
    first = transfer([spend(0)], [BasicOutput(1_000_000, address(BOB))], [ALICE])
    first_block = node.submit(mined(first, parents=ROOT))
    second = transfer([output_input(first.transaction_id)], [BasicOutput(1_000_000, address(CAROL))], [BOB])
    result = node.submit(mined(second, parents=(first_block.block_id,)))
    assert result.inputs_checked
    assert result.solid


def test_transaction_with_inputs_not_yet_known_is_held(node: Node) -> None:
    first = transfer([spend(0)], [BasicOutput(1_000_000, address(BOB))], [ALICE])
    first_data = mined(first, parents=ROOT)
    second = transfer([output_input(first.transaction_id)], [BasicOutput(1_000_000, address(CAROL))], [BOB])
    held = node.submit(mined(second, parents=(Block.from_bytes(first_data).block_id,)))
    assert not held.inputs_checked
    assert not held.solid
    assert node.submit(first_data).solid
    meta = node.store.metadata(held.block_id)
    assert meta is not None
    assert meta.solid


def output_input(transaction_id: bytes) -> UtxoInput:
    """An input spending output 0 of a transaction."""
    return UtxoInput(transaction_id, 0)


def test_acknowledged_blocks_survive_sigkill(database_url: str) -> None:
    root = Path(__file__).resolve().parents[2]
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.ledger.ingest_worker", database_url],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    acknowledged = [bytes.fromhex(worker.stdout.readline().strip()) for _ in range(40)]
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()

    engine = create_db_engine(database_url)
    store = LedgerStore(engine)
    for block_id in acknowledged:
        meta = store.metadata(block_id)
        assert meta is not None
        assert meta.solid
    assert store.unsolid_count() == 0
    assert store.missing_parents() == []
    engine.dispose()
