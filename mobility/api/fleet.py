"""The fleet routes (`/fleet/...`): vehicles and tokens (`fleet_vehicles`), payer keys and
channels (`fleet_channels`), the payment stream (`fleet_stream`), reconciliation, exports and
audit proofs (`fleet_reports`)."""

from __future__ import annotations

from fastapi import APIRouter

from mobility.api import fleet_channels, fleet_reports, fleet_stream, fleet_vehicles
from mobility.api.context import fleet_with
from mobility.api.key_info import key_info_router

router = APIRouter(prefix="/fleet", tags=["fleet"])
router.include_router(fleet_vehicles.router)
router.include_router(fleet_reports.router)
router.include_router(fleet_channels.router)
router.include_router(fleet_stream.router)
router.include_router(key_info_router(fleet_with(), "fleet"))
