"""`mobility chargers add` registers a charge point for an operator under the API's rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from mobility.api.operator_store import OperatorStore
from mobility.api.store import ApiStore
from mobility.charging.passwords import hash_password, verify_password
from mobility.charging.store import ChargerSpec, ChargingStore
from mobility.cli import app
from mobility.db import create_db_engine
from mobility.migrate import upgrade

PASSWORD = "a-password-of-24-chars!!"


@pytest.fixture
def database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The CLI's database (migrated) with operators op-1 and op-2."""
    monkeypatch.setenv("MOBILITY_DATABASE_URL", database_url)
    upgrade(database_url)
    engine = create_db_engine(database_url)
    for operator_id in ("op-1", "op-2"):
        ApiStore(engine).add_operator(operator_id)
    yield engine
    engine.dispose()


def add(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["chargers", "add", *args])
    return result.exit_code, result.output


def test_chargers_add_registers_a_charge_point_its_operator_sees(database: Engine) -> None:
    code, output = add("CP-7", "--operator", "op-1", "--password", PASSWORD)
    assert code == 0, output
    charger = OperatorStore(database).charger("op-1", "CP-7")
    assert charger is not None
    assert charger.record.password_hash is not None
    assert verify_password(PASSWORD, charger.record.password_hash)
    assert charger.record.enabled
    assert OperatorStore(database).charger("op-2", "CP-7") is None


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("CP 7", "--operator", "op-1", "--password", PASSWORD), "1 to 48"),  # a space
        (("x" * 49, "--operator", "op-1", "--password", PASSWORD), "1 to 48"),
        (("CP-7", "--operator", "op-1", "--password", "s3cret"), "16 to 40"),  # 6 characters
        (("CP-7", "--operator", "op-1", "--password", "p" * 41), "16 to 40"),
        (("CP-7", "--operator", "op-9", "--password", PASSWORD), "no operator"),
        (("CP-7", "--password", PASSWORD), "--operator"),  # nobody would own it
    ],
)
def test_chargers_add_refuses_what_the_api_refuses(
    database: Engine, args: tuple[str, ...], complaint: str
) -> None:
    """Issue 14, points 2 and 14: the CLI made what the API forbids (spaces, 6-character
    passwords, charge points no operator owns)."""
    code, output = add(*args)
    assert code != 0
    assert complaint in output
    assert ChargingStore(database).charge_point("CP-7") is None
    assert ChargingStore(database).charge_point("CP 7") is None


def test_chargers_add_does_not_overwrite_an_operators_charge_point(database: Engine) -> None:
    spec = ChargerSpec("CP-1", hash_password(PASSWORD))
    registered = OperatorStore(database).register_charger("op-1", spec)
    assert registered is not None
    for operator_id in ("op-2", "op-1"):
        code, output = add("CP-1", "--operator", operator_id, "--password", "another-password-here")
        assert code != 0
        assert "registered already" in output
    record = ChargingStore(database).charge_point("CP-1")
    assert record is not None
    assert record.operator_id == "op-1"
    assert record.password_hash is not None
    assert verify_password(PASSWORD, record.password_hash)


def test_chargers_add_approves_a_pending_unknown_charge_point(database: Engine) -> None:
    ChargingStore(database).ensure_charge_point("CP-NEW", pending=True)
    code, output = add("CP-NEW", "--operator", "op-2", "--password", PASSWORD, "--disabled")
    assert code == 0, output
    charger = OperatorStore(database).charger("op-2", "CP-NEW")
    assert charger is not None
    assert not charger.record.pending
    assert not charger.record.enabled


def test_admins_add_prints_an_engine_admin_key(database: Engine) -> None:
    result = CliRunner().invoke(app, ["admins", "add", "ops-team"])
    assert result.exit_code == 0, result.output
    record = ApiStore(database).api_key(result.output.strip())
    assert record is not None
    assert (record.role, record.tenant_id, record.scopes) == ("admin", "ops-team", "metrics")


def test_serve_is_a_command() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--allow-token" in result.output
