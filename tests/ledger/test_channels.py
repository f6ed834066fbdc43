"""Payment-channel transitions: each allowed move, and each rejection with its reason."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

import pow_rs
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node
from mobility.ledger.store import GENESIS_ENTRY_POINT
from mobility.ledger.validation import BlockRejectedError, RejectReason, check_block, check_transaction_inputs
from mobility.wire.codec import (
    BasicOutput,
    ChannelOutput,
    Output,
    TransactionEssence,
    TransactionPayload,
    UtxoInput,
    Voucher,
    VoucherPayload,
)
from testkit.clock import ManualClock
from tests.ledger.builders import (
    ALICE,
    BOB,
    CAROL,
    COORDINATORS,
    GENESIS_TX,
    PARAMS,
    address,
    genesis,
    mined,
    sign,
)

NOW = 1_764_000_000
EXPIRY = NOW + 86_400
CID = pow_rs.blake2b_256(b"a channel")
CHANNEL_IN = UtxoInput(pow_rs.blake2b_256(b"channel opening tx"), 0)
FUNDS_IN = UtxoInput(GENESIS_TX, 0)  # Alice's 1 000 000
STATE = ChannelOutput(CID, address(ALICE), address(BOB), 1_000_000, 200_000, EXPIRY, 0, 3)


def voucher(
    nonce: int, amount: int, payer: pow_rs.SigningKey = ALICE, channel_id: bytes = CID
) -> VoucherPayload:
    """A voucher signed by `payer`, ready to go into a claim's essence."""
    body = Voucher(channel_id, nonce, amount)
    return VoucherPayload(body, payer.public_key, payer.sign(body.signing_message()))


def tx(
    outputs: Sequence[Output],
    signers: Sequence[pow_rs.SigningKey],
    payload: VoucherPayload | None = None,
    inputs: Sequence[UtxoInput] = (CHANNEL_IN,),
) -> TransactionPayload:
    essence = TransactionEssence(PARAMS.network_id, tuple(inputs), tuple(outputs), payload)
    return sign(essence, signers)


def check(transaction: TransactionPayload, state: ChannelOutput = STATE, now: int | None = NOW) -> None:
    ledger: dict[bytes, Output] = {**genesis(), CHANNEL_IN.output_id: state}
    check_transaction_inputs(transaction, ledger.get, PARAMS, now)


def rejects(
    transaction: TransactionPayload, reason: RejectReason, state: ChannelOutput = STATE, now: int = NOW
) -> None:
    with pytest.raises(BlockRejectedError) as caught:
        check(transaction, state, now)
    assert caught.value.reason is reason, caught.value.detail


def after(**changes: int) -> ChannelOutput:
    """The continuing channel output: STATE with some fields changed."""
    fields = {
        "deposit": STATE.deposit,
        "claimed": STATE.claimed,
        "expiry": STATE.expiry,
        "settle_deadline": STATE.settle_deadline,
        "voucher_nonce": STATE.voucher_nonce,
    }
    fields.update(changes)
    return ChannelOutput(CID, STATE.payer, STATE.payee, **fields)


def opening(**changes: int) -> ChannelOutput:
    fields = {"deposit": 1_000_000, "claimed": 0, "expiry": EXPIRY, "settle_deadline": 0, "voucher_nonce": 0}
    fields.update(changes)
    return ChannelOutput(bytes(32), address(ALICE), address(BOB), **fields)


# Open


def test_open() -> None:
    check(tx([opening()], [ALICE], inputs=[FUNDS_IN]))


@pytest.mark.parametrize("field", ["claimed", "voucher_nonce", "settle_deadline"])
def test_open_must_start_unclaimed(field: str) -> None:
    output = opening(**{field: 1})
    outputs: list[Output] = [output] if field != "claimed" else [output, BasicOutput(1, address(ALICE))]
    rejects(tx(outputs, [ALICE], inputs=[FUNDS_IN]), RejectReason.CHANNEL_OPEN_INVALID)


def test_open_with_past_expiry() -> None:
    rejects(tx([opening(expiry=NOW)], [ALICE], inputs=[FUNDS_IN]), RejectReason.CHANNEL_OPEN_INVALID)


