"""One database URL for the whole engine: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, event
from sqlalchemy.types import TypeDecorator
from sqlmodel import create_engine

from mobility.sqlite_gate import GatedConnection


def create_db_engine(url: str, echo: bool = False) -> Engine:
    """An engine for `url`, tuned per backend.

    SQLite runs in WAL mode with `synchronous=FULL`, so an acknowledged commit survives a
    SIGKILL of the process, and foreign keys are enforced as on PostgreSQL. Its
    writers take turns at the file's gate (`sqlite_gate`) instead of sleeping in SQLite's busy
    handler.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": 30, "factory": GatedConnection}
        engine = create_engine(url, echo=echo, connect_args=connect_args)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "before_cursor_execute")
        def _gated_write(connection: Connection, cursor: Any, statement: str, *_: Any) -> None:
            dbapi_connection = connection.connection.dbapi_connection
            if isinstance(dbapi_connection, GatedConnection):
                dbapi_connection.before(statement)

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


class UTCDateTime(TypeDecorator[datetime]):
    """A column type that refuses naive datetimes and hands back aware UTC ones.

    SQLite stores datetimes naive; this makes both backends round-trip the same UTC instant.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the engine only stores UTC-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
