"""TIP-12 PoW score (every intermediate of the worked example) and the miner."""

from __future__ import annotations

import _thread
import signal
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pow_rs
from tests.conftest import load_vector


def trailing_zero_trits(trytes: str) -> int:
    """Count trailing zero trits of a tryte string, independently of pow_rs."""
    trits: list[int] = []
    for char in trytes:
        value = 0 if char == "9" else ord(char) - ord("A") + 1
        value = value - 27 if value > 13 else value
        for _ in range(3):
            trit = (value + 1) % 3 - 1
            trits.append(trit)
            value = (value - trit) // 3
    zeros = 0
    while zeros < len(trits) and trits[-1 - zeros] == 0:
        zeros += 1
    return zeros


def test_worked_example_every_intermediate_value() -> None:
    example = load_vector("pow_score_tip12.json")["worked_example"]
    block = bytes.fromhex(example["block_hex"])
    body, nonce = block[:-8], block[-8:]
    assert int.from_bytes(nonce, "little") == example["nonce_u64"]
    digest = pow_rs.blake2b_256(body)
    assert digest.hex() == example["digest_hex"]
    curl_input = pow_rs.b1t6_encode(digest) + pow_rs.b1t6_encode(nonce) + "9"
    assert curl_input == example["curl_input_trytes"]
    curl_output = pow_rs.curl_p81(curl_input)
    assert curl_output == example["curl_output_trytes"]
    assert trailing_zero_trits(curl_output) == example["trailing_zeros"]
    assert pow_rs.pow_trailing_zeros(block) == example["trailing_zeros"]
    assert pow_rs.pow_score(block) == example["score"]
    assert example["score"] == 3 ** example["trailing_zeros"] / len(block)


def test_score_vectors() -> None:
    for case in load_vector("pow_score_tip12.json")["scores"]:
        block = bytes.fromhex(case["block_hex"])
        assert pow_rs.pow_trailing_zeros(block) == case["trailing_zeros"]
        assert pow_rs.pow_score(block) == case["score"]


def test_tip24_example_block_score() -> None:
    vector = load_vector("block_tip24_example.json")
    block = bytes.fromhex(vector["block_hex"])
    assert len(block) == vector["length"]
    assert pow_rs.blake2b_256(block).hex() == vector["block_id_blake2b256"]
    assert pow_rs.pow_trailing_zeros(block) == vector["trailing_zeros"]
    assert pow_rs.pow_score(block) == vector["score"]


def test_score_needs_a_nonce() -> None:
    with pytest.raises(pow_rs.InvalidLengthError, match="block"):
        pow_rs.pow_score(b"1234567")


@settings(max_examples=40, deadline=None)
@given(
    body=st.binary(min_size=0, max_size=400), target=st.floats(0.0, 3000.0), threads=st.sampled_from([1, 2])
)
def test_mined_nonce_always_reaches_the_target(body: bytes, target: float, threads: int) -> None:
    nonce = pow_rs.mine(body, target, threads=threads)
    assert 0 <= nonce < 2**64
    assert pow_rs.pow_score(body + nonce.to_bytes(8, "little")) >= target


def test_single_thread_search_is_deterministic() -> None:
    body = b"deterministic" * 5
    assert pow_rs.mine(body, 500.0, threads=1) == pow_rs.mine(body, 500.0, threads=1)


@pytest.mark.parametrize("target", [float("inf"), float("nan"), 1e200])
def test_unreachable_target_is_a_clear_error(target: float) -> None:
    with pytest.raises(pow_rs.UnreachableTargetError, match="unreachable"):
        pow_rs.mine(b"block", target)


def test_timeout_raises() -> None:
    with pytest.raises(pow_rs.MiningTimeoutError, match=r"within 0\.05 s"):
        pow_rs.mine(b"block", 1e40, timeout=0.05)


@pytest.mark.parametrize("timeout", [-1.0, float("nan"), float("inf")])
def test_bad_timeout_is_rejected(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        pow_rs.mine(b"block", 1.0, timeout=timeout)


def test_keyboard_interrupt_is_honoured() -> None:
    """Ctrl-C while mining stops the workers and raises KeyboardInterrupt in the caller."""
    mining = threading.Event()

    def interrupt_soon() -> None:
        mining.wait(5)
        # Let mine() get going; were the signal to land first, the test would pass without
        # exercising the miner, but a miner that ignored it would hang until its timeout.
        time.sleep(0.05)
        _thread.interrupt_main()

    # Python's own Ctrl-C handler, whatever an earlier test left: an engine test's asyncio.Runner
    # can leave its handler installed (uvicorn restores it after the Runner is gone), and that
    # one cancels the Runner's task instead of raising.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Thread(target=interrupt_soon, daemon=True).start()
        started = time.monotonic()
        mining.set()
        with pytest.raises(KeyboardInterrupt):
            pow_rs.mine(b"block", 1e40, timeout=30)
        assert time.monotonic() - started < 10
    finally:
        signal.signal(signal.SIGINT, previous)


def test_gil_is_released_while_mining() -> None:
    """Another Python thread keeps running while the miner works."""
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    counter = threading.Thread(target=count)
    counter.start()
    try:
        with pytest.raises(pow_rs.MiningTimeoutError):
            pow_rs.mine(b"block", 1e40, threads=1, timeout=0.3)
    finally:
        stop.set()
        counter.join()
    assert ticks > 1000
