"""Blocking database work of the payment layer; the service runs it in a worker thread.

Every change is one short transaction. Vouchers are stored with a compare-and-set on each
channel's voucher nonce, so two engine processes racing for one channel can never both win,
and a voucher acknowledged to the payer is on disk before the acknowledgement. A voucher that
pays earlier debt pays off the channel's unpaid sessions in its own transaction, as does a
session's end (`mobility.payments.debt`): both hold the channel's row while they do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Engine, bindparam, delete, func, text, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from mobility.ledger.codec import Ed25519Address, VoucherPayload
from mobility.payments.debt import attribute, newly_covered
from mobility.payments.models import (
    AccountRecord,
    ChannelRecord,
    IdTokenRecord,
    RemoteStartPinRecord,
    SessionPaymentRecord,
    SettlementRecord,
    TariffRecord,
    create_payment_tables,
)
from mobility.payments.tariff import Tariff
from mobility.payments.vouchers import (
    ChannelCredit,
    VoucherRejectedError,
    VoucherRejection,
    verify_signatures,
)


@dataclass(frozen=True, slots=True)
class Totals:
    """Money summed over some sessions, in micro-units."""

    billed: int
    shortfall: int


def channel_credit(record: ChannelRecord) -> ChannelCredit:
    """The engine's channel state as the voucher rules see it."""
    latest = VoucherPayload.from_bytes(record.voucher) if record.voucher is not None else None
    return ChannelCredit(
        channel_id=bytes.fromhex(record.channel_id),
        payer=Ed25519Address.from_bytes(bytes.fromhex(record.payer_address)),
        deposit=record.deposit,
        claimed=record.claimed,
        latest=latest,
    )


_SET_LATEST = text(
    "UPDATE payment_channel SET paid = :paid, voucher_nonce = :nonce, voucher = :voucher"
    " WHERE channel_id = :id AND voucher_nonce = :read_nonce"
)
# One set-based compare-and-set for a whole batch on PostgreSQL through psycopg. The arrays go
# in binary (`%(name)b`): their text form escapes every bytea voucher through a regex, which
# cost more than the UPDATE itself.
_SET_LATEST_PSYCOPG = (
    "UPDATE payment_channel AS c SET paid = v.paid, voucher_nonce = v.nonce, voucher = v.voucher"
    " FROM unnest(%(id)b::text[], %(read)b::bigint[], %(paid)b::bigint[], %(nonce)b::bigint[],"
    " %(voucher)b::bytea[]) AS v(id, read_nonce, paid, nonce, voucher)"
    " WHERE c.channel_id = v.id AND c.voucher_nonce = v.read_nonce"
)


# Asked after every voucher batch: on PostgreSQL one constant statement over a binary array (as
# above), where the expanding IN of a Core query costs more to build than to run.
_UNPAID_PSYCOPG = (
    "SELECT channel_id, session_id, shortfall FROM payment_session"
    " WHERE channel_id = ANY(%(id)b::text[]) AND status = 'unpaid'"
    " ORDER BY channel_id, ended_at, session_id"
)


class StaleVoucherError(RuntimeError):
    """Another voucher for the channel was stored first; re-read and check again."""


