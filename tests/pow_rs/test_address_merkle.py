"""Ed25519 addresses in Bech32 (TIP-31) and TIP-4 inclusion Merkle roots and proofs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pow_rs
from tests.conftest import load_vector


def test_tip31_address_and_every_hrp() -> None:
    vector = load_vector("address_tip31.json")
    address = pow_rs.ed25519_address(bytes.fromhex(vector["public_key_hex"]))
    assert address.hex() == vector["address_hex"]
    for hrp, text in vector["bech32"].items():
        assert pow_rs.bech32_encode(hrp, address) == text
        assert pow_rs.bech32_decode(text) == (hrp, address)


@given(hrp=st.from_regex(r"[a-z]{1,10}", fullmatch=True), data=st.binary(max_size=40))
def test_bech32_round_trip(hrp: str, data: bytes) -> None:
    assert pow_rs.bech32_decode(pow_rs.bech32_encode(hrp, data)) == (hrp, data)


def test_bech32_rejects_bad_checksum_and_characters() -> None:
    text = pow_rs.bech32_encode("mob", bytes(33))
    corrupted = text[:-1] + ("q" if text[-1] != "q" else "p")
    with pytest.raises(pow_rs.InvalidEncodingError, match="bech32"):
        pow_rs.bech32_decode(corrupted)
    with pytest.raises(pow_rs.InvalidEncodingError):
        pow_rs.bech32_decode("mob1b" + text[5:])  # 'b' is not in the Bech32 alphabet
    with pytest.raises(pow_rs.InvalidEncodingError):
        pow_rs.bech32_encode("", b"\x01")
    with pytest.raises(pow_rs.InvalidLengthError):
        pow_rs.ed25519_address(bytes(31))


def test_tip4_merkle_vector() -> None:
    vector = load_vector("merkle_tip4.json")
    leaves = [bytes.fromhex(h) for h in vector["leaves_hex"]]
    assert pow_rs.merkle_root(leaves).hex() == vector["root_hex"]
    assert pow_rs.merkle_root([]).hex() == vector["empty_root_hex"]
    assert pow_rs.blake2b_256(b"\x00" + leaves[0]).hex() == vector["first_leaf_hash_hex"]


@given(count=st.integers(1, 40), data=st.data())
def test_every_inclusion_proof_verifies_and_a_wrong_one_does_not(count: int, data: st.DataObject) -> None:
    ids = [pow_rs.blake2b_256(i.to_bytes(4, "little")) for i in range(count)]
    root = pow_rs.merkle_root(ids)
    index = data.draw(st.integers(0, count - 1))
    proof = pow_rs.merkle_proof(ids, index)
    assert pow_rs.merkle_verify(root, ids[index], index, count, proof)
    other = pow_rs.blake2b_256(b"not included")
    assert not pow_rs.merkle_verify(root, other, index, count, proof)
    if proof:
        tampered = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
        assert not pow_rs.merkle_verify(root, ids[index], index, count, tampered)
        assert not pow_rs.merkle_verify(root, ids[index], index, count, proof[:-1])


def test_merkle_bad_input() -> None:
    ids = [bytes(32)] * 3
    with pytest.raises(IndexError):
        pow_rs.merkle_proof(ids, 3)
    with pytest.raises(IndexError):
        pow_rs.merkle_verify(bytes(32), bytes(32), 3, 3, [])
    with pytest.raises(pow_rs.InvalidLengthError, match="block id"):
        pow_rs.merkle_root([bytes(31)])
    with pytest.raises(pow_rs.InvalidLengthError, match="root"):
        pow_rs.merkle_verify(bytes(31), bytes(32), 0, 1, [])
