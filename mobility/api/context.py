"""What routes work with, built once per app, and the dependencies that authenticate callers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

import pow_rs
from mobility.api.auth import (
    ADMIN_ROLE,
    Challenges,
    DriverPrincipal,
    FleetPrincipal,
    OperatorPrincipal,
    TokenSigner,
)
from mobility.api.problems import Problem
from mobility.api.store import ApiStore
from mobility.charging.passwords import PasswordHasher
from mobility.charging.store import ChargingStore
from mobility.clock import Clock, utc_now
from mobility.ledger.api.remote_pow import RemotePow
from mobility.ledger.node import Node
from mobility.payments.service import PaymentService
from mobility.payments.store import PaymentStore
from mobility.ratelimit import RateLimiter
from ocpp_server.server import CentralSystem


@dataclass
class ApiContext:
    """The engine's parts as the API sees them.

    `central` and `payments` are None when the app runs without an OCPP server or with
    payments disabled; routes that need them answer 503.
    """

    api_store: ApiStore
    charging: ChargingStore
    payment_store: PaymentStore
    node: Node
    operator_key: pow_rs.SigningKey  # signs receipts
    tokens: TokenSigner
    central: CentralSystem | None = None
    payments: PaymentService | None = None
    clock: Clock = utc_now
    challenges: Challenges = field(default_factory=Challenges)
    login_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(10, timedelta(minutes=1)))
    # The engine's one hasher (shared with the OCPP handshake): its own threads, bounded.
    passwords: PasswordHasher = field(default_factory=PasswordHasher)
    remote_pow: RemotePow | None = None  # None: the ledger router's default (development network only)


def get_context(request: Request) -> ApiContext:
    """The app's context (set by `create_api`)."""
    context: ApiContext = request.app.state.context
    return context


Context = Annotated[ApiContext, Depends(get_context)]
_bearer = HTTPBearer(auto_error=False, description="A driver token (from /driver/login) or an API key.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]

UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}


def _credential(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise Problem(
            401, "Unauthenticated", "send Authorization: Bearer <token>", "unauthenticated", UNAUTHENTICATED
        )
    return credentials.credentials


def driver_of(context: ApiContext, token: str) -> DriverPrincipal:
    """The driver whose token this is; 401 for an invalid one, 403 for an API key (the route
    dependency and the driver stream both read tokens here)."""
    account_id = context.tokens.verify(token)
    if account_id is None:
        if token.startswith("mob_"):
            raise Problem(403, "Forbidden", "driver routes need a driver token", "wrong-role")
        raise Problem(401, "Unauthenticated", "invalid or expired token", "unauthenticated", UNAUTHENTICATED)
    return DriverPrincipal(account_id)


def current_driver(context: Context, credentials: Credentials) -> DriverPrincipal:
    """The driver whose bearer token this is; 401 without a valid one, 403 for an API key."""
    return driver_of(context, _credential(credentials))


async def api_key_of(context: ApiContext, token: str, *roles: str) -> tuple[str, str, frozenset[str]]:
    """The role, tenant and scopes of a live API key of one of `roles`: 401 for an unknown or
    revoked key, 403 for a driver token or another role's key (routes and the fleet stream
    both read keys here)."""
    wanted = " or ".join(roles)
    if context.tokens.verify(token) is not None:
        raise Problem(403, "Forbidden", f"this route needs a {wanted} API key", "wrong-role")
    record = await asyncio.to_thread(context.api_store.api_key, token)
    if record is None:
        raise Problem(
            401, "Unauthenticated", "invalid or revoked API key", "unauthenticated", UNAUTHENTICATED
        )
    if record.role not in roles:
        raise Problem(403, "Forbidden", f"this route needs a {wanted} API key", "wrong-role")
    return record.role, record.tenant_id, frozenset(record.scopes.split())


def require_scope(scopes: frozenset[str], scope: str | None) -> None:
    if scope is not None and scope not in scopes:
        raise Problem(403, "Forbidden", f"this API key lacks the scope {scope!r}", "missing-scope")


def operator_with(scope: str | None = None) -> Any:
    """A dependency: the calling operator, holding `scope` if given."""

    async def dependency(context: Context, credentials: Credentials) -> OperatorPrincipal:
        _, tenant, scopes = await api_key_of(context, _credential(credentials), "operator")
        require_scope(scopes, scope)
        return OperatorPrincipal(tenant, scopes)

    return Depends(dependency)


def fleet_with(scope: str | None = None) -> Any:
    """A dependency: the calling fleet, holding `scope` if given."""

    async def dependency(context: Context, credentials: Credentials) -> FleetPrincipal:
        _, tenant, scopes = await api_key_of(context, _credential(credentials), "fleet")
        require_scope(scopes, scope)
        return FleetPrincipal(tenant, scopes)

    return Depends(dependency)


async def metrics_reader(context: Context, credentials: Credentials) -> str | None:
    """Whose figures a `/metrics` scrape may read: None (the whole engine) for an engine-admin
    key, else the calling operator's ID; either key needs the `metrics` scope."""
    role, tenant, scopes = await api_key_of(context, _credential(credentials), ADMIN_ROLE, "operator")
    require_scope(scopes, "metrics")
    return None if role == ADMIN_ROLE else tenant


Driver = Annotated[DriverPrincipal, Depends(current_driver)]
