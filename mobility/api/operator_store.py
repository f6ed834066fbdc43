"""The operator API's database work, always scoped to one operator (synchronous; routes run it
through `asyncio.to_thread`).

Every read and write names the calling operator in its WHERE clause, so another operator's
charge point, tariff or session is indistinguishable from a missing one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import ColumnElement, Engine, and_, case, func, literal, update
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mobility.api.context import Context
from mobility.api.models import ChargerCommandRecord, OperatorTariffRecord
from mobility.api.pagination import PageParams
from mobility.charging.models import ChargePointRecord, ConnectorRecord, SessionRecord
from mobility.charging.store import ChargerSpec, ChargingStore
from mobility.clock import Clock, utc_now
from mobility.payments.models import SessionPaymentRecord, SettlementRecord, TariffRecord

IN_FLIGHT = ("intent", "built", "submitted")


@dataclass(frozen=True, slots=True)
class Charger:
    """A charge point with its connectors' last known statuses."""

    record: ChargePointRecord
    connectors: list[ConnectorRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """Which of an operator's sessions: by charge point, status, start in [since, until)."""

    charge_point_id: str | None = None
    status: str | None = None  # active, ended, paid, unpaid, unbilled
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A charging session joined with what it was billed (None: no payment record)."""

    session: SessionRecord
    payment: SessionPaymentRecord | None
    settlement_status: str | None


@dataclass(frozen=True, slots=True)
class Revenue:
    """Totals over an operator's sessions; money in micro-units, energy in Wh."""

    sessions: int
    active_sessions: int
    energy_wh: int
    billed: int
    paid: int
    shortfall: int
    settled: int
    settling: int
    unsettled: int


@dataclass(frozen=True, slots=True)
class SettlementRow:
    """A settlement covering some of the operator's sessions, and their part of it."""

    settlement: SettlementRecord
    sessions: int
    operator_amount: int


class TariffOwnedElsewhereError(Exception):
    """The tariff ID belongs to another operator, or to the engine's own configuration."""


class OperatorStore:
    """Charge points, command log, tariff ownership and reporting for operators."""

    def __init__(self, engine: Engine, clock: Clock = utc_now, charging: ChargingStore | None = None) -> None:
        self.engine = engine
        self.clock = clock
        # Charge points have one writer, the charging store; this store reads them.
        self.charging = charging or ChargingStore(engine)

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # Charge points -----------------------------------------------------------------------

    def register_charger(self, operator_id: str, spec: ChargerSpec) -> Charger | None:
        """Create a charge point owned by `operator_id`, or claim one that connected unknown;
        None if the ID is taken otherwise (the charging store writes it)."""
        record = self.charging.claim_charge_point(operator_id, spec)
        return Charger(record) if record is not None else None

    def unclaimed_chargers(self, page: PageParams) -> tuple[list[Charger], int]:
        """A page of the charge points admitted unknown that no operator has claimed (by ID)."""
        unclaimed = and_(
            col(ChargePointRecord.operator_id).is_(None), col(ChargePointRecord.password_hash).is_(None)
        )
        with self._session() as db:
            total = db.exec(select(func.count()).select_from(ChargePointRecord).where(unclaimed)).one()
            query = (
                select(ChargePointRecord)
                .where(unclaimed)
                .order_by(col(ChargePointRecord.id))
                .limit(page.limit)
                .offset(page.offset)
            )
            return self._with_connectors(db, list(db.exec(query))), int(total)

    def _owned(self, db: Session, operator_id: str, charge_point_id: str) -> ChargePointRecord | None:
        record = db.get(ChargePointRecord, charge_point_id)
        return record if record is not None and record.operator_id == operator_id else None

    def charger(self, operator_id: str, charge_point_id: str) -> Charger | None:
        """The operator's charge point with its connectors, or None."""
        with self._session() as db:
            record = self._owned(db, operator_id, charge_point_id)
            if record is None:
                return None
            return self._with_connectors(db, [record])[0]

    def chargers(self, operator_id: str, page: PageParams) -> tuple[list[Charger], int]:
        """A page of the operator's charge points (by ID) and how many there are."""
        owned = col(ChargePointRecord.operator_id) == operator_id
        with self._session() as db:
            total = db.exec(select(func.count()).select_from(ChargePointRecord).where(owned)).one()
            query = (
                select(ChargePointRecord)
                .where(owned)
                .order_by(col(ChargePointRecord.id))
                .limit(page.limit)
                .offset(page.offset)
            )
            records = list(db.exec(query))
            return self._with_connectors(db, records), int(total)

    @staticmethod
    def _with_connectors(db: Session, records: Sequence[ChargePointRecord]) -> list[Charger]:
        ids = [record.id for record in records]
        query = (
            select(ConnectorRecord)
            .where(col(ConnectorRecord.charge_point_id).in_(ids))
            .order_by(col(ConnectorRecord.charge_point_id), col(ConnectorRecord.connector_id))
        )
        by_charger: dict[str, list[ConnectorRecord]] = {}
        for connector in db.exec(query) if ids else ():
            by_charger.setdefault(connector.charge_point_id, []).append(connector)
        return [Charger(record, by_charger.get(record.id, [])) for record in records]

    def update_charger(self, operator_id: str, charge_point_id: str, changes: dict[str, Any]) -> bool:
        """Set the given columns of the operator's charge point; False if it is not theirs."""
        return self.charging.update_owned_charge_point(operator_id, charge_point_id, changes)

    def set_password(self, operator_id: str, charge_point_id: str, password_hash: str) -> bool:
        """Replace the charge point's Basic-auth password (hashed); False if it is not theirs."""
        return self.update_charger(operator_id, charge_point_id, {"password_hash": password_hash})

    # Command log -------------------------------------------------------------------------

    def begin_command(self, operator_id: str, charge_point_id: str, command: str, request: str) -> int:
        """Log a command about to go out; returns its ID."""
        record = ChargerCommandRecord(
            charge_point_id=charge_point_id,
            operator_id=operator_id,
            command=command,
            request=request,
            created_at=self.clock(),
        )
        with self._session() as db:
            db.add(record)
            db.commit()
            assert record.id is not None
            return record.id

    def finish_command(
        self,
        command_id: int,
        outcome: str,
        status: str | None = None,
        response: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> ChargerCommandRecord:
        """Record how the charger answered a logged command."""
        with self._session() as db:
            db.execute(
                update(ChargerCommandRecord)
                .where(col(ChargerCommandRecord.id) == command_id)
                .values(
                    outcome=outcome,
                    status=status,
                    response=json.dumps(response, default=str) if response is not None else None,
                    error=error[:200] if error is not None else None,
                    answered_at=self.clock(),
                )
            )
            db.commit()
            record = db.get(ChargerCommandRecord, command_id)
            assert record is not None
            return record

    def commands(
        self, operator_id: str, charge_point_id: str, page: PageParams
    ) -> tuple[list[ChargerCommandRecord], int] | None:
        """A page of the commands sent to the operator's charge point, newest first."""
        with self._session() as db:
            if self._owned(db, operator_id, charge_point_id) is None:
                return None
            of_charger = col(ChargerCommandRecord.charge_point_id) == charge_point_id
            total = db.exec(select(func.count()).select_from(ChargerCommandRecord).where(of_charger)).one()
            query = (
                select(ChargerCommandRecord)
                .where(of_charger)
                .order_by(col(ChargerCommandRecord.id).desc())
                .limit(page.limit)
                .offset(page.offset)
            )
            return list(db.exec(query)), int(total)

    # Tariffs -----------------------------------------------------------------------------

    def claim_tariff(self, operator_id: str, tariff_id: str) -> bool:
        """Make sure the tariff ID is this operator's; True if it was new to them.

        Raises TariffOwnedElsewhereError when another operator owns it, or when versions of it
        exist with no owner (the engine's configured tariffs are nobody's to change).
        """
        with self._session() as db:
            owner = db.get(OperatorTariffRecord, tariff_id)
            if owner is not None:
                if owner.operator_id != operator_id:
                    raise TariffOwnedElsewhereError(tariff_id)
                return False
            unowned = db.exec(select(TariffRecord.id).where(col(TariffRecord.id) == tariff_id)).first()
            if unowned is not None:
                raise TariffOwnedElsewhereError(tariff_id)
            db.add(
                OperatorTariffRecord(tariff_id=tariff_id, operator_id=operator_id, created_at=self.clock())
            )
            try:
                db.commit()
            except IntegrityError:  # claimed concurrently: by whom decides
                db.rollback()
                owner = db.get(OperatorTariffRecord, tariff_id)
                if owner is None or owner.operator_id != operator_id:
                    raise TariffOwnedElsewhereError(tariff_id) from None
                return False
            return True

    def owns_tariff(self, operator_id: str, tariff_id: str) -> bool:
        """True if the tariff ID is the operator's."""
        with self._session() as db:
            owner = db.get(OperatorTariffRecord, tariff_id)
            return owner is not None and owner.operator_id == operator_id

    def tariffs(self, operator_id: str, page: PageParams) -> tuple[list[tuple[str, int, datetime]], int]:
        """A page of the operator's tariffs: (ID, latest version, when that version was made)."""
        owned = col(OperatorTariffRecord.operator_id) == operator_id
        latest = (
            core_select(col(TariffRecord.id).label("id"), func.max(TariffRecord.version).label("version"))
            .group_by(col(TariffRecord.id))
            .subquery()
        )
        query = (
            core_select(latest.c.id, latest.c.version, col(TariffRecord.created_at))
            .join(OperatorTariffRecord, col(OperatorTariffRecord.tariff_id) == latest.c.id)
            .join(
                TariffRecord,
                and_(col(TariffRecord.id) == latest.c.id, col(TariffRecord.version) == latest.c.version),
            )
            .where(owned)
            .order_by(latest.c.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        with self.engine.connect() as db:
            total = db.execute(
                core_select(func.count())
                .select_from(OperatorTariffRecord)
                .join(TariffRecord, col(TariffRecord.id) == col(OperatorTariffRecord.tariff_id))
                .where(owned, col(TariffRecord.version) == 1)
            ).scalar_one()
            rows = [(row.id, int(row.version), row.created_at) for row in db.execute(query)]
        return rows, int(total)

    def tariff_versions(self, operator_id: str, tariff_id: str) -> list[TariffRecord] | None:
        """Every version of the operator's tariff, oldest first; None if it is not theirs."""
        with self._session() as db:
            owner = db.get(OperatorTariffRecord, tariff_id)
            if owner is None or owner.operator_id != operator_id:
                return None
            query = (
                select(TariffRecord)
                .where(col(TariffRecord.id) == tariff_id)
                .order_by(col(TariffRecord.version))
            )
            return list(db.exec(query))

    # Sessions and money ------------------------------------------------------------------

    @staticmethod
    def _session_conditions(operator_id: str, where: SessionFilter) -> list[ColumnElement[bool]]:
        session, payment = SessionRecord, SessionPaymentRecord
        conditions: list[ColumnElement[bool]] = [col(ChargePointRecord.operator_id) == operator_id]
        if where.charge_point_id is not None:
            conditions.append(col(session.charge_point_id) == where.charge_point_id)
        if where.since is not None:
            conditions.append(col(session.started_at) >= where.since)
        if where.until is not None:
            conditions.append(col(session.started_at) < where.until)
        ended = col(session.ended_at).is_not(None)
        match where.status:
            case "active":
                conditions.append(col(session.ended_at).is_(None))
            case "ended":
                conditions.append(ended)
            case "paid" | "unpaid":
                conditions += [ended, col(payment.status) == where.status]
            case "unbilled":
                conditions += [ended, col(payment.session_id).is_(None)]
        return conditions

    def sessions(
        self, operator_id: str, where: SessionFilter, page: PageParams
    ) -> tuple[list[SessionRow], int]:
        """A page of the operator's sessions, newest first, and how many match."""
        conditions = self._session_conditions(operator_id, where)
        joined = (
            select(SessionRecord, SessionPaymentRecord, col(SettlementRecord.status))
            .join(ChargePointRecord, col(ChargePointRecord.id) == col(SessionRecord.charge_point_id))
            .outerjoin(SessionPaymentRecord, col(SessionPaymentRecord.session_id) == col(SessionRecord.id))
            .outerjoin(SettlementRecord, col(SettlementRecord.id) == col(SessionPaymentRecord.settlement_id))
            .where(*conditions)
        )
        with self._session() as db:
            total = db.exec(select(func.count()).select_from(joined.subquery())).one()
            query = joined.order_by(col(SessionRecord.id).desc()).limit(page.limit).offset(page.offset)
            rows = [SessionRow(row[0], row[1], row[2]) for row in db.exec(query).all()]
        return rows, int(total)

    def revenue(self, operator_id: str, where: SessionFilter) -> Revenue:
        """Energy, billed, paid, shortfall and settlement totals over the matching sessions.

        A session counts as paid for `billed - shortfall` once it has ended; that part is
        settled when its settlement is confirmed, settling while one is in flight.
        """
        payment, settlement = SessionPaymentRecord, SettlementRecord
        ended_payment = col(payment.status).in_(("paid", "unpaid"))
        paid = col(payment.billed) - col(payment.shortfall)

        def total(expression: Any, condition: ColumnElement[bool] | None = None) -> Any:
            value = expression if condition is None else case((condition, expression), else_=literal(0))
            return func.coalesce(func.sum(value), 0)

        query = (
            core_select(
                func.count(col(SessionRecord.id)),
                total(case((col(SessionRecord.ended_at).is_(None), 1), else_=0)),
                total(col(SessionRecord.energy_wh)),
                total(col(payment.billed)),
                total(paid, ended_payment),
                total(col(payment.shortfall), ended_payment),
                total(paid, and_(ended_payment, col(settlement.status) == "confirmed")),
                total(paid, and_(ended_payment, col(settlement.status).in_(IN_FLIGHT))),
            )
            .select_from(SessionRecord)
            .join(ChargePointRecord, col(ChargePointRecord.id) == col(SessionRecord.charge_point_id))
            .outerjoin(payment, col(payment.session_id) == col(SessionRecord.id))
            .outerjoin(settlement, col(settlement.id) == col(payment.settlement_id))
            .where(*self._session_conditions(operator_id, where))
        )
        with self.engine.connect() as db:
            row = db.execute(query).one()
        sessions, active, energy, billed, paid_total, shortfall, settled, settling = (int(v) for v in row)
        return Revenue(
            sessions=sessions,
            active_sessions=active,
            energy_wh=energy,
            billed=billed,
            paid=paid_total,
            shortfall=shortfall,
            settled=settled,
            settling=settling,
            unsettled=paid_total - settled - settling,
        )

    def settlements(
        self,
        operator_id: str,
        status: str | None,
        since: datetime | None,
        until: datetime | None,
        page: PageParams,
    ) -> tuple[list[SettlementRow], int]:
        """A page of the settlements covering the operator's sessions (newest first)."""
        payment, settlement = SessionPaymentRecord, SettlementRecord
        conditions: list[ColumnElement[bool]] = [col(ChargePointRecord.operator_id) == operator_id]
        if status is not None:
            conditions.append(col(settlement.status) == status)
        if since is not None:
            conditions.append(col(settlement.created_at) >= since)
        if until is not None:
            conditions.append(col(settlement.created_at) < until)
        covered = (
            select(
                col(settlement.id).label("id"),
                func.count(col(payment.session_id)).label("sessions"),
                func.coalesce(func.sum(col(payment.billed) - col(payment.shortfall)), 0).label("amount"),
            )
            .join(payment, col(payment.settlement_id) == col(settlement.id))
            .join(ChargePointRecord, col(ChargePointRecord.id) == col(payment.charge_point_id))
            .where(*conditions)
            .group_by(col(settlement.id))
            .subquery()
        )
        with self._session() as db:
            total = db.exec(select(func.count()).select_from(covered)).one()
            query = (
                select(settlement, covered.c.sessions, covered.c.amount)
                .join(covered, covered.c.id == col(settlement.id))
                .order_by(col(settlement.id).desc())
                .limit(page.limit)
                .offset(page.offset)
            )
            rows = [SettlementRow(row[0], int(row[1]), int(row[2])) for row in db.exec(query).all()]
        return rows, int(total)


def operator_store(context: Context) -> OperatorStore:
    """A dependency: the store over the app's database (stateless, so one per request)."""
    return OperatorStore(context.api_store.engine, context.clock, context.charging)


Operators = Annotated[OperatorStore, Depends(operator_store)]


__all__ = [
    "Charger",
    "OperatorStore",
    "Operators",
    "Revenue",
    "SessionFilter",
    "SessionRow",
    "SettlementRow",
    "TariffOwnedElsewhereError",
]
