"""The tip-pool simulation: its data structure, and Popov's L = 2 lambda h where it should hold."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from sims.tangle_tips import TipPool, simulate


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 30)), max_size=200))
def test_tip_pool_behaves_like_a_set(operations: list[tuple[bool, int]]) -> None:
    pool, model = TipPool(), set[int]()
    for add, tx in operations:
        if add and tx not in model:
            pool.add(tx)
            model.add(tx)
        elif not add:
            pool.discard(tx)
            model.discard(tx)
        assert len(pool) == len(model)
        assert all(t in pool for t in model)
    chosen = pool.sample(random.Random(0), 3)
    assert len(set(chosen)) == len(chosen) == min(3, len(model))
    assert set(chosen) <= model


def test_large_lambda_h_matches_popov() -> None:
    measurement = simulate(arrival_rate=25.0, delay=1.0, arrivals=60_000, rng=random.Random(3))
    assert 0.97 < measurement.ratio < 1.03


def test_small_lambda_h_stays_above_the_prediction() -> None:
    """With fewer than two visible tips a transaction can approve only one: L cannot fall to 2 lambda h."""
    measurement = simulate(arrival_rate=0.5, delay=1.0, arrivals=30_000, rng=random.Random(3))
    assert measurement.mean_tips > measurement.predicted * 1.3


def test_no_delay_keeps_one_or_two_tips() -> None:
    measurement = simulate(arrival_rate=10.0, delay=0.0, arrivals=5_000, rng=random.Random(1))
    assert 1.0 <= measurement.mean_tips <= 2.0


def test_more_parents_follow_the_same_mean_field_argument() -> None:
    """k parents: each arrival still removes one tip on average, so L = k / (k - 1) lambda h."""
    measurement = simulate(arrival_rate=25.0, delay=1.0, arrivals=60_000, rng=random.Random(3), parents=3)
    assert measurement.predicted == 37.5
    assert 0.97 < measurement.ratio < 1.03
