"""The node's HTTP API under `/ledger/`: info, submit, remote PoW, blocks, tips, milestones,
outputs, channels and inclusion proofs.

Handlers that touch the database or mine are plain `def` (FastAPI runs them in its thread
pool) or hand the work to a thread, so the event loop never waits on disk or CPU.
"""

from __future__ import annotations

import math
import random
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse

import pow_rs
from mobility.http_body import read_at_most
from mobility.ledger.api.remote_pow import RemotePow
from mobility.ledger.api.views import NodeViews
from mobility.ledger.node import Node
from mobility.ledger.validation import BlockRejectedError
from mobility.offload import BusyError
from mobility.wire.codec import MAX_BLOCK_LENGTH, CodecError, Ed25519Address
from mobility.wire.ledger_api import (
    Balance,
    BlockIdPage,
    BlockIds,
    BlockMetadataOut,
    ChannelOut,
    InclusionProofOut,
    MilestoneInfo,
    NodeInfo,
    Rejection,
    SubmitJson,
    Submitted,
)

_T = TypeVar("_T")
OCTET_STREAM = "application/octet-stream"
HexId = Annotated[str, Path(pattern="^[0-9a-fA-F]{64}$", description="32-byte ID in hex")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=2**31, description="Items to skip.")]
JSON_OVERHEAD = 64  # `{"block": "..."}` around a block's hex, with some whitespace
BLOCK_ROUTES = ("/ledger/blocks", "/ledger/blocks/pow")


def block_body_limit(content_type: str, block_limit: int = MAX_BLOCK_LENGTH) -> int:
    """The most a block route reads: the block's bytes, or its hex in JSON."""
    if content_type.startswith("application/json"):
        return 2 * block_limit + JSON_OVERHEAD
    return block_limit


_BLOCK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": SubmitJson.model_json_schema()},
        },
    }
}
_REJECTED: dict[int | str, dict[str, Any]] = {400: {"model": Rejection, "description": "block rejected"}}
_SUBMIT: dict[str, Any] = {
    "response_model": Submitted,
    "status_code": 201,
    "openapi_extra": _BLOCK_BODY,
    "responses": _REJECTED,
}
_RAW: dict[int | str, dict[str, Any]] = {200: {"content": {OCTET_STREAM: {}}}}
_POW_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_REJECTED,
    403: {"description": "this node does not mine for clients"},
    413: {"description": "the block is larger than the node mines"},
    429: {"description": "too many requests from this address"},
    503: {"description": "the miner is busy"},
}


def _rejected(error: BlockRejectedError) -> JSONResponse:
    body = Rejection(reason=error.reason.value, detail=error.detail)
    return JSONResponse(status_code=400, content=body.model_dump())


def _found(value: _T | None, what: str) -> _T:
    if value is None:
        raise HTTPException(404, f"unknown {what}")
    return value


async def _body_bytes(request: Request, block_limit: int = MAX_BLOCK_LENGTH) -> bytes:
    """Raw bytes of an octet-stream body, or the hex `block` of a JSON body, of a block of at
    most `block_limit` bytes (413 over it, before reading what is declared longer)."""
    content_type = request.headers.get("content-type", "")
    body = await read_at_most(request, block_body_limit(content_type, block_limit))
    if content_type.startswith("application/json"):
        try:
            return bytes.fromhex(SubmitJson.model_validate_json(body).block)
        except ValueError as error:
            raise HTTPException(422, f"invalid JSON block: {error}") from error
    return body


