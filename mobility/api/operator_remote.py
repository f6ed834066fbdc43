"""Operator remote start and stop, as a support desk uses them: start a session for an ID token
on a connector, or stop a running transaction. They go through the same charger command API
as the drivers' own (`ChargePointCommands.remote_start` / `remote_stop`); the session that
follows is authorized in the usual order (`mobility/charging/auth_order.py`), so a support
desk's operator token charges unbilled and a driver's token is billed to their channel."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from mobility.api.command_scope import CommandScope, ScopedCommand
from mobility.api.problems import Problem
from mobility.payments.accounts import is_app_token
from ocpp_server.commands import CommandResult

IdToken = Annotated[str, StringConstraints(min_length=1, max_length=36, pattern=r"^[\x21-\x7e]+$")]
TransactionId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]


class RemoteStartCommand(ScopedCommand):
    """Start a session for `id_token` on a connector (an EVSE on 2.x): 1.6
    RemoteStartTransaction, 2.x RequestStartTransaction. Refused (409) on a connector reserved
    for another token."""

    type: Literal["remote_start"]
    id_token: IdToken
    connector_id: int = Field(ge=1, le=1000)

    async def check(self, scope: CommandScope) -> None:
        if is_app_token(self.id_token):
            raise Problem(422, "Invalid request", "driver app tokens start from the driver API", "app-token")
        held = await scope.service.reservations.holding(scope.charge_point_id, self.connector_id)
        if held is not None and held.id_token.upper() != self.id_token.upper():
            raise Problem(
                409,
                "Connector reserved",
                f"connector {self.connector_id} is reserved for another token until "
                f"{held.expires_at.isoformat()}",
                "connector-reserved",
                reservation_id=held.id,
            )

    async def run_in(self, scope: CommandScope) -> CommandResult:
        return await scope.charger.remote_start(self.connector_id, self.id_token)


class RemoteStopCommand(ScopedCommand):
    """Stop a running transaction by the ID the charger knows it by (1.6: the engine's session
    ID; 2.x: the station's transaction ID): 1.6 RemoteStopTransaction, 2.x
    RequestStopTransaction. 404 for a transaction the charge point never had, 409 for one that
    has ended."""

    type: Literal["remote_stop"]
    transaction_id: TransactionId | int

    async def check(self, scope: CommandScope) -> None:
        ref = str(self.transaction_id)
        session = await asyncio.to_thread(scope.context.charging.session_by_ref, scope.charge_point_id, ref)
        if session is None:
            raise Problem(404, "Not found", f"no transaction {ref!r} on this charge point", "not-found")
        if session.ended_at is not None:
            raise Problem(409, "Session ended", f"transaction {ref!r} has ended", "session-ended")

    async def run_in(self, scope: CommandScope) -> CommandResult:
        return await scope.charger.remote_stop(str(self.transaction_id))
