"""One outlet: its energy meter, the EV plugged into it, and the transaction running on it.

The meter register is cumulative over the outlet's life (as a real meter is), so a session's
energy is the register at its end minus the register at its start. Energy flows only when
`advance_to` is called, integrating the EV's power from the last update to the given instant
under the limits in force, split wherever a charging-profile period changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sims.chargers.ev import MJ_PER_WH, EVBattery
from sims.chargers.profiles import ProfileSet

_MS = timedelta(milliseconds=1)


class StopReason(StrEnum):
    """Why a transaction ended, version-neutral; `dialects` maps it to each version's enum."""

    LOCAL = "Local"
    REMOTE = "Remote"
    EV_DISCONNECTED = "EVDisconnected"
    POWER_LOSS = "PowerLoss"
    REBOOT = "Reboot"
    DE_AUTHORIZED = "DeAuthorized"


@dataclass
class Transaction:
    """A charging session as the charge point knows it.

    `ref` is the OCPP transaction ID once known: generated here for 2.x, assigned by the
    central system in the StartTransaction answer for 1.6 (None until then, even offline).
    """

    local_id: int
    connector_id: int
    id_token: str
    started_at: datetime
    start_register_wh: int
    ref: str | None = None
    remote_start_id: int | None = None
    target_permille: int = 1000
    seq_no: int = 0
    stop_register_wh: int | None = None
    stopped_at: datetime | None = None
    stop_reason: StopReason | None = None
    # Every register value this transaction reported (start, meter values, stop), with the
    # time its message carried: what a bill for it can be checked against.
    reported: list[tuple[datetime, int]] = field(default_factory=list)

    def next_seq_no(self) -> int:
        """2.x TransactionEvent sequence numbers: 0, 1, 2, ... per transaction."""
        value = self.seq_no
        self.seq_no += 1
        return value

    @property
    def active(self) -> bool:
        """True until stopped."""
        return self.stopped_at is None

    def delivered_wh(self, register_wh: int) -> int:
        """Energy of this session in Wh, final once stopped."""
        end = self.stop_register_wh if self.stop_register_wh is not None else register_wh
        return end - self.start_register_wh


@dataclass
class Connector:
    """An outlet with a charger power rating, a meter and maybe an EV and a transaction."""

    connector_id: int
    max_power_w: int
    profiles: ProfileSet
    meter_mj: int = 0
    ev: EVBattery | None = None
    transaction: Transaction | None = None
    updated_at: datetime | None = None

    @property
    def register_wh(self) -> int:
        """The meter's Energy.Active.Import.Register, floored to whole Wh."""
        return self.meter_mj // MJ_PER_WH

    def limit_w(self, at: datetime) -> int:
        """The power the charger may deliver now: its rating, lowered by any active profile."""
        started = self.transaction.started_at if self.transaction else None
        profile_limit = self.profiles.limit_w(self.connector_id, at, started)
        if profile_limit is None:
            return self.max_power_w
        return max(min(self.max_power_w, profile_limit), 0)

    def power_w(self, at: datetime) -> int:
        """The power flowing now (zero without an EV or a running transaction)."""
        if self.ev is None or self.transaction is None:
            return 0
        return self.ev.power_w(self.limit_w(at))

    def advance_to(self, now: datetime) -> None:
        """Integrate energy up to `now`; a no-op when nothing is charging."""
        start = self.updated_at
        self.updated_at = now if start is None else max(start, now)
        if start is None or now <= start or self.ev is None or self.transaction is None:
            return
        started = self.transaction.started_at
        cursor = start
        while cursor < now:
            edge = self.profiles.next_change(cursor, started)
            until = now if edge is None or edge > now else edge
            duration_ms = (until - cursor) // _MS
            self.meter_mj += self.ev.charge(duration_ms, self.limit_w(cursor))
            cursor = until
