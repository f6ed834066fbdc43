"""How much a caller may send: request bodies per route and messages on the payer streams.

Bodies are bounded by `BodyLimitMiddleware` (`body_limit.py`): a declared `Content-Length`
over the route's limit is refused with a 413 problem before any of the body is read, and a
chunked body once it passes the limit. Stream messages are bounded by the HTTP server
(uvicorn's `ws_max_size`): a larger one closes the stream with 1009 before the app sees it.
"""

from __future__ import annotations

from mobility.ledger.api.routes import BLOCK_ROUTES, block_body_limit

JSON_BODY_MAX = 16 * 1024  # every JSON route's default; the largest legitimate body is ~1 KiB
TARIFF_BODY_MAX = 64 * 1024  # an OCPI tariff may carry many elements
# Messages on /driver/stream and /fleet/stream: an auth message (a token of at most 1,000
# characters) or a voucher (at most 400 hex characters); the only websocket routes of the API.
STREAM_MESSAGE_MAX = 8 * 1024
# A charger's diagnostics or log file (`ocpp_uploads.py`), kept in the database.
UPLOAD_BODY_MAX = 8 * 1024 * 1024
UPLOAD_PREFIX = "/ocpp-uploads/"

# Routes (by exact path) that take more than `JSON_BODY_MAX`; the ledger's block routes take a
# block (`body_limit`).
ROUTE_BODY_LIMITS: dict[str, int] = {"/operator/tariffs": TARIFF_BODY_MAX}


def body_limit(path: str, content_type: str) -> int:
    """The most a request to `path` with this `Content-Type` may carry."""
    if path in BLOCK_ROUTES:
        return block_body_limit(content_type)
    if path.startswith(UPLOAD_PREFIX):
        return UPLOAD_BODY_MAX
    return ROUTE_BODY_LIMITS.get(path, JSON_BODY_MAX)
