"""An electric vehicle's battery as a charger sees it: how much power it takes, and when.

Charging follows the usual constant-current / constant-voltage shape: the battery takes its
full power until the taper point, then the accepted power falls in proportion to the energy
still missing, down to a small trickle, and stops at exactly 100 %. The power actually drawn
is the least of what the battery accepts, what the charger can give and what the active
charging profile allows.

Energy is integer arithmetic throughout: the battery holds millijoules (W x ms), so a power
in whole W over a duration in whole ms adds an exact integer and no rounding ever creeps into
the Wh the charger reports.
"""

from __future__ import annotations

from dataclasses import dataclass

MJ_PER_WH = 3_600_000
"""Millijoules in one watt-hour."""

PERMILLE = 1000


@dataclass(frozen=True, slots=True)
class EVSpec:
    """What a vehicle model can take.

    `taper_start_permille` is the state of charge (in 1/1000) where the CV phase begins;
    `trickle_w` keeps a tapering battery moving so it does reach full in finite time.
    """

    capacity_wh: int
    max_power_w: int
    taper_start_permille: int = 800
    trickle_w: int = 200

    def __post_init__(self) -> None:
        if self.capacity_wh <= 0 or self.max_power_w <= 0 or self.trickle_w < 0:
            raise ValueError("capacity and power must be positive")
        if not 0 <= self.taper_start_permille < PERMILLE:
            raise ValueError("taper start must be in [0, 1000) permille")


class EVBattery:
    """A battery with a state of charge that only grows while it is plugged in."""

    def __init__(self, spec: EVSpec, soc_permille: int = 200, taper_step_ms: int = 5_000) -> None:
        if not 0 <= soc_permille <= PERMILLE:
            raise ValueError("state of charge must be in [0, 1000] permille")
        if taper_step_ms <= 0:
            raise ValueError("taper step must be positive")
        self.spec = spec
        self._capacity_mj = spec.capacity_wh * MJ_PER_WH
        self._taper_band_mj = self._capacity_mj * (PERMILLE - spec.taper_start_permille) // PERMILLE
        self._taper_step_ms = taper_step_ms
        self.stored_mj = self._capacity_mj * soc_permille // PERMILLE

    @property
    def capacity_mj(self) -> int:
        """Capacity in millijoules."""
        return self._capacity_mj

    @property
    def stored_wh(self) -> int:
        """Energy in the battery, floored to whole Wh."""
        return self.stored_mj // MJ_PER_WH

    @property
    def soc_permille(self) -> int:
        """State of charge in 1/1000, floored (never above 1000)."""
        return self.stored_mj * PERMILLE // self._capacity_mj

    @property
    def full(self) -> bool:
        """True once the battery holds its capacity and takes no more power."""
        return self.stored_mj >= self._capacity_mj

    def acceptance_w(self) -> int:
        """The power the battery itself would take now: flat, then tapering, then zero."""
        remaining = self._capacity_mj - self.stored_mj
        if remaining <= 0:
            return 0
        full_power = self.spec.max_power_w
        if self._taper_band_mj == 0 or remaining >= self._taper_band_mj:
            return full_power
        tapered = full_power * remaining // self._taper_band_mj
        return max(tapered, min(self.spec.trickle_w, full_power))

    def power_w(self, limit_w: int | None) -> int:
        """The power drawn now under an external limit (charger and profile), in W."""
        accepted = self.acceptance_w()
        if limit_w is None:
            return accepted
        return max(min(accepted, limit_w), 0)

    def charge(self, duration_ms: int, limit_w: int | None) -> int:
        """Charge for `duration_ms` under a constant `limit_w`; returns the millijoules taken.

        The power is re-evaluated at the taper point and every `taper_step_ms` inside the
        taper, so the drawn power never exceeds what the battery accepts at that moment by
        more than one step's worth of change, and never exceeds `limit_w` at all.
        """
        if duration_ms < 0:
            raise ValueError("duration must not be negative")
        delivered = 0
        left = duration_ms
        while left > 0:
            power = self.power_w(limit_w)
            if power <= 0:
                break
            remaining = self._capacity_mj - self.stored_mj
            to_taper = remaining - self._taper_band_mj
            if to_taper > 0:
                step = min(left, max(-(-to_taper // power), 1))
            else:
                step = min(left, self._taper_step_ms)
            added = min(power * step, remaining)
            self.stored_mj += added
            delivered += added
            left -= step
        return delivered
