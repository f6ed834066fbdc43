"""Transaction payload: UTXO inputs, basic and payment-channel outputs, unlocks (after TIP-20).

Layouts, all little-endian::

    transaction   = payload_type u32 = 6 | essence | unlocks_count u16 (1..128) | unlock x n
    essence       = essence_type u8 = 1 | network_id u64
                  | inputs_count u16 (1..128) | input x n
                  | outputs_count u16 (1..128) | output x n
                  | payload_length u32 | tagged data or voucher payload (0 = none)
    input         = input_type u8 = 0 | transaction_id 32B | output_index u16 (0..127)
    basic output  = output_type u8 = 3 | amount u64 | address 33B
    channel output= output_type u8 = 32 | channel_id 32B | payer address 33B | payee address 33B
                  | deposit u64 | claimed u64 | expiry u32 | settle_deadline u32
                  | voucher_nonce u64
    unlock        = unlock_type u8 = 0 | signature_type u8 = 0 | public_key 32B | signature 64B
                  | unlock_type u8 = 1 | reference u16

Transaction ID = BLAKE2b-256 of the whole payload (type included); output ID = transaction
ID || output index u16; signatures sign BLAKE2b-256 of the essence. All as in Stardust.

Where this differs from Stardust, on purpose, to keep a payment ledger small:
- The essence has no inputs commitment: the node looks inputs up itself when validating.
- The basic output is `amount | address`; Stardust's native tokens, unlock-condition list
  and feature list are gone (the address is the one unlock condition).
- Output type 32, the payment-channel output, is ours (Stardust has no such type). Its value
  on the ledger is `deposit - claimed`. `channel_id` is all zeros in the output that opens a
  channel and is then BLAKE2b-256 of that output's ID, like a Stardust alias ID. `expiry` and
  `settle_deadline` are Unix seconds (UTC); `settle_deadline = 0` means no close is pending.
  `voucher_nonce` is the nonce of the last voucher redeemed (0 = none yet).
- The essence may carry a voucher payload (type 8, see `voucher.py`) instead of tagged data.
- Alias, foundry and NFT outputs and alias/NFT unlocks do not exist; their types are rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

import pow_rs
from mobility.wire.codec.address import Ed25519Address
from mobility.wire.codec.errors import CodecError
from mobility.wire.codec.primitives import Reader, check_count, fixed, uint
from mobility.wire.codec.tagged_data import TAGGED_DATA_PAYLOAD_TYPE, TaggedDataPayload
from mobility.wire.codec.voucher import VOUCHER_PAYLOAD_TYPE, VoucherPayload

TRANSACTION_PAYLOAD_TYPE = 6
TRANSACTION_ESSENCE_TYPE = 1
UTXO_INPUT_TYPE = 0
BASIC_OUTPUT_TYPE = 3
CHANNEL_OUTPUT_TYPE = 32
SIGNATURE_UNLOCK_TYPE = 0
REFERENCE_UNLOCK_TYPE = 1
ED25519_SIGNATURE_TYPE = 0

MAX_INPUTS = 128
MAX_OUTPUTS = 128
OUTPUT_ID_LENGTH = 34
ZERO_CHANNEL_ID = bytes(32)


def output_id(transaction_id: bytes, index: int) -> bytes:
    """The 34-byte ID of output `index` of a transaction."""
    return fixed(transaction_id, 32, "transaction_id") + uint(index, 2, "output_index")


@dataclass(frozen=True, slots=True)
class UtxoInput:
    """A reference to an unspent output: the transaction that made it and its index."""

    transaction_id: bytes
    output_index: int
    _output_id: bytes | None = field(default=None, init=False, repr=False, compare=False)
    """`output_id` once computed: validation and storage ask for it several times an input."""

    def __post_init__(self) -> None:
        fixed(self.transaction_id, 32, "input.transaction_id")

    @property
    def output_id(self) -> bytes:
        """The ID of the output this input spends."""
        if self._output_id is None:
            object.__setattr__(self, "_output_id", output_id(self.transaction_id, self.output_index))
        assert self._output_id is not None
        return self._output_id

    def to_bytes(self) -> bytes:
        """The wire form."""
        check_count(self.output_index, 0, MAX_OUTPUTS - 1, "input.output_index")
        return bytes([UTXO_INPUT_TYPE]) + self.output_id

    @classmethod
    def read(cls, reader: Reader) -> UtxoInput:
        """Read one input."""
        kind = reader.u8("input.input_type")
        if kind != UTXO_INPUT_TYPE:
            raise CodecError("input.input_type", f"unknown input type {kind}")
        transaction_id = reader.take(32, "input.transaction_id")
        index = reader.u16("input.output_index")
        check_count(index, 0, MAX_OUTPUTS - 1, "input.output_index")
        return cls(transaction_id, index)


@dataclass(frozen=True, slots=True)
class BasicOutput:
    """Tokens owned by one address."""

    TYPE: ClassVar[int] = BASIC_OUTPUT_TYPE

    amount: int
    address: Ed25519Address

    @property
    def value(self) -> int:
        """Micro-units this output holds on the ledger."""
        return self.amount

    @property
    def owners(self) -> tuple[Ed25519Address, ...]:
        """Addresses whose signature may unlock this output."""
        return (self.address,)

    def to_bytes(self) -> bytes:
        """The wire form."""
        return bytes([self.TYPE]) + uint(self.amount, 8, "basic_output.amount") + self.address.to_bytes()

    @classmethod
    def read_body(cls, reader: Reader) -> BasicOutput:
        """Read the fields after the output type."""
        amount = reader.u64("basic_output.amount")
        return cls(amount, Ed25519Address.read(reader, "basic_output.address"))


@dataclass(frozen=True, slots=True)
class ChannelOutput:
    """A one-way payment channel from payer to payee, holding `deposit - claimed`."""

    TYPE: ClassVar[int] = CHANNEL_OUTPUT_TYPE

    channel_id: bytes
    payer: Ed25519Address
    payee: Ed25519Address
    deposit: int
    claimed: int
    expiry: int
    settle_deadline: int = 0
    voucher_nonce: int = 0

    def __post_init__(self) -> None:
        fixed(self.channel_id, 32, "channel_output.channel_id")

    @property
    def value(self) -> int:
        """Micro-units still locked in the channel."""
        return self.deposit - self.claimed

    @property
    def owners(self) -> tuple[Ed25519Address, ...]:
        """Payer and payee: either may sign a transition (which ones are allowed is a channel rule)."""
        return (self.payer, self.payee)

    def resolved_channel_id(self, own_output_id: bytes) -> bytes:
        """The channel's lasting ID: BLAKE2b-256 of the opening output's ID while still zero."""
        if self.channel_id == ZERO_CHANNEL_ID:
            return pow_rs.blake2b_256(own_output_id)
        return self.channel_id

    @property
    def expires_at(self) -> datetime:
        """`expiry` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.expiry, UTC)

    @property
    def settles_at(self) -> datetime | None:
        """End of the payee's settle window after a payer's close, if one is pending."""
        return datetime.fromtimestamp(self.settle_deadline, UTC) if self.settle_deadline else None

    def to_bytes(self) -> bytes:
        """The wire form."""
        return b"".join(
            (
                bytes([self.TYPE]),
                self.channel_id,
                self.payer.to_bytes(),
                self.payee.to_bytes(),
                uint(self.deposit, 8, "channel_output.deposit"),
                uint(self.claimed, 8, "channel_output.claimed"),
                uint(self.expiry, 4, "channel_output.expiry"),
                uint(self.settle_deadline, 4, "channel_output.settle_deadline"),
                uint(self.voucher_nonce, 8, "channel_output.voucher_nonce"),
            )
        )

    @classmethod
    def read_body(cls, reader: Reader) -> ChannelOutput:
        """Read the fields after the output type."""
        return cls(
            channel_id=reader.take(32, "channel_output.channel_id"),
            payer=Ed25519Address.read(reader, "channel_output.payer"),
            payee=Ed25519Address.read(reader, "channel_output.payee"),
            deposit=reader.u64("channel_output.deposit"),
            claimed=reader.u64("channel_output.claimed"),
            expiry=reader.u32("channel_output.expiry"),
            settle_deadline=reader.u32("channel_output.settle_deadline"),
            voucher_nonce=reader.u64("channel_output.voucher_nonce"),
        )


