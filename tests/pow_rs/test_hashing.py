"""BLAKE2b, b1t6 and Curl-P-81 against the test vectors (`tests/vectors/`), every case."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pow_rs
from tests.conftest import load_vector


def test_blake2b_vectors_every_case() -> None:
    cases = load_vector("blake2b.json")
    assert len(cases) == 256
    for case in cases:
        data = bytes.fromhex(case["in"])
        assert pow_rs.blake2b_256(data).hex() == case["out_256"]
        assert pow_rs.blake2b(data).hex() == case["out"]
        assert pow_rs.blake2b(data, 20).hex() == case["out_160"]


@given(st.binary(max_size=600), st.integers(1, 64))
def test_blake2b_agrees_with_hashlib(data: bytes, size: int) -> None:
    assert pow_rs.blake2b(data, size) == hashlib.blake2b(data, digest_size=size).digest()
    assert pow_rs.blake2b_256(data) == hashlib.blake2b(data, digest_size=32).digest()


@pytest.mark.parametrize("size", [0, 65, 1000])
def test_blake2b_digest_size_out_of_range(size: int) -> None:
    with pytest.raises(pow_rs.InvalidLengthError, match="digest_size"):
        pow_rs.blake2b(b"x", size)


def test_b1t6_vectors() -> None:
    for case in load_vector("b1t6_tip5.json")["vectors"]:
        data = bytes.fromhex(case["bytes_hex"])
        assert pow_rs.b1t6_encode(data) == case["trytes"]
        assert pow_rs.b1t6_decode(case["trytes"]) == data


@given(st.binary(max_size=200))
def test_b1t6_round_trip(data: bytes) -> None:
    trytes = pow_rs.b1t6_encode(data)
    assert len(trytes) == 2 * len(data)
    assert pow_rs.b1t6_decode(trytes) == data


@pytest.mark.parametrize(
    ("trytes", "reason"),
    [
        ("9", "even number"),
        ("99a9", "not a tryte"),
        ("MM", "outside"),
        ("9 ", "not a tryte"),
        ("é9", "not a tryte"),
    ],
)
def test_b1t6_rejects_malformed(trytes: str, reason: str) -> None:
    with pytest.raises(pow_rs.InvalidEncodingError, match=reason):
        pow_rs.b1t6_decode(trytes)


def test_curl_p81_vectors_including_multi_squeeze() -> None:
    cases = load_vector("curlp81.json")["vectors"]
    assert len(cases) == 300
    squeezes = {len(case["hash"]) // 81 for case in cases}
    assert squeezes == {1, 3}
    for case in cases:
        assert pow_rs.curl_p81(case["in"], len(case["hash"])) == case["hash"]


@pytest.mark.parametrize(
    ("trytes", "hash_trytes", "error"),
    [
        ("", 81, pow_rs.InvalidLengthError),
        ("9" * 80, 81, pow_rs.InvalidLengthError),
        ("9" * 81, 0, pow_rs.InvalidLengthError),
        ("9" * 81, 100, pow_rs.InvalidLengthError),
        ("a" * 81, 81, pow_rs.InvalidEncodingError),
    ],
)
def test_curl_p81_rejects_malformed(trytes: str, hash_trytes: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        pow_rs.curl_p81(trytes, hash_trytes)


def test_from_hex() -> None:
    assert pow_rs.from_hex("0x00ff") == b"\x00\xff"
    assert pow_rs.from_hex("ABCD", 2) == b"\xab\xcd"
    with pytest.raises(pow_rs.InvalidEncodingError, match="hex"):
        pow_rs.from_hex("0xzz")
    with pytest.raises(pow_rs.InvalidEncodingError, match="odd"):
        pow_rs.from_hex("abc")
    with pytest.raises(pow_rs.InvalidLengthError):
        pow_rs.from_hex("00", 32)


def test_errors_share_one_hierarchy() -> None:
    for error in (
        pow_rs.InvalidLengthError,
        pow_rs.InvalidEncodingError,
        pow_rs.InvalidPublicKeyError,
        pow_rs.UnreachableTargetError,
    ):
        assert issubclass(error, pow_rs.PowRsError)
        assert issubclass(error, ValueError)
    assert issubclass(pow_rs.MiningTimeoutError, TimeoutError)
