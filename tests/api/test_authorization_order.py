"""The authorization sources combine in one order (operator tokens, the allow-list, the payment
rules) with payments on, and token options that cannot apply stop `mobility serve` at start.

Before, the payment layer replaced the allow-list when payments were on: `--allow-token`
was silently ignored, and a session the allow-list would have let charge was stopped."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mobility.engine import Engine, EngineOptions
from mobility.ledger.config import LedgerSettings
from mobility.settings import Settings
from mobility.token_settings import TokenSettingsError, allow_list_for
from ocpp_server._ocpp import call16
from testkit.process import engine_env, serving
from tests.api.conftest import operator
from tests.api.operator_world import connected, register
from tests.api.station_world import add_token
from tests.ocpp.conftest import raw_client
from tests.ocpp.frames import exchange

NOW = "2026-06-01T08:00:00Z"


@contextlib.asynccontextmanager
async def allowing(database_url: str, data_dir: Path, *tokens: str) -> AsyncIterator[Engine]:
    """The whole engine, payments on, with `--allow-token` for each of `tokens`."""
    settings = Settings(
        data_dir=data_dir, database_url=database_url, ocpp_port=0, api_port=0, payments_enabled=True
    )
    ledger = LedgerSettings(min_pow_score=1.0, milestone_interval_seconds=3600)
    built = await asyncio.to_thread(Engine.build, settings, EngineOptions(allowed_tokens=tokens), ledger)
    await built.start()
    try:
        yield built
    finally:
        await built.stop()


def _start(connector_id: int, token: str) -> object:
    return call16.StartTransaction(connector_id=connector_id, id_tag=token, meter_start=0, timestamp=NOW)


async def test_allowed_and_operator_tokens_charge_unbilled_beside_the_payment_rules(
    database_url: str, tmp_path: Path
) -> None:
    async with (
        allowing(database_url, tmp_path, "ALLOWED1", "BLK") as engine,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{engine.api_port}", timeout=30) as http,
    ):
        headers = await operator(engine, "op-o")
        await add_token(http, headers, "BLK", status="Blocked")  # listed beats allowed
        await add_token(http, headers, "DESK")
        await register(http, headers, "ORD-1")
        async with connected(engine, "ORD-1") as cp:
            statuses = {}
            for token in ("ALLOWED1", "allowed1", "BLK", "DESK", "NOBODY"):
                answer = await cp.call(call16.Authorize(id_tag=token))
                statuses[token] = answer.id_tag_info["status"]
            assert statuses == {
                "ALLOWED1": "Accepted",
                "allowed1": "Accepted",
                "BLK": "Blocked",
                "DESK": "Accepted",
                "NOBODY": "Invalid",
            }
            allowed = await cp.call(_start(1, "ALLOWED1"))
            desk = await cp.call(_start(2, "DESK"))
            nobody = await cp.call(_start(3, "NOBODY"))
            assert [a.id_tag_info["status"] for a in (allowed, desk, nobody)] == [
                "Accepted",
                "Accepted",
                "Invalid",
            ]
            assert engine.payments is not None
            # The session nobody pays for is stopped; the two unbilled ones run on.
            async with asyncio.timeout(20):
                # The stop leaves from the payment layer's command outbox, bounded by the timeout.
                while not cp.received:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            await engine.payments.idle()
            stops = [
                payload["transaction_id"]
                for action, payload in cp.received
                if action == "RemoteStopTransaction"
            ]
            assert stops == [nobody.transaction_id]


def test_token_options_that_cannot_apply_are_errors() -> None:
    with pytest.raises(TokenSettingsError, match="payments on"):
        allow_list_for((), accept_all=True, payments_enabled=True)
    with pytest.raises(TokenSettingsError, match="no effect"):
        allow_list_for(("A1",), accept_all=True, payments_enabled=False)
    with pytest.raises(TokenSettingsError, match="printable"):
        allow_list_for(("has space",), accept_all=False, payments_enabled=False)
    with pytest.raises(TokenSettingsError, match="app token"):
        allow_list_for(("APP0123456789ABCDEF",), accept_all=False, payments_enabled=True)
    assert allow_list_for((), accept_all=False, payments_enabled=True) is None
    assert allow_list_for(("APP0123456789ABCDEF",), accept_all=False, payments_enabled=False) is not None


async def test_mobility_serve_honours_allow_token_with_payments_and_refuses_accept_all(
    tmp_path: Path,
) -> None:
    env = engine_env(
        tmp_path,
        f"sqlite:///{tmp_path / 'serve.db'}",
        payments_enabled="true",
        accept_unknown_chargers="true",
    )
    refused = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "mobility.cli", "serve", "--accept-all-tokens"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2
    assert "--accept-all-tokens cannot apply with payments on" in refused.stderr
    with serving(env, "--allow-token", "SIMTOKEN"):
        url = f"ws://127.0.0.1:{env['MOBILITY_OCPP_PORT']}/ocpp/SIM-1"
        async with raw_client(url, "1.6", "SIM-1") as ws:
            answer = await exchange(ws, [2, "a1", "Authorize", {"idTag": "SIMTOKEN"}])
            assert answer == [3, "a1", {"idTagInfo": {"status": "Accepted"}}]
            other = await exchange(ws, [2, "a2", "Authorize", {"idTag": "OTHER"}])
            assert other == [3, "a2", {"idTagInfo": {"status": "Invalid"}}]
