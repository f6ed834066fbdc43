"""The node's HTTP API under `/ledger/`: info, submit, remote PoW, blocks, tips, milestones,
outputs, channels and inclusion proofs.

Handlers that touch the database or mine are plain `def` (FastAPI runs them in its thread
pool) or hand the work to a thread, so the event loop never waits on disk or CPU.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response
from fastapi.responses import JSONResponse

import pow_rs
from mobility.ledger.api.schemas import (
    Balance,
    BlockIds,
    BlockMetadataOut,
    ChannelOut,
    InclusionProofOut,
    MilestoneInfo,
    NodeInfo,
    OutputOut,
    Rejection,
    SubmitJson,
    Submitted,
)
from mobility.ledger.codec import Block, CodecError, Ed25519Address
from mobility.ledger.models import MilestoneRecord
from mobility.ledger.node import Node
from mobility.ledger.tipselect import select_parents
from mobility.ledger.validation import BlockRejectedError

OCTET_STREAM = "application/octet-stream"
HexId = Annotated[str, Path(pattern="^[0-9a-fA-F]{64}$", description="32-byte ID in hex")]
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


def _milestone(record: MilestoneRecord) -> MilestoneInfo:
    return MilestoneInfo(
        index=record.milestone_index,
        milestone_id=record.milestone_id.hex(),
        block_id=record.block_id.hex(),
        timestamp=record.timestamp,
        inclusion_merkle_root=record.inclusion_merkle_root.hex(),
        applied_merkle_root=record.applied_merkle_root.hex(),
        referenced_count=record.referenced_count,
        applied_count=record.applied_count,
    )


def _rejected(error: BlockRejectedError) -> JSONResponse:
    return JSONResponse(
        status_code=400, content=Rejection(reason=error.reason.value, detail=error.detail).model_dump()
    )


async def _body_bytes(request: Request) -> bytes:
    """Raw bytes of an octet-stream body, or the hex `block` of a JSON body."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            return bytes.fromhex(SubmitJson.model_validate_json(body).block)
        except ValueError as error:
            raise HTTPException(422, f"invalid JSON block: {error}") from error
    return body


