"""Request bodies read with a limit: over it is a 413 that names the limit.

Shared by the API's body-limit middleware (`mobility/api/body_limit.py`) and the ledger's
block routes, which hold an octet-stream block to its own 32 KiB within the route's limit.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request


class BodyTooLargeError(HTTPException):
    """413: the body is over `max_bytes` (an `HTTPException`, so FastAPI's body parsing passes
    it on to the app's handlers instead of turning it into a 400)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"this route takes at most {max_bytes} bytes")
        self.max_bytes = max_bytes


async def read_at_most(request: Request, limit: int) -> bytes:
    """The body, refused on a declared length over `limit` before any of it is read, or once a
    streamed (chunked) one passes it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(limit)
        chunks.append(chunk)
    return b"".join(chunks)
