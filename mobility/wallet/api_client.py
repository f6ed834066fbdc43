"""Async clients of the engine's payer APIs: `DriverApi` for apps and simulated drivers,
`FleetApi` for a fleet's payment wallet. Both pay the same way (`PayerApi`): open channels
with the payer's own key, register them, and answer payment requests on the live stream.

It holds the driver's key (PyNaCl: client-side signing), logs in by signing the server's
challenge, opens channels on the ledger through the same server's `/ledger` routes, registers
them, starts and stops sessions, and on the live stream answers payment requests with vouchers
from a `DriverWallet`. Receipts are checked offline against the operator key pinned at the
first `operator()` call (or given up front).

    api = DriverApi(http, seed)
    await api.sign_up(); await api.log_in()
    _, channel_id = await api.open_channel(deposit, expiry)   # then wait for a milestone
    await api.register_channel(channel_id)
    await api.start("CP-1", 1, channel_id)
    async with api.stream() as stream:
        update = await stream.until(lambda m: m["type"] == "session" and m["status"] != "active")
    receipt = await api.receipt(update["session_id"])         # raises if it does not verify

A fleet proves it holds its payer key, then registers channels paying from it and answers the
requests for its vehicles' RFID sessions on `/fleet/stream`:

    fleet = FleetApi(http, api_key, seed)
    await fleet.register_payer_key()
    _, channel_id = await fleet.open_channel(deposit, expiry)  # then wait for a milestone
    await fleet.register_channel(channel_id)
    async with fleet.stream() as stream:                       # auto-pays with the wallet
        await stream.until(lambda m: m["type"] == "session" and m["event"] == "SessionEnded")
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import httpx
import nacl.signing
from pydantic import BaseModel, ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from mobility.wallet.driver import DriverWallet, PaymentRefusedError
from mobility.wallet.ledger import Wallet
from mobility.wallet.ledger_client import HttpClient
from mobility.wire.codec import Ed25519Address
from mobility.wire.domains import FLEET_PAYER_KEY_DOMAIN, LOGIN_DOMAIN, SIGNUP_DOMAIN
from mobility.wire.payer_api import (
    AuthMessage,
    ChallengeOut,
    ChallengeRequest,
    ChannelIn,
    Login,
    OperatorOut,
    PayerKeyIn,
    PaymentRequestMessage,
    SignedUp,
    SignUp,
    StartIn,
    TokenIn,
    TokenOut,
    VehicleIn,
    VoucherMessage,
)
from mobility.wire.receipts import verify_receipt

Message = dict[str, Any]


class ApiError(RuntimeError):
    """The API answered with a problem document; `problem["type"]` says which kind."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status}: {problem.get('title')}: {problem.get('detail')}")
        self.status = status
        self.problem = problem

    @property
    def kind(self) -> str:
        """The problem's kind (`urn:mobility:problem:<kind>`)."""
        return str(self.problem.get("type", "")).rsplit(":", 1)[-1]


DriverApiError = ApiError  # the name it had before fleets had an SDK


class ReceiptInvalidError(ValueError):
    """A receipt whose operator signature does not verify."""


