"""SIGKILL the payment engine at each step between accepting a voucher and settling it:
no voucher is lost, and none is claimed twice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import pow_rs
from mobility.db import create_db_engine
from mobility.ledger.store import LedgerStore
from mobility.payments.store import PaymentStore
from mobility.wire.codec import Ed25519Address
from tests.payments.ledger_world import BOB_SEED

ROOT = Path(__file__).resolve().parents[2]
BOB = Ed25519Address.from_public_key(pow_rs.SigningKey(BOB_SEED).public_key)


def run(url: str, phase: str, crash_at: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.payments.crash_worker", url, phase, crash_at],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_acknowledged_voucher_survives_sigkill(database_url: str) -> None:
    died = run(database_url, "charge", "voucher_stored")
    assert died.returncode == -9, died.stderr
    lines = died.stdout.splitlines()
    assert lines[-1].startswith("voucher 3 ")  # killed after storing voucher 3, before acknowledging it
    amount = int(lines[-1].split()[2])
    engine = create_db_engine(database_url)
    (channel,) = PaymentStore(engine).all_channels()
    assert (channel.voucher_nonce, channel.paid) == (3, amount)
    engine.dispose()


@pytest.mark.parametrize("crash_at", ["intent", "built", "sent", "submitted", "confirmed"])
def test_settlement_survives_sigkill_at_every_step(database_url: str, crash_at: str) -> None:
    charged = run(database_url, "charge")
    assert charged.returncode == 0, charged.stderr
    died = run(database_url, "settle", crash_at)
    assert died.returncode == -9, died.stderr
    resumed = run(database_url, "settle")
    assert resumed.returncode == 0, resumed.stderr

    engine = create_db_engine(database_url)
    store = PaymentStore(engine)
    (channel,) = store.all_channels()
    settlement = store.last_settlement(channel.channel_id)
    assert settlement is not None
    assert settlement.status == "confirmed"
    assert settlement.amount == channel.paid == channel.claimed
    session = store.session(1)
    assert session is not None
    assert session.settlement_id == settlement.id
    # Claimed exactly once: the operator holds its genesis 300 000 plus the single claim.
    balance = LedgerStore(engine).balance(BOB.to_bytes())
    assert balance == 300_000 + channel.paid
    engine.dispose()
