"""Operator ID tokens and local authorization: the operator's tokens with their OCPP status
(`/operator/id-tokens`), honoured first at the operator's charge points
(`mobility/charging/auth_order.py`), and the commands that put them on a charger
(`send_local_list`, `get_local_list_version`, `clear_cache`).

Tokens are compared case-insensitively and stored upper-case, as RFID UIDs are.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from mobility.api.auth import OperatorPrincipal
from mobility.api.command_scope import CommandScope, ScopedCommand
from mobility.api.context import Context, operator_with
from mobility.api.pagination import Page, Paging
from mobility.api.problems import Problem
from mobility.charging.authorization import AuthorizationStatus
from mobility.charging.id_tokens import OperatorToken, SqlIdTokens
from mobility.charging.local_list import LocalListVersion, SqlLocalLists, entries_from
from mobility.payments.accounts import is_app_token
from ocpp_server.commands import CommandResult

router = APIRouter()

TOKEN_PATTERN = r"^[\x21-\x7e]+$"
IdToken = Annotated[str, StringConstraints(min_length=1, max_length=36, pattern=TOKEN_PATTERN)]
IdTokenPath = Annotated[str, Path(min_length=1, max_length=36, pattern=TOKEN_PATTERN)]
TokenType = Literal["Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress"]
LOCAL_LIST_MAX = 10_000  # tokens per list: beyond that a charger's memory, not a list


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdTokenIn(_Strict):
    """A token to list: its status at your charge points, and when it expires (optional)."""

    id_token: IdToken
    status: AuthorizationStatus = AuthorizationStatus.ACCEPTED
    expires_at: AwareDatetime | None = None
    token_type: TokenType = Field(default="ISO14443", description="2.x IdTokenEnumType, for local lists")


class IdTokenPatch(_Strict):
    """Fields to change; `expires_at` null removes the expiry."""

    status: AuthorizationStatus | None = None
    expires_at: AwareDatetime | None = None
    token_type: TokenType | None = None

    @model_validator(mode="after")
    def _consistent(self) -> IdTokenPatch:
        for name in ("status", "token_type"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class IdTokenOut(BaseModel):
    """A listed token. `effective_status` is what authorization answers now (an Accepted token
    past `expires_at` answers Expired)."""

    id_token: str
    status: AuthorizationStatus
    effective_status: AuthorizationStatus
    expires_at: datetime | None
    token_type: str
    updated_at: datetime


def _token_out(token: OperatorToken, now: datetime) -> IdTokenOut:
    return IdTokenOut(
        id_token=token.id_token,
        status=token.status,
        effective_status=token.status_at(now),
        expires_at=token.expires_at,
        token_type=token.token_type,
        updated_at=token.updated_at,
    )


def _tokens(context: Context) -> SqlIdTokens:
    return SqlIdTokens(context.charging.engine)


def _not_found(id_token: str) -> Problem:
    return Problem(404, "Not found", f"no ID token {id_token!r} of yours", "not-found")


Reader = Annotated[OperatorPrincipal, operator_with("chargers:read")]
Writer = Annotated[OperatorPrincipal, operator_with("chargers:write")]


@router.post("/id-tokens", status_code=status.HTTP_201_CREATED, response_model=IdTokenOut)
async def add_id_token(body: IdTokenIn, caller: Writer, context: Context, response: Response) -> IdTokenOut:
    """List a token with its status; from then on it decides authorization at your charge points
    before the allow-list and the payment rules. 409 if listed already."""
    if is_app_token(body.id_token):
        raise Problem(422, "Invalid request", "driver app tokens cannot be listed", "app-token")
    now = context.clock()
    token = OperatorToken(
        caller.operator_id, body.id_token.upper(), body.status, body.expires_at, body.token_type, now
    )
    if not await asyncio.to_thread(_tokens(context).add, token):
        raise Problem(409, "Conflict", f"ID token {token.id_token!r} is listed already", "already-exists")
    response.headers["Location"] = f"/operator/id-tokens/{token.id_token}"
    return _token_out(token, now)


@router.get("/id-tokens", response_model=Page[IdTokenOut])
async def list_id_tokens(caller: Reader, context: Context, paging: Paging) -> Page[IdTokenOut]:
    """Your tokens, by token."""
    found, total = await asyncio.to_thread(
        _tokens(context).of_operator, caller.operator_id, paging.offset, paging.limit
    )
    now = context.clock()
    return Page.of([_token_out(token, now) for token in found], total, paging)


@router.get("/id-tokens/{id_token}", response_model=IdTokenOut)
async def get_id_token(id_token: IdTokenPath, caller: Reader, context: Context) -> IdTokenOut:
    """One of your tokens."""
    token = await asyncio.to_thread(_tokens(context).get, caller.operator_id, id_token)
    if token is None:
        raise _not_found(id_token)
    return _token_out(token, context.clock())


@router.patch("/id-tokens/{id_token}", response_model=IdTokenOut)
async def update_id_token(
    id_token: IdTokenPath, body: IdTokenPatch, caller: Writer, context: Context
) -> IdTokenOut:
    """Block, unblock, expire or re-date a token; applies to the next authorization."""
    changes = body.model_dump(include=body.model_fields_set)
    updated = await asyncio.to_thread(
        _tokens(context).update, caller.operator_id, id_token, changes, context.clock()
    )
    if not updated:
        raise _not_found(id_token)
    return await get_id_token(id_token, caller, context)


@router.delete("/id-tokens/{id_token}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_id_token(id_token: IdTokenPath, caller: Writer, context: Context) -> Response:
    """Unlist a token: the allow-list and the payment rules decide for it again."""
    if not await asyncio.to_thread(_tokens(context).remove, caller.operator_id, id_token):
        raise _not_found(id_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Local authorization commands --------------------------------------------------------------


class SendLocalListCommand(ScopedCommand):
    """Put your ID tokens on the charger as its local authorization list (a Full update with
    the next version number; an Accepted token past its expiry goes as Expired): SendLocalList.
    The answer carries `version` and `entries`."""

    type: Literal["send_local_list"]

    async def check(self, scope: CommandScope) -> None:
        _, total = await asyncio.to_thread(_tokens_of(scope).of_operator, scope.operator_id, 0, 1)
        if total > LOCAL_LIST_MAX:
            raise Problem(422, "Too many tokens", f"a local list holds at most {LOCAL_LIST_MAX}", "too-many")

    async def run_in(self, scope: CommandScope) -> CommandResult:
        lists = SqlLocalLists(scope.context.charging.engine)
        tokens, _ = await asyncio.to_thread(
            _tokens_of(scope).of_operator, scope.operator_id, 0, LOCAL_LIST_MAX
        )
        now = scope.service.clock()
        held = await asyncio.to_thread(lists.version, scope.charge_point_id)
        version = (held.version if held is not None else 0) + 1
        entries = entries_from(tokens, now)
        result = await scope.central.local_auth(scope.charge_point_id).send_local_list(version, entries)
        if result.accepted:
            await asyncio.to_thread(
                lists.accepted, scope.charge_point_id, LocalListVersion(version, len(entries), now)
            )
        return CommandResult(result.status, {**result.payload, "version": version, "entries": len(entries)})


class GetLocalListVersionCommand(ScopedCommand):
    """Ask which local list version the charger holds: GetLocalListVersion (the answer's
    `list_version` on 1.6, `version_number` on 2.x; 0 none, -1 not supported on 1.6)."""

    type: Literal["get_local_list_version"]

    async def run_in(self, scope: CommandScope) -> CommandResult:
        return await scope.central.local_auth(scope.charge_point_id).get_local_list_version()


class ClearCacheCommand(ScopedCommand):
    """Empty the charger's authorization cache: ClearCache."""

    type: Literal["clear_cache"]

    async def run_in(self, scope: CommandScope) -> CommandResult:
        return await scope.central.local_auth(scope.charge_point_id).clear_cache()


def _tokens_of(scope: CommandScope) -> SqlIdTokens:
    return SqlIdTokens(scope.context.charging.engine)
