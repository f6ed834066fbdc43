"""Blocking database operations of `mobility.charging`; the service runs them in a thread.

Each method is one short transaction, and each state change is idempotent on its natural
key (transaction reference, connector), which is what makes offline replays apply once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from sqlalchemy import Connection, Engine, bindparam, delete, func, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from mobility.charging.authorization import RegistrationStatus
from mobility.charging.energy import apply_register
from mobility.charging.models import (
    ChargePointRecord,
    ConnectorRecord,
    DeviceEventRecord,
    MessageLogRecord,
    MeterReadingRecord,
    SessionRecord,
)
from mobility.charging.passwords import hash_password
from mobility.driver_sql import bind_processor, bulk_insert, driver_executemany


@dataclass(frozen=True, slots=True)
class EnergyLimits:
    """Plausibility bounds for register jumps (see `energy.apply_register`)."""

    max_power_w: int = 1_000_000
    slack_wh: int = 1_000


@dataclass(frozen=True, slots=True)
class ReadingRequest:
    """One register reading to store."""

    charge_point_id: str
    connector_id: int
    register_wh: int
    at: datetime
    transaction_ref: str | None = None
    context: str | None = None


@dataclass(frozen=True, slots=True)
class ReadingOutcome:
    """Where a reading went: the session (if any) and its energy right after this reading."""

    session_id: int | None
    energy_wh: int | None
    newly_flagged: bool
    flag_reason: str | None


class _SessionState(Protocol):
    """The energy fields `_advance` works on: a `SessionRecord` or a `_LiveSession`."""

    meter_start_wh: int
    meter_start_known: bool
    last_register_wh: int
    last_reading_at: datetime
    energy_wh: int
    flagged: bool
    flag_reason: str | None


_SESSION_TABLE = SQLModel.metadata.tables["charging_session"]
_LIVE_COLUMNS = [
    _SESSION_TABLE.c[name]
    for name in (
        "id",
        "charge_point_id",
        "transaction_ref",
        "meter_start_wh",
        "meter_start_known",
        "last_register_wh",
        "last_reading_at",
        "energy_wh",
        "ended_at",
        "flagged",
        "flag_reason",
    )
]


@dataclass(slots=True)
class _LiveSession:
    """A session's energy state, read and written with Core on the readings hot path."""

    UPDATED: ClassVar[tuple[str, ...]] = (
        "meter_start_wh",
        "meter_start_known",
        "last_register_wh",
        "last_reading_at",
        "energy_wh",
        "flagged",
        "flag_reason",
    )

    id: int
    meter_start_wh: int
    meter_start_known: bool
    last_register_wh: int
    last_reading_at: datetime
    energy_wh: int
    ended: bool
    flagged: bool
    flag_reason: str | None
    dirty: bool = False

    @classmethod
    def of(cls, row: Any) -> _LiveSession:
        return cls(
            row.id,
            row.meter_start_wh,
            row.meter_start_known,
            row.last_register_wh,
            row.last_reading_at,
            row.energy_wh,
            row.ended_at is not None,
            row.flagged,
            row.flag_reason,
        )

    def changes(self, time: Callable[[datetime], object]) -> tuple[object, ...]:
        """The UPDATED values and the ID, in the driver's terms (`_UPDATE_LIVE_SESSION`)."""
        return (
            self.meter_start_wh,
            self.meter_start_known,
            self.last_register_wh,
            time(self.last_reading_at),
            self.energy_wh,
            self.flagged,
            self.flag_reason,
            self.id,
        )


_UPDATE_LIVE_SESSION = "UPDATE {table} SET {columns} WHERE id = ?".format(
    table=_SESSION_TABLE.name, columns=", ".join(f"{name} = ?" for name in _LiveSession.UPDATED)
)
_READING_TABLE = SQLModel.metadata.tables["charging_meter_reading"]
_READING_COLUMNS = ("charge_point_id", "connector_id", "session_id", "register_wh", "context", "taken_at")
_FRAME_TABLE = SQLModel.metadata.tables["charging_message_log"]
_FRAME_COLUMNS = ("charge_point_id", "direction", "frame", "at")


