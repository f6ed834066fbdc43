"""OCPP 2.1 connection: the shared 2.x adapter over the library's 2.1 ChargePoint."""

from __future__ import annotations

from ocpp_server._ocpp import ChargePoint21
from ocpp_server.management.adapters import Management21
from ocpp_server.v2x import V2Connection


class V21Connection(Management21, V2Connection, ChargePoint21):  # type: ignore[misc]
    """A charging station speaking OCPP 2.1."""

    ocpp_version = "2.1"
