"""The load harness's reading of a py-spy profile (benches/engine_load.py): the summary the
README's bottleneck paragraph rests on must count waiting threads apart and attribute time to
the right package and caller."""

from __future__ import annotations

import json
from pathlib import Path

from benches.engine_load import read_speedscope

SITE = "/venv/lib/python3.11/site-packages"
STDLIB = "/usr/lib/python3.11"


def test_profile_summary_counts_waits_apart_and_attributes_self_and_inclusive_time(tmp_path: Path) -> None:
    frames = [
        {"name": "_worker", "file": f"{STDLIB}/concurrent/futures/thread.py", "line": 81},
        {"name": "PaymentStore.update_session", "file": "/work/main/mobility/payments/store.py", "line": 9},
        {"name": "DefaultDialect.do_commit", "file": f"{SITE}/sqlalchemy/engine/default.py", "line": 1},
        {"name": "EpollSelector.select", "file": f"{STDLIB}/selectors.py", "line": 468},
        {"name": "price_session", "file": "/work/main/mobility/payments/pricing.py", "line": 3},
    ]
    profiles = [
        {  # a pool thread: waits twice, commits for update_session three times
            "type": "sampled",
            "name": 'Thread 11 "asyncio_0"',
            "samples": [[0], [0], [0, 1, 2], [0, 1, 2], [0, 1, 2]],
            "weights": [0.01] * 5,
        },
        {  # the event loop: idle once, prices once
            "type": "sampled",
            "name": 'Thread 10 "MainThread"',
            "samples": [[3], [4]],
            "weights": [0.01] * 2,
        },
    ]
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"shared": {"frames": frames}, "profiles": profiles}))

    report = read_speedscope(path)

    assert (report.samples, report.waiting) == (4, 3)
    assert report.threads == [("asyncio_* (to_thread pool)", 3), ("MainThread (event loop)", 1)]
    assert report.self_by_package == [("sqlalchemy", 3), ("mobility/payments", 1)]
    assert report.inclusive == [
        ("PaymentStore.update_session (mobility/payments)", 3),
        ("price_session (mobility/payments)", 1),
    ]
