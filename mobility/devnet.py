"""The development network an engine runs on when nothing else is configured.

On first start it writes, under `<data dir>/ledger/`, a coordinator seed, a faucet seed, the
operator's seed and a genesis file giving the faucet its funds; later starts reuse them, so
the chain in the database stays valid. Nothing here is hard-coded: every file can be replaced,
and `MOBILITY_LEDGER_*` settings take precedence.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pow_rs
from mobility.ledger.config import LedgerSettings

FAUCET_FUNDS = 10**15  # micro-units: a billion units of the development currency


def _seed(path: Path) -> bytes:
    """The 32-byte seed stored (hex) at `path`, created with owner-only permissions if missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    return pow_rs.from_hex(path.read_text().strip(), 32)


def operator_seed(data_dir: Path) -> bytes:
    """The charge-point operator's wallet seed (the payee of every channel)."""
    return _seed(data_dir / "ledger" / "operator.seed")


def api_token_secret(data_dir: Path) -> bytes:
    """The key that signs drivers' bearer tokens (kept, so a restart keeps them valid)."""
    return _seed(data_dir / "api-token.secret")


def faucet_seed(data_dir: Path) -> bytes:
    """The development faucet's seed: it holds the genesis funds."""
    return _seed(data_dir / "ledger" / "faucet.seed")


def development_ledger(settings: LedgerSettings, data_dir: Path) -> LedgerSettings:
    """`settings` with a coordinator key file and a genesis file filled in when not configured."""
    folder = data_dir / "ledger"
    changes: dict[str, object] = {}
    if settings.coordinator_key_file is None:
        _seed(folder / "coordinator.seed")
        changes["coordinator_key_file"] = folder / "coordinator.seed"
    if settings.genesis_file is None:
        genesis = folder / "genesis.json"
        if not genesis.exists():
            faucet = pow_rs.SigningKey(faucet_seed(data_dir))
            address = pow_rs.bech32_encode(settings.bech32_hrp, pow_rs.ed25519_address(faucet.public_key))
            genesis.write_text(json.dumps({"allocations": [{"address": address, "amount": FAUCET_FUNDS}]}))
        changes["genesis_file"] = genesis
    return settings.model_copy(update=changes)
