"""A fleet's rows: its vehicles, its id tokens, its payer keys, and the facts about its charging
sessions.

Synchronous, like the other stores; routes call it from sync endpoints (FastAPI's thread pool).
Every read is scoped to one fleet account, so a fleet never sees another fleet's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mobility.charging.models import ChargePointRecord, MeterReadingRecord, SessionRecord
from mobility.fleet.models import FleetPayerKeyRecord, TokenAssignmentRecord, VehicleRecord
from mobility.payments.models import (
    ChannelRecord,
    IdTokenRecord,
    SessionPaymentRecord,
    SettlementRecord,
)

_TICK = timedelta(microseconds=1)
_IN_CHUNK = 500  # bound on the IN lists of one query (PostgreSQL and SQLite both cope)


class TokenTakenError(Exception):
    """The id token belongs to another account."""


class KeyTakenError(Exception):
    """The payer key belongs to another account (a fleet's, or a driver's)."""


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """Everything stored about one fleet session, as the reconciliation needs it."""

    session: SessionRecord
    token: IdTokenRecord
    site: str | None
    payment: SessionPaymentRecord | None
    settlement: SettlementRecord | None
    readings: tuple[MeterReadingRecord, ...]


class FleetStore:
    """Vehicles, tokens and session facts of fleets."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # Vehicles ----------------------------------------------------------------------------

    def add_vehicle(self, account_id: str, label: str) -> VehicleRecord:
        """A new vehicle with a server-chosen ID (so IDs never reveal other fleets' vehicles)."""
        record = VehicleRecord(id=f"veh-{uuid.uuid4().hex}", account_id=account_id, label=label)
        with self._session() as db:
            db.add(record)
            db.commit()
        return record

    def vehicle(self, account_id: str, vehicle_id: str) -> VehicleRecord | None:
        """The fleet's vehicle; None when it does not exist or is another fleet's."""
        with self._session() as db:
            record = db.get(VehicleRecord, vehicle_id)
        return record if record is not None and record.account_id == account_id else None

    def vehicles(self, account_id: str, limit: int, offset: int) -> tuple[list[VehicleRecord], int]:
        """One page of the fleet's vehicles (by ID) and how many it has."""
        with self._session() as db:
            where = VehicleRecord.account_id == account_id
            total = db.exec(select(func.count()).select_from(VehicleRecord).where(where)).one()
            rows = db.exec(
                select(VehicleRecord).where(where).order_by(col(VehicleRecord.id)).offset(offset).limit(limit)
            ).all()
        return list(rows), int(total)

    # Tokens ------------------------------------------------------------------------------

    def register_token(
        self, account_id: str, vehicle_id: str, token: str, driver_name: str, now: datetime
    ) -> IdTokenRecord:
        """Give the fleet's vehicle an id token (stored upper-case, as `PaymentStore` does).

        Re-registering one of the fleet's own tokens moves it to this vehicle and driver from
        `now` on (sessions started before keep the assignment they had); a token held by any
        other account raises `TokenTakenError` and changes nothing.
        """
        normalized = token.upper()
        with self._session() as db:
            existing = db.get(IdTokenRecord, normalized, with_for_update=True)
            if existing is not None and existing.account_id != account_id:
                raise TokenTakenError(normalized)
            record = existing or IdTokenRecord(token=normalized, account_id=account_id)
            if (record.vehicle_id, record.driver_name) != (vehicle_id, driver_name):
                db.add(
                    TokenAssignmentRecord(
                        token=normalized,
                        account_id=account_id,
                        vehicle_id=vehicle_id,
                        driver_name=driver_name,
                        valid_from=now,
                    )
                )
            record.vehicle_id, record.driver_name = vehicle_id, driver_name
            db.add(record)
            try:
                db.commit()
            except IntegrityError as error:  # another account registered it concurrently
                raise TokenTakenError(normalized) from error
        return record

    def tokens(
        self, account_id: str, vehicle_id: str, limit: int, offset: int
    ) -> tuple[list[IdTokenRecord], int]:
        """One page of a vehicle's tokens and how many it has."""
        with self._session() as db:
            where = (IdTokenRecord.account_id == account_id, IdTokenRecord.vehicle_id == vehicle_id)
            total = db.exec(select(func.count()).select_from(IdTokenRecord).where(*where)).one()
            rows = db.exec(
                select(IdTokenRecord)
                .where(*where)
                .order_by(col(IdTokenRecord.token))
                .offset(offset)
                .limit(limit)
            ).all()
        return list(rows), int(total)

    # Payer keys --------------------------------------------------------------------------

    def add_payer_key(
        self, account_id: str, public_key: str, now: datetime
    ) -> tuple[FleetPayerKeyRecord, bool]:
        """Record a key the fleet proved it holds (hex, stored lower-case); the record and
        whether it is new. A key is one account's only, so a channel's payer names at most one
        account: a key another fleet holds raises `KeyTakenError` (the route refuses drivers'
        keys before, from the API's table of them)."""
        public_key = public_key.lower()
        with self._session() as db:
            existing = db.get(FleetPayerKeyRecord, public_key)
            if existing is not None:
                if existing.account_id != account_id:
                    raise KeyTakenError(public_key)
                return existing, False
            record = FleetPayerKeyRecord(public_key=public_key, account_id=account_id, created_at=now)
            db.add(record)
            try:
                db.commit()
            except IntegrityError as error:  # registered concurrently (by this fleet or another)
                db.rollback()
                winner = db.get(FleetPayerKeyRecord, public_key)
                if winner is None or winner.account_id != account_id:
                    raise KeyTakenError(public_key) from error
                return winner, False
        return record, True

    def payer_keys(self, account_id: str, limit: int, offset: int) -> tuple[list[FleetPayerKeyRecord], int]:
        """One page of the fleet's payer keys (oldest first) and how many it has."""
        with self._session() as db:
            where = FleetPayerKeyRecord.account_id == account_id
            total = db.exec(select(func.count()).select_from(FleetPayerKeyRecord).where(where)).one()
            rows = db.exec(
                select(FleetPayerKeyRecord)
                .where(where)
                .order_by(col(FleetPayerKeyRecord.created_at), col(FleetPayerKeyRecord.public_key))
                .offset(offset)
                .limit(limit)
            ).all()
        return list(rows), int(total)

    def payer_public_keys(self, account_id: str) -> list[bytes]:
        """Every payer key of the fleet."""
        with self._session() as db:
            rows = db.exec(
                select(FleetPayerKeyRecord.public_key).where(FleetPayerKeyRecord.account_id == account_id)
            ).all()
        return [bytes.fromhex(row) for row in rows]

    # Sessions ----------------------------------------------------------------------------

    def session_facts(self, account_id: str, start: datetime, end: datetime) -> list[SessionFacts]:
        """The fleet's sessions started in [start, end), oldest first, with all their facts.

        A fleet session is one started with one of the fleet's tokens and, if the payment layer
        took it on, paid from one of the fleet's channels: a token registered later cannot
        reveal what another payer's sessions cost.
        """
        with self._session() as db:
            query = (
                sa_select(
                    SessionRecord,
                    IdTokenRecord,
                    col(ChargePointRecord.site),
                    SessionPaymentRecord,
                    SettlementRecord,
                )
                .join(IdTokenRecord, func.upper(SessionRecord.id_token) == col(IdTokenRecord.token))
                .join(ChargePointRecord, col(ChargePointRecord.id) == col(SessionRecord.charge_point_id))
                .outerjoin(
                    SessionPaymentRecord, col(SessionPaymentRecord.session_id) == col(SessionRecord.id)
                )
                .outerjoin(
                    ChannelRecord, col(ChannelRecord.channel_id) == col(SessionPaymentRecord.channel_id)
                )
                .outerjoin(
                    SettlementRecord, col(SettlementRecord.id) == col(SessionPaymentRecord.settlement_id)
                )
                .where(col(IdTokenRecord.account_id) == account_id)
                .where(col(SessionRecord.started_at) >= start, col(SessionRecord.started_at) < end)
                .where(
                    or_(
                        col(SessionPaymentRecord.session_id).is_(None),
                        col(ChannelRecord.account_id) == account_id,
                    )
                )
                .order_by(col(SessionRecord.started_at), col(SessionRecord.id))
            )
            rows = db.execute(query).all()
            readings = self._readings(db, [row[0].id for row in rows if row[0].id is not None])
            assignments = self._assignments(db, account_id, {row[1].token for row in rows})
        return [
            SessionFacts(
                session,
                _as_assigned(token, assignments.get(token.token, []), session.started_at),
                site,
                payment,
                settlement,
                tuple(readings.get(session.id or 0, ())),
            )
            for session, token, site, payment, settlement in rows
        ]

    def session_facts_by_id(self, account_id: str, session_id: int) -> SessionFacts | None:
        """One fleet session's facts; None when it is not this fleet's."""
        with self._session() as db:
            session = db.get(SessionRecord, session_id)
        if session is None:
            return None
        found = self.session_facts(account_id, session.started_at, session.started_at + _TICK)
        return next((facts for facts in found if facts.session.id == session_id), None)

    @staticmethod
    def _assignments(
        db: Session, account_id: str, tokens: set[str]
    ) -> dict[str, list[TokenAssignmentRecord]]:
        """Each token's assignments, oldest first."""
        found: dict[str, list[TokenAssignmentRecord]] = {}
        wanted = sorted(tokens)
        for start in range(0, len(wanted), _IN_CHUNK):
            rows = db.exec(
                select(TokenAssignmentRecord)
                .where(
                    TokenAssignmentRecord.account_id == account_id,
                    col(TokenAssignmentRecord.token).in_(wanted[start : start + _IN_CHUNK]),
                )
                .order_by(col(TokenAssignmentRecord.valid_from), col(TokenAssignmentRecord.id))
            ).all()
            for row in rows:
                found.setdefault(row.token, []).append(row)
        return found

    @staticmethod
    def _readings(db: Session, session_ids: Sequence[int]) -> dict[int, list[MeterReadingRecord]]:
        found: dict[int, list[MeterReadingRecord]] = {}
        for start in range(0, len(session_ids), _IN_CHUNK):
            chunk = session_ids[start : start + _IN_CHUNK]
            rows = db.exec(
                select(MeterReadingRecord)
                .where(col(MeterReadingRecord.session_id).in_(chunk))
                .order_by(col(MeterReadingRecord.id))
            ).all()
            for row in rows:
                assert row.session_id is not None
                found.setdefault(row.session_id, []).append(row)
        return found


def _as_assigned(
    token: IdTokenRecord, assignments: Sequence[TokenAssignmentRecord], started_at: datetime
) -> IdTokenRecord:
    """The token as it was assigned when a session started: the last assignment in force then
    (the first one, for a session dated before any); as it is now if it has none."""
    if not assignments:
        return token
    chosen = assignments[0]
    for assignment in assignments:
        if assignment.valid_from <= started_at:
            chosen = assignment
    return IdTokenRecord(
        token=token.token,
        account_id=token.account_id,
        vehicle_id=chosen.vehicle_id,
        driver_name=chosen.driver_name,
    )
