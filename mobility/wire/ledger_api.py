"""JSON shapes of the ledger API. IDs and raw bytes travel as lowercase hex; addresses as Bech32."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MilestoneInfo(BaseModel):
    """An applied milestone."""

    index: int
    milestone_id: str
    block_id: str
    timestamp: int = Field(description="Unix seconds, UTC")
    inclusion_merkle_root: str
    applied_merkle_root: str
    referenced_count: int
    applied_count: int


class NodeInfo(BaseModel):
    """Network parameters and where the node is."""

    network_name: str
    network_id: int
    protocol_version: int
    min_pow_score: float
    bech32_hrp: str
    token_supply: int
    coordinator_public_keys: list[str]
    coordinator_threshold: int
    latest_milestone: MilestoneInfo | None


class SubmitJson(BaseModel):
    """A block submitted as JSON: its bytes in hex."""

    block: str = Field(description="hex of the whole block, nonce included")


class Submitted(BaseModel):
    """An accepted block."""

    block_id: str
    solid: bool
    created: bool


class Rejection(BaseModel):
    """Why a block was refused."""

    reason: str
    detail: str


class BlockMetadataOut(BaseModel):
    """What the node knows about a block."""

    block_id: str
    parents: list[str]
    received_at: str
    solid: bool
    milestone_index: int | None
    conflict_reason: str | None


class BlockIds(BaseModel):
    """A list of block IDs."""

    block_ids: list[str]


class BlockIdPage(BlockIds):
    """One page of a longer list of block IDs (`?limit=&offset=`)."""

    total: int
    limit: int
    offset: int


class OutputOut(BaseModel):
    """One unspent output."""

    output_id: str
    output_type: int
    amount: int = Field(description="micro-units held on the ledger")
    output: str = Field(description="hex of the serialized output")


class Balance(BaseModel):
    """Confirmed spendable micro-units of an address."""

    address: str
    balance: int
    outputs: list[OutputOut] = Field(description="one page of the unspent outputs (`?limit=&offset=`)")
    outputs_total: int
    limit: int
    offset: int


class ChannelOut(BaseModel):
    """An open payment channel as the confirmed ledger holds it."""

    channel_id: str
    output_id: str
    payer: str
    payee: str
    deposit: int
    claimed: int
    expiry: int
    settle_deadline: int
    voucher_nonce: int
    output: str = Field(description="hex of the serialized channel output")


class InclusionProofOut(BaseModel):
    """Check with `pow_rs.merkle_verify(root, block_id, index, count, path)`."""

    block_id: str
    milestone_index: int
    milestone_id: str
    inclusion_merkle_root: str
    index: int
    count: int
    path: list[str]
