"""The central system: one websockets server, every OCPP version on one port.

Each connection gets the adapter class of its negotiated subprotocol. A charge point that
reconnects replaces its old connection (which is closed); online/offline events follow the
current connection only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from mobility.charging.service import ChargingService
from ocpp_server.auth_throttle import AuthThrottle, ThrottleLimits
from ocpp_server.call_times import CallTimes
from ocpp_server.commands import ChargePointCommands, ConfigurationCommands16, VariableCommands2x
from ocpp_server.frame_log import FrameLog
from ocpp_server.framing import ConnectionContext, FramedConnection
from ocpp_server.handshake import SUBPROTOCOLS, Gatekeeper, charge_point_id_from_path, select_subprotocol
from ocpp_server.v2x import V2Connection
from ocpp_server.v16 import V16Connection
from ocpp_server.v21 import V21Connection
from ocpp_server.v201 import V201Connection

LOGGER = logging.getLogger(__name__)
ADAPTERS: dict[str, type[FramedConnection]] = {
    "ocpp1.6": V16Connection,
    "ocpp2.0.1": V201Connection,
    "ocpp2.1": V21Connection,
}


class NotConnectedError(LookupError):
    """The charge point has no open connection."""


class WrongVersionError(TypeError):
    """The command exists only in another OCPP version than the charge point speaks."""


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Where and how to listen. `ssl_context` set means security profile 2 (TLS + Basic)."""

    host: str = "127.0.0.1"
    port: int = 9000
    accept_unknown_chargers: bool = False
    unknown_chargers_pending: bool = False  # admitted unknown ones wait for approval (Pending)
    response_timeout: float = 30.0
    heartbeat_interval: int = 300
    boot_retry_interval: int = 60  # how soon a Pending charge point boots again
    ssl_context: ssl.SSLContext | None = None
    auth_throttle: ThrottleLimits = field(default_factory=ThrottleLimits)  # failed Basic-auth handshakes


def tls_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    """A server TLS context from PEM paths (profile 2; profile 3 adds client verification here)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile, keyfile)
    return context


class CentralSystem:
    """Accepts charge points, runs their adapters, and hands out their command API."""

    def __init__(self, service: ChargingService, config: ServerConfig) -> None:
        self.service = service
        self.config = config
        self._frame_log = FrameLog(service)
        self._context = ConnectionContext(
            service=service,
            heartbeat_interval=config.heartbeat_interval,
            boot_retry_interval=config.boot_retry_interval,
            response_timeout=config.response_timeout,
            log_frame=self._frame_log.append,
        )
        self._connections: dict[str, FramedConnection] = {}
        self._server: Server | None = None
        self.gatekeeper = Gatekeeper(
            service,
            config.accept_unknown_chargers,
            config.unknown_chargers_pending,
            AuthThrottle(config.auth_throttle, service.clock),
        )

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        assert self._server is not None, "server not started"
        sockets: Sequence[Any] = list(self._server.sockets)
        return int(sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Start listening."""
        self._frame_log.start()
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            subprotocols=[Subprotocol(protocol) for protocol in SUBPROTOCOLS],
            select_subprotocol=select_subprotocol,  # type: ignore[arg-type]
            process_request=self.gatekeeper,
            ssl=self.config.ssl_context,
        )

    async def stop(self) -> None:
        """Close every connection and the listener, and flush the message log."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        await self._frame_log.stop()

    async def serve_forever(self) -> None:
        """Run until cancelled."""
        await self.start()
        try:
            await asyncio.Future()
        finally:
            await self.stop()

    def commands(self, charge_point_id: str) -> ChargePointCommands:
        """The command API of a connected charge point."""
        return self._connection(charge_point_id)  # type: ignore[return-value]

    def configuration_16(self, charge_point_id: str) -> ConfigurationCommands16:
        """1.6 configuration keys of a connected 1.6 charge point."""
        connection = self._connection(charge_point_id)
        if not isinstance(connection, V16Connection):
            raise WrongVersionError(f"{charge_point_id} speaks {connection.ocpp_version}, not 1.6")
        return connection

    def variables_2x(self, charge_point_id: str) -> VariableCommands2x:
        """2.x device-model variables of a connected 2.0.1/2.1 charging station."""
        connection = self._connection(charge_point_id)
        if not isinstance(connection, V2Connection):
            raise WrongVersionError(f"{charge_point_id} speaks {connection.ocpp_version}, not 2.x")
        return connection

    def _connection(self, charge_point_id: str) -> FramedConnection:
        connection = self._connections.get(charge_point_id)
        if connection is None:
            raise NotConnectedError(charge_point_id)
        return connection

    def is_connected(self, charge_point_id: str) -> bool:
        """True while the charge point has an open connection."""
        return charge_point_id in self._connections

    @property
    def call_times(self) -> CallTimes:
        """How long this server took to answer CALLs, by action (the metrics endpoint's histogram)."""
        return self._context.call_times

    @property
    def connection_count(self) -> int:
        """How many charge points have an open connection now (the metrics endpoint's gauge)."""
        return len(self._connections)

    async def _handle(self, websocket: ServerConnection) -> None:
        assert websocket.request is not None
        charge_point_id = charge_point_id_from_path(websocket.request.path)
        assert charge_point_id is not None  # the gatekeeper let only valid paths through
        protocol = websocket.subprotocol
        if protocol is None:
            await websocket.close(1002, "no OCPP subprotocol agreed")
            return
        connection = ADAPTERS[protocol](charge_point_id, websocket, self._context)
        previous = self._connections.get(charge_point_id)
        self._connections[charge_point_id] = connection
        if previous is not None:
            LOGGER.info("%s reconnected: closing its previous connection", charge_point_id)
            await previous._connection.close(1000, "replaced by a new connection")
        await self.service.connected(charge_point_id, protocol)
        try:
            await connection.start()
        except ConnectionClosed:
            pass
        finally:
            if self._connections.get(charge_point_id) is connection:
                del self._connections[charge_point_id]
                with contextlib.suppress(Exception):
                    await self.service.disconnected(charge_point_id)