class PaymentStore:
    """Accounts, channels, tariffs and session payments in the engine's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_payment_tables(engine)
        self._credits: dict[str, tuple[int, ChannelCredit]] = {}  # channel -> (nonce on disk, state)

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # Accounts and tokens -----------------------------------------------------------------

    def add_account(self, account_id: str, kind: str, name: str = "") -> None:
        with self._session() as db:
            if db.get(AccountRecord, account_id) is None:
                db.add(AccountRecord(id=account_id, kind=kind, name=name))
                db.commit()

    def account(self, account_id: str) -> AccountRecord | None:
        with self._session() as db:
            return db.get(AccountRecord, account_id)

    def add_id_token(self, token: str, account_id: str) -> None:
        with self._session() as db:
            db.merge(IdTokenRecord(token=token.upper(), account_id=account_id))
            db.commit()

    def account_for_token(self, token: str) -> AccountRecord | None:
        with self._session() as db:
            record = db.get(IdTokenRecord, token.upper())
            return db.get(AccountRecord, record.account_id) if record is not None else None

    # Channels ----------------------------------------------------------------------------

    def add_channel(self, record: ChannelRecord) -> None:
        """Track a channel (its state read from the ledger); adding it again changes nothing."""
        with self._session() as db:
            if db.get(ChannelRecord, record.channel_id) is None:
                db.add(record)
                db.commit()

    def update_channel_terms(self, channel_id: str, deposit: int, expiry: datetime) -> None:
        """Take a top-up or a later expiry read from the ledger; the deposit never shrinks.

        The cached voucher state of the channel is dropped so the next voucher sees the new
        deposit (call it on the store the payment service uses).
        """
        with self._session() as db:
            db.exec(
                update(ChannelRecord)
                .where(col(ChannelRecord.channel_id) == channel_id)
                .where(col(ChannelRecord.deposit) <= deposit)
                .values(deposit=deposit, expiry=expiry)
            )
            db.commit()
        self._credits.pop(channel_id, None)

    def channel(self, channel_id: str) -> ChannelRecord | None:
        with self._session() as db:
            return db.get(ChannelRecord, channel_id)

    def channels_of(self, account_id: str) -> list[ChannelRecord]:
        with self._session() as db:
            rows = db.exec(select(ChannelRecord).where(ChannelRecord.account_id == account_id))
            return list(rows)

    def apply_vouchers(self, payloads: list[VoucherPayload]) -> list[int | VoucherRejectedError]:
        """Check and store many vouchers in one transaction (group commit).

        Signatures are batch-verified; vouchers for one channel apply in order. Each result is
        the channel's new paid total, or why that voucher was refused (changing nothing).
        Channel state is cached in this process; the compare-and-set on the voucher nonce
        catches any other writer, and then the cache is dropped and StaleVoucherError raised.
        """
        verdicts = verify_signatures(payloads)
        results: list[int | VoucherRejectedError] = []
        wanted = {p.voucher.channel_id.hex() for p in payloads}
        missing = sorted(wanted - self._credits.keys())
        if missing:
            with self._session() as db:
                query = select(ChannelRecord).where(col(ChannelRecord.channel_id).in_(missing))
                for row in db.exec(query):
                    self._credits[row.channel_id] = (row.voucher_nonce, channel_credit(row))
        credits = {c: self._credits[c][1] for c in wanted if c in self._credits}
        for payload, verdict in zip(payloads, verdicts, strict=True):
            channel_id = payload.voucher.channel_id.hex()
            credit = credits.get(channel_id)
            if credit is None:
                results.append(VoucherRejectedError(VoucherRejection.WRONG_CHANNEL, "no such channel here"))
                continue
            try:
                credits[channel_id] = credit.accept(payload, verdict)
            except VoucherRejectedError as refused:
                results.append(refused)
                continue
            results.append(credits[channel_id].paid)
        changed = [
            (channel_id, self._credits[channel_id][0], credit.latest)
            for channel_id, credit in credits.items()
            if credit.latest is not None and credit.latest.voucher.nonce != self._credits[channel_id][0]
        ]
        if changed:
            self._store_latest(changed)
        for channel_id, _, latest in changed:
            self._credits[channel_id] = (latest.voucher.nonce, credits[channel_id])
        return results

    def _store_latest(self, changed: list[tuple[str, int, VoucherPayload]]) -> None:
        """Write each channel's new latest voucher if its nonce on disk is still the one read.

        All or nothing: when any channel moved under us, roll back, forget the cached state of
        these channels and raise StaleVoucherError. On PostgreSQL (psycopg) this is one
        set-based UPDATE over arrays: one round trip and one constant statement the server keeps
        prepared, where an executemany cost a pipelined statement and its parameters per row.
        SQLite, in-process, keeps the per-row UPDATE as an executemany.

        Debt the new vouchers cover is paid off in the same transaction (`_pay_off_debts`), by
        statements issued once the channels' rows are held: a session ending meanwhile holds
        the row while it records its shortfall, and a check folded into the UPDATE would read
        from before that end, leaving what the voucher paid unattributed.
        """
        with self.engine.connect() as connection:
            if connection.dialect.driver == "psycopg":
                columns: dict[str, list[object]] = {
                    "id": [],
                    "read": [],
                    "paid": [],
                    "nonce": [],
                    "voucher": [],
                }
                for channel_id, read_nonce, latest in changed:
                    columns["id"].append(channel_id)
                    columns["read"].append(read_nonce)
                    columns["paid"].append(latest.voucher.amount)
                    columns["nonce"].append(latest.voucher.nonce)
                    columns["voucher"].append(latest.to_bytes())
                updated = connection.exec_driver_sql(_SET_LATEST_PSYCOPG, columns).rowcount
            else:
                parameters = [
                    {
                        "id": channel_id,
                        "read_nonce": read_nonce,
                        "paid": latest.voucher.amount,
                        "nonce": latest.voucher.nonce,
                        "voucher": latest.to_bytes(),
                    }
                    for channel_id, read_nonce, latest in changed
                ]
                updated = connection.execute(_SET_LATEST, parameters).rowcount
            if updated != len(changed):
                connection.rollback()
                for channel_id, _, _ in changed:
                    self._credits.pop(channel_id, None)
                raise StaleVoucherError(f"{len(changed) - updated} of {len(changed)} channels changed")
            _pay_off_debts(
                connection, {channel_id: latest.voucher.amount for channel_id, _, latest in changed}
            )
            connection.commit()

    # Remote-start pins -------------------------------------------------------------------

    def pin_remote_start(
        self, charge_point_id: str, id_token: str, channel_id: str, at: datetime, forget_before: datetime
    ) -> None:
        """Pin `channel_id` for the next session of `id_token` at `charge_point_id` (replacing
        any pin there), committed before it returns; pins created before `forget_before` go too,
        so remote starts that never began do not pile up."""
        with self._session() as db:
            db.exec(delete(RemoteStartPinRecord).where(col(RemoteStartPinRecord.created_at) < forget_before))
            db.merge(
                RemoteStartPinRecord(
                    charge_point_id=charge_point_id,
                    id_token=id_token.upper(),
                    channel_id=channel_id,
                    created_at=at,
                )
            )
            db.commit()

    def unpin_remote_start(self, charge_point_id: str, id_token: str) -> None:
        """Drop the pin of `id_token` at `charge_point_id`, if any."""
        with self._session() as db:
            db.exec(
                delete(RemoteStartPinRecord)
                .where(col(RemoteStartPinRecord.charge_point_id) == charge_point_id)
                .where(col(RemoteStartPinRecord.id_token) == id_token.upper())
            )
            db.commit()

    def remote_start_pin(self, charge_point_id: str, id_token: str) -> RemoteStartPinRecord | None:
        """The pin of `id_token` at `charge_point_id`, however old (the caller judges its age)."""
        with self._session() as db:
            return db.get(RemoteStartPinRecord, (charge_point_id, id_token.upper()))

    # Tariffs -----------------------------------------------------------------------------

    def add_tariff(self, tariff: Tariff, at: datetime) -> None:
        """Store a new tariff version; an existing (id, version) is never overwritten."""
        with self._session() as db:
            if db.get(TariffRecord, (tariff.id, tariff.version)) is not None:
                raise ValueError(f"tariff {tariff.id} version {tariff.version} exists; add a new version")
            db.add(
                TariffRecord(
                    id=tariff.id, version=tariff.version, body=tariff.model_dump_json(), created_at=at
                )
            )
            db.commit()

    def tariff(self, tariff_id: str, version: int | None = None) -> Tariff | None:
        """A given version, or the latest."""
        with self._session() as db:
            query = select(TariffRecord).where(TariffRecord.id == tariff_id)
            if version is not None:
                query = query.where(TariffRecord.version == version)
            record = db.exec(query.order_by(col(TariffRecord.version).desc())).first()
            return Tariff.model_validate_json(record.body) if record is not None else None

    # Session payments --------------------------------------------------------------------

    def start_session(self, record: SessionPaymentRecord) -> SessionPaymentRecord:
        """Begin paying for a session; a replayed start returns the first record unchanged."""
        with self._session() as db:
            existing = db.get(SessionPaymentRecord, record.session_id)
            if existing is not None:
                return existing
            db.add(record)
            db.commit()
            return record

    def session(self, session_id: int) -> SessionPaymentRecord | None:
        with self._session() as db:
            return db.get(SessionPaymentRecord, session_id)

    def update_session(self, session_id: int, **changes: object) -> None:
        with self._session() as db:
            db.exec(
                update(SessionPaymentRecord)
                .where(col(SessionPaymentRecord.session_id) == session_id)
                .values(**changes)
            )
            db.commit()

    def end_session(
        self, channel_id: str, session_id: int, billed: int, energy_wh: int, ended_at: datetime
    ) -> int | None:
        """End a running session at its final bill and give it its share of the channel's paid
        total, in one transaction; its shortfall, or None if it had ended already (a replay).

        The session joins the channel's unpaid sessions with its whole bill, then the paid total
        is attributed oldest first (`_pay_off_debts`): what vouchers paid beyond the earlier
        sessions' bills covers this one, and what was paid while an earlier session's debt was
        still recorded pays that debt first. The channel's row is held (on PostgreSQL), so a
        voucher stored meanwhile waits and then pays off what this end left unpaid.
        """
        with self.engine.connect() as db:
            ended = db.execute(
                update(SessionPaymentRecord)
                .where(col(SessionPaymentRecord.session_id) == session_id)
                .where(col(SessionPaymentRecord.status) == "active")
                .values(
                    billed=billed,
                    energy_wh=energy_wh,
                    ended_at=ended_at,
                    status=_status(billed),
                    shortfall=billed,
                )
            )
            if ended.rowcount == 0:
                db.rollback()
                return None
            paid = db.execute(
                core_select(col(ChannelRecord.paid))
                .where(col(ChannelRecord.channel_id) == channel_id)
                .with_for_update()
            ).scalar_one()
            shortfalls = _pay_off_debts(db, {channel_id: int(paid)})
            db.commit()
        return shortfalls.get(session_id, 0)

    def owed_on_channel(self, channel_id: str) -> int:
        """Everything billed on the channel so far, ended sessions and running ones."""
        with self._session() as db:
            return _owed(db, channel_id)

    def ended_totals(self, channel_id: str, except_session: int | None = None) -> Totals:
        """Billed and shortfall summed over the channel's ended sessions (but `except_session`)."""
        conditions: list[ColumnElement[bool]] = [
            col(SessionPaymentRecord.channel_id) == channel_id,
            col(SessionPaymentRecord.status).in_(("paid", "unpaid")),
        ]
        if except_session is not None:
            conditions.append(col(SessionPaymentRecord.session_id) != except_session)
        with self._session() as db:
            billed, shortfall = db.exec(
                select(
                    func.coalesce(func.sum(SessionPaymentRecord.billed), 0),
                    func.coalesce(func.sum(SessionPaymentRecord.shortfall), 0),
                ).where(*conditions)
            ).one()
            return Totals(int(billed), int(shortfall))

    def oldest_unsettled_end(self, channel_id: str) -> datetime | None:
        """When the longest-waiting ended session not yet covered by a claim ended."""
        with self._session() as db:
            return db.exec(
                select(SessionPaymentRecord.ended_at)
                .where(SessionPaymentRecord.channel_id == channel_id)
                .where(col(SessionPaymentRecord.settlement_id).is_(None))
                .where(col(SessionPaymentRecord.ended_at).is_not(None))
                .order_by(col(SessionPaymentRecord.ended_at))
                .limit(1)
            ).first()

    def active_sessions(self, channel_id: str) -> list[SessionPaymentRecord]:
        with self._session() as db:
            return _active(db, channel_id)

    def channel_state(self, channel_id: str) -> ChannelState:
        """The channel, its running sessions and all that is billed on it, in one transaction
        (what enforcement decides on after every reading and voucher: one round trip, not three)."""
        with self._session() as db:
            channel = db.get(ChannelRecord, channel_id)
            return ChannelState(channel, _active(db, channel_id), _owed(db, channel_id))

    # Settlements -------------------------------------------------------------------------

    def open_settlement(self, channel_id: str) -> SettlementRecord | None:
        """The channel's settlement still in flight, if any (there is at most one)."""
        with self._session() as db:
            return db.exec(
                select(SettlementRecord)
                .where(SettlementRecord.channel_id == channel_id)
                .where(col(SettlementRecord.status).in_(("intent", "built", "submitted")))
            ).first()

    def last_settlement(self, channel_id: str) -> SettlementRecord | None:
        with self._session() as db:
            return db.exec(
                select(SettlementRecord)
                .where(SettlementRecord.channel_id == channel_id)
                .order_by(col(SettlementRecord.id).desc())
            ).first()

    def settlements_in_flight(self) -> list[SettlementRecord]:
        with self._session() as db:
            rows = db.exec(
                select(SettlementRecord).where(
                    col(SettlementRecord.status).in_(("intent", "built", "submitted"))
                )
            )
            return list(rows)

    def begin_settlement(self, channel_id: str, close: bool, at: datetime) -> SettlementRecord | None:
        """Fix a claim of the channel's latest voucher and the ended sessions it covers.

        None when a settlement is already in flight or nothing new is unclaimed.
        """
        with self._session() as db:
            channel = db.get(ChannelRecord, channel_id, with_for_update=True)
            in_flight = db.exec(
                select(SettlementRecord)
                .where(SettlementRecord.channel_id == channel_id)
                .where(col(SettlementRecord.status).in_(("intent", "built", "submitted")))
            ).first()
            if channel is None or in_flight is not None or channel.paid <= channel.claimed:
                return None
            record = SettlementRecord(
                channel_id=channel_id,
                amount=channel.paid,
                voucher_nonce=channel.voucher_nonce,
                close=close,
                created_at=at,
            )
            db.add(record)
            db.flush()
            db.exec(
                update(SessionPaymentRecord)
                .where(col(SessionPaymentRecord.channel_id) == channel_id)
                .where(col(SessionPaymentRecord.status).in_(("paid", "unpaid")))
                .where(col(SessionPaymentRecord.settlement_id).is_(None))
                .values(settlement_id=record.id)
            )
            db.commit()
            return record

    def attach_covered_sessions(self, channel_id: str) -> int:
        """Attach ended sessions that no claim covers yet to the channel's latest confirmed claim,
        when that claim already paid for them; how many were attached.

        A claim made while a session ran carries its prepaid credit: when the session then ends
        within that credit, nothing new is unclaimed and no new claim comes, yet the session is
        settled by the earlier one. Only the paid part of each session (billed - shortfall) counts.
        """
        with self._session() as db:
            last = db.exec(
                select(SettlementRecord)
                .where(SettlementRecord.channel_id == channel_id)
                .where(SettlementRecord.status == "confirmed")
                .order_by(col(SettlementRecord.id).desc())
            ).first()
            ended = col(SessionPaymentRecord.status).in_(("paid", "unpaid"))
            waiting = list(
                db.exec(
                    select(SessionPaymentRecord.session_id).where(
                        SessionPaymentRecord.channel_id == channel_id,
                        ended,
                        col(SessionPaymentRecord.settlement_id).is_(None),
                    )
                )
            )
            if last is None or not waiting:
                return 0
            # Summed after the IDs were taken: a session ending in between only raises the sum.
            paid_for = db.exec(
                select(
                    func.coalesce(func.sum(SessionPaymentRecord.billed - SessionPaymentRecord.shortfall), 0)
                ).where(SessionPaymentRecord.channel_id == channel_id, ended)
            ).one()
            if int(paid_for) > last.amount:
                return 0  # some of it is not claimed yet: a new claim will cover these
            attached = db.exec(
                update(SessionPaymentRecord)
                .where(col(SessionPaymentRecord.session_id).in_(waiting))
                .where(col(SessionPaymentRecord.settlement_id).is_(None))
                .values(settlement_id=last.id)
            )
            db.commit()
            return int(attached.rowcount)

    def update_settlement(self, settlement_id: int, **changes: object) -> None:
        with self._session() as db:
            db.exec(
                update(SettlementRecord).where(col(SettlementRecord.id) == settlement_id).values(**changes)
            )
            db.commit()

    def confirm_settlement(self, settlement_id: int, milestone_index: int, proof: str, at: datetime) -> None:
        """Record the confirmed claim and raise the channel's claimed amount, atomically."""
        with self._session() as db:
            record = db.get(SettlementRecord, settlement_id)
            if record is None or record.status == "confirmed":
                return
            record.status, record.milestone_index, record.proof, record.confirmed_at = (
                "confirmed",
                milestone_index,
                proof,
                at,
            )
            db.add(record)
            db.exec(
                update(ChannelRecord)
                .where(col(ChannelRecord.channel_id) == record.channel_id)
                .where(col(ChannelRecord.claimed) < record.amount)
                .values(claimed=record.amount)
            )
            db.commit()
        self._credits.pop(record.channel_id, None)

    def settlement(self, settlement_id: int) -> SettlementRecord | None:
        with self._session() as db:
            return db.get(SettlementRecord, settlement_id)

    def all_channels(self) -> list[ChannelRecord]:
        with self._session() as db:
            return list(db.exec(select(ChannelRecord)))


