"""Payment-channel transitions: which transactions may create, change or end a channel output.

A channel output names payer and payee; its value on the ledger is `deposit - claimed`.
Each channel input is matched with the output continuing it (same resolved channel ID; at
most one), and the signer of the input says who acts. The allowed moves:

- open: a new channel output (zero ID) with `claimed = voucher_nonce = settle_deadline = 0`;
- claim (payee, with a payer-signed voucher for this channel in the essence): the nonce is
  above the last redeemed one and the cumulative amount above what was claimed and within
  the deposit; the continuing output has `claimed = amount` and `voucher_nonce = nonce`, or,
  with none, the channel closes and at least `deposit - amount` goes back to the payer;
  not after the deadline (the settle deadline if the payer closed, else the expiry);
- top-up (payer): the deposit rises, expiry may move later, nothing else changes;
- close (payer): sets the settle deadline at least `channel_settle_period` ahead;
- refund (payer, no continuing output): only after expiry, or after the settle window;
- release (payee, no voucher, no continuing output): everything left goes back to the payer.

Anything else is `CHANNEL_TRANSITION_INVALID`. Rules that need the time take `now`, the
confirming milestone's timestamp; on arrival `now` is None and they wait for confirmation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mobility.ledger.params import NetworkParams
from mobility.wire.codec import (
    ZERO_CHANNEL_ID,
    BasicOutput,
    ChannelOutput,
    Ed25519Address,
    Output,
    SignatureUnlock,
    TransactionPayload,
    VoucherPayload,
)
from mobility.wire.rejections import BlockRejectedError, RejectReason


@dataclass(frozen=True, slots=True)
class _ChannelInput:
    channel_id: bytes
    state: ChannelOutput
    by_payer: bool


def _reject(reason: RejectReason, detail: str) -> BlockRejectedError:
    return BlockRejectedError(reason, detail)


def check_channels(
    transaction: TransactionPayload,
    spent: Sequence[Output],
    signers: Sequence[SignatureUnlock],
    params: NetworkParams,
    now: int | None,
) -> None:
    """Raise `BlockRejectedError` unless every channel input and output makes an allowed move."""
    essence = transaction.essence
    inputs: dict[bytes, _ChannelInput] = {}
    for utxo, output, signer in zip(essence.inputs, spent, signers, strict=True):
        if isinstance(output, ChannelOutput):
            channel_id = output.resolved_channel_id(utxo.output_id)
            by_payer = Ed25519Address.from_public_key(signer.public_key) == output.payer
            inputs[channel_id] = _ChannelInput(channel_id, output, by_payer)

    continuing: dict[bytes, ChannelOutput] = {}
    for index, output in enumerate(essence.outputs):
        if not isinstance(output, ChannelOutput):
            continue
        if output.channel_id == ZERO_CHANNEL_ID:
            _check_open(output, index, now)
        elif output.channel_id not in inputs:
            raise _reject(RejectReason.CHANNEL_UNKNOWN, f"output {index} continues a channel not spent here")
        elif output.channel_id in continuing:
            raise _reject(RejectReason.CHANNEL_TRANSITION_INVALID, f"output {index} repeats a channel")
        else:
            continuing[output.channel_id] = output

    voucher = essence.payload if isinstance(essence.payload, VoucherPayload) else None
    if voucher is not None and voucher.voucher.channel_id not in inputs:
        raise _reject(RejectReason.VOUCHER_WRONG_CHANNEL, "the voucher's channel is not spent here")

    for channel_id, channel in inputs.items():
        after = continuing.get(channel_id)
        if after is not None and (after.payer != channel.state.payer or after.payee != channel.state.payee):
            raise _reject(RejectReason.CHANNEL_TRANSITION_INVALID, "payer and payee are fixed")
        if voucher is not None and voucher.voucher.channel_id == channel_id:
            _check_claim(channel, after, voucher, essence.outputs, now)
        elif channel.by_payer:
            _check_payer_move(channel, after, params, now)
        elif after is not None:
            raise _reject(
                RejectReason.CHANNEL_TRANSITION_INVALID, "the payee changes a channel only by claiming"
            )
        else:
            _check_payer_refunded(
                channel.state, channel.state.deposit - channel.state.claimed, essence.outputs
            )


def _check_open(output: ChannelOutput, index: int, now: int | None) -> None:
    if output.claimed or output.voucher_nonce or output.settle_deadline:
        raise _reject(RejectReason.CHANNEL_OPEN_INVALID, f"output {index}: a new channel starts unclaimed")
    if now is not None and output.expiry <= now:
        raise _reject(RejectReason.CHANNEL_OPEN_INVALID, f"output {index}: expiry is in the past")


def _check_claim(
    channel: _ChannelInput,
    after: ChannelOutput | None,
    payload: VoucherPayload,
    outputs: Sequence[Output],
    now: int | None,
) -> None:
    state, voucher = channel.state, payload.voucher
    if channel.by_payer:
        raise _reject(RejectReason.CLAIM_NOT_BY_PAYEE, "only the payee redeems a voucher")
    if Ed25519Address.from_public_key(payload.public_key) != state.payer:
        raise _reject(RejectReason.VOUCHER_NOT_FROM_PAYER, "the voucher is not signed by the payer")
    if voucher.nonce <= state.voucher_nonce:
        raise _reject(RejectReason.VOUCHER_REPLAYED, f"nonce {voucher.nonce} <= {state.voucher_nonce}")
    if voucher.amount <= state.claimed:
        raise _reject(RejectReason.VOUCHER_REPLAYED, f"amount {voucher.amount} <= claimed {state.claimed}")
    if voucher.amount > state.deposit:
        raise _reject(RejectReason.VOUCHER_OVER_DEPOSIT, f"amount {voucher.amount} > deposit {state.deposit}")
    deadline = state.settle_deadline or state.expiry
    if now is not None and now > deadline:
        raise _reject(RejectReason.CLAIM_AFTER_SETTLE_WINDOW, f"claim at {now} after {deadline}")
    if after is None:
        _check_payer_refunded(state, state.deposit - voucher.amount, outputs)
        return
    expected = ChannelOutput(
        after.channel_id,
        state.payer,
        state.payee,
        state.deposit,
        voucher.amount,
        state.expiry,
        state.settle_deadline,
        voucher.nonce,
    )
    if after != expected:
        raise _reject(
            RejectReason.CHANNEL_TRANSITION_INVALID, "a claim changes only claimed and voucher nonce"
        )


def _check_payer_move(
    channel: _ChannelInput, after: ChannelOutput | None, params: NetworkParams, now: int | None
) -> None:
    state = channel.state
    if after is None:
        window_over = state.settle_deadline != 0 and now is not None and now > state.settle_deadline
        if now is not None and now < state.expiry and not window_over:
            raise _reject(RejectReason.REFUND_BEFORE_EXPIRY, f"refund at {now} before expiry {state.expiry}")
        return
    same_claims = after.claimed == state.claimed and after.voucher_nonce == state.voucher_nonce
    if not same_claims:
        raise _reject(RejectReason.CHANNEL_TRANSITION_INVALID, "only the payee's claims change claimed")
    if after.deposit > state.deposit and after.expiry >= state.expiry:
        if after.settle_deadline != state.settle_deadline:
            raise _reject(RejectReason.CHANNEL_TRANSITION_INVALID, "a top-up leaves the settle deadline")
        return
    is_close = (
        after.deposit == state.deposit
        and after.expiry == state.expiry
        and state.settle_deadline == 0
        and after.settle_deadline != 0
    )
    if not is_close:
        raise _reject(RejectReason.CHANNEL_TRANSITION_INVALID, "neither a top-up nor a close")
    if now is not None and after.settle_deadline < now + params.channel_settle_period:
        raise _reject(
            RejectReason.SETTLE_WINDOW_TOO_SHORT,
            f"deadline {after.settle_deadline} < {now} + {params.channel_settle_period}",
        )


def _check_payer_refunded(state: ChannelOutput, owed: int, outputs: Sequence[Output]) -> None:
    """When a channel ends other than by refund, what is left must go back to the payer."""
    returned = sum(o.amount for o in outputs if isinstance(o, BasicOutput) and o.address == state.payer)
    if returned < owed:
        raise _reject(RejectReason.CHANNEL_REFUND_MISSING, f"payer gets {returned}, is owed {owed}")