class PayerApi:
    """What every payer does with the engine: its key and ledger wallet, the operator's key,
    channels opened, registered and closed under `prefix` ("/driver" or "/fleet"), and the
    live stream there. Subclasses say how a call is authenticated."""

    prefix = ""

    def __init__(
        self,
        http: httpx.AsyncClient,
        seed: bytes,
        max_step: int = 5_000_000,
        operator_public_key: bytes | None = None,
    ) -> None:
        self.http = http
        self.seed = seed
        self._key = nacl.signing.SigningKey(seed)
        self.public_key = bytes(self._key.verify_key)
        self.max_step = max_step
        self.account_id: str | None = None
        self.operator_public_key = operator_public_key
        self._operator_address: Ed25519Address | None = None
        self._wallet: DriverWallet | None = None

    # Plumbing ----------------------------------------------------------------------------

    def credential(self) -> str:
        """The bearer credential of this payer's calls and stream."""
        raise NotImplementedError

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential()}"}

    async def _call(
        self, method: str, path: str, body: BaseModel | None = None, auth: bool = True, **params: Any
    ) -> Any:
        response = await self.http.request(
            method,
            path,
            json=body.model_dump(mode="json") if body is not None else None,
            params=params or None,
            headers=self._headers() if auth else None,
        )
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"title": response.reason_phrase, "detail": response.text}
            raise ApiError(response.status_code, problem)
        return response.json()

    async def operator(self) -> Message:
        """The operator's key and address; pins the key receipts are checked with."""
        info: Message = await self._call("GET", f"{self.prefix}/operator")
        operator = OperatorOut.model_validate(info)
        if self.operator_public_key is None:
            self.operator_public_key = bytes.fromhex(operator.public_key)
        self._operator_address = Ed25519Address.from_bytes(bytes.fromhex(operator.address))
        return info

    # Ledger and channels -----------------------------------------------------------------

    async def wallet(self) -> DriverWallet:
        """The payer's ledger wallet, through the server's `/ledger` routes."""
        if self._wallet is None:
            info = (await self.http.get("/ledger/info")).json()
            ledger = Wallet(HttpClient(self.http, info["bech32_hrp"]), self.seed)
            self._wallet = DriverWallet(ledger, self.max_step)
        return self._wallet

    async def open_channel(self, deposit: int, expiry: datetime) -> tuple[bytes, bytes]:
        """Open a channel to the operator on the ledger: (block ID, channel ID). Register it
        once a milestone confirms the block."""
        if self._operator_address is None:
            await self.operator()
        assert self._operator_address is not None
        return await (await self.wallet()).open_channel(self._operator_address, deposit, expiry)

    async def top_up(self, channel_id: bytes, amount: int) -> bytes:
        """Add to a channel's deposit on the ledger; `refresh_channel` once confirmed."""
        return await (await self.wallet()).top_up(channel_id, amount)

    async def register_channel(self, channel_id: bytes) -> Message:
        """Have the engine accept a confirmed channel for payments."""
        body = ChannelIn(channel_id=channel_id.hex())
        result: Message = await self._call("POST", f"{self.prefix}/channels", body)
        return result

    async def refresh_channel(self, channel_id: bytes) -> Message:
        """Have the engine re-read the channel's deposit after a top-up."""
        result: Message = await self._call("POST", f"{self.prefix}/channels/{channel_id.hex()}/refresh")
        return result

    async def channel(self, channel_id: bytes) -> Message:
        """A channel's balance."""
        result: Message = await self._call("GET", f"{self.prefix}/channels/{channel_id.hex()}")
        return result

    async def channels(self, limit: int = 50, offset: int = 0) -> Message:
        """A page of channels."""
        result: Message = await self._call("GET", f"{self.prefix}/channels", limit=limit, offset=offset)
        return result

    async def close_channel(self, channel_id: bytes) -> Message:
        """Ask the operator to settle and close the channel."""
        result: Message = await self._call("POST", f"{self.prefix}/channels/{channel_id.hex()}/close")
        return result


