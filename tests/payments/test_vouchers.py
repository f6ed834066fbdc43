"""Vouchers in the engine: accepted only when they raise the payer's signed total, else refused
with a reason and no change."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pow_rs
from mobility.payments.vouchers import ChannelCredit, VoucherRejectedError, VoucherRejection
from mobility.wire.codec import Ed25519Address, Voucher, VoucherPayload

PAYER = pow_rs.SigningKey(bytes(range(32)))
STRANGER = pow_rs.SigningKey(bytes(range(1, 33)))
CHANNEL = pow_rs.blake2b_256(b"channel")


def signed(
    nonce: int, amount: int, key: pow_rs.SigningKey = PAYER, channel: bytes = CHANNEL
) -> VoucherPayload:
    voucher = Voucher(channel, nonce, amount)
    return VoucherPayload(voucher, key.public_key, key.sign(voucher.signing_message()))


def fresh(deposit: int = 10_000_000) -> ChannelCredit:
    return ChannelCredit(CHANNEL, Ed25519Address.from_public_key(PAYER.public_key), deposit)


def test_a_good_voucher_raises_paid() -> None:
    credit = fresh().accept(signed(1, 250_000)).accept(signed(2, 500_000))
    assert (credit.paid, credit.unclaimed, credit.unspent) == (500_000, 500_000, 9_500_000)
    assert credit.accept(signed(3, 500_000)).paid == 500_000  # same total, newer nonce: harmless


def forged_signature() -> VoucherPayload:
    good = signed(2, 900_000)
    return VoucherPayload(good.voucher, good.public_key, signed(2, 100).signature)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (signed(2, 300_000, channel=pow_rs.blake2b_256(b"other")), VoucherRejection.WRONG_CHANNEL),
        (signed(2, 300_000, key=STRANGER), VoucherRejection.NOT_FROM_PAYER),
        (forged_signature(), VoucherRejection.BAD_SIGNATURE),
        (signed(1, 300_000), VoucherRejection.REPLAYED),
        (signed(0, 300_000), VoucherRejection.REPLAYED),
        (signed(2, 199_999), VoucherRejection.LOWER_AMOUNT),
        (signed(2, 10_000_001), VoucherRejection.OVER_DEPOSIT),
    ],
)
def test_bad_vouchers_are_refused_and_change_nothing(
    payload: VoucherPayload, reason: VoucherRejection
) -> None:
    before = fresh().accept(signed(1, 200_000))
    with pytest.raises(VoucherRejectedError) as refused:
        before.accept(payload)
    assert refused.value.reason == reason
    assert before.paid == 200_000
    assert before.latest is not None
    assert before.latest.voucher.nonce == 1


def test_a_key_that_is_not_a_point_is_malformed() -> None:
    good = signed(1, 10)
    not_a_point = bytes([2]) + bytes(31)
    with pytest.raises(VoucherRejectedError) as refused:
        fresh().accept(VoucherPayload(good.voucher, not_a_point, good.signature))
    assert refused.value.reason in {VoucherRejection.MALFORMED, VoucherRejection.NOT_FROM_PAYER}


def test_claims_and_top_ups() -> None:
    credit = fresh(1_000_000).accept(signed(1, 600_000))
    assert credit.claimed_up_to(600_000).unclaimed == 0
    with pytest.raises(ValueError, match="outside"):
        credit.claimed_up_to(700_000)
    assert credit.topped_up(2_000_000).unspent == 1_400_000
    with pytest.raises(ValueError, match="shrink"):
        credit.topped_up(999_999)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 1_200_000)), max_size=12))
def test_replays_and_reorderings_never_pay_twice(stream: list[tuple[int, int]]) -> None:
    """Whatever arrives, in whatever order, paid is the amount of the best valid voucher seen."""
    credit, best_nonce, best_amount = fresh(1_000_000), 0, 0
    for nonce, amount in stream:
        payload = signed(nonce, amount)
        try:
            credit = credit.accept(payload)
        except VoucherRejectedError:
            assert nonce <= best_nonce or amount < best_amount or amount > 1_000_000
            continue
        assert nonce > best_nonce
        assert best_amount <= amount <= 1_000_000
        best_nonce, best_amount = nonce, amount
        for replay in (payload, signed(nonce, amount + 1)):
            with pytest.raises(VoucherRejectedError):
                credit.accept(replay)
    assert credit.paid == best_amount
