"""Authentication and the common API conventions: challenge login, bearer tokens, API keys
with scopes, roles kept apart, rate-limited login, problem details, OpenAPI."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx

import pow_rs
from mobility.engine import Engine
from mobility.ratelimit import RateLimiter
from mobility.wire.domains import FLEET_PAYER_KEY_DOMAIN, LOGIN_DOMAIN
from testkit.clock import ManualClock
from tests.api.conftest import bearer, driver, fleet, log_in, operator, sign_up, signup_body

PROBLEM = "application/problem+json"


async def test_sign_up_log_in_and_see_yourself(http: httpx.AsyncClient) -> None:
    key, account_id, headers = await driver(http, 0x11)
    me = (await http.get("/driver/me", headers=headers)).json()
    assert me == {"account_id": account_id, "name": "", "public_key": key.public_key.hex()}
    again = await http.post("/driver/signup", json=signup_body(key))
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert again.json()["type"] == "urn:mobility:problem:already-exists"


async def test_a_login_needs_a_fresh_challenge_signed_by_the_signed_up_key(http: httpx.AsyncClient) -> None:
    key, stranger = pow_rs.SigningKey(bytes([0x21]) * 32), pow_rs.SigningKey(bytes([0x22]) * 32)
    await sign_up(http, key)

    async def attempt(
        signer: pow_rs.SigningKey, claimed: bytes, challenge: str | None = None
    ) -> httpx.Response:
        if challenge is None:
            issued = await http.post("/driver/login/challenge", json={"public_key": claimed.hex()})
            challenge = issued.json()["challenge"]
        signature = signer.sign(LOGIN_DOMAIN + bytes.fromhex(challenge)).hex()
        body = {"public_key": claimed.hex(), "challenge": challenge, "signature": signature}
        return await http.post("/driver/login", json=body)

    assert (await attempt(stranger, key.public_key)).status_code == 401  # wrong key's signature
    assert (await attempt(stranger, stranger.public_key)).status_code == 401  # not signed up
    issued = (await http.post("/driver/login/challenge", json={"public_key": key.public_key.hex()})).json()
    assert (await attempt(key, key.public_key, issued["challenge"])).status_code == 200
    replay = await attempt(key, key.public_key, issued["challenge"])
    assert replay.status_code == 401
    assert replay.json()["type"] == "urn:mobility:problem:login-failed"
    unsigned = await attempt(key, key.public_key, "00" * 32)  # never issued
    assert unsigned.status_code == 401


async def test_tokens_expire_and_forged_tokens_fail(engine: Engine, http: httpx.AsyncClient) -> None:
    clock = ManualClock(dt.datetime.now(dt.UTC))
    engine.api.state.context.tokens.clock = clock
    _, _, headers = await driver(http, 0x31)
    assert (await http.get("/driver/me", headers=headers)).status_code == 200
    token = headers["Authorization"].removeprefix("Bearer ")
    payload, mac = token.split(".")
    forged = f"{payload[:-2]}{'AA' if payload[-2:] != 'AA' else 'BB'}.{mac}"
    assert (await http.get("/driver/me", headers=bearer(forged))).status_code == 401
    clock.advance(minutes=16)
    expired = await http.get("/driver/me", headers=headers)
    assert expired.status_code == 401
    assert expired.headers["www-authenticate"] == "Bearer"
    assert (await http.get("/driver/me")).status_code == 401


async def test_login_is_rate_limited_per_client_address(engine: Engine, http: httpx.AsyncClient) -> None:
    clock = ManualClock(dt.datetime.now(dt.UTC))
    engine.api.state.context.login_limiter.clock = clock
    key = pow_rs.SigningKey(bytes([0x41]) * 32)
    body = {"public_key": key.public_key.hex()}
    statuses = [(await http.post("/driver/login/challenge", json=body)).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    limited = await http.post("/driver/login/challenge", json=body)
    assert limited.json()["type"] == "urn:mobility:problem:rate-limited"
    assert int(limited.headers["retry-after"]) >= 1
    clock.advance(minutes=1)
    assert (await http.post("/driver/login/challenge", json=body)).status_code == 200


def from_address(engine: Engine, address: str) -> httpx.AsyncClient:
    """A client calling from another loopback address (another device, to the rate limit)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{engine.api_port}", transport=transport)


