"""Who may operate and charge: boot registration statuses, the authorizer interface the payment
layer implements, and an allow-list for development."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class AuthorizationStatus(StrEnum):
    """The common subset of 1.6 `AuthorizationStatus` and 2.x `AuthorizationStatusEnumType`."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"


class RegistrationStatus(StrEnum):
    """The answer to a BootNotification (the same words in 1.6 and 2.x)."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"  # registered on first connection, awaiting an operator's approval
    REJECTED = "Rejected"


@dataclass(frozen=True, slots=True)
class AuthorizationResult:
    """The answer to "may this token charge here?", with a reason a driver's app can show."""

    status: AuthorizationStatus
    reason: str | None = None

    @property
    def accepted(self) -> bool:
        """True when charging may go ahead."""
        return self.status is AuthorizationStatus.ACCEPTED


class Authorizer(Protocol):
    """Decides whether an ID token may charge at a charge point (in the engine, the payment layer)."""

    async def authorize(self, charge_point_id: str, id_token: str) -> AuthorizationResult:
        """Accept or refuse `id_token` at `charge_point_id`."""
        ...


class AllowListAuthorizer:
    """Accepts exactly the tokens it was given (compared case-insensitively, as RFID UIDs are)."""

    def __init__(self, tokens: Iterable[str] = (), accept_all: bool = False) -> None:
        self._tokens = {token.upper() for token in tokens}
        self._accept_all = accept_all

    def allow(self, token: str) -> None:
        """Add a token to the list."""
        self._tokens.add(token.upper())

    async def authorize(self, charge_point_id: str, id_token: str) -> AuthorizationResult:
        """Accepted if listed (or everything is accepted), Invalid otherwise."""
        if self._accept_all or id_token.upper() in self._tokens:
            return AuthorizationResult(AuthorizationStatus.ACCEPTED)
        return AuthorizationResult(AuthorizationStatus.INVALID)
