"""Ed25519 under ZIP-215: the TIP-14 cases, RFC 8032 signing, PyNaCl interop, batches."""

from __future__ import annotations

import nacl.exceptions
import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pow_rs
from tests.conftest import load_vector
from tests.pow_rs.zip215_reference import zip215_verify


def tip14_cases() -> list[tuple[int, bytes, bytes, bytes, bool]]:
    return [
        (
            i,
            bytes.fromhex(case["pub_key"]),
            bytes.fromhex(case["message"]),
            bytes.fromhex(case["signature"]),
            case["valid"],
        )
        for i, case in enumerate(load_vector("ed25519_zip215_tip14.json"))
    ]


@pytest.mark.parametrize(("index", "key", "message", "signature", "file_says"), tip14_cases())
def test_tip14_case_by_case(
    index: int, key: bytes, message: bytes, signature: bytes, file_says: bool
) -> None:
    referee = zip215_verify(key, message, signature)
    assert referee == file_says
    assert pow_rs.ed25519_verify(key, message, signature) == referee


def test_tip14_case_10_is_decided_by_zip215() -> None:
    """Case 10 is recorded valid where TIP-14's source file says invalid (tests/vectors/README.md).

    Its key is the order-2 point (0, -1) with the sign bit set, so [8][k]A vanishes and the
    message does not enter the cofactored equation: case 11 (same key and signature, another
    message) must get the same verdict, and is valid in the source file too.
    """
    cases = tip14_cases()
    _, key, message, signature, recorded = cases[10]
    _, key_11, message_11, signature_11, recorded_11 = cases[11]
    assert (key, signature) == (key_11, signature_11)
    assert message != message_11
    assert recorded is recorded_11 is True
    assert zip215_verify(key, message, signature)
    assert pow_rs.ed25519_verify(key, message, signature)


def test_tip14_batch_agrees_with_single() -> None:
    cases = tip14_cases()
    items = [(key, message, signature) for _, key, message, signature, _ in cases]
    assert pow_rs.ed25519_verify_batch(items) == [pow_rs.ed25519_verify(*item) for item in items]


def test_libsodium_rejects_what_zip215_accepts() -> None:
    """Why verification cannot be PyNaCl's: it refuses most TIP-14 edge cases."""
    accepted_by_nacl = 0
    for _, key, message, signature, _ in tip14_cases():
        try:
            nacl.signing.VerifyKey(key).verify(message, signature)
            accepted_by_nacl += 1
        except (nacl.exceptions.BadSignatureError, ValueError):
            pass
    accepted_by_zip215 = sum(pow_rs.ed25519_verify(k, m, s) for _, k, m, s, _ in tip14_cases())
    assert accepted_by_nacl < accepted_by_zip215


def test_rfc8032_signing_vectors() -> None:
    for case in load_vector("ed25519_sign.json")["vectors"]:
        key = pow_rs.SigningKey(bytes.fromhex(case["secret_key"]))
        message = bytes.fromhex(case["message"])
        assert key.public_key.hex() == case["public_key"]
        assert key.sign(message).hex() == case["signature"]
        assert pow_rs.ed25519_verify(key.public_key, message, key.sign(message))


@settings(max_examples=60)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=300))
def test_pynacl_and_pow_rs_interoperate(seed: bytes, message: bytes) -> None:
    nacl_key = nacl.signing.SigningKey(seed)
    ours = pow_rs.SigningKey(seed)
    assert ours.public_key == bytes(nacl_key.verify_key)
    nacl_signature = nacl_key.sign(message).signature
    assert pow_rs.ed25519_verify(ours.public_key, message, nacl_signature)
    our_signature = ours.sign(message)
    assert our_signature == nacl_signature  # RFC 8032 signing is deterministic
    nacl_key.verify_key.verify(message, our_signature)


@settings(max_examples=30, deadline=None)
@given(
    entries=st.lists(
        st.tuples(
            st.binary(min_size=32, max_size=32),
            st.binary(max_size=64),
            st.sampled_from(["valid", "flip-signature", "other-message", "other-key"]),
        ),
        max_size=120,
    )
)
def test_batch_agrees_with_single_on_mixed_input(entries: list[tuple[bytes, bytes, str]]) -> None:
    items = []
    for seed, message, fault in entries:
        key = pow_rs.SigningKey(seed)
        signature = bytearray(key.sign(message))
        public_key = key.public_key
        if fault == "flip-signature":
            signature[7] ^= 0x10
        elif fault == "other-message":
            message += b"!"
        elif fault == "other-key":
            public_key = pow_rs.SigningKey(bytes(31) + b"\x01").public_key
        items.append((public_key, message, bytes(signature)))
    batch = pow_rs.ed25519_verify_batch(items)
    assert batch == [pow_rs.ed25519_verify(*item) for item in items]
    assert batch == [zip215_verify(*item) for item in items] or len(items) > 20


def test_batch_says_which_failed() -> None:
    keys = [pow_rs.SigningKey(i.to_bytes(2, "little") * 16) for i in range(300)]
    items = [(k.public_key, b"voucher %d" % i, k.sign(b"voucher %d" % i)) for i, k in enumerate(keys)]
    bad = {5, 150, 299}
    for i in bad:
        key, message, _ = items[i]
        items[i] = (key, message, keys[(i + 1) % 300].sign(message))
    assert pow_rs.ed25519_verify_batch(items) == [i not in bad for i in range(300)]
    assert pow_rs.ed25519_verify_batch([]) == []


NOT_A_POINT = bytes([2]) + bytes(31)  # y = 2 has no x on the curve


@pytest.mark.parametrize(
    ("key", "signature", "error"),
    [
        (bytes(31), bytes(64), pow_rs.InvalidLengthError),
        (bytes(33), bytes(64), pow_rs.InvalidLengthError),
        (pow_rs.SigningKey(bytes(32)).public_key, bytes(63), pow_rs.InvalidLengthError),
        (pow_rs.SigningKey(bytes(32)).public_key, bytes(65), pow_rs.InvalidLengthError),
        (NOT_A_POINT, bytes(64), pow_rs.InvalidPublicKeyError),
    ],
)
def test_malformed_input_raises_instead_of_false(
    key: bytes, signature: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        pow_rs.ed25519_verify(key, b"m", signature)
    good_key = pow_rs.SigningKey(bytes(32))
    good = (good_key.public_key, b"m", good_key.sign(b"m"))
    with pytest.raises(error, match="item 1" if error is pow_rs.InvalidPublicKeyError else "bytes"):
        pow_rs.ed25519_verify_batch([good, (key, b"m", signature)])


def test_bad_seed_length() -> None:
    with pytest.raises(pow_rs.InvalidLengthError, match="seed"):
        pow_rs.SigningKey(bytes(16))


SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    # Non-canonical names of small-order points: y + p, and x = 0 with the sign bit set.
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0100000000000000000000000000000000000000000000000000000000000080",
]


@pytest.mark.parametrize("encoding", SMALL_ORDER)
def test_small_order_keys_are_not_strong(encoding: str) -> None:
    # ZIP-215 verification takes them (consensus must), but no account or payer may be one.
    assert not pow_rs.ed25519_strong_key(bytes.fromhex(encoding))


def test_strong_keys() -> None:
    for seed in range(20):
        assert pow_rs.ed25519_strong_key(pow_rs.SigningKey(bytes([seed]) * 32).public_key)
    assert not pow_rs.ed25519_strong_key(bytes([2]) + bytes(31))  # not a point at all
    with pytest.raises(pow_rs.InvalidLengthError):
        pow_rs.ed25519_strong_key(bytes(31))
