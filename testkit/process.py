"""`mobility ...` as a real child process, for tests and benchmarks that talk to the engine from
outside, over loopback."""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def engine_env(data_dir: Path, database_url: str, **settings: str) -> dict[str, str]:
    """The environment of an engine on `database_url` with free ports (`MOBILITY_` + upper-case keys)."""
    return {
        **os.environ,
        "MOBILITY_DATA_DIR": str(data_dir),
        "MOBILITY_DATABASE_URL": database_url,
        "MOBILITY_OCPP_PORT": str(free_port()),
        "MOBILITY_API_PORT": str(free_port()),
        **{f"MOBILITY_{key.upper()}": value for key, value in settings.items()},
    }


def mobility(env: dict[str, str], *args: str) -> str:
    """Run a `mobility` command to completion; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "mobility.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@dataclass
class Serving:
    """A running `mobility serve`, the lines it wrote to stderr before it listened, and the last
    ones since. Its stderr is read all along (and copied to `log` when given): a full pipe would
    block the engine's event loop."""

    process: subprocess.Popen[bytes]
    boot: list[str]
    since: deque[str] = field(default_factory=lambda: deque(maxlen=2_000))
    log: IO[bytes] | None = None

    def drain(self) -> None:
        """Read stderr until the process closes it."""
        assert self.process.stderr is not None
        for line in iter(self.process.stderr.readline, b""):
            self.since.append(line.decode(errors="replace")[:2_000])
            if self.log is not None:
                self.log.write(line)


@contextmanager
def serving(
    env: dict[str, str], *args: str, ready_within: float = 60.0, log: IO[bytes] | None = None
) -> Iterator[Serving]:
    """`mobility serve [args]` until the block ends; entered once it says it listens.

    The wait polls the child's stderr with a deadline (a wall-clock bound on a child process,
    not a test of time), and fails with what the child said if it exits first.
    """
    # Unbuffered, so a line read never leaves further lines hidden from the selector in a buffer.
    server = subprocess.Popen(
        [sys.executable, "-m", "mobility.cli", "serve", *args], env=env, stderr=subprocess.PIPE, bufsize=0
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
        if log is not None:
            log.write(b"".join(said))
        served = Serving(server, [line.decode(errors="replace") for line in said], log=log)
        drain = threading.Thread(target=served.drain, daemon=True)
        drain.start()
        yield served
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
