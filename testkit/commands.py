"""Chargers as the payment layer sees them, recording its commands instead of sending them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Recorder:
    """Records the commands the payment layer sends to chargers (into a shared list, if given);
    every one is accepted."""

    calls: list[tuple[str, ...]] = field(default_factory=list)

    async def limit_power(
        self, charge_point_id: str, connector_id: int, transaction_ref: str, watts: int
    ) -> bool:
        self.calls.append(("limit", transaction_ref, str(watts)))
        return True

    async def clear_limit(self, charge_point_id: str, connector_id: int, transaction_ref: str) -> bool:
        self.calls.append(("clear", transaction_ref))
        return True

    async def stop(self, charge_point_id: str, transaction_ref: str) -> bool:
        self.calls.append(("stop", transaction_ref))
        return True