def create_ledger_router(
    node: Node, rng: random.Random | None = None, pow_policy: RemotePow | None = None
) -> APIRouter:
    """The `/ledger` routes, bound to one node; remote PoW by `pow_policy`, else on the
    development network only."""
    router = APIRouter(prefix="/ledger", tags=["ledger"])
    pow_policy = pow_policy or RemotePow.default_for(node.params.network_name)
    views = NodeViews(node, rng)
    hrp = node.params.bech32_hrp

    def parse_address(text: str) -> Ed25519Address:
        try:
            prefix, data = pow_rs.bech32_decode(text)
            if prefix != hrp:
                raise ValueError(f"expected hrp {hrp!r}")
            return Ed25519Address.from_bytes(data)
        except (ValueError, CodecError) as error:
            raise HTTPException(422, f"invalid address: {error}") from error

    @router.get("/info", response_model=NodeInfo)
    def info() -> NodeInfo:
        """Network parameters and the latest applied milestone."""
        return views.info()

    @router.post("/blocks", **_SUBMIT)
    async def submit(request: Request) -> Any:
        """Submit a block (octet-stream bytes, or JSON `{"block": hex}`); answers its block ID."""
        data = await _body_bytes(request)
        try:
            return await views.submit_async(data)
        except BlockRejectedError as error:
            return _rejected(error)

    @router.post("/blocks/pow", **{**_SUBMIT, "responses": _POW_REFUSALS})
    async def remote_pow(request: Request) -> Any:
        """For light clients: a block without its 8-byte nonce; the node mines it and submits it
        (where it mines for clients at all: see the node's remote-PoW policy)."""
        if not pow_policy.enabled:
            raise HTTPException(403, "this node does not mine for clients: send a mined block")
        address = request.client.host if request.client else "unknown"
        retry = pow_policy.limiter.hit(address)
        if retry is not None:
            raise HTTPException(429, "too many remote-PoW requests", {"Retry-After": str(math.ceil(retry))})
        data = await _body_bytes(request, pow_policy.max_bytes)
        try:
            return await pow_policy.miners.run(views.mine_and_submit, data, 1)
        except BusyError as error:
            raise HTTPException(503, "the miner is busy: try again", {"Retry-After": "1"}) from error
        except CodecError as error:
            raise HTTPException(400, str(error)) from error
        except BlockRejectedError as error:
            return _rejected(error)

    @router.get("/blocks/{block_id}", response_class=Response, responses=_RAW)
    def block(block_id: HexId) -> Response:
        """The block's bytes exactly as received."""
        data = _found(node.store.block_bytes(bytes.fromhex(block_id)), "block")
        return Response(content=data, media_type=OCTET_STREAM)

    @router.get("/blocks/{block_id}/metadata", response_model=BlockMetadataOut)
    def metadata(block_id: HexId) -> BlockMetadataOut:
        """Solid state, referencing milestone and conflict reason."""
        return _found(views.metadata(bytes.fromhex(block_id)), "block")

    @router.get("/blocks/{block_id}/children", response_model=BlockIdPage)
    def children(block_id: HexId, limit: Limit = 100, offset: Offset = 0) -> BlockIdPage:
        """Stored blocks approving this one, in ID order, a page at a time."""
        children = node.store.children(bytes.fromhex(block_id))
        page = [child.hex() for child in children[offset : offset + limit]]
        return BlockIdPage(block_ids=page, total=len(children), limit=limit, offset=offset)

    @router.get("/blocks/{block_id}/inclusion-proof", response_model=InclusionProofOut)
    def inclusion_proof(block_id: HexId) -> InclusionProofOut:
        """Audit path of the block under its milestone's inclusion Merkle root (TIP-4)."""
        return _found(views.inclusion_proof(bytes.fromhex(block_id)), "referenced block")

    @router.get("/tips", response_model=BlockIds)
    def tips() -> BlockIds:
        """Up to 8 parents for a new block: non-lazy tips chosen uniformly at random (TIP-3)."""
        return BlockIds(block_ids=[tip.hex() for tip in views.tips()])

    @router.get("/milestones/{index}", response_model=MilestoneInfo)
    def milestone(
        index: Annotated[int, Path(ge=0, le=2**32 - 1, description="A u32 index.")],
    ) -> MilestoneInfo:
        """An applied milestone by index."""
        return _found(views.milestone(index), "milestone")

    @router.get("/addresses/{address}/balance", response_model=Balance)
    def balance(address: str, limit: Limit = 1000, offset: Offset = 0) -> Balance:
        """Confirmed balance, and a page of its unspent outputs (basic outputs; channels it pays
        into)."""
        return views.balance(parse_address(address), limit, offset)

    @router.get("/channels/{channel_id}", response_model=ChannelOut)
    def channel(channel_id: HexId) -> ChannelOut:
        """The open channel with this ID, as confirmed."""
        return _found(views.channel(bytes.fromhex(channel_id)), "channel")

    return router
