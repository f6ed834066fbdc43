"""An ASGI middleware bounding request bodies per route, refusing with a 413 problem before the
body is read.

Why not a library: FastAPI's own `max_body_size` (0.165, on Starlette's
`RequestBodyLimitMiddleware`) replaces any answer to an over-long `Content-Length` with a
plain-text 413, so the API's errors could not stay RFC 9457 problems; content-size-limit-asgi
(last release 2020) has one global limit, no `Content-Length` check before reading, and raises
an exception the app would answer with a 500.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mobility.api.problems import problem_response
from mobility.http_body import BodyTooLargeError


class BodyLimitMiddleware:
    """At most `limit_for(path, content type)` bytes of body, counted as received.

    A declared length over the limit is answered at once and the app never runs; a streamed
    body raises `BodyTooLargeError` from `receive` once it passes the limit (the app's problem
    handler answers it, or this middleware if it gets out before an answer started).
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = self.limit_for(scope["path"], headers.get(b"content-type", b"").decode("latin-1"))
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received, started = 0, False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLargeError:
            if started:
                raise
            await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem_response(
            Request(scope),
            413,
            "Content too large",
            f"this route takes at most {limit} bytes",
            "body-too-large",
            # The rest of the body is not read: the connection cannot carry another request.
            {"Connection": "close"},
            max_bytes=limit,
        )
        await response(scope, receive, send)