Output = BasicOutput | ChannelOutput


def read_output(reader: Reader) -> Output:
    """Read one output of any known type."""
    kind = reader.u8("output.output_type")
    if kind == BASIC_OUTPUT_TYPE:
        return BasicOutput.read_body(reader)
    if kind == CHANNEL_OUTPUT_TYPE:
        return ChannelOutput.read_body(reader)
    raise CodecError("output.output_type", f"unknown output type {kind}")


def output_from_bytes(data: bytes) -> Output:
    """Parse exactly one output (as stored in the UTXO set)."""
    reader = Reader(data)
    output = read_output(reader)
    reader.expect_end("output")
    return output


@dataclass(frozen=True, slots=True)
class SignatureUnlock:
    """An Ed25519 signature over the essence hash, with the key that made it."""

    public_key: bytes
    signature: bytes

    def __post_init__(self) -> None:
        fixed(self.public_key, 32, "signature_unlock.public_key")
        fixed(self.signature, 64, "signature_unlock.signature")

    def to_bytes(self) -> bytes:
        """The wire form."""
        return bytes([SIGNATURE_UNLOCK_TYPE, ED25519_SIGNATURE_TYPE]) + self.public_key + self.signature

    @classmethod
    def read_body(cls, reader: Reader) -> SignatureUnlock:
        """Read the fields after the unlock type."""
        kind = reader.u8("signature_unlock.signature_type")
        if kind != ED25519_SIGNATURE_TYPE:
            raise CodecError("signature_unlock.signature_type", f"unknown signature type {kind}")
        public_key = reader.take(32, "signature_unlock.public_key")
        return cls(public_key, reader.take(64, "signature_unlock.signature"))