class DriverApi(PayerApi):
    """One driver's session with the engine's API."""

    prefix = "/driver"

    def __init__(
        self,
        http: httpx.AsyncClient,
        seed: bytes,
        max_step: int = 5_000_000,
        operator_public_key: bytes | None = None,
    ) -> None:
        super().__init__(http, seed, max_step, operator_public_key)
        self.token: str | None = None

    def credential(self) -> str:
        if self.token is None:
            raise RuntimeError("log in first")
        return self.token

    # Account -----------------------------------------------------------------------------

    async def sign_up(self, name: str = "") -> str:
        """Create the account for this key (proving it holds the key); its ID."""
        proof = self._key.sign(SIGNUP_DOMAIN + self.public_key).signature.hex()
        body = SignUp(public_key=self.public_key.hex(), name=name, signature=proof)
        answer = await self._call("POST", "/driver/signup", body, auth=False)
        self.account_id = SignedUp.model_validate(answer).account_id
        return self.account_id

    async def log_in(self) -> str:
        """Sign a fresh challenge; keeps and returns the bearer token."""
        key = self.public_key.hex()
        asked = ChallengeRequest(public_key=key)
        issued = ChallengeOut.model_validate(
            await self._call("POST", "/driver/login/challenge", asked, auth=False)
        )
        challenge = bytes.fromhex(issued.challenge)
        signature = self._key.sign(LOGIN_DOMAIN + challenge).signature
        body = Login(public_key=key, challenge=challenge.hex(), signature=signature.hex())
        token = TokenOut.model_validate(await self._call("POST", "/driver/login", body, auth=False))
        self.token, self.account_id = token.access_token, token.account_id
        return token.access_token

    # Charging ----------------------------------------------------------------------------

    async def chargers(self, lat: float, lon: float, radius_km: float = 5.0) -> Message:
        """Charge points nearby, nearest first."""
        result: Message = await self._call("GET", "/driver/chargers", lat=lat, lon=lon, radius_km=radius_km)
        return result

    async def start(self, charge_point_id: str, connector_id: int, channel_id: bytes) -> Message:
        """Remote start; DriverApiError with kind "payment-required" if the channel is short."""
        body = StartIn(
            charge_point_id=charge_point_id, connector_id=connector_id, channel_id=channel_id.hex()
        )
        result: Message = await self._call("POST", "/driver/sessions", body)
        return result

    async def stop(self, session_id: int) -> Message:
        """Remote stop."""
        result: Message = await self._call("POST", f"/driver/sessions/{session_id}/stop")
        return result

    async def sessions(self, limit: int = 50, offset: int = 0) -> Message:
        """A page of sessions, newest first."""
        result: Message = await self._call("GET", "/driver/sessions", limit=limit, offset=offset)
        return result

    async def session(self, session_id: int) -> Message:
        """One session."""
        result: Message = await self._call("GET", f"/driver/sessions/{session_id}")
        return result

    async def receipt(self, session_id: int) -> Message:
        """A session's receipt, verified against the pinned operator key."""
        if self.operator_public_key is None:
            await self.operator()
        assert self.operator_public_key is not None
        receipt: Message = await self._call("GET", f"/driver/sessions/{session_id}/receipt")
        if not verify_receipt(receipt, self.operator_public_key):
            raise ReceiptInvalidError(f"receipt of session {session_id} does not verify")
        return receipt

    def stream(self, auto_pay: bool = True) -> DriverStream:
        """The live stream (an async context manager)."""
        return DriverStream(self, auto_pay)


class FleetApi(PayerApi):
    """A fleet's payment wallet with the engine's fleet API: one payer key (from `seed`) and
    the fleet's API key. A fleet paying from several keys runs one `FleetApi` per key (each
    stream then answers only the channels its own wallet opened)."""

    prefix = "/fleet"

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_key: str,
        seed: bytes,
        max_step: int = 5_000_000,
        operator_public_key: bytes | None = None,
    ) -> None:
        super().__init__(http, seed, max_step, operator_public_key)
        self.api_key = api_key

    def credential(self) -> str:
        return self.api_key

    async def me(self) -> Message:
        """The fleet's account ID (`tenant_id`) and the key's scopes."""
        info: Message = await self._call("GET", "/fleet/me")
        self.account_id = str(info["tenant_id"])
        return info

    async def register_payer_key(self) -> Message:
        """Prove to the engine that this fleet holds the payer key: sign the fleet's account
        ID under the payer-key domain (the signature names the fleet, so nobody can use it to
        claim the key for another account)."""
        if self.account_id is None:
            await self.me()
        assert self.account_id is not None
        signature = self._key.sign(FLEET_PAYER_KEY_DOMAIN + self.account_id.encode()).signature
        body = PayerKeyIn(public_key=self.public_key.hex(), signature=signature.hex())
        result: Message = await self._call("POST", "/fleet/payer-keys", body)
        return result

    async def add_vehicle(self, label: str) -> Message:
        """Add a vehicle; it comes back with its server-chosen ID."""
        result: Message = await self._call("POST", "/fleet/vehicles", VehicleIn(label=label))
        return result

    async def add_token(self, vehicle_id: str, token: str, driver_name: str) -> Message:
        """Give a vehicle an RFID token: its sessions are paid from the fleet's channels."""
        body = TokenIn(token=token, driver_name=driver_name)
        result: Message = await self._call("POST", f"/fleet/vehicles/{vehicle_id}/tokens", body)
        return result

    async def reconciliation(self, start: datetime, end: datetime, page: int = 200) -> Message:
        """The reconciliation of sessions started in [start, end), every page of it: the first
        answer (totals and groups) with `sessions["items"]` holding all the sessions."""
        period = {"from": start.isoformat(), "to": end.isoformat()}
        first: Message = await self._call(
            "GET", "/fleet/reconciliation", None, True, **period, limit=page, offset=0
        )
        items = list(first["sessions"]["items"])
        while len(items) < first["sessions"]["total"]:
            more = await self._call(
                "GET", "/fleet/reconciliation", None, True, **period, limit=page, offset=len(items)
            )
            if not more["sessions"]["items"]:
                break  # the period changed under us: return what there is
            items.extend(more["sessions"]["items"])
        first["sessions"]["items"] = items
        return first

    def stream(self, auto_pay: bool = True) -> FleetStream:
        """The fleet's payment stream (an async context manager)."""
        return FleetStream(self, auto_pay)


