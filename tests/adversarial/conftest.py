"""The probe suite: attacks against `mobility serve` as a real process on loopback, each probe
stating what it expected and what it observed (issue 14).

One engine serves every probe of a module (starting one takes seconds); each probe is bounded
in how much it sends. A verdict table is printed at the end of the run.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from testkit.process import engine_env, mobility, serving
from tests.adversarial.probe_support import ProbeLog

CHARGER_PASSWORD = "adversarial-pw-0001"  # 19 characters: within the API's 16-40


SUITE = ProbeLog("adversarial probes")
"""Every probe of the modules served by `served` records its checks here."""


@pytest.fixture
def probe(request: pytest.FixtureRequest) -> ProbeLog:
    SUITE.current = request.node.name
    return SUITE


def pytest_terminal_summary(terminalreporter: Any) -> None:
    SUITE.pytest_terminal_summary(terminalreporter)


@dataclass(frozen=True, slots=True)
class Served:
    """A served engine: its ports, environment and the keys made for the probes."""

    env: dict[str, str]
    api: str
    ocpp: str
    operator_a: str
    operator_b: str
    admin: str

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `mobility ...` against the engine's database, whatever its exit code."""
        return subprocess.run(
            [sys.executable, "-m", "mobility.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`mobility serve` on SQLite (payments on, the development network) with operators op-a and
    op-b, an engine admin, and charge point CP-A1 of op-a."""
    data: Path = tmp_path_factory.mktemp("adversarial")
    env = engine_env(
        data,
        f"sqlite:///{data / 'engine.db'}",
        payments_enabled="true",
        ledger_min_pow_score="1",
        ledger_milestone_interval_seconds="3600",
    )
    operator_a = mobility(env, "operators", "add", "op-a").strip()
    operator_b = mobility(env, "operators", "add", "op-b").strip()
    admin = mobility(env, "admins", "add", "ops").strip()
    mobility(env, "chargers", "add", "CP-A1", "--operator", "op-a", "--password", CHARGER_PASSWORD)
    with serving(env):
        yield Served(
            env,
            f"http://127.0.0.1:{env['MOBILITY_API_PORT']}",
            f"ws://127.0.0.1:{env['MOBILITY_OCPP_PORT']}/ocpp",
            operator_a,
            operator_b,
            admin,
        )
