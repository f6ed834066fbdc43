"""What a channel owner loaded after a restart prices a running session on: the charging
side's durable energy (without it, a price lost in a crash stayed low until the next reading)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from mobility.charging.store import ChargingStore, ReadingRequest
from mobility.db import create_db_engine
from mobility.engine import energy_so_far
from mobility.payments.pricing import MeterSample

T0 = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


def test_a_running_sessions_energy_is_one_sample_at_its_last_reading(
    tmp_path: Path, migrated_sqlite: Callable[[Path], str]
) -> None:
    engine = create_db_engine(migrated_sqlite(tmp_path / "e.db"))
    store = ChargingStore(engine)
    store.ensure_charge_point("CP1", False)
    session, _ = store.start_session("CP1", 1, "TAG", 1_000, T0, "tx1")
    assert session.id is not None
    assert energy_so_far(store, session.id) == []  # nothing drawn yet
    at = T0 + dt.timedelta(minutes=10)
    with engine.begin() as db:
        store.write_readings(db, [ReadingRequest("CP1", 1, 2_500, at, "tx1", None)])
    assert energy_so_far(store, session.id) == [MeterSample(at, 1_500)]
    assert energy_so_far(store, 999) == []
