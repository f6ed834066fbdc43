"""What the payment layer asks of the charger side, without knowing OCPP.

The engine's wiring implements it with `ocpp_server`'s command API (a charging profile to
limit power, a remote stop); tests implement it with a recorder.
"""

from __future__ import annotations

from typing import Protocol


class SessionCommands(Protocol):
    """Limit or stop a running session. Each is True once the charger carried it out; False or
    an exception (offline, no answer) and the payment layer tries again while it still wants it."""

    async def limit_power(
        self, charge_point_id: str, connector_id: int, transaction_ref: str, watts: int
    ) -> bool:
        """Cap the session's power (a charging profile on its transaction)."""
        ...

    async def clear_limit(self, charge_point_id: str, connector_id: int, transaction_ref: str) -> bool:
        """Lift a cap set by `limit_power` (done too when the charger no longer has it)."""
        ...

    async def stop(self, charge_point_id: str, transaction_ref: str) -> bool:
        """Stop the session remotely."""
        ...
