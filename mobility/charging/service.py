"""The async face of `mobility.charging`: what `ocpp_server` adapters call, version-neutrally.

Database work runs in a worker thread so the event loop never blocks on disk. Each state
change is published once, as an event, to every subscriber (in the engine, the payment layer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol

from mobility.charging.authorization import (
    AllowListAuthorizer,
    AuthorizationResult,
    Authorizer,
    RegistrationStatus,
)
from mobility.charging.events import (
    ChargePointOffline,
    ChargePointOnline,
    ChargingEvent,
    ConnectorStatusChanged,
    EndReason,
    MeterReading,
    SessionEnded,
    SessionStarted,
)
from mobility.charging.models import ChargePointRecord, SessionRecord
from mobility.charging.passwords import PasswordHasher
from mobility.charging.store import ChargingStore, ReadingOutcome, ReadingRequest
from mobility.clock import Clock, utc_now
from mobility.journal import FunctionBatch, Journal

LOGGER = logging.getLogger(__name__)
Subscriber = Callable[[ChargingEvent], Awaitable[None]]


class RegisterValue(Protocol):
    """One import-register value read out of a message (the OCPP adapters' samples)."""

    @property
    def register_wh(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def context(self) -> str | None: ...


class ChargingService:
    """Charge points, sessions and energy, behind an async API with event fan-out."""

    def __init__(
        self,
        store: ChargingStore,
        authorizer: Authorizer | None = None,
        clock: Clock = utc_now,
        journal: Journal | None = None,
        passwords: PasswordHasher | None = None,
    ) -> None:
        self.store = store
        self.passwords = passwords or PasswordHasher()
        self.authorizer: Authorizer = authorizer or AllowListAuthorizer()
        self.clock = clock
        self._subscribers: list[Subscriber] = []
        # Readings, seqNos and raw frames arrive at volume: those that come together share one
        # commit, with whatever else the engine's writers have pending (the journal).
        self.journal = journal or Journal(store.engine)
        self._readings = FunctionBatch("readings", store.write_readings)
        self._seq_nos = FunctionBatch("seq_nos", store.write_seq_nos)
        self._flags = FunctionBatch("session_flags", store.write_flags)

    def subscribe(self, subscriber: Subscriber) -> None:
        """Receive every event from now on, in order."""
        self._subscribers.append(subscriber)

    async def _publish(self, event: ChargingEvent) -> None:
        for subscriber in self._subscribers:
            try:
                await subscriber(event)
            except Exception:
                LOGGER.exception("subscriber failed on %r", event)

    # Charge points -----------------------------------------------------------------------

    async def charge_point(self, charge_point_id: str) -> ChargePointRecord | None:
        """The registered charge point, or None."""
        return await asyncio.to_thread(self.store.charge_point, charge_point_id)

    async def admit_unknown(self, charge_point_id: str, pending: bool = False) -> ChargePointRecord:
        """Register an unknown charge point on first connection: accepted outright (development,
        simulator) or `pending` an operator's approval."""
        record = await asyncio.to_thread(self.store.ensure_charge_point, charge_point_id, pending)
        LOGGER.warning(
            "charge point %s admitted unknown%s: no password, operator or tariff until an operator "
            "claims it (POST /operator/chargers)",
            charge_point_id,
            " (pending approval)" if pending else "",
        )
        return record

    async def check_password(self, record: ChargePointRecord, password: str) -> bool:
        """Basic-auth check; scrypt is slow on purpose, so it runs on the hasher's own threads
        (`BusyError` when they are full), never the database's."""
        if record.password_hash is None:
            return True
        return await self.passwords.verify(password, record.password_hash)

    async def connected(self, charge_point_id: str, protocol: str) -> None:
        """A charge point is online with `protocol`."""
        at = self.clock()
        await asyncio.to_thread(self.store.set_online, charge_point_id, True, protocol, at)
        await self._publish(ChargePointOnline(charge_point_id, protocol, at))

    async def disconnected(self, charge_point_id: str) -> None:
        """A charge point went offline."""
        at = self.clock()
        await asyncio.to_thread(self.store.set_online, charge_point_id, False, None, at)
        await self._publish(ChargePointOffline(charge_point_id, at))

    async def booted(
        self, charge_point_id: str, vendor: str, model: str, firmware: str | None
    ) -> RegistrationStatus:
        """Record a boot: Accepted, Pending (awaiting approval) or Rejected (disabled)."""
        return await asyncio.to_thread(
            self.store.record_boot, charge_point_id, vendor, model, firmware, self.clock()
        )

    async def authorize(self, charge_point_id: str, id_token: str) -> AuthorizationResult:
        """Ask the authorizer whether `id_token` may charge here."""
        return await self.authorizer.authorize(charge_point_id, id_token)

    async def authorize_in_session(
        self, charge_point_id: str, id_token: str, session_id: int
    ) -> AuthorizationResult:
        """Whether `id_token` may go on charging in the session it started; an authorizer that
        knows sessions (the payment layer) answers for that session, others as for a new one."""
        by_session = getattr(self.authorizer, "authorize_session", None)
        if by_session is None:
            return await self.authorize(charge_point_id, id_token)
        result: AuthorizationResult = await by_session(session_id, charge_point_id, id_token)
        return result

    async def connector_status(
        self, charge_point_id: str, connector_id: int, status: str, error_code: str | None, at: datetime
    ) -> None:
        """Store a connector status; publish only when it changed."""
        changed = await asyncio.to_thread(
            self.store.set_connector_status, charge_point_id, connector_id, status, error_code, at
        )
        if changed:
            await self._publish(ConnectorStatusChanged(charge_point_id, connector_id, status, error_code, at))

    # Sessions ----------------------------------------------------------------------------

    async def start_session(
        self,
        charge_point_id: str,
        connector_id: int,
        id_token: str | None,
        meter_start_wh: int | None,
        at: datetime,
        transaction_ref: str | None = None,
    ) -> SessionRecord:
        """Open (or, for a replayed start, find) a session; publish SessionStarted once."""
        session, created = await asyncio.to_thread(
            self.store.start_session,
            charge_point_id,
            connector_id,
            id_token,
            meter_start_wh,
            at,
            transaction_ref,
        )
        if created:
            assert session.id is not None
            await self._publish(
                SessionStarted(
                    session.id,
                    charge_point_id,
                    connector_id,
                    session.transaction_ref,
                    id_token,
                    session.meter_start_wh,
                    at,
                )
            )
        return session

    async def meter_readings(
        self,
        charge_point_id: str,
        connector_id: int,
        samples: Sequence[RegisterValue],
        transaction_ref: str | None = None,
        seq_no: int | None = None,
    ) -> list[ReadingOutcome]:
        """Store a message's register readings (and a 2.x event's seqNo), in order, in one
        commit: everything is queued on the journal at once, so it lands in one batch."""
        requests = [
            ReadingRequest(
                charge_point_id, connector_id, sample.register_wh, sample.at, transaction_ref, sample.context
            )
            for sample in samples
        ]
        pending = [self.journal.submit(self._readings, request) for request in requests]
        if seq_no is not None and transaction_ref is not None:
            seq = self.journal.submit(self._seq_nos, (charge_point_id, transaction_ref, seq_no))
            self._note_skipped(transaction_ref, charge_point_id, seq_no, await seq)
        outcomes = [await future for future in pending]
        for request, outcome in zip(requests, outcomes, strict=True):
            await self._published(request, outcome)
        return outcomes

    async def _published(self, request: ReadingRequest, outcome: ReadingOutcome) -> None:
        at, register_wh = request.at, request.register_wh
        event = MeterReading(
            request.charge_point_id,
            request.connector_id,
            outcome.session_id,
            register_wh,
            outcome.energy_wh,
            at,
        )
        await self._publish(event)
        if outcome.newly_flagged:
            LOGGER.warning("session %s flagged: %s", outcome.session_id, outcome.flag_reason)

    async def end_session(
        self,
        charge_point_id: str,
        transaction_ref: str,
        meter_stop_wh: int | None,
        at: datetime,
        reason: EndReason,
        connector_id: int = 0,
    ) -> SessionRecord:
        """Close a session exactly once (replays are no-ops); publish SessionEnded once."""
        session, closed = await asyncio.to_thread(
            self.store.end_session,
            charge_point_id,
            transaction_ref,
            meter_stop_wh,
            at,
            reason.value,
            connector_id,
        )
        if closed:
            assert session.id is not None
            await self._publish(
                SessionEnded(
                    session.id,
                    charge_point_id,
                    session.connector_id,
                    transaction_ref,
                    session.energy_wh,
                    reason,
                    session.flagged,
                    at,
                )
            )
        return session

    def flag_session(self, session_id: int, reason: str) -> None:
        """Flag a session for an operator's look (the payment layer could not price it), with the
        journal's next batch (not waited for): through the journal, so a batch of readings in
        flight cannot write the old flag back over it."""
        self.journal.append(self._flags, (session_id, reason))

    async def session_by_ref(self, charge_point_id: str, transaction_ref: str) -> SessionRecord | None:
        """The session a charge point knows by `transaction_ref`."""
        return await asyncio.to_thread(self.store.session_by_ref, charge_point_id, transaction_ref)

    @staticmethod
    def _note_skipped(transaction_ref: str, charge_point_id: str, seq_no: int, skipped: int) -> None:
        if skipped:
            LOGGER.warning(
                "%s transaction %s: %d event(s) missing before seqNo %d",
                charge_point_id,
                transaction_ref,
                skipped,
                seq_no,
            )

    async def device_events(
        self, charge_point_id: str, generated_at: datetime, seq_no: int, events: str
    ) -> None:
        """Store a device-model event report (JSON text); nothing acts on these yet."""
        await asyncio.to_thread(self.store.add_device_events, charge_point_id, generated_at, seq_no, events)
