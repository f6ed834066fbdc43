"""A city as a TOML file: sites with chargers and tariffs, drivers, fleets, and when it starts.

The loader checks everything a run would otherwise trip over half-way (unknown tariffs, shares
that sum to nothing, a daily profile without 24 hours, charge point IDs the operator API would
refuse), so a bad file fails at once with the offending key named. Tariffs are read by the
city's own model (`sims.city.tariffs`), which refuses shapes the city cannot price itself; the
operator API checks them again when the run posts them.
Money is integer micro-units, energy Wh, power W, times of day UTC.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from sims.city.tariffs import CityTariff, TariffShapeError, parse_tariff

BEHAVIOURS = ("prompt", "slow", "stops paying")
VERSIONS = ("1.6", "2.0.1", "2.1")
_ID = re.compile(r"^[A-Za-z0-9._@+-]{1,40}$")  # a charge point ID prefix the operator API accepts
DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "default_city.toml"


class ScenarioError(ValueError):
    """The scenario file is not a runnable city; the message names the key."""


@dataclass(frozen=True, slots=True)
class ChargerGroup:
    """A site's chargers: how many, which OCPP versions in what ratio, rating, outlets."""

    count: int
    mix: dict[str, float]
    max_power_w: int
    connectors: int


@dataclass(frozen=True, slots=True)
class Site:
    """A place with chargers and one tariff; `weight` is its share of driver arrivals."""

    id: str
    name: str
    latitude: float
    longitude: float
    tariff: str
    weight: float
    chargers: ChargerGroup


@dataclass(frozen=True, slots=True)
class Drivers:
    """The app-paying population: Poisson arrivals shaped by a daily profile."""

    count: int
    arrivals_per_hour: float  # averaged over the day; hour h runs at this x weight[h] / mean
    hourly_weights: tuple[float, ...]
    mean_dwell_minutes: float
    min_dwell_minutes: float
    deposit: int
    soc_permille: tuple[int, int]
    behaviours: dict[str, float]
    slow_delay_s: float  # a slow wallet answers each payment request this late (simulated)
    stops_paying_after_s: float  # a non-paying driver pays this long into a session, then no more


@dataclass(frozen=True, slots=True)
class Stay:
    """A fleet vehicle at the depot each day from `arrive` to `leave` (next day if earlier)."""

    arrive: time
    leave: time


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A fleet vehicle with its RFID token and battery."""

    label: str
    token: str
    driver: str
    capacity_wh: int
    max_power_w: int
    soc_permille: int
    stays: tuple[Stay, ...]


@dataclass(frozen=True, slots=True)
class FleetSpec:
    """A fleet charging at one site, paying from one channel."""

    id: str
    site: str
    deposit: int
    vehicles: tuple[Vehicle, ...]


@dataclass(frozen=True, slots=True)
class EngineKnobs:
    """How fast the embedded ledger and settlement move (real and simulated seconds)."""

    milestone_seconds: float = 1.0  # real seconds between milestones
    settlement_minutes: float = 10.0  # simulated: an ended session waits at most this for its claim
    meter_interval_s: float = 60.0  # simulated seconds between meter values


@dataclass(frozen=True, slots=True)
class Faults:
    """Chargers failing as field hardware does (`sims.chargers.faults`), per charger at Poisson
    times: dropped connections, offline spells whose sessions are replayed, power losses."""

    per_charger_per_hour: float = 0.0
    max_offline_minutes: float = 30.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole city."""

    name: str
    start: datetime
    hours: float
    speed: float
    sample_minutes: float
    sites: tuple[Site, ...]
    tariffs: tuple[CityTariff, ...]
    drivers: Drivers
    fleets: tuple[FleetSpec, ...]
    engine: EngineKnobs = field(default_factory=EngineKnobs)
    faults: Faults = field(default_factory=Faults)

    def site(self, site_id: str) -> Site:
        """The site with that ID."""
        return next(s for s in self.sites if s.id == site_id)

    def tariff(self, tariff_id: str) -> CityTariff:
        """The tariff with that ID."""
        return next(t for t in self.tariffs if t.id == tariff_id)

    def with_chargers(self, total: int) -> Scenario:
        """The same city with `total` chargers spread over the sites in their current ratio
        (largest remainder; every site keeps at least one)."""
        if total < len(self.sites):
            raise ScenarioError(f"--chargers: at least {len(self.sites)} (one per site)")
        current = sum(s.chargers.count for s in self.sites)
        exact = [total * s.chargers.count / current for s in self.sites]
        counts = [max(1, int(x)) for x in exact]
        order = sorted(range(len(exact)), key=lambda i: -(exact[i] - int(exact[i])))
        for i in order[: max(total - sum(counts), 0)]:
            counts[i] += 1
        sites = tuple(
            replace(s, chargers=replace(s.chargers, count=n)) for s, n in zip(self.sites, counts, strict=True)
        )
        return replace(self, sites=sites)


