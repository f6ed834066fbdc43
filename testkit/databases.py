"""Fresh databases for tests and benchmarks: an SQLite file or a PostgreSQL database of its own,
empty or at the newest migration.

A migrated database is a copy of one template per process, built by the migrations
(`mobility.migrate.upgrade`, what `mobility db upgrade` runs): the schema is the one the engine
gets, and a copy is cheaper than migrating each database anew (PostgreSQL copies a template
database; SQLite's backup API copies the file).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mobility.migrate import upgrade

POSTGRES_URL_FILE = Path(__file__).resolve().parents[1] / ".ci" / ".postgres-url"
"""Where `.ci/postgres.sh` writes the URL of the PostgreSQL server it started."""


def postgres_server_url() -> str | None:
    """The PostgreSQL server to make databases on: `MOBILITY_TEST_POSTGRES_URL`, else the one
    `.ci/postgres.sh` started, else None."""
    url = os.environ.get("MOBILITY_TEST_POSTGRES_URL", "")
    if not url and POSTGRES_URL_FILE.exists():
        url = POSTGRES_URL_FILE.read_text().strip()
    return url or None


@contextmanager
def postgres_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """The URL of a new database on `server_url` (a copy of the database `template`, if named),
    dropped when the block ends."""
    name = f"mobility_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template is not None else ""
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def sqlite_url(path: Path) -> str:
    """The URL of an SQLite file."""
    return f"sqlite:///{path}"


class MigratedTemplates:
    """Hands out fresh databases at the newest migration, each a copy of a template migrated
    once per backend (on first use). `close` drops the PostgreSQL template."""

    def __init__(self, folder: Path, postgres_url: str | None = None) -> None:
        self._folder = folder
        self._postgres_url = postgres_url
        self._sqlite_template: Path | None = None
        self._postgres_template: str | None = None
        self._templates = ExitStack()

    def sqlite(self, path: Path) -> str:
        """A migrated SQLite database at `path`; its URL."""
        if self._sqlite_template is None:
            template = self._folder / "template.db"
            upgrade(sqlite_url(template))
            self._sqlite_template = template
        with (
            closing(sqlite3.connect(self._sqlite_template)) as source,
            closing(sqlite3.connect(path)) as target,
        ):
            source.backup(target)
        return sqlite_url(path)

    @contextmanager
    def postgres(self) -> Iterator[str]:
        """A migrated PostgreSQL database, dropped when the block ends; its URL."""
        if self._postgres_url is None:
            raise RuntimeError("no PostgreSQL server given")
        if self._postgres_template is None:
            template = self._templates.enter_context(postgres_database(self._postgres_url))
            upgrade(template)
            self._postgres_template = make_url(template).database
        with postgres_database(self._postgres_url, template=self._postgres_template) as url:
            yield url

    def close(self) -> None:
        """Drop the templates made so far."""
        self._templates.close()
