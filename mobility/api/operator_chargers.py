"""Operator routes for charge points: register, password, settings, live status, commands.

A charge point another operator owns (or nobody does) answers 404 on every route here, as if
it did not exist; only registering its ID answers 409, because IDs are one namespace, unless
it connected unknown and nobody owns it yet (admitted outright, or pending approval):
registering it claims (and approves) it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from websockets.exceptions import ConnectionClosed

from mobility.api.auth import OperatorPrincipal
from mobility.api.context import ApiContext, Context, operator_with
from mobility.api.models import ChargerCommandRecord
from mobility.api.operator_store import Charger, Operators, OperatorStore
from mobility.api.pagination import Page, Paging
from mobility.api.problems import Problem
from mobility.api.schemas import ConnectorOut
from mobility.charging.charger_rules import (
    CHARGE_POINT_PATTERN,
    MAX_ID_LENGTH,
    ChargePointId,
    Password,
)
from mobility.charging.passwords import BusyError
from mobility.charging.profile_ids import OPERATOR_LIMIT
from mobility.charging.store import ChargerSpec
from ocpp_server.commands import (
    ChargePointCommands,
    CommandRejectedError,
    CommandResult,
    CommandTimeoutError,
)
from ocpp_server.server import NotConnectedError

router = APIRouter()

ChargePointPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=CHARGE_POINT_PATTERN)]
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"  # no control characters (PostgreSQL text refuses NUL)
TariffId = Annotated[str, StringConstraints(min_length=1, max_length=36, pattern=PRINTABLE)]
Site = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=PRINTABLE)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _location_pair(latitude: float | None, longitude: float | None) -> None:
    if (latitude is None) != (longitude is None):
        raise ValueError("latitude and longitude go together")


class ChargerIn(_Strict):
    """A charge point to register; it connects with Basic auth as `id` / `password`."""

    id: ChargePointId
    password: Password
    site: Site | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    tariff_id: TariffId | None = Field(default=None, description="one of your tariffs; none: the default")

    @model_validator(mode="after")
    def _location(self) -> ChargerIn:
        _location_pair(self.latitude, self.longitude)
        return self


class ChargerPatch(_Strict):
    """Settings to change; fields left out stay as they are, null clears site, location, tariff."""

    enabled: bool | None = None
    site: Site | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    tariff_id: TariffId | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ChargerPatch:
        given = self.model_fields_set
        if "enabled" in given and self.enabled is None:
            raise ValueError("enabled is true or false")
        if ("latitude" in given) != ("longitude" in given):
            raise ValueError("latitude and longitude go together")
        _location_pair(self.latitude, self.longitude)
        return self


class PasswordIn(_Strict):
    """The charge point's new Basic-auth password."""

    password: Password


class ChargerOut(BaseModel):
    """A charge point as its operator sees it; `online` is the live connection state."""

    id: str
    enabled: bool
    online: bool
    protocol: str | None
    site: str | None
    latitude: float | None
    longitude: float | None
    tariff_id: str | None
    vendor: str | None
    model: str | None
    firmware_version: str | None
    last_seen: datetime | None
    connectors: list[ConnectorOut]


def _charger_out(context: ApiContext, charger: Charger) -> ChargerOut:
    record = charger.record
    online = context.central.is_connected(record.id) if context.central is not None else record.online
    return ChargerOut(
        id=record.id,
        enabled=record.enabled,
        online=online,
        protocol=record.protocol,
        site=record.site,
        latitude=record.latitude,
        longitude=record.longitude,
        tariff_id=record.tariff_id,
        vendor=record.vendor,
        model=record.model,
        firmware_version=record.firmware_version,
        last_seen=record.last_seen,
        connectors=[
            ConnectorOut(
                connector_id=c.connector_id, status=c.status, error_code=c.error_code, updated_at=c.updated_at
            )
            for c in charger.connectors
        ],
    )


def _not_found(charge_point_id: str) -> Problem:
    return Problem(404, "Not found", f"no charge point {charge_point_id!r} of yours", "not-found")


async def _hashed(context: ApiContext, password: str) -> str:
    """The password's hash, from the engine's hasher (503 while it is full)."""
    try:
        return await context.passwords.hash(password)
    except BusyError as error:
        raise Problem(
            503, "Busy", "password hashing is saturated: try again", "busy", {"Retry-After": "1"}
        ) from error


async def _check_tariff(store: OperatorStore, operator_id: str, tariff_id: str | None) -> None:
    if tariff_id is not None and not await asyncio.to_thread(store.owns_tariff, operator_id, tariff_id):
        raise Problem(422, "Invalid request", f"tariff {tariff_id!r} is not one of yours", "unknown-tariff")