def load(path: Path) -> Scenario:
    """Read and check a scenario file."""
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ScenarioError(f"{path}: {error}") from error
    return parse(raw, str(path))


def parse(raw: dict[str, Any], where: str = "scenario") -> Scenario:
    """Check a parsed scenario document and build the `Scenario`."""
    doc = _Doc(raw, where)
    tariffs = tuple(_tariff(t, f"{where}: tariffs[{i}]") for i, t in enumerate(doc.list("tariffs")))
    tariff_ids = [t.id for t in tariffs]
    _unique(tariff_ids, f"{where}: tariffs ids")
    sites = tuple(_site(_Doc(s, f"{where}: sites[{i}]"), tariff_ids) for i, s in enumerate(doc.list("sites")))
    if not sites:
        raise ScenarioError(f"{where}: sites: at least one")
    _unique([s.id for s in sites], f"{where}: site ids")
    if sum(s.weight for s in sites) <= 0:
        raise ScenarioError(f"{where}: sites: some weight must be positive")
    fleets = tuple(
        _fleet(_Doc(f, f"{where}: fleets[{i}]"), [s.id for s in sites])
        for i, f in enumerate(doc.list("fleets"))
    )
    _unique([f.id for f in fleets], f"{where}: fleet ids")
    _unique([v.token.upper() for f in fleets for v in f.vehicles], f"{where}: vehicle tokens")
    start = doc.get("start", datetime)
    if start.tzinfo is None:
        raise ScenarioError(f"{where}: start: give a UTC offset (e.g. 2026-06-17T10:30:00Z)")
    knobs = _Doc(doc.raw.get("engine", {}), f"{where}: engine")
    engine = EngineKnobs(
        milestone_seconds=knobs.positive("milestone_seconds", 1.0),
        settlement_minutes=knobs.positive("settlement_minutes", 10.0),
        meter_interval_s=knobs.positive("meter_interval_s", 60.0),
    )
    fault_doc = _Doc(doc.raw.get("faults", {}), f"{where}: faults")
    rate = float(fault_doc.get("per_charger_per_hour", float, 0.0))
    if rate < 0:
        raise ScenarioError(f"{where}: faults: per_charger_per_hour: not negative")
    faults = Faults(rate, fault_doc.positive("max_offline_minutes", 30.0))
    return Scenario(
        name=doc.get("name", str),
        start=start.astimezone(UTC),
        hours=doc.positive("hours", 2.0),
        speed=doc.positive("speed", 120.0),
        sample_minutes=doc.positive("sample_minutes", 5.0),
        sites=sites,
        tariffs=tariffs,
        drivers=_drivers(_Doc(doc.get("drivers", dict), f"{where}: drivers")),
        fleets=fleets,
        engine=engine,
        faults=faults,
    )


