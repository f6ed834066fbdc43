"""Benchmark: the whole engine as a separate process under a city's load, with a profile.

`mobility serve` runs in its own process on a fresh database (payments on, unknown chargers
accepted, the tariff `default` posted through the operator API). This process connects N
simulated charge points (sims/chargers; OCPP 1.6 mostly, some 2.0.1 and 2.1) and runs P
drivers through the driver SDK: each signs up and logs in, opens a channel on the ledger from
its genesis allocation, remote-starts a charger and answers the engine's payment requests on
its live stream. A paying charger meters every `--meter-s` real seconds, each reading raises
what is owed, so the engine asks for, and the driver sends, one voucher per reading.

Over a steady window (after a warm-up) it measures OCPP messages/s and their round trip as
the charger sees it, vouchers/s accepted and their round trip (send -> verdict on the stream),
the engine's CPU (% of one core, per thread too) and RSS from /proc, and records a py-spy
profile of the engine (speedscope JSON, loadable at https://www.speedscope.app) whose top
cost centres are printed and written beside it.

    .venv/bin/python -m benches.engine_load --chargers 1000 --paying 200 --seconds 120 --out bench-out

Idle chargers only heartbeat (`--heartbeat-s`, the interval the engine gives at boot), as
idle hardware does. The load generator shares the machine with the engine; its own CPU is
reported so a saturated harness is not mistaken for a slow engine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

import pow_rs
from benches.ocpp_throughput import _cpu_seconds, _rss
from mobility.devnet import FAUCET_FUNDS, faucet_seed
from mobility.ledger.config import LedgerSettings
from mobility.wallet.api_client import DriverApi
from mobility.wallet.ledger import Wallet
from mobility.wallet.ledger_client import HttpClient
from mobility.wire.codec import Ed25519Address
from sims.chargers.backoff import Backoff
from sims.chargers.clock import AcceleratedClock
from sims.chargers.fleet import assign_versions
from sims.chargers.station import SimulatedChargePoint, StationConfig
from testkit.process import engine_env, mobility, serving

TARIFF = {
    "id": "default",
    "currency": "EUR",
    "elements": [{"price_components": [{"type": "ENERGY", "price": 300_000, "vat_bp": 1900}]}],
}
DRIVER_FUNDS = 100_000_000  # micro-units in each driver's genesis allocation
DEPOSIT = 20_000_000  # each channel: far more than a run can spend at 0.30/kWh
MIX = {"1.6": 0.8, "2.0.1": 0.15, "2.1": 0.05}
FUNDERS = 100  # genesis keys that fund the drivers (at most 127 beside the faucet)
LOGGER = logging.getLogger("benches.engine_load")


# Samples ------------------------------------------------------------------------------------


@dataclass
class Samples:
    """Everything the harness timed, stamped with `perf_counter` at the send, so a window can
    be cut out afterwards."""

    ocpp: list[tuple[float, str, float]] = field(default_factory=list)  # sent, action, seconds
    ocpp_failed: list[tuple[float, str]] = field(default_factory=list)
    vouchers: list[tuple[float, bool, float]] = field(default_factory=list)  # sent, accepted, seconds
    refused_by_wallet: int = 0
    requests: list[float] = field(default_factory=list)  # when each payment request arrived


def bucket_percentile(buckets: list[tuple[float, int]], fraction: float) -> float:
    """The upper bound of the histogram bucket holding the nearest-rank percentile (0 for an
    empty histogram); `buckets` are (upper bound, count in it), in order."""
    total = sum(count for _, count in buckets)
    if not total:
        return 0.0
    rank, seen = min(total - 1, int(total * fraction)), 0
    for bound, count in buckets:
        seen += count
        if seen > rank:
            return bound
    return buckets[-1][0]


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


class TimedStation(SimulatedChargePoint):
    """A simulated charge point that times every CALL it makes (the round trip a charger sees:
    the engine's queueing, handling and answer, plus the simulator's own serialisation)."""

    samples: Samples

    async def _call(self, client: Any, payload: Any, message_id: str | None = None) -> Any:
        sent = time.perf_counter()
        action = type(payload).__name__
        try:
            answer = await super()._call(client, payload, message_id)
        except BaseException:
            self.samples.ocpp_failed.append((sent, action))
            raise
        self.samples.ocpp.append((sent, action, time.perf_counter() - sent))
        return answer


# The driver -------------------------------------------------------------------------------


def driver_seed(index: int) -> bytes:
    """A reproducible key per driver, so a genesis file can fund it before the engine starts."""
    return hashlib.sha256(f"engine-load driver {index}".encode()).digest()


def funder_seed(index: int) -> bytes:
    """A key funded at genesis that passes funds on to drivers."""
    return hashlib.sha256(f"engine-load funder {index}".encode()).digest()


def _address(seed: bytes) -> Ed25519Address:
    return Ed25519Address.from_public_key(pow_rs.SigningKey(seed).public_key)


def write_genesis(data_dir: Path, drivers: int, hrp: str) -> None:
    """Fund the funders (and the dev faucet) at genesis, so drivers are paid in a couple of
    milestones instead of one faucet transfer per milestone.

    A UTXO input's output index stops at 127, so genesis can fund at most 128 keys, not 200
    drivers. `mobility.devnet` keeps a genesis file it finds.
    """
    folder = data_dir / "ledger"
    folder.mkdir(parents=True, exist_ok=True)
    funders = min(FUNDERS, drivers)
    each = DRIVER_FUNDS * -(-drivers // max(funders, 1))
    keys = [faucet_seed(data_dir), *(funder_seed(f) for f in range(funders))]
    amounts = [FAUCET_FUNDS, *([each] * funders)]
    allocations = [
        {"address": pow_rs.bech32_encode(hrp, _address(seed).to_bytes()), "amount": amount}
        for seed, amount in zip(keys, amounts, strict=True)
    ]
    (folder / "genesis.json").write_text(json.dumps({"allocations": allocations}))


async def fund_drivers(api_url: str, drivers: int, hrp: str) -> None:
    """Each funder pays its share of the drivers in turn, waiting for each transfer's milestone
    (a wallet spends only confirmed outputs)."""
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        client = HttpClient(http, hrp)

        async def funder(index: int) -> None:
            wallet = Wallet(client, funder_seed(index))
            for driver in range(index, drivers, FUNDERS):
                block_id = await wallet.transfer(_address(driver_seed(driver)), DRIVER_FUNDS)
                await wallet.wait_for_confirmation(block_id, poll=1.0)

        async with asyncio.timeout(300):
            await asyncio.gather(*(funder(index) for index in range(min(FUNDERS, drivers))))


@dataclass
class Driver:
    """One paying driver: set up, start a charger, then pay every request until cancelled."""

    index: int
    api_url: str
    charge_point_id: str
    samples: Samples
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    failed: str | None = None

    def _local_address(self) -> str:
        """A loopback source address of its own: the login limit counts per client IP, and
        drivers' phones do not share one."""
        return f"127.{1 + self.index // 62_500}.{self.index // 250 % 250}.{1 + self.index % 250}"

    async def run(self, setup: asyncio.Semaphore, confirm_within: float) -> None:
        """Set up and start (`ready` is set either way, with `failed` saying what went wrong),
        then pay until cancelled."""
        transport = httpx.AsyncHTTPTransport(local_address=self._local_address())
        async with httpx.AsyncClient(base_url=self.api_url, transport=transport, timeout=60) as http:
            api = DriverApi(http, driver_seed(self.index))
            step = "setup"
            try:
                async with setup:
                    channel_id = await self._channel(api, confirm_within)
                step = "stream"
                async with api.stream(auto_pay=False) as stream:
                    step = "start"
                    await api.start(self.charge_point_id, 1, channel_id)
                    step = "pay"
                    self.ready.set()
                    await self._pay(api, stream)
            except Exception as error:  # a bench reports every failure instead of dying mid-run
                self.failed = f"{step}: {error!r}"
                LOGGER.warning("driver %d failed at %s: %r", self.index, step, error)
            finally:
                self.ready.set()

    async def _channel(self, api: DriverApi, confirm_within: float) -> bytes:
        await api.sign_up(f"driver {self.index}")
        await api.log_in()
        await api.operator()
        expiry = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=7)
        block_id, channel_id = await api.open_channel(DEPOSIT, expiry)
        wallet = await api.wallet()
        async with asyncio.timeout(confirm_within):
            await wallet.ledger.wait_for_confirmation(block_id, poll=1.0)
        await api.register_channel(channel_id)
        return channel_id

    async def _pay(self, api: DriverApi, stream: Any) -> None:
        """Answer payment requests with vouchers; time each from send to its verdict."""
        wallet = await api.wallet()
        sent: dict[int, float] = {}
        serial = 0
        while True:
            message = await stream.receive()
            kind = message.get("type")
            if kind == "payment_request":
                self.samples.requests.append(time.perf_counter())
                channel_id, amount = bytes.fromhex(message["channel_id"]), int(message["amount"])
                if amount <= wallet.signed(channel_id):
                    continue  # signed for that much already
                try:
                    voucher = wallet.pay(channel_id, amount)
                except ValueError:
                    self.samples.refused_by_wallet += 1
                    continue
                serial += 1
                sent[serial] = time.perf_counter()
                await stream.send({"type": "voucher", "id": serial, "voucher": voucher.to_bytes().hex()})
            elif kind == "voucher_result" and message.get("id") in sent:
                start = sent.pop(message["id"])
                self.samples.vouchers.append((start, bool(message["accepted"]), time.perf_counter() - start))


