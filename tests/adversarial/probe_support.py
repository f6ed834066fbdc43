"""What the probes of issue 14's points 4, 6, 7, 9, 10, 11, 12 and 15 share: `mobility serve`
as a process with what it logged while starting, and a verdict per check (expected / observed)
printed as a table when the module's engine stops.

Fixtures live in the test modules (this folder's conftest is another suite's); this module only
holds the pieces they build them from.
"""

from __future__ import annotations

import selectors
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
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


@dataclass
class Serving:
    """A running `mobility serve`, the lines it wrote to stderr before it listened, and the last
    ones since (stderr is drained all along: a full pipe would block the engine)."""

    process: subprocess.Popen[bytes]
    boot: list[str]
    since: deque[str] = field(default_factory=lambda: deque(maxlen=2_000))

    def drain(self) -> None:
        assert self.process.stderr is not None
        for line in iter(self.process.stderr.readline, b""):
            self.since.append(line.decode(errors="replace")[:2_000])


@contextmanager
def serve(env: dict[str, str], ready_within: float = 60.0) -> Iterator[Serving]:
    """`tests.engine_process.serving`, keeping the log (the probes read it)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "mobility.cli", "serve"], env=env, stderr=subprocess.PIPE, bufsize=0
    )
    assert server.stderr is not None
    said: list[bytes] = []
    drain: threading.Thread | None = None
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(server.stderr, selectors.EVENT_READ)
            deadline = time.monotonic() + ready_within
            while not any(b"engine listening on" in line for line in said):
                remaining = deadline - time.monotonic()
                assert remaining > 0, b"mobility serve did not listen in time:\n" + b"".join(said[-20:])
                if selector.select(remaining):
                    line = server.stderr.readline()
                    assert line, b"mobility serve exited before listening:\n" + b"".join(said[-20:])
                    said.append(line)
        serving = Serving(server, [line.decode(errors="replace") for line in said])
        drain = threading.Thread(target=serving.drain, daemon=True)
        drain.start()
        yield serving
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if drain is not None:
            drain.join(10)  # the pipe reaches its end once the process is gone
        server.stderr.close()
