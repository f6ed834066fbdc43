"""A short demonstration of the Rust core: the first thing `mobility demo` shows.

Until the engine and the simulated city land, the demo mines a few tagged blocks to a PoW
target, signs vouchers with a driver key and checks them the way the ledger will.
"""

from __future__ import annotations

import hashlib
import time

from rich.console import Console
from rich.table import Table

import pow_rs


def run_pow_demo(seed: int, target_score: float, blocks: int = 4, console: Console | None = None) -> None:
    """Mine `blocks` blocks at `target_score`, then sign and batch-verify vouchers."""
    console = console or Console()
    table = Table(title=f"Proof of work (target score {target_score:g}, {pow_rs.MINER_LANES} lanes)")
    for column in ("block", "bytes", "nonce", "score", "ms"):
        table.add_column(column, justify="right")
    for index in range(blocks):
        body = hashlib.blake2b(f"demo block {seed}/{index}".encode(), digest_size=32).digest() * 3
        started = time.perf_counter()
        nonce = pow_rs.mine(body, target_score)
        elapsed_ms = (time.perf_counter() - started) * 1000
        block = body + nonce.to_bytes(8, "little")
        block_id = pow_rs.blake2b_256(block).hex()
        table.add_row(
            block_id[:16], str(len(block)), str(nonce), f"{pow_rs.pow_score(block):.1f}", f"{elapsed_ms:.1f}"
        )
    console.print(table)

    key = pow_rs.SigningKey(hashlib.blake2b(seed.to_bytes(8, "little"), digest_size=32).digest())
    address = pow_rs.bech32_encode("mob", pow_rs.ed25519_address(key.public_key))
    vouchers = [f"channel=1 nonce={n} amount={n * 250_000}".encode() for n in range(1, 101)]
    items = [(key.public_key, voucher, key.sign(voucher)) for voucher in vouchers]
    forged = (key.public_key, b"channel=1 nonce=101 amount=999999999", items[0][2])
    verdicts = pow_rs.ed25519_verify_batch([*items, forged])
    console.print(f"driver address [bold]{address}[/bold]")
    console.print(
        f"{sum(verdicts)} of {len(vouchers)} signed vouchers verify; forged voucher accepted: {verdicts[-1]}"
    )
