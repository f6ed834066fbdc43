"""The coordinator loop and the standalone node app."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi.testclient import TestClient

from mobility.db import create_db_engine
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node
from mobility.ledger.service import create_node_app, run_coordinator
from mobility.ledger.store import LedgerStore
from tests.ledger.builders import COORDINATORS, PARAMS


def make_node(url: str) -> Node:
    store = LedgerStore(create_db_engine(url))
    return Node(store, PARAMS)


async def ticks(count: int) -> AsyncIterator[None]:
    for _ in range(count):
        yield


async def test_coordinator_issues_a_milestone_per_tick(database_url: str) -> None:
    node = make_node(database_url)
    assert await run_coordinator(Coordinator(node, COORDINATORS[:2]), ticks(3)) == 3
    latest = node.store.latest_milestone()
    assert latest is not None
    assert latest.milestone_index == 3
    node.store.engine.dispose()


async def test_a_failing_milestone_is_logged_not_fatal(database_url: str) -> None:
    node = make_node(database_url)
    lone_key = Coordinator(node, COORDINATORS[:1])  # below the threshold of 2: rejected
    assert await run_coordinator(lone_key, ticks(2)) == 0
    assert node.store.latest_milestone() is None
    node.store.engine.dispose()


def test_node_app_serves_the_ledger_routes(database_url: str) -> None:
    node = make_node(database_url)
    app = create_node_app(node, Coordinator(node, COORDINATORS[:2]), interval=3600)
    with TestClient(app) as client:
        assert client.get("/ledger/info").json()["network_name"] == PARAMS.network_name