def test_forged_channel_state() -> None:
    rejects(tx([after(deposit=1_200_000)], [ALICE], inputs=[FUNDS_IN]), RejectReason.CHANNEL_UNKNOWN)


# Claim


def test_claim_and_continue() -> None:
    check(
        tx(
            [after(claimed=500_000, voucher_nonce=4), BasicOutput(300_000, address(BOB))],
            [BOB],
            voucher(4, 500_000),
        )
    )


def test_claim_and_close() -> None:
    outputs = [BasicOutput(300_000, address(BOB)), BasicOutput(500_000, address(ALICE))]
    check(tx(outputs, [BOB], voucher(9, 500_000)))


def test_claim_and_close_must_refund_the_payer() -> None:
    rejects(
        tx([BasicOutput(800_000, address(BOB))], [BOB], voucher(4, 500_000)),
        RejectReason.CHANNEL_REFUND_MISSING,
    )


def test_replayed_voucher_nonce() -> None:
    outputs: list[Output] = [after(claimed=500_000, voucher_nonce=3), BasicOutput(300_000, address(BOB))]
    rejects(tx(outputs, [BOB], voucher(3, 500_000)), RejectReason.VOUCHER_REPLAYED)


def test_voucher_that_pays_nothing_new() -> None:
    outputs: list[Output] = [after(claimed=200_000, voucher_nonce=4), BasicOutput(1, address(BOB))]
    rejects(tx(outputs, [BOB], voucher(4, 200_000)), RejectReason.VOUCHER_REPLAYED)


def test_voucher_over_deposit() -> None:
    outputs = [BasicOutput(800_000, address(BOB))]
    rejects(tx(outputs, [BOB], voucher(4, 1_000_001)), RejectReason.VOUCHER_OVER_DEPOSIT)


def test_claim_by_the_payer() -> None:
    outputs: list[Output] = [after(claimed=500_000, voucher_nonce=4), BasicOutput(300_000, address(ALICE))]
    rejects(tx(outputs, [ALICE], voucher(4, 500_000)), RejectReason.CLAIM_NOT_BY_PAYEE)


def test_voucher_signed_by_someone_else() -> None:
    outputs: list[Output] = [after(claimed=500_000, voucher_nonce=4), BasicOutput(300_000, address(BOB))]
    rejects(tx(outputs, [BOB], voucher(4, 500_000, payer=CAROL)), RejectReason.VOUCHER_NOT_FROM_PAYER)


def test_voucher_for_another_channel() -> None:
    outputs = [BasicOutput(800_000, address(ALICE))]
    other = voucher(4, 500_000, channel_id=bytes([9]) * 32)
    rejects(tx(outputs, [BOB], other), RejectReason.VOUCHER_WRONG_CHANNEL)


@pytest.mark.parametrize(("settle_deadline", "now"), [(NOW - 1, NOW), (0, EXPIRY + 1)])
def test_claim_after_the_settle_window_or_expiry(settle_deadline: int, now: int) -> None:
    state = after(settle_deadline=settle_deadline)
    outputs = [BasicOutput(300_000, address(BOB)), BasicOutput(500_000, address(ALICE))]
    rejects(tx(outputs, [BOB], voucher(4, 500_000)), RejectReason.CLAIM_AFTER_SETTLE_WINDOW, state, now)


def test_claim_inside_the_settle_window() -> None:
    outputs = [BasicOutput(300_000, address(BOB)), BasicOutput(500_000, address(ALICE))]
    check(tx(outputs, [BOB], voucher(4, 500_000)), after(settle_deadline=NOW + 10))


def test_claim_may_not_change_the_deposit() -> None:
    outputs: list[Output] = [
        after(claimed=500_000, voucher_nonce=4, deposit=900_000),
        BasicOutput(400_000, address(BOB)),
    ]
    rejects(tx(outputs, [BOB], voucher(4, 500_000)), RejectReason.CHANNEL_TRANSITION_INVALID)


def test_payee_cannot_change_a_channel_without_a_voucher() -> None:
    rejects(tx([after(expiry=EXPIRY + 1)], [BOB]), RejectReason.CHANNEL_TRANSITION_INVALID)


def test_payee_may_release_the_channel_to_the_payer() -> None:
    check(tx([BasicOutput(800_000, address(ALICE))], [BOB]))


# Payer's moves


