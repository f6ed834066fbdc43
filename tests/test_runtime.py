"""Process-wide tuning the engine applies at start (`mobility.runtime`)."""

from __future__ import annotations

import subprocess
import sys


def test_the_engine_process_hands_the_gil_over_within_half_a_millisecond() -> None:
    """A journal commit on its own thread waited CPython's 5 ms switch interval to get the GIL
    back after each blocking statement while the event loop was busy (`benches/gil_switch.py`).
    `run_engine` shortens it; checked in a fresh interpreter so this process keeps its own."""
    script = (
        "import asyncio, sys\n"
        "from mobility import engine\n"
        "class Stop(Exception): pass\n"
        "async def started(self): raise Stop\n"
        "engine.Engine.build = classmethod(lambda cls, settings, options: cls.__new__(cls))\n"
        "engine.Engine.start = started\n"
        "try:\n"
        "    asyncio.run(engine.run_engine(None, None))\n"
        "except Stop:\n"
        "    pass\n"
        "print(sys.getswitchinterval())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == 0.0005
