"""`mobility chargers add` registers a charge point with a hashed password."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mobility.charging.passwords import verify_password
from mobility.charging.store import ChargingStore
from mobility.cli import app
from mobility.db import create_db_engine


def test_chargers_add(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOBILITY_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["chargers", "add", "CP 7", "--password", "pw7"])
    assert result.exit_code == 0, result.output
    engine = create_db_engine(database_url)
    record = ChargingStore(engine).charge_point("CP 7")
    engine.dispose()
    assert record is not None
    assert record.password_hash is not None
    assert verify_password("pw7", record.password_hash)
    assert record.enabled


def test_chargers_add_refuses_long_ids(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOBILITY_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["chargers", "add", "x" * 49])
    assert result.exit_code != 0


def test_serve_is_a_command() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--allow-token" in result.output
