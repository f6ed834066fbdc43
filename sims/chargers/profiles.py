"""Charging profiles, reduced to what the simulator needs: the power limit in force now.

OCPP 1.6 and 2.x describe profiles with different field names; `parse_profile_16` and
`parse_profile_2x` turn both into one `Profile`, and `ProfileSet` answers "how many W may
connector N draw at time T" the way a charge point's smart-charging logic would: a TxProfile
overrides a TxDefaultProfile (highest stack level wins within a purpose), and a charge-point
maximum profile caps both. Limits in A are converted to W at a nominal voltage and phases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sims.chargers.clock import parse_timestamp

NOMINAL_VOLTAGE_V = 230
DEFAULT_PHASES = 3
MAX_PURPOSES = frozenset({"ChargePointMaxProfile", "ChargingStationMaxProfile"})
TX_PURPOSE = "TxProfile"
TX_DEFAULT_PURPOSE = "TxDefaultProfile"


@dataclass(frozen=True, slots=True)
class Period:
    """A limit in W from `start_s` seconds after the schedule's start."""

    start_s: int
    limit_w: int


@dataclass(frozen=True, slots=True)
class Profile:
    """One installed profile, version-neutral. `connector_id` 0 means the whole charge point."""

    profile_id: int
    connector_id: int
    stack_level: int
    purpose: str
    kind: str
    periods: tuple[Period, ...]
    start_schedule: datetime | None = None
    duration_s: int | None = None
    transaction_ref: str | None = None
    """The transaction a TxProfile is for, when the central system named one."""

    def origin(self, transaction_start: datetime | None) -> datetime | None:
        """When the schedule's time zero is: its start, or the transaction's for Relative."""
        if self.kind == "Relative":
            return transaction_start
        return self.start_schedule or transaction_start

    def limit_at(self, at: datetime, transaction_start: datetime | None) -> int | None:
        """The limit in force at `at`, or None when the schedule does not cover `at`."""
        origin = self.origin(transaction_start)
        if origin is None:
            return self.periods[0].limit_w if self.kind == "Relative" and self.periods else None
        elapsed = (at - origin).total_seconds()
        if elapsed < 0 or (self.duration_s is not None and elapsed >= self.duration_s):
            return None
        limit = None
        for period in self.periods:
            if period.start_s <= elapsed:
                limit = period.limit_w
        return limit

    def changes_after(self, at: datetime, transaction_start: datetime | None) -> datetime | None:
        """The next instant after `at` where this profile's limit may change."""
        origin = self.origin(transaction_start)
        if origin is None:
            return None
        edges = [origin + timedelta(seconds=period.start_s) for period in self.periods]
        if self.duration_s is not None:
            edges.append(origin + timedelta(seconds=self.duration_s))
        later = [edge for edge in edges if edge > at]
        return min(later) if later else None


