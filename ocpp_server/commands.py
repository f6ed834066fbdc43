"""Outbound commands as a version-neutral async API (the operator API will call this).

Each command returns the charge point's answer. One CALL is outstanding per connection at a
time: the library's `call()` holds a lock until the answer or the timeout, so commands queue,
and an answer is matched by message ID, so a late answer never lands in the wrong call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The charge point's answer: its status and the full payload (snake_case keys)."""

    status: str
    payload: dict[str, Any]

    @property
    def accepted(self) -> bool:
        """True for "Accepted"."""
        return self.status == "Accepted"


class CommandRejectedError(Exception):
    """The charge point answered with a CALLERROR."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class CommandTimeoutError(TimeoutError):
    """No answer within the response timeout."""


class ChargePointCommands(Protocol):
    """What the engine can ask of a connected charge point, whatever its OCPP version."""

    async def remote_start(self, connector_id: int, id_token: str) -> CommandResult:
        """Ask the charge point to start a session on `connector_id` for `id_token`."""
        ...

    async def remote_stop(self, transaction_ref: str) -> CommandResult:
        """Ask the charge point to stop the session it knows as `transaction_ref`."""
        ...

    async def reset(self, hard: bool = False) -> CommandResult:
        """Reboot the charge point (hard: now; soft: when idle / gracefully)."""
        ...

    async def set_power_limit(self, connector_id: int, limit_w: int, profile_id: int) -> CommandResult:
        """Cap the power on a connector, in W, for every transaction until cleared (a
        TxDefaultProfile: an operator's standing limit). As OCPP composes profiles, a
        transaction's own cap (`limit_transaction`) overrides it while it lasts."""
        ...

    async def limit_transaction(
        self, connector_id: int, transaction_ref: str, limit_w: int, profile_id: int
    ) -> CommandResult:
        """Cap one running transaction's power, in W (a TxProfile, which the charge point
        discards when that transaction ends): how the engine slows charging when payment lags."""
        ...

    async def clear_power_limit(self, profile_id: int) -> CommandResult:
        """Remove a cap set by `set_power_limit` or `limit_transaction`."""
        ...

    async def unlock_connector(self, connector_id: int) -> CommandResult:
        """Release the cable on a connector (EVSE on 2.x)."""
        ...

    async def change_availability(self, connector_id: int, operative: bool) -> CommandResult:
        """Make a connector (0: the whole charge point) operative or inoperative."""
        ...

    async def trigger_message(self, message: str, connector_id: int | None = None) -> CommandResult:
        """Ask for a message now (e.g. "StatusNotification", "MeterValues", "Heartbeat")."""
        ...


class ConfigurationCommands16(Protocol):
    """1.6 configuration keys (2.x uses device-model variables instead)."""

    async def get_configuration(self, keys: list[str] | None = None) -> CommandResult:
        """GetConfiguration; the answer's payload holds `configuration_key` and `unknown_key`."""
        ...

    async def change_configuration(self, key: str, value: str) -> CommandResult:
        """ChangeConfiguration."""
        ...


class VariableCommands2x(Protocol):
    """2.x device-model variables, addressed as (component, variable)."""

    async def get_variables(self, names: list[tuple[str, str]]) -> CommandResult:
        """GetVariables; the answer's payload holds `get_variable_result`."""
        ...

    async def set_variables(self, values: list[tuple[str, str, str]]) -> CommandResult:
        """SetVariables of (component, variable, value); payload holds `set_variable_result`."""
        ...
