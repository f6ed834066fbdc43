"""Response models that more than one audience's routes share."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ConnectorOut(BaseModel):
    """A connector's (2.x: EVSE's) last reported status, in OCPP's status names."""

    connector_id: int
    status: str
    error_code: str | None
    updated_at: datetime