@dataclass(frozen=True, slots=True)
class ChannelState:
    """A channel as enforcement sees it, read at one instant."""

    channel: ChannelRecord | None
    active: list[SessionPaymentRecord]
    owed: int  # billed on the channel so far, ended and running sessions


def _pay_off_debts(db: Connection, paid: Mapping[str, int]) -> dict[int, int]:
    """Attribute each channel's paid total to its unpaid sessions, oldest first, inside the
    caller's transaction; the new shortfall of every unpaid session seen.

    What is newly covered is what the sessions' recorded shortfalls exceed the channel's debt
    by (`debt.newly_covered`), so running this again changes nothing. A session paid off is
    `paid`; a session whose shortfall shrank leaves the claim it was attached to (which did
    not pay for the rest), so the next claim, which covers the voucher that paid, covers it too.
    """
    unpaid = _unpaid_by_channel(db, list(paid))
    if not unpaid:
        return {}
    billed = _ended_billed(db, list(unpaid))
    shortfalls: dict[int, int] = {}
    changes: list[dict[str, object]] = []
    for channel_id, sessions in unpaid.items():
        recorded = sum(shortfall for _, shortfall in sessions)
        covered = newly_covered(billed[channel_id], paid[channel_id], recorded)
        for (session_id, before), (_, after) in zip(sessions, attribute(sessions, covered), strict=True):
            shortfalls[session_id] = after
            if after != before:
                changes.append({"sid": session_id, "new_shortfall": after, "new_status": _status(after)})
    if changes:
        session = SessionPaymentRecord
        db.execute(
            update(session)
            .where(col(session.session_id) == bindparam("sid"))
            .values(shortfall=bindparam("new_shortfall"), status=bindparam("new_status"), settlement_id=None),
            changes,
        )
    return shortfalls


