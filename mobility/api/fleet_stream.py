"""The fleet's live stream: a websocket at `/fleet/stream`, for the fleet's payment wallet.

It authenticates with the fleet's API key, as `?token=mob_...` or as the first message
`{"type": "auth", "token": "mob_..."}` (like the driver stream: websocket clients in browsers
cannot set headers). It then carries what the driver stream carries, for the fleet's account:
the RFID sessions its vehicles charge on the fleet's channels, the payment layer's requests for
those channels, and verdicts on the vouchers the fleet sends (see `mobility.api.payer_stream`).
Vouchers for channels that are not the fleet's are refused.

A key with `fleet:read` may watch; paying needs `fleet:write` (vouchers on a read-only stream
are refused with reason "forbidden"). The key is checked when the stream opens. Failures close
with 4401 (no valid key) or 4403 (a driver token, an operator key, or no `fleet:read`).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, WebSocket

from mobility.api import payer_stream
from mobility.api.context import ApiContext

router = APIRouter(tags=["fleet"])  # included under /fleet by `fleet.router`


@router.websocket("/stream")
async def stream(websocket: WebSocket, token: str | None = None) -> None:
    """Live sessions and payment requests for the fleet's channels; vouchers in, verdicts out."""
    context: ApiContext = websocket.app.state.context
    token = await payer_stream.accept_with_token(websocket, token)
    if token is None:
        return
    if context.tokens.verify(token) is not None:
        await websocket.close(4403, "fleet API key needed")
        return
    record = await asyncio.to_thread(context.api_store.api_key, token)
    if record is None:
        await websocket.close(4401, "invalid or revoked API key")
        return
    scopes = set(record.scopes.split())
    if record.role != "fleet" or "fleet:read" not in scopes:
        await websocket.close(4403, "fleet API key with fleet:read needed")
        return
    refusal = None if "fleet:write" in scopes else "this API key lacks the scope 'fleet:write'"
    await payer_stream.serve(websocket, record.tenant_id, refusal)