class PaymentStream:
    """A payer's live stream. Read it with `receive`/`until`; with `auto_pay`, every payment
    request read is answered with a voucher from the payer's wallet (within its own limits)."""

    def __init__(self, api: PayerApi, auto_pay: bool) -> None:
        self.api = api
        self.auto_pay = auto_pay
        self.refused: list[tuple[Message, str]] = []  # requests the wallet would not sign, why
        self._socket: ClientConnection | None = None

    async def __aenter__(self) -> Self:
        base = str(self.api.http.base_url).rstrip("/")
        url = base.replace("https://", "wss://").replace("http://", "ws://") + f"{self.api.prefix}/stream"
        self._socket = await connect(url)
        await self._socket.send(AuthMessage(type="auth", token=self.api.credential()).model_dump_json())
        try:
            ready = await self._receive_raw()
        except ConnectionClosed as closed:
            raise ApiError(401, {"title": "stream refused", "detail": str(closed)}) from closed
        if ready.get("type") != "ready":
            raise ApiError(401, {"title": "stream refused", "detail": str(ready)})
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._socket is not None:
            await self._socket.close()

    async def _receive_raw(self) -> Message:
        assert self._socket is not None, "use `async with api.stream()`"
        message: Message = json.loads(await self._socket.recv())
        return message

    async def send(self, message: Message) -> None:
        """Send a raw message (e.g. a voucher built elsewhere)."""
        assert self._socket is not None, "use `async with api.stream()`"
        await self._socket.send(json.dumps(message))

    async def receive(self) -> Message:
        """The next message (answering it first if it is a payment request and auto_pay is on)."""
        message = await self._receive_raw()
        if self.auto_pay and message.get("type") == "payment_request":
            await self._pay(message)
        return message

    async def until(self, predicate: Callable[[Message], bool]) -> Message:
        """Read until a message satisfies `predicate`; that message."""
        while True:
            message = await self.receive()
            if predicate(message):
                return message

    async def _pay(self, request: Message) -> None:
        """Sign the amount asked, within the wallet's own limits (deposit, `max_step`).

        Whatever the request's sessions are doing: a final bill comes after its session ended
        (the charger reported the energy only at the stop), and is owed all the same; refusing
        it would leave the channel in debt and the payer refused at the next start. The limits
        are what keep a stuck or hostile engine from taking more.
        """
        wallet = await self.api.wallet()
        try:
            asked = PaymentRequestMessage.model_validate(request)
        except ValidationError as error:
            self.refused.append((request, f"malformed request: {error}"))
            return
        channel_id, amount = bytes.fromhex(asked.channel_id), asked.amount
        try:
            if amount <= wallet.signed(channel_id):
                return  # signed for that much already
            voucher = wallet.pay(channel_id, amount)
        except PaymentRefusedError as error:
            self.refused.append((request, str(error)))
            return
        await self.send(VoucherMessage.of(voucher).model_dump(exclude_none=True))


class DriverStream(PaymentStream):
    """The driver's live stream (`/driver/stream`)."""


class FleetStream(PaymentStream):
    """The fleet's payment stream (`/fleet/stream`): its vehicles' sessions and the payment
    requests for its channels."""
