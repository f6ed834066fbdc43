"""Where chargers upload diagnostics and logs: `PUT` or `POST /ocpp-uploads/{token}[/{name}]`.

The token in the URL is the only credential (chargers upload with no API key): a random 256-bit
value made for one request (`ocpp_server/management/diagnostics.py`), of which the engine keeps
only the SHA-256, accepted once and until it expires. Bodies are bounded
(`UPLOAD_BODY_MAX`, `limits.py`); a multipart form's first file part is taken, any other body
as the file itself. Why the stdlib's email parser for multipart: `python-multipart` is not a
dependency and one file part needs no more.
"""

from __future__ import annotations

import asyncio
import logging
import re
from email.parser import BytesParser
from email.policy import HTTP
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from starlette.requests import ClientDisconnect

from mobility.api.context import Context
from mobility.api.problems import Problem
from mobility.charging.management_models import UploadOutcome
from mobility.charging.management_store import SqlManagementStore
from ocpp_server.management.diagnostics import token_hash

LOGGER = logging.getLogger(__name__)
router = APIRouter(prefix="/ocpp-uploads", tags=["chargers"])
Token = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
FileName = Annotated[str, Path(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._-]+$")]
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def _file_of(body: bytes, content_type: str, name: str) -> tuple[str, str, bytes]:
    """(file name, content type, content) out of a raw or multipart body."""
    if not content_type.lower().startswith("multipart/form-data"):
        return name, content_type or "application/octet-stream", body
    header = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(header + body)
    for part in message.iter_parts():
        filename = part.get_filename()
        if filename:
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
            return SAFE_NAME.sub("_", filename)[:255], part.get_content_type(), content
    raise Problem(422, "Invalid request", "the form holds no file", "no-file")


async def _receive(context: Context, request: Request, token: str, name: str) -> Response:
    try:
        body = await request.body()
    except ClientDisconnect:
        # The charger gave up mid-upload; it reports UploadFailed and nobody reads an answer.
        LOGGER.info("an upload to /ocpp-uploads/ was cut off by the charger")
        return Response(status_code=status.HTTP_400_BAD_REQUEST)
    file_name, content_type, content = _file_of(body, request.headers.get("content-type", ""), name)
    store = SqlManagementStore(context.charging.engine)
    outcome = await asyncio.to_thread(
        store.receive_log_file, token_hash(token), file_name, content_type[:100], content, context.clock()
    )
    if outcome is UploadOutcome.STORED:
        return Response(status_code=status.HTTP_201_CREATED)
    if outcome is UploadOutcome.ALREADY:
        raise Problem(409, "Conflict", "a file was uploaded for this request already", "already-uploaded")
    # Unknown and expired look the same: the token names nothing one may upload to.
    raise Problem(404, "Not found", "no upload is expected here", "not-found")


@router.api_route(
    "/{token}", methods=["PUT", "POST"], status_code=201, responses={201: {"description": "stored"}}
)
async def upload(token: Token, request: Request, context: Context) -> Response:
    """Upload the file asked for with this token (the body, or a form's file part)."""
    return await _receive(context, request, token, "upload.log")


@router.api_route(
    "/{token}/{file_name}",
    methods=["PUT", "POST"],
    status_code=201,
    responses={201: {"description": "stored"}},
)
async def upload_named(token: Token, file_name: FileName, request: Request, context: Context) -> Response:
    """The same, the file named in the path (chargers append the name to the location)."""
    return await _receive(context, request, token, file_name)
