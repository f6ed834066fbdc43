"""The fleet runner: seeded plans, and a faulty mixed fleet against the real CentralSystem."""

from __future__ import annotations

import random

import pytest

from sims.chargers.backoff import Backoff
from sims.chargers.cli import build_parser, main, parse_mix, run
from sims.chargers.clock import ManualClock
from sims.chargers.fleet import Fleet, FleetConfig, assign_versions
from tests.ocpp.conftest import ALLOWED_TOKEN, Harness
from tests.sims.conftest import LIMIT, assert_server_matches, step, wait_online


def test_versions_follow_the_ratio_and_the_seed() -> None:
    mix = {"1.6": 0.5, "2.0.1": 0.3, "2.1": 0.2}
    versions = assign_versions(10, mix, random.Random(1))
    assert sorted(versions).count("1.6") == 5
    assert versions.count("2.0.1") == 3
    assert versions.count("2.1") == 2
    assert versions == assign_versions(10, mix, random.Random(1))
    assert sorted(assign_versions(7, {"1.6": 1, "2.1": 1}, random.Random(2))).count("1.6") in (3, 4)
    with pytest.raises(ValueError, match="positive"):
        assign_versions(3, {}, random.Random(0))


def test_same_seed_same_fleet() -> None:
    config = FleetConfig(url="ws://127.0.0.1:1/ocpp", count=12, seed=42)
    first, second = Fleet(config, ManualClock()), Fleet(config, ManualClock())
    assert [(s.id, s.dialect.version) for s in first.stations] == [
        (s.id, s.dialect.version) for s in second.stations
    ]


def test_cli_arguments() -> None:
    arguments = build_parser().parse_args(
        ["--count", "3", "--seed", "9", "--speed", "120", "--duration-s", "60", "--mix", "1.6=1,2.1=3"]
    )
    assert (arguments.count, arguments.seed, arguments.speed, arguments.duration_s) == (3, 9, 120.0, 60.0)
    assert arguments.mix == {"1.6": 1.0, "2.1": 3.0}
    assert parse_mix("2.0.1=0.5") == {"2.0.1": 0.5}


async def test_faulty_mixed_fleet_bills_exactly_what_it_delivered(
    central: Harness, clock: ManualClock
) -> None:
    """Six stations, two hours, arrivals and faults at random: server energy = simulator energy."""
    config = FleetConfig(
        url=f"ws://127.0.0.1:{central.central.port}/ocpp",
        count=6,
        seed=3,
        id_tokens=(ALLOWED_TOKEN,),
        prefix="FLT",
        mean_idle_s=600,
        mean_dwell_s=2_400,
        faults_per_hour=1.5,
        max_offline_s=600,
        backoff=Backoff(base_s=2.0, cap_s=10.0),
        response_timeout_s=5.0,
    )
    fleet = Fleet(config, clock)
    await fleet.start()
    try:
        for station in fleet.stations:
            await wait_online(station)
        for _ in range(120):
            await step(clock, fleet.stations, 60)
        await fleet.calm()
        for _ in range(12):  # long enough for any offline period, back-off or reboot to end
            await step(clock, fleet.stations, 60)
        for station in fleet.stations:
            await wait_online(station)
    finally:
        summary = await fleet.finish(LIMIT)
    assert summary.undelivered == 0
    assert summary.sessions_started >= 10
    assert summary.sessions_ended == summary.sessions_started
    assert summary.drops + summary.reboots > 0
    assert summary.stations == {"1.6": 3, "2.0.1": 2, "2.1": 1}
    total = sum(assert_server_matches(central, station) for station in fleet.stations)
    assert total == summary.energy_wh > 0


async def test_cli_run_against_the_server_in_accelerated_time(central: Harness) -> None:
    """The CLI's own path (accelerated clock): 20 simulated minutes in about one real second."""
    arguments = build_parser().parse_args(
        [
            "--url",
            f"ws://127.0.0.1:{central.central.port}/ocpp",
            "--count",
            "3",
            "--seed",
            "11",
            "--speed",
            "1200",
            "--duration-s",
            "1200",
            "--mean-idle-s",
            "60",
            "--id-token",
            ALLOWED_TOKEN,
            "--prefix",
            "CLI",
        ]
    )
    summary = await run(arguments)
    assert summary.undelivered == 0
    assert summary.sessions_started > 0
    sessions = [session for n in range(3) for session in central.store.sessions(f"CLI-{n:04d}")]
    assert len(sessions) == summary.sessions_started
    assert all(session.ended_at is not None and not session.flagged for session in sessions)
    assert sum(session.energy_wh for session in sessions) == summary.energy_wh


def test_cli_main_prints_a_summary_without_a_server(capsys: pytest.CaptureFixture[str]) -> None:
    arguments = "--url ws://127.0.0.1:9/ocpp --count 2 --speed 6000 --duration-s 60"
    status = main([*arguments.split(), "--drain-limit-s", "0.2", "--mean-idle-s", "1e9"])
    out = capsys.readouterr().out
    assert status == 0
    assert "stations          2" in out
    assert "0 online at the end" in out
