"""The one order in which the engine's authorization sources decide whether a token may charge.

1. A reservation (at a session's start only): a connector held for another token refuses
   (Invalid), whatever else the token could do.
2. The operator's ID tokens (`id_tokens.py`) for that charge point's operator: a listed token's
   status decides. Accepted charges unbilled (the operator vouches for it: service cards, a
   support desk's token); Blocked, Expired (or past its expiry) and Invalid refuse.
3. The engine's allow-list (`mobility serve --allow-token`, or `--accept-all-tokens` without
   payments): Accepted, unbilled.
4. The payment rules, when payments are on: Accepted when the token's account has a channel
   with a credit window here (billed), else the payment layer's refusal and reason.
5. Nothing decided: Invalid.

The first source that decides wins. Sources 2 and 3 never bill, so the payment layer leaves
sessions they accepted alone (`unbilled`) rather than stopping them for want of a channel.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from mobility.charging.authorization import (
    AllowListAuthorizer,
    AuthorizationResult,
    AuthorizationStatus,
    Authorizer,
)
from mobility.charging.id_tokens import IdTokenRepository
from mobility.clock import Clock, utc_now


class Source(StrEnum):
    """Which source decided."""

    OPERATOR_TOKEN = "operator-token"
    ALLOW_LIST = "allow-list"
    PAYMENT = "payment"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Decision:
    """An authorization result and the source that gave it."""

    result: AuthorizationResult
    source: Source

    @property
    def unbilled(self) -> bool:
        """Accepted by a source that does not bill (an operator token or the allow-list)."""
        return self.result.accepted and self.source in (Source.OPERATOR_TOKEN, Source.ALLOW_LIST)


class AuthorizationOrder:
    """The engine's `Authorizer`: operator tokens, then the allow-list, then payments."""

    def __init__(
        self,
        tokens: IdTokenRepository,
        allow_list: AllowListAuthorizer | None = None,
        payments: Authorizer | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.tokens = tokens
        self.allow_list = allow_list
        self.payments = payments
        self.clock = clock

    async def _before_payments(self, charge_point_id: str, id_token: str) -> Decision | None:
        listed = await asyncio.to_thread(self.tokens.at_charge_point, charge_point_id, id_token)
        if listed is not None:
            status = listed.status_at(self.clock())
            reason = (
                None
                if status is AuthorizationStatus.ACCEPTED
                else f"token {status.value.lower()} by its operator"
            )
            return Decision(AuthorizationResult(status, reason), Source.OPERATOR_TOKEN)
        if self.allow_list is not None:
            allowed = await self.allow_list.authorize(charge_point_id, id_token)
            if allowed.accepted:
                return Decision(allowed, Source.ALLOW_LIST)
        return None

    async def decide(self, charge_point_id: str, id_token: str) -> Decision:
        """The first source's decision for a new session."""
        decided = await self._before_payments(charge_point_id, id_token)
        if decided is not None:
            return decided
        if self.payments is not None:
            return Decision(await self.payments.authorize(charge_point_id, id_token), Source.PAYMENT)
        return Decision(AuthorizationResult(AuthorizationStatus.INVALID, "unknown id token"), Source.NONE)

    async def authorize(self, charge_point_id: str, id_token: str) -> AuthorizationResult:
        """`Authorizer`: the decision's result."""
        return (await self.decide(charge_point_id, id_token)).result

    async def authorize_session(
        self, session_id: int, charge_point_id: str, id_token: str
    ) -> AuthorizationResult:
        """For a session already started: the same order, the payment layer answering for
        that session (it knows whether a channel pays for it)."""
        decided = await self._before_payments(charge_point_id, id_token)
        if decided is not None:
            return decided.result
        by_session = getattr(self.payments, "authorize_session", None)
        if by_session is not None:
            result: AuthorizationResult = await by_session(session_id, charge_point_id, id_token)
            return result
        return (await self.decide(charge_point_id, id_token)).result

    async def unbilled(self, charge_point_id: str, id_token: str) -> bool:
        """True when a source that never bills accepts the token here (the payment layer then
        leaves its session alone)."""
        decided = await self._before_payments(charge_point_id, id_token)
        return decided is not None and decided.unbilled
