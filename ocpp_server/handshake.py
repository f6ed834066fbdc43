"""The HTTP side of a connection, decided before the websocket upgrade.

Path `/ocpp/<percent-encoded charge point ID>` (at most 48 characters decoded); unknown
charge points get 404 unless unknown ones are admitted (accepted outright, or registered
pending an operator's approval, so BootNotification answers Pending); security profile 1/2 is HTTP Basic
auth with the charge point's password (over TLS for profile 2), 401 on failure. Failed attempts
are throttled per charge point and source address (`auth_throttle.py`: 429 before hashing), and
hashing runs on threads of its own, 503 when they are full (`mobility.charging.passwords`).
Profile 3 (mutual TLS) would check the client certificate here, against the charge point ID.
"""

from __future__ import annotations

import base64
import binascii
import math
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from mobility.charging.service import ChargingService
from mobility.offload import BusyError
from ocpp_server.auth_throttle import AuthThrottle

PATH_PREFIX = "/ocpp/"
MAX_ID_LENGTH = 48
SUBPROTOCOLS = ("ocpp2.1", "ocpp2.0.1", "ocpp1.6")


def charge_point_id_from_path(path: str) -> str | None:
    """The decoded charge point ID, or None if the path is not a valid OCPP endpoint."""
    raw = urlsplit(path).path
    if not raw.startswith(PATH_PREFIX):
        return None
    encoded = raw[len(PATH_PREFIX) :]
    if not encoded or "/" in encoded:
        return None
    decoded = unquote(encoded, errors="strict")
    if not decoded or len(decoded) > MAX_ID_LENGTH or not decoded.isprintable():
        return None
    return decoded


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic` header, or None."""
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def select_subprotocol(_connection: ServerConnection, offered: list[str] | tuple[str, ...]) -> str | None:
    """Our most preferred version among those offered, or None: the handler then closes."""
    for protocol in SUBPROTOCOLS:
        if protocol in offered:
            return protocol
    return None


class Gatekeeper:
    """`process_request` for the server: 404 / 401 / 429 / 503 before the upgrade, or let it through."""

    def __init__(
        self,
        service: ChargingService,
        accept_unknown: bool,
        unknown_pending: bool = False,
        throttle: AuthThrottle | None = None,
    ) -> None:
        self._service = service
        self._accept_unknown = accept_unknown
        self._unknown_pending = unknown_pending
        self.throttle = throttle or AuthThrottle(clock=service.clock)

    async def __call__(self, connection: ServerConnection, request: Request) -> Response | None:
        try:
            charge_point_id = charge_point_id_from_path(request.path)
        except UnicodeDecodeError:
            charge_point_id = None
        if charge_point_id is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not an OCPP endpoint\n")
        record = await self._service.charge_point(charge_point_id)
        if record is None:
            if not self._accept_unknown:
                return connection.respond(HTTPStatus.NOT_FOUND, "Unknown charge point\n")
            record = await self._service.admit_unknown(charge_point_id, self._unknown_pending)
        if record.password_hash is None:
            return None
        address = _source_address(connection)
        retry = self.throttle.admit(charge_point_id, address)
        if retry is not None:  # refused before any hashing
            return _retry_later(connection, HTTPStatus.TOO_MANY_REQUESTS, retry, "Too many failed attempts\n")
        credentials = basic_credentials(request.headers.get("Authorization"))
        if credentials is None or credentials[0] != charge_point_id:
            return _unauthorized(connection)
        try:
            right = await self._service.check_password(record, credentials[1])
        except BusyError:
            self.throttle.abandoned(charge_point_id, address)
            return _retry_later(connection, HTTPStatus.SERVICE_UNAVAILABLE, 1.0, "Busy: try again\n")
        if not right:
            return _unauthorized(connection)
        self.throttle.succeeded(charge_point_id, address)
        return None


def _source_address(connection: ServerConnection) -> str:
    remote = connection.remote_address
    return str(remote[0]) if remote else "unknown"


def _unauthorized(connection: ServerConnection) -> Response:
    response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
    response.headers["WWW-Authenticate"] = 'Basic realm="ocpp", charset="UTF-8"'
    return response


def _retry_later(connection: ServerConnection, status: HTTPStatus, seconds: float, text: str) -> Response:
    response = connection.respond(status, text)
    response.headers["Retry-After"] = str(max(1, math.ceil(seconds)))
    return response
