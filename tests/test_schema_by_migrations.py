"""Tables come from the migrations and nothing else: `mobility db upgrade` alone brings an empty
database to the models' schema on each backend, the stores and the ledger node create no table
on a database nobody migrated, and no code outside `migrations/` calls `create_all`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError

from mobility.api.operator_store import OperatorStore
from mobility.api.store import ApiStore
from mobility.charging.store import ChargingStore
from mobility.db import create_db_engine
from mobility.fleet.store import FleetStore
from mobility.ledger.config import LedgerSettings, open_node
from mobility.ledger.store import LedgerStore
from mobility.payments.store import PaymentStore
from testkit.process import engine_env, mobility
from tests.test_migrations import schema_differences

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mobility", "ocpp_server", "sims", "benches", "testkit", "tests")


def test_mobility_db_upgrade_alone_builds_the_schema(empty_database_url: str, tmp_path: Path) -> None:
    mobility(engine_env(tmp_path, empty_database_url), "db", "upgrade")
    assert schema_differences(empty_database_url) == []


def test_stores_create_no_tables(empty_database_url: str) -> None:
    engine = create_db_engine(empty_database_url)
    for store in (PaymentStore, LedgerStore, ChargingStore, ApiStore, FleetStore, OperatorStore):
        store(engine)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_a_node_does_not_open_on_a_database_nobody_migrated(empty_database_url: str) -> None:
    with pytest.raises(DBAPIError):
        open_node(LedgerSettings(), empty_database_url)
    engine = create_db_engine(empty_database_url)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def _creates_tables(call: ast.Call) -> bool:
    if not isinstance(call.func, ast.Attribute):
        return False
    if call.func.attr in {"create_all", "create_table"}:
        return True
    return call.func.attr == "create" and any(keyword.arg == "checkfirst" for keyword in call.keywords)


def test_nothing_outside_the_migrations_creates_tables() -> None:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            found += [
                f"{path.relative_to(ROOT)}:{node.lineno}"
                for node in ast.walk(tree)
                if isinstance(node, ast.Call) and _creates_tables(node)
            ]
    assert found == []
