"""Errors as RFC 9457 problem details (`application/problem+json`), for every route."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):  # noqa: N818  (named after what it renders: an RFC 9457 problem)
    """Raise from a route to answer with a problem document.

    `kind` becomes the problem `type` (`urn:mobility:problem:<kind>`) so clients can branch on
    it without parsing `detail`, which is written for people.
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind
        self.headers = headers
        self.extra = extra


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem document for `request`."""
    body: dict[str, Any] = {
        "type": f"urn:mobility:problem:{kind}" if kind else "about:blank",
        "title": title,
        "status": status,
        "instance": request.url.path,
        **extra,
    }
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _titles(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _too_large(request: Request, exc: HTTPException) -> JSONResponse:
    """A body over its route's limit (`mobility.http_body.BodyTooLargeError` names it)."""
    limit = getattr(exc, "max_bytes", None)
    detail = f"this route takes at most {limit} bytes" if limit is not None else None
    headers = {"Connection": "close"}  # the rest of the body is not read
    return problem_response(
        request, 413, "Content too large", detail, "body-too-large", headers, max_bytes=limit
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Answer raised `Problem`s, HTTP errors and validation errors as problem documents."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            request, exc.status, exc.title, exc.detail, exc.kind, exc.headers, **exc.extra
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 413:
            return _too_large(request, exc)
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(
            request, exc.status_code, _titles(exc.status_code), detail, headers=dict(exc.headers or {})
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(error.get("loc", ())), "msg": str(error.get("msg", "")), "type": error.get("type")}
            for error in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        return problem_response(request, 422, "Invalid request", detail, "invalid-request", errors=errors)
