"""UTC-aware time for the ledger, including on SQLite, which stores datetimes naive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock; tests inject their own."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Refuses naive datetimes going in; hands back aware UTC datetimes coming out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store UTC; a naive datetime is a bug, not an assumption to make."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ledger")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Attach UTC to what SQLite returns naive."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
