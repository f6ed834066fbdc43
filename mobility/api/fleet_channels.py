"""Fleet routes for payer keys and channels (`/fleet/payer-keys`, `/fleet/channels/...`).

A fleet pays from channels it opened on the ledger with its own keys. Before the engine takes
a channel on the fleet's account, the fleet proves it holds the channel's payer key: it signs
`FLEET_PAYER_KEY_DOMAIN + account ID` with that key and posts the signature. The signature names
the fleet, so it cannot be replayed to put the key (and the channels it pays from) under
another account, and the domain keeps it from meaning anything else (a login or a voucher is
signed over different bytes). A key belongs to one account only: another fleet's key, or a
driver's, answers 409. From then on the channel rules are the drivers' (`mobility.api.channels`),
with the fleet's keys as the accepted payers.

Another fleet's channel answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

import pow_rs
from mobility.api import channels
from mobility.api.auth import FleetPrincipal
from mobility.api.channels import ChannelPath
from mobility.api.context import Context, fleet_with
from mobility.api.driver_models import ChannelOut
from mobility.api.fleet_vehicles import fleet_store
from mobility.api.models import FleetPayerKeyRecord
from mobility.api.pagination import Page, Paging
from mobility.api.problems import Problem
from mobility.fleet.store import KeyTakenError
from mobility.wire.codec import Ed25519Address
from mobility.wire.domains import FLEET_PAYER_KEY_DOMAIN
from mobility.wire.payer_api import ChannelIn, OperatorOut, PayerKeyIn

router = APIRouter(tags=["fleet"])

Reader = Annotated[FleetPrincipal, fleet_with("fleet:read")]
Writer = Annotated[FleetPrincipal, fleet_with("fleet:write")]


def payer_key_message(account_id: str) -> bytes:
    """What a fleet signs with a payer key to claim it for its account."""
    return FLEET_PAYER_KEY_DOMAIN + account_id.encode()


class PayerKeyOut(BaseModel):
    """A key the fleet's channels may pay from, and the address channels name as payer."""

    public_key: str
    address: str = Field(description="hex of the 33-byte Ed25519 address")
    address_bech32: str

    @classmethod
    def of(cls, record: FleetPayerKeyRecord, hrp: str) -> PayerKeyOut:
        address = Ed25519Address.from_public_key(bytes.fromhex(record.public_key))
        return cls(
            public_key=record.public_key, address=address.to_bytes().hex(), address_bech32=address.bech32(hrp)
        )


@router.get("/operator", response_model=OperatorOut)
async def operator_info(caller: Reader, context: Context) -> OperatorOut:
    """The operator's key and address: open channels to it; it signs receipts."""
    return channels.operator_out(context)


@router.post(
    "/payer-keys",
    response_model=PayerKeyOut,
    status_code=201,
    responses={200: {"description": "registered already", "model": PayerKeyOut}},
)
async def add_payer_key(
    body: PayerKeyIn, caller: Writer, context: Context, response: Response
) -> PayerKeyOut:
    """Prove the fleet holds a key, so channels paying from its address can be registered.

    422 when the signature does not verify over this fleet's message; 409 when the key is
    another account's. Registering one of the fleet's keys again changes nothing (200).
    """
    public_key = bytes.fromhex(body.public_key)
    if not pow_rs.ed25519_strong_key(public_key):
        raise Problem(422, "Weak key", "a small-order or non-canonical key pays for nobody", "weak-key")
    try:
        valid = pow_rs.ed25519_verify(
            public_key, payer_key_message(caller.account_id), bytes.fromhex(body.signature)
        )
    except pow_rs.PowRsError:  # not a curve point: no valid signature is possible
        valid = False
    if not valid:
        raise Problem(
            422,
            "Invalid proof",
            "the signature does not verify: sign b'mobility-fleet-payer-key:' + your account ID",
            "invalid-proof",
        )
    try:
        record, new = await asyncio.to_thread(
            fleet_store(context).add_payer_key, caller.account_id, body.public_key, context.clock()
        )
    except KeyTakenError as error:
        raise Problem(409, "Conflict", "this key belongs to another account", "key-taken") from error
    if not new:
        response.status_code = 200
    return PayerKeyOut.of(record, context.node.params.bech32_hrp)


@router.get("/payer-keys", response_model=Page[PayerKeyOut])
async def list_payer_keys(caller: Reader, context: Context, paging: Paging) -> Page[PayerKeyOut]:
    """The fleet's payer keys, oldest first."""
    rows, total = await asyncio.to_thread(
        fleet_store(context).payer_keys, caller.account_id, paging.limit, paging.offset
    )
    hrp = context.node.params.bech32_hrp
    return Page[PayerKeyOut].of([PayerKeyOut.of(row, hrp) for row in rows], total, paging)


@router.post(
    "/channels",
    response_model=ChannelOut,
    status_code=201,
    responses={200: {"description": "registered already", "model": ChannelOut}},
)
async def register_channel(
    body: ChannelIn, caller: Writer, context: Context, response: Response
) -> ChannelOut:
    """Register a channel the fleet opened on the ledger: accepted only if it pays from one of
    the fleet's payer keys to the operator and has not expired or begun closing. Sessions of
    the fleet's RFID tokens are then paid from it."""
    keys = await asyncio.to_thread(fleet_store(context).payer_public_keys, caller.account_id)
    # A weak key stored before keys were checked pays for no channel: anyone can sign for it.
    payers = {Ed25519Address.from_public_key(key) for key in keys if pow_rs.ed25519_strong_key(key)}
    return await channels.register(
        context,
        caller.account_id,
        body.channel_id,
        payers,
        "the channel's payer is none of your payer keys (POST /fleet/payer-keys first)",
        response,
    )


@router.get("/channels", response_model=Page[ChannelOut])
async def list_channels(caller: Reader, context: Context, paging: Paging) -> Page[ChannelOut]:
    """The fleet's channels, soonest expiry first: deposit, paid, claimed, owed, available."""
    return await channels.page(context, caller.account_id, paging)


@router.get("/channels/{channel_id}", response_model=ChannelOut)
async def get_channel(channel_id: ChannelPath, caller: Reader, context: Context) -> ChannelOut:
    """One of the fleet's channels with its balance."""
    return await channels.view(context, await channels.own(context, caller.account_id, channel_id))


@router.post("/channels/{channel_id}/refresh", response_model=ChannelOut)
async def refresh_channel(channel_id: ChannelPath, caller: Writer, context: Context) -> ChannelOut:
    """Re-read the deposit and expiry from the ledger after a top-up."""
    return await channels.refresh(context, caller.account_id, channel_id)


@router.post("/channels/{channel_id}/close", response_model=ChannelOut, status_code=202)
async def close_channel(channel_id: ChannelPath, caller: Writer, context: Context) -> ChannelOut:
    """Ask the operator to claim what the vouchers pay and close the channel, refunding the rest
    to the fleet's key. The claim goes through settlement; watch `state` become "closed"."""
    return await channels.close(context, caller.account_id, channel_id)
