"""Session receipts: a JSON document signed by the operator, checkable offline.

The signature covers the canonical JSON of every field but `signature` (sorted keys, no
spaces, UTF-8), so any reader can re-serialise and verify it with the operator's public key
through pow_rs. Once settled, a receipt carries the claim's block ID, milestone index and
inclusion proof.
"""

from __future__ import annotations

import json
from typing import Any

import pow_rs

RECEIPT_VERSION = 1


def canonical(document: dict[str, Any]) -> bytes:
    """The bytes a receipt signature covers."""
    body = {key: value for key, value in document.items() if key != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_receipt(document: dict[str, Any], operator: pow_rs.SigningKey) -> dict[str, Any]:
    """`document` with `version`, the operator's `public_key` and its `signature` added."""
    body = {**document, "version": RECEIPT_VERSION, "public_key": operator.public_key.hex()}
    return {**body, "signature": operator.sign(canonical(body)).hex()}


def verify_receipt(receipt: dict[str, Any], operator_public_key: bytes) -> bool:
    """True when `receipt` was signed by the operator and not altered since."""
    try:
        if bytes.fromhex(str(receipt.get("public_key", ""))) != operator_public_key:
            return False
        signature = bytes.fromhex(str(receipt["signature"]))
        return pow_rs.ed25519_verify(operator_public_key, canonical(receipt), signature)
    except (KeyError, ValueError):
        return False
