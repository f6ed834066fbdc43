"""`CallTimes`: answer times by action, in Prometheus's "less than or equal" buckets."""

from __future__ import annotations

from ocpp_server.call_times import BUCKETS_S, CallTimes


def test_a_time_on_a_bound_counts_in_that_bound_and_longer_ones_in_the_last_bucket() -> None:
    times = CallTimes()
    times.observe("MeterValues", BUCKETS_S[0])
    times.observe("MeterValues", BUCKETS_S[0] * 1.5)
    times.observe("MeterValues", BUCKETS_S[-1] * 2)
    [(action, figures)] = times.snapshot().items()
    assert action == "MeterValues"
    assert (figures.counts[0], figures.counts[1], figures.counts[-1]) == (1, 1, 1)
    assert figures.count == 3
    assert figures.total_s == BUCKETS_S[0] * 2.5 + BUCKETS_S[-1] * 2


def test_a_snapshot_does_not_move_with_later_calls() -> None:
    times = CallTimes()
    times.observe("Heartbeat", 0.0001)
    before = times.snapshot()
    times.observe("Heartbeat", 0.0001)
    assert before["Heartbeat"].count == 1
    assert times.snapshot()["Heartbeat"].count == 2
