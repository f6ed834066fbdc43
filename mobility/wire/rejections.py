"""Why a block or transaction is refused: one enum of stable reasons, one exception."""

from __future__ import annotations

from enum import StrEnum


class RejectReason(StrEnum):
    """Why a block was refused; stable strings, safe to store and to show a client."""

    MALFORMED = "malformed"
    PROTOCOL_VERSION = "protocol_version"
    INSUFFICIENT_POW = "insufficient_pow"
    WRONG_NETWORK = "wrong_network"
    UNLOCK_COUNT_MISMATCH = "unlock_count_mismatch"
    DUPLICATE_INPUT = "duplicate_input"
    ZERO_AMOUNT = "zero_amount"
    CHANNEL_OVERCLAIMED = "channel_overclaimed"
    DUPLICATE_SIGNATURE_UNLOCK = "duplicate_signature_unlock"
    INVALID_REFERENCE_UNLOCK = "invalid_reference_unlock"
    INVALID_SIGNATURE = "invalid_signature"
    INPUT_NOT_FOUND = "input_not_found"
    ADDRESS_MISMATCH = "address_mismatch"
    AMOUNT_MISMATCH = "amount_mismatch"
    SUPPLY_EXCEEDED = "supply_exceeded"
    MILESTONE_PARENTS_MISMATCH = "milestone_parents_mismatch"
    UNKNOWN_COORDINATOR_KEY = "unknown_coordinator_key"
    BELOW_SIGNATURE_THRESHOLD = "below_signature_threshold"
    CHANNEL_OPEN_INVALID = "channel_open_invalid"
    CHANNEL_UNKNOWN = "channel_unknown"
    CHANNEL_TRANSITION_INVALID = "channel_transition_invalid"
    CHANNEL_REFUND_MISSING = "channel_refund_missing"
    CLAIM_NOT_BY_PAYEE = "claim_not_by_payee"
    VOUCHER_WRONG_CHANNEL = "voucher_wrong_channel"
    VOUCHER_NOT_FROM_PAYER = "voucher_not_from_payer"
    VOUCHER_REPLAYED = "voucher_replayed"
    VOUCHER_OVER_DEPOSIT = "voucher_over_deposit"
    CLAIM_AFTER_SETTLE_WINDOW = "claim_after_settle_window"
    REFUND_BEFORE_EXPIRY = "refund_before_expiry"
    SETTLE_WINDOW_TOO_SHORT = "settle_window_too_short"


class BlockRejectedError(ValueError):
    """A block the node refuses, with the reason and a human-readable detail."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
