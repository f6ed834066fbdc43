"""The node's intake: validate submitted blocks, then store them (and solidify what they can).

Arrival checks are split the Stardust way. Everything about the block itself, and whether a
transaction is authorized and balanced, is checked here and a failure rejects the block.
Whether a transaction conflicts (its input already spent) is the confirmation's job: white-flag
ordering decides which spend wins, and the loser stays in the tangle marked conflicting.
A transaction whose inputs the node does not know yet (their block has not arrived) is held
like any unsolid block; its authorization is then checked at confirmation.

Blocks held for parents that never come are pruned (`held.py`): at most `HeldLimits.max_count`
are kept, none longer than `HeldLimits.max_age`; checked in the ingest transaction of a batch
that holds a block, and of every batch while any is held.

`submit_many` takes several blocks at once (a gossip burst, or HTTP submits that arrived
together) and stores the accepted ones in one database transaction: the per-block cost of
ingest was the database round trips and the commit, not the checks (see the README's
Benchmarks). `submit` is `submit_many` of one block.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from mobility.group_commit import GroupCommit
from mobility.ledger.held import HeldLimits
from mobility.ledger.params import NetworkParams
from mobility.ledger.store import LedgerStore
from mobility.ledger.validation import check_block, check_transaction_inputs
from mobility.wire.codec import Block, Output, TransactionPayload, output_id
from mobility.wire.rejections import BlockRejectedError


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """An accepted block: its ID, and whether it is solid and was new."""

    block_id: bytes
    created: bool
    solid: bool
    inputs_checked: bool


class Node:
    """Validation in front of storage; synchronous, so async callers use `asyncio.to_thread`."""

    def __init__(self, store: LedgerStore, params: NetworkParams, held: HeldLimits | None = None) -> None:
        self.store = store
        self.params = params
        self.held_limits = held or HeldLimits()
        # Whether blocks may be held (unknown at start): pruning runs only then, so a node with
        # nothing held spends no query on it.
        self._held_left = True
        # A solid milestone may be stored but not applied yet (the process stopped in between):
        # the first intake looks for one; after that only a milestone becoming solid can start one.
        self._milestones_unchecked = True
        self._groups: dict[
            asyncio.AbstractEventLoop, GroupCommit[bytes, SubmitResult | BlockRejectedError]
        ] = {}

    def apply_pending_milestones(self) -> None:
        """Apply every stored solid milestone not applied yet, in index order.

        Intake calls it when a milestone block becomes solid. At start-up a milestone may be
        stored but not applied (the process stopped in between): `open_node` calls it then,
        and the first intake does if nobody did.
        """
        self.store.apply_next_milestones(self.params)
        self._milestones_unchecked = False

    async def submit_async(self, data: bytes) -> SubmitResult:
        """`submit` for async callers (the API, the in-process client): blocks submitted while
        a batch is being written share the next `submit_many`, one transaction for all (group
        commit), and each caller hears of its block only after that commit. One caller alone
        pays what `submit` pays; a hundred concurrent ones pay about one commit between them.
        """
        loop = asyncio.get_running_loop()
        group = self._groups.get(loop)
        if group is None:
            # One per event loop: a batch's futures belong to the loop that awaits them.
            for stale in [other for other in self._groups if other.is_closed()]:
                del self._groups[stale]
            group = self._groups[loop] = GroupCommit(self.submit_many)
        result = await group.submit(data)
        if isinstance(result, BlockRejectedError):
            raise result
        return result

    def submit(self, data: bytes) -> SubmitResult:
        """Validate and store `data`; raises `BlockRejectedError` for a block the node refuses.

        Returns only after the block is committed, so an acknowledged block is durable. If the
        block made a milestone solid, that milestone (and any following) is applied first.
        """
        (result,) = self.submit_many([data])
        if isinstance(result, BlockRejectedError):
            raise result
        return result

    def submit_many(self, blocks: Sequence[bytes]) -> list[SubmitResult | BlockRejectedError]:
        """Validate each block, store the accepted ones together; a result or a rejection each.

        The outcome is that of `submit` on each block in order: a transaction may spend an
        output of an earlier block of the batch, and a rejected block changes nothing. Returns
        after the one commit, so every accepted block is durable when the caller hears of it.
        """
        results: list[SubmitResult | BlockRejectedError | None] = [None] * len(blocks)
        checked: list[Block | None] = []
        for index, data in enumerate(blocks):
            try:
                checked.append(check_block(data, self.params))
            except BlockRejectedError as error:
                results[index] = error
                checked.append(None)
        wanted = {
            item.output_id
            for block in checked
            if block is not None and isinstance(block.payload, TransactionPayload)
            for item in block.payload.essence.inputs
        }
        # The inputs are read in the transaction that stores the batch: one transaction a batch.
        with self.store.ingesting() as batch:
            known: dict[bytes, Output] = batch.outputs(wanted) if wanted else {}
            accepted: list[tuple[int, Block, bytes, bool]] = []
            for index, (data, block) in enumerate(zip(blocks, checked, strict=True)):
                if block is None:
                    continue
                inputs_checked = False
                payload = block.payload
                if isinstance(payload, TransactionPayload):
                    if all(item.output_id in known for item in payload.essence.inputs):
                        try:
                            check_transaction_inputs(payload, known.get, self.params)
                        except BlockRejectedError as error:
                            results[index] = error
                            continue
                        inputs_checked = True
                    # Stored, the transaction's outputs are known to the blocks after it.
                    transaction_id = payload.transaction_id
                    for position, output in enumerate(payload.essence.outputs):
                        known.setdefault(output_id(transaction_id, position), output)
                accepted.append((index, block, data, inputs_checked))
            stored = batch.put_blocks([(block, data) for _, block, data, _ in accepted])
            if self._held_left or any(not put.solid for put in stored):
                self._held_left = batch.prune_held(self.held_limits).remaining > 0
        for (index, _, _, inputs_checked), put in zip(accepted, stored, strict=True):
            results[index] = SubmitResult(put.block_id, put.created, put.solid, inputs_checked)
        if self._milestones_unchecked or any(put.milestone_solid for put in stored):
            self.apply_pending_milestones()
        return [result for result in results if result is not None]
