"""The driver routes (`/driver/...`): chargers nearby, channels, remote start and stop, session
history and signed receipts. The live stream is in `driver_stream`.

Every lookup is by the caller's account as well as by ID: another driver's channel or session
answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

import pow_rs
from mobility.api import channels, driver_stream
from mobility.api.context import ApiContext, Context, Driver, current_driver
from mobility.api.driver_models import ChargerOut, SessionOut
from mobility.api.pagination import Page, Paging
from mobility.api.payer_routes import PayerKind, payer_router
from mobility.api.problems import Problem
from mobility.api.schemas import ConnectorOut
from mobility.charging.nearby import charge_points_near
from mobility.payments import accounts
from mobility.payments.tariff import Tariff
from mobility.wire.codec import Ed25519Address
from mobility.wire.payer_api import CommandOut, StartIn, StartOut, StopOut
from mobility.wire.receipts import sign_receipt
from ocpp_server.commands import CommandRejectedError, CommandResult, CommandTimeoutError
from ocpp_server.server import CentralSystem, NotConnectedError

router = APIRouter(prefix="/driver", tags=["driver"])
router.include_router(driver_stream.router)

SessionPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
_payments, _not_found = channels.payments, channels.not_found


def _central(context: ApiContext) -> CentralSystem:
    if context.central is None:
        raise Problem(503, "No charger link", "this engine runs without an OCPP server", "unavailable")
    return context.central


def _command_out(result: CommandResult) -> CommandOut:
    return CommandOut(status=result.status, payload=result.payload)


# Chargers ------------------------------------------------------------------------------------


@router.get("/chargers", response_model=Page[ChargerOut])
async def chargers_near(
    driver: Driver,
    context: Context,
    paging: Paging,
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude, degrees.")],
    lon: Annotated[float, Query(ge=-180, le=180, description="Longitude, degrees.")],
    radius_km: Annotated[float, Query(gt=0, le=200, description="Search radius, km.")] = 5.0,
) -> Page[ChargerOut]:
    """Enabled charge points within `radius_km`, nearest first, with live connector statuses
    and the tariff a session started now would be priced with."""
    found = await asyncio.to_thread(charge_points_near, context.payment_store.engine, lat, lon, radius_km)
    page = found[paging.offset : paging.offset + paging.limit]
    tariffs: dict[str, Tariff | None] = {}
    items = []
    for nearby in page:
        record = nearby.charge_point
        tariff_id = record.tariff_id
        if tariff_id is None and context.payments is not None:  # the engine's default tariff
            found_id = context.payments.tariff_for(record.id)
            tariff_id = found_id if isinstance(found_id, str) else await found_id
        if tariff_id is not None and tariff_id not in tariffs:
            tariffs[tariff_id] = await asyncio.to_thread(context.payment_store.tariff, tariff_id)
        online = context.central.is_connected(record.id) if context.central is not None else record.online
        assert record.latitude is not None
        assert record.longitude is not None
        items.append(
            ChargerOut(
                charge_point_id=record.id,
                site=record.site,
                latitude=record.latitude,
                longitude=record.longitude,
                distance_km=round(nearby.distance_km, 3),
                online=online,
                connectors=[
                    ConnectorOut(
                        connector_id=c.connector_id,
                        status=c.status,
                        error_code=c.error_code,
                        updated_at=c.updated_at,
                    )
                    for c in nearby.connectors
                ],
                tariff=tariffs.get(tariff_id) if tariff_id is not None else None,
            )
        )
    return Page[ChargerOut].of(items, len(found), paging)


# Channels and the operator: the routes every payer has (`payer_routes`); a driver's channel
# must pay from the one key the driver signed up with.


async def _driver_payers(context: ApiContext, account_id: str) -> list[Ed25519Address]:
    key = await asyncio.to_thread(context.api_store.driver_key_of, account_id)
    if key is None:
        raise Problem(404, "Not found", "this account no longer exists", "not-found")
    public_key = bytes.fromhex(key.public_key)
    # A weak key signed up before keys were checked pays for no channel: anyone can sign for it.
    return [Ed25519Address.from_public_key(public_key)] if pow_rs.ed25519_strong_key(public_key) else []


router.include_router(
    payer_router(
        PayerKind(
            keys="the driver's key",
            reader=Depends(current_driver),
            writer=Depends(current_driver),
            payers=_driver_payers,
            wrong_payer="the channel's payer is not your key's address",
            refund_to="the driver",
        )
    )
)


# Sessions ------------------------------------------------------------------------------------


async def _command(call: Any) -> CommandResult:
    """Run a charger command, turning its failures into problems."""
    try:
        result: CommandResult = await call()
    except NotConnectedError as error:
        raise Problem(409, "Charger offline", "the charger is not connected", "charger-offline") from error
    except CommandTimeoutError as error:
        raise Problem(
            504, "Charger silent", "the charger did not answer in time", "charger-timeout"
        ) from error
    except CommandRejectedError as error:
        raise Problem(502, "Charger error", str(error), "charger-error") from error
    return result


@router.post("/sessions", response_model=StartOut, status_code=202)
async def start_session(body: StartIn, driver: Driver, context: Context) -> StartOut:
    """Remote start on a connector, paid from one of the driver's channels.

    Refused with 409 "payment-required" before anything reaches the charger when the channel
    lacks a credit window of unspent deposit here (the rule the payment layer authorizes with).
    """
    payments, central = _payments(context), _central(context)
    record = await channels.own(context, driver.account_id, body.channel_id)
    charge_point = await asyncio.to_thread(context.charging.charge_point, body.charge_point_id)
    if charge_point is None or not charge_point.enabled:
        raise Problem(404, "Not found", f"no charger {body.charge_point_id}", "not-found")
    if not central.is_connected(charge_point.id):
        raise Problem(409, "Charger offline", "the charger is not connected", "charger-offline")
    balance = await asyncio.to_thread(accounts.channel_balance, context.payment_store, record)
    if balance.state != "open":
        raise Problem(409, "Channel closing", f"the channel is {balance.state}", "channel-closing")
    reason = await payments.check_channel(charge_point.id, driver.account_id, record.channel_id)
    if reason is not None:
        raise Problem(409, "Payment required", reason, "payment-required", channel_id=record.channel_id)
    token = accounts.app_id_token(driver.account_id)
    if not await asyncio.to_thread(context.payment_store.add_id_token, token, driver.account_id):
        # Claimed by another account before app tokens were reserved: it stays theirs.
        raise Problem(409, "Token taken", f"your app token {token} belongs to another account", "token-taken")
    # On disk before the command goes out: a restart before the charger's start loses nothing.
    await payments.pin_channel(charge_point.id, token, record.channel_id)
    try:
        result = await _command(
            lambda: central.commands(charge_point.id).remote_start(body.connector_id, token)
        )
        if not result.accepted:
            raise Problem(
                409,
                "Charger refused",
                f"the charger answered {result.status}",
                "charger-refused",
                command={"status": result.status, "payload": result.payload},
            )
    except Problem:
        await payments.pin_channel(charge_point.id, token, None)
        raise
    return StartOut(
        charge_point_id=charge_point.id,
        connector_id=body.connector_id,
        channel_id=record.channel_id,
        id_token=token,
        command=_command_out(result),
    )


async def _my_session(context: ApiContext, account_id: str, session_id: int) -> Any:
    record = await asyncio.to_thread(accounts.session_of, context.payment_store, account_id, session_id)
    if record is None:
        raise _not_found("session")
    return record


@router.post("/sessions/{session_id}/stop", response_model=StopOut, status_code=202)
async def stop_session(session_id: SessionPath, driver: Driver, context: Context) -> StopOut:
    """Remote stop; the session ends (and is priced finally) when the charger reports it."""
    central = _central(context)
    record = await _my_session(context, driver.account_id, session_id)
    if record.status != "active":
        raise Problem(409, "Session ended", "the session has ended already", "session-ended")
    result = await _command(
        lambda: central.commands(record.charge_point_id).remote_stop(record.transaction_ref)
    )
    return StopOut(session_id=record.session_id, command=_command_out(result))


@router.get("/sessions", response_model=Page[SessionOut])
async def list_sessions(driver: Driver, context: Context, paging: Paging) -> Page[SessionOut]:
    """The driver's sessions, newest first."""
    rows, total = await asyncio.to_thread(
        accounts.sessions_page, context.payment_store, driver.account_id, paging.limit, paging.offset
    )
    return Page[SessionOut].of([SessionOut.of(row) for row in rows], total, paging)


@router.get("/sessions/{session_id}", response_model=SessionOut)
async def get_session(session_id: SessionPath, driver: Driver, context: Context) -> SessionOut:
    """One session: energy, billed, paid."""
    return SessionOut.of(await _my_session(context, driver.account_id, session_id))


@router.get("/sessions/{session_id}/receipt")
async def session_receipt(session_id: SessionPath, driver: Driver, context: Context) -> dict[str, Any]:
    """The session's receipt, signed by the operator: check it offline with
    `mobility.wire.receipts.verify_receipt` and the key from `/driver/operator`. It carries
    the ledger settlement (claim block, milestone, inclusion proof) once confirmed."""
    record = await _my_session(context, driver.account_id, session_id)
    if record.status == "active":
        raise Problem(409, "Session running", "a receipt is issued once the session ends", "session-running")
    settlement = await asyncio.to_thread(accounts.settlement_of, context.payment_store, record)
    tariff = await asyncio.to_thread(context.payment_store.tariff, record.tariff_id, record.tariff_version)
    document = accounts.receipt_document(
        record, settlement, tariff.currency if tariff is not None else None, context.clock()
    )
    return sign_receipt(document, context.operator_key)