class _Doc:
    """A table of the file with typed, named access."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise ScenarioError(f"{where}: expected a table")
        self.raw: dict[str, Any] = raw
        self.where = where

    def get(self, key: str, kind: type[Any], default: Any = None) -> Any:
        value = self.raw.get(key, default)
        if value is None:
            raise ScenarioError(f"{self.where}: {key} is missing")
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ScenarioError(f"{self.where}: {key} must be {kind.__name__}, not {value!r}")
        return value

    def positive(self, key: str, default: float | None = None) -> float:
        value = float(self.get(key, float, default))
        if value <= 0:
            raise ScenarioError(f"{self.where}: {key} must be positive")
        return value

    def count(self, key: str, low: int, default: int | None = None) -> int:
        value = int(self.get(key, int, default))
        if value < low:
            raise ScenarioError(f"{self.where}: {key} must be at least {low}")
        return value

    def list(self, key: str) -> list[Any]:
        value = self.raw.get(key, [])
        if not isinstance(value, list):
            raise ScenarioError(f"{self.where}: {key} must be an array")
        return value


def _unique(values: list[str], what: str) -> None:
    seen = {v for v in values if values.count(v) > 1}
    if seen:
        raise ScenarioError(f"{what}: duplicated {sorted(seen)}")


def _shares(raw: Any, where: str, allowed: tuple[str, ...]) -> dict[str, float]:
    if not isinstance(raw, dict) or not raw:
        raise ScenarioError(f"{where}: a table of shares")
    shares: dict[str, float] = {}
    for key, value in raw.items():
        if key not in allowed:
            raise ScenarioError(f"{where}: unknown {key!r} (one of {', '.join(allowed)})")
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ScenarioError(f"{where}: {key} must be a non-negative number")
        shares[key] = float(value)
    if sum(shares.values()) <= 0:
        raise ScenarioError(f"{where}: shares sum to zero")
    return shares


def _tariff(raw: Any, where: str) -> CityTariff:
    try:
        return parse_tariff(raw)
    except TariffShapeError as error:
        raise ScenarioError(f"{where}: {error}") from error


def _site(doc: _Doc, tariffs: list[str]) -> Site:
    site_id = doc.get("id", str)
    if not _ID.match(site_id):
        raise ScenarioError(f"{doc.where}: id {site_id!r}: letters, digits and ._@+- only")
    tariff = doc.get("tariff", str)
    if tariff not in tariffs:
        raise ScenarioError(f"{doc.where}: tariff {tariff!r} is not among the tariffs")
    latitude, longitude = doc.get("latitude", float), doc.get("longitude", float)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ScenarioError(f"{doc.where}: latitude/longitude out of range")
    weight = float(doc.get("weight", float, 0.0))
    if weight < 0:
        raise ScenarioError(f"{doc.where}: weight must not be negative")
    group = _Doc(doc.get("chargers", dict), f"{doc.where}: chargers")
    chargers = ChargerGroup(
        count=group.count("count", 1),
        mix=_shares(group.raw.get("mix", {"1.6": 1.0}), f"{group.where}: mix", VERSIONS),
        max_power_w=group.count("max_power_w", 1_000),
        connectors=group.count("connectors", 1, 2),
    )
    return Site(site_id, doc.get("name", str, site_id), latitude, longitude, tariff, weight, chargers)


def _drivers(doc: _Doc) -> Drivers:
    weights = doc.list("hourly_weights")
    if (
        len(weights) != 24
        or any(not isinstance(w, int | float) or w < 0 for w in weights)
        or sum(weights) <= 0
    ):
        raise ScenarioError(f"{doc.where}: hourly_weights: 24 non-negative numbers, not all zero")
    soc = doc.list("soc_permille") or [100, 600]
    if len(soc) != 2 or not all(isinstance(s, int) for s in soc) or not 0 <= soc[0] <= soc[1] <= 1000:
        raise ScenarioError(f"{doc.where}: soc_permille: [low, high] within 0..1000")
    mean_dwell = doc.positive("mean_dwell_minutes", 60.0)
    min_dwell = float(doc.get("min_dwell_minutes", float, 10.0))
    if not 0 <= min_dwell <= mean_dwell:
        raise ScenarioError(f"{doc.where}: min_dwell_minutes must be within 0..mean_dwell_minutes")
    return Drivers(
        count=doc.count("count", 1),
        arrivals_per_hour=doc.positive("arrivals_per_hour"),
        hourly_weights=tuple(float(w) for w in weights),
        mean_dwell_minutes=mean_dwell,
        min_dwell_minutes=min_dwell,
        deposit=doc.count("deposit", 1),
        soc_permille=(soc[0], soc[1]),
        behaviours=_shares(doc.get("behaviours", dict), f"{doc.where}: behaviours", BEHAVIOURS),
        slow_delay_s=doc.positive("slow_delay_s", 75.0),
        stops_paying_after_s=doc.positive("stops_paying_after_s", 600.0),
    )


def _time(value: Any, where: str) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError as error:
        raise ScenarioError(f"{where}: {value!r} is not a time of day (HH:MM)") from error


def _fleet(doc: _Doc, sites: list[str]) -> FleetSpec:
    fleet_id = doc.get("id", str)
    if not _ID.match(fleet_id):
        raise ScenarioError(f"{doc.where}: id {fleet_id!r}: letters, digits and ._@+- only")
    site = doc.get("site", str)
    if site not in sites:
        raise ScenarioError(f"{doc.where}: site {site!r} is not among the sites")
    vehicles = []
    for i, raw in enumerate(doc.list("vehicles")):
        v = _Doc(raw, f"{doc.where}: vehicles[{i}]")
        token = v.get("token", str)
        if not re.match(r"^[!-~]{1,36}$", token):
            raise ScenarioError(f"{v.where}: token: 1-36 printable ASCII characters without spaces")
        stays = []
        for j, pair in enumerate(v.list("stays")):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ScenarioError(f"{v.where}: stays[{j}]: [arrive, leave]")
            arrive, leave = (_time(x, f"{v.where}: stays[{j}]") for x in pair)
            if arrive == leave:
                raise ScenarioError(f"{v.where}: stays[{j}]: arrive and leave are the same time")
            stays.append(Stay(arrive, leave))
        soc = v.count("soc_permille", 0, 250)
        if soc > 1000:
            raise ScenarioError(f"{v.where}: soc_permille within 0..1000")
        vehicles.append(
            Vehicle(
                label=v.get("label", str),
                token=token,
                driver=v.get("driver", str),
                capacity_wh=v.count("capacity_wh", 1),
                max_power_w=v.count("max_power_w", 1),
                soc_permille=soc,
                stays=tuple(stays),
            )
        )
    return FleetSpec(fleet_id, site, doc.count("deposit", 1), tuple(vehicles))
