"""The engine's view of one payment channel: deposit, claims, and the best voucher so far.

A voucher is accepted only if it is signed (ZIP-215, through pow_rs) by the key whose address
is the channel's payer, names this channel, has a nonce above the last accepted one, an
amount no lower than the last, and no higher than the deposit. A rejected voucher changes
nothing; the reason says which rule it broke, for the driver's app to show.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

import pow_rs
from mobility.limits import MAX_VOUCHER_NONCE
from mobility.wire.codec import Ed25519Address, VoucherPayload


class VoucherRejection(StrEnum):
    """Why a voucher was refused."""

    MALFORMED = "malformed"
    WRONG_CHANNEL = "wrong_channel"
    NOT_FROM_PAYER = "not_from_payer"
    BAD_SIGNATURE = "bad_signature"
    REPLAYED = "replayed"
    LOWER_AMOUNT = "lower_amount"
    OVER_DEPOSIT = "over_deposit"


class VoucherRejectedError(ValueError):
    """A voucher broke a channel rule; `reason` is machine-readable."""

    def __init__(self, reason: VoucherRejection, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ChannelCredit:
    """One channel as the engine tracks it. Amounts are micro-units, cumulative."""

    channel_id: bytes
    payer: Ed25519Address
    deposit: int
    claimed: int = 0
    latest: VoucherPayload | None = None

    @property
    def paid(self) -> int:
        """Everything the payer has signed over on this channel so far."""
        return self.latest.voucher.amount if self.latest is not None else self.claimed

    @property
    def unclaimed(self) -> int:
        """Signed over but not yet claimed on the ledger."""
        return self.paid - self.claimed

    @property
    def unspent(self) -> int:
        """Deposit the payer has not yet signed over: what further sessions can draw on."""
        return self.deposit - self.paid

    def accept(self, payload: VoucherPayload, signature_valid: bool | None = None) -> ChannelCredit:
        """This channel with `payload` as its latest voucher, or VoucherRejectedError.

        `signature_valid` is the verdict of a batch verification done by the caller; without
        it the signature is verified here.
        """
        voucher, why = payload.voucher, VoucherRejection
        if voucher.channel_id != self.channel_id:
            raise VoucherRejectedError(why.WRONG_CHANNEL, f"voucher is for {voucher.channel_id.hex()}")
        if voucher.nonce > MAX_VOUCHER_NONCE:  # a u64 on the wire; stored in a signed 64-bit column
            raise VoucherRejectedError(why.MALFORMED, f"nonce {voucher.nonce} > {MAX_VOUCHER_NONCE}")
        try:
            known_key = self.latest is not None and self.latest.public_key == payload.public_key
            signer = self.payer if known_key else Ed25519Address.from_public_key(payload.public_key)
            valid = (
                signature_valid
                if signature_valid is not None
                else pow_rs.ed25519_verify(payload.public_key, voucher.signing_message(), payload.signature)
            )
        except pow_rs.PowRsError as error:
            raise VoucherRejectedError(why.MALFORMED, str(error)) from error
        if signer != self.payer:
            raise VoucherRejectedError(why.NOT_FROM_PAYER, "signed by a key other than the payer's")
        if not valid:
            raise VoucherRejectedError(why.BAD_SIGNATURE, "the signature does not verify")
        last_nonce = self.latest.voucher.nonce if self.latest is not None else 0
        if voucher.nonce <= last_nonce:
            raise VoucherRejectedError(why.REPLAYED, f"nonce {voucher.nonce} <= {last_nonce}")
        if voucher.amount < self.paid:
            raise VoucherRejectedError(why.LOWER_AMOUNT, f"amount {voucher.amount} < {self.paid}")
        if voucher.amount > self.deposit:
            raise VoucherRejectedError(why.OVER_DEPOSIT, f"amount {voucher.amount} > {self.deposit}")
        return ChannelCredit(self.channel_id, self.payer, self.deposit, self.claimed, payload)

    def claimed_up_to(self, amount: int) -> ChannelCredit:
        """After a confirmed claim of `amount` (cumulative) on the ledger."""
        if not self.claimed <= amount <= self.paid:
            raise ValueError(f"claim of {amount} outside [{self.claimed}, {self.paid}]")
        return replace(self, claimed=amount)

    def topped_up(self, deposit: int) -> ChannelCredit:
        """After a confirmed top-up to `deposit`."""
        if deposit < self.deposit:
            raise ValueError(f"deposit cannot shrink from {self.deposit} to {deposit}")
        return replace(self, deposit=deposit)


def verify_signatures(payloads: list[VoucherPayload]) -> list[bool | None]:
    """Batch-verify voucher signatures through pow_rs: a verdict per voucher, or None for a
    malformed one (its own `accept` then says why)."""
    items = [(p.public_key, p.voucher.signing_message(), p.signature) for p in payloads]
    try:
        return list(pow_rs.ed25519_verify_batch(items))
    except pow_rs.PowRsError:
        verdicts: list[bool | None] = []
        for item in items:
            try:
                verdicts.append(pow_rs.ed25519_verify(*item))
            except pow_rs.PowRsError:
                verdicts.append(None)
        return verdicts
