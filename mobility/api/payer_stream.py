"""The payer's live stream, shared by drivers (`/driver/stream`) and fleets (`/fleet/stream`).

Both answer the same payment layer in the same way; only how the stream authenticates differs
(a driver's bearer token, a fleet's API key), so each route authenticates and then hands the
socket to `serve` with the payer account it is for. Messages, once authenticated:

- `{"type": "ready", "account_id"}`;
- `{"type": "session", ...}` when one of the account's sessions starts, meters or ends: energy
  (Wh), power (W, from the last two readings), cost so far, and the channel's credit left;
- `{"type": "payment_request", ...}` from the payment layer: sign a voucher for `amount`
  (cumulative on `channel_id`), while sessions run and once more after one ends owing its
  final bill (`session_ids` then names the ended session);
- `{"type": "voucher_result", "accepted", ...}` answering each voucher sent as
  `{"type": "voucher", "voucher": "<hex of the wire form>"}` or with the fields
  `channel_id, nonce, amount, public_key, signature`; an optional `id` is echoed back. Only
  vouchers for the account's own channels are taken.
- `{"type": "error", "detail"}` for a message the server could not read.

A client that does not keep up (its outbox full) is disconnected with 1013 and may reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from mobility import bounded_json
from mobility.api.context import ApiContext
from mobility.api.problems import Problem
from mobility.payments.service import PaymentRequest, SessionUpdate
from mobility.payments.vouchers import VoucherRejectedError, VoucherRejection
from mobility.wire.codec import CodecError
from mobility.wire.payer_api import AuthMessage, PaymentRequestMessage, VoucherMessage

LOGGER = logging.getLogger(__name__)
OUTBOX_LIMIT = 1_000
AUTH_TIMEOUT_S = 30.0


@dataclass(eq=False)
class _Connection:
    account_id: str
    outbox: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(OUTBOX_LIMIT))
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)

    def push(self, message: dict[str, Any]) -> None:
        try:
            self.outbox.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed.set()


class PayerHub:
    """Fans the payment layer's requests and the charging events of each payer's sessions out
    to that payer's open streams (drivers' and fleets' alike: a channel's account is whoever
    registered it). One per app: the services have no unsubscribe, so the hub subscribes once
    and keeps the set of connections itself."""

    def __init__(self, context: ApiContext) -> None:
        self.context = context
        self._connections: dict[str, set[_Connection]] = {}
        self._owners: dict[str, str | None] = {}  # channel -> account (owners never change)
        self._last: dict[int, tuple[datetime, int]] = {}  # session -> last (time, energy Wh)

    def attach(self) -> None:
        """Subscribe to the payment layer's requests and session updates."""
        if self.context.payments is not None:
            self.context.payments.subscribe(self.on_request)
            self.context.payments.subscribe_updates(self.on_update)

    def connect(self, account_id: str) -> _Connection:
        connection = _Connection(account_id)
        self._connections.setdefault(account_id, set()).add(connection)
        return connection

    def disconnect(self, connection: _Connection) -> None:
        mine = self._connections.get(connection.account_id)
        if mine is not None:
            mine.discard(connection)
            if not mine:
                del self._connections[connection.account_id]

    async def owner(self, channel_id: str) -> str | None:
        """The account a channel belongs to (cached: a channel never changes hands)."""
        if channel_id not in self._owners:
            record = await asyncio.to_thread(self.context.payment_store.channel, channel_id)
            if record is None:
                return None
            self._owners[channel_id] = record.account_id
        return self._owners[channel_id]

    def _send(self, account_id: str | None, message: dict[str, Any]) -> None:
        for connection in self._connections.get(account_id or "", ()):
            connection.push(message)

    async def on_request(self, request: PaymentRequest) -> None:
        """A payment request: to the channel owner's streams."""
        if not self._connections:
            return
        owner = await self.owner(request.channel_id)
        message = PaymentRequestMessage(
            type="payment_request",
            channel_id=request.channel_id,
            session_ids=list(request.session_ids),
            amount=request.amount,
            owed=request.owed,
            paid=request.paid,
            action=request.action.value,
            reason=request.reason.value if request.reason is not None else None,
        )
        self._send(owner, message.model_dump())

    def on_update(self, update: SessionUpdate) -> None:
        """A session's state after the payment layer applied an event: to the payer's streams.
        Sent as the channel's owner holds it, so the stream reads nothing from the database."""
        self._owners.setdefault(update.session.channel_id, update.account_id)
        self._push_update(update.account_id, update)

    def _push_update(self, owner: str, update: SessionUpdate) -> None:
        record = update.session
        session_id = record.session_id
        if owner not in self._connections:
            self._last.pop(session_id, None)  # nobody listens: nothing to compute power against
            return
        if update.event == "SessionEnded":
            previous = self._last.pop(session_id, None)
        else:
            previous = self._last.get(session_id)
            self._last[session_id] = (update.at, record.energy_wh)
        power_w: int | None = None
        if update.event == "SessionEnded":
            power_w = 0
        elif update.event == "MeterReading" and previous is not None:
            seconds = (update.at - previous[0]).total_seconds()
            if seconds > 0:
                power_w = round((record.energy_wh - previous[1]) * 3600 / seconds)
        self._send(
            owner,
            {
                "type": "session",
                "event": update.event,
                "session_id": session_id,
                "charge_point_id": record.charge_point_id,
                "connector_id": record.connector_id,
                "channel_id": record.channel_id,
                "status": record.status,
                "energy_wh": record.energy_wh,
                "power_w": power_w,
                "cost": record.billed,
                "paid": update.paid,
                "credit": update.paid - update.owed,
                "available": update.available,
                "at": update.at.isoformat(),
            },
        )


