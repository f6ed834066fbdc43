"""The HTTP side of a connection, decided before the websocket upgrade.

Path `/ocpp/<percent-encoded charge point ID>` (at most 48 characters decoded); unknown
charge points get 404 unless unknown ones are admitted (accepted outright, or registered
pending an operator's approval, so BootNotification answers Pending); security profile 1/2 is HTTP Basic
auth with the charge point's password (over TLS for profile 2), 401 on failure.
Profile 3 (mutual TLS) would check the client certificate here, against the charge point ID.
"""

from __future__ import annotations

import base64
import binascii
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from mobility.charging.service import ChargingService

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
    """`process_request` for the server: 404 / 401 before the upgrade, or let it through."""

    def __init__(self, service: ChargingService, accept_unknown: bool, unknown_pending: bool = False) -> None:
        self._service = service
        self._accept_unknown = accept_unknown
        self._unknown_pending = unknown_pending

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
        credentials = basic_credentials(request.headers.get("Authorization"))
        if (
            credentials is None
            or credentials[0] != charge_point_id
            or not await self._service.check_password(record, credentials[1])
        ):
            response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
            response.headers["WWW-Authenticate"] = 'Basic realm="ocpp", charset="UTF-8"'
            return response
        return None