async def test_failed_logins_lock_the_key_and_challenges_do_not(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    key = pow_rs.SigningKey(bytes([0x42]) * 32)
    await sign_up(http, key)
    body = {"public_key": key.public_key.hex()}
    async with from_address(engine, "127.0.0.2") as other:
        for _ in range(10):  # someone else asks for challenges: the driver can still log in
            assert (await other.post("/driver/login/challenge", json=body)).status_code == 200
    await log_in(http, key)
    for host in range(10, 20):  # someone else fails logins with the driver's key, from many addresses
        async with from_address(engine, f"127.0.0.{host}") as attacker:
            challenge = (await attacker.post("/driver/login/challenge", json=body)).json()["challenge"]
            bad = {**body, "challenge": challenge, "signature": "00" * 64}
            assert (await attacker.post("/driver/login", json=bad)).status_code == 401
    async with from_address(engine, "127.0.0.4") as driver_phone:
        challenge = (await driver_phone.post("/driver/login/challenge", json=body)).json()["challenge"]
        signature = key.sign(LOGIN_DOMAIN + bytes.fromhex(challenge)).hex()
        locked = await driver_phone.post(
            "/driver/login", json={**body, "challenge": challenge, "signature": signature}
        )
        assert locked.status_code == 429


async def test_logins_failing_before_the_signature_check_do_not_lock_the_key(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    """Issue 14, point 3: junk challenges naming the victim's key, from other addresses, are the
    callers' failures; the victim's correct login still goes through."""
    key = pow_rs.SigningKey(bytes([0x43]) * 32)
    await sign_up(http, key)
    body = {"public_key": key.public_key.hex()}
    for host in range(30, 42):  # more than the key's limit, each address under its own
        async with from_address(engine, f"127.0.0.{host}") as attacker:
            junk = {**body, "challenge": f"{host:02x}" * 32, "signature": "00" * 64}
            refused = await attacker.post("/driver/login", json=junk)
            assert refused.status_code == 401
            assert refused.json()["type"] == "urn:mobility:problem:login-failed"
            # A challenge issued for the key but badly signed is a failed signature check and
            # counts (test_failed_logins_lock_the_key_and_challenges_do_not); one issued for
            # another key fails before it.
            other = pow_rs.SigningKey(bytes([host]) * 32).public_key.hex()
            foreign = (await attacker.post("/driver/login/challenge", json={"public_key": other})).json()
            mismatched = {**body, "challenge": foreign["challenge"], "signature": "00" * 64}
            assert (await attacker.post("/driver/login", json=mismatched)).status_code == 401
    async with from_address(engine, "127.0.0.5") as driver_phone:
        await log_in(driver_phone, key)


async def test_roles_are_kept_apart(engine: Engine, http: httpx.AsyncClient) -> None:
    _, _, driver_headers = await driver(http, 0x51)
    operator_headers = await operator(engine, "op-1")
    fleet_headers = await fleet(engine, "fleet-1")
    assert (await http.get("/operator/me", headers=operator_headers)).json()["tenant_id"] == "op-1"
    assert (await http.get("/fleet/me", headers=fleet_headers)).json()["tenant_id"] == "fleet-1"
    for path, headers in [
        ("/driver/me", operator_headers),
        ("/driver/me", fleet_headers),
        ("/operator/me", driver_headers),
        ("/operator/me", fleet_headers),
        ("/fleet/me", driver_headers),
        ("/fleet/me", operator_headers),
    ]:
        response = await http.get(path, headers=headers)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["type"] == "urn:mobility:problem:wrong-role"


async def test_api_keys_can_be_revoked_and_wrong_keys_fail(engine: Engine, http: httpx.AsyncClient) -> None:
    headers = await operator(engine, "op-2")
    key = headers["Authorization"].removeprefix("Bearer ")
    store = engine.api.state.context.api_store
    wrong_secret = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    assert (await http.get("/operator/me", headers=bearer(wrong_secret))).status_code == 401
    assert await asyncio.to_thread(store.revoke_api_key, key.split("_")[1])
    assert (await http.get("/operator/me", headers=headers)).status_code == 401


async def test_bad_input_is_a_422_problem_naming_the_field(http: httpx.AsyncClient) -> None:
    response = await http.post("/driver/signup", json={"public_key": "not hex"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["errors"][0]["loc"] == ["body", "public_key"]
    assert "public_key" in problem["detail"]
    assert (
        await http.post("/driver/signup", content=b"{", headers={"content-type": "application/json"})
    ).status_code == 422
    # PostgreSQL text refuses NUL: a control character in the name is a 422, not a 500.
    key = pow_rs.SigningKey(bytes([0xAB]) * 32)
    response = await http.post("/driver/signup", json=signup_body(key, "Ada\u0000"))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "name"]
    assert (await http.post("/driver/signup", json=signup_body(key, "Ada"))).status_code == 201


async def test_openapi_documents_every_group(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/openapi.json")).json()
    prefixes = {path.split("/")[1] for path in spec["paths"]}
    assert {"driver", "operator", "fleet", "ledger"} <= prefixes
    assert (await http.get("/docs")).status_code == 200


def test_the_rate_limiter_forgets_idle_keys() -> None:
    clock = ManualClock(dt.datetime(2026, 11, 26, tzinfo=dt.UTC))
    limiter = RateLimiter(2, dt.timedelta(minutes=1), clock, max_keys=3)
    for key in ("a", "b", "c"):
        assert limiter.hit(key) is None
    clock.advance(minutes=2)
    assert limiter.hit("d") is None  # a, b and c have expired: dropped to make room
    assert limiter.hit("d") is None
    assert limiter.hit("d") is not None
    assert len(limiter._hits) == 1


async def test_signing_up_needs_the_key_and_a_fleets_key_is_not_taken(
    engine: Engine, http: httpx.AsyncClient
) -> None:
    mine, theirs = pow_rs.SigningKey(bytes([0x61]) * 32), pow_rs.SigningKey(bytes([0x62]) * 32)
    forged = {**signup_body(theirs), "public_key": mine.public_key.hex()}  # someone else's key
    refused = await http.post("/driver/signup", json=forged)
    assert (refused.status_code, refused.json()["type"]) == (422, "urn:mobility:problem:invalid-proof")
    store = engine.api.state.context.api_store
    assert await asyncio.to_thread(store.driver_by_key, mine.public_key) is None
    headers = await fleet(engine, "fleet-k")
    proof = mine.sign(FLEET_PAYER_KEY_DOMAIN + b"fleet-k").hex()
    body = {"public_key": mine.public_key.hex(), "signature": proof}
    assert (await http.post("/fleet/payer-keys", json=body, headers=headers)).status_code == 201
    taken = await http.post("/driver/signup", json=signup_body(mine))  # the fleet's key now
    assert taken.status_code == 409
