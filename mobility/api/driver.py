"""The driver routes (`/driver/...`)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/driver", tags=["driver"])
