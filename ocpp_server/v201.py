"""OCPP 2.0.1 connection: the shared 2.x adapter over the library's 2.0.1 ChargePoint."""

from __future__ import annotations

from ocpp_server._ocpp import ChargePoint201
from ocpp_server.v2x import V2Connection


class V201Connection(V2Connection, ChargePoint201):  # type: ignore[misc]
    """A charging station speaking OCPP 2.0.1."""

    ocpp_version = "2.0.1"
