"""What an operator command that needs more than the charger's command API works with: the
charge point and operator it is for, the central system, and the API's context.

A command model with `check(scope)` is checked before it is logged and sent (a Problem stops
it there); one with `run_in(scope)` is run with the scope instead of `run(charger)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from mobility.api.context import ApiContext
from mobility.charging.service import ChargingService
from ocpp_server.commands import ChargePointCommands, CommandResult
from ocpp_server.server import CentralSystem


@dataclass(frozen=True, slots=True)
class CommandScope:
    """One command's surroundings."""

    charge_point_id: str
    operator_id: str
    central: CentralSystem
    context: ApiContext

    @property
    def charger(self) -> ChargePointCommands:
        """The charge point's version-neutral command API."""
        return self.central.commands(self.charge_point_id)

    @property
    def service(self) -> ChargingService:
        """The charging service the central system reports to (reservations live there)."""
        return self.central.service


class ScopedCommand(BaseModel):
    """An operator command run with its `CommandScope`."""

    model_config = ConfigDict(extra="forbid")

    async def check(self, scope: CommandScope) -> None:
        """Refuse (raise a Problem) before anything is logged or sent; nothing to check here."""

    async def run_in(self, scope: CommandScope) -> CommandResult:
        """Send the command; the charger's answer."""
        raise NotImplementedError
