"""Who carries a channel's debt: its paid total attributed to ended sessions, oldest first.

A channel's paid total (its best voucher) pays its ended sessions' bills first, oldest first
(by end, then session ID); running sessions take what is left. So the ended sessions' shortfalls
always add up to `max(0, ended billed - paid)`, and a voucher that raises the paid total pays
off the oldest unpaid sessions first. A shortfall only ever shrinks: a session once paid stays
paid (it may already be claimed on the ledger).

Pure functions, kept apart from the database so a per-channel owner can reuse them.
"""

from __future__ import annotations

from collections.abc import Sequence


def still_owed(ended_billed: int, paid: int) -> int:
    """What the paid total leaves unpaid of the ended sessions' bills."""
    return max(0, ended_billed - paid)


def newly_covered(ended_billed: int, paid: int, shortfall: int) -> int:
    """How much of the recorded `shortfall` (summed over the ended sessions) the paid total now
    covers. Never negative: a recorded shortfall below what is owed is not grown back."""
    return max(0, shortfall - still_owed(ended_billed, paid))


def attribute(unpaid: Sequence[tuple[int, int]], covered: int) -> list[tuple[int, int]]:
    """The new (session ID, shortfall) of unpaid sessions, given oldest first, once `covered`
    more micro-units are paid: each session is paid off in turn, the oldest first, so at most
    one session is left partly paid. Exact to the micro-unit; what exceeds the shortfalls is
    left over for running sessions. Applying the rest later gives the same as applying it all
    at once (an amount already attributed is never attributed twice)."""
    if covered < 0:
        raise ValueError(f"a negative amount covered: {covered}")
    shortfalls: list[tuple[int, int]] = []
    for session_id, shortfall in unpaid:
        if shortfall < 0:
            raise ValueError(f"session {session_id} has a negative shortfall: {shortfall}")
        paid_off = min(shortfall, covered)
        covered -= paid_off
        shortfalls.append((session_id, shortfall - paid_off))
    return shortfalls
