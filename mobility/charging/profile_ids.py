"""The charging-profile IDs the engine installs on charge points, kept in one place.

A charge point replaces a profile installed under an ID it already holds, and
ClearChargingProfile by ID removes it, so two uses sharing an ID undo each other.
"""

from __future__ import annotations

OPERATOR_LIMIT = 901
"""The operator API's standing power limit on a charge point (a TxDefaultProfile)."""

PAYMENT_CAP_BASE = 1000
"""Payment caps take `PAYMENT_CAP_BASE + connector ID` (connector IDs are at most 1,000)."""


def payment_cap(connector_id: int) -> int:
    """The ID of the payment layer's cap on a lagging payer's transaction on `connector_id`:
    one per connector, so caps on two connectors neither replace nor lift each other."""
    return PAYMENT_CAP_BASE + connector_id
