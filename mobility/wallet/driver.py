"""A payer's wallet: it opens and tops up channels on the ledger and answers the engine's
payment requests with vouchers, within limits it sets itself.

The engine asks for a cumulative amount; the wallet signs it only if it stays within the
channel's deposit and does not jump by more than `max_step` over the last voucher it signed
(a stuck or hostile engine cannot drain the deposit in one request). Keys are PyNaCl's,
through the ledger wallet; signatures are checked by the engine with pow_rs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mobility.wallet.ledger import Wallet
from mobility.wire.codec import Ed25519Address, VoucherPayload
from mobility.wire.receipts import verify_receipt


class PaymentRefusedError(ValueError):
    """The wallet will not sign what was asked."""


@dataclass
class _Channel:
    deposit: int
    nonce: int = 0
    signed: int = 0


class DriverWallet:
    """Channels and vouchers of one payer key."""

    def __init__(self, ledger: Wallet, max_step: int) -> None:
        self.ledger = ledger
        self.max_step = max_step
        self._channels: dict[bytes, _Channel] = {}

    @property
    def public_key(self) -> bytes:
        return self.ledger.public_key

    async def open_channel(
        self, operator: Ed25519Address, deposit: int, expiry: datetime
    ) -> tuple[bytes, bytes]:
        """Lock `deposit` for `operator`; the opening block's ID and the channel ID."""
        block_id, channel_id = await self.ledger.open_channel(operator, deposit, expiry)
        self._channels[channel_id] = _Channel(deposit)
        return block_id, channel_id

    async def top_up(self, channel_id: bytes, amount: int) -> bytes:
        """Add `amount` to a channel's deposit; the block ID."""
        block_id = await self.ledger.top_up(channel_id, amount)
        self._channel(channel_id).deposit += amount
        return block_id

    def track(self, channel_id: bytes, deposit: int, nonce: int, signed: int) -> None:
        """Resume a channel from saved state (last nonce and amount signed)."""
        self._channels[channel_id] = _Channel(deposit, nonce, signed)

    def _channel(self, channel_id: bytes) -> _Channel:
        try:
            return self._channels[channel_id]
        except KeyError:
            raise PaymentRefusedError(f"unknown channel {channel_id.hex()}") from None

    def pay(self, channel_id: bytes, amount: int) -> VoucherPayload:
        """A voucher for the cumulative `amount`, if the wallet agrees to it."""
        channel = self._channel(channel_id)
        if amount > channel.deposit:
            raise PaymentRefusedError(f"{amount} exceeds the deposit {channel.deposit}")
        if amount < channel.signed:
            raise PaymentRefusedError(f"{amount} is below the {channel.signed} already signed")
        if amount - channel.signed > self.max_step:
            raise PaymentRefusedError(f"a step of {amount - channel.signed} exceeds {self.max_step}")
        channel.nonce += 1
        channel.signed = amount
        return self.ledger.voucher(channel_id, channel.nonce, amount)

    def signed(self, channel_id: bytes) -> int:
        """The cumulative amount signed on a channel so far."""
        return self._channel(channel_id).signed

    @staticmethod
    def check_receipt(receipt: dict[str, Any], operator_public_key: bytes) -> bool:
        """Verify an operator-signed session receipt offline."""
        return verify_receipt(receipt, operator_public_key)
