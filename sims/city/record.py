"""What a city run leaves behind for its report: a timeline sampled at fixed simulated
intervals, one row per session with its reconciliation, and the run's parameters.

Money is integer micro-units, energy integer Wh, times UTC (simulated). A record saves to and
loads from JSON, so a report can be drawn again from a finished run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

SESSION_STATUSES = ("ok", "unpaid", "unsettled", "meter anomaly", "mismatch")


@dataclass(frozen=True, slots=True)
class Sample:
    """The city at one simulated instant (cumulative figures count from the run's start)."""

    at: datetime
    power_w_by_site: dict[str, int]
    active_sessions: int
    energy_wh: int  # delivered so far, as the engine metered it
    billed: int  # revenue so far: billed to sessions
    paid: int  # covered by accepted vouchers
    settled: int  # claimed on the ledger and confirmed
    limited_sessions: int  # running with power limited because payment lags
    stopped_sessions: int  # stopped for lack of payment so far
    milestone_index: int | None
    tips: int


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One session, reconciled: metered = billed = paid = settled, or the differences."""

    session_id: int
    site: str
    charge_point_id: str
    payer: str  # the account that paid (driver or fleet)
    payer_kind: str  # "driver" or "fleet"
    behaviour: str  # how the payer pays: "prompt", "slow", "stops paying", "rfid"
    started_at: datetime
    ended_at: datetime | None
    simulated_wh: int  # what the simulated meter delivered
    metered_wh: int  # what the engine metered
    billed: int
    paid: int
    settled: int
    shortfall: int
    enforcement: str | None  # the last limit or stop and why
    block_id: str | None
    milestone_index: int | None
    settlement_latency_s: float | None  # session end to confirmed claim, simulated seconds
    status: str  # one of SESSION_STATUSES
    expected: int = -1  # the city's own price of the simulated session (-1: none to price)
    reason: str = ""  # why the status is not ok, in the city's words

    @property
    def balanced(self) -> bool:
        """metered = billed = paid = settled; or, for an unpaid session, the gap between billed
        and paid is its recorded shortfall and everything paid is settled."""
        if self.simulated_wh != self.metered_wh:
            return False
        if self.status == "ok":
            return self.paid == self.billed == self.settled
        return (
            self.status == "unpaid"
            and self.billed - self.paid == self.shortfall == self.billed - self.settled
        )


@dataclass
class RunRecord:
    """A whole run."""

    scenario: str
    seed: int
    hours: float
    speed: float
    started_at: datetime
    samples: list[Sample] = field(default_factory=list)
    sessions: list[SessionRow] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    currency: str | None = None  # the tariffs' ISO 4217 code, for display; None shows "units"
    # Sessions on which a fleet's own `GET /fleet/reconciliation` disagrees with the rows above
    # (what the fleet is told must be what the run finds); the details are in `notes`.
    fleet_disagreements: int = 0

    @property
    def balanced(self) -> bool:
        """True when every session reconciles and the fleets' reports agree with the run."""
        return all(row.balanced for row in self.sessions) and self.fleet_disagreements == 0

    def save(self, path: Path) -> None:
        """Write the record as JSON."""
        path.write_text(json.dumps(asdict(self), default=_encode, indent=1))

    @classmethod
    def load(cls, path: Path) -> RunRecord:
        """Read a record written by `save`."""
        raw: dict[str, Any] = json.loads(path.read_text())
        return cls(
            scenario=raw["scenario"],
            seed=raw["seed"],
            hours=raw["hours"],
            speed=raw["speed"],
            started_at=datetime.fromisoformat(raw["started_at"]),
            samples=[Sample(**_times(s, "at")) for s in raw["samples"]],
            sessions=[SessionRow(**_times(s, "started_at", "ended_at")) for s in raw["sessions"]],
            notes=raw.get("notes", {}),
            currency=raw.get("currency"),
            fleet_disagreements=raw.get("fleet_disagreements", 0),
        )


def _encode(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def _times(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: (datetime.fromisoformat(v) if k in keys and v is not None else v) for k, v in row.items()}
