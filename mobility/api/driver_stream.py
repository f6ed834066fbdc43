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
from mobility.api.problems import Problem

router = APIRouter(tags=["driver"])  # included under /driver by `driver.router`


@router.websocket("/stream")
async def stream(websocket: WebSocket, token: str | None = None) -> None:
    """Live session updates and payment requests; vouchers in, their verdicts out."""
    context: ApiContext = websocket.app.state.context
    token = await payer_stream.accept_with_token(websocket, token)
    if token is None:
        return
    try:
        driver = driver_of(context, token)
    except Problem as problem:
        await payer_stream.refuse(websocket, problem)
        return
    await payer_stream.serve(websocket, driver.account_id)
