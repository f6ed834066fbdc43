"""Validation on arrival: one accepted case per payload and one test per rejection reason."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import nacl.signing
import pytest

import pow_rs
from mobility.ledger.validation import (
    BlockRejectedError,
    RejectReason,
    check_block,
    check_transaction_inputs,
    validate_block,
)
from mobility.wire.codec import (
    BasicOutput,
    Block,
    ChannelOutput,
    Output,
    ReferenceUnlock,
    SignatureUnlock,
    TaggedDataPayload,
    TransactionEssence,
    TransactionPayload,
)
from tests.ledger.builders import (
    ALICE,
    BOB,
    CAROL,
    COORDINATORS,
    PARAMS,
    PARENT,
    address,
    genesis,
    milestone,
    mined,
    sign,
    spend,
    transfer,
)


def rejects(data: bytes, reason: RejectReason) -> BlockRejectedError:
    with pytest.raises(BlockRejectedError) as caught:
        validate_block(data, PARAMS, genesis().get)
    assert caught.value.reason is reason
    return caught.value


def test_tagged_data_block_is_accepted() -> None:
    block = validate_block(mined(TaggedDataPayload(b"session", b"42")), PARAMS, genesis().get)
    assert block.payload == TaggedDataPayload(b"session", b"42")


def test_empty_block_is_accepted() -> None:
    assert validate_block(mined(None), PARAMS, genesis().get).payload is None


def test_transfer_with_reference_unlock_is_accepted() -> None:
    outputs = [BasicOutput(1_200_000, address(BOB)), BasicOutput(300_000, address(ALICE))]
    tx = transfer([spend(0), spend(1)], outputs, [ALICE, ALICE])
    assert isinstance(tx.unlocks[1], ReferenceUnlock)
    block = validate_block(mined(tx), PARAMS, genesis().get)
    assert block.payload == tx
    assert check_transaction_inputs(tx, genesis().get, PARAMS) == [
        genesis()[i.output_id] for i in tx.essence.inputs
    ]


def test_several_signers_are_batch_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = pow_rs.ed25519_verify_batch

    def counting(items: list[tuple[bytes, bytes, bytes]]) -> list[bool]:
        calls.append(len(items))
        return real(items)

    monkeypatch.setattr(pow_rs, "ed25519_verify_batch", counting)
    tx = transfer([spend(0), spend(2)], [BasicOutput(1_300_000, address(CAROL))], [ALICE, BOB])
    validate_block(mined(tx), PARAMS, genesis().get)
    assert calls == [2]


def test_wallet_signature_made_with_pynacl_verifies() -> None:
    wallet = nacl.signing.SigningKey(bytes([0xA1]) * 32)
    assert bytes(wallet.verify_key) == ALICE.public_key
    essence = TransactionEssence(PARAMS.network_id, (spend(0),), (BasicOutput(1_000_000, address(BOB)),))
    signature = wallet.sign(essence.hash()).signature
    tx = TransactionPayload(essence, (SignatureUnlock(ALICE.public_key, signature),))
    validate_block(mined(tx), PARAMS, genesis().get)


def test_channel_output_is_spendable_by_payer_or_payee_only() -> None:
    back_to_payer = [BasicOutput(300_000, address(ALICE))]
    validate_block(mined(transfer([spend(3)], back_to_payer, [BOB])), PARAMS, genesis().get)
    validate_block(mined(transfer([spend(3)], back_to_payer, [ALICE])), PARAMS, genesis().get)
    rejects(mined(transfer([spend(3)], back_to_payer, [CAROL])), RejectReason.ADDRESS_MISMATCH)


def test_malformed() -> None:
    error = rejects(mined(None) + b"\x00", RejectReason.MALFORMED)
    assert "trailing" in error.detail


def test_protocol_version() -> None:
    rejects(mined(None, version=3), RejectReason.PROTOCOL_VERSION)


def test_insufficient_pow() -> None:
    block = Block(2, (PARENT,), TaggedDataPayload(b"", b"spam"))
    nonce = next(n for n in range(1000) if pow_rs.pow_score(replace(block, nonce=n).to_bytes()) < 20.0)
    error = rejects(replace(block, nonce=nonce).to_bytes(), RejectReason.INSUFFICIENT_POW)
    assert "score" in error.detail


def test_minimum_score_is_a_network_parameter() -> None:
    data = Block(2, (PARENT,), None, nonce=0).to_bytes()
    assert check_block(data, replace(PARAMS, min_pow_score=0.0)).payload is None


def test_wrong_network() -> None:
    essence = TransactionEssence(PARAMS.network_id + 1, (spend(0),), (BasicOutput(1_000_000, address(BOB)),))
    rejects(mined(sign(essence, [ALICE])), RejectReason.WRONG_NETWORK)


def test_unlock_count_mismatch() -> None:
    tx = transfer([spend(0), spend(1)], [BasicOutput(1_500_000, address(BOB))], [ALICE, ALICE])
    rejects(mined(replace(tx, unlocks=tx.unlocks[:1])), RejectReason.UNLOCK_COUNT_MISMATCH)


def test_duplicate_input() -> None:
    tx = transfer([spend(0), spend(0)], [BasicOutput(2_000_000, address(BOB))], [ALICE, ALICE])
    rejects(mined(tx), RejectReason.DUPLICATE_INPUT)


def test_zero_amount_basic_output() -> None:
    outputs = [BasicOutput(1_000_000, address(BOB)), BasicOutput(0, address(BOB))]
    rejects(mined(transfer([spend(0)], outputs, [ALICE])), RejectReason.ZERO_AMOUNT)


def test_zero_value_channel_output() -> None:
    channel = ChannelOutput(bytes(32), address(ALICE), address(BOB), 5, 5, 2**31)
    outputs: list[Output] = [BasicOutput(1_000_000, address(BOB)), channel]
    rejects(mined(transfer([spend(0)], outputs, [ALICE])), RejectReason.ZERO_AMOUNT)


def test_channel_claimed_over_deposit() -> None:
    channel = ChannelOutput(bytes(32), address(ALICE), address(BOB), 5, 6, 2**31)
    outputs: list[Output] = [BasicOutput(1_000_000, address(BOB)), channel]
    rejects(mined(transfer([spend(0)], outputs, [ALICE])), RejectReason.CHANNEL_OVERCLAIMED)


def test_duplicate_signature_unlock() -> None:
    tx = transfer([spend(0), spend(1)], [BasicOutput(1_500_000, address(BOB))], [ALICE, ALICE])
    first = tx.unlocks[0]
    rejects(mined(replace(tx, unlocks=(first, first))), RejectReason.DUPLICATE_SIGNATURE_UNLOCK)


@pytest.mark.parametrize("target", [1, 2])
def test_reference_unlock_must_point_back_to_a_signature(target: int) -> None:
    inputs = [spend(0), spend(1), spend(2)]
    tx = transfer(inputs, [BasicOutput(1_800_000, address(CAROL))], [ALICE, ALICE, BOB])
    # Unlock 1 pointing at itself (1) or forward (2): neither is an earlier signature unlock.
    unlocks = (tx.unlocks[0], ReferenceUnlock(target), tx.unlocks[2])
    rejects(mined(replace(tx, unlocks=unlocks)), RejectReason.INVALID_REFERENCE_UNLOCK)


def test_reference_to_a_reference_is_rejected() -> None:
    inputs = [spend(0), spend(1), spend(2)]
    tx = transfer(inputs, [BasicOutput(1_800_000, address(CAROL))], [ALICE, ALICE, ALICE])
    rejects(
        mined(replace(tx, unlocks=(*tx.unlocks[:2], ReferenceUnlock(1)))),
        RejectReason.INVALID_REFERENCE_UNLOCK,
    )


def test_invalid_signature_single() -> None:
    tx = transfer([spend(0)], [BasicOutput(1_000_000, address(BOB))], [ALICE])
    unlock = tx.unlocks[0]
    assert isinstance(unlock, SignatureUnlock)
    forged = replace(unlock, signature=bytes([unlock.signature[0] ^ 1]) + unlock.signature[1:])
    rejects(mined(replace(tx, unlocks=(forged,))), RejectReason.INVALID_SIGNATURE)


def test_invalid_signature_in_a_batch() -> None:
    tx = transfer([spend(0), spend(2)], [BasicOutput(1_300_000, address(CAROL))], [ALICE, BOB])
    other = transfer([spend(2)], [BasicOutput(300_000, address(CAROL))], [BOB]).unlocks[0]
    error = rejects(mined(replace(tx, unlocks=(tx.unlocks[0], other))), RejectReason.INVALID_SIGNATURE)
    assert "unlock 1" in error.detail


def test_public_key_off_the_curve_is_an_invalid_signature() -> None:
    tx = transfer([spend(0)], [BasicOutput(1_000_000, address(BOB))], [ALICE])
    unlock = tx.unlocks[0]
    assert isinstance(unlock, SignatureUnlock)
    off_curve = bytes.fromhex("02" + "00" * 31)
    with pytest.raises(pow_rs.InvalidPublicKeyError):
        pow_rs.ed25519_verify(off_curve, b"m", unlock.signature)
    rejects(
        mined(replace(tx, unlocks=(replace(unlock, public_key=off_curve),))), RejectReason.INVALID_SIGNATURE
    )


def test_input_not_found() -> None:
    tx = transfer([spend(9)], [BasicOutput(1, address(BOB))], [ALICE])
    rejects(mined(tx), RejectReason.INPUT_NOT_FOUND)


def test_address_mismatch() -> None:
    tx = transfer([spend(0)], [BasicOutput(1_000_000, address(BOB))], [BOB])
    rejects(mined(tx), RejectReason.ADDRESS_MISMATCH)


@pytest.mark.parametrize("amount", [999_999, 1_000_001])
def test_inputs_and_outputs_must_balance(amount: int) -> None:
    tx = transfer([spend(0)], [BasicOutput(amount, address(BOB))], [ALICE])
    error = rejects(mined(tx), RejectReason.AMOUNT_MISMATCH)
    assert "1000000" in error.detail


def test_milestone_with_threshold_signatures_is_accepted() -> None:
    payload = milestone(COORDINATORS[:2])
    assert check_block(mined(payload), PARAMS).payload == payload


def test_milestone_below_threshold() -> None:
    rejects(mined(milestone(COORDINATORS[:1])), RejectReason.BELOW_SIGNATURE_THRESHOLD)


def test_milestone_unknown_key() -> None:
    rejects(mined(milestone([COORDINATORS[0], ALICE])), RejectReason.UNKNOWN_COORDINATOR_KEY)


def test_milestone_bad_signature() -> None:
    payload = milestone(COORDINATORS)
    bad = replace(payload.signatures[1], signature=payload.signatures[0].signature)
    signatures = (payload.signatures[0], bad, payload.signatures[2])
    rejects(mined(replace(payload, signatures=signatures)), RejectReason.INVALID_SIGNATURE)


def test_milestone_parents_must_match_block() -> None:
    other = pow_rs.blake2b_256(b"another parent")
    rejects(mined(milestone(COORDINATORS, parents=(other,))), RejectReason.MILESTONE_PARENTS_MISMATCH)


def test_every_reason_has_a_test() -> None:
    source = "".join(path.read_text() for path in Path(__file__).parent.glob("test_*.py"))
    missing = [reason.name for reason in RejectReason if f"RejectReason.{reason.name}" not in source]
    assert missing == []


def test_outputs_above_token_supply() -> None:
    outputs = [BasicOutput(2**63, address(BOB)), BasicOutput(2**63, address(CAROL))]
    rejects(mined(transfer([spend(0)], outputs, [ALICE])), RejectReason.SUPPLY_EXCEEDED)
