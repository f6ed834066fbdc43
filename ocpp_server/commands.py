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
        """Cap the power on a connector, in W (how the engine slows charging when payment lags)."""
        ...

    async def clear_power_limit(self, profile_id: int) -> CommandResult:
        """Remove a cap set by `set_power_limit`."""
        ...