# The engine's process ---------------------------------------------------------------------


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds of each of the process's threads, with its name (/proc/<pid>/task)."""
    ticks = os.sysconf("SC_CLK_TCK")
    threads: dict[int, tuple[str, float]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            text = (task / "stat").read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            threads[int(task.name)] = (name, (int(fields[11]) + int(fields[12])) / ticks)
    return threads


# The profile ------------------------------------------------------------------------------


def _where(file: str) -> str:
    """The package a source file belongs to: a site-packages distribution, the standard
    library module, or the project's package path."""
    path = file.replace("\\", "/")
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for root in ("mobility/", "ocpp_server/", "pow_rs/", "sims/"):
        if f"/{root}" in path or path.startswith(root):
            parts = ("/" + path).rsplit(f"/{root}", 1)[1].split("/")
            return root + parts[0].removesuffix(".py")
    if "/lib/python3" in path:
        module = path.split("/lib/python3", 1)[1].split("/", 2)
        return "stdlib:" + (module[1].removesuffix(".py") if len(module) > 1 else "?")
    return path or "?"


# Leaf frames of a thread that waits rather than works. py-spy cannot tell idle threads here
# (it samples them as active), so their samples are counted apart as waiting.
WAITING = {
    ("_worker", "stdlib:concurrent"),  # a pool thread blocked on its empty work queue
    ("Condition.wait", "stdlib:threading"),
    ("Event.wait", "stdlib:threading"),
    ("Queue.get", "stdlib:queue"),
    ("EpollSelector.select", "stdlib:selectors"),  # the event loop with nothing ready
}


def _thread_kind(name: str) -> str:
    """py-spy's `Thread 123 "asyncio_4"` as a kind of thread: the event loop, asyncio's
    `to_thread` pool or AnyIO's worker threads (FastAPI's sync work)."""
    label = name.split('"')[1] if name.count('"') >= 2 else name
    if label == "MainThread":
        return "MainThread (event loop)"
    if label.startswith("asyncio_"):
        return "asyncio_* (to_thread pool)"
    return label


@dataclass
class ProfileReport:
    """Where the engine's sampled (non-idle) time went."""

    samples: int
    waiting: int
    threads: list[tuple[str, int]]
    self_by_package: list[tuple[str, int]]
    inclusive: list[tuple[str, int]]
    self_by_function: list[tuple[str, int]]

    sampled_s: float = 0.0
    """Seconds times samples per second: turns sample counts into average busy threads."""

    def busy(self) -> str:
        """Average threads at work, per kind: a pool near its size is saturated."""
        if not self.sampled_s:
            return ""
        return ", ".join(f"{name} {n / self.sampled_s:.2f}" for name, n in self.threads)

    def lines(self, top: int = 15) -> list[str]:
        total = max(self.samples, 1)

        def table(title: str, rows: list[tuple[str, int]]) -> list[str]:
            return [title] + [f"  {100 * n / total:5.1f} %  {name}" for name, n in rows[:top]]

        return [
            f"profile: {self.samples} samples of the engine's threads at work "
            f"({self.waiting} more waiting, left out)",
            *table("by thread:", self.threads),
            *([f"  busy threads on average: {busy}"] if (busy := self.busy()) else []),
            *table("self time by package:", self.self_by_package),
            *table("self time by function:", self.self_by_function),
            *table("inclusive time (project functions):", self.inclusive),
        ]


def read_speedscope(path: Path) -> ProfileReport:
    """Summarise py-spy's speedscope file: per thread, self time by package and function, and
    inclusive time of the project's own functions (what calls the expensive code)."""
    document = json.loads(path.read_text())
    frames = document["shared"]["frames"]
    packages = [_where(f.get("file", "")) for f in frames]
    labels = [f"{f['name']} ({package})" for f, package in zip(frames, packages, strict=True)]
    own = [  # the project's frames, less the entry points every stack of the loop passes
        package.startswith(("mobility", "ocpp_server", "pow_rs"))
        and package != "mobility/cli"
        and frame["name"] != "<module>"
        for frame, package in zip(frames, packages, strict=True)
    ]
    threads: Counter[str] = Counter()
    self_package: Counter[str] = Counter()
    self_function: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    waiting = [(frame["name"], package) in WAITING for frame, package in zip(frames, packages, strict=True)]
    total = idle = 0
    for profile in document["profiles"]:
        name = _thread_kind(profile.get("name", "?"))
        for stack in profile["samples"]:  # one sample each (py-spy's weights: 1 / rate)
            if not stack or waiting[stack[-1]]:
                idle += 1
                continue
            weight = 1
            total += weight
            threads[name] += weight
            leaf = stack[-1]
            self_package[packages[leaf]] += weight
            self_function[labels[leaf]] += weight
            for label in {labels[i] for i in stack if own[i]}:
                inclusive[label] += weight
    return ProfileReport(
        samples=total,
        waiting=idle,
        threads=threads.most_common(),
        self_by_package=self_package.most_common(),
        inclusive=inclusive.most_common(),
        self_by_function=self_function.most_common(),
    )


# The run ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    chargers: int
    paying: int
    seconds: float
    warmup: float
    meter_s: float
    heartbeat_s: int
    ramp_s: float
    setup_concurrency: int
    database_url: str | None
    out: Path
    profile: bool
    profile_rate: int
    reference_s: float = 60.0


@dataclass
class Summary:
    """The figures of one run, as printed and as saved to `summary.json`."""

    chargers: int
    paying: int
    versions: dict[str, int]
    online: int
    sessions_started: int
    driver_failures: list[str]
    window_s: float
    ocpp_messages_per_s: float
    ocpp_by_action: dict[str, int]
    ocpp_failed: int
    ocpp_p50_ms: float
    ocpp_p99_ms: float
    ocpp_max_ms: float
    transaction_p50_ms: float
    transaction_p99_ms: float
    engine_reading_p50_ms: float
    engine_reading_p99_ms: float
    vouchers_per_s: float
    vouchers_rejected: int
    voucher_p50_ms: float
    voucher_p99_ms: float
    voucher_max_ms: float
    payment_requests: int
    engine_cpu_percent: float
    engine_threads_cpu_percent: dict[str, float]
    engine_rss_mib_start: float
    engine_rss_mib_peak: float
    harness_cpu_percent: float
    harness_lag_p99_ms: float
    harness_lag_max_ms: float
    database: str
    profile: str | None
    reference: Reference | None = None

    def lines(self) -> list[str]:
        return [
            f"engine load: {self.chargers} chargers {self.versions}, {self.online} online; "
            f"{self.paying} paying drivers, {self.sessions_started} sessions started; "
            f"database {self.database}; {os.cpu_count()} CPUs",
            f"window             {self.window_s:.1f} s",
            f"OCPP               {self.ocpp_messages_per_s:8.1f} msg/s  p50 {self.ocpp_p50_ms:7.1f} ms  "
            f"p99 {self.ocpp_p99_ms:7.1f} ms  max {self.ocpp_max_ms:7.1f} ms  ({self.ocpp_failed} failed)",
            f"  by action        {self.ocpp_by_action}",
            f"  meter readings   p50 {self.transaction_p50_ms:7.1f} ms  "
            f"p99 {self.transaction_p99_ms:7.1f} ms as the chargers saw them; inside the engine "
            f"(arrival to answer, /metrics buckets) p50 <= {self.engine_reading_p50_ms:g} ms, "
            f"p99 <= {self.engine_reading_p99_ms:g} ms",
            f"vouchers accepted  {self.vouchers_per_s:8.1f} /s     p50 {self.voucher_p50_ms:7.1f} ms  "
            f"p99 {self.voucher_p99_ms:7.1f} ms  max {self.voucher_max_ms:7.1f} ms  "
            f"({self.vouchers_rejected} rejected, {self.payment_requests} payment requests)",
            f"engine CPU         {self.engine_cpu_percent:6.1f} % of one core; by thread "
            + ", ".join(f"{name} {pct:.1f} %" for name, pct in self.engine_threads_cpu_percent.items()),
            f"engine RSS         {self.engine_rss_mib_start:.0f} MiB at the window's start, "
            f"{self.engine_rss_mib_peak:.0f} MiB peak",
            f"harness CPU        {self.harness_cpu_percent:6.1f} % of one core (the load generator itself); "
            f"its event loop late p99 {self.harness_lag_p99_ms:.1f} ms, max {self.harness_lag_max_ms:.1f} ms",
            *([f"driver failures    {len(self.driver_failures)}: {self.driver_failures[:3]}"]
              if self.driver_failures else []),
            *(self.reference.lines(self) if self.reference is not None else []),
        ]  # fmt: skip


@dataclass
class Reference:
    """The same engine, chargers connected and heartbeating, before any driver arrives: what
    the paying sessions add is the loaded window against this one, measured in the same run."""

    window_s: float
    ocpp_messages_per_s: float
    ocpp_p50_ms: float
    ocpp_p99_ms: float
    engine_cpu_percent: float
    engine_rss_mib: float

    def lines(self, loaded: Summary) -> list[str]:
        """The reference and the loaded window against it."""
        extra_cpu = loaded.engine_cpu_percent - self.engine_cpu_percent
        per_second = loaded.vouchers_per_s + loaded.ocpp_messages_per_s - self.ocpp_messages_per_s
        return [
            f"reference          {self.window_s:.0f} s with no paying session, same chargers: "
            f"OCPP {self.ocpp_messages_per_s:.1f} msg/s p50 {self.ocpp_p50_ms:.1f} ms "
            f"p99 {self.ocpp_p99_ms:.1f} ms, engine CPU {self.engine_cpu_percent:.1f} %, "
            f"RSS {self.engine_rss_mib:.0f} MiB",
            f"  loaded / idle    OCPP p50 {_ratio(loaded.ocpp_p50_ms, self.ocpp_p50_ms)}, "
            f"p99 {_ratio(loaded.ocpp_p99_ms, self.ocpp_p99_ms)}; engine CPU "
            f"{_ratio(loaded.engine_cpu_percent, self.engine_cpu_percent)}",
            f"  payments' cost   {extra_cpu:.1f} % of a core for {per_second:.1f} extra messages/s "
            f"(readings + vouchers): {10 * extra_cpu / per_second if per_second > 0 else 0.0:.2f} ms "
            f"of CPU each",
        ]


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}x" if reference > 0 else "n/a"