def test_top_up() -> None:
    check(tx([after(deposit=2_000_000, expiry=EXPIRY + 10)], [ALICE, ALICE], inputs=[CHANNEL_IN, FUNDS_IN]))


def test_top_up_cannot_touch_claims() -> None:
    outputs: list[Output] = [after(deposit=2_000_000, claimed=0)]
    rejects(
        tx(outputs, [ALICE, ALICE], inputs=[CHANNEL_IN, FUNDS_IN]), RejectReason.CHANNEL_TRANSITION_INVALID
    )


def test_close_opens_a_settle_window() -> None:
    check(tx([after(settle_deadline=NOW + PARAMS.channel_settle_period)], [ALICE]))


def test_close_with_too_short_a_window() -> None:
    rejects(tx([after(settle_deadline=NOW + 10)], [ALICE]), RejectReason.SETTLE_WINDOW_TOO_SHORT)


def test_refund_before_expiry() -> None:
    rejects(tx([BasicOutput(800_000, address(ALICE))], [ALICE]), RejectReason.REFUND_BEFORE_EXPIRY)


def test_refund_after_expiry_or_settle_window() -> None:
    refund = tx([BasicOutput(800_000, address(ALICE))], [ALICE])
    check(refund, now=EXPIRY)
    check(refund, after(settle_deadline=NOW - 1), now=NOW)


def test_time_rules_wait_for_confirmation_on_arrival() -> None:
    check(tx([BasicOutput(800_000, address(ALICE))], [ALICE]), now=None)


def test_forged_voucher_signature_is_rejected_on_arrival() -> None:
    forged = voucher(4, 500_000)
    forged = VoucherPayload(forged.voucher, forged.public_key, bytes(64))
    outputs = [BasicOutput(300_000, address(BOB)), BasicOutput(500_000, address(ALICE))]
    with pytest.raises(BlockRejectedError) as caught:
        check_block(mined(tx(outputs, [BOB], forged)), PARAMS)
    assert caught.value.reason is RejectReason.INVALID_SIGNATURE
    assert caught.value.detail == "voucher"


# Through the node: milestone time decides.


def test_channel_life_cycle_on_the_ledger(node: Node) -> None:
    clock = ManualClock(datetime.fromtimestamp(NOW, UTC))
    coordinator = Coordinator(node, COORDINATORS[:2], clock=clock)
    root = (GENESIS_ENTRY_POINT,)
    open_tx = tx([opening(expiry=NOW + 600)], [ALICE], inputs=[FUNDS_IN])
    node.submit(mined(open_tx, root))
    coordinator.issue()
    channel_in = UtxoInput(open_tx.transaction_id, 0)
    channel_id = opening().resolved_channel_id(channel_in.output_id)
    assert node.store.channel(channel_id) is not None

    state = ChannelOutput(channel_id, address(ALICE), address(BOB), 1_000_000, 0, NOW + 600)
    claimed = ChannelOutput(channel_id, address(ALICE), address(BOB), 1_000_000, 250_000, NOW + 600, 0, 1)
    claim = tx(
        [claimed, BasicOutput(250_000, address(BOB))],
        [BOB],
        voucher(1, 250_000, channel_id=channel_id),
        [channel_in],
    )
    node.submit(mined(claim, tuple(node.store.tips())))
    coordinator.issue()
    found = node.store.channel(channel_id)
    assert found is not None
    assert found[1] == claimed
    assert node.store.balance(address(BOB).to_bytes()) == 300_000 + 250_000
    assert state.value == 1_000_000

    refund = tx([BasicOutput(750_000, address(ALICE))], [ALICE], inputs=[UtxoInput(claim.transaction_id, 0)])
    early = node.submit(mined(refund, tuple(node.store.tips())))
    coordinator.issue()
    meta = node.store.metadata(early.block_id)
    assert meta is not None
    assert meta.conflict_reason == "invalid_transaction:refund_before_expiry"

    clock.now += timedelta(seconds=600)
    late = node.submit(mined(refund, tuple(node.store.tips())))
    coordinator.issue()
    meta = node.store.metadata(late.block_id)
    assert meta is not None
    assert meta.conflict_reason is None
    assert node.store.channel(channel_id) is None
    assert node.store.balance(address(ALICE).to_bytes()) == 500_000 + 750_000
