"""Every malformation the codec must refuse, each asserting the field it names."""

from __future__ import annotations

import pytest

from mobility.wire.codec import (
    MAX_BLOCK_LENGTH,
    BasicOutput,
    Block,
    CodecError,
    Ed25519Address,
    MilestoneEssence,
    MilestonePayload,
    MilestoneSignature,
    SignatureUnlock,
    TaggedDataPayload,
    TransactionEssence,
    TransactionPayload,
    UtxoInput,
    output_from_bytes,
    payload_from_bytes,
)

P1, P2, P3 = bytes([1]) * 32, bytes([2]) * 32, bytes([3]) * 32
ADDRESS = Ed25519Address(bytes([7]) * 32)


def raw_block(
    parents: list[bytes], payload: bytes = b"", version: int = 2, count: int | None = None
) -> bytes:
    """Block bytes built by hand, so they can break the rules the constructor enforces."""
    n = len(parents) if count is None else count
    return (
        bytes([version, n])
        + b"".join(parents)
        + len(payload).to_bytes(4, "little")
        + payload
        + (0).to_bytes(8, "little")
    )


def transaction() -> TransactionPayload:
    essence = TransactionEssence(
        network_id=1,
        inputs=(UtxoInput(P1, 0),),
        outputs=(BasicOutput(10, ADDRESS),),
    )
    return TransactionPayload(essence, (SignatureUnlock(P2, bytes(64)),))


def milestone(signers: list[bytes]) -> MilestonePayload:
    essence = MilestoneEssence(1, 1_700_000_000, 2, bytes(32), (P1,), bytes(32), bytes(32))
    return MilestonePayload(essence, tuple(MilestoneSignature(key, bytes(64)) for key in signers))


def assert_rejects(data: bytes, field: str, reason_part: str, parse: object = Block.from_bytes) -> None:
    with pytest.raises(CodecError) as caught:
        parse(data)  # type: ignore[operator]
    assert caught.value.field == field
    assert reason_part in caught.value.reason


def test_trailing_bytes_after_block() -> None:
    assert_rejects(raw_block([P1]) + b"\x00", "block", "trailing")


def test_trailing_bytes_inside_payload() -> None:
    payload = TaggedDataPayload(b"t", b"d").to_bytes() + b"\x00"
    assert_rejects(raw_block([P1], payload), "payload", "trailing")


def test_unsorted_parents() -> None:
    assert_rejects(raw_block([P2, P1]), "block.parents", "not sorted")


def test_duplicate_parents() -> None:
    assert_rejects(raw_block([P1, P1]), "block.parents", "duplicate")


@pytest.mark.parametrize("count", [0, 9])
def test_parents_count_out_of_range(count: int) -> None:
    parents = [bytes([i]) * 32 for i in range(1, count + 1)]
    assert_rejects(raw_block(parents), "block.parents_count", "out of range")


def test_oversize_block_on_parse() -> None:
    data = raw_block([P1], TaggedDataPayload(b"", bytes(MAX_BLOCK_LENGTH)).to_bytes())
    assert_rejects(data, "block", "exceeds")


def test_largest_block_is_accepted_and_one_more_byte_is_not() -> None:
    overhead = len(raw_block([P1], TaggedDataPayload(b"", b"").to_bytes()))
    fits = Block(2, (P1,), TaggedDataPayload(b"", bytes(MAX_BLOCK_LENGTH - overhead)))
    assert len(fits.to_bytes()) == MAX_BLOCK_LENGTH
    assert Block.from_bytes(fits.to_bytes()) == fits
    too_big = Block(2, (P1,), TaggedDataPayload(b"", bytes(MAX_BLOCK_LENGTH - overhead + 1)))
    with pytest.raises(CodecError) as caught:
        too_big.to_bytes()
    assert caught.value.field == "block"


def test_unknown_payload_type() -> None:
    assert_rejects(raw_block([P1], (99).to_bytes(4, "little")), "payload.payload_type", "unknown")


def test_truncated_block() -> None:
    assert_rejects(raw_block([P1])[:-1], "block.nonce", "truncated")


def test_payload_length_beyond_block() -> None:
    data = bytes([2, 1]) + P1 + (100).to_bytes(4, "little") + bytes(8)
    assert_rejects(data, "block.payload", "truncated")


def test_tag_too_long() -> None:
    data = (5).to_bytes(4, "little") + bytes([65]) + bytes(65) + bytes(4)
    assert_rejects(data, "tagged_data.tag_length", "exceeds", payload_from_bytes)
    with pytest.raises(CodecError):
        TaggedDataPayload(bytes(65), b"")


def _tx_bytes() -> bytes:
    return transaction().to_bytes()