async def _post_tariff(api_url: str, operator_key: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        response = await http.post(
            "/operator/tariffs", json=TARIFF, headers={"Authorization": f"Bearer {operator_key}"}
        )
        response.raise_for_status()


def _stations(options: Options, ocpp_url: str, samples: Samples) -> list[TimedStation]:
    versions = assign_versions(options.chargers, MIX, random.Random(7))
    stations = []
    for index, version in enumerate(versions):
        station = TimedStation(
            StationConfig(
                charge_point_id=f"LOAD-{index:05d}",
                version=version,
                url=ocpp_url,
                connectors=1,
                max_power_w=11_000,
                meter_interval_s=options.meter_s,
                backoff=Backoff(),
                response_timeout_s=60.0,
                validate_messages=False,
            ),
            AcceleratedClock(1.0),
        )
        station.samples = samples
        stations.append(station)
    return stations


async def _power_on(station: SimulatedChargePoint, delay: float) -> None:
    await asyncio.sleep(delay)
    await station.run()


def _cut(samples: Samples, start: float, end: float) -> Samples:
    return Samples(
        ocpp=[s for s in samples.ocpp if start <= s[0] < end],
        ocpp_failed=[s for s in samples.ocpp_failed if start <= s[0] < end],
        vouchers=[s for s in samples.vouchers if start <= s[0] < end],
        requests=[s for s in samples.requests if start <= s < end],
    )


async def _profile(pid: int, seconds: float, rate: int, path: Path) -> asyncio.subprocess.Process | None:
    py_spy = shutil.which(
        "py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    )
    if py_spy is None:
        print("py-spy not found: no profile (pip install -e '.[dev]')", file=sys.stderr)
        return None
    arguments = ["record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", str(rate)]
    # --nonblocking: sample without pausing the engine (a paused engine's tail latency is the
    # profiler's, not its own); a sample may then be torn, which a summary of thousands absorbs.
    arguments += ["--nonblocking", "--format", "speedscope", "--output", str(path)]
    return await asyncio.create_subprocess_exec(
        py_spy, *arguments, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )


@dataclass
class Measured:
    """The engine's process and the harness over the window."""

    start: float
    end: float
    engine_cpu_s: float
    threads_cpu_s: dict[str, float]
    rss_start: int
    rss_peak: int
    harness_cpu_s: float
    harness_lag_s: list[float]
    online: int

    @property
    def elapsed(self) -> float:
        return self.end - self.start


async def _loop_lateness(lag: list[float], every: float = 0.01) -> None:
    """How late this process's event loop wakes a 10 ms sleep: the harness's own queueing,
    which every latency it measures includes (a late harness is not a slow engine)."""
    while True:
        asked = time.perf_counter()
        await asyncio.sleep(every)
        lag.append(time.perf_counter() - asked - every)


async def _measure(pid: int, seconds: float, stations: list[TimedStation]) -> Measured:
    """Read /proc before and after `seconds` (RSS every second); the event loop is the main
    thread, the others are the `to_thread` and AnyIO pools."""
    start, harness = time.perf_counter(), time.process_time()
    cpu, threads, rss = _cpu_seconds(pid), thread_cpu(pid), _rss(pid)
    peak = rss
    lag: list[float] = []
    lateness = asyncio.create_task(_loop_lateness(lag))
    while time.perf_counter() - start < seconds:
        await asyncio.sleep(1.0)
        peak = max(peak, _rss(pid))
    end = time.perf_counter()
    lateness.cancel()
    by_thread: dict[str, float] = defaultdict(float)
    for tid, (name, spent) in thread_cpu(pid).items():
        by_thread["event loop" if tid == pid else "other threads"] += spent - threads.get(tid, (name, 0.0))[1]
    return Measured(
        start=start,
        end=end,
        engine_cpu_s=_cpu_seconds(pid) - cpu,
        threads_cpu_s=dict(by_thread),
        rss_start=rss,
        rss_peak=peak,
        harness_cpu_s=time.process_time() - harness,
        harness_lag_s=lag,
        online=sum(station.online for station in stations),
    )


async def _profile_report(
    spy: asyncio.subprocess.Process | None, path: Path, sampled_s: float
) -> ProfileReport | None:
    """Wait for py-spy to write its file and summarise it (None when it failed)."""
    if spy is None:
        return None
    _, error = await spy.communicate()
    if spy.returncode != 0:
        print(f"py-spy failed: {error.decode(errors='replace')[-2000:]}", file=sys.stderr)
        return None
    return await asyncio.to_thread(_read_and_save, path, sampled_s)


def _read_and_save(path: Path, sampled_s: float) -> ProfileReport:
    report = read_speedscope(path)
    report.sampled_s = sampled_s
    path.with_name("engine-profile-top.txt").write_text("\n".join(report.lines(40)) + "\n")
    return report


def summarise(
    samples: Samples,
    measured: Measured,
    stations: list[TimedStation],
    drivers: list[Driver],
    database: str,
    engine_readings: list[tuple[float, int]],
) -> Summary:
    """The window's figures from the samples and /proc readings."""
    window = _cut(samples, measured.start, measured.end)
    elapsed = measured.elapsed
    ocpp = [s[2] for s in window.ocpp]
    readings = [s[2] for s in window.ocpp if s[1] in ("MeterValues", "TransactionEvent")]
    accepted = [s[2] for s in window.vouchers if s[1]]
    threads = sorted(measured.threads_cpu_s.items(), key=lambda item: -item[1])
    return Summary(
        chargers=len(stations),
        paying=len(drivers),
        versions=dict(Counter(s.dialect.version for s in stations)),
        online=measured.online,
        sessions_started=sum(1 for d in drivers if d.failed is None),
        driver_failures=[d.failed for d in drivers if d.failed is not None],
        window_s=elapsed,
        ocpp_messages_per_s=len(ocpp) / elapsed,
        ocpp_by_action=dict(Counter(s[1] for s in window.ocpp)),
        ocpp_failed=len(window.ocpp_failed),
        ocpp_p50_ms=1000 * percentile(ocpp, 0.5),
        ocpp_p99_ms=1000 * percentile(ocpp, 0.99),
        ocpp_max_ms=1000 * max(ocpp, default=0.0),
        transaction_p50_ms=1000 * percentile(readings, 0.5),
        transaction_p99_ms=1000 * percentile(readings, 0.99),
        engine_reading_p50_ms=1000 * bucket_percentile(engine_readings, 0.5),
        engine_reading_p99_ms=1000 * bucket_percentile(engine_readings, 0.99),
        vouchers_per_s=len(accepted) / elapsed,
        vouchers_rejected=len(window.vouchers) - len(accepted),
        voucher_p50_ms=1000 * percentile(accepted, 0.5),
        voucher_p99_ms=1000 * percentile(accepted, 0.99),
        voucher_max_ms=1000 * max(accepted, default=0.0),
        payment_requests=len(window.requests),
        engine_cpu_percent=100 * measured.engine_cpu_s / elapsed,
        engine_threads_cpu_percent={name: round(100 * spent / elapsed, 1) for name, spent in threads},
        engine_rss_mib_start=measured.rss_start / 2**20,
        engine_rss_mib_peak=measured.rss_peak / 2**20,
        harness_cpu_percent=100 * measured.harness_cpu_s / elapsed,
        harness_lag_p99_ms=1000 * percentile(measured.harness_lag_s, 0.99),
        harness_lag_max_ms=1000 * max(measured.harness_lag_s, default=0.0),
        database=database,
        profile=None,
    )


async def _online(station: TimedStation, limit: float) -> None:
    await station.wait_until(lambda: station.online, limit)


async def _all_online(stations: list[TimedStation], limit: float) -> None:
    await asyncio.gather(*(_online(station, limit) for station in stations))


async def _reference(pid: int, seconds: float, stations: list[TimedStation], samples: Samples) -> Reference:
    """The engine with every charger connected and none charging (after their boot burst)."""
    await asyncio.sleep(min(seconds, 10.0))
    measured = await _measure(pid, seconds, stations)
    window = [s[2] for s in _cut(samples, measured.start, measured.end).ocpp]
    return Reference(
        window_s=measured.elapsed,
        ocpp_messages_per_s=len(window) / measured.elapsed,
        ocpp_p50_ms=1000 * percentile(window, 0.5),
        ocpp_p99_ms=1000 * percentile(window, 0.99),
        engine_cpu_percent=100 * measured.engine_cpu_s / measured.elapsed,
        engine_rss_mib=measured.rss_peak / 2**20,
    )


READING_ACTIONS = ("MeterValues", "TransactionEvent")


async def answer_buckets(api_url: str, admin_key: str) -> dict[float, int]:
    """The engine's own answer times of readings so far (`mobility_ocpp_call_seconds`, both
    reading actions summed): cumulative count per bucket bound, from its /metrics."""
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        scrape = await http.get("/metrics", headers={"Authorization": f"Bearer {admin_key}"})
    scrape.raise_for_status()
    buckets: dict[float, int] = defaultdict(int)
    for family in text_string_to_metric_families(scrape.text):
        if family.name != "mobility_ocpp_call_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket") and sample.labels.get("action") in READING_ACTIONS:
                buckets[float(sample.labels["le"])] += int(sample.value)
    return buckets


def bucket_deltas(before: dict[float, int], after: dict[float, int]) -> list[tuple[float, int]]:
    """(bound, count in that bucket alone) over a window, from two cumulative scrapes."""
    deltas, below = [], 0
    for bound in sorted(after):
        cumulative = after[bound] - before.get(bound, 0)
        deltas.append((bound, cumulative - below))
        below = cumulative
    return deltas


async def drive(
    options: Options, pid: int, ocpp_url: str, api_url: str, database: str, admin_key: str
) -> Summary:
    """Connect the chargers, set the drivers going, and measure a steady window."""
    samples = Samples()
    stations = _stations(options, ocpp_url, samples)
    ramp = options.ramp_s / max(len(stations), 1)
    powered = [asyncio.create_task(_power_on(s, i * ramp)) for i, s in enumerate(stations)]
    drivers = [Driver(i, api_url, stations[i].id, samples) for i in range(min(options.paying, len(stations)))]
    running: list[asyncio.Task[None]] = []
    profile_path = options.out / "engine-profile.speedscope.json"
    try:
        await _all_online(stations, options.ramp_s + 120)
        print(f"{len(stations)} chargers online; reference window {options.reference_s:g} s", file=sys.stderr)
        reference = await _reference(pid, options.reference_s, stations, samples)
        await fund_drivers(api_url, len(drivers), LedgerSettings().bech32_hrp)
        print(f"{len(drivers)} drivers funded", file=sys.stderr)
        setup = asyncio.Semaphore(options.setup_concurrency)
        running = [asyncio.create_task(d.run(setup, confirm_within=120)) for d in drivers]
        async with asyncio.timeout(600):
            await asyncio.gather(*(d.ready.wait() for d in drivers))
        started = sum(1 for d in drivers if d.failed is None)
        print(f"{started} drivers charging and paying; warm-up {options.warmup:g} s", file=sys.stderr)
        await asyncio.sleep(options.warmup)
        spy = (
            await _profile(pid, options.seconds, options.profile_rate, profile_path)
            if options.profile
            else None
        )
        answered_before = await answer_buckets(api_url, admin_key)
        measured = await _measure(pid, options.seconds, stations)
        engine_readings = bucket_deltas(answered_before, await answer_buckets(api_url, admin_key))
        report = await _profile_report(spy, profile_path, options.seconds * options.profile_rate)
    finally:
        for task in [*running, *powered]:
            task.cancel()
        await asyncio.gather(*running, *powered, return_exceptions=True)
    summary = summarise(samples, measured, stations, drivers, database, engine_readings)
    summary.profile = str(profile_path) if report is not None else None
    summary.reference = reference
    (options.out / "summary.json").write_text(json.dumps(asdict(summary), indent=2) + "\n")
    for line in summary.lines():
        print(line)
    if report is not None:
        print()
        for line in report.lines():
            print(line)
        print(f"\nprofile: {profile_path} (open at https://www.speedscope.app)")
    return summary


async def run(options: Options) -> Summary:
    """Start the engine on a fresh database in a temporary data folder and drive it."""
    with tempfile.TemporaryDirectory(prefix="engine-load-") as folder:
        data_dir = Path(folder)
        url = options.database_url or f"sqlite:///{data_dir / 'engine.db'}"
        hrp = LedgerSettings().bech32_hrp
        write_genesis(data_dir, options.paying, hrp)
        env = engine_env(data_dir, url, payments_enabled="true", accept_unknown_chargers="true")
        operator_key = (await asyncio.to_thread(mobility, env, "operators", "add", "bench")).strip()
        admin_key = (await asyncio.to_thread(mobility, env, "admins", "add", "bench")).strip()
        options.out.mkdir(parents=True, exist_ok=True)
        with (
            (options.out / "engine.log").open("wb") as log,
            serving(env, "--heartbeat-interval", str(options.heartbeat_s), log=log) as served,
        ):
            api_url = f"http://127.0.0.1:{env['MOBILITY_API_PORT']}"
            await _post_tariff(api_url, operator_key)
            ocpp_url = f"ws://127.0.0.1:{env['MOBILITY_OCPP_PORT']}/ocpp"
            database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
            return await drive(options, served.process.pid, ocpp_url, api_url, database, admin_key)


def main() -> None:
    """Parse the options and run once."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument("--paying", type=int, default=200, help="drivers charging and paying at once")
    parser.add_argument("--seconds", type=float, default=120.0, help="the measured window")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds after setup before measuring")
    parser.add_argument(
        "--reference-s", type=float, default=60.0, help="the reference window: chargers online, nobody paying"
    )
    parser.add_argument("--meter-s", type=float, default=10.0, help="meter interval = voucher interval")
    parser.add_argument("--heartbeat-s", type=int, default=60, help="heartbeat interval the engine gives")
    parser.add_argument("--ramp-s", type=float, default=20.0, help="spread the chargers' connects over this")
    parser.add_argument("--setup-concurrency", type=int, default=20, help="drivers setting up at once")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a fresh SQLite file)")
    parser.add_argument("--out", type=Path, default=Path("bench-out/engine-load"))
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="skip py-spy")
    parser.add_argument("--profile-rate", type=int, default=100, help="py-spy samples per second")
    args = parser.parse_args()
    options = Options(
        chargers=args.chargers,
        paying=args.paying,
        seconds=args.seconds,
        warmup=args.warmup,
        meter_s=args.meter_s,
        heartbeat_s=args.heartbeat_s,
        ramp_s=args.ramp_s,
        setup_concurrency=args.setup_concurrency,
        database_url=args.database_url,
        out=args.out,
        profile=args.profile,
        profile_rate=args.profile_rate,
        reference_s=args.reference_s,
    )
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(run(options))


if __name__ == "__main__":
    main()
