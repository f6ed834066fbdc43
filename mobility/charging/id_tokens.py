"""The operator's ID tokens: what each operator says about a token at its own charge points.

A token is listed with an OCPP status (Accepted, Blocked, Expired, Invalid) and an optional
expiry: an Accepted token past its expiry answers Expired. The authorization order
(`auth_order.py`) asks this list first, and the local list sent to chargers is built from it.
`SqlIdTokens` is the one writer of `charging_operator_id_token`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine, and_, delete, func, insert, select, update

from mobility.charging.authorization import AuthorizationStatus
from mobility.charging.models import ChargePointRecord
from mobility.charging.token_models import OperatorIdTokenRecord

TOKENS = OperatorIdTokenRecord.__table__  # type: ignore[attr-defined]
CHARGE_POINTS = ChargePointRecord.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class OperatorToken:
    """One token of one operator."""

    operator_id: str
    id_token: str
    status: AuthorizationStatus
    expires_at: datetime | None
    token_type: str
    updated_at: datetime

    def status_at(self, now: datetime) -> AuthorizationStatus:
        """The status in force at `now`: Accepted turns Expired once `expires_at` has passed."""
        if (
            self.status is AuthorizationStatus.ACCEPTED
            and self.expires_at is not None
            and self.expires_at <= now
        ):
            return AuthorizationStatus.EXPIRED
        return self.status


class IdTokenRepository(Protocol):
    """Where the operators' tokens are kept."""

    def at_charge_point(self, charge_point_id: str, id_token: str) -> OperatorToken | None:
        """The token as the charge point's operator lists it, or None."""
        ...

    def get(self, operator_id: str, id_token: str) -> OperatorToken | None:
        """One operator's token, or None."""
        ...

    def of_operator(
        self, operator_id: str, offset: int = 0, limit: int | None = None
    ) -> tuple[list[OperatorToken], int]:
        """An operator's tokens by token, a page of them and the total."""
        ...

    def add(self, token: OperatorToken) -> bool:
        """Store a new token; False if the operator lists it already."""
        ...

    def update(self, operator_id: str, id_token: str, changes: dict[str, object], at: datetime) -> bool:
        """Change `status`, `expires_at` or `token_type`; False if not listed."""
        ...

    def remove(self, operator_id: str, id_token: str) -> bool:
        """Delete a token; False if not listed."""
        ...


def _token(row: object) -> OperatorToken:
    return OperatorToken(
        operator_id=row.operator_id,  # type: ignore[attr-defined]
        id_token=row.id_token,  # type: ignore[attr-defined]
        status=AuthorizationStatus(row.status),  # type: ignore[attr-defined]
        expires_at=row.expires_at,  # type: ignore[attr-defined]
        token_type=row.token_type,  # type: ignore[attr-defined]
        updated_at=row.updated_at,  # type: ignore[attr-defined]
    )


class SqlIdTokens:
    """`IdTokenRepository` on the engine's database (tokens stored upper-case)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def at_charge_point(self, charge_point_id: str, id_token: str) -> OperatorToken | None:
        query = (
            select(TOKENS)
            .join(
                CHARGE_POINTS,
                and_(
                    CHARGE_POINTS.c.operator_id == TOKENS.c.operator_id, CHARGE_POINTS.c.id == charge_point_id
                ),
            )
            .where(TOKENS.c.id_token == id_token.upper())
        )
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _token(row)

    def get(self, operator_id: str, id_token: str) -> OperatorToken | None:
        query = select(TOKENS).where(
            TOKENS.c.operator_id == operator_id, TOKENS.c.id_token == id_token.upper()
        )
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _token(row)

    def of_operator(
        self, operator_id: str, offset: int = 0, limit: int | None = None
    ) -> tuple[list[OperatorToken], int]:
        mine = TOKENS.c.operator_id == operator_id
        query = select(TOKENS).where(mine).order_by(TOKENS.c.id_token).offset(offset).limit(limit)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
            total = connection.execute(select(func.count()).select_from(TOKENS).where(mine)).scalar_one()
        return [_token(row) for row in rows], int(total)

    def add(self, token: OperatorToken) -> bool:
        if self.get(token.operator_id, token.id_token) is not None:
            return False
        values = {
            "operator_id": token.operator_id,
            "id_token": token.id_token.upper(),
            "status": token.status.value,
            "expires_at": token.expires_at,
            "token_type": token.token_type,
            "updated_at": token.updated_at,
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(TOKENS).values(**values))
        except Exception:
            if self.get(token.operator_id, token.id_token) is not None:
                return False  # listed by a request racing this one
            raise
        return True

    def update(self, operator_id: str, id_token: str, changes: dict[str, object], at: datetime) -> bool:
        values = {
            key: value for key, value in changes.items() if key in ("status", "expires_at", "token_type")
        }
        if isinstance(values.get("status"), AuthorizationStatus):
            values["status"] = str(values["status"])
        query = (
            update(TOKENS)
            .where(TOKENS.c.operator_id == operator_id, TOKENS.c.id_token == id_token.upper())
            .values(**values, updated_at=at)
        )
        with self._engine.begin() as connection:
            return bool(connection.execute(query).rowcount)

    def remove(self, operator_id: str, id_token: str) -> bool:
        query = delete(TOKENS).where(
            TOKENS.c.operator_id == operator_id, TOKENS.c.id_token == id_token.upper()
        )
        with self._engine.begin() as connection:
            return bool(connection.execute(query).rowcount)
