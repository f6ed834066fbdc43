"""Property tests: every value serializes and parses back to itself, and the TIP-24 vector."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given

import pow_rs
from mobility.wire.codec import (
    Block,
    CodecError,
    Ed25519Address,
    Output,
    Payload,
    TaggedDataPayload,
    TransactionPayload,
    output_from_bytes,
    payload_from_bytes,
)
from tests.conftest import load_vector
from tests.ledger import strategies


def test_tip24_example_block_round_trips_with_its_id() -> None:
    vector = load_vector("block_tip24_example.json")
    raw = bytes.fromhex(vector["block_hex"])
    block = Block.from_bytes(raw)
    assert len(raw) == vector["length"]
    assert block.protocol_version == 2
    assert block.payload == TaggedDataPayload(b"IOTA", b"hello world")
    assert block.nonce == 28110
    assert block.to_bytes() == raw
    assert block.block_id.hex() == vector["block_id_blake2b256"]
    assert pow_rs.pow_score(block.to_bytes()) == pytest.approx(vector["score"])


@given(strategies.blocks)
def test_block_round_trip(block: Block) -> None:
    raw = block.to_bytes()
    assert Block.from_bytes(raw) == block
    assert Block.from_bytes(raw).block_id == pow_rs.blake2b_256(raw)
    assert raw[:-8] == block.bytes_without_nonce()


@given(strategies.payloads)
def test_payload_round_trip(payload: Payload) -> None:
    assert payload_from_bytes(payload.to_bytes()) == payload


@given(strategies.payloads)
def test_a_parsed_transaction_keeps_the_bytes_its_fields_serialize_to(payload: Payload) -> None:
    """A parsed transaction answers `to_bytes` and `transaction_id` from the bytes it was read
    from; the codec being canonical, serializing its fields afresh gives those same bytes."""
    raw = payload.to_bytes()
    parsed = payload_from_bytes(raw)
    assert parsed.to_bytes() == raw
    if isinstance(parsed, TransactionPayload):
        afresh = TransactionPayload(replace(parsed.essence), parsed.unlocks)  # keeps no bytes
        assert afresh.to_bytes() == raw
        assert parsed.transaction_id == afresh.transaction_id == pow_rs.blake2b_256(raw)
        assert [item.output_id for item in parsed.essence.inputs] == [
            item.transaction_id + item.output_index.to_bytes(2, "little") for item in parsed.essence.inputs
        ]


@given(strategies.outputs)
def test_output_round_trip(output: Output) -> None:
    assert output_from_bytes(output.to_bytes()) == output


@given(strategies.blocks)
def test_every_truncation_is_a_codec_error(block: Block) -> None:
    raw = block.to_bytes()
    for cut in range(0, len(raw), max(1, len(raw) // 40)):
        with pytest.raises(CodecError):
            Block.from_bytes(raw[:cut])


def test_address_matches_pow_rs_and_bech32() -> None:
    key = pow_rs.SigningKey(bytes(range(32)))
    address = Ed25519Address.from_public_key(key.public_key)
    assert address.to_bytes() == pow_rs.ed25519_address(key.public_key)
    assert pow_rs.bech32_decode(address.bech32("rms")) == ("rms", address.to_bytes())
