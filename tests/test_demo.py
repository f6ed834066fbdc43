"""A short run of `mobility demo`: the simulated city against the whole engine reconciles, with
every kind of payer in it (fleets paying on the fleet stream) and chargers dropping, going
offline and losing power, the fleets' own reconciliation over the API agrees with the run, a
difference injected afterwards makes the exit code 1, the same seed gives the same run, and an
engine whose price is off by one micro-unit fails the city's own check."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

import mobility.payments.pricing
import mobility.payments.service
from mobility.charging.events import EndReason
from mobility.demo import exit_code, run_demo
from mobility.payments.pricing import MeterSample
from mobility.payments.tariff import Tariff
from sims.city.run import CityRun, simulate
from sims.city.scenario import DEFAULT_SCENARIO, load

CI_SCENARIO = DEFAULT_SCENARIO.parent / "ci_city.toml"


def overbill_one_session(run: CityRun) -> int:
    """Add one micro-unit to a paid session's bill as the engine reported it: what a pricing
    bug would look like to the city."""
    session = min((s for s in run.report.sessions if s["status"] == "paid"), key=lambda s: s["id"])
    session["billed"] += 1
    return int(session["id"])


def end_reasons(run: CityRun) -> dict[int, str | None]:
    """How each charging session ended, as the engine reports the charger said."""
    return {int(s["id"]): s["end_reason"] for s in run.report.sessions}


Outcome = list[tuple[object, ...]]


def outcome(run: CityRun) -> Outcome:
    """What a run did, session by session: where and when, how much energy and money, how it ended
    (not the engine's IDs, block IDs or settlement latencies, which follow real time)."""
    return sorted(
        (
            r.charge_point_id, r.started_at, r.ended_at, r.behaviour, r.payer_kind, r.simulated_wh,
            r.metered_wh, r.billed, r.paid, r.settled, r.shortfall, r.enforcement, r.status,
        )
        for r in run.record.sessions
    )  # fmt: skip


@pytest.fixture(scope="module")
def city_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[CityRun, Outcome]:
    """The CI city, seed 3, and its outcome as it was before any test touched the database."""
    run = simulate(load(CI_SCENARIO), seed=3, data_dir=tmp_path_factory.mktemp("city"))
    return run, outcome(run)


def test_a_short_city_run_balances_and_a_difference_fails_it(city_run: tuple[CityRun, Outcome]) -> None:
    run, _ = city_run
    record = run.record
    rows = record.sessions
    assert {"prompt", "slow", "stops paying", "rfid"} <= {row.behaviour for row in rows}, rows
    assert any(row.payer_kind == "fleet" and row.status == "ok" for row in rows)
    # Chargers failed as field hardware does, and nothing was lost: every kind of fault struck,
    # sessions were queued offline and replayed, and still every session balances.
    notes = record.notes
    assert all(int(notes.get(f"faults: {kind}", 0)) > 0 for kind in ("drop", "offline", "power loss")), notes
    assert int(notes["transaction messages replayed from offline"]) > 0, notes
    assert all(row.simulated_wh == row.metered_wh for row in rows)
    assert record.balanced, [row for row in rows if not row.balanced]
    assert exit_code(record) == 0
    assert record.samples
    assert record.samples[-1].settled == sum(row.settled for row in rows)
    assert all(row.block_id and row.milestone_index for row in rows if row.settled)
    # Drivers who pay on time charge until they leave: never stopped, never refused by the charger.
    reasons = end_reasons(run)
    prompt = [row for row in rows if row.behaviour == "prompt"]
    assert prompt
    assert all(not (row.enforcement or "").startswith("stop") for row in prompt), prompt
    assert all(reasons[row.session_id] != EndReason.DE_AUTHORIZED for row in prompt), [
        (row.session_id, reasons[row.session_id]) for row in prompt
    ]

    # Each fleet's own reconciliation over the fleet API agrees with the run's rows, and a
    # report that says otherwise makes the run not balanced.
    compared = {k: v for k, v in record.notes.items() if k.endswith("API reconciliation")}
    assert compared, record.notes
    assert all("agree with the run" in v for v in compared.values()), compared
    assert record.fleet_disagreements == 0
    fleet_id, reported = next((k, v) for k, v in run.fleet_reports.items() if v)
    reported[0]["settled"] += 1
    assert not run.reconcile().balanced
    assert run.record.fleet_disagreements == 1
    assert "settled" in run.record.notes[f"fleet {fleet_id} API reconciliation"]
    reported[0]["settled"] -= 1
    assert run.reconcile().balanced

    # What settled is what the ledger proves: a claim it does not prove settles nothing, and a
    # channel said to have paid more than its wallet signed does not balance.
    block_id = next(row.block_id for row in rows if row.status == "ok" and row.settled and row.block_id)
    proven = run.report.claims[block_id]
    run.report.claims[block_id] = "the Merkle path does not reach the milestone's inclusion root"
    unproven = [row for row in run.reconcile().sessions if row.status == "unsettled"]
    assert unproven
    assert not run.record.balanced
    assert all(row.settled == 0 and row.block_id is None for row in unproven)
    run.report.claims[block_id] = proven
    signed = dict(run.books.signed)
    run.books.signed.update(dict.fromkeys(signed, 0))
    assert all("wallet signed" in row.reason for row in run.reconcile().sessions if row.paid)
    assert not run.record.balanced
    run.books.signed.update(signed)
    assert run.reconcile().balanced

    tampered = overbill_one_session(run)
    again = run.reconcile()
    assert [row.status for row in again.sessions if row.session_id == tampered] == ["mismatch"]
    assert not again.balanced
    assert exit_code(again) == 1


def test_the_same_seed_gives_the_same_run(city_run: tuple[CityRun, Outcome], tmp_path: Path) -> None:
    """Simulated time steps only when the engine is quiet, so machine speed changes nothing."""
    run, first = city_run
    assert any(row.paid for row in run.record.sessions)  # a run with money in it, not an empty one
    again = simulate(load(CI_SCENARIO), seed=3, data_dir=tmp_path)
    assert outcome(again) == first


def test_an_engine_that_bills_one_micro_unit_too_much_fails_the_city(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The city prices every session itself, from its meters and the scenario's tariffs: the
    engine's pricing, one micro-unit high, makes the demo exit 1 and name each session."""
    exact = mobility.payments.pricing.session_total

    def one_too_many(
        tariff: Tariff, started_at: datetime, samples: list[MeterSample], ended_at: datetime | None = None
    ) -> tuple[int, int]:
        total, energy_wh = exact(tariff, started_at, samples, ended_at)
        return total + 1, energy_wh

    monkeypatch.setattr(mobility.payments.service, "session_total", one_too_many)
    code = run_demo(3, 0.25, None, None, tmp_path, scenario_file=CI_SCENARIO)
    out = capsys.readouterr().out
    assert code == 1, out
    named = re.findall(r"session (\d+) \([^)]*\): billed (\d+), the city prices it at (\d+)", out)
    assert named, out
    assert all(int(billed) == int(price) + 1 for _, billed, price in named), named
    assert "NOT balanced" in out