def hub(app: FastAPI, context: ApiContext) -> PayerHub:
    """The app's one hub (made and subscribed on first use)."""
    found: PayerHub | None = getattr(app.state, "payer_hub", None)
    if found is None:
        found = PayerHub(context)
        found.attach()
        app.state.payer_hub = found
    return found


async def accept_with_token(websocket: WebSocket, token: str | None) -> str | None:
    """Accept the stream; the credential from `?token=`, else from the first message
    `{"type": "auth", "token"}` (browsers cannot set headers on a websocket); None after closing
    with 4401."""
    await websocket.accept()
    if token is not None:
        return token
    try:
        async with asyncio.timeout(AUTH_TIMEOUT_S):
            return AuthMessage.model_validate(await _receive_json(websocket)).token
    except (TimeoutError, ValidationError, ValueError, KeyError):
        await websocket.close(4401, 'send {"type": "auth", "token": ...} first')
        return None


Authenticate = Callable[[ApiContext, str], Awaitable[tuple[str, str | None]]]
"""Reads a stream's credential: the payer account it is for, and why vouchers on it are refused
(None: it may pay); raises a `Problem` (401, 403) for a credential it does not take."""


async def open_stream(websocket: WebSocket, token: str | None, authenticate: Authenticate) -> None:
    """Accept a payer's stream, authenticate it, and serve it until the client leaves. A refused
    credential closes it with 4000 + the problem's status (4401, 4403), its detail the reason."""
    context: ApiContext = websocket.app.state.context
    token = await accept_with_token(websocket, token)
    if token is None:
        return
    try:
        account_id, refusal = await authenticate(context, token)
    except Problem as problem:
        await websocket.close(4000 + problem.status, (problem.detail or problem.title)[:120])
        return
    await serve(websocket, account_id, refusal)


async def _receive_json(websocket: WebSocket) -> Any:
    """The next text message as JSON, its nesting bounded (`bounded_json`: 200 KB of `[[[[`
    raised RecursionError, and the stream closed with 1011); ValueError or KeyError if it is not
    JSON text."""
    return bounded_json.loads(await websocket.receive_text())


async def _voucher(hub: PayerHub, account_id: str, raw: Any, refusal: str | None) -> dict[str, Any]:
    """Answer one voucher message (`refusal`: why this stream may not pay at all, if so)."""
    try:
        message = VoucherMessage.model_validate(raw)
    except ValidationError as error:
        return {"type": "error", "detail": str(error)}
    answer: dict[str, Any] = {"type": "voucher_result", "id": message.id, "accepted": False}
    try:
        payload = message.payload()
    except (CodecError, ValueError) as error:
        return {**answer, "reason": VoucherRejection.MALFORMED.value, "detail": str(error)}
    channel_id = payload.voucher.channel_id.hex()
    answer.update(channel_id=channel_id, nonce=payload.voucher.nonce, amount=payload.voucher.amount)
    if await hub.owner(channel_id) != account_id:
        return {
            **answer,
            "reason": VoucherRejection.WRONG_CHANNEL.value,
            "detail": "not one of your channels",
        }
    if refusal is not None:
        return {**answer, "reason": "forbidden", "detail": refusal}
    payments = hub.context.payments
    if payments is None:
        return {**answer, "reason": "unavailable", "detail": "payments are disabled"}
    try:
        paid = await payments.submit_voucher(payload)
    except VoucherRejectedError as refused:
        return {**answer, "reason": refused.reason.value, "detail": refused.detail}
    return {**answer, "accepted": True, "paid": paid}


async def serve(websocket: WebSocket, account_id: str, refusal: str | None = None) -> None:
    """Run an accepted, authenticated stream for `account_id` until the client leaves.

    `refusal`, when given, is why vouchers on this stream are refused (a read-only fleet key):
    the stream still shows sessions and payment requests.
    """
    context: ApiContext = websocket.app.state.context
    payer_hub = hub(websocket.app, context)
    connection = payer_hub.connect(account_id)
    connection.push({"type": "ready", "account_id": account_id})

    async def send_all() -> None:
        while True:
            await websocket.send_json(await connection.outbox.get())

    async def watch_overflow() -> None:
        await connection.overflowed.wait()
        await websocket.close(1013, "too slow: reconnect")

    tasks = [asyncio.create_task(send_all()), asyncio.create_task(watch_overflow())]
    try:
        while True:
            try:
                raw = await _receive_json(websocket)
            except (ValueError, KeyError):
                connection.push({"type": "error", "detail": "send JSON text messages"})
                continue
            if isinstance(raw, dict) and raw.get("type") == "voucher":
                connection.push(await _voucher(payer_hub, account_id, raw, refusal))
            else:
                connection.push({"type": "error", "detail": 'unknown message; expected type "voucher"'})
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client left (or the socket closed under us after an overflow)
    finally:
        payer_hub.disconnect(connection)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
