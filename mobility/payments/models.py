"""Payment tables: accounts and their id tokens, channels as the engine tracks them, tariff
versions, remote starts awaiting the charger, and what each session owes and has been paid.
Money is integer micro-units. The tables come from the Alembic migrations (`migrations/`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, LargeBinary, Text
from sqlmodel import Field, SQLModel

from mobility.db import UTCDateTime


class AccountRecord(SQLModel, table=True):
    """A payer: a driver or a fleet."""

    __tablename__ = "payment_account"

    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16)  # "driver" or "fleet"
    name: str = Field(default="", max_length=200)


class IdTokenRecord(SQLModel, table=True):
    """An RFID tag or app token, and the account it charges to (stored upper-case)."""

    __tablename__ = "payment_id_token"

    token: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(foreign_key="payment_account.id", index=True, max_length=64)
    # A fleet's tokens name the vehicle and driver they belong to (fleet reconciliation).
    vehicle_id: str | None = Field(default=None, index=True, max_length=64)
    driver_name: str | None = Field(default=None, max_length=200)


class ChannelRecord(SQLModel, table=True):
    """A payer's channel to the operator. `paid` is the best voucher's cumulative amount."""

    __tablename__ = "payment_channel"

    channel_id: str = Field(primary_key=True, max_length=64)  # hex
    account_id: str = Field(foreign_key="payment_account.id", index=True, max_length=64)
    payer_address: str = Field(max_length=66)  # hex of the 33-byte address
    deposit: int = Field(sa_type=BigInteger)
    claimed: int = Field(default=0, sa_type=BigInteger)
    paid: int = Field(default=0, sa_type=BigInteger)
    voucher_nonce: int = Field(default=0, sa_type=BigInteger)
    voucher: bytes | None = Field(default=None, sa_type=LargeBinary)  # the VoucherPayload wire form
    expiry: datetime = Field(sa_type=UTCDateTime)


class TariffRecord(SQLModel, table=True):
    """One version of a tariff (OCPI-shaped JSON); versions are never edited, only added."""

    __tablename__ = "payment_tariff"

    id: str = Field(primary_key=True, max_length=36)
    version: int = Field(primary_key=True)
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)


class RemoteStartPinRecord(SQLModel, table=True):
    """The channel a driver chose for a remote start, until the charger's start uses it up.

    On disk, not in memory: an engine restarting between the RemoteStart command and the
    charger's start must still accept the app token there and bill the chosen channel.
    """

    __tablename__ = "payment_remote_start_pin"

    charge_point_id: str = Field(primary_key=True, max_length=48)
    id_token: str = Field(primary_key=True, max_length=64)  # upper-case
    channel_id: str = Field(foreign_key="payment_channel.channel_id", max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)  # pins expire (PaymentSettings.pin_lifetime)


class SessionPaymentRecord(SQLModel, table=True):
    """What a charging session owes (`billed`, incl. VAT) on which channel, at which tariff."""

    __tablename__ = "payment_session"

    session_id: int = Field(primary_key=True)  # the charging session's ID
    charge_point_id: str = Field(max_length=48)
    connector_id: int
    transaction_ref: str = Field(max_length=64)
    channel_id: str = Field(foreign_key="payment_channel.channel_id", index=True, max_length=64)
    tariff_id: str = Field(max_length=36)
    tariff_version: int
    started_at: datetime = Field(sa_type=UTCDateTime)
    billed: int = Field(default=0, sa_type=BigInteger)
    energy_wh: int = Field(default=0, sa_type=BigInteger)
    status: str = Field(default="active", max_length=16)  # active, paid, unpaid
    shortfall: int = Field(default=0, sa_type=BigInteger)
    enforcement: str | None = Field(default=None, max_length=32)  # last limit/stop and why
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    settlement_id: int | None = Field(default=None, foreign_key="payment_settlement.id", index=True)


class SettlementRecord(SQLModel, table=True):
    """One claim of a channel's latest voucher, covering every session ended before it.

    Steps, each committed before the next begins: `intent` (amount and voucher fixed),
    `built` (the mined block and its ID stored), `submitted`, then `confirmed` (milestone
    index and inclusion proof) or `failed`. After a crash the same block bytes are submitted
    again, so a claim is never built twice and a voucher never claimed twice.
    """

    __tablename__ = "payment_settlement"

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(foreign_key="payment_channel.channel_id", index=True, max_length=64)
    amount: int = Field(sa_type=BigInteger)  # cumulative claimed once confirmed
    voucher_nonce: int = Field(sa_type=BigInteger)
    close: bool = False
    status: str = Field(default="intent", max_length=16)
    block_id: str | None = Field(default=None, max_length=64)
    block: bytes | None = Field(default=None, sa_type=LargeBinary)
    milestone_index: int | None = None
    proof: str | None = Field(default=None, sa_type=Text)  # InclusionProofOut JSON
    failure: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
