"""Payer channels as the API registers and shows them: one set of rules for every payer.

Drivers (`/driver/channels`) and fleets (`/fleet/channels`) register the channels they opened
on the ledger to the operator, refresh them after a top-up, list them, and ask for a closing
claim. What differs between the two is only who may be the channel's payer (the driver's one
key, or any payer key the fleet proved it holds), so the routes pass that set in and all the
ledger checks, writes and balances live here once.

Every lookup is by the caller's account as well as by ID: another payer's channel answers 404,
exactly like one that does not exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Response

import pow_rs
from mobility.api.context import ApiContext
from mobility.api.driver_models import ChannelOut
from mobility.api.pagination import Page, PageParams
from mobility.api.problems import Problem
from mobility.ledger.client import InProcessClient
from mobility.payments import accounts
from mobility.payments.models import ChannelRecord
from mobility.payments.service import PaymentService
from mobility.wire.codec import ChannelOutput, CodecError, Ed25519Address, output_from_bytes
from mobility.wire.payer_api import OperatorOut

ChannelPath = Annotated[str, Path(pattern=r"^[0-9a-fA-F]{64}$", description="Channel ID, hex.")]


def not_found(what: str) -> Problem:
    """The answer for anything that does not exist or is someone else's."""
    return Problem(404, "Not found", f"no such {what} of yours", "not-found")


def payments(context: ApiContext) -> PaymentService:
    """The payment service, or 503 when the engine runs without payments."""
    if context.payments is None:
        raise Problem(503, "Payments disabled", "this engine runs without payments", "unavailable")
    return context.payments


def operator_address(context: ApiContext) -> Ed25519Address:
    """The address channels must pay: the operator's key's."""
    return Ed25519Address.from_bytes(bytes(pow_rs.ed25519_address(context.operator_key.public_key)))


def operator_out(context: ApiContext) -> OperatorOut:
    """The operator's key and address: channels are opened to it, receipts are signed by it."""
    address = operator_address(context)
    return OperatorOut(
        public_key=context.operator_key.public_key.hex(),
        address=address.to_bytes().hex(),
        address_bech32=address.bech32(context.node.params.bech32_hrp),
    )


async def view(context: ApiContext, record: ChannelRecord) -> ChannelOut:
    """A channel with its balance."""
    balance = await asyncio.to_thread(accounts.channel_balance, context.payment_store, record)
    return ChannelOut.of(balance)


async def own(context: ApiContext, account_id: str, channel_id: str) -> ChannelRecord:
    """The account's channel, else 404 (also for another account's)."""
    record = await asyncio.to_thread(accounts.channel_of, context.payment_store, account_id, channel_id)
    if record is None:
        raise not_found("channel")
    return record


async def read_ledger_channel(context: ApiContext, channel_id: str) -> ChannelOutput:
    """The channel output the ledger holds for `channel_id`; 409 when none is confirmed."""
    found = await InProcessClient(context.node).channel(bytes.fromhex(channel_id))
    if found is None:
        raise Problem(
            409,
            "Channel not on the ledger",
            "no open channel with this ID is confirmed on the ledger (wait for a milestone)",
            "channel-not-on-ledger",
        )
    try:
        output = output_from_bytes(bytes.fromhex(found.output))
    except (CodecError, ValueError) as error:  # the node's own data: should never happen
        raise Problem(502, "Unreadable channel", str(error), "ledger-error") from error
    if not isinstance(output, ChannelOutput):
        raise Problem(502, "Unreadable channel", "not a channel output", "ledger-error")
    return output


def expiry(output: ChannelOutput) -> datetime:
    """The channel's expiry as a UTC time."""
    return datetime.fromtimestamp(output.expiry, UTC)


