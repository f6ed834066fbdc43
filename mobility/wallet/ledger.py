"""A wallet: PyNaCl keys that build, sign and submit transfers and every channel transaction.

Client-side code, so signing uses PyNaCl as the design asks (the node verifies with pow_rs).
It spends only confirmed outputs; after submitting, `wait_for_confirmation` before the next
spend, or the two transactions may pick the same output and one will be marked conflicting.
Blocks are mined locally with `pow_rs.mine` in a thread, or by the node (`remote_pow=True`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import nacl.signing

import pow_rs
from mobility.wallet.ledger_client import LedgerClient
from mobility.wire.codec import (
    BasicOutput,
    Block,
    ChannelOutput,
    Ed25519Address,
    Output,
    ReferenceUnlock,
    SignatureUnlock,
    TaggedDataPayload,
    TransactionEssence,
    TransactionPayload,
    Unlock,
    UtxoInput,
    Voucher,
    VoucherPayload,
    output_from_bytes,
)
from mobility.wire.ledger_api import BlockMetadataOut, ChannelOut, NodeInfo


class WalletError(RuntimeError):
    """The wallet cannot do what was asked (not enough funds, no such channel, timeout)."""


def _input(output_id_hex: str) -> UtxoInput:
    raw = bytes.fromhex(output_id_hex)
    return UtxoInput(raw[:32], int.from_bytes(raw[32:], "little"))


class Wallet:
    """One Ed25519 key's view of the ledger, through any `LedgerClient`."""

    def __init__(self, client: LedgerClient, seed: bytes, remote_pow: bool = False) -> None:
        self.client = client
        self._key = nacl.signing.SigningKey(seed)
        self.public_key = bytes(self._key.verify_key)
        self.address = Ed25519Address.from_public_key(self.public_key)
        self.remote_pow = remote_pow
        self._info: NodeInfo | None = None
        self.last_transaction: TransactionPayload | None = None

    async def _network(self) -> NodeInfo:
        if self._info is None:
            self._info = await self.client.info()
        return self._info

    def _sign(self, message: bytes) -> bytes:
        return self._key.sign(message).signature

    async def balance(self) -> int:
        """Confirmed spendable micro-units."""
        return (await self.client.balance(self.address)).balance

    async def _funds(self, amount: int) -> tuple[list[UtxoInput], int]:
        """Confirmed basic outputs covering `amount`, and their total."""
        chosen: list[UtxoInput] = []
        total = 0
        for item in (await self.client.balance(self.address)).outputs:
            if total >= amount:
                break
            if item.output_type == BasicOutput.TYPE:
                chosen.append(_input(item.output_id))
                total += item.amount
        if total < amount:
            raise WalletError(f"needs {amount} micro-units, has {total} confirmed")
        return chosen, total

    async def _channel(self, channel_id: bytes) -> tuple[UtxoInput, ChannelOutput, ChannelOut]:
        found = await self.client.channel(channel_id)
        if found is None:
            raise WalletError(f"no open channel {channel_id.hex()}")
        output = output_from_bytes(bytes.fromhex(found.output))
        assert isinstance(output, ChannelOutput)
        return _input(found.output_id), replace(output, channel_id=channel_id), found

    async def _build(
        self,
        inputs: Sequence[UtxoInput],
        outputs: Sequence[Output],
        payload: TaggedDataPayload | VoucherPayload | None = None,
    ) -> Block:
        """Sign (one signature, references for the other inputs) and attach to current tips."""
        info = await self._network()
        essence = TransactionEssence(info.network_id, tuple(inputs), tuple(outputs), payload)
        signature = SignatureUnlock(self.public_key, self._sign(essence.hash()))
        unlocks: list[Unlock] = [signature, *(ReferenceUnlock(0) for _ in inputs[1:])]
        transaction = TransactionPayload(essence, tuple(unlocks))
        self.last_transaction = transaction
        return Block(info.protocol_version, await self.client.tips(), transaction)

    async def _mine(self, block: Block) -> bytes:
        """The block's wire form with a nonce mined here."""
        info = await self._network()
        nonce = await asyncio.to_thread(pow_rs.mine, block.bytes_without_nonce(), info.min_pow_score)
        return replace(block, nonce=nonce).to_bytes()

    async def _submit(
        self,
        inputs: Sequence[UtxoInput],
        outputs: Sequence[Output],
        payload: TaggedDataPayload | VoucherPayload | None = None,
    ) -> bytes:
        """Build, mine (here or on the node) and submit; the block ID."""
        block = await self._build(inputs, outputs, payload)
        if self.remote_pow:
            return await self.client.submit_for_pow(block.bytes_without_nonce())
        return await self.client.submit(await self._mine(block))

    def _change(self, total: int, spent: int) -> list[Output]:
        return [BasicOutput(total - spent, self.address)] if total > spent else []

    async def transfer(self, to: Ed25519Address, amount: int, tag: bytes | None = None) -> bytes:
        """Send `amount` micro-units to `to`; the block ID."""
        inputs, total = await self._funds(amount)
        payload = TaggedDataPayload(tag, b"") if tag is not None else None
        return await self._submit(inputs, [BasicOutput(amount, to), *self._change(total, amount)], payload)

    async def transfer_many(self, payments: Sequence[tuple[Ed25519Address, int]]) -> bytes:
        """Send each `(address, amount)` in one transaction (a faucet funding many payers at
        once, since a second transfer would wait for the first one's change to confirm)."""
        total_out = sum(amount for _, amount in payments)
        inputs, total = await self._funds(total_out)
        outputs: list[Output] = [BasicOutput(amount, address) for address, amount in payments]
        return await self._submit(inputs, [*outputs, *self._change(total, total_out)])

    async def open_channel(
        self, payee: Ed25519Address, deposit: int, expiry: datetime
    ) -> tuple[bytes, bytes]:
        """Lock `deposit` in a new channel to `payee`; the block ID and the channel's lasting ID."""
        inputs, total = await self._funds(deposit)
        channel = ChannelOutput(bytes(32), self.address, payee, deposit, 0, int(expiry.timestamp()))
        block_id = await self._submit(inputs, [channel, *self._change(total, deposit)])
        assert self.last_transaction is not None
        return block_id, channel.resolved_channel_id(self.last_transaction.output_ids()[0])

    def voucher(self, channel_id: bytes, nonce: int, amount: int) -> VoucherPayload:
        """As payer: a signed voucher for the cumulative `amount` at `nonce`."""
        body = Voucher(channel_id, nonce, amount)
        return VoucherPayload(body, self.public_key, self._sign(body.signing_message()))

    async def claim(self, voucher: VoucherPayload, close: bool = False) -> bytes:
        """As payee: redeem `voucher`; keep the channel open, or close it refunding the payer."""
        inputs, outputs = await self._claim_parts(voucher, close)
        return await self._submit(inputs, outputs, voucher)

    async def build_claim(self, voucher: VoucherPayload, close: bool = False) -> bytes:
        """A mined claim block, not yet submitted: a caller can record its ID first, so a crash
        between recording and submitting is mended by submitting the same bytes again."""
        inputs, outputs = await self._claim_parts(voucher, close)
        return await self._mine(await self._build(inputs, outputs, voucher))

    async def _claim_parts(
        self, voucher: VoucherPayload, close: bool
    ) -> tuple[list[UtxoInput], list[Output]]:
        channel_id = voucher.voucher.channel_id
        channel_in, state, _ = await self._channel(channel_id)
        gained = voucher.voucher.amount - state.claimed
        outputs: list[Output] = [BasicOutput(gained, self.address)]
        if close:
            rest = state.deposit - voucher.voucher.amount
            outputs += [BasicOutput(rest, state.payer)] if rest else []
        else:
            outputs.insert(
                0, replace(state, claimed=voucher.voucher.amount, voucher_nonce=voucher.voucher.nonce)
            )
        return [channel_in], outputs

    async def top_up(self, channel_id: bytes, amount: int, expiry: datetime | None = None) -> bytes:
        """As payer: add `amount` to the deposit, optionally moving the expiry later."""
        channel_in, state, _ = await self._channel(channel_id)
        inputs, total = await self._funds(amount)
        new_expiry = int(expiry.timestamp()) if expiry is not None else state.expiry
        topped = replace(state, deposit=state.deposit + amount, expiry=new_expiry)
        return await self._submit([channel_in, *inputs], [topped, *self._change(total, amount)])

    async def close_channel(self, channel_id: bytes, settle_deadline: datetime) -> bytes:
        """As payer: start the settle window, in which the payee can still claim."""
        channel_in, state, _ = await self._channel(channel_id)
        closing = replace(state, settle_deadline=int(settle_deadline.timestamp()))
        return await self._submit([channel_in], [closing])

    async def refund(self, channel_id: bytes) -> bytes:
        """As payer, after expiry or the settle window: take back what is left."""
        channel_in, state, _ = await self._channel(channel_id)
        return await self._submit([channel_in], [BasicOutput(state.value, self.address)])

    async def wait_for_confirmation(self, block_id: bytes, poll: float = 0.2) -> BlockMetadataOut:
        """Poll until a milestone references the block; its metadata (check `conflict_reason`).

        Bound it with `asyncio.timeout(...)` at the call site.
        """
        while True:
            meta = await self.client.metadata(block_id)
            if meta is not None and meta.milestone_index is not None:
                return meta
            await asyncio.sleep(poll)