@router.post("/chargers", status_code=status.HTTP_201_CREATED, response_model=ChargerOut)
async def register_charger(
    body: ChargerIn,
    caller: Annotated[OperatorPrincipal, operator_with("chargers:write")],
    context: Context,
    store: Operators,
    response: Response,
) -> ChargerOut:
    """Register a charge point as yours; its password is stored only as a scrypt hash.

    A charge point that connected unknown and nobody owns yet (see `GET
    /operator/unclaimed-chargers`) is claimed this way: from its next connection on it must
    authenticate with this password.
    """
    await _check_tariff(store, caller.operator_id, body.tariff_id)
    password_hash = await _hashed(context, body.password)
    spec = ChargerSpec(body.id, password_hash, body.site, body.latitude, body.longitude, body.tariff_id)
    charger = await asyncio.to_thread(store.register_charger, caller.operator_id, spec)
    if charger is None:
        raise Problem(409, "Conflict", f"charge point {body.id!r} is registered already", "already-exists")
    response.headers["Location"] = f"/operator/chargers/{body.id}"
    return _charger_out(context, charger)


@router.get("/unclaimed-chargers", response_model=Page[ChargerOut])
async def list_unclaimed_chargers(
    caller: Annotated[OperatorPrincipal, operator_with("chargers:read")],
    context: Context,
    store: Operators,
    paging: Paging,
) -> Page[ChargerOut]:
    """Charge points admitted unknown (`MOBILITY_ACCEPT_UNKNOWN_CHARGERS`) that no operator owns:
    they have no password and no tariff, so no session on them is paid. Claim one by
    registering its ID (`POST /operator/chargers`), which gives it your password and tariff.
    The first operator to claim an ID gets it."""
    chargers, total = await asyncio.to_thread(store.unclaimed_chargers, paging)
    return Page.of([_charger_out(context, c) for c in chargers], total, paging)


@router.get("/chargers", response_model=Page[ChargerOut])
async def list_chargers(
    caller: Annotated[OperatorPrincipal, operator_with("chargers:read")],
    context: Context,
    store: Operators,
    paging: Paging,
) -> Page[ChargerOut]:
    """Your charge points by ID, with live connection state and connector statuses."""
    chargers, total = await asyncio.to_thread(store.chargers, caller.operator_id, paging)
    return Page.of([_charger_out(context, c) for c in chargers], total, paging)


@router.get("/chargers/{charge_point_id}", response_model=ChargerOut)
async def get_charger(
    charge_point_id: ChargePointPath,
    caller: Annotated[OperatorPrincipal, operator_with("chargers:read")],
    context: Context,
    store: Operators,
) -> ChargerOut:
    """One of your charge points."""
    charger = await asyncio.to_thread(store.charger, caller.operator_id, charge_point_id)
    if charger is None:
        raise _not_found(charge_point_id)
    return _charger_out(context, charger)


@router.patch("/chargers/{charge_point_id}", response_model=ChargerOut)
async def update_charger(
    charge_point_id: ChargePointPath,
    body: ChargerPatch,
    caller: Annotated[OperatorPrincipal, operator_with("chargers:write")],
    context: Context,
    store: Operators,
) -> ChargerOut:
    """Enable or disable (a disabled charge point's boot is rejected), move, or re-price it."""
    changes = body.model_dump(include=body.model_fields_set)
    await _check_tariff(store, caller.operator_id, changes.get("tariff_id"))
    if not await asyncio.to_thread(store.update_charger, caller.operator_id, charge_point_id, changes):
        raise _not_found(charge_point_id)
    return await get_charger(charge_point_id, caller, context, store)


