"""pow_rs through Python against the reference each goal names, measured in the same process.

Run: `.venv/bin/python benches/python_crypto.py` (or `make bench`). Each figure is the best of
several rounds; the ratio is what to read, as the machines are shared and noisy.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import nacl.signing

import pow_rs

ROUNDS = 7


def best_seconds(run: Callable[[], object], rounds: int = ROUNDS) -> float:
    """Best wall time of `rounds` calls of `run` (the least disturbed by other load)."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def signed_items(count: int) -> list[tuple[bytes, bytes, bytes]]:
    items = []
    for i in range(count):
        key = nacl.signing.SigningKey(hashlib.blake2b(i.to_bytes(4, "little"), digest_size=32).digest())
        message = b"voucher channel=%d nonce=%d amount=%d" % (i % 7, i, 1000 * i)
        items.append((bytes(key.verify_key), message, key.sign(message).signature))
    return items


def main() -> None:
    items = signed_items(1000)
    nacl_keys = [(nacl.signing.VerifyKey(k), m, s) for k, m, s in items]

    def nacl_loop() -> None:
        for key, message, signature in nacl_keys:
            key.verify(message, signature)

    def nacl_loop_with_key_parsing() -> None:
        for key, message, signature in items:
            nacl.signing.VerifyKey(key).verify(message, signature)

    def ours_single() -> None:
        for key, message, signature in items:
            pow_rs.ed25519_verify(key, message, signature)

    def ours_batch() -> None:
        pow_rs.ed25519_verify_batch(items)

    single_nacl = best_seconds(nacl_loop_with_key_parsing) / len(items)
    single_nacl_parsed = best_seconds(nacl_loop) / len(items)
    single_ours = best_seconds(ours_single) / len(items)
    batch_ours = best_seconds(ours_batch)
    loop_nacl = single_nacl * len(items)

    data = [hashlib.sha256(i.to_bytes(4, "little")).digest() * 2 for i in range(100_000)]
    blake_ours = best_seconds(lambda: [pow_rs.blake2b_256(d) for d in data], 5)
    blake_hashlib = best_seconds(lambda: [hashlib.blake2b(d, digest_size=32).digest() for d in data], 5)

    block = bytes(i * 31 % 251 for i in range(300))
    score_runs = 20_000
    score_time = best_seconds(lambda: [pow_rs.pow_score(block) for _ in range(score_runs)], 5) / score_runs

    rows = [
        (
            "Ed25519 verify, one call",
            f"{single_ours * 1e6:.1f} us",
            f"PyNaCl {single_nacl * 1e6:.1f} us",
            single_nacl / single_ours,
            ">= 1.0x",
        ),
        (
            "  (PyNaCl with keys pre-parsed)",
            "",
            f"{single_nacl_parsed * 1e6:.1f} us",
            single_nacl_parsed / single_ours,
            "",
        ),
        (
            "Ed25519 batch of 1,000",
            f"{batch_ours * 1e3:.2f} ms",
            f"PyNaCl loop {loop_nacl * 1e3:.2f} ms",
            loop_nacl / batch_ours,
            ">= 2x",
        ),
        (
            "100,000 blake2b_256 (64 B)",
            f"{blake_ours * 1e3:.1f} ms",
            f"hashlib {blake_hashlib * 1e3:.1f} ms",
            blake_hashlib / blake_ours,
            ">= 1.0x",
        ),
        (
            "pow_score, 300-byte block",
            f"{score_time * 1e6:.2f} us",
            "goal 15 us",
            15e-6 / score_time,
            "<= 15 us",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'pow_rs':>10}  {'reference':>24}  {'speed-up':>8}  goal")
    for name, ours, ref, ratio, goal in rows:
        print(f"{name:<{width}}  {ours:>10}  {ref:>24}  {ratio:>7.2f}x  {goal}")


if __name__ == "__main__":
    main()
