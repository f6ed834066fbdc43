"""The wallet through both clients (in-process and HTTP), on every backend: transfers and a
channel's whole life, confirmed by a coordinator between steps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from mobility.ledger.api import RemotePow, create_ledger_app
from mobility.ledger.client import InProcessClient
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node
from mobility.wallet.ledger import Wallet, WalletError
from mobility.wallet.ledger_client import HttpClient, LedgerClient
from mobility.wire.rejections import BlockRejectedError, RejectReason
from testkit.clock import ManualClock
from tests.ledger.builders import ALICE as ALICE_KEY
from tests.ledger.builders import BOB as BOB_KEY
from tests.ledger.builders import COORDINATORS, PARAMS, address

ALICE_SEED = bytes([0xA1]) * 32  # the seeds behind builders.ALICE / BOB, so genesis funds them
BOB_SEED = bytes([0xB0]) * 32
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["in-process", "http"])
async def client(request: pytest.FixtureRequest, node: Node) -> AsyncIterator[LedgerClient]:
    if request.param == "in-process":
        yield InProcessClient(node)
        return
    # This node mines for its clients (the test network is not the development one).
    transport = httpx.ASGITransport(app=create_ledger_app(node, RemotePow(enabled=True)))
    async with httpx.AsyncClient(transport=transport, base_url="http://node") as http:
        yield HttpClient(http, PARAMS.bech32_hrp)


async def test_transfer_and_wait_for_confirmation(node: Node, client: LedgerClient) -> None:
    alice, bob = Wallet(client, ALICE_SEED), Wallet(client, BOB_SEED)
    assert alice.address == address(ALICE_KEY)
    assert await alice.balance() == 1_500_000
    block_id = await alice.transfer(bob.address, 1_200_000, tag=b"session-42")
    Coordinator(node, COORDINATORS[:2]).issue()
    meta = await alice.wait_for_confirmation(block_id)
    assert meta.conflict_reason is None
    assert await alice.balance() == 300_000
    assert await bob.balance() == 300_000 + 1_200_000


async def test_remote_pow_and_rejections_cross_the_client(node: Node, client: LedgerClient) -> None:
    alice = Wallet(client, ALICE_SEED, remote_pow=True)
    await alice.transfer(address(BOB_KEY), 1)
    with pytest.raises(WalletError, match="needs"):
        await alice.transfer(address(BOB_KEY), 10**12)
    with pytest.raises(BlockRejectedError) as caught:
        await client.submit(b"\x02\x00")
    assert caught.value.reason is RejectReason.MALFORMED


async def test_channel_life_cycle(node: Node, client: LedgerClient) -> None:
    clock = ManualClock(T0)
    coordinator = Coordinator(node, COORDINATORS[:2], clock=clock)
    alice, bob = Wallet(client, ALICE_SEED), Wallet(client, BOB_SEED)

    async def confirm(block_id: bytes) -> None:
        coordinator.issue()
        meta = await alice.wait_for_confirmation(block_id)
        assert meta.conflict_reason is None, meta.conflict_reason

    opened, channel_id = await alice.open_channel(bob.address, 1_000_000, T0 + timedelta(hours=1))
    await confirm(opened)
    await confirm(await bob.claim(alice.voucher(channel_id, 1, 100_000)))
    await confirm(await alice.top_up(channel_id, 200_000))
    channel = await client.channel(channel_id)
    assert channel is not None
    assert (channel.deposit, channel.claimed, channel.voucher_nonce) == (1_200_000, 100_000, 1)

    await confirm(await alice.close_channel(channel_id, T0 + timedelta(minutes=70)))
    await confirm(await bob.claim(alice.voucher(channel_id, 2, 250_000)))
    clock.now = T0 + timedelta(minutes=71)
    await confirm(await alice.refund(channel_id))
    assert await client.channel(channel_id) is None
    assert await bob.balance() == 300_000 + 250_000
    assert await alice.balance() == 1_500_000 - 250_000
