"""The `/ledger` HTTP API against a real node, on every backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

import pow_rs
from mobility.ledger.api import RemotePow, create_ledger_app
from mobility.ledger.api.remote_pow import DEVELOPMENT_NETWORK
from mobility.ledger.config import LedgerSettings
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node
from mobility.ledger.store import GENESIS_ENTRY_POINT
from mobility.wallet.ledger_client import HttpClient
from mobility.wire.codec import BasicOutput, Block, ChannelOutput, TaggedDataPayload
from testkit.clock import ManualClock
from tests.ledger.builders import (
    ALICE,
    BOB,
    COORDINATORS,
    PARAMS,
    address,
    mined,
    spend,
    transfer,
)

ROOT = (GENESIS_ENTRY_POINT,)


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_ledger_app(node)) as test_client:
        yield test_client


def test_info(client: TestClient) -> None:
    body = client.get("/ledger/info").json()
    assert body["network_id"] == PARAMS.network_id
    assert body["min_pow_score"] == PARAMS.min_pow_score
    assert body["coordinator_threshold"] == 2
    assert body["latest_milestone"] is None


def test_submit_raw_and_json_then_read_back(client: TestClient) -> None:
    data = mined(TaggedDataPayload(b"api", b"raw"), ROOT)
    answer = client.post("/ledger/blocks", content=data, headers={"content-type": "application/octet-stream"})
    assert answer.status_code == 201
    block_id = answer.json()["block_id"]
    assert block_id == Block.from_bytes(data).block_id.hex()
    assert client.get(f"/ledger/blocks/{block_id}").content == data

    other = mined(TaggedDataPayload(b"api", b"json"), (bytes.fromhex(block_id),))
    answer = client.post("/ledger/blocks", json={"block": other.hex()})
    assert answer.status_code == 201
    assert client.get(f"/ledger/blocks/{block_id}/children").json()["block_ids"] == [
        answer.json()["block_id"]
    ]
    meta = client.get(f"/ledger/blocks/{answer.json()['block_id']}/metadata").json()
    assert meta["solid"]
    assert meta["parents"] == [block_id]


def test_rejection_names_its_reason(client: TestClient) -> None:
    tx = transfer([spend(0)], [BasicOutput(999, address(BOB))], [ALICE])
    answer = client.post("/ledger/blocks", content=mined(tx, ROOT))
    assert answer.status_code == 400
    assert answer.json()["reason"] == "amount_mismatch"


def _mining_client(node: Node, policy: RemotePow) -> TestClient:
    return TestClient(create_ledger_app(node, policy))


def test_remote_pow_mines_for_a_light_client(node: Node) -> None:
    block = Block(2, ROOT, TaggedDataPayload(b"light", b"client"))
    with _mining_client(node, RemotePow(enabled=True)) as client:
        answer = client.post("/ledger/blocks/pow", content=block.bytes_without_nonce())
        assert answer.status_code == 201
        stored = client.get(f"/ledger/blocks/{answer.json()['block_id']}").content
    assert pow_rs.pow_score(stored) >= PARAMS.min_pow_score


def test_remote_pow_is_off_outside_the_development_network(client: TestClient) -> None:
    """Issue 14, point 8: the node mined for anyone, on every core."""
    assert PARAMS.network_name != DEVELOPMENT_NETWORK
    block = Block(2, ROOT, TaggedDataPayload(b"light", b"client"))
    assert client.post("/ledger/blocks/pow", content=block.bytes_without_nonce()).status_code == 403
    assert LedgerSettings().remote_pow_policy().enabled  # `mobility serve`'s development network
    assert not LedgerSettings(network_name="mobility-main").remote_pow_policy().enabled
    assert LedgerSettings(network_name="mobility-main", remote_pow=True).remote_pow_policy().enabled


def test_remote_pow_is_limited_in_size_rate_and_concurrency(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    policy = RemotePow(enabled=True, max_bytes=200, per_minute=3, clock=clock)
    small = Block(2, ROOT, TaggedDataPayload(b"light", b"x")).bytes_without_nonce()
    large = Block(2, ROOT, TaggedDataPayload(b"light", bytes(300))).bytes_without_nonce()
    with _mining_client(node, policy) as client:
        too_large = client.post("/ledger/blocks/pow", content=large)
        assert too_large.status_code == 413
        assert client.post("/ledger/blocks/pow", content=small).status_code == 201
        assert client.post("/ledger/blocks/pow", content=small).status_code == 201  # already known
        limited = client.post("/ledger/blocks/pow", content=small)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        clock.now += dt.timedelta(minutes=1)
        policy.miners.capacity = 0  # one block is being mined already
        busy = client.post("/ledger/blocks/pow", content=small)
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "1"


def test_unknown_things_are_404(client: TestClient) -> None:
    assert client.get(f"/ledger/blocks/{'00' * 32}").status_code == 404
    assert client.get(f"/ledger/blocks/{'00' * 32}/metadata").status_code == 404
    assert client.get("/ledger/milestones/1").status_code == 404
    assert client.get(f"/ledger/channels/{'00' * 32}").status_code == 404
    assert client.get("/ledger/blocks/xyz").status_code == 422


def test_confirmation_balance_channel_and_inclusion_proof(node: Node, client: TestClient) -> None:
    channel = ChannelOutput(bytes(32), address(ALICE), address(BOB), 600_000, 0, 2**31)
    tx = transfer([spend(0)], [channel, BasicOutput(400_000, address(ALICE))], [ALICE])
    carrier = client.post("/ledger/blocks", content=mined(tx, ROOT)).json()["block_id"]
    note = client.post("/ledger/blocks", content=mined(None, ROOT)).json()["block_id"]
    tips = client.get("/ledger/tips").json()["block_ids"]
    assert sorted(tips) == sorted([carrier, note])
    Coordinator(node, COORDINATORS[:2]).issue([bytes.fromhex(tip) for tip in tips])

    milestone = client.get("/ledger/milestones/1").json()
    assert client.get("/ledger/info").json()["latest_milestone"] == milestone
    proof = client.get(f"/ledger/blocks/{carrier}/inclusion-proof").json()
    assert proof["milestone_index"] == 1
    assert proof["count"] == 2
    assert pow_rs.merkle_verify(
        bytes.fromhex(milestone["inclusion_merkle_root"]),
        bytes.fromhex(carrier),
        proof["index"],
        proof["count"],
        [bytes.fromhex(step) for step in proof["path"]],
    )

    alice = address(ALICE).bech32(PARAMS.bech32_hrp)
    body = client.get(f"/ledger/addresses/{alice}/balance").json()
    assert body["balance"] == 400_000 + 500_000
    assert {output["output_type"] for output in body["outputs"]} == {3, 32}
    channel_id = channel.resolved_channel_id(tx.output_ids()[0]).hex()
    opened = client.get(f"/ledger/channels/{channel_id}").json()
    assert opened["deposit"] == 600_000
    assert opened["payee"] == address(BOB).bech32(PARAMS.bech32_hrp)
    assert client.get("/ledger/addresses/iota1qqqq/balance").status_code == 422


def test_openapi_documents_both_submit_encodings(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    content = spec["paths"]["/ledger/blocks"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/octet-stream", "application/json"}
    assert "/ledger/blocks/{block_id}/inclusion-proof" in spec["paths"]


async def test_lists_come_in_pages_and_the_http_client_reads_them_all(node: Node, client: TestClient) -> None:
    parent = client.post("/ledger/blocks", content=mined(TaggedDataPayload(b"p", b"0"), ROOT)).json()[
        "block_id"
    ]
    children = sorted(
        client.post(
            "/ledger/blocks", content=mined(TaggedDataPayload(b"c", bytes([i])), (bytes.fromhex(parent),))
        ).json()["block_id"]
        for i in range(5)
    )
    first = client.get(f"/ledger/blocks/{parent}/children", params={"limit": 2}).json()
    rest = client.get(f"/ledger/blocks/{parent}/children", params={"limit": 2, "offset": 2}).json()
    assert (first["total"], first["block_ids"] + rest["block_ids"]) == (5, children[:4])
    assert client.get(f"/ledger/blocks/{parent}/children", params={"limit": 0}).status_code == 422

    alice = address(ALICE)
    everything = client.get(f"/ledger/addresses/{alice.bech32(PARAMS.bech32_hrp)}/balance").json()
    assert everything["outputs_total"] == len(everything["outputs"]) == 3
    one = client.get(
        f"/ledger/addresses/{alice.bech32(PARAMS.bech32_hrp)}/balance", params={"limit": 1}
    ).json()
    assert (len(one["outputs"]), one["balance"]) == (1, everything["balance"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(create_ledger_app(node)), base_url="http://node"
    ) as http:
        read = await HttpClient(http, PARAMS.bech32_hrp, page_size=1).balance(alice)  # 3 pages
    assert [o.output_id for o in read.outputs] == [o["output_id"] for o in everything["outputs"]]
