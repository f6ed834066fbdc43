"""Shared fixtures: the test vectors, and a fresh database on every backend under test (migrated,
or empty for the migrations' own tests)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit.databases import MigratedTemplates, postgres_database, sqlite_url

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


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"), POSTGRES_URL or None)
    yield templates
    templates.close()


@pytest.fixture(scope="session")
def migrated_sqlite(_templates: MigratedTemplates) -> Callable[[Path], str]:
    """Makes a migrated SQLite database at a path and answers its URL, for tests that need
    more than one database or one of their own."""
    return _templates.sqlite


@pytest.fixture(params=_backends())
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, _templates: MigratedTemplates
) -> Iterator[str]:
    """A URL to a fresh database at the newest migration (the schema comes from the migrations
    only): an SQLite file, or a PostgreSQL database dropped after."""
    if request.param == "sqlite":
        yield _templates.sqlite(tmp_path / "test.db")
        return
    with _templates.postgres() as url:
        yield url


@pytest.fixture(params=_backends())
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database (no tables): an SQLite file, or a PostgreSQL database dropped
    after. For the migrations' own tests."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "test.db")
        return
    with postgres_database(POSTGRES_URL) as url:
        yield url
