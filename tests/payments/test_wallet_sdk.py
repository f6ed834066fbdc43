"""The payer's wallet SDK against a real node and the engine, and offline receipts."""

from __future__ import annotations

import datetime as dt

import pytest

import pow_rs
from mobility.payments.vouchers import VoucherRejectedError
from mobility.wallet import DriverWallet, PaymentRefusedError
from mobility.wire.receipts import sign_receipt, verify_receipt
from tests.payments.ledger_world import T0, Setup, open_channel

OPERATOR = pow_rs.SigningKey(bytes([0x0B]) * 32)


async def test_open_pay_and_top_up(setup: Setup) -> None:
    s = setup
    wallet = DriverWallet(s.alice, max_step=200_000)
    block_id, channel_id = await wallet.open_channel(s.bob.address, 600_000, T0 + dt.timedelta(days=7))
    s.coordinator.issue()
    assert (await s.client.metadata(block_id)) is not None
    assert (await s.client.channel(channel_id)) is not None

    first = wallet.pay(channel_id, 150_000)
    second = wallet.pay(channel_id, 300_000)
    assert (first.voucher.nonce, second.voucher.nonce) == (1, 2)
    assert pow_rs.ed25519_verify(wallet.public_key, second.voucher.signing_message(), second.signature)
    with pytest.raises(PaymentRefusedError, match="exceeds 200000"):
        wallet.pay(channel_id, 600_000)
    with pytest.raises(PaymentRefusedError, match="below"):
        wallet.pay(channel_id, 100_000)
    with pytest.raises(PaymentRefusedError, match="unknown channel"):
        DriverWallet(s.alice, max_step=10**9).pay(channel_id, 1)
    generous = DriverWallet(s.alice, max_step=10**9)
    generous.track(channel_id, 600_000, 2, 300_000)
    with pytest.raises(PaymentRefusedError, match="deposit"):
        generous.pay(channel_id, 600_001)

    await wallet.top_up(channel_id, 100_000)
    s.coordinator.issue()
    on_ledger = await s.client.channel(channel_id)
    assert on_ledger is not None
    assert on_ledger.deposit == 700_000


async def test_the_engine_refuses_a_voucher_the_wallet_signed_twice(setup: Setup) -> None:
    s = setup
    channel_id = await open_channel(s)
    wallet = DriverWallet(s.alice, max_step=500_000)
    wallet.track(channel_id, 1_000_000, 0, 0)
    voucher = wallet.pay(channel_id, 250_000)
    assert await s.service.submit_voucher(voucher) == 250_000
    with pytest.raises(VoucherRejectedError):
        await s.service.submit_voucher(voucher)


def test_receipts_verify_offline_and_detect_tampering() -> None:
    receipt = sign_receipt(
        {"session_id": 7, "energy_wh": 11_000, "billed": 3_927_000, "currency": "EUR", "settlement": None},
        OPERATOR,
    )
    assert verify_receipt(receipt, OPERATOR.public_key)
    assert DriverWallet.check_receipt(receipt, OPERATOR.public_key)
    assert not verify_receipt({**receipt, "billed": 1}, OPERATOR.public_key)
    assert not verify_receipt(receipt, pow_rs.SigningKey(bytes(32)).public_key)
    assert not verify_receipt({**receipt, "signature": "zz"}, OPERATOR.public_key)
    assert not verify_receipt({k: v for k, v in receipt.items() if k != "signature"}, OPERATOR.public_key)
