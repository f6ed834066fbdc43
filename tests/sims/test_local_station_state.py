"""The simulated station's reservations and local list on their own: what a real charge
point's firmware would answer, on the station's clock."""

from __future__ import annotations

from datetime import timedelta

from sims.chargers.clock import ManualClock
from sims.chargers.local_auth import LocalAuthList
from sims.chargers.reservations import ReservationDesk


def test_a_reservation_holds_its_connector_until_used_cancelled_or_expired() -> None:
    clock = ManualClock()
    busy: set[int] = set()
    desk = ReservationDesk(clock.now, (1, 2), busy.__contains__)
    soon = clock.now() + timedelta(minutes=10)
    assert desk.reserve(1, 1, "AA", soon) == "Accepted"
    assert desk.reserve(2, 1, "BB", soon) == "Occupied"  # held for another token
    assert desk.reserve(3, 9, "BB", soon) == "Rejected"  # no such connector
    busy.add(2)
    assert desk.reserve(4, 2, "BB", soon) == "Occupied"  # in use
    assert desk.reserve(5, None, "BB", soon) == "Occupied"  # any connector: none free
    busy.clear()
    assert (desk.may_start(1, "aa"), desk.may_start(1, "BB"), desk.may_start(2, "BB")) == (True, False, True)
    assert desk.use(1, "BB") is None
    assert desk.use(1, "aa") == 1
    assert desk.held == []

    assert desk.reserve(6, 2, "CC", soon) == "Accepted"
    assert desk.cancel(6)
    assert not desk.cancel(6)
    assert desk.reserve(7, 2, "CC", soon) == "Accepted"
    clock.advance(599)
    assert desk.expire() == []
    clock.advance(1)
    assert desk.may_start(2, "DD")
    assert desk.expire() == [7]


def test_the_local_list_takes_full_and_differential_updates() -> None:
    local = LocalAuthList()
    assert local.update(1, True, [("aa", "Accepted"), ("BB", "Blocked")]) == "Accepted"
    assert (local.version, local.entries) == (1, {"AA": "Accepted", "BB": "Blocked"})
    assert local.update(1, False, [("CC", "Accepted")]) == "VersionMismatch"
    assert local.update(2, False, [("CC", "Accepted"), ("AA", None)]) == "Accepted"
    assert local.entries == {"BB": "Blocked", "CC": "Accepted"}
    assert (local.refuses("bb"), local.refuses("CC"), local.refuses("unknown")) == (True, False, False)
    assert local.update(3, True, []) == "Accepted"
    assert local.entries == {}
    assert local.clear_cache() == "Accepted"
    assert local.cache_clears == 1
