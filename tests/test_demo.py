"""A short run of `mobility demo`: the simulated city against the whole engine reconciles."""

from __future__ import annotations

from pathlib import Path

from mobility.demo import run_city


async def test_a_short_city_run_reconciles(tmp_path: Path) -> None:
    result = await run_city(tmp_path, seed=11, hours=0.5, speed=600.0, chargers=4)
    assert result.fleet.sessions_started > 0
    assert result.engine_energy_wh > 0
    assert result.balanced, result
    assert result.milestone is not None