def _to_watts(limit: Any, unit: str, phases: int | None) -> int:
    amount = Fraction(str(limit))
    if unit.upper() == "A":
        amount *= NOMINAL_VOLTAGE_V * (phases or DEFAULT_PHASES)
    return int(amount // 1)


def _periods(schedule: dict[str, Any]) -> tuple[Period, ...]:
    unit = str(schedule.get("charging_rate_unit", "W"))
    periods = [
        Period(
            int(item["start_period"]),
            _to_watts(item["limit"], unit, item.get("number_phases")),
        )
        for item in schedule.get("charging_schedule_period", [])
    ]
    return tuple(sorted(periods, key=lambda period: period.start_s))


def _start(schedule: dict[str, Any]) -> datetime | None:
    value = schedule.get("start_schedule")
    return parse_timestamp(str(value)) if value else None


def _duration(schedule: dict[str, Any]) -> int | None:
    value = schedule.get("duration")
    return int(value) if value is not None else None


def _transaction_ref(profile: dict[str, Any]) -> str | None:
    value = profile.get("transaction_id")
    return str(value) if value is not None else None


def parse_profile_16(connector_id: int, profile: dict[str, Any]) -> Profile:
    """A 1.6 `csChargingProfiles` (snake_case keys, as the `ocpp` library hands them over)."""
    schedule = profile["charging_schedule"]
    return Profile(
        profile_id=int(profile["charging_profile_id"]),
        connector_id=connector_id,
        stack_level=int(profile["stack_level"]),
        purpose=str(profile["charging_profile_purpose"]),
        kind=str(profile["charging_profile_kind"]),
        periods=_periods(schedule),
        start_schedule=_start(schedule),
        duration_s=_duration(schedule),
        transaction_ref=_transaction_ref(profile),
    )


def parse_profile_2x(evse_id: int, profile: dict[str, Any]) -> Profile:
    """A 2.0.1 / 2.1 `chargingProfile`; only its first schedule is used."""
    schedules = profile["charging_schedule"]
    schedule = schedules[0] if schedules else {}
    return Profile(
        profile_id=int(profile["id"]),
        connector_id=evse_id,
        stack_level=int(profile["stack_level"]),
        purpose=str(profile["charging_profile_purpose"]),
        kind=str(profile["charging_profile_kind"]),
        periods=_periods(schedule),
        start_schedule=_start(schedule),
        duration_s=_duration(schedule),
        transaction_ref=_transaction_ref(profile),
    )


@dataclass
class ProfileSet:
    """The profiles installed on one charge point."""

    profiles: dict[int, Profile] = field(default_factory=dict)

    def install(self, profile: Profile) -> None:
        """Add or replace (same ID, or same connector, purpose and stack level, as OCPP says)."""
        for existing in list(self.profiles.values()):
            if (existing.connector_id, existing.purpose, existing.stack_level) == (
                profile.connector_id,
                profile.purpose,
                profile.stack_level,
            ):
                del self.profiles[existing.profile_id]
        self.profiles[profile.profile_id] = profile

    def clear(
        self,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Remove every profile matching all given criteria; returns how many were removed."""
        doomed = [
            profile.profile_id
            for profile in self.profiles.values()
            if (profile_id is None or profile.profile_id == profile_id)
            and (connector_id is None or profile.connector_id == connector_id)
            and (purpose is None or profile.purpose == purpose)
            and (stack_level is None or profile.stack_level == stack_level)
        ]
        for key in doomed:
            del self.profiles[key]
        return len(doomed)

    def limit_w(self, connector_id: int, at: datetime, transaction_start: datetime | None) -> int | None:
        """The power limit for `connector_id` at `at`, or None when nothing limits it."""
        applicable = [p for p in self.profiles.values() if p.connector_id in (0, connector_id)]
        limits: list[int] = []
        for purposes in ({TX_PURPOSE}, {TX_DEFAULT_PURPOSE}):
            chosen = self._top(applicable, purposes, connector_id, at, transaction_start)
            if chosen is not None:
                limits.append(chosen)
                break
        cap = self._top(applicable, MAX_PURPOSES, connector_id, at, transaction_start)
        if cap is not None:
            limits.append(cap)
        return min(limits) if limits else None

    def next_change(self, at: datetime, transaction_start: datetime | None) -> datetime | None:
        """The earliest instant after `at` at which any profile's limit may change."""
        edges = [p.changes_after(at, transaction_start) for p in self.profiles.values()]
        present = [edge for edge in edges if edge is not None]
        return min(present) if present else None

    @staticmethod
    def _top(
        profiles: list[Profile],
        purposes: set[str] | frozenset[str],
        connector_id: int,
        at: datetime,
        transaction_start: datetime | None,
    ) -> int | None:
        """The limit of the highest-stacked profile of `purposes` in force (own connector first)."""
        best: tuple[int, int, int] | None = None
        for profile in profiles:
            if profile.purpose not in purposes:
                continue
            limit = profile.limit_at(at, transaction_start)
            if limit is None:
                continue
            rank = (profile.stack_level, int(profile.connector_id == connector_id), limit)
            if best is None or rank[:2] > best[:2]:
                best = rank
        return best[2] if best is not None else None
