"""The driver routes (`/driver/...`): chargers nearby, channels, remote start and stop, session
history and signed receipts. The live stream is in `driver_stream`.

Every lookup is by the caller's account as well as by ID: another driver's channel or session
answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

import pow_rs
from mobility.api import driver_stream
from mobility.api.context import ApiContext, Context, Driver
from mobility.api.driver_models import (
    ChannelIn,
    ChannelOut,
    ChargerOut,
    CommandOut,
    OperatorOut,
    SessionOut,
    StartIn,
    StartOut,
    StopOut,
)
from mobility.api.pagination import Page, Paging
from mobility.api.problems import Problem
from mobility.api.schemas import ConnectorOut
from mobility.charging.nearby import charge_points_near
from mobility.ledger.client import InProcessClient
from mobility.ledger.codec import ChannelOutput, CodecError, Ed25519Address, output_from_bytes
from mobility.payments import accounts
from mobility.payments.models import ChannelRecord
from mobility.payments.receipts import sign_receipt
from mobility.payments.service import PaymentService
from mobility.payments.store import PaymentStore
from mobility.payments.tariff import Tariff
from ocpp_server.commands import CommandRejectedError, CommandResult, CommandTimeoutError
from ocpp_server.server import CentralSystem, NotConnectedError

router = APIRouter(prefix="/driver", tags=["driver"])
router.include_router(driver_stream.router)

ChannelPath = Annotated[str, Path(pattern=r"^[0-9a-fA-F]{64}$", description="Channel ID, hex.")]
SessionPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _not_found(what: str) -> Problem:
    return Problem(404, "Not found", f"no such {what} of yours", "not-found")


def _payments(context: ApiContext) -> PaymentService:
    if context.payments is None:
        raise Problem(503, "Payments disabled", "this engine runs without payments", "unavailable")
    return context.payments


def _central(context: ApiContext) -> CentralSystem:
    if context.central is None:
        raise Problem(503, "No charger link", "this engine runs without an OCPP server", "unavailable")
    return context.central


def _writer(context: ApiContext) -> PaymentStore:
    """The store the payment service works on (its voucher cache must see channel changes)."""
    return context.payments.store if context.payments is not None else context.payment_store


def _operator_address(context: ApiContext) -> Ed25519Address:
    return Ed25519Address.from_bytes(bytes(pow_rs.ed25519_address(context.operator_key.public_key)))


async def _channel_view(context: ApiContext, record: ChannelRecord) -> ChannelOut:
    balance = await asyncio.to_thread(accounts.channel_balance, context.payment_store, record)
    return ChannelOut.of(balance)


async def _my_channel(context: ApiContext, account_id: str, channel_id: str) -> ChannelRecord:
    record = await asyncio.to_thread(accounts.channel_of, context.payment_store, account_id, channel_id)
    if record is None:
        raise _not_found("channel")
    return record


def _command_out(result: CommandResult) -> CommandOut:
    return CommandOut(status=result.status, payload=result.payload)


# Operator and chargers -----------------------------------------------------------------------


@router.get("/operator", response_model=OperatorOut)
async def operator_info(driver: Driver, context: Context) -> OperatorOut:
    """The operator's key and address: channels are opened to it, receipts are signed by it."""
    address = _operator_address(context)
    return OperatorOut(
        public_key=context.operator_key.public_key.hex(),
        address=address.to_bytes().hex(),
        address_bech32=address.bech32(context.node.params.bech32_hrp),
    )


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


# Channels ------------------------------------------------------------------------------------


async def _read_ledger_channel(context: ApiContext, channel_id: str) -> ChannelOutput:
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


def _expiry(output: ChannelOutput) -> datetime:
    return datetime.fromtimestamp(output.expiry, UTC)


