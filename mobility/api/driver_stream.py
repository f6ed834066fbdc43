"""The driver's live stream: a websocket at `/driver/stream`.

Browsers cannot set headers on a websocket, so the bearer token comes as `?token=` or as the
first message `{"type": "auth", "token": ...}`. What the stream then carries (sessions,
payment requests, vouchers and their verdicts) is the same for every payer: see
`mobility.api.payer_stream`.

The token is checked when the stream opens (a stream outlives the token's 15 minutes; the
app logs in again only to reconnect), by the driver routes' reader (`context.driver_of`).
Authentication failures close with 4401 (no valid token) or 4403 (not a driver's token).
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from mobility.api import payer_stream
from mobility.api.context import ApiContext, driver_of

router = APIRouter(tags=["driver"])  # included under /driver by `driver.router`


async def _driver(context: ApiContext, token: str) -> tuple[str, str | None]:
    return driver_of(context, token).account_id, None


@router.websocket("/stream")
async def stream(websocket: WebSocket, token: str | None = None) -> None:
    """Live session updates and payment requests; vouchers in, their verdicts out."""
    await payer_stream.open_stream(websocket, token, _driver)
