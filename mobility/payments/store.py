"""Blocking database work of the payment layer; the service runs it in a worker thread.

Every change is one short transaction. Vouchers are stored with a compare-and-set on each
channel's voucher nonce, so two engine processes racing for one channel can never both win,
and a voucher acknowledged to the payer is on disk before the acknowledgement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mobility.payments.models import (
    AccountRecord,
    ChannelRecord,
    IdTokenRecord,
    RemoteStartPinRecord,
    SessionPaymentRecord,
    SettlementRecord,
    TariffRecord,
)
from mobility.payments.tariff import Tariff
from mobility.payments.vouchers import (
    ChannelCredit,
    VoucherRejectedError,
    verify_signatures,
)
from mobility.wire.codec import Ed25519Address, VoucherPayload


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


_CHANGING = ("billed", "energy_wh", "status", "shortfall", "enforcement", "ended_at")
"""The session row's fields that change after it is inserted."""


@dataclass(frozen=True, slots=True)
class VoucherWrite:
    """A voucher to check against its channel's state as the owner holds it."""

    credit: ChannelCredit
    payload: VoucherPayload


@dataclass(frozen=True, slots=True)
class ChannelBook:
    """What a channel's owner is loaded from (`PaymentStore.channel_book`)."""

    channel: ChannelRecord
    credit: ChannelCredit
    ended_billed: int
    unpaid: list[tuple[int, int, datetime]]  # (session ID, shortfall, ended at), oldest first
    running: list[SessionPaymentRecord]


class StaleVoucherError(RuntimeError):
    """Another voucher for the channel was stored first; re-read and check again."""


