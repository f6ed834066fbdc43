"""A Basic-auth flood at the handshake must not stall the engine (issue 14, point 2): failed
attempts are throttled per source address and per charge point, refused (429) before any
password is hashed, and hashing never takes the threads the database calls run on."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.ocpp.conftest import Harness, basic_auth, raw_client
from tests.ocpp.frames import exchange, heartbeat

# Liveness bound: without separate hashing threads the database call below waits for the
# blocked hashes, which this test releases only after it; the test then fails here.
LIVENESS = 30.0


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the threads every scrypt hash ran on."""
    calls: list[str] = []
    real: Callable[..., bytes] = hashlib.scrypt

    def counted(*args: Any, **kwargs: Any) -> bytes:
        calls.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    return calls


async def _handshake(harness: Harness, password: str, source: str = "127.0.0.1") -> int:
    """The HTTP status of a handshake as CP1 from `source` (101: upgraded)."""
    try:
        async with connect(
            harness.url(),
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers=basic_auth("CP1", password),
            local_addr=(source, 0),
        ):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


async def test_failed_handshakes_from_one_address_are_refused_before_hashing(
    harness: Harness, scrypt_calls: list[str]
) -> None:
    statuses = [await _handshake(harness, "wrong") for _ in range(14)]
    assert statuses == [401] * 10 + [429] * 4
    assert len(scrypt_calls) == 10
    assert await _handshake(harness, "secret1") == 429  # even the right one, until the window passes
    harness.clock.advance(61)
    assert await _handshake(harness, "secret1") == 101
    assert await _handshake(harness, "wrong", "127.0.0.2") == 401  # another address: its own count


async def test_a_concurrent_flood_hashes_no_more_than_the_limit(
    harness: Harness, scrypt_calls: list[str]
) -> None:
    statuses = await asyncio.gather(*(_handshake(harness, "wrong") for _ in range(40)))
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) == 10
    assert len(scrypt_calls) == 10


async def test_failed_handshakes_are_throttled_per_charge_point_but_not_from_its_own_address(
    harness: Harness, scrypt_calls: list[str]
) -> None:
    async with raw_client(harness.url(), "1.6") as charger:  # CP1 authenticates from 127.0.0.1
        assert (await exchange(charger, heartbeat()))[0] == 3
    statuses = [await _handshake(harness, "wrong", f"127.0.1.{host}") for host in range(1, 26)]
    assert statuses == [401] * 20 + [429] * 5  # many addresses, one guess each
    assert len(scrypt_calls) == 1 + 20
    assert await _handshake(harness, "secret1", "127.0.1.99") == 429
    assert await _handshake(harness, "secret1") == 101  # the charge point itself still gets in


async def test_password_hashing_does_not_take_the_database_threads(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, started = threading.Event(), threading.Semaphore(0)
    real: Callable[..., bytes] = hashlib.scrypt

    def held(*args: Any, **kwargs: Any) -> bytes:
        started.release()
        release.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", held)
    # More hashes than the loop's default executor has threads (6 on two cores), each from an
    # address of its own so that no throttle refuses them first.
    flood = [asyncio.create_task(_handshake(harness, "wrong", f"127.0.2.{host}")) for host in range(1, 13)]
    try:
        await asyncio.to_thread(started.acquire)  # the hashing threads are busy
        async with asyncio.timeout(LIVENESS):
            assert await harness.service.charge_point("CP1") is not None  # a database call
        assert not any(task.done() for task in flood)  # the flood still waits for its hashes
    finally:
        release.set()
        statuses = await asyncio.gather(*flood)
    assert statuses == [401] * 12


async def test_a_full_hasher_answers_503_without_waiting(harness: Harness) -> None:
    harness.service.passwords.executor.capacity = 0
    assert await _handshake(harness, "secret1") == 503
    harness.service.passwords.executor.capacity = 4
    assert await _handshake(harness, "secret1") == 101  # the refused attempt did not count