async def register(
    context: ApiContext,
    account_id: str,
    channel_id: str,
    payers: Collection[Ed25519Address],
    wrong_payer: str,
    response: Response,
) -> ChannelOut:
    """Register a channel on `account_id`: accepted only if the ledger shows it paying from one
    of `payers` to the operator, not expired and not closing. Registering it again re-reads its
    terms (answered 200 instead of 201). `wrong_payer` explains a refused payer to the caller.
    """
    channel_id = channel_id.lower()
    output = await read_ledger_channel(context, channel_id)
    if output.payer not in payers:
        raise Problem(409, "Not your channel", wrong_payer, "wrong-payer")
    if output.payee != operator_address(context):
        raise Problem(409, "Wrong payee", "the channel does not pay this operator", "wrong-payee")
    if output.settle_deadline:
        raise Problem(409, "Channel closing", "the channel is in its settle window", "channel-closing")
    if expiry(output) <= context.clock():
        raise Problem(409, "Channel expired", "the channel's expiry has passed", "channel-expired")
    store = context.payment_store
    existing = await asyncio.to_thread(store.channel, channel_id)
    if existing is not None:
        if existing.account_id != account_id:  # cannot happen: a payer key has one account
            raise Problem(409, "Registered elsewhere", "another account holds this channel", "conflict")
        response.status_code = 200
        await update_terms(context, channel_id, output.deposit, expiry(output))
    else:
        record = ChannelRecord(
            channel_id=channel_id,
            account_id=account_id,
            payer_address=output.payer.to_bytes().hex(),
            deposit=output.deposit,
            claimed=output.claimed,
            paid=output.claimed,
            expiry=expiry(output),
        )
        await asyncio.to_thread(store.add_channel, record)
    return await view(context, await own(context, account_id, channel_id))


async def update_terms(context: ApiContext, channel_id: str, deposit: int, expires: datetime) -> None:
    """A top-up or later expiry: through the channel's owner when payments run, so it holds
    the new deposit too."""
    if context.payments is not None:
        await context.payments.channel_terms(channel_id, deposit, expires)
    else:
        await asyncio.to_thread(context.payment_store.update_channel_terms, channel_id, deposit, expires)


async def page(context: ApiContext, account_id: str, paging: PageParams) -> Page[ChannelOut]:
    """The account's channels, soonest expiry first, with their balances."""
    rows, total = await asyncio.to_thread(
        accounts.channels_page, context.payment_store, account_id, paging.limit, paging.offset
    )
    return Page[ChannelOut].of([await view(context, row) for row in rows], total, paging)


async def refresh(context: ApiContext, account_id: str, channel_id: str) -> ChannelOut:
    """Re-read the account's channel's deposit and expiry from the ledger (after a top-up)."""
    record = await own(context, account_id, channel_id)
    output = await read_ledger_channel(context, record.channel_id)
    await update_terms(context, record.channel_id, output.deposit, expiry(output))
    return await view(context, await own(context, account_id, channel_id))


async def close(context: ApiContext, account_id: str, channel_id: str) -> ChannelOut:
    """Start the operator's closing claim on the account's channel: it claims what the vouchers
    pay and refunds the rest to the payer, through settlement."""
    payments(context)
    record = await own(context, account_id, channel_id)
    balance = await asyncio.to_thread(accounts.channel_balance, context.payment_store, record)
    if balance.state != "open":
        raise Problem(409, "Channel closing", f"the channel is {balance.state} already", "channel-closing")
    active = await asyncio.to_thread(context.payment_store.active_sessions, record.channel_id)
    if active:
        raise Problem(409, "Sessions running", "stop the sessions on this channel first", "sessions-running")
    started = await asyncio.to_thread(
        context.payment_store.begin_settlement, record.channel_id, True, context.clock()
    )
    if started is None:
        if record.paid <= record.claimed:
            raise Problem(
                409,
                "Nothing to claim",
                "no voucher to claim with: close it from your wallet (close, then refund after"
                " the settle window)",
                "nothing-to-claim",
            )
        raise Problem(409, "Settlement in flight", "a claim is in flight; try again later", "settlement-busy")
    return await view(context, record)