def _unpaid_by_channel(db: Connection, channel_ids: list[str]) -> dict[str, list[tuple[int, int]]]:
    """The channels' unpaid sessions as (session ID, shortfall), oldest first (by end, then ID)."""
    session = SessionPaymentRecord
    rows = (
        db.exec_driver_sql(_UNPAID_PSYCOPG, {"id": channel_ids})
        if db.dialect.driver == "psycopg"
        else db.execute(
            core_select(col(session.channel_id), col(session.session_id), col(session.shortfall))
            .where(col(session.channel_id).in_(channel_ids), col(session.status) == "unpaid")
            .order_by(col(session.channel_id), col(session.ended_at), col(session.session_id))
        )
    )
    unpaid: dict[str, list[tuple[int, int]]] = {}
    for channel_id, session_id, shortfall in rows:
        unpaid.setdefault(channel_id, []).append((int(session_id), int(shortfall)))
    return unpaid


def _ended_billed(db: Connection, channel_ids: list[str]) -> dict[str, int]:
    """What the channels' ended sessions were billed, per channel."""
    session = SessionPaymentRecord
    rows = db.execute(
        core_select(col(session.channel_id), func.sum(col(session.billed)))
        .where(col(session.channel_id).in_(channel_ids), col(session.status).in_(("paid", "unpaid")))
        .group_by(col(session.channel_id))
    )
    return {channel_id: int(total) for channel_id, total in rows}


def _status(shortfall: int) -> str:
    return "unpaid" if shortfall else "paid"


def _owed(db: Session, channel_id: str) -> int:
    total = db.exec(
        select(func.coalesce(func.sum(SessionPaymentRecord.billed), 0)).where(
            SessionPaymentRecord.channel_id == channel_id
        )
    ).one()
    return int(total)


def _active(db: Session, channel_id: str) -> list[SessionPaymentRecord]:
    rows = db.exec(
        select(SessionPaymentRecord)
        .where(SessionPaymentRecord.channel_id == channel_id)
        .where(SessionPaymentRecord.status == "active")
    )
    return list(rows)
