"""Batched settlement: one claim of a channel's latest voucher covers every session before it.

A channel is claimed when its unclaimed value passes a threshold, when an ended session has
waited unclaimed for the interval (so the sessions ended within one interval share a claim,
and the prepaid credit of running sessions alone never triggers one), when its expiry comes
near (after expiry the payer may refund, so the operator always claims first), or when it is
closing. Each claim steps through durable states
(see `SettlementRecord`); `run_once` advances every claim one step and never blocks on the
ledger, so a scheduler calls it periodically and a crash at any point resumes where it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import pow_rs
from mobility.clock import Clock, utc_now
from mobility.payments.models import ChannelRecord, SettlementRecord
from mobility.payments.store import PaymentStore
from mobility.wallet.ledger_client import LedgerClient
from mobility.wire.codec import VoucherPayload
from mobility.wire.rejections import BlockRejectedError

LOGGER = logging.getLogger(__name__)


class ClaimBuilder(Protocol):
    """The operator's wallet: builds a mined claim block without submitting it."""

    async def build_claim(self, voucher: VoucherPayload, close: bool = False) -> bytes:
        """The claim block's wire form."""
        ...


@dataclass(frozen=True, slots=True)
class SettlementPolicy:
    threshold: int = 5_000_000
    interval: timedelta = timedelta(hours=6)
    expiry_margin: timedelta = timedelta(hours=12)


ClaimConfirmed = Callable[[str, int], Awaitable[None]]
"""(channel ID, cumulative amount claimed) once a claim is confirmed on the ledger."""


class Settler:
    """Claims vouchers on the ledger and records, per session, where the money landed."""

    def __init__(
        self,
        store: PaymentStore,
        wallet: ClaimBuilder,
        client: LedgerClient,
        policy: SettlementPolicy | None = None,
        clock: Clock = utc_now,
        on_confirmed: ClaimConfirmed | None = None,
    ) -> None:
        self.store = store
        self.wallet = wallet
        self.client = client
        self.policy = policy or SettlementPolicy()
        self.clock = clock
        # Tells the channel's owner its claimed amount rose (the payment service's).
        self.on_confirmed = on_confirmed

    async def _due(self, channel: ChannelRecord, oldest: datetime | None) -> tuple[bool, bool]:
        """(claim now?, close the channel with it?); `oldest`: when its longest-waiting
        unclaimed session ended."""
        unclaimed = channel.paid - channel.claimed
        if unclaimed <= 0:
            return False, False
        now = self.clock()
        on_ledger = await self.client.channel(bytes.fromhex(channel.channel_id))
        if on_ledger is not None and on_ledger.settle_deadline:
            return True, True  # the payer is closing: claim everything inside the settle window
        if channel.expiry - now <= self.policy.expiry_margin:
            return True, False
        if unclaimed >= self.policy.threshold:
            return True, False
        return oldest is not None and now - oldest >= self.policy.interval, False

    async def run_once(self) -> list[SettlementRecord]:
        """Start the claims that are due and advance every claim in flight by one step.

        What every channel needs is read in a few queries for all of them, not a few per
        channel: the pass runs every interval over every channel, busy or not.
        """
        channels = await asyncio.to_thread(self.store.all_channels)
        for channel_id in sorted(await asyncio.to_thread(self.store.channels_with_unclaimed_ends)):
            await asyncio.to_thread(self.store.attach_covered_sessions, channel_id)
        oldest = await asyncio.to_thread(self.store.oldest_unsettled_ends)
        for channel in channels:
            due, close = await self._due(channel, oldest.get(channel.channel_id))
            if due:
                await asyncio.to_thread(self.store.begin_settlement, channel.channel_id, close, self.clock())
        advanced = []
        for record in await asyncio.to_thread(self.store.settlements_in_flight):
            advanced.append(await self.advance(record))
        return advanced

    async def advance(self, record: SettlementRecord) -> SettlementRecord:
        """Take one claim one step further."""
        assert record.id is not None
        if record.status == "intent":
            channel = await asyncio.to_thread(self.store.channel, record.channel_id)
            if channel is None or channel.voucher is None:
                raise LookupError(f"channel {record.channel_id} lost its voucher")
            # Claim the newest voucher stored: it covers at least what the intent fixed.
            voucher = VoucherPayload.from_bytes(channel.voucher)
            record.amount, record.voucher_nonce = voucher.voucher.amount, voucher.voucher.nonce
            block = await self.wallet.build_claim(voucher, record.close)
            changes = {
                "status": "built",
                "block": block,
                "block_id": pow_rs.blake2b_256(block).hex(),
                "amount": record.amount,
                "voucher_nonce": record.voucher_nonce,
            }
            await asyncio.to_thread(self.store.update_settlement, record.id, **changes)
        elif record.status == "built":
            assert record.block is not None
            assert record.block_id is not None
            try:
                # Submitted before a crash? Then the node has it; submitting a spent claim again
                # would be refused as a replay.
                if await self.client.metadata(bytes.fromhex(record.block_id)) is None:
                    await self.client.submit(record.block)
            except BlockRejectedError as error:
                await asyncio.to_thread(
                    self.store.update_settlement, record.id, status="failed", failure=str(error)[:200]
                )
                LOGGER.warning("claim %s rejected: %s", record.id, error)
            else:
                await asyncio.to_thread(self.store.update_settlement, record.id, status="submitted")
        elif record.status == "submitted":
            await self._check_confirmation(record)
        refreshed = await asyncio.to_thread(self.store.settlement, record.id)
        assert refreshed is not None
        return refreshed

    async def _check_confirmation(self, record: SettlementRecord) -> None:
        assert record.id is not None
        assert record.block_id is not None
        assert record.block is not None
        block_id = bytes.fromhex(record.block_id)
        meta = await self.client.metadata(block_id)
        if meta is None:
            await self.client.submit(record.block)  # the node lost it or never stored it: resend
            return
        if meta.milestone_index is None:
            return
        if meta.conflict_reason is not None:
            await asyncio.to_thread(
                self.store.update_settlement, record.id, status="failed", failure=meta.conflict_reason[:200]
            )
            return
        proof = await self.client.inclusion_proof(block_id)
        if proof is None:
            return
        await asyncio.to_thread(
            self.store.confirm_settlement,
            record.id,
            meta.milestone_index,
            proof.model_dump_json(),
            self.clock(),
        )
        if self.on_confirmed is not None:
            await self.on_confirmed(record.channel_id, record.amount)
