"""The operator routes (`/operator/...`): this key, and the routers for charge points and
commands, tariffs, and sessions and money, each in its own module."""

from __future__ import annotations

from fastapi import APIRouter

from mobility.api import operator_chargers, operator_sessions, operator_tariffs
from mobility.api.context import operator_with
from mobility.api.key_info import key_info_router

router = APIRouter(prefix="/operator", tags=["operator"])
router.include_router(key_info_router(operator_with(), "operator"))
router.include_router(operator_chargers.router)
router.include_router(operator_tariffs.router)
router.include_router(operator_sessions.router)
