"""The fleet's live stream: a websocket at `/fleet/stream`, for the fleet's payment wallet.

It authenticates with the fleet's API key, as `?token=mob_...` or as the first message
`{"type": "auth", "token": "mob_..."}` (like the driver stream: websocket clients in browsers
cannot set headers). It then carries what the driver stream carries, for the fleet's account:
the RFID sessions its vehicles charge on the fleet's channels, the payment layer's requests for
those channels, and verdicts on the vouchers the fleet sends (see `mobility.api.payer_stream`).
Vouchers for channels that are not the fleet's are refused.

A key with `fleet:read` may watch; paying needs `fleet:write` (vouchers on a read-only stream
are refused with reason "forbidden"). The key is checked when the stream opens. Failures close
with 4401 (no valid key) or 4403 (a driver token, an operator key, or no `fleet:read`): the key
is read as the fleet routes read it (`context.api_key_of`).
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from mobility.api import payer_stream
from mobility.api.context import ApiContext, api_key_of, require_scope

router = APIRouter(tags=["fleet"])  # included under /fleet by `fleet.router`


async def _fleet(context: ApiContext, token: str) -> tuple[str, str | None]:
    _, account_id, scopes = await api_key_of(context, token, "fleet")
    require_scope(scopes, "fleet:read")
    return account_id, None if "fleet:write" in scopes else "this API key lacks the scope 'fleet:write'"


@router.websocket("/stream")
async def stream(websocket: WebSocket, token: str | None = None) -> None:
    """Live sessions and payment requests for the fleet's channels; vouchers in, verdicts out."""
    await payer_stream.open_stream(websocket, token, _fleet)
