"""Wiring for `mobility serve`: settings -> database -> charging service -> central system."""

from __future__ import annotations

import asyncio
import logging

from mobility.charging.authorization import AllowListAuthorizer
from mobility.charging.models import create_charging_tables
from mobility.charging.service import ChargingService
from mobility.charging.store import ChargingStore
from mobility.db import create_db_engine
from mobility.settings import Settings
from ocpp_server.server import CentralSystem, ServerConfig, tls_context

LOGGER = logging.getLogger(__name__)


def build_service(settings: Settings, allowed_tokens: list[str], accept_all_tokens: bool) -> ChargingService:
    """The charging service over the configured database (tables created if missing)."""
    engine = create_db_engine(settings.resolved_database_url)
    create_charging_tables(engine)
    authorizer = AllowListAuthorizer(allowed_tokens, accept_all=accept_all_tokens)
    return ChargingService(ChargingStore(engine), authorizer)


async def run_server(
    settings: Settings,
    *,
    allowed_tokens: list[str],
    accept_all_tokens: bool,
    response_timeout: float,
    heartbeat_interval: int,
    tls_cert: str | None,
    tls_key: str | None,
) -> None:
    """Serve OCPP until cancelled."""
    service = await asyncio.to_thread(build_service, settings, allowed_tokens, accept_all_tokens)
    config = ServerConfig(
        host=settings.ocpp_host,
        port=settings.ocpp_port,
        accept_unknown_chargers=settings.accept_unknown_chargers,
        response_timeout=response_timeout,
        heartbeat_interval=heartbeat_interval,
        ssl_context=tls_context(tls_cert, tls_key) if tls_cert and tls_key else None,
    )
    central = CentralSystem(service, config)
    scheme = "wss" if config.ssl_context else "ws"
    LOGGER.info("OCPP central system on %s://%s:%d/ocpp/<id>", scheme, config.host, config.port)
    await central.serve_forever()
