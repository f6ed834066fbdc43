"""Setting the city up on a fresh engine, through the APIs a real operator, fleet and driver use.

The operator posts its tariffs and registers every charger (site, location, tariff, password);
the fleet adds its vans and their RFID tags, proves its payer key, opens a channel with it and
registers it (the fleet SDK, `FleetApi`); every driver signs up, logs in, gets funds from the
development faucet, opens a channel to the operator with their own wallet and registers it.
Where the engine has no API it is asked through its entry point (`mobility.engine.Engine`),
as its command line does: creating the operator and fleet accounts with their API keys (what
`mobility operators add` / `mobility fleets add` do) and the development faucet's seed. The
faucet then pays like any wallet, through the SDK.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from mobility.engine import Engine
from mobility.wallet.api_client import ApiError, DriverApi, FleetApi
from mobility.wire.codec import Ed25519Address
from sims.chargers.fleet import assign_versions
from sims.city.agents import Driver
from sims.city.plan import behaviours, driver_seed
from sims.city.scenario import FleetSpec, Scenario

OPERATOR_ID = "city-energy"
CONFIRM_LIMIT_S = 120.0  # real seconds to wait for a milestone to confirm a set-up block
MAX_STEP = 5_000_000  # the most a wallet signs over its last voucher in one go


class SetupError(RuntimeError):
    """An API refused a set-up step."""


@dataclass(frozen=True, slots=True)
class StationPlan:
    """One charger to register and simulate."""

    charge_point_id: str
    site: str
    version: str
    password: str
    max_power_w: int
    connectors: int


def station_plans(scenario: Scenario, seed: int) -> list[StationPlan]:
    """The chargers of every site, with OCPP versions in each site's mix (seeded)."""
    plans = []
    for site in scenario.sites:
        group = site.chargers
        versions = assign_versions(group.count, group.mix, random.Random(f"versions:{seed}:{site.id}"))
        for n, version in enumerate(versions, start=1):
            charge_point_id = f"{site.id}-{n:02d}"
            password = random.Random(f"password:{seed}:{charge_point_id}").randbytes(12).hex()
            plans.append(
                StationPlan(charge_point_id, site.id, version, password, group.max_power_w, group.connectors)
            )
    return plans


def _check(response: httpx.Response, what: str) -> dict[str, object]:
    if response.status_code >= 400:
        raise SetupError(f"{what}: {response.status_code} {response.text}")
    body: dict[str, object] = response.json()
    return body


async def operator(
    http: httpx.AsyncClient, engine: Engine, scenario: Scenario, stations: list[StationPlan]
) -> dict[str, str]:
    """The operator's API key; its tariffs posted and its chargers registered through the API."""
    key = await asyncio.to_thread(engine.add_operator, OPERATOR_ID, "City Energy")
    headers = {"Authorization": f"Bearer {key}"}
    for tariff in scenario.tariffs:
        _check(
            await http.post("/operator/tariffs", json=tariff.document, headers=headers), f"tariff {tariff.id}"
        )
    for plan in stations:
        site = scenario.site(plan.site)
        body = {
            "id": plan.charge_point_id,
            "password": plan.password,
            "site": site.id,
            "latitude": site.latitude,
            "longitude": site.longitude,
            "tariff_id": site.tariff,
        }
        _check(
            await http.post("/operator/chargers", json=body, headers=headers),
            f"charger {plan.charge_point_id}",
        )
    return headers


async def fleet_api(http: httpx.AsyncClient, engine: Engine, spec: FleetSpec, seed: int) -> FleetApi:
    """The fleet's account and API key (through the engine, as `mobility fleets add`), then its
    vans and RFID tags added through the fleet API. The SDK holds the fleet's payer key, its
    own, derived from the run seed."""
    key = await asyncio.to_thread(engine.add_fleet, spec.id, spec.id)
    payer_seed = random.Random(f"fleet-key:{seed}:{spec.id}").randbytes(32)
    api = FleetApi(http, key, payer_seed, max_step=MAX_STEP)
    try:
        for vehicle in spec.vehicles:
            added = await api.add_vehicle(vehicle.label)
            await api.add_token(added["id"], vehicle.token, vehicle.driver)
    except ApiError as error:
        raise SetupError(f"fleet {spec.id}: {error}") from error
    return api


async def drivers_signed_up(http: httpx.AsyncClient, scenario: Scenario, seed: int) -> list[DriverApi]:
    """Every driver signed up and logged in through the driver API."""
    apis = [DriverApi(http, driver_seed(seed, i), max_step=MAX_STEP) for i in range(scenario.drivers.count)]
    for index, api in enumerate(apis):
        await api.sign_up(f"driver {index}")
        await api.log_in()
    await apis[0].operator()
    return apis


def channel_expiry(scenario: Scenario, hours: float) -> datetime:
    """Far beyond the run in both simulated time (the engine's payment clock) and wall time
    (the ledger's)."""
    end = max(datetime.now(UTC), scenario.start + timedelta(hours=hours))
    return (end + timedelta(days=30)).replace(microsecond=0)


async def fund(
    http: httpx.AsyncClient, faucet_seed: bytes, payments: list[tuple[Ed25519Address, int]]
) -> None:
    """The development faucet pays everyone in one transaction (at most 127 per block), from
    the SDK's ledger wallet holding the faucet's key."""
    faucet = (await DriverApi(http, faucet_seed).wallet()).ledger
    for start in range(0, len(payments), 127):
        block_id = await faucet.transfer_many(payments[start : start + 127])
        async with asyncio.timeout(CONFIRM_LIMIT_S):
            await faucet.wait_for_confirmation(block_id)


async def driver_channels(
    apis: list[DriverApi], scenario: Scenario, seed: int, expiry: datetime
) -> list[Driver]:
    """Each driver opens a channel with their own wallet, waits for its milestone, registers it."""
    kinds = behaviours(scenario.drivers, seed)

    async def one(index: int, api: DriverApi) -> Driver:
        if api.operator_public_key is None:
            api.operator_public_key = apis[0].operator_public_key
        block_id, channel_id = await api.open_channel(scenario.drivers.deposit, expiry)
        async with asyncio.timeout(CONFIRM_LIMIT_S):
            await (await api.wallet()).ledger.wait_for_confirmation(block_id)
        await api.register_channel(channel_id)
        return Driver(index, api, channel_id, kinds[index])

    return list(await asyncio.gather(*(one(i, api) for i, api in enumerate(apis))))


async def fleet_channel(api: FleetApi, spec: FleetSpec, expiry: datetime) -> bytes:
    """The fleet proves its payer key, opens a channel with it, waits for the milestone and
    registers the channel: all through the fleet API."""
    try:
        await api.register_payer_key()
        block_id, channel_id = await api.open_channel(spec.deposit, expiry)
        async with asyncio.timeout(CONFIRM_LIMIT_S):
            await (await api.wallet()).ledger.wait_for_confirmation(block_id)
        await api.register_channel(channel_id)
    except ApiError as error:
        raise SetupError(f"fleet {spec.id} channel: {error}") from error
    return channel_id
