"""Fleet routes for vehicles and their id tokens (`/fleet/vehicles/...`).

A vehicle another fleet owns answers 404, exactly like one that does not exist, so IDs reveal
nothing across tenants. A token any other account holds answers 409 and changes nothing, and so
does one shaped like a driver app's token (`APP` + 16 hex digits): those are the apps' alone.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from mobility.api.auth import FleetPrincipal
from mobility.api.context import Context, fleet_with
from mobility.api.pagination import Page, Paging
from mobility.api.problems import Problem
from mobility.fleet.models import VehicleRecord
from mobility.fleet.store import FleetStore, TokenTakenError
from mobility.payments.accounts import is_app_token
from mobility.payments.models import IdTokenRecord
from mobility.wire.payer_api import PRINTABLE, TokenIn, VehicleIn

router = APIRouter(tags=["fleet"])

Reader = Annotated[FleetPrincipal, fleet_with("fleet:read")]
Writer = Annotated[FleetPrincipal, fleet_with("fleet:write")]
VehicleId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=PRINTABLE, description="A vehicle of this fleet.")
]


class VehicleOut(BaseModel):
    """A fleet vehicle."""

    id: str
    label: str

    @classmethod
    def of(cls, record: VehicleRecord) -> VehicleOut:
        return cls(id=record.id, label=record.label)


class TokenOut(BaseModel):
    """An id token of a fleet vehicle."""

    token: str
    vehicle_id: str
    driver_name: str

    @classmethod
    def of(cls, record: IdTokenRecord) -> TokenOut:
        return cls(
            token=record.token, vehicle_id=record.vehicle_id or "", driver_name=record.driver_name or ""
        )


def fleet_store(context: Context) -> FleetStore:
    """The fleet rows in the engine's database (a thin, stateless wrapper)."""
    return FleetStore(context.payment_store.engine)


async def own_vehicle(store: FleetStore, caller: FleetPrincipal, vehicle_id: str) -> VehicleRecord:
    """The caller's vehicle, else 404 (also for another fleet's)."""
    record = await asyncio.to_thread(store.vehicle, caller.account_id, vehicle_id)
    if record is None:
        raise Problem(404, "Not found", f"no vehicle {vehicle_id!r} in this fleet", "not-found")
    return record


@router.post("/vehicles", response_model=VehicleOut, status_code=201)
async def add_vehicle(body: VehicleIn, caller: Writer, context: Context) -> VehicleOut:
    """Add a vehicle to the fleet."""
    record = await asyncio.to_thread(fleet_store(context).add_vehicle, caller.account_id, body.label)
    return VehicleOut.of(record)


@router.get("/vehicles", response_model=Page[VehicleOut])
async def list_vehicles(caller: Reader, context: Context, paging: Paging) -> Page[VehicleOut]:
    """The fleet's vehicles, by ID."""
    rows, total = await asyncio.to_thread(
        fleet_store(context).vehicles, caller.account_id, paging.limit, paging.offset
    )
    return Page[VehicleOut].of([VehicleOut.of(row) for row in rows], total, paging)


@router.get("/vehicles/{vehicle_id}", response_model=VehicleOut)
async def get_vehicle(vehicle_id: VehicleId, caller: Reader, context: Context) -> VehicleOut:
    """One of the fleet's vehicles."""
    return VehicleOut.of(await own_vehicle(fleet_store(context), caller, vehicle_id))


@router.post("/vehicles/{vehicle_id}/tokens", response_model=TokenOut, status_code=201)
async def add_token(vehicle_id: VehicleId, body: TokenIn, caller: Writer, context: Context) -> TokenOut:
    """Register an RFID token on the fleet's account for this vehicle and driver.

    Sessions started with it are paid from the fleet's channels. Registering one of the fleet's
    own tokens again moves it to this vehicle and driver for sessions from now on; earlier
    sessions keep the vehicle and driver they were charged under.
    """
    store = fleet_store(context)
    await own_vehicle(store, caller, vehicle_id)
    if is_app_token(body.token):
        # A driver's app token, used or not yet: the driver's first remote start would meet it.
        raise Problem(409, "Conflict", "APP... tokens belong to driver apps", "token-taken")
    try:
        record = await asyncio.to_thread(
            store.register_token, caller.account_id, vehicle_id, body.token, body.driver_name, context.clock()
        )
    except TokenTakenError as error:
        raise Problem(
            409, "Conflict", f"id token {error} belongs to another account", "token-taken"
        ) from error
    return TokenOut.of(record)


@router.get("/vehicles/{vehicle_id}/tokens", response_model=Page[TokenOut])
async def list_tokens(
    vehicle_id: VehicleId, caller: Reader, context: Context, paging: Paging
) -> Page[TokenOut]:
    """The vehicle's id tokens."""
    store = fleet_store(context)
    await own_vehicle(store, caller, vehicle_id)
    rows, total = await asyncio.to_thread(
        store.tokens, caller.account_id, vehicle_id, paging.limit, paging.offset
    )
    return Page[TokenOut].of([TokenOut.of(row) for row in rows], total, paging)
