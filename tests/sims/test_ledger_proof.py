"""The city proves claims on the node's public /ledger routes: a confirmed claim is proven with
its channel and amount; a wrong coordinator, a block that claims nothing and a block no
milestone references yet are not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

import pow_rs
from mobility.engine import Engine
from mobility.ledger.client import InProcessClient
from sims.city.ledger_proof import ClaimUnprovenError, Coordinator, prove_claim
from tests.api.conftest import running_engine
from tests.test_engine import milestone, paying_driver


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with running_engine(f"sqlite:///{tmp_path / 'engine.db'}", tmp_path) as built:
        yield built


async def test_a_confirmed_claim_is_proven_and_nothing_else_is(engine: Engine, tmp_path: Path) -> None:
    driver, operator, channel_id, _ = await paying_driver(engine, tmp_path)
    client = InProcessClient(engine.node)
    claim = await operator.build_claim(driver.voucher(channel_id, 1, 750_000))
    claim_id = (await client.submit(claim)).hex()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{engine.api_port}", timeout=30) as http:
        coordinator = await Coordinator.announced(http)
        with pytest.raises(ClaimUnprovenError, match="inclusion-proof: 404"):
            await prove_claim(http, claim_id, coordinator)  # no milestone references it yet
        await milestone(engine)
        proven = await prove_claim(http, claim_id, coordinator)
        assert (proven.channel_id, proven.amount, proven.block_id) == (channel_id.hex(), 750_000, claim_id)

        stranger = Coordinator(frozenset({pow_rs.SigningKey(bytes(32)).public_key}), 1)
        with pytest.raises(ClaimUnprovenError, match="0 coordinator signatures"):
            await prove_claim(http, claim_id, stranger)

        payment = await driver.transfer(operator.address, 1_000)  # confirmed, but claims no voucher
        await milestone(engine)
        with pytest.raises(ClaimUnprovenError, match="the claim claims no voucher"):
            await prove_claim(http, payment.hex(), coordinator)
