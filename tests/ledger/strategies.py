"""Hypothesis strategies for every wire type, within the format's own limits."""

from __future__ import annotations

from hypothesis import strategies as st

from mobility.wire.codec import (
    BasicOutput,
    Block,
    ChannelOutput,
    Ed25519Address,
    MilestoneEssence,
    MilestonePayload,
    MilestoneSignature,
    Output,
    Payload,
    ReferenceUnlock,
    SignatureUnlock,
    TaggedDataPayload,
    TransactionEssence,
    TransactionPayload,
    Unlock,
    UtxoInput,
    Voucher,
    VoucherPayload,
)

u8 = st.integers(0, 2**8 - 1)
u16 = st.integers(0, 2**16 - 1)
u32 = st.integers(0, 2**32 - 1)
u64 = st.integers(0, 2**64 - 1)
id32 = st.binary(min_size=32, max_size=32)

addresses = st.builds(Ed25519Address, id32)
parents = st.lists(id32, min_size=1, max_size=8, unique=True).map(lambda items: tuple(sorted(items)))

tagged_data = st.builds(TaggedDataPayload, st.binary(max_size=64), st.binary(max_size=512))

utxo_inputs = st.builds(UtxoInput, id32, st.integers(0, 127))
basic_outputs = st.builds(BasicOutput, u64, addresses)
channel_outputs = st.builds(ChannelOutput, id32, addresses, addresses, u64, u64, u32, u32, u64)
outputs: st.SearchStrategy[Output] = st.one_of(basic_outputs, channel_outputs)
signature_unlocks = st.builds(SignatureUnlock, id32, st.binary(min_size=64, max_size=64))
unlocks: st.SearchStrategy[Unlock] = st.one_of(signature_unlocks, st.builds(ReferenceUnlock, u16))

vouchers = st.builds(
    VoucherPayload,
    st.builds(Voucher, id32, u64, u64),
    id32,
    st.binary(min_size=64, max_size=64),
)
essences = st.builds(
    TransactionEssence,
    u64,
    st.lists(utxo_inputs, min_size=1, max_size=6).map(tuple),
    st.lists(outputs, min_size=1, max_size=6).map(tuple),
    st.none() | tagged_data | vouchers,
)
transactions = st.builds(TransactionPayload, essences, st.lists(unlocks, min_size=1, max_size=6).map(tuple))

milestone_essences = st.builds(MilestoneEssence, u32, u32, u8, id32, parents, id32, id32)
milestone_signatures = st.lists(
    st.builds(MilestoneSignature, id32, st.binary(min_size=64, max_size=64)),
    min_size=1,
    max_size=5,
    unique_by=lambda item: item.public_key,
).map(lambda items: tuple(sorted(items, key=lambda item: item.public_key)))
milestones = st.builds(MilestonePayload, milestone_essences, milestone_signatures)

payloads: st.SearchStrategy[Payload] = st.one_of(tagged_data, transactions, milestones)
blocks = st.builds(Block, u8, parents, st.none() | payloads, u64)