def create_ledger_router(node: Node, rng: random.Random | None = None) -> APIRouter:
    """The `/ledger` routes, bound to one node."""
    router = APIRouter(prefix="/ledger", tags=["ledger"])
    store = node.store
    params = node.params
    tip_rng = rng or random.Random()

    def address_bytes(text: str) -> bytes:
        try:
            hrp, data = pow_rs.bech32_decode(text)
            if hrp != params.bech32_hrp:
                raise ValueError(f"expected hrp {params.bech32_hrp!r}")
            return Ed25519Address.from_bytes(data).to_bytes()
        except (ValueError, CodecError) as error:
            raise HTTPException(422, f"invalid address: {error}") from error

    @router.get("/info", response_model=NodeInfo)
    def info() -> NodeInfo:
        """Network parameters and the latest applied milestone."""
        latest = store.latest_milestone()
        return NodeInfo(
            network_name=params.network_name,
            network_id=params.network_id,
            protocol_version=params.protocol_version,
            min_pow_score=params.min_pow_score,
            bech32_hrp=params.bech32_hrp,
            token_supply=params.token_supply,
            coordinator_public_keys=sorted(key.hex() for key in params.coordinator_public_keys),
            coordinator_threshold=params.coordinator_threshold,
            latest_milestone=_milestone(latest) if latest is not None else None,
        )

    @router.post("/blocks", **_SUBMIT)
    async def submit(request: Request) -> Any:
        """Submit a block (octet-stream bytes, or JSON `{"block": hex}`); answers its block ID."""
        data = await _body_bytes(request)
        try:
            result = await asyncio.to_thread(node.submit, data)
        except BlockRejectedError as error:
            return _rejected(error)
        return Submitted(block_id=result.block_id.hex(), solid=result.solid, created=result.created)

    @router.post("/blocks/pow", **_SUBMIT)
    async def remote_pow(request: Request) -> Any:
        """For light clients: a block without its 8-byte nonce; the node mines it and submits it."""
        data = await _body_bytes(request)
        try:
            block = Block.from_bytes(data + bytes(8))
        except CodecError as error:
            raise HTTPException(400, str(error)) from error

        def mine_and_submit() -> Any:
            nonce = pow_rs.mine(block.bytes_without_nonce(), params.min_pow_score, timeout=60.0)
            return node.submit(replace(block, nonce=nonce).to_bytes())

        try:
            result = await asyncio.to_thread(mine_and_submit)
        except BlockRejectedError as error:
            return _rejected(error)
        return Submitted(block_id=result.block_id.hex(), solid=result.solid, created=result.created)

    @router.get(
        "/blocks/{block_id}", response_class=Response, responses={200: {"content": {OCTET_STREAM: {}}}}
    )
    def block(block_id: HexId) -> Response:
        """The block's bytes exactly as received."""
        data = store.block_bytes(bytes.fromhex(block_id))
        if data is None:
            raise HTTPException(404, "unknown block")
        return Response(content=data, media_type=OCTET_STREAM)

    @router.get("/blocks/{block_id}/metadata", response_model=BlockMetadataOut)
    def metadata(block_id: HexId) -> BlockMetadataOut:
        """Solid state, referencing milestone and conflict reason."""
        meta = store.metadata(bytes.fromhex(block_id))
        if meta is None:
            raise HTTPException(404, "unknown block")
        return BlockMetadataOut(
            block_id=meta.block_id.hex(),
            parents=[parent.hex() for parent in meta.parents],
            received_at=meta.received_at.isoformat(),
            solid=meta.solid,
            milestone_index=meta.milestone_index,
            conflict_reason=meta.conflict_reason,
        )

    @router.get("/blocks/{block_id}/children", response_model=BlockIds)
    def children(block_id: HexId) -> BlockIds:
        """Stored blocks approving this one."""
        return BlockIds(block_ids=[child.hex() for child in store.children(bytes.fromhex(block_id))])

    @router.get("/blocks/{block_id}/inclusion-proof", response_model=InclusionProofOut)
    def inclusion_proof(block_id: HexId) -> InclusionProofOut:
        """Audit path of the block under its milestone's inclusion Merkle root (TIP-4)."""
        proof = store.inclusion_proof(bytes.fromhex(block_id))
        if proof is None:
            raise HTTPException(404, "block not referenced by a milestone")
        return InclusionProofOut(
            block_id=proof.block_id.hex(),
            milestone_index=proof.milestone_index,
            milestone_id=proof.milestone_id.hex(),
            inclusion_merkle_root=proof.inclusion_merkle_root.hex(),
            index=proof.index,
            count=proof.count,
            path=[step.hex() for step in proof.path],
        )

    @router.get("/tips", response_model=BlockIds)
    def tips() -> BlockIds:
        """Up to 8 parents for a new block: non-lazy tips chosen uniformly at random (TIP-3)."""
        return BlockIds(block_ids=[tip.hex() for tip in select_parents(store, tip_rng)])

    @router.get("/milestones/{index}", response_model=MilestoneInfo)
    def milestone(index: int) -> MilestoneInfo:
        """An applied milestone by index."""
        record = store.milestone(index)
        if record is None:
            raise HTTPException(404, "unknown milestone")
        return _milestone(record)

    @router.get("/addresses/{address}/balance", response_model=Balance)
    def balance(address: str) -> Balance:
        """Confirmed balance and unspent outputs (basic outputs; channels it pays into)."""
        raw = address_bytes(address)
        outputs = [
            OutputOut(
                output_id=output_id.hex(),
                output_type=output.TYPE,
                amount=output.value,
                output=output.to_bytes().hex(),
            )
            for output_id, output in store.outputs_of(raw)
        ]
        return Balance(address=address, balance=store.balance(raw), outputs=outputs)

    @router.get("/channels/{channel_id}", response_model=ChannelOut)
    def channel(channel_id: HexId) -> ChannelOut:
        """The open channel with this ID, as confirmed."""
        found = store.channel(bytes.fromhex(channel_id))
        if found is None:
            raise HTTPException(404, "no open channel with this ID")
        output_id, output = found
        return ChannelOut(
            channel_id=channel_id.lower(),
            output_id=output_id.hex(),
            payer=output.payer.bech32(params.bech32_hrp),
            payee=output.payee.bech32(params.bech32_hrp),
            deposit=output.deposit,
            claimed=output.claimed,
            expiry=output.expiry,
            settle_deadline=output.settle_deadline,
        )

    return router
