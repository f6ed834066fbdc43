"""The operator routes (`/operator/...`): this key, and the routers for charge points and
commands, tariffs, and sessions and money, each in its own module."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from mobility.api import (
    operator_chargers,
    operator_id_tokens,
    operator_reservations,
    operator_sessions,
    operator_tariffs,
)
from mobility.api.auth import OperatorPrincipal
from mobility.api.context import operator_with

router = APIRouter(prefix="/operator", tags=["operator"])


class KeyInfo(BaseModel):
    """The calling key's tenant and scopes."""

    tenant_id: str
    scopes: list[str]


@router.get("/me", response_model=KeyInfo)
async def me(caller: Annotated[OperatorPrincipal, operator_with()]) -> KeyInfo:
    """Which operator this API key belongs to, and what it may do."""
    return KeyInfo(tenant_id=caller.operator_id, scopes=sorted(caller.scopes))


router.include_router(operator_chargers.router)
router.include_router(operator_tariffs.router)
router.include_router(operator_sessions.router)
router.include_router(operator_reservations.router)
router.include_router(operator_id_tokens.router)
