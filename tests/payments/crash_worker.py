"""A payment-engine process for the SIGKILL tests: it charges and settles one channel, and
kills itself (SIGKILL, no clean-up) right after the step named on its command line commits.

    python -m tests.payments.crash_worker DB_URL PHASE [CRASH_AT]

PHASE `charge` opens a channel and runs a paid session (crash points: `voucher_stored`);
PHASE `settle` claims it (crash points: `intent`, `built`, `sent`, `submitted`, `confirmed`).
The crash hooks wrap store and client methods here, in the test, not in the engine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from mobility.charging.events import EndReason, MeterReading, SessionEnded, SessionStarted
from mobility.db import create_db_engine
from mobility.ledger.client import InProcessClient
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.node import Node
from mobility.ledger.store import LedgerStore
from mobility.payments.models import ChannelRecord
from mobility.payments.service import PaymentRequest, PaymentService
from mobility.payments.settlement import SettlementPolicy, Settler
from mobility.payments.store import PaymentStore, VoucherWrite
from mobility.wallet.ledger import Wallet
from testkit.clock import ManualClock
from testkit.commands import Recorder
from testkit.ledger import COORDINATORS, GENESIS_TX, PARAMS
from tests.ledger.builders import genesis
from tests.payments.ledger_world import ALICE_SEED, BOB_SEED, T0, TARIFF


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def crash_after(obj: Any, name: str, when: Callable[..., bool] = lambda *a, **k: True) -> None:
    """Replace `obj.name` with a version that SIGKILLs this process after it returns."""
    original = getattr(obj, name)
    if asyncio.iscoroutinefunction(original):

        async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
            result = await original(*args, **kwargs)
            if when(*args, **kwargs):
                die()
            return result

        setattr(obj, name, wrapped_async)
    else:

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            if when(*args, **kwargs):
                die()
            return result

        setattr(obj, name, wrapped)


def _is_voucher(item: object, nonce: int) -> bool:
    return isinstance(item, VoucherWrite) and item.payload.voucher.nonce == nonce


async def charge(
    store: PaymentStore, node: Node, client: InProcessClient, clock: ManualClock, crash_at: str
) -> None:
    alice, bob = Wallet(client, ALICE_SEED), Wallet(client, BOB_SEED)
    store.add_tariff(TARIFF, T0)
    store.add_account("alice", "driver")
    store.add_id_token("A11CE", "alice")
    _, channel_id = await alice.open_channel(bob.address, 1_000_000, T0 + dt.timedelta(days=30))
    Coordinator(node, COORDINATORS[:2], clock=clock).issue()
    store.add_channel(
        ChannelRecord(
            channel_id=channel_id.hex(),
            account_id="alice",
            payer_address=alice.address.to_bytes().hex(),
            deposit=1_000_000,
            expiry=T0 + dt.timedelta(days=30),
        )
    )
    service = PaymentService(store, Recorder(), tariff_for=lambda _cp: "city", clock=clock)
    if crash_at == "voucher_stored":
        # Right after the journal committed the batch holding voucher 3, before its acknowledgement.
        crash_after(service.journal, "_commit", lambda batch: any(_is_voucher(e.item, 3) for e in batch))
    requests: list[PaymentRequest] = []

    async def remember(request: PaymentRequest) -> None:
        requests.append(request)

    service.subscribe(remember)
    await service.handle(SessionStarted(1, "CP1", 1, "tx1", "a11ce", 0, T0))
    for minute in range(1, 7):
        payload = alice.voucher(channel_id, minute, requests[-1].amount)
        print(f"voucher {minute} {payload.voucher.amount}", flush=True)
        await service.submit_voucher(payload)
        print(f"acknowledged {minute}", flush=True)
        clock.now = T0 + dt.timedelta(minutes=minute)
        energy = 10_000 * minute // 60
        await service.handle(MeterReading("CP1", 1, 1, energy, energy, clock.now))
    await service.handle(SessionEnded(1, "CP1", 1, "tx1", 1_000, EndReason.LOCAL, False, clock.now))


async def settle(
    store: PaymentStore, node: Node, client: InProcessClient, clock: ManualClock, crash_at: str
) -> None:
    bob = Wallet(client, BOB_SEED)
    coordinator = Coordinator(node, COORDINATORS[:2], clock=clock)
    steps = {"intent": "begin_settlement", "confirmed": "confirm_settlement"}
    if crash_at in steps:
        crash_after(store, steps[crash_at])
    elif crash_at in ("built", "submitted"):
        crash_after(store, "update_settlement", lambda _id, **changes: changes.get("status") == crash_at)
    elif crash_at == "sent":
        crash_after(client, "submit")
    settler = Settler(store, bob, client, SettlementPolicy(threshold=1), clock=clock)
    for _ in range(10):
        records = await settler.run_once()
        if any(r.status == "submitted" for r in records):
            coordinator.issue()
        if records and all(r.status in ("confirmed", "failed") for r in records):
            break
    print("settled", flush=True)


def main(url: str, phase: str, crash_at: str) -> None:
    engine = create_db_engine(url)
    ledger = LedgerStore(engine)
    if phase == "charge":
        ledger.add_genesis(genesis(), GENESIS_TX)
    node = Node(ledger, PARAMS)
    client = InProcessClient(node)
    store = PaymentStore(engine)
    run: Callable[..., Coroutine[Any, Any, None]] = charge if phase == "charge" else settle
    asyncio.run(run(store, node, client, ManualClock(T0), crash_at))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
