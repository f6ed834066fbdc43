"""The fleet routes (`/fleet/...`): vehicles and tokens (`fleet_vehicles`), payer keys and
channels (`fleet_channels`), the payment stream (`fleet_stream`), reconciliation, exports and
audit proofs (`fleet_reports`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from mobility.api import fleet_channels, fleet_reports, fleet_stream, fleet_vehicles
from mobility.api.auth import FleetPrincipal
from mobility.api.context import fleet_with

router = APIRouter(prefix="/fleet", tags=["fleet"])
router.include_router(fleet_vehicles.router)
router.include_router(fleet_reports.router)
router.include_router(fleet_channels.router)
router.include_router(fleet_stream.router)


class KeyInfo(BaseModel):
    """The calling key's tenant and scopes."""

    tenant_id: str
    scopes: list[str]


@router.get("/me", response_model=KeyInfo)
async def me(caller: Annotated[FleetPrincipal, fleet_with()]) -> KeyInfo:
    """Which fleet this API key belongs to, and what it may do."""
    return KeyInfo(tenant_id=caller.account_id, scopes=sorted(caller.scopes))
