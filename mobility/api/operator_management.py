"""Operator routes to read what chargers reported of themselves: the stored device model
(configuration keys, 2.x variables), kept reports (security events, charging limits, customer
information, firmware and log status, DataTransfer, ...), firmware updates with their status,
and diagnostics/log requests with the uploaded files.

The commands that fill these go through `POST /operator/chargers/{id}/commands`
(`operator_management_commands.py`). A charge point not the caller's is 404, as elsewhere.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel

from mobility.api.auth import OperatorPrincipal
from mobility.api.context import Context, operator_with
from mobility.api.operator_chargers import ChargePointPath
from mobility.api.operator_store import Operators
from mobility.api.pagination import Page, Paging
from mobility.api.problems import Problem
from mobility.charging.management_store import SqlManagementStore

router = APIRouter()


def management_store(context: Context) -> SqlManagementStore:
    """The repositories on the engine's database."""
    return SqlManagementStore(context.charging.engine)


Management = Annotated[SqlManagementStore, Depends(management_store)]
Reader = Annotated[OperatorPrincipal, operator_with("chargers:read")]


async def _owned(store: Operators, caller: OperatorPrincipal, charge_point_id: str) -> None:
    if await asyncio.to_thread(store.charger, caller.operator_id, charge_point_id) is None:
        raise Problem(404, "Not found", f"no charge point {charge_point_id!r} of yours", "not-found")


class DeviceVariableOut(BaseModel):
    """One attribute of one variable as the charger last reported it; `key` is what
    `get_configuration` / `set_configuration` take (a 1.6 key has no component)."""

    key: str
    component: str
    component_instance: str | None
    evse_id: int | None
    connector_id: int | None
    variable: str
    variable_instance: str | None
    attribute_type: str
    value: str | None
    mutability: str | None
    data_type: str | None
    unit: str | None
    updated_at: datetime


class ReportOut(BaseModel):
    """A message the charger sent, kept: its action, status (for a security event its type) and
    request ID if it had them, and the payload as sent."""

    id: int
    action: str
    status: str | None
    request_id: int | None
    received_at: datetime
    payload: dict[str, Any]


class FirmwareUpdateOut(BaseModel):
    """An update asked for (`update_firmware`) and the last status the charger reported."""

    request_id: int
    location: str
    retrieve_at: datetime
    install_at: datetime | None
    signed: bool
    status: str
    status_at: datetime
    requested_at: datetime


class LogUploadOut(BaseModel):
    """A diagnostics or log request, its last reported status, and the file if it came
    (`download`: where to fetch it)."""

    request_id: int
    kind: str
    log_type: str | None
    status: str
    status_at: datetime
    requested_at: datetime
    expires_at: datetime
    file_name: str | None
    size: int | None
    uploaded_at: datetime | None
    download: str | None


@router.get("/chargers/{charge_point_id}/device-model", response_model=Page[DeviceVariableOut])
async def device_model(
    charge_point_id: ChargePointPath,
    caller: Reader,
    store: Operators,
    management: Management,
    paging: Paging,
    component: Annotated[
        str | None, Query(max_length=50, description='one component ("" for 1.6 keys)')
    ] = None,
) -> Page[DeviceVariableOut]:
    """The charger's device model as stored: every variable it reported (GetBaseReport's
    NotifyReport, GetVariables, SetVariables; on 1.6 GetConfiguration and ChangeConfiguration),
    by key."""
    await _owned(store, caller, charge_point_id)
    records, total = await asyncio.to_thread(
        management.variables, charge_point_id, component, paging.offset, paging.limit
    )
    items = [DeviceVariableOut.model_validate(record, from_attributes=True) for record in records]
    return Page.of(items, total, paging)


@router.get("/chargers/{charge_point_id}/reports", response_model=Page[ReportOut])
async def reports(
    charge_point_id: ChargePointPath,
    caller: Reader,
    store: Operators,
    management: Management,
    paging: Paging,
    action: Annotated[str | None, Query(max_length=64, description="e.g. SecurityEventNotification")] = None,
) -> Page[ReportOut]:
    """Messages the charger sent that the engine keeps, newest first."""
    await _owned(store, caller, charge_point_id)
    records, total = await asyncio.to_thread(
        management.reports, charge_point_id, action, paging.offset, paging.limit
    )
    items = [
        ReportOut(
            id=record.id or 0,
            action=record.action,
            status=record.status,
            request_id=record.request_id,
            received_at=record.received_at,
            payload=json.loads(record.payload),
        )
        for record in records
    ]
    return Page.of(items, total, paging)


@router.get("/chargers/{charge_point_id}/firmware", response_model=Page[FirmwareUpdateOut])
async def firmware(
    charge_point_id: ChargePointPath, caller: Reader, store: Operators, management: Management, paging: Paging
) -> Page[FirmwareUpdateOut]:
    """Firmware updates asked of the charger, newest first, each with its last status."""
    await _owned(store, caller, charge_point_id)
    records, total = await asyncio.to_thread(
        management.firmware_updates, charge_point_id, paging.offset, paging.limit
    )
    items = [
        FirmwareUpdateOut.model_validate({**record.model_dump(), "request_id": record.id})
        for record in records
    ]
    return Page.of(items, total, paging)


@router.get("/chargers/{charge_point_id}/logs", response_model=Page[LogUploadOut])
async def logs(
    charge_point_id: ChargePointPath, caller: Reader, store: Operators, management: Management, paging: Paging
) -> Page[LogUploadOut]:
    """Diagnostics and log requests, newest first, with their status and file."""
    await _owned(store, caller, charge_point_id)
    records, total = await asyncio.to_thread(
        management.log_uploads, charge_point_id, paging.offset, paging.limit
    )
    items = [
        LogUploadOut(
            request_id=record.id or 0,
            kind=record.kind,
            log_type=record.log_type,
            status=record.status,
            status_at=record.status_at,
            requested_at=record.requested_at,
            expires_at=record.expires_at,
            file_name=record.file_name,
            size=record.size,
            uploaded_at=record.uploaded_at,
            download=f"/operator/chargers/{charge_point_id}/logs/{record.id}/file"
            if record.uploaded_at
            else None,
        )
        for record in records
    ]
    return Page.of(items, total, paging)


@router.get(
    "/chargers/{charge_point_id}/logs/{request_id}/file",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the uploaded file"}},
)
async def log_file(
    charge_point_id: ChargePointPath,
    request_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    caller: Reader,
    store: Operators,
    management: Management,
) -> Response:
    """The file the charger uploaded for this request (404 until it came)."""
    await _owned(store, caller, charge_point_id)
    record = await asyncio.to_thread(management.log_file, charge_point_id, request_id)
    if record is None or record.content is None:
        raise Problem(404, "Not found", f"no uploaded file for request {request_id}", "not-found")
    name = (record.file_name or f"log-{request_id}").replace('"', "")
    return Response(
        content=record.content,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
