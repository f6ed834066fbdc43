"""The payer API models both sides share: a voucher survives the stream message, and the SDK
signs nothing for a payment request that does not read as one."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from mobility.wallet import DriverApi, DriverWallet, HttpClient, Wallet
from mobility.wallet.api_client import PaymentStream
from mobility.wire.payer_api import PaymentRequestMessage, VoucherMessage

SEED = bytes([7]) * 32
CHANNEL = bytes([0xC4]) * 32


def test_a_voucher_survives_its_stream_message() -> None:
    payer = Wallet(HttpClient(httpx.AsyncClient(), "iota"), SEED)
    voucher = payer.voucher(CHANNEL, 3, 1_250_000)
    sent = VoucherMessage.of(voucher).model_dump(exclude_none=True)
    assert sent == {"type": "voucher", "voucher": voucher.to_bytes().hex()}
    assert VoucherMessage.model_validate(sent).payload() == voucher


def test_a_payment_request_names_a_channel_and_a_non_negative_amount() -> None:
    good = {
        "type": "payment_request",
        "channel_id": CHANNEL.hex(),
        "session_ids": [1],
        "amount": 10,
        "owed": 10,
        "paid": 0,
        "action": "continue",
        "reason": None,
    }
    assert PaymentRequestMessage.model_validate(good).amount == 10
    with pytest.raises(ValidationError):
        PaymentRequestMessage.model_validate({**good, "amount": -1})
    with pytest.raises(ValidationError):
        PaymentRequestMessage.model_validate({**good, "channel_id": "not hex"})


async def test_the_sdk_refuses_a_malformed_request_instead_of_signing() -> None:
    async with httpx.AsyncClient() as http:
        api = DriverApi(http, SEED)
        wallet = DriverWallet(Wallet(HttpClient(http, "iota"), SEED), max_step=10**9)
        wallet.track(CHANNEL, 5_000_000, 0, 0)
        api._wallet = wallet
        stream = PaymentStream(api, auto_pay=True)
        await stream._pay({"type": "payment_request", "channel_id": CHANNEL.hex(), "amount": "lots"})
    assert wallet.signed(CHANNEL) == 0
    assert [why.split(":")[0] for _, why in stream.refused] == ["malformed request"]
