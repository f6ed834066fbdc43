"""What the probes of issue 14's points 4, 6, 7, 9, 10, 11, 12 and 15 share: a verdict per check
(expected / observed) printed as a table when the run ends. The engine they probe is
`mobility serve` as a process (`testkit.process.serving`, which keeps what it logged).

Fixtures live in the test modules (this folder's conftest is another suite's); this module only
holds the pieces they build them from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

BOUND = 30.0
"""Liveness bound on any one answer: a probe fails rather than hangs."""


@dataclass(frozen=True, slots=True)
class Verdict:
    probe: str
    expected: str
    observed: str

    @property
    def held(self) -> bool:
        return self.expected == self.observed


@dataclass
class ProbeLog:
    """Records a verdict per check, then asserts it; `report_at_the_end` prints them all."""

    title: str
    verdicts: list[Verdict] = field(default_factory=list)
    current: str = ""

    def check(self, what: str, expected: Any, observed: Any) -> None:
        verdict = Verdict(f"{self.current}: {what}", repr(expected), repr(observed))
        self.verdicts.append(verdict)
        assert verdict.held, f"{what}: expected {expected!r}, observed {observed!r}"

    def report_at_the_end(self, config: pytest.Config) -> None:
        """Print the verdicts in the run's terminal summary (output during a test is captured)."""
        if not config.pluginmanager.is_registered(self):
            config.pluginmanager.register(self, f"probe-log-{id(self)}")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.verdicts:
            return
        terminalreporter.section(f"{self.title}: expected / observed / verdict")
        for verdict in self.verdicts:
            mark = "held" if verdict.held else "BROKEN"
            terminalreporter.write_line(f"{mark:6} {verdict.probe}: {verdict.expected} / {verdict.observed}")
