"""Fleet routes for payer keys (`/fleet/payer-keys`), and the payer routes (`/fleet/operator`,
`/fleet/channels/...`, written once in `payer_routes`) with the fleet's keys as payers.

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
from mobility.api.auth import FleetPrincipal
from mobility.api.context import ApiContext, Context, fleet_with
from mobility.api.fleet_vehicles import fleet_store
from mobility.api.pagination import Page, Paging
from mobility.api.payer_routes import PayerKind, payer_router
from mobility.api.problems import Problem
from mobility.fleet.models import FleetPayerKeyRecord
from mobility.fleet.store import KeyTakenError
from mobility.wire.codec import Ed25519Address
from mobility.wire.domains import FLEET_PAYER_KEY_DOMAIN
from mobility.wire.payer_api import PayerKeyIn

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
    taken = Problem(409, "Conflict", "this key belongs to another account", "key-taken")
    if await asyncio.to_thread(context.api_store.driver_by_key, public_key) is not None:
        raise taken  # a driver's key: it names the driver's account
    try:
        record, new = await asyncio.to_thread(
            fleet_store(context).add_payer_key, caller.account_id, body.public_key, context.clock()
        )
    except KeyTakenError as error:
        raise taken from error
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


async def _fleet_payers(context: ApiContext, account_id: str) -> set[Ed25519Address]:
    keys = await asyncio.to_thread(fleet_store(context).payer_public_keys, account_id)
    # A weak key stored before keys were checked pays for no channel: anyone can sign for it.
    return {Ed25519Address.from_public_key(key) for key in keys if pow_rs.ed25519_strong_key(key)}


router.include_router(
    payer_router(
        PayerKind(
            keys="one of the fleet's payer keys",
            reader=fleet_with("fleet:read"),
            writer=fleet_with("fleet:write"),
            payers=_fleet_payers,
            wrong_payer="the channel's payer is none of your payer keys (POST /fleet/payer-keys first)",
            refund_to="the fleet's key",
        )
    )
)