@router.post(
    "/channels",
    response_model=ChannelOut,
    status_code=201,
    responses={200: {"description": "registered already", "model": ChannelOut}},
)
async def register_channel(
    body: ChannelIn, driver: Driver, context: Context, response: Response
) -> ChannelOut:
    """Register a channel the driver opened on the ledger: accepted only if it pays from the
    driver's key to the operator and has not expired or begun closing."""
    channel_id = body.channel_id.lower()
    output = await _read_ledger_channel(context, channel_id)
    key = await asyncio.to_thread(context.api_store.driver_key_of, driver.account_id)
    if key is None:
        raise Problem(404, "Not found", "this account no longer exists", "not-found")
    if output.payer != Ed25519Address.from_public_key(bytes.fromhex(key.public_key)):
        raise Problem(409, "Not your channel", "the channel's payer is not your key's address", "wrong-payer")
    if output.payee != _operator_address(context):
        raise Problem(409, "Wrong payee", "the channel does not pay this operator", "wrong-payee")
    if output.settle_deadline:
        raise Problem(409, "Channel closing", "the channel is in its settle window", "channel-closing")
    if _expiry(output) <= context.clock():
        raise Problem(409, "Channel expired", "the channel's expiry has passed", "channel-expired")
    store = _writer(context)
    existing = await asyncio.to_thread(store.channel, channel_id)
    if existing is not None:
        if existing.account_id != driver.account_id:  # cannot happen: one key, one account
            raise Problem(409, "Registered elsewhere", "another account holds this channel", "conflict")
        response.status_code = 200
        await asyncio.to_thread(store.update_channel_terms, channel_id, output.deposit, _expiry(output))
    else:
        record = ChannelRecord(
            channel_id=channel_id,
            account_id=driver.account_id,
            payer_address=output.payer.to_bytes().hex(),
            deposit=output.deposit,
            claimed=output.claimed,
            paid=output.claimed,
            expiry=_expiry(output),
        )
        await asyncio.to_thread(store.add_channel, record)
    return await _channel_view(context, await _my_channel(context, driver.account_id, channel_id))


@router.get("/channels", response_model=Page[ChannelOut])
async def list_channels(driver: Driver, context: Context, paging: Paging) -> Page[ChannelOut]:
    """The driver's channels, soonest expiry first, with their balances."""
    rows, total = await asyncio.to_thread(
        accounts.channels_page, context.payment_store, driver.account_id, paging.limit, paging.offset
    )
    return Page[ChannelOut].of([await _channel_view(context, row) for row in rows], total, paging)


@router.get("/channels/{channel_id}", response_model=ChannelOut)
async def get_channel(channel_id: ChannelPath, driver: Driver, context: Context) -> ChannelOut:
    """One channel: deposit, paid, claimed, owed, available."""
    return await _channel_view(context, await _my_channel(context, driver.account_id, channel_id))


@router.post("/channels/{channel_id}/refresh", response_model=ChannelOut)
async def refresh_channel(channel_id: ChannelPath, driver: Driver, context: Context) -> ChannelOut:
    """Re-read the deposit and expiry from the ledger after a top-up."""
    record = await _my_channel(context, driver.account_id, channel_id)
    output = await _read_ledger_channel(context, record.channel_id)
    await asyncio.to_thread(
        _writer(context).update_channel_terms, record.channel_id, output.deposit, _expiry(output)
    )
    return await _channel_view(context, await _my_channel(context, driver.account_id, channel_id))


@router.post("/channels/{channel_id}/close", response_model=ChannelOut, status_code=202)
async def close_channel(channel_id: ChannelPath, driver: Driver, context: Context) -> ChannelOut:
    """Ask the operator to claim what the vouchers pay and close the channel, refunding the rest
    to the driver. The claim goes through settlement; watch `state` become "closed"."""
    _payments(context)
    record = await _my_channel(context, driver.account_id, channel_id)
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
    return await _channel_view(context, record)


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
    record = await _my_channel(context, driver.account_id, body.channel_id)
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
    await asyncio.to_thread(context.payment_store.add_id_token, token, driver.account_id)
    payments.pin_channel(charge_point.id, token, record.channel_id)
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
        payments.pin_channel(charge_point.id, token, None)
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
    `mobility.payments.receipts.verify_receipt` and the key from `/driver/operator`. It carries
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
