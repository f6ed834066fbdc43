"""Operator routes for tariffs: create, version, read.

Posting a tariff ID creates its version 1 and makes it the caller's; posting it again adds
the next version. Versions are never edited, so a session priced with the version current at
its start (the payment layer's rule) keeps that price.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from mobility.api.auth import OperatorPrincipal
from mobility.api.context import Context, operator_with
from mobility.api.operator_chargers import PRINTABLE
from mobility.api.operator_store import Operators, TariffOwnedElsewhereError
from mobility.api.pagination import Page, Paging
from mobility.api.problems import Problem
from mobility.payments.models import TariffRecord
from mobility.payments.tariff import Tariff, TariffIn

router = APIRouter()

TariffPath = Annotated[str, Path(min_length=1, max_length=36, pattern=PRINTABLE)]
ATTEMPTS = 5  # concurrent posts of one tariff ID each retry with the next free version


class TariffVersionOut(BaseModel):
    """One stored version of a tariff."""

    id: str
    version: int
    created_at: datetime
    tariff: Tariff


class TariffSummary(BaseModel):
    """A tariff and its newest version."""

    id: str
    latest_version: int
    updated_at: datetime


def _version_out(record: TariffRecord) -> TariffVersionOut:
    tariff = Tariff.model_validate_json(record.body)
    return TariffVersionOut(id=record.id, version=record.version, created_at=record.created_at, tariff=tariff)


@router.post(
    "/tariffs",
    status_code=status.HTTP_201_CREATED,
    response_model=TariffVersionOut,
    responses={409: {"description": "another operator's tariff ID, or not the next version"}},
)
async def create_tariff_version(
    body: TariffIn,
    caller: Annotated[OperatorPrincipal, operator_with("tariffs")],
    context: Context,
    store: Operators,
    response: Response,
) -> TariffVersionOut:
    """Create a tariff (version 1) or its next version.

    Every price is at most 1,000 currency units (10^9 micro-units) per kWh, hour or session,
    VAT at most 100 %, a step at most 1 MWh or 10^6 s, at most 100 elements of at most 8
    components (422 beyond): bounds that keep any session's bill inside a signed 64-bit integer.

    `version` may be left out; when given it must be the next one, which makes a post that
    raced another one fail with 409 instead of silently adding a later version.
    """
    if not body.id.isprintable():
        raise Problem(422, "Invalid request", "id: no control characters", "invalid-request")
    payments = context.payment_store
    new_with_version = "version" in body.model_fields_set and body.version != 1
    if new_with_version and await asyncio.to_thread(payments.tariff, body.id) is None:
        raise Problem(409, "Conflict", f"{body.id!r} is a new tariff: version 1", "version-conflict")
    try:
        await asyncio.to_thread(store.claim_tariff, caller.operator_id, body.id)
    except TariffOwnedElsewhereError:
        raise Problem(
            409, "Conflict", f"tariff ID {body.id!r} belongs to someone else", "tariff-taken"
        ) from None
    for _ in range(ATTEMPTS):
        latest = await asyncio.to_thread(payments.tariff, body.id)
        version = latest.version + 1 if latest is not None else 1
        if "version" in body.model_fields_set and body.version != version:
            raise Problem(
                409, "Conflict", f"the next version of {body.id!r} is {version}", "version-conflict"
            )
        tariff = body.model_copy(update={"version": version})
        try:
            await asyncio.to_thread(payments.add_tariff, tariff, context.clock())
        except (ValueError, IntegrityError):
            continue  # another post took this version first
        break
    else:
        raise Problem(409, "Conflict", f"tariff {body.id!r} kept changing; try again", "version-conflict")
    versions = await asyncio.to_thread(store.tariff_versions, caller.operator_id, body.id)
    assert versions is not None
    response.headers["Location"] = f"/operator/tariffs/{quote(body.id, safe='')}"
    return _version_out(next(v for v in versions if v.version == version))


@router.get("/tariffs", response_model=Page[TariffSummary])
async def list_tariffs(
    caller: Annotated[OperatorPrincipal, operator_with("tariffs")], store: Operators, paging: Paging
) -> Page[TariffSummary]:
    """Your tariffs by ID, each with its newest version."""
    rows, total = await asyncio.to_thread(store.tariffs, caller.operator_id, paging)
    items = [TariffSummary(id=i, latest_version=v, updated_at=at) for i, v, at in rows]
    return Page.of(items, total, paging)


@router.get("/tariffs/{tariff_id}", response_model=Page[TariffVersionOut])
async def tariff_versions(
    tariff_id: TariffPath,
    caller: Annotated[OperatorPrincipal, operator_with("tariffs")],
    store: Operators,
    paging: Paging,
) -> Page[TariffVersionOut]:
    """Every version of one of your tariffs, oldest first."""
    versions = await asyncio.to_thread(store.tariff_versions, caller.operator_id, tariff_id)
    if versions is None:
        raise Problem(404, "Not found", f"no tariff {tariff_id!r} of yours", "not-found")
    return Page.slice([_version_out(v) for v in versions], paging)
