"""Vouchers verified and applied per second by the engine, persistence included, against the
bare pow_rs verify rate measured in the same run (goal: at least half of it).

200 payers each stream 25 vouchers on their own channel, all at once, through
`PaymentService.submit_voucher` (batch verification and group commit), on SQLite and, when
`MOBILITY_TEST_POSTGRES_URL` or `.ci/.postgres-url` names one, on a scratch PostgreSQL
database. Run: `.venv/bin/python benches/payments_vouchers.py`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path

import pow_rs
from mobility.db import create_db_engine
from mobility.migrate import upgrade
from mobility.payments.models import ChannelRecord
from mobility.payments.service import PaymentService
from mobility.payments.store import PaymentStore
from mobility.wire.codec import Ed25519Address, Voucher, VoucherPayload
from testkit.databases import postgres_database, postgres_server_url

PAYERS = 200
VOUCHERS_EACH = 25
T0 = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


class NoCommands:
    async def limit_power(
        self, charge_point_id: str, connector_id: int, transaction_ref: str, watts: int
    ) -> bool:
        raise AssertionError("no session runs in this benchmark")

    async def clear_limit(self, charge_point_id: str, connector_id: int, transaction_ref: str) -> bool:
        raise AssertionError("no session runs in this benchmark")

    async def stop(self, charge_point_id: str, transaction_ref: str) -> bool:
        raise AssertionError("no session runs in this benchmark")


def make_vouchers() -> tuple[list[tuple[bytes, bytes]], list[list[VoucherPayload]]]:
    keys = [pow_rs.SigningKey(pow_rs.blake2b_256(i.to_bytes(4, "little"))) for i in range(PAYERS)]
    channels = [(pow_rs.blake2b_256(b"channel" + k.public_key), k.public_key) for k in keys]
    streams = []
    for key, (channel_id, _) in zip(keys, channels, strict=True):
        stream = []
        for nonce in range(1, VOUCHERS_EACH + 1):
            body = Voucher(channel_id, nonce, 10_000 * nonce)
            stream.append(VoucherPayload(body, key.public_key, key.sign(body.signing_message())))
        streams.append(stream)
    return channels, streams


def engine_rate(url: str, channels: list[tuple[bytes, bytes]], streams: list[list[VoucherPayload]]) -> float:
    upgrade(url)
    engine = create_db_engine(url)
    store = PaymentStore(engine)
    store.add_account("fleet", "fleet")
    for channel_id, public_key in channels:
        store.add_channel(
            ChannelRecord(
                channel_id=channel_id.hex(),
                account_id="fleet",
                payer_address=Ed25519Address.from_public_key(public_key).to_bytes().hex(),
                deposit=10**9,
                expiry=T0 + dt.timedelta(days=30),
            )
        )
    service = PaymentService(store, NoCommands(), tariff_for=lambda _cp: "none")

    async def stream(vouchers: list[VoucherPayload]) -> None:
        for payload in vouchers:
            await service.submit_voucher(payload)

    async def run() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(stream(s) for s in streams))
        return time.perf_counter() - started

    elapsed = asyncio.run(run())
    (sample,) = [c for c in store.all_channels() if c.channel_id == channels[0][0].hex()]
    assert sample.voucher_nonce == VOUCHERS_EACH
    engine.dispose()
    return PAYERS * VOUCHERS_EACH / elapsed


def verify_rate(streams: list[list[VoucherPayload]]) -> float:
    items = [(p.public_key, p.voucher.signing_message(), p.signature) for s in streams for p in s]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for item in items:
            pow_rs.ed25519_verify(*item)
        best = min(best, time.perf_counter() - started)
    return len(items) / best


def report(backend: str, rate: float, reference: float) -> None:
    share = rate / reference
    print(f"engine on {backend + ':':<12} {rate:,.0f} vouchers/s = {share:.2f} of reference (goal >= 0.5)")


def main() -> None:
    channels, streams = make_vouchers()
    reference = verify_rate(streams)
    print(f"{PAYERS} payers x {VOUCHERS_EACH} vouchers, submitted concurrently")
    print(f"bare pow_rs.ed25519_verify: {reference:,.0f} verifies/s (reference)")
    with tempfile.TemporaryDirectory() as folder:
        rate = engine_rate(f"sqlite:///{Path(folder) / 'bench.db'}", channels, streams)
        report("SQLite", rate, reference)
    server_url = postgres_server_url()
    if server_url:
        with postgres_database(server_url) as url:
            rate = engine_rate(url, channels, streams)
        report("PostgreSQL", rate, reference)


if __name__ == "__main__":
    main()