@dataclass(frozen=True, slots=True)
class ChargerSpec:
    """A charge point an operator registers; its password already hashed (`hash_password`), so
    the hashing runs where the caller chooses, off the database's worker threads."""

    charge_point_id: str
    password_hash: str
    site: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    tariff_id: str | None = None


def unclaimed(record: ChargePointRecord) -> bool:
    """Admitted unknown (MOBILITY_ACCEPT_UNKNOWN_CHARGERS) and nobody's yet: no operator, and no
    password (or pending approval). One registered with a password but no operator (by the CLI)
    is not: someone chose its credentials."""
    return record.operator_id is None and (record.pending or record.password_hash is None)


class ChargingStore:
    """Charge points, connectors, sessions, readings and the raw log, over one engine."""

    def __init__(self, engine: Engine, limits: EnergyLimits | None = None, log_keep: int = 1000) -> None:
        self._engine = engine
        self._limits = limits or EnergyLimits()
        self._log_keep = log_keep
        self._log_growth: dict[str, int] = {}

    @property
    def engine(self) -> Engine:
        """The database this store works on."""
        return self._engine

    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    # Charge points -----------------------------------------------------------------------

    def register_charge_point(self, charge_point_id: str, password: str | None, enabled: bool = True) -> None:
        """Create or update a charge point; a None password means no Basic auth."""
        with self._session() as db:
            record = db.get(ChargePointRecord, charge_point_id) or ChargePointRecord(id=charge_point_id)
            record.password_hash = hash_password(password) if password is not None else None
            record.enabled = enabled
            record.pending = False
            db.add(record)
            db.commit()

    def ensure_charge_point(self, charge_point_id: str, pending: bool = False) -> ChargePointRecord:
        """The charge point, registered without a password (and `pending`) if it was unknown."""
        with self._session() as db:
            record = db.get(ChargePointRecord, charge_point_id)
            if record is None:
                record = ChargePointRecord(id=charge_point_id, pending=pending)
                db.add(record)
                db.commit()
            return record

    def claim_charge_point(self, operator_id: str, spec: ChargerSpec) -> ChargePointRecord | None:
        """Register a charge point for `operator_id`, or let the operator claim one that
        connected unknown (`unclaimed`); None if the ID is taken otherwise."""
        fields: dict[str, Any] = {
            "password_hash": spec.password_hash,
            "operator_id": operator_id,
            "site": spec.site,
            "latitude": spec.latitude,
            "longitude": spec.longitude,
            "tariff_id": spec.tariff_id,
            "pending": False,
        }
        with self._session() as db:
            record = db.get(ChargePointRecord, spec.charge_point_id, with_for_update=True)
            if record is None:
                record = ChargePointRecord(id=spec.charge_point_id, **fields)
            elif unclaimed(record):
                for name, value in fields.items():
                    setattr(record, name, value)
            else:
                return None
            db.add(record)
            try:
                db.commit()
            except IntegrityError:  # registered concurrently
                return None
        return record

    def update_owned_charge_point(
        self, operator_id: str, charge_point_id: str, changes: dict[str, Any]
    ) -> bool:
        """Set the given columns of the operator's charge point; False if it is not theirs."""
        with self._session() as db:
            record = db.get(ChargePointRecord, charge_point_id)
            if record is None or record.operator_id != operator_id:
                return False
            for name, value in changes.items():
                setattr(record, name, value)
            db.add(record)
            db.commit()
            return True

    def unclaimed_charge_points(self) -> list[str]:
        """Charge points admitted unknown that no operator has claimed yet (no operator, no
        password), by ID."""
        with self._session() as db:
            query = select(ChargePointRecord.id).where(
                col(ChargePointRecord.operator_id).is_(None), col(ChargePointRecord.password_hash).is_(None)
            )
            return sorted(db.exec(query).all())

    def charge_point(self, charge_point_id: str) -> ChargePointRecord | None:
        """The charge point, or None if unknown."""
        with self._session() as db:
            return db.get(ChargePointRecord, charge_point_id)

    def set_online(self, charge_point_id: str, online: bool, protocol: str | None, at: datetime) -> None:
        """Record connection state and the negotiated protocol."""
        with self._session() as db:
            record = db.get(ChargePointRecord, charge_point_id)
            if record is None:
                return
            record.online = online
            if protocol is not None:
                record.protocol = protocol
            record.last_seen = at
            db.add(record)
            db.commit()

    def record_boot(
        self, charge_point_id: str, vendor: str, model: str, firmware: str | None, at: datetime
    ) -> RegistrationStatus:
        """Store what the charge point says it is; whether it may operate."""
        with self._session() as db:
            record = db.get(ChargePointRecord, charge_point_id)
            if record is None:
                return RegistrationStatus.REJECTED
            record.vendor, record.model, record.firmware_version = vendor[:50], model[:50], firmware
            record.last_seen = at
            db.add(record)
            db.commit()
            if not record.enabled:
                return RegistrationStatus.REJECTED
            return RegistrationStatus.PENDING if record.pending else RegistrationStatus.ACCEPTED

    def set_connector_status(
        self, charge_point_id: str, connector_id: int, status: str, error_code: str | None, at: datetime
    ) -> bool:
        """Upsert a connector's status; True if it changed."""
        with self._session() as db:
            record = db.get(ConnectorRecord, (charge_point_id, connector_id))
            if record is not None and (record.status, record.error_code) == (status, error_code):
                return False
            record = record or ConnectorRecord(
                charge_point_id=charge_point_id, connector_id=connector_id, status=status, updated_at=at
            )
            record.status, record.error_code, record.updated_at = status, error_code, at
            db.add(record)
            db.commit()
            return True

    def connector(self, charge_point_id: str, connector_id: int) -> ConnectorRecord | None:
        """A connector's last known status."""
        with self._session() as db:
            return db.get(ConnectorRecord, (charge_point_id, connector_id))

    # Sessions ----------------------------------------------------------------------------

    def start_session(
        self,
        charge_point_id: str,
        connector_id: int,
        id_token: str | None,
        meter_start_wh: int | None,
        at: datetime,
        transaction_ref: str | None = None,
    ) -> tuple[SessionRecord, bool]:
        """Open a session; returns it and whether it is new.

        With a `transaction_ref` (2.x) an existing session with that ref is returned as is.
        Without one (1.6), the session's own ID becomes its ref, as 1.6 wants an integer, and a
        retransmitted start (same connector, meter start and time) finds the first one.
        A None `meter_start_wh` (2.x start without a reading) takes the first register seen.
        """
        with self._session() as db:
            existing = (
                self._by_ref(db, charge_point_id, transaction_ref)
                if transaction_ref is not None
                else self._same_start(db, charge_point_id, connector_id, meter_start_wh, at)
            )
            if existing is not None:
                return existing, False
            record = SessionRecord(
                charge_point_id=charge_point_id,
                connector_id=connector_id,
                transaction_ref=transaction_ref or f"pending-{uuid.uuid4().hex}",
                id_token=id_token,
                meter_start_wh=meter_start_wh or 0,
                meter_start_known=meter_start_wh is not None,
                last_register_wh=meter_start_wh or 0,
                started_at=at,
                last_reading_at=at,
            )
            db.add(record)
            db.flush()
            if transaction_ref is None:
                record.transaction_ref = str(record.id)
                db.add(record)
            db.commit()
            return record, True

    def ended_sessions(self, session_ids: list[int]) -> dict[int, tuple[int, datetime]]:
        """(final energy Wh, end time) of those of `session_ids` that have ended."""
        if not session_ids:
            return {}
        with self._session() as db:
            rows = db.exec(
                select(SessionRecord.id, SessionRecord.energy_wh, SessionRecord.ended_at).where(
                    col(SessionRecord.id).in_(session_ids), col(SessionRecord.ended_at).is_not(None)
                )
            )
            return {
                int(sid): (int(energy), ended) for sid, energy, ended in rows if sid is not None and ended
            }

    def session_by_ref(self, charge_point_id: str, transaction_ref: str) -> SessionRecord | None:
        """The session a charge point knows by `transaction_ref`."""
        with self._session() as db:
            return self._by_ref(db, charge_point_id, transaction_ref)

    def session(self, session_id: int) -> SessionRecord | None:
        """A session by our ID."""
        with self._session() as db:
            return db.get(SessionRecord, session_id)

    def sessions(self, charge_point_id: str) -> list[SessionRecord]:
        """All sessions of a charge point, oldest first."""
        with self._session() as db:
            query = select(SessionRecord).where(SessionRecord.charge_point_id == charge_point_id)
            return list(db.exec(query.order_by(col(SessionRecord.id))).all())

    def readings(self, session_id: int) -> list[MeterReadingRecord]:
        """A session's stored readings, in arrival order."""
        with self._session() as db:
            query = select(MeterReadingRecord).where(MeterReadingRecord.session_id == session_id)
            return list(db.exec(query.order_by(col(MeterReadingRecord.id))).all())

    def write_readings(self, db: Connection, requests: list[ReadingRequest]) -> list[ReadingOutcome]:
        """Store register readings and advance their sessions, in order, in the caller's
        transaction (the engine's journal commits them with whatever else is pending).

        Without a ref, a reading goes to the connector's open session, else it is kept as a
        connector reading. Readings for an ended session are stored but move nothing. This is
        the hot path: one select for the sessions, one bulk insert and one executemany update
        through the driver (`mobility.driver_sql`), however many readings are in the batch.
        """
        sessions = _SESSION_TABLE
        outcomes: list[ReadingOutcome] = []
        rows: list[tuple[object, ...]] = []
        reading_time = bind_processor(db, _READING_TABLE.c.taken_at)
        live: dict[tuple[str, str, int], _LiveSession | None] = {}
        keyed = {(r.charge_point_id, r.transaction_ref) for r in requests if r.transaction_ref is not None}
        if keyed:
            query = select(*_LIVE_COLUMNS).where(
                tuple_(sessions.c.charge_point_id, sessions.c.transaction_ref).in_(list(keyed))
            )
            found = {(row.charge_point_id, row.transaction_ref): row for row in db.execute(query)}
            for cp_ref in keyed:
                row = found.get(cp_ref)
                live[(*cp_ref, 0)] = _LiveSession.of(row) if row is not None else None
        # One state per session, however its readings name it: a reading without a ref and one
        # with it, for the same session in one batch, each advanced a copy of its own, and the
        # copy written last (the earlier reading's) took the session's energy back.
        by_id = {session.id: session for session in live.values() if session is not None}
        for request in requests:
            cp_id = request.charge_point_id
            key = (
                (cp_id, request.transaction_ref, 0)
                if request.transaction_ref is not None
                else (cp_id, "", request.connector_id)
            )
            if key not in live:
                query = (
                    select(*_LIVE_COLUMNS)
                    .where(
                        sessions.c.charge_point_id == cp_id,
                        sessions.c.connector_id == request.connector_id,
                        sessions.c.ended_at.is_(None),
                    )
                    .order_by(sessions.c.id.desc())
                    .limit(1)
                )
                row = db.execute(query).first()
                live[key] = by_id.setdefault(row.id, _LiveSession.of(row)) if row is not None else None
            session = live[key]
            rows.append(
                (
                    cp_id,
                    request.connector_id,
                    session.id if session else None,
                    request.register_wh,
                    request.context,
                    reading_time(request.at),
                )
            )
            if session is None:
                outcomes.append(ReadingOutcome(None, None, False, None))
                continue
            newly_flagged = False
            if not session.ended:
                newly_flagged = self._advance(session, request.register_wh, request.at)
                session.dirty = True
            outcomes.append(ReadingOutcome(session.id, session.energy_wh, newly_flagged, session.flag_reason))
        bulk_insert(db, _READING_TABLE.name, _READING_COLUMNS, rows)
        session_time = bind_processor(db, sessions.c.last_reading_at)
        changed = [session.changes(session_time) for session in by_id.values() if session.dirty]
        if changed:
            driver_executemany(db, _UPDATE_LIVE_SESSION, changed)
        return outcomes

    def end_session(
        self,
        charge_point_id: str,
        transaction_ref: str,
        meter_stop_wh: int | None,
        at: datetime,
        reason: str,
        connector_id: int = 0,
    ) -> tuple[SessionRecord, bool]:
        """Close a session exactly once; returns it and whether this call closed it.

        A stop for an unknown transaction (replayed after we lost it, or never started here)
        is recorded as a closed, flagged, zero-energy session, so a second replay is a no-op.
        """
        with self._session() as db:
            session = self._by_ref(db, charge_point_id, transaction_ref)
            if session is not None and session.ended_at is not None:
                return session, False
            if session is None:
                start = meter_stop_wh or 0
                session = SessionRecord(
                    charge_point_id=charge_point_id,
                    connector_id=connector_id,
                    transaction_ref=transaction_ref,
                    meter_start_wh=start,
                    last_register_wh=start,
                    started_at=at,
                    last_reading_at=at,
                    flagged=True,
                    flag_reason="stop for a transaction this system never saw start",
                )
            elif meter_stop_wh is not None:
                self._advance(session, meter_stop_wh, at)
            session.ended_at = at
            session.end_reason = reason
            db.add(session)
            db.commit()
            return session, True

    def write_seq_nos(self, db: Connection, events: list[tuple[str, str, int]]) -> list[int]:
        """Record 2.x transaction events' seqNos (0 for the first), in order, in the caller's
        transaction; how many each skipped.

        Late, out-of-order events do not reduce the count. Registers are cumulative, so a lost
        Updated costs no energy; the gap count tells an operator the station lost messages.
        """
        sessions = _SESSION_TABLE
        seen: dict[tuple[str, str], list[Any] | None] = {}
        skips: list[int] = []
        for charge_point_id, transaction_ref, seq_no in events:
            key = (charge_point_id, transaction_ref)
            if key not in seen:
                row = db.execute(
                    select(sessions.c.id, sessions.c.last_seq_no, sessions.c.missing_seq_nos).where(
                        sessions.c.charge_point_id == charge_point_id,
                        sessions.c.transaction_ref == transaction_ref,
                    )
                ).first()
                seen[key] = list(row) if row is not None else None
            state = seen[key]
            if state is None:
                skips.append(0)
                continue
            _, last, missing = state
            skipped = 0
            if last is None or seq_no > last:
                expected = 0 if last is None else last + 1
                skipped = max(seq_no - expected, 0)
                state[1], state[2] = seq_no, missing + skipped
            skips.append(skipped)
        changed = [
            {"_id": state[0], "last_seq_no": state[1], "missing_seq_nos": state[2]}
            for state in seen.values()
            if state is not None
        ]
        if changed:
            db.execute(
                update(sessions)
                .where(sessions.c.id == bindparam("_id"))
                .values(last_seq_no=bindparam("last_seq_no"), missing_seq_nos=bindparam("missing_seq_nos")),
                changed,
            )
        return skips

    def write_flags(self, db: Connection, flags: list[tuple[int, str]]) -> list[None]:
        """Flag sessions ((session ID, reason)) in the caller's transaction; a session flagged
        already keeps its first reason."""
        sessions = _SESSION_TABLE
        for session_id, reason in flags:
            db.execute(
                update(sessions)
                .where(sessions.c.id == session_id)
                .values(flagged=True, flag_reason=func.coalesce(sessions.c.flag_reason, reason[:200]))
            )
        return [None] * len(flags)

    def add_device_events(
        self, charge_point_id: str, generated_at: datetime, seq_no: int, events: str
    ) -> None:
        """Keep a NotifyEvent report (JSON text)."""
        with self._session() as db:
            db.add(
                DeviceEventRecord(
                    charge_point_id=charge_point_id, generated_at=generated_at, seq_no=seq_no, events=events
                )
            )
            db.commit()

    def device_events(self, charge_point_id: str) -> list[DeviceEventRecord]:
        """A charge point's stored event reports, oldest first."""
        with self._session() as db:
            query = select(DeviceEventRecord).where(DeviceEventRecord.charge_point_id == charge_point_id)
            return list(db.exec(query.order_by(col(DeviceEventRecord.id))).all())

    # Raw message log ---------------------------------------------------------------------

    def log_frames(self, frames: list[tuple[str, str, str, datetime]]) -> None:
        """Append raw frames in a transaction of their own; see `write_frames`."""
        with self._engine.begin() as connection:
            self.write_frames(connection, frames)

    def write_frames(self, db: Connection, frames: list[tuple[str, str, str, datetime]]) -> None:
        """Append raw frames (charge point, direction, text, time) in one bulk insert, in the
        caller's transaction.

        A charge point's log is pruned back to `log_keep` frames each time it has grown by
        a tenth of that, so retention is bounded without a delete per frame.
        """
        if not frames:
            return
        time = bind_processor(db, _FRAME_TABLE.c.at)
        rows = [(cp_id, direction, frame, time(at)) for cp_id, direction, frame, at in frames]
        bulk_insert(db, _FRAME_TABLE.name, _FRAME_COLUMNS, rows)
        for cp_id, _, _, _ in frames:
            self._log_growth[cp_id] = self._log_growth.get(cp_id, 0) + 1
        due = [cp_id for cp_id, grown in self._log_growth.items() if grown >= max(self._log_keep // 10, 1)]
        for cp_id in due:
            self._prune(db, cp_id)
            del self._log_growth[cp_id]

    def message_log(self, charge_point_id: str) -> list[MessageLogRecord]:
        """A charge point's kept frames, oldest first."""
        with self._session() as db:
            query = select(MessageLogRecord).where(MessageLogRecord.charge_point_id == charge_point_id)
            return list(db.exec(query.order_by(col(MessageLogRecord.id))).all())

    def _prune(self, db: Connection, charge_point_id: str) -> None:
        log = MessageLogRecord.__table__  # type: ignore[attr-defined]
        newest = (
            select(log.c.id)
            .where(log.c.charge_point_id == charge_point_id)
            .order_by(log.c.id.desc())
            .offset(self._log_keep)
            .limit(1)
        )
        cutoff = db.execute(newest).scalar()
        if cutoff is not None:
            db.execute(delete(log).where(log.c.charge_point_id == charge_point_id, log.c.id <= cutoff))

    # Helpers -----------------------------------------------------------------------------

    @staticmethod
    def _by_ref(db: Session, charge_point_id: str, transaction_ref: str) -> SessionRecord | None:
        query = select(SessionRecord).where(
            SessionRecord.charge_point_id == charge_point_id, SessionRecord.transaction_ref == transaction_ref
        )
        return db.exec(query).first()

    @staticmethod
    def _same_start(
        db: Session, charge_point_id: str, connector_id: int, meter_start_wh: int | None, at: datetime
    ) -> SessionRecord | None:
        query = select(SessionRecord).where(
            SessionRecord.charge_point_id == charge_point_id,
            SessionRecord.connector_id == connector_id,
            SessionRecord.meter_start_wh == (meter_start_wh or 0),
            SessionRecord.started_at == at,
        )
        return db.exec(query).first()

    def _advance(self, session: _SessionState, register_wh: int, at: datetime) -> bool:
        """Apply a register value to the session; True if it newly flagged the session."""
        if not session.meter_start_known:
            session.meter_start_wh = session.last_register_wh = register_wh
            session.meter_start_known = True
            session.last_reading_at = max(at, session.last_reading_at)
            return False
        update = apply_register(
            meter_start_wh=session.meter_start_wh,
            last_register_wh=session.last_register_wh,
            last_reading_at=session.last_reading_at,
            register_wh=register_wh,
            at=at,
            max_power_w=self._limits.max_power_w,
            slack_wh=self._limits.slack_wh,
        )
        session.energy_wh = update.energy_wh
        session.last_register_wh = update.last_register_wh
        session.last_reading_at = update.last_reading_at
        if update.flag is None:
            return False
        newly = not session.flagged
        session.flagged = True
        session.flag_reason = (session.flag_reason or update.flag)[:200]
        return newly


__all__ = ["ChargingStore", "EnergyLimits", "ReadingOutcome", "ReadingRequest"]
