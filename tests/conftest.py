"""Shared fixtures: the test vectors, and a fresh database on every backend under test."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

VECTORS_DIR = Path(__file__).resolve().parent / "vectors"
POSTGRES_URL = os.environ.get("MOBILITY_TEST_POSTGRES_URL", "")


def load_vector(name: str) -> Any:
    """A JSON file of `tests/vectors/` (provenance in its README)."""
    return json.loads((VECTORS_DIR / name).read_text())


def _backends() -> list[Any]:
    backends: list[Any] = ["sqlite"]
    if POSTGRES_URL:
        backends.append("postgresql")
    elif os.environ.get("CI") == "true":
        raise RuntimeError("CI must test PostgreSQL: set MOBILITY_TEST_POSTGRES_URL (see .ci/postgres.sh)")
    return backends


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: an SQLite file, or a fresh PostgreSQL database dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    name = f"mobility_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
