"""The engine's clock, settlement policy and per-address login limit are options of its entry
point (a constructor argument and `MOBILITY_*` settings), so whoever runs it (the simulated
city, a test, an operator) sets them there instead of swapping the engine's parts at run time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

import pow_rs
from mobility.engine import Engine, EngineOptions, LedgerSettings
from mobility.payments.settlement import SettlementPolicy
from mobility.settings import Settings

AT = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)
TARIFF = {
    "id": "flat",
    "currency": "EUR",
    "elements": [{"price_components": [{"type": "ENERGY", "price": 300_000}]}],
}


def test_settlement_and_login_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOBILITY_SETTLEMENT_THRESHOLD", "7")
    monkeypatch.setenv("MOBILITY_SETTLEMENT_INTERVAL", "PT10M")
    monkeypatch.setenv("MOBILITY_SETTLEMENT_EXPIRY_MARGIN", "PT1H")
    monkeypatch.setenv("MOBILITY_LOGIN_ATTEMPTS_PER_MINUTE", "3")
    settings = Settings()
    assert (
        settings.settlement_threshold,
        settings.settlement_interval,
        settings.settlement_expiry_margin,
    ) == (
        7,
        timedelta(minutes=10),
        timedelta(hours=1),
    )
    assert settings.login_attempts_per_minute == 3
    for name in ("THRESHOLD", "INTERVAL", "EXPIRY_MARGIN"):
        monkeypatch.delenv(f"MOBILITY_SETTLEMENT_{name}")
    monkeypatch.delenv("MOBILITY_LOGIN_ATTEMPTS_PER_MINUTE")
    defaults = Settings()
    assert SettlementPolicy() == SettlementPolicy(
        defaults.settlement_threshold, defaults.settlement_interval, defaults.settlement_expiry_margin
    )
    assert defaults.login_attempts_per_minute == 10


async def test_the_engine_runs_on_its_options(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        ocpp_port=0,
        api_port=0,
        payments_enabled=True,
        settlement_threshold=7,
        settlement_interval=timedelta(minutes=10),
        settlement_expiry_margin=timedelta(hours=1),
        login_attempts_per_minute=3,
    )
    ledger = LedgerSettings(min_pow_score=1.0, milestone_interval_seconds=3600)
    engine = await asyncio.to_thread(Engine.build, settings, EngineOptions(), ledger, clock=lambda: AT)
    assert engine.settler is not None
    assert engine.payments is not None
    assert engine.settler.policy == SettlementPolicy(7, timedelta(minutes=10), timedelta(hours=1))
    assert engine.settler.clock() == engine.payments.clock() == AT
    key = await asyncio.to_thread(engine.add_operator, "op-1", "Operator")
    await engine.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{engine.api_port}", timeout=30) as http:
            # The API stamps what it records with the engine's clock.
            posted = await http.post(
                "/operator/tariffs", json=TARIFF, headers={"Authorization": f"Bearer {key}"}
            )
            assert posted.status_code == 201, posted.text
            assert datetime.fromisoformat(posted.json()["created_at"].replace("Z", "+00:00")) == AT
            # Three logins a minute from this address, then 429.
            body = {"public_key": pow_rs.SigningKey(bytes(range(32))).public_key.hex()}
            codes = [(await http.post("/driver/login/challenge", json=body)).status_code for _ in range(4)]
            assert codes == [200, 200, 200, 429]
    finally:
        await engine.stop()