@dataclass(frozen=True, slots=True)
class ReferenceUnlock:
    """Reuse of the signature unlock at `index`, for several inputs of one address."""

    index: int

    def to_bytes(self) -> bytes:
        """The wire form."""
        return bytes([REFERENCE_UNLOCK_TYPE]) + uint(self.index, 2, "reference_unlock.index")

    @classmethod
    def read_body(cls, reader: Reader) -> ReferenceUnlock:
        """Read the fields after the unlock type."""
        return cls(reader.u16("reference_unlock.index"))


Unlock = SignatureUnlock | ReferenceUnlock


def read_unlock(reader: Reader) -> Unlock:
    """Read one unlock of any known type."""
    kind = reader.u8("unlock.unlock_type")
    if kind == SIGNATURE_UNLOCK_TYPE:
        return SignatureUnlock.read_body(reader)
    if kind == REFERENCE_UNLOCK_TYPE:
        return ReferenceUnlock.read_body(reader)
    raise CodecError("unlock.unlock_type", f"unknown unlock type {kind}")


@dataclass(frozen=True, slots=True)
class TransactionEssence:
    """What the unlocks sign: network, inputs, outputs and an optional tagged-data payload."""

    network_id: int
    inputs: tuple[UtxoInput, ...]
    outputs: tuple[Output, ...]
    payload: TaggedDataPayload | VoucherPayload | None = None
    _wire: bytes | None = field(default=None, init=False, repr=False, compare=False)
    """The bytes a parsed essence was read from (the codec is canonical, so they are its
    wire form): the node hashes every received essence to check its signatures, and
    serializing it again cost as much as a third of the parse. Not an `__init__` argument,
    so a built or `dataclasses.replace`d essence always serializes its fields."""

    def to_bytes(self) -> bytes:
        """The wire form."""
        if self._wire is not None:
            return self._wire
        check_count(len(self.inputs), 1, MAX_INPUTS, "essence.inputs_count")
        check_count(len(self.outputs), 1, MAX_OUTPUTS, "essence.outputs_count")
        payload = self.payload.to_bytes() if self.payload is not None else b""
        return b"".join(
            (
                bytes([TRANSACTION_ESSENCE_TYPE]),
                uint(self.network_id, 8, "essence.network_id"),
                uint(len(self.inputs), 2, "essence.inputs_count"),
                *(item.to_bytes() for item in self.inputs),
                uint(len(self.outputs), 2, "essence.outputs_count"),
                *(item.to_bytes() for item in self.outputs),
                uint(len(payload), 4, "essence.payload_length"),
                payload,
            )
        )

    def hash(self) -> bytes:
        """BLAKE2b-256 of the essence: the message every signature unlock signs."""
        return pow_rs.blake2b_256(self.to_bytes())

    @classmethod
    def read(cls, reader: Reader) -> TransactionEssence:
        """Read an essence."""
        start = reader.position
        kind = reader.u8("essence.essence_type")
        if kind != TRANSACTION_ESSENCE_TYPE:
            raise CodecError("essence.essence_type", f"unknown essence type {kind}")
        network_id = reader.u64("essence.network_id")
        inputs_count = reader.u16("essence.inputs_count")
        check_count(inputs_count, 1, MAX_INPUTS, "essence.inputs_count")
        inputs = tuple(UtxoInput.read(reader) for _ in range(inputs_count))
        outputs_count = reader.u16("essence.outputs_count")
        check_count(outputs_count, 1, MAX_OUTPUTS, "essence.outputs_count")
        outputs = tuple(read_output(reader) for _ in range(outputs_count))
        payload_length = reader.u32("essence.payload_length")
        payload: TaggedDataPayload | VoucherPayload | None = None
        if payload_length:
            inner = Reader(reader.take(payload_length, "essence.payload"))
            kind = inner.u32("essence.payload.payload_type")
            if kind == TAGGED_DATA_PAYLOAD_TYPE:
                payload = TaggedDataPayload.read_body(inner)
            elif kind == VOUCHER_PAYLOAD_TYPE:
                payload = VoucherPayload.read_body(inner)
            else:
                raise CodecError("essence.payload.payload_type", f"payload type {kind} not allowed here")
            inner.expect_end("essence.payload")
        essence = cls(network_id, inputs, outputs, payload)
        object.__setattr__(essence, "_wire", reader.since(start))
        return essence