def _replace(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1
    return data.replace(old, new)


def test_unknown_essence_type() -> None:
    data = bytearray(_tx_bytes())
    data[4] = 2
    assert_rejects(bytes(data), "essence.essence_type", "unknown", payload_from_bytes)


def test_unknown_input_type() -> None:
    data = _replace(_tx_bytes(), b"\x00" + P1, b"\x05" + P1)
    assert_rejects(data, "input.input_type", "unknown", payload_from_bytes)


def test_output_index_out_of_range() -> None:
    data = _replace(_tx_bytes(), P1 + b"\x00\x00", P1 + b"\x80\x00")
    assert_rejects(data, "input.output_index", "out of range", payload_from_bytes)


def test_unknown_output_type() -> None:
    output = BasicOutput(10, ADDRESS).to_bytes()
    data = _replace(_tx_bytes(), output, b"\x04" + output[1:])
    assert_rejects(data, "output.output_type", "unknown output type 4", payload_from_bytes)
    assert_rejects(b"\x04" + output[1:], "output.output_type", "unknown", output_from_bytes)


def test_unknown_address_type() -> None:
    data = _replace(_tx_bytes(), ADDRESS.to_bytes(), b"\x08" + ADDRESS.pubkey_hash)
    assert_rejects(data, "basic_output.address.address_type", "unknown", payload_from_bytes)


def test_unknown_unlock_type() -> None:
    data = _replace(_tx_bytes(), b"\x00\x00" + P2, b"\x02\x00" + P2)
    assert_rejects(data, "unlock.unlock_type", "unknown unlock type 2", payload_from_bytes)


def test_unknown_signature_type() -> None:
    data = _replace(_tx_bytes(), b"\x00\x00" + P2, b"\x00\x01" + P2)
    assert_rejects(data, "signature_unlock.signature_type", "unknown", payload_from_bytes)


def test_transaction_trailing_bytes() -> None:
    assert_rejects(_tx_bytes() + b"\x00", "payload", "trailing", payload_from_bytes)


@pytest.mark.parametrize(
    ("field", "count"), [("inputs", 0), ("inputs", 129), ("outputs", 0), ("outputs", 129)]
)
def test_input_and_output_counts_out_of_range(field: str, count: int) -> None:
    data = (6).to_bytes(4, "little") + bytes([1]) + (1).to_bytes(8, "little")
    if field == "outputs":
        data += (1).to_bytes(2, "little") + UtxoInput(P1, 0).to_bytes()
    data += count.to_bytes(2, "little")
    assert_rejects(data, f"essence.{field}_count", "out of range", payload_from_bytes)


def test_unlocks_count_zero() -> None:
    tx = transaction()
    data = tx.to_bytes()[: 4 + len(tx.essence.to_bytes())] + (0).to_bytes(2, "little")
    assert_rejects(data, "transaction.unlocks_count", "out of range", payload_from_bytes)


def test_counts_checked_on_serialize_too() -> None:
    with pytest.raises(CodecError) as caught:
        TransactionEssence(1, (), (BasicOutput(1, ADDRESS),)).to_bytes()
    assert caught.value.field == "essence.inputs_count"
    with pytest.raises(CodecError) as caught:
        Block(2, (P2, P1), None).to_bytes()
    assert caught.value.field == "block.parents"


def test_amount_over_u64_cannot_serialize() -> None:
    with pytest.raises(CodecError) as caught:
        BasicOutput(2**64, ADDRESS).to_bytes()
    assert caught.value.field == "basic_output.amount"


def test_transaction_inner_payload_must_be_tagged_data() -> None:
    tx = transaction()
    inner = milestone([P1]).to_bytes()
    essence = tx.essence.to_bytes()[:-4] + len(inner).to_bytes(4, "little") + inner
    data = tx.to_bytes()[:4] + essence + tx.to_bytes()[4 + len(tx.essence.to_bytes()) :]
    assert_rejects(data, "essence.payload.payload_type", "not allowed", payload_from_bytes)


def _milestone_bytes(signers: list[bytes]) -> bytes:
    """Milestone bytes with signatures in exactly the given order."""
    essence = milestone([P1]).essence.to_bytes()
    signatures = b"".join(b"\x00" + key + bytes(64) for key in signers)
    return (7).to_bytes(4, "little") + essence + bytes([len(signers)]) + signatures


def test_milestone_signatures_unsorted_or_duplicate() -> None:
    assert payload_from_bytes(_milestone_bytes([P1, P2])) == milestone([P1, P2])
    assert_rejects(_milestone_bytes([P2, P1]), "milestone.public_key", "not sorted", payload_from_bytes)
    assert_rejects(_milestone_bytes([P1, P1]), "milestone.public_key", "duplicate", payload_from_bytes)
    with pytest.raises(CodecError):
        milestone([P2, P1]).to_bytes()


def test_milestone_without_signatures() -> None:
    assert_rejects(_milestone_bytes([]), "milestone.signatures_count", "out of range", payload_from_bytes)


def test_milestone_parents_checked() -> None:
    essence = MilestoneEssence(1, 0, 2, bytes(32), (P1,), bytes(32), bytes(32)).to_bytes()
    data = (7).to_bytes(4, "little") + _replace(essence, b"\x01" + P1, b"\x02" + P1 + P1)
    assert_rejects(data, "milestone.parents", "duplicate", payload_from_bytes)


def test_wrong_fixed_lengths_rejected_at_construction() -> None:
    with pytest.raises(CodecError) as caught:
        SignatureUnlock(bytes(31), bytes(64))
    assert caught.value.field == "signature_unlock.public_key"
    with pytest.raises(CodecError):
        Ed25519Address(bytes(33))
