"""Real keys, signed transactions and mined blocks for validation tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pow_rs
from mobility.db import create_db_engine
from mobility.ledger.node import Node
from mobility.ledger.store import LedgerStore
from mobility.wire.codec import (
    BasicOutput,
    Block,
    ChannelOutput,
    Ed25519Address,
    MilestoneEssence,
    MilestonePayload,
    MilestoneSignature,
    Output,
    Payload,
    ReferenceUnlock,
    SignatureUnlock,
    TransactionEssence,
    TransactionPayload,
    Unlock,
    UtxoInput,
    output_id,
)
from testkit.ledger import COORDINATORS as COORDINATORS
from testkit.ledger import GENESIS_TX as GENESIS_TX
from testkit.ledger import PARAMS as PARAMS

ALICE = pow_rs.SigningKey(bytes([0xA1]) * 32)
BOB = pow_rs.SigningKey(bytes([0xB0]) * 32)
CAROL = pow_rs.SigningKey(bytes([0xC4]) * 32)
PARENT = pow_rs.blake2b_256(b"some parent block")


def address(key: pow_rs.SigningKey) -> Ed25519Address:
    """The ledger address of a key."""
    return Ed25519Address.from_public_key(key.public_key)


def genesis() -> dict[bytes, Output]:
    """A small UTXO set: two outputs of Alice, one of Bob, one Alice-to-Bob channel."""
    outputs: list[Output] = [
        BasicOutput(1_000_000, address(ALICE)),
        BasicOutput(500_000, address(ALICE)),
        BasicOutput(300_000, address(BOB)),
        ChannelOutput(pow_rs.blake2b_256(b"channel"), address(ALICE), address(BOB), 400_000, 100_000, 2**31),
    ]
    return {output_id(GENESIS_TX, index): output for index, output in enumerate(outputs)}


def spend(index: int) -> UtxoInput:
    """An input spending genesis output `index`."""
    return UtxoInput(GENESIS_TX, index)


def sign(essence: TransactionEssence, signers: Sequence[pow_rs.SigningKey]) -> TransactionPayload:
    """Unlocks for each input by its signer; a key's later inputs use reference unlocks."""
    message = essence.hash()
    first_use: dict[bytes, int] = {}
    unlocks: list[Unlock] = []
    for index, key in enumerate(signers):
        if key.public_key in first_use:
            unlocks.append(ReferenceUnlock(first_use[key.public_key]))
        else:
            first_use[key.public_key] = index
            unlocks.append(SignatureUnlock(key.public_key, key.sign(message)))
    return TransactionPayload(essence, tuple(unlocks))


def transfer(
    inputs: Sequence[UtxoInput], outputs: Sequence[Output], signers: Sequence[pow_rs.SigningKey]
) -> TransactionPayload:
    """A signed transaction on the test network."""
    essence = TransactionEssence(PARAMS.network_id, tuple(inputs), tuple(outputs))
    return sign(essence, signers)


def mined(payload: Payload | None, parents: tuple[bytes, ...] = (PARENT,), version: int = 2) -> bytes:
    """Block bytes with a real nonce reaching the test network's minimum score."""
    block = Block(version, parents, payload)
    nonce = pow_rs.mine(block.bytes_without_nonce(), PARAMS.min_pow_score)
    return replace(block, nonce=nonce).to_bytes()


def milestone(
    signers: Sequence[pow_rs.SigningKey], parents: tuple[bytes, ...] = (PARENT,), index: int = 1
) -> MilestonePayload:
    """A milestone essence signed by `signers` (sorted by public key, as the codec requires)."""
    essence = MilestoneEssence(index, 1_764_000_000, 2, bytes(32), parents, bytes(32), bytes(32))
    message = essence.milestone_id()
    signatures = sorted(
        (MilestoneSignature(key.public_key, key.sign(message)) for key in signers),
        key=lambda item: item.public_key,
    )
    return MilestonePayload(essence, tuple(signatures))


def funded_node(url: str) -> Node:
    """A node of the test network on the (migrated) database at `url`, its genesis giving
    ALICE, BOB and CAROL their funds."""
    store = LedgerStore(create_db_engine(url))
    store.add_genesis(genesis(), GENESIS_TX)
    return Node(store, PARAMS)
