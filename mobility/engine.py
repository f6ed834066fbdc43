"""The engine as one asyncio process: OCPP central system, HTTP API, embedded ledger node with
its coordinator, and (when enabled) the payment layer with its settlement loop.

    chargers --OCPP--> CentralSystem --events--> ChargingService --> PaymentService
    apps --HTTP--> FastAPI (/ledger ...)          Coordinator --milestones--> Node <-- Settler
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import uvicorn
from fastapi import FastAPI

import pow_rs
from mobility.api.app import create_api
from mobility.api.auth import FLEET_SCOPES, OPERATOR_SCOPES, TokenSigner
from mobility.api.context import ApiContext
from mobility.api.limits import STREAM_MESSAGE_MAX, UPLOAD_PREFIX
from mobility.api.store import ApiStore
from mobility.charging.auth_order import AuthorizationOrder
from mobility.charging.id_tokens import SqlIdTokens
from mobility.charging.profile_ids import payment_cap
from mobility.charging.service import ChargingService
from mobility.charging.store import ChargingStore
from mobility.clock import Clock, utc_now
from mobility.db import create_db_engine
from mobility.devnet import api_token_secret, development_ledger, faucet_seed, operator_seed
from mobility.journal import Journal
from mobility.ledger.client import InProcessClient
from mobility.ledger.config import LedgerSettings, open_node
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node
from mobility.ledger.service import every, run_coordinator
from mobility.migrate import upgrade
from mobility.payments.pricing import MeterSample
from mobility.payments.service import PaymentService
from mobility.payments.settlement import SettlementPolicy, Settler
from mobility.payments.store import PaymentStore
from mobility.ratelimit import RateLimiter
from mobility.runtime import freeze_startup_heap, share_the_gil_quickly
from mobility.settings import Settings
from mobility.token_settings import allow_list_for
from mobility.wallet.ledger import Wallet
from ocpp_server.server import CentralSystem, ServerConfig, tls_context

__all__ = ["Engine", "EngineOptions", "LedgerSettings", "Settings", "run_engine"]

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """`mobility serve` options that are not `MOBILITY_` settings."""

    allowed_tokens: tuple[str, ...] = ()
    accept_all_tokens: bool = False
    response_timeout: float = 30.0
    heartbeat_interval: int = 300
    tls_cert: str | None = None
    tls_key: str | None = None
    settlement_interval: float = 30.0


class CentralSystemCommands:
    """The payment layer's `SessionCommands`, carried out by the OCPP central system."""

    def __init__(self, central: CentralSystem) -> None:
        self.central = central

    async def limit_power(
        self, charge_point_id: str, connector_id: int, transaction_ref: str, watts: int
    ) -> bool:
        # A TxProfile: the cap belongs to the lagging payer's transaction and ends with it. As a
        # connector's default profile it outlived a session stopped for non-payment and capped
        # the next drivers on that connector.
        commands = self.central.commands(charge_point_id)
        cap = payment_cap(connector_id)
        return (await commands.limit_transaction(connector_id, transaction_ref, watts, cap)).accepted

    async def clear_limit(self, charge_point_id: str, connector_id: int, transaction_ref: str) -> bool:
        # "Unknown": the charger no longer has the cap (its transaction ended): nothing to lift.
        result = await self.central.commands(charge_point_id).clear_power_limit(payment_cap(connector_id))
        return result.status in ("Accepted", "Unknown")

    async def stop(self, charge_point_id: str, transaction_ref: str) -> bool:
        return (await self.central.commands(charge_point_id).remote_stop(transaction_ref)).accepted


def energy_so_far(store: ChargingStore, session_id: int) -> list[MeterSample]:
    """A running session's durable energy, as the one sample a channel owner loaded after a
    restart prices on (the charging side's session row: exact for tariffs that bill energy;
    a time-based tariff sees the energy up to then as drawn evenly since the start)."""
    record = store.session(session_id)
    if record is None or record.energy_wh == 0:
        return []
    return [MeterSample(record.last_reading_at, record.energy_wh)]


async def charge_point_tariff(charging: ChargingService, default: str, charge_point_id: str) -> str:
    """The tariff the charge point's operator gave it, else the engine's default (read off the
    event loop, each time, so a change through the operator API applies to the next session)."""
    record = await charging.charge_point(charge_point_id)
    return record.tariff_id if record is not None and record.tariff_id else default


