"""One payer account's view of the payment layer: its app token, channels with their balance,
sessions newest first, and session receipts. Blocking database reads (callers use a thread).

Everything is looked up by account as well as by ID, so one driver can never read another's
rows: a row of someone else is simply "not found".
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from mobility.payments.models import ChannelRecord, SessionPaymentRecord, SettlementRecord
from mobility.payments.store import PaymentStore

APP_TOKEN_PREFIX = "APP"
_APP_TOKEN = re.compile(r"APP[0-9A-F]{16}")


def app_id_token(account_id: str) -> str:
    """The id token the driver app's remote starts use: 19 characters, within OCPP 1.6's
    idTag limit of 20, derived from the account so it never needs to be looked up."""
    return APP_TOKEN_PREFIX + hashlib.blake2b(account_id.encode(), digest_size=8).hexdigest().upper()


def is_app_token(token: str) -> bool:
    """Whether `token` has the shape of a driver app's token (`app_id_token`): that namespace is
    the apps' alone (an RFID UID is hex, so none has this shape), so nobody else may claim one,
    whether or not its driver has used it yet."""
    return _APP_TOKEN.fullmatch(token.upper()) is not None


@dataclass(frozen=True, slots=True)
class ChannelBalance:
    """What a channel holds, in micro-units: `available` is what new sessions can draw on."""

    record: ChannelRecord
    owed: int  # billed on the channel so far, ended and running sessions
    owed_running: int  # billed so far by sessions still running
    available: int  # deposit - max(owed, paid), the rule the payment layer authorizes with
    state: str  # open, closing (a closing claim in flight) or closed
    settlement_status: str | None  # the latest claim's status


def _session(store: PaymentStore) -> Session:
    return Session(store.engine, expire_on_commit=False)


def channel_of(store: PaymentStore, account_id: str, channel_id: str) -> ChannelRecord | None:
    """The account's channel, or None (also when it is someone else's)."""
    with _session(store) as db:
        record = db.get(ChannelRecord, channel_id.lower())
    return record if record is not None and record.account_id == account_id else None


def channels_page(
    store: PaymentStore, account_id: str, limit: int, offset: int
) -> tuple[list[ChannelRecord], int]:
    """A page of the account's channels (by soonest expiry) and how many there are."""
    with _session(store) as db:
        mine = ChannelRecord.account_id == account_id
        total = db.exec(select(func.count()).select_from(ChannelRecord).where(mine)).one()
        rows = db.exec(
            select(ChannelRecord)
            .where(mine)
            .order_by(col(ChannelRecord.expiry), col(ChannelRecord.channel_id))
            .offset(offset)
            .limit(limit)
        )
        return list(rows), int(total)


def channel_balance(store: PaymentStore, record: ChannelRecord) -> ChannelBalance:
    """The channel's money as the payment layer sees it."""
    with _session(store) as db:
        return _balance(db, record)


def _balance(db: Session, record: ChannelRecord) -> ChannelBalance:
    on_channel = SessionPaymentRecord.channel_id == record.channel_id
    owed = db.exec(select(func.coalesce(func.sum(SessionPaymentRecord.billed), 0)).where(on_channel)).one()
    running = db.exec(
        select(func.coalesce(func.sum(SessionPaymentRecord.billed), 0))
        .where(on_channel)
        .where(SessionPaymentRecord.status == "active")
    ).one()
    last = db.exec(
        select(SettlementRecord)
        .where(SettlementRecord.channel_id == record.channel_id)
        .order_by(col(SettlementRecord.id).desc())
        .limit(1)
    ).first()
    state = "open"
    if last is not None and last.close and last.status != "failed":
        state = "closed" if last.status == "confirmed" else "closing"
    owed, running = int(owed), int(running)
    available = max(record.deposit - max(owed, record.paid), 0) if state == "open" else 0
    return ChannelBalance(record, owed, running, available, state, last.status if last else None)


def sessions_page(
    store: PaymentStore, account_id: str, limit: int, offset: int
) -> tuple[list[SessionPaymentRecord], int]:
    """A page of the account's paid-for sessions, newest first, and how many there are."""
    with _session(store) as db:
        mine = (
            select(SessionPaymentRecord)
            .join(ChannelRecord, col(ChannelRecord.channel_id) == col(SessionPaymentRecord.channel_id))
            .where(ChannelRecord.account_id == account_id)
        )
        total = db.exec(select(func.count()).select_from(mine.subquery())).one()
        rows = db.exec(
            mine.order_by(
                col(SessionPaymentRecord.started_at).desc(), col(SessionPaymentRecord.session_id).desc()
            )
            .offset(offset)
            .limit(limit)
        )
        return list(rows), int(total)


def session_of(store: PaymentStore, account_id: str, session_id: int) -> SessionPaymentRecord | None:
    """The account's session, or None (also when it is someone else's)."""
    with _session(store) as db:
        record = db.get(SessionPaymentRecord, session_id)
        if record is None:
            return None
        channel = db.get(ChannelRecord, record.channel_id)
    return record if channel is not None and channel.account_id == account_id else None


def settlement_of(store: PaymentStore, record: SessionPaymentRecord) -> SettlementRecord | None:
    """The claim that covers the session, once there is one."""
    if record.settlement_id is None:
        return None
    with _session(store) as db:
        return db.get(SettlementRecord, record.settlement_id)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def receipt_document(
    record: SessionPaymentRecord,
    settlement: SettlementRecord | None,
    currency: str | None,
    issued_at: datetime,
) -> dict[str, Any]:
    """The unsigned receipt of an ended session (sign it with `receipts.sign_receipt`).

    `paid` is what the vouchers cover of the bill; the settlement reference (claim block,
    milestone, inclusion proof) is filled once the claim is confirmed on the ledger.
    """
    confirmed = settlement is not None and settlement.status == "confirmed"
    reference: dict[str, Any] | None = None
    if confirmed and settlement is not None and settlement.proof is not None:
        reference = {
            "block_id": settlement.block_id,
            "milestone_index": settlement.milestone_index,
            "inclusion_proof": json.loads(settlement.proof),
            "confirmed_at": _iso(settlement.confirmed_at),
        }
    return {
        "kind": "mobility.session-receipt",
        "session_id": record.session_id,
        "charge_point_id": record.charge_point_id,
        "connector_id": record.connector_id,
        "channel_id": record.channel_id,
        "tariff_id": record.tariff_id,
        "tariff_version": record.tariff_version,
        "currency": currency,
        "started_at": _iso(record.started_at),
        "ended_at": _iso(record.ended_at),
        "energy_wh": record.energy_wh,
        "billed": record.billed,
        "paid": record.billed - record.shortfall,
        "status": record.status,
        "settlement_status": settlement.status if settlement is not None else "pending",
        "settlement": reference,
        "issued_at": _iso(issued_at),
    }