@router.put("/chargers/{charge_point_id}/password", status_code=status.HTTP_204_NO_CONTENT)
async def set_password(
    charge_point_id: ChargePointPath,
    body: PasswordIn,
    caller: Annotated[OperatorPrincipal, operator_with("chargers:write")],
    context: Context,
    store: Operators,
) -> Response:
    """Replace the Basic-auth password; the next connection must use the new one."""
    password_hash = await _hashed(context, body.password)
    if not await asyncio.to_thread(store.set_password, caller.operator_id, charge_point_id, password_hash):
        raise _not_found(charge_point_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Commands ----------------------------------------------------------------------------------


class ResetCommand(_Strict):
    """Reboot: soft when idle, hard now."""

    type: Literal["reset"]
    kind: Literal["soft", "hard"] = "soft"

    async def run(self, charger: ChargePointCommands) -> CommandResult:
        return await charger.reset(hard=self.kind == "hard")


class UnlockCommand(_Strict):
    """Release the cable on a connector (EVSE on 2.x)."""

    type: Literal["unlock_connector"]
    connector_id: int = Field(ge=1, le=1000)

    async def run(self, charger: ChargePointCommands) -> CommandResult:
        return await charger.unlock_connector(self.connector_id)


class AvailabilityCommand(_Strict):
    """Make a connector (0: the whole charge point) operative or inoperative."""

    type: Literal["availability"]
    connector_id: int = Field(default=0, ge=0, le=1000)
    state: Literal["operative", "inoperative"]

    async def run(self, charger: ChargePointCommands) -> CommandResult:
        return await charger.change_availability(self.connector_id, self.state == "operative")


class PowerLimitCommand(_Strict):
    """Cap a connector's power (0: the whole charge point) with a charging profile, in W."""

    type: Literal["charging_profile"]
    connector_id: int = Field(default=0, ge=0, le=1000)
    limit_w: int = Field(ge=0, le=1_000_000)

    async def run(self, charger: ChargePointCommands) -> CommandResult:
        return await charger.set_power_limit(self.connector_id, self.limit_w, OPERATOR_LIMIT)


class ClearPowerLimitCommand(_Strict):
    """Remove the cap set by a `charging_profile` command."""

    type: Literal["clear_charging_profile"]

    async def run(self, charger: ChargePointCommands) -> CommandResult:
        return await charger.clear_power_limit(OPERATOR_LIMIT)


Command = Annotated[
    ResetCommand | UnlockCommand | AvailabilityCommand | PowerLimitCommand | ClearPowerLimitCommand,
    Field(discriminator="type"),
]


class CommandOut(BaseModel):
    """A command sent and how it ended: `answered` (see `status`), `error` (the charger answered
    with a CALLERROR), `timeout`, `lost` (the connection dropped), or still `pending`."""

    id: int
    charge_point_id: str
    command: str
    request: dict[str, Any]
    outcome: str
    status: str | None
    response: dict[str, Any] | None
    error: str | None
    created_at: datetime
    answered_at: datetime | None


def _command_out(record: ChargerCommandRecord) -> CommandOut:
    assert record.id is not None
    return CommandOut(
        id=record.id,
        charge_point_id=record.charge_point_id,
        command=record.command,
        request=json.loads(record.request),
        outcome=record.outcome,
        status=record.status,
        response=json.loads(record.response) if record.response is not None else None,
        error=record.error,
        created_at=record.created_at,
        answered_at=record.answered_at,
    )


@router.post(
    "/chargers/{charge_point_id}/commands",
    response_model=CommandOut,
    responses={
        409: {"description": "the charge point is offline"},
        502: {"description": "the charge point answered with an error, or dropped the connection"},
        504: {"description": "the charge point did not answer in time"},
    },
)
async def send_command(
    charge_point_id: ChargePointPath,
    body: Command,
    caller: Annotated[OperatorPrincipal, operator_with("commands")],
    context: Context,
    store: Operators,
) -> CommandOut:
    """Send a command and answer with the charge point's result; every command is logged."""
    if await asyncio.to_thread(store.charger, caller.operator_id, charge_point_id) is None:
        raise _not_found(charge_point_id)
    central = context.central
    if central is None:
        raise Problem(503, "Unavailable", "this engine runs without an OCPP server", "no-central-system")
    if not central.is_connected(charge_point_id):
        raise Problem(409, "Conflict", f"charge point {charge_point_id!r} is offline", "charger-offline")
    command_id = await asyncio.to_thread(
        store.begin_command, caller.operator_id, charge_point_id, body.type, body.model_dump_json()
    )
    finish: dict[str, Any]
    try:
        result = await body.run(central.commands(charge_point_id))
        finish = {"outcome": "answered", "status": result.status, "response": result.payload}
    except CommandRejectedError as error:
        finish = {"outcome": "error", "status": error.code, "error": error.description}
    except CommandTimeoutError:
        finish = {"outcome": "timeout", "error": "no answer within the response timeout"}
    except (NotConnectedError, ConnectionClosed):
        finish = {"outcome": "lost", "error": "the connection closed before the answer"}
    record = _command_out(await asyncio.to_thread(store.finish_command, command_id, **finish))
    problems = {
        "error": (502, "the charge point answered with an error", "charger-error"),
        "timeout": (504, "the charge point did not answer in time", "charger-timeout"),
        "lost": (502, "the connection to the charge point closed", "charger-disconnected"),
    }
    if record.outcome in problems:
        code, detail, kind = problems[record.outcome]
        raise Problem(code, "Command failed", detail, kind, command=record.model_dump(mode="json"))
    return record


@router.get("/chargers/{charge_point_id}/commands", response_model=Page[CommandOut])
async def list_commands(
    charge_point_id: ChargePointPath,
    caller: Annotated[OperatorPrincipal, operator_with("commands")],
    store: Operators,
    paging: Paging,
) -> Page[CommandOut]:
    """Commands sent to one of your charge points and their results, newest first."""
    found = await asyncio.to_thread(store.commands, caller.operator_id, charge_point_id, paging)
    if found is None:
        raise _not_found(charge_point_id)
    records, total = found
    return Page.of([_command_out(r) for r in records], total, paging)
