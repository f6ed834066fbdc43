"""Bodies of the payer APIs (`/driver`, `/fleet` and their streams): what a payer sends, and
what the engine answers about its account, channels and sessions. The server validates
requests and documents answers with these models, and the SDK builds its requests with the same
ones (its answers come back as JSON; `Model.model_validate(answer)` reads one). Keys, IDs and
signatures travel as hex; money in micro-units, energy in Wh.

The engine's constructors of the answers from its records live with the routes
(`mobility.api.driver_models`); the fleet's reconciliation and exports are not here yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from mobility.wire.codec import Voucher, VoucherPayload
from mobility.wire.domains import LOGIN_DOMAIN

HexKey = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$", description="Ed25519 public key, hex.")]
HexId = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$", description="32 bytes, hex.")]
HexSignature = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{128}$", description="Ed25519 signature, hex.")]
ChargePointId = Annotated[str, Field(min_length=1, max_length=48)]
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"  # no control characters (PostgreSQL text refuses NUL)


# Driver account ---------------------------------------------------------------------------


class SignUp(BaseModel):
    """A new driver: `signature` is the key's signature of `SIGNUP_DOMAIN + public key`, so
    nobody can sign up (and so take) a key they do not hold."""

    public_key: HexKey
    signature: HexSignature
    name: str = Field(default="", max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")  # PostgreSQL refuses NUL


class SignedUp(BaseModel):
    """The driver's account."""

    account_id: str


class ChallengeRequest(BaseModel):
    """Whose login this challenge is for."""

    public_key: HexKey


class ChallengeOut(BaseModel):
    """Sign `LOGIN_DOMAIN + bytes.fromhex(challenge)` with the driver's key."""

    challenge: str
    sign_prefix: str = LOGIN_DOMAIN.decode()
    expires_at: datetime


class Login(BaseModel):
    """A signed challenge."""

    public_key: HexKey
    challenge: HexId
    signature: HexSignature


class TokenOut(BaseModel):
    """A bearer token for the driver routes."""

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    account_id: str


# Channels and sessions --------------------------------------------------------------------


class OperatorOut(BaseModel):
    """Whom channels pay and who signs receipts: open channels to `address`."""

    public_key: str
    address: str = Field(description="hex of the 33-byte Ed25519 address")
    address_bech32: str


class ChannelIn(BaseModel):
    """A channel the payer opened on the ledger to the operator."""

    channel_id: HexId


class StartIn(BaseModel):
    """Start charging at a connector, paying from one of the driver's channels."""

    charge_point_id: ChargePointId
    connector_id: int = Field(ge=1, le=1000)
    channel_id: HexId


class ChannelOut(BaseModel):
    """A registered channel and its balance."""

    channel_id: str
    deposit: int
    paid: int = Field(description="the best voucher's cumulative amount")
    claimed: int = Field(description="claimed by the operator on the ledger")
    owed: int = Field(description="billed on this channel so far")
    owed_running: int = Field(description="billed so far by sessions still running")
    available: int = Field(description="what new sessions can draw on")
    voucher_nonce: int
    expiry: datetime
    state: str = Field(description="open, closing or closed")
    settlement_status: str | None


class CommandOut(BaseModel):
    """The charge point's answer to a command."""

    status: str
    payload: dict[str, Any]


class StartOut(BaseModel):
    """The remote start was accepted: the session appears on the stream once it begins."""

    charge_point_id: str
    connector_id: int
    channel_id: str
    id_token: str
    command: CommandOut


class StopOut(BaseModel):
    """The remote stop was sent; the session ends when the charger reports it."""

    session_id: int
    command: CommandOut


class SessionOut(BaseModel):
    """A session paid from one of the driver's channels."""

    session_id: int
    charge_point_id: str
    connector_id: int
    channel_id: str
    tariff_id: str
    tariff_version: int
    status: str = Field(description="active, paid or unpaid")
    energy_wh: int
    billed: int
    paid: int = Field(description="what the vouchers covered of the bill, once ended; 0 while active")
    shortfall: int
    enforcement: str | None
    started_at: datetime
    ended_at: datetime | None


# Fleet ------------------------------------------------------------------------------------


class PayerKeyIn(BaseModel):
    """A payer key and its proof: the key's signature over
    `b"mobility-fleet-payer-key:" + <the fleet's account ID, UTF-8>` (see `GET /fleet/me`)."""

    public_key: HexKey
    signature: HexSignature


class VehicleIn(BaseModel):
    """A vehicle to add; its ID is chosen by the server."""

    label: str = Field(min_length=1, max_length=200, pattern=PRINTABLE, examples=["Van 12 (B-MO 1234)"])


class TokenIn(BaseModel):
    """An RFID tag (OCPP idTag / idToken) for a vehicle, and who drives with it."""

    token: str = Field(
        min_length=1,
        max_length=36,
        pattern=r"^[!-~]+$",
        description="printable ASCII without spaces; stored upper-case",
        examples=["04A2B3C4D5"],
    )
    driver_name: str = Field(min_length=1, max_length=200, pattern=PRINTABLE)


# The payer stream (`/driver/stream`, `/fleet/stream`) -------------------------------------


class AuthMessage(BaseModel):
    """The first message on a stream: the bearer token or API key (browsers cannot set
    headers on a websocket)."""

    type: Literal["auth"]
    token: str = Field(max_length=1000)


class VoucherMessage(BaseModel):
    """A voucher from the payer: the wire form in hex, or its fields."""

    type: Literal["voucher"]
    id: str | int | None = None
    voucher: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]+$", max_length=400)
    channel_id: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    nonce: int | None = Field(default=None, ge=0, lt=2**64)
    amount: int | None = Field(default=None, ge=0, lt=2**64)
    public_key: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    signature: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{128}$")

    @classmethod
    def of(cls, payload: VoucherPayload) -> VoucherMessage:
        """The message carrying a signed voucher in its wire form."""
        return cls(type="voucher", voucher=payload.to_bytes().hex())

    def payload(self) -> VoucherPayload:
        """The voucher as the payment layer takes it (CodecError/ValueError if malformed)."""
        if self.voucher is not None:
            return VoucherPayload.from_bytes(bytes.fromhex(self.voucher))
        channel_id, nonce, amount = self.channel_id, self.nonce, self.amount
        public_key, signature = self.public_key, self.signature
        if channel_id is None or nonce is None or amount is None or public_key is None or signature is None:
            raise ValueError(
                "send `voucher` (hex) or all of channel_id, nonce, amount, public_key, signature"
            )
        body = Voucher(bytes.fromhex(channel_id), nonce, amount)
        return VoucherPayload(body, bytes.fromhex(public_key), bytes.fromhex(signature))


class PaymentRequestMessage(BaseModel):
    """The engine asks the payer to sign a voucher for `amount`, cumulative on `channel_id`
    (micro-units), while sessions run and once more after one ends owing its final bill."""

    type: Literal["payment_request"]
    channel_id: HexId
    session_ids: list[int]
    amount: int = Field(ge=0, description="micro-units, cumulative on the channel")
    owed: int = Field(description="micro-units billed on the channel")
    paid: int = Field(description="micro-units the best voucher covers")
    action: str
    reason: str | None