@dataclass
class Engine:
    """Every part of a running engine, built by `Engine.build` and run by `run`."""

    settings: Settings
    node: Node
    charging: ChargingService
    central: CentralSystem
    api: FastAPI
    coordinator: Coordinator | None
    milestone_interval: float
    payments: PaymentService | None
    settler: Settler | None
    options: EngineOptions
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _api_server: uvicorn.Server | None = None
    _api_socket: socket.socket | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        options: EngineOptions,
        ledger: LedgerSettings | None = None,
        clock: Clock = utc_now,
    ) -> Engine:
        """Migrate and open the database, and assemble the parts (blocking: off the event loop).

        `clock` is the engine's business time: tariffs' time of day, how long a payer may lag,
        when a claim is due, the API's timestamps. Tests and the simulated city pass their own;
        the charging side takes its times from the chargers' messages, tokens and throttles
        stay on the wall clock.
        """
        # Token options that cannot apply are an error before anything is opened.
        allow_list = allow_list_for(
            options.allowed_tokens, options.accept_all_tokens, settings.payments_enabled
        )
        upgrade(settings.resolved_database_url)
        database = create_db_engine(settings.resolved_database_url)
        ledger_settings = development_ledger(ledger or LedgerSettings(), settings.data_dir)
        node = open_node(ledger_settings, settings.resolved_database_url)
        keys = ledger_settings.coordinator_keys()
        coordinator = Coordinator(node, keys) if keys else None

        # One writer for the hot path: charger events and payment changes commit together.
        journal = Journal(database)
        # Operator tokens, then the allow-list, then (below) the payment rules: one order.
        authorization = AuthorizationOrder(SqlIdTokens(database), allow_list)
        charging = ChargingService(ChargingStore(database), authorization, journal=journal)
        authorization.clock = charging.clock
        config = ServerConfig(
            host=settings.ocpp_host,
            port=settings.ocpp_port,
            accept_unknown_chargers=settings.accept_unknown_chargers,
            unknown_chargers_pending=settings.unknown_chargers_pending,
            response_timeout=options.response_timeout,
            heartbeat_interval=options.heartbeat_interval,
            ssl_context=tls_context(options.tls_cert, options.tls_key)
            if options.tls_cert and options.tls_key
            else None,
        )
        central = CentralSystem(charging, config)

        payments, settler = None, None
        if settings.payments_enabled:
            store = PaymentStore(database)
            payments = PaymentService(
                store,
                CentralSystemCommands(central),
                tariff_for=partial(charge_point_tariff, charging, settings.default_tariff_id),
                journal=journal,
                ends_loader=charging.store.ended_sessions,
                readings_loader=partial(energy_so_far, charging.store),
                clock=clock,
                flag_session=charging.flag_session,
            )
            authorization.payments = payments
            payments.unbilled = authorization.unbilled
            # `post`, not `handle`: a charger is answered once its event is stored; pricing and
            # enforcement follow on the channel's owner.
            charging.subscribe(payments.post)
            client = InProcessClient(node)
            wallet = Wallet(client, operator_seed(settings.data_dir))
            policy = SettlementPolicy(
                threshold=settings.settlement_threshold,
                interval=settings.settlement_interval,
                expiry_margin=settings.settlement_expiry_margin,
            )
            settler = Settler(store, wallet, client, policy, clock, on_confirmed=payments.claim_confirmed)

        payment_store = PaymentStore(database)
        context = ApiContext(
            api_store=ApiStore(database),
            charging=charging.store,
            payment_store=payment_store,
            node=node,
            operator_key=pow_rs.SigningKey(operator_seed(settings.data_dir)),
            tokens=TokenSigner(api_token_secret(settings.data_dir)),
            central=central,
            payments=payments,
            passwords=charging.passwords,
            remote_pow=ledger_settings.remote_pow_policy(),
            clock=clock,
            login_limiter=RateLimiter(settings.login_attempts_per_minute, timedelta(minutes=1)),
        )
        api = create_api(context)

        return cls(
            settings=settings,
            node=node,
            charging=charging,
            central=central,
            api=api,
            coordinator=coordinator,
            milestone_interval=ledger_settings.milestone_interval_seconds,
            payments=payments,
            settler=settler,
            options=options,
        )

    def add_operator(self, operator_id: str, name: str = "") -> str:
        """Register an operator; its new API key with every operator scope (what
        `mobility operators add` prints). Blocking: call it off the event loop."""
        store: ApiStore = self.api.state.context.api_store
        store.add_operator(operator_id, name)
        return store.add_api_key("operator", operator_id, OPERATOR_SCOPES).key

    def add_fleet(self, account_id: str, name: str = "") -> str:
        """Register a fleet account; its new API key with every fleet scope (what
        `mobility fleets add` prints). Blocking: call it off the event loop."""
        context: ApiContext = self.api.state.context
        context.payment_store.add_account(account_id, "fleet", name)
        return context.api_store.add_api_key("fleet", account_id, FLEET_SCOPES).key

    def faucet_seed(self) -> bytes:
        """The development network's faucet seed (it holds the genesis funds), for whoever
        funds test wallets: only a development network written under the data directory has one."""
        return faucet_seed(self.settings.data_dir)

    @property
    def api_port(self) -> int:
        """The bound HTTP port (useful with port 0)."""
        assert self._api_socket is not None, "engine not started"
        return int(self._api_socket.getsockname()[1])

    async def start(self) -> None:
        """Listen for chargers and apps, and start the background loops."""
        if self.payments is not None:
            await self.payments.recover()  # before chargers can send anything new
        if self.settings.accept_unknown_chargers:
            await self._warn_unknown_chargers()
        await self.central.start()
        config = uvicorn.Config(
            self.api,
            host=self.settings.api_host,
            port=self.settings.api_port,
            log_level="warning",
            lifespan="off",
            ws_max_size=STREAM_MESSAGE_MAX,  # the payer streams' messages; larger ones close with 1009
        )
        self._api_server = uvicorn.Server(config)
        # Bound here, so the port is known (and taken) before the first request can arrive.
        self._api_socket = socket.create_server((self.settings.api_host, self.settings.api_port))
        # Connections inherit TCP_NODELAY from the listener. asyncio sets it only on sockets made
        # with IPPROTO_TCP, which `create_server`'s are not: without it, a response written in two
        # parts waited ~40 ms for the client's delayed ACK (Nagle).
        self._api_socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        public = self.settings.public_api_url or f"http://{self.settings.api_host}:{self.api_port}"
        self.central.management.upload_base_url = public.rstrip("/") + UPLOAD_PREFIX
        self._tasks.append(asyncio.create_task(self._api_server.serve(sockets=[self._api_socket])))
        if self.coordinator is not None:
            self._tasks.append(
                asyncio.create_task(run_coordinator(self.coordinator, every(self.milestone_interval)))
            )
        if self.settler is not None:
            self._tasks.append(asyncio.create_task(self._settle_forever(self.settler)))
        LOGGER.info(
            "engine listening on ws://%s:%d/ocpp/<id> and http://%s:%d",
            self.settings.ocpp_host,
            self.central.port,
            self.settings.api_host,
            self.api_port,
        )

    async def _warn_unknown_chargers(self) -> None:
        """Say at boot that unknown chargers are let in, and which ones nobody has claimed: they
        have no operator or tariff, so every session on them is refused payment and stopped."""
        unclaimed = await asyncio.to_thread(self.charging.store.unclaimed_charge_points)
        pending = " (answered Pending until claimed)" if self.settings.unknown_chargers_pending else ""
        LOGGER.warning(
            "MOBILITY_ACCEPT_UNKNOWN_CHARGERS is on: charge points that connect unknown are admitted "
            "without a password%s, and have no operator or tariff until an operator claims them "
            "(GET /operator/unclaimed-chargers, POST /operator/chargers); %d unclaimed: %s",
            pending,
            len(unclaimed),
            ", ".join(unclaimed[:20]) + (", ..." if len(unclaimed) > 20 else "") if unclaimed else "none",
        )

    async def _settle_forever(self, settler: Settler) -> None:
        async for _ in every(self.options.settlement_interval):
            try:
                await settler.run_once()
            except Exception:
                LOGGER.exception("settlement pass failed")
            if self.payments is not None:
                self.payments.evict_idle_owners()

    async def stop(self) -> None:
        """Stop listening and end the background loops."""
        if self._api_server is not None:
            self._api_server.should_exit = True
        for task in self._tasks:
            if task is not self._tasks[0]:
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.central.stop()
        self.charging.passwords.executor.shutdown()
        if self.payments is not None:
            # Events already answered to chargers are applied before the process goes (what a
            # crash leaves undone is caught up when the channel is next loaded).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.payments.idle(), 10)


async def run_engine(settings: Settings, options: EngineOptions) -> None:
    """Build, start and run the engine until cancelled."""
    share_the_gil_quickly()
    engine = await asyncio.to_thread(Engine.build, settings, options)
    await engine.start()
    freeze_startup_heap()
    try:
        await asyncio.Future()
    finally:
        await engine.stop()
