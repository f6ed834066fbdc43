"""Failed Basic-auth handshakes, throttled per charge point and per source address.

An attempt is counted before its password is hashed (and refunded if it was right), so a flood
of concurrent handshakes is refused, 429 before any hashing, once the attempts in flight and
recently failed reach a limit: per source address (one attacker) and per charge point (many
addresses guessing one password). A charge point is not locked out by a flood from elsewhere:
the address it last authenticated from is exempt from its per-charge-point limit (the
per-address one still holds). Chargers behind one address (a site's NAT) do not count against
each other unless they fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from mobility.clock import Clock, utc_now
from mobility.ratelimit import RateLimiter


@dataclass(frozen=True, slots=True)
class ThrottleLimits:
    """How many failed handshakes in `window_s` seconds before refusing."""

    per_address: int = 10
    per_charge_point: int = 20
    window_s: float = 60.0


class AuthThrottle:
    """Counts failed handshakes; `admit` before hashing, `succeeded` after a right password."""

    def __init__(self, limits: ThrottleLimits = ThrottleLimits(), clock: Clock = utc_now) -> None:
        window = timedelta(seconds=limits.window_s)
        self._by_address = RateLimiter(limits.per_address, window, clock)
        self._by_charge_point = RateLimiter(limits.per_charge_point, window, clock)
        self._known_address: dict[str, str] = {}  # charge point -> where it last authenticated from

    def admit(self, charge_point_id: str, address: str) -> float | None:
        """Count an attempt up front: None if it may be checked, else seconds to wait (counts nothing)."""
        exempt = self._known_address.get(charge_point_id) == address
        retry = self._by_address.check(address)
        if retry is None and not exempt:
            retry = self._by_charge_point.check(charge_point_id)
        if retry is not None:
            return retry
        self._by_address.hit(address)
        if not exempt:
            self._by_charge_point.hit(charge_point_id)
        return None

    def succeeded(self, charge_point_id: str, address: str) -> None:
        """The password was right: the attempt does not count, and the address is the charge point's."""
        if self._known_address.get(charge_point_id) != address:
            self._by_charge_point.refund(charge_point_id)
        self._by_address.refund(address)
        self._known_address[charge_point_id] = address

    def abandoned(self, charge_point_id: str, address: str) -> None:
        """No password was checked after all (the hasher was busy): the attempt does not count."""
        if self._known_address.get(charge_point_id) != address:
            self._by_charge_point.refund(charge_point_id)
        self._by_address.refund(address)