class PaymentStore:
    """Accounts, channels, tariffs and session payments in the engine's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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

    def add_id_token(self, token: str, account_id: str) -> bool:
        """Give `account_id` the token (stored upper-case); False, changing nothing, when another
        account holds it: a token has one owner (a driver's first remote start overwrote the
        fleet entry of its app token)."""
        normalized = token.upper()
        with self._session() as db:
            existing = db.get(IdTokenRecord, normalized)
            if existing is not None:
                return existing.account_id == account_id
            db.add(IdTokenRecord(token=normalized, account_id=account_id))
            try:
                db.commit()
            except IntegrityError:  # added concurrently
                db.rollback()
                winner = db.get(IdTokenRecord, normalized)
                return winner is not None and winner.account_id == account_id
        return True

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
        """Take a top-up or a later expiry read from the ledger; the deposit never shrinks
        (`PaymentService.channel_terms` also hands it to the channel's owner)."""
        with self._session() as db:
            db.exec(
                update(ChannelRecord)
                .where(col(ChannelRecord.channel_id) == channel_id)
                .where(col(ChannelRecord.deposit) <= deposit)
                .values(deposit=deposit, expiry=expiry)
            )
            db.commit()

    def channel(self, channel_id: str) -> ChannelRecord | None:
        with self._session() as db:
            return db.get(ChannelRecord, channel_id)

    def channels_of(self, account_id: str) -> list[ChannelRecord]:
        with self._session() as db:
            rows = db.exec(select(ChannelRecord).where(ChannelRecord.account_id == account_id))
            return list(rows)

    def channel_ids_of(self, account_id: str) -> list[str]:
        with self._session() as db:
            return list(
                db.exec(select(ChannelRecord.channel_id).where(ChannelRecord.account_id == account_id))
            )

    def channel_credit(self, channel_id: str) -> ChannelCredit | None:
        """The channel's voucher state as stored (re-read when another writer got there first)."""
        record = self.channel(channel_id)
        return channel_credit(record) if record is not None else None

    def channels_with_running_sessions(self) -> list[str]:
        """Channels that have a session recorded as running (their owners are loaded at start)."""
        with self._session() as db:
            query = select(SessionPaymentRecord.channel_id).where(SessionPaymentRecord.status == "active")
            return sorted(set(db.exec(query)))

    def channel_book(self, channel_id: str) -> ChannelBook | None:
        """Everything a channel's owner starts from, read in one transaction: the channel, what
        its ended sessions billed, which of them are unpaid (oldest first), the running ones."""
        with self._session() as db:
            channel = db.get(ChannelRecord, channel_id)
            if channel is None:
                return None
            on_channel = SessionPaymentRecord.channel_id == channel_id
            ended = col(SessionPaymentRecord.status).in_(("paid", "unpaid"))
            billed = db.exec(
                select(func.coalesce(func.sum(SessionPaymentRecord.billed), 0)).where(on_channel, ended)
            ).one()
            unpaid = db.exec(
                select(
                    SessionPaymentRecord.session_id,
                    SessionPaymentRecord.shortfall,
                    SessionPaymentRecord.ended_at,
                )
                .where(on_channel, ended, col(SessionPaymentRecord.shortfall) > 0)
                .order_by(col(SessionPaymentRecord.ended_at), col(SessionPaymentRecord.session_id))
            )
            return ChannelBook(
                channel,
                channel_credit(channel),
                int(billed),
                [(int(sid), int(shortfall), ended) for sid, shortfall, ended in unpaid if ended is not None],
                _active(db, channel_id),
            )

    def store_vouchers(self, writes: list[VoucherWrite]) -> list[ChannelCredit | VoucherRejectedError]:
        """Check and store vouchers in a transaction of their own; see `write_vouchers`."""
        with self.engine.begin() as connection:
            return self.write_vouchers(connection, writes)

    def write_vouchers(
        self, connection: Connection, writes: list[VoucherWrite]
    ) -> list[ChannelCredit | VoucherRejectedError]:
        """Check vouchers against their channel's state and store the accepted ones, in one
        transaction (group commit across channels; one voucher per channel per batch, as each
        channel's owner sends one at a time). Signatures are batch-verified. Each result is the
        channel's new state, or why its voucher was refused (changing nothing); StaleVoucherError
        when another writer changed one of the channels (the transaction must roll back).
        """
        verdicts = verify_signatures([write.payload for write in writes])
        results: list[ChannelCredit | VoucherRejectedError] = []
        changed: list[tuple[str, int, VoucherPayload]] = []
        for write, verdict in zip(writes, verdicts, strict=True):
            try:
                credit = write.credit.accept(write.payload, verdict)
            except VoucherRejectedError as refused:
                results.append(refused)
                continue
            read_nonce = write.credit.latest.voucher.nonce if write.credit.latest is not None else 0
            changed.append((write.credit.channel_id.hex(), read_nonce, write.payload))
            results.append(credit)
        if changed:
            self._store_latest(connection, changed)
        return results

    @staticmethod
    def _store_latest(connection: Connection, changed: list[tuple[str, int, VoucherPayload]]) -> None:
        """Write each channel's new latest voucher if its nonce on disk is still the one read.

        All or nothing: when any channel moved under us, raise StaleVoucherError (the caller's
        transaction rolls back).
        On PostgreSQL (psycopg) this is one set-based UPDATE over arrays: one round trip and one
        constant statement the server keeps prepared, where an executemany cost a pipelined
        statement and its parameters per row.
        SQLite, in-process, keeps the per-row UPDATE as an executemany.
        """
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
            raise StaleVoucherError(f"{len(changed) - updated} of {len(changed)} channels changed")

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

    def write_sessions(
        self, connection: Connection, rows: list[tuple[SessionPaymentRecord, bool]]
    ) -> list[None]:
        """Write session rows in the caller's transaction (group commit across channels):
        inserted when flagged new, else their changing fields updated."""
        table = SessionPaymentRecord.__table__  # type: ignore[attr-defined]
        inserts = [record.model_dump() for record, new in rows if new]
        updates = [
            {"_id": record.session_id, **{name: getattr(record, name) for name in _CHANGING}}
            for record, new in rows
            if not new
        ]
        if inserts:
            connection.execute(insert(table), inserts)
        if updates:
            statement = (
                update(table)
                .where(table.c.session_id == bindparam("_id"))
                .values({name: bindparam(name) for name in _CHANGING})
            )
            connection.execute(statement, updates)
        return [None] * len(rows)

    def write_shortfalls(self, connection: Connection, batches: list[list[tuple[int, int]]]) -> list[None]:
        """Ended sessions' new, smaller shortfalls once vouchers paid their debt (0: now paid),
        each item a list of (session ID, shortfall), in the caller's transaction.

        Each leaves the claim it was attached to, which did not pay for the rest: the claim of
        the voucher that paid it covers it (`begin_settlement`, or `attach_covered_sessions`
        onto a confirmed claim that already covers it)."""
        table = SessionPaymentRecord.__table__  # type: ignore[attr-defined]
        rows = [
            {"_id": session_id, "shortfall": shortfall, "status": "unpaid" if shortfall else "paid"}
            for shortfalls in batches
            for session_id, shortfall in shortfalls
        ]
        if rows:
            connection.execute(
                update(table)
                .where(table.c.session_id == bindparam("_id"))
                .values(shortfall=bindparam("shortfall"), status=bindparam("status"), settlement_id=None),
                rows,
            )
        return [None] * len(batches)

    def update_session(self, session_id: int, **changes: object) -> None:
        with self._session() as db:
            db.exec(
                update(SessionPaymentRecord)
                .where(col(SessionPaymentRecord.session_id) == session_id)
                .values(**changes)
            )
            db.commit()

    def oldest_unsettled_ends(self) -> dict[str, datetime]:
        """Per channel, when its longest-waiting ended session not yet covered by a claim ended
        (channels with none are left out): one query for the settlement pass."""
        with self._session() as db:
            rows = db.exec(
                select(SessionPaymentRecord.channel_id, func.min(SessionPaymentRecord.ended_at))
                .where(col(SessionPaymentRecord.settlement_id).is_(None))
                .where(col(SessionPaymentRecord.ended_at).is_not(None))
                .group_by(col(SessionPaymentRecord.channel_id))
            ).all()
            return {channel_id: ended_at for channel_id, ended_at in rows if ended_at is not None}

    def channels_with_unclaimed_ends(self) -> set[str]:
        """Channels with ended sessions no claim covers yet (what `attach_covered_sessions` can
        attach): one query, so the settlement pass skips the others."""
        with self._session() as db:
            rows = db.exec(
                select(SessionPaymentRecord.channel_id)
                .where(col(SessionPaymentRecord.status).in_(("paid", "unpaid")))
                .where(col(SessionPaymentRecord.settlement_id).is_(None))
                .distinct()
            ).all()
            return set(rows)

    def active_sessions(self, channel_id: str) -> list[SessionPaymentRecord]:
        with self._session() as db:
            return _active(db, channel_id)

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

    def settlement(self, settlement_id: int) -> SettlementRecord | None:
        with self._session() as db:
            return db.get(SettlementRecord, settlement_id)

    def all_channels(self) -> list[ChannelRecord]:
        with self._session() as db:
            return list(db.exec(select(ChannelRecord)))


def _active(db: Session, channel_id: str) -> list[SessionPaymentRecord]:
    rows = db.exec(
        select(SessionPaymentRecord)
        .where(SessionPaymentRecord.channel_id == channel_id)
        .where(SessionPaymentRecord.status == "active")
    )
    return list(rows)
