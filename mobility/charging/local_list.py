"""Local authorization lists: built from the operator's tokens, versioned per charge point.

A charger holding a local list authorizes those tokens itself, offline too. The engine sends
the operator's whole token list (a Full update) with the next version number, and records
the version once the charger accepts it. `SqlLocalLists` is the one writer of
`charging_local_list`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine, delete, insert, select

from mobility.charging.authorization import AuthorizationStatus
from mobility.charging.id_tokens import OperatorToken
from mobility.charging.token_models import LocalListRecord

LISTS = LocalListRecord.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class LocalEntry:
    """One token on a local list, as the charger should treat it."""

    id_token: str
    status: AuthorizationStatus
    expires_at: datetime | None
    token_type: str


@dataclass(frozen=True, slots=True)
class LocalListVersion:
    """What a charger last accepted."""

    version: int
    entries: int
    sent_at: datetime


def entries_from(tokens: list[OperatorToken], now: datetime) -> list[LocalEntry]:
    """The local list for an operator's tokens at `now` (an Accepted token past its expiry
    goes as Expired)."""
    return [LocalEntry(t.id_token, t.status_at(now), t.expires_at, t.token_type) for t in tokens]


class LocalListRepository(Protocol):
    """Where the version each charger holds is kept."""

    def version(self, charge_point_id: str) -> LocalListVersion | None:
        """The version the charge point last accepted, or None if none was sent."""
        ...

    def accepted(self, charge_point_id: str, version: LocalListVersion) -> None:
        """The charge point accepted `version`."""
        ...


class SqlLocalLists:
    """`LocalListRepository` on the engine's database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def version(self, charge_point_id: str) -> LocalListVersion | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(LISTS).where(LISTS.c.charge_point_id == charge_point_id)).first()
        return None if row is None else LocalListVersion(row.version, row.entries, row.sent_at)

    def accepted(self, charge_point_id: str, version: LocalListVersion) -> None:
        values = {
            "charge_point_id": charge_point_id,
            "version": version.version,
            "entries": version.entries,
            "sent_at": version.sent_at,
        }
        with self._engine.begin() as connection:
            connection.execute(delete(LISTS).where(LISTS.c.charge_point_id == charge_point_id))
            connection.execute(insert(LISTS).values(**values))
