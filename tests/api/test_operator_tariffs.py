"""Operator tariffs: version 1 on the first post, the next version on each post after; a tariff
ID belongs to whoever created it; bad input is a 422 that stores nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx

from mobility.api.auth import OPERATOR_SCOPES
from mobility.engine import Engine
from mobility.payments.tariff import Tariff
from tests.api.conftest import driver, fleet, operator
from tests.api.operator_world import PROBLEM


def energy_tariff(tariff_id: str, price: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": tariff_id,
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "ENERGY", "price": price, "vat_bp": 1900}]}],
        **extra,
    }


async def test_posting_a_tariff_again_adds_a_version(engine: Engine, http: httpx.AsyncClient) -> None:
    headers = await operator(engine, "op-t1")
    first = await http.post("/operator/tariffs", json=energy_tariff("city", 300_000), headers=headers)
    assert first.status_code == 201, first.text
    assert (first.json()["version"], first.json()["tariff"]["version"]) == (1, 1)
    assert first.headers["location"] == "/operator/tariffs/city"
    second = await http.post("/operator/tariffs", json=energy_tariff("city", 350_000), headers=headers)
    assert second.json()["version"] == 2
    stale = await http.post("/operator/tariffs", json=energy_tariff("city", 1, version=2), headers=headers)
    assert stale.status_code == 409
    assert stale.json()["type"] == "urn:mobility:problem:version-conflict"
    third = await http.post(
        "/operator/tariffs", json=energy_tariff("city", 400_000, version=3), headers=headers
    )
    assert third.json()["version"] == 3
    await http.post("/operator/tariffs", json=energy_tariff("airport", 500_000), headers=headers)

    versions = (await http.get("/operator/tariffs/city", headers=headers)).json()
    assert versions["total"] == 3
    prices = [v["tariff"]["elements"][0]["price_components"][0]["price"] for v in versions["items"]]
    assert prices == [300_000, 350_000, 400_000]
    listed = (await http.get("/operator/tariffs", headers=headers)).json()
    assert [(t["id"], t["latest_version"]) for t in listed["items"]] == [("airport", 1), ("city", 3)]
    paged = (await http.get("/operator/tariffs?limit=1&offset=1", headers=headers)).json()
    assert (paged["total"], [t["id"] for t in paged["items"]]) == (2, ["city"])
    assert Tariff.model_validate(versions["items"][0]["tariff"]).version == 1


async def test_a_tariff_id_belongs_to_its_creator(engine: Engine, http: httpx.AsyncClient) -> None:
    owner, stranger = await operator(engine, "op-t2"), await operator(engine, "op-t3")
    _, _, driver_headers = await driver(http, 0x71)
    fleet_headers = await fleet(engine, "fleet-t")
    assert (
        await http.post("/operator/tariffs", json=energy_tariff("mine", 1), headers=owner)
    ).status_code == 201
    taken = await http.post("/operator/tariffs", json=energy_tariff("mine", 2), headers=stranger)
    assert taken.status_code == 409
    assert taken.json()["type"] == "urn:mobility:problem:tariff-taken"
    default = Tariff.model_validate(energy_tariff("default", 300_000))
    await asyncio.to_thread(
        engine.api.state.context.payment_store.add_tariff, default, dt.datetime.now(dt.UTC)
    )
    engine_default = await http.post("/operator/tariffs", json=energy_tariff("default", 2), headers=owner)
    assert engine_default.status_code == 409  # the engine's configured tariff is nobody's
    assert (await http.get("/operator/tariffs/mine", headers=stranger)).status_code == 404
    assert (await http.get("/operator/tariffs/none", headers=owner)).status_code == 404
    stranger_list = (await http.get("/operator/tariffs", headers=stranger)).json()
    assert "mine" not in [t["id"] for t in stranger_list["items"]]
    no_scope = await operator(engine, "op-t2", OPERATOR_SCOPES - {"tariffs"})
    for headers in (driver_headers, fleet_headers, no_scope):
        for method, path, body in [
            ("POST", "/operator/tariffs", energy_tariff("mine", 3)),
            ("GET", "/operator/tariffs", None),
            ("GET", "/operator/tariffs/mine", None),
        ]:
            response = await http.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path, response.text)
    versions = (await http.get("/operator/tariffs/mine", headers=owner)).json()
    assert versions["total"] == 1


async def test_bad_tariffs_are_422_and_store_nothing(engine: Engine, http: httpx.AsyncClient) -> None:
    headers = await operator(engine, "op-t4")
    bad = [
        energy_tariff("x" * 37, 1),
        energy_tariff("bad", -1),
        {**energy_tariff("bad", 1), "elements": []},
        energy_tariff("bad", 1, currency="EURO"),
        energy_tariff("bad", 1, timezone="Mars/Olympus"),
        energy_tariff("bad", 1, timezone="Europe/" + "x" * 300),  # too long a file name: OSError
        energy_tariff("bad", 1, version=0),
        energy_tariff("bad", 1, surprise=True),
        energy_tariff("nul\x00", 1),
        {
            "id": "bad",
            "currency": "EUR",
            "elements": [
                {"price_components": [{"type": "ENERGY", "price": 1}], "restrictions": {"min_current": 6.0}}
            ],
        },
    ]
    for body in bad:
        response = await http.post("/operator/tariffs", json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
    new_at_two = await http.post(
        "/operator/tariffs", json=energy_tariff("bad", 1, version=2), headers=headers
    )
    assert new_at_two.status_code == 409
    assert (await http.get("/operator/tariffs", headers=headers)).json()["total"] == 0
    assert (await http.get("/operator/tariffs/bad", headers=headers)).status_code == 404
    assert (await http.get("/operator/tariffs/nul%00", headers=headers)).status_code == 422
    accented = await http.post("/operator/tariffs", json=energy_tariff("tarif-été", 1), headers=headers)
    assert accented.headers["location"] == "/operator/tariffs/tarif-%C3%A9t%C3%A9"
    assert (
        await http.post("/operator/tariffs", json=energy_tariff("bad", 1), headers=headers)
    ).status_code == 201