@dataclass(frozen=True, slots=True)
class TransactionPayload:
    """A signed transfer of UTXO outputs."""

    TYPE: ClassVar[int] = TRANSACTION_PAYLOAD_TYPE

    essence: TransactionEssence
    unlocks: tuple[Unlock, ...]
    _wire: bytes | None = field(default=None, init=False, repr=False, compare=False)
    """The bytes a parsed payload was read from, payload type included (see
    `TransactionEssence._wire`): hashed, they are the transaction ID."""
    _id: bytes | None = field(default=None, init=False, repr=False, compare=False)
    """`transaction_id` once computed: the node needs it while validating and storing."""

    def to_bytes(self) -> bytes:
        """The wire form, payload type included."""
        if self._wire is not None:
            return self._wire
        check_count(len(self.unlocks), 1, MAX_INPUTS, "transaction.unlocks_count")
        return b"".join(
            (
                uint(self.TYPE, 4, "transaction.payload_type"),
                self.essence.to_bytes(),
                uint(len(self.unlocks), 2, "transaction.unlocks_count"),
                *(item.to_bytes() for item in self.unlocks),
            )
        )

    @property
    def transaction_id(self) -> bytes:
        """BLAKE2b-256 of the payload bytes."""
        if self._id is None:
            object.__setattr__(self, "_id", pow_rs.blake2b_256(self.to_bytes()))
        assert self._id is not None
        return self._id

    def output_ids(self) -> tuple[bytes, ...]:
        """IDs of the outputs this transaction creates, in order."""
        transaction_id = self.transaction_id
        return tuple(output_id(transaction_id, index) for index in range(len(self.essence.outputs)))

    @classmethod
    def read_body(cls, reader: Reader) -> TransactionPayload:
        """Read the fields after the payload type, which must be the 4 bytes just read: the
        payload keeps the bytes from there on as its wire form (see `_wire`)."""
        start = reader.position - 4
        essence = TransactionEssence.read(reader)
        unlocks_count = reader.u16("transaction.unlocks_count")
        check_count(unlocks_count, 1, MAX_INPUTS, "transaction.unlocks_count")
        payload = cls(essence, tuple(read_unlock(reader) for _ in range(unlocks_count)))
        object.__setattr__(payload, "_wire", reader.since(start))
        return payload
