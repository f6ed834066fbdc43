"""Tip selection: uniform random over non-lazy tips (TIP-3, "URTS").

A tip is a solid block nothing approves yet. How lazy it is depends on how old the parts of
the confirmed tangle it hangs from are, measured by milestone indexes (TIP-3's root snapshot
indexes): walking its unreferenced past cone back to the blocks some milestone already
referenced, YMRSI is the youngest such milestone index and OMRSI the oldest (0 for the
genesis). With LMI the latest milestone index:
- lazy if `LMI - YMRSI > max_delta_ymrsi` (C1 = 8) or `LMI - OMRSI > below_max_depth`
  (M = 15): approving it would drag an old cone into the next milestone;
- semi-lazy if `LMI - OMRSI > max_delta_omrsi` (C2 = 13);
- non-lazy otherwise, and only those are chosen, uniformly at random.
Hornet's extra rules (a tip leaves the pool after a few children or seconds) are not here:
a tip simply stops being one when a stored block approves it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from mobility.ledger.store import LedgerStore

MAX_PARENTS = 8


class Laziness(StrEnum):
    """TIP-3's classification of a tip."""

    NON_LAZY = "non_lazy"
    SEMI_LAZY = "semi_lazy"
    LAZY = "lazy"


@dataclass(frozen=True, slots=True)
class TipSelectionParams:
    """TIP-3's constants, with its default values."""

    max_delta_ymrsi: int = 8
    max_delta_omrsi: int = 13
    below_max_depth: int = 15


def classify(
    latest_index: int, ymrsi: int, omrsi: int, params: TipSelectionParams = TipSelectionParams()
) -> Laziness:
    """TIP-3's rule, given the latest milestone index and a tip's root snapshot indexes."""
    if latest_index - ymrsi > params.max_delta_ymrsi or latest_index - omrsi > params.below_max_depth:
        return Laziness.LAZY
    if latest_index - omrsi > params.max_delta_omrsi:
        return Laziness.SEMI_LAZY
    return Laziness.NON_LAZY


def non_lazy_tips(store: LedgerStore, params: TipSelectionParams = TipSelectionParams()) -> list[bytes]:
    """Every current tip that TIP-3 calls non-lazy, in ID order."""
    latest = store.latest_milestone()
    latest_index = 0 if latest is None else latest.milestone_index
    chosen = []
    for tip in store.tips():
        ymrsi, omrsi = store.root_snapshot_indexes(tip)
        if classify(latest_index, ymrsi, omrsi, params) is Laziness.NON_LAZY:
            chosen.append(tip)
    return chosen


def select_parents(
    store: LedgerStore,
    rng: random.Random,
    count: int = MAX_PARENTS,
    params: TipSelectionParams = TipSelectionParams(),
) -> tuple[bytes, ...]:
    """Up to `count` (1..8) distinct non-lazy tips, uniformly at random, sorted for a block.

    With no non-lazy tip (an idle network) the latest milestone's block is approved, or the
    genesis entry point before the first milestone, so a new block always has a parent.
    """
    if not 1 <= count <= MAX_PARENTS:
        raise ValueError(f"count must be 1..{MAX_PARENTS}")
    tips = non_lazy_tips(store, params)
    if tips:
        return tuple(sorted(rng.sample(tips, min(count, len(tips)))))
    latest = store.latest_milestone()
    if latest is not None:
        return (latest.block_id,)
    return (min(store.solid_entry_points),)
