"""The node's intake: validate a submitted block, then store it (and solidify what it can).

Arrival checks are split the Stardust way. Everything about the block itself, and whether a
transaction is authorized and balanced, is checked here and a failure rejects the block.
Whether a transaction conflicts (its input already spent) is the confirmation's job: white-flag
ordering decides which spend wins, and the loser stays in the tangle marked conflicting.
A transaction whose inputs the node does not know yet (their block has not arrived) is held
like any unsolid block; its authorization is then checked at confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass

from mobility.ledger.codec import TransactionPayload
from mobility.ledger.params import NetworkParams
from mobility.ledger.store import LedgerStore, PutResult
from mobility.ledger.validation import check_block, check_transaction_inputs


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """An accepted block: its ID, and whether it is solid and was new."""

    block_id: bytes
    created: bool
    solid: bool
    inputs_checked: bool


class Node:
    """Validation in front of storage; synchronous, so async callers use `asyncio.to_thread`."""

    def __init__(self, store: LedgerStore, params: NetworkParams) -> None:
        self.store = store
        self.params = params

    def submit(self, data: bytes) -> SubmitResult:
        """Validate and store `data`; raises `BlockRejectedError` for a block the node refuses.

        Returns only after the block is committed, so an acknowledged block is durable. If the
        block made a milestone solid, that milestone (and any following) is applied first.
        """
        block = check_block(data, self.params)
        inputs_checked = False
        if isinstance(block.payload, TransactionPayload):
            inputs = block.payload.essence.inputs
            if all(self.store.output(item.output_id) is not None for item in inputs):
                check_transaction_inputs(block.payload, self.store.output, self.params)
                inputs_checked = True
        result: PutResult = self.store.put_block(block, data)
        if result.solid:
            self.store.apply_next_milestones(self.params)
        return SubmitResult(result.block_id, result.created, result.solid, inputs_checked)
