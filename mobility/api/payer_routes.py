"""The routes every payer has, written once: `/operator` and `/channels/...`, mounted under
`/driver` and under `/fleet` (`payer_router`).

A driver and a fleet differ only in how they authenticate (a driver token; a fleet API key
with `fleet:read` to look, `fleet:write` to change) and in which keys their channels may pay
from; the routes take both as arguments and the rules live in `mobility.api.channels`.

No `from __future__ import annotations` here: the routes are made inside a function, and
FastAPI reads their parameters' annotations, which must be objects, not names of locals.
"""

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Response

from mobility.api import channels
from mobility.api.channels import ChannelPath
from mobility.api.context import ApiContext, Context
from mobility.api.driver_models import ChannelOut
from mobility.api.pagination import Page, Paging
from mobility.wire.codec import Ed25519Address
from mobility.wire.payer_api import ChannelIn, OperatorOut


class Payer(Protocol):
    """A caller that pays from channels: a driver or a fleet."""

    @property
    def account_id(self) -> str: ...


PayersOf = Callable[[ApiContext, str], Awaitable[Collection[Ed25519Address]]]
"""The addresses an account's channels may pay from."""


@dataclass(frozen=True, slots=True)
class PayerKind:
    """What differs between drivers and fleets on these routes."""

    keys: str  # whose keys channels pay from, for the descriptions: "the driver's key"
    reader: Any  # a `Depends` giving the `Payer` allowed to look
    writer: Any  # a `Depends` giving the `Payer` allowed to register, refresh and close
    payers: PayersOf
    wrong_payer: str  # why a channel paying from another key is refused
    refund_to: str  # who a closing claim refunds


def payer_router(kind: PayerKind) -> APIRouter:
    """The `/operator` and `/channels` routes for one kind of payer (no prefix, no tags: the
    including router gives them)."""
    router = APIRouter()
    Reader = Annotated[Payer, kind.reader]  # noqa: N806  (a type alias, named as one)
    Writer = Annotated[Payer, kind.writer]  # noqa: N806

    @router.get("/operator", response_model=OperatorOut)
    async def operator_info(caller: Reader, context: Context) -> OperatorOut:
        """The operator's key and address: channels are opened to it, receipts are signed by it."""
        return channels.operator_out(context)

    @router.post(
        "/channels",
        response_model=ChannelOut,
        status_code=201,
        responses={200: {"description": "registered already", "model": ChannelOut}},
    )
    async def register_channel(
        body: ChannelIn, caller: Writer, context: Context, response: Response
    ) -> ChannelOut:
        payers = await kind.payers(context, caller.account_id)
        return await channels.register(
            context, caller.account_id, body.channel_id, payers, kind.wrong_payer, response
        )

    register_channel.__doc__ = (
        "Register a channel opened on the ledger: accepted only if it pays from"
        f" {kind.keys} to the operator and has not expired or begun closing."
    )

    @router.get("/channels", response_model=Page[ChannelOut])
    async def list_channels(caller: Reader, context: Context, paging: Paging) -> Page[ChannelOut]:
        """The channels, soonest expiry first, with their balances."""
        return await channels.page(context, caller.account_id, paging)

    @router.get("/channels/{channel_id}", response_model=ChannelOut)
    async def get_channel(channel_id: ChannelPath, caller: Reader, context: Context) -> ChannelOut:
        """One channel: deposit, paid, claimed, owed, available."""
        return await channels.view(context, await channels.own(context, caller.account_id, channel_id))

    @router.post("/channels/{channel_id}/refresh", response_model=ChannelOut)
    async def refresh_channel(channel_id: ChannelPath, caller: Writer, context: Context) -> ChannelOut:
        """Re-read the deposit and expiry from the ledger after a top-up."""
        return await channels.refresh(context, caller.account_id, channel_id)

    @router.post("/channels/{channel_id}/close", response_model=ChannelOut, status_code=202)
    async def close_channel(channel_id: ChannelPath, caller: Writer, context: Context) -> ChannelOut:
        return await channels.close(context, caller.account_id, channel_id)

    close_channel.__doc__ = (
        "Ask the operator to claim what the vouchers pay and close the channel, refunding the rest"
        f' to {kind.refund_to}. The claim goes through settlement; watch `state` become "closed".'
    )
    return router
