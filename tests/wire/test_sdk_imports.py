"""The payer SDK carries no server: importing every module of `mobility.wallet` and
`mobility.wire` in a fresh interpreter loads no other project package and no server framework
(a mobile backend or a fleet installs the SDK to sign vouchers, not to run an engine)."""

from __future__ import annotations

import json
import subprocess
import sys

SDK = ("mobility.wallet", "mobility.wire")
SERVER_FRAMEWORKS = frozenset(
    {"alembic", "fastapi", "ocpp", "sqlalchemy", "sqlmodel", "starlette", "uvicorn"}
)

# Imports the named packages and every module under them, then prints what is loaded.
_PROBE = """
import importlib, json, pkgutil, sys
for name in sys.argv[1:]:
    package = importlib.import_module(name)
    for found in pkgutil.walk_packages(getattr(package, "__path__", []), name + "."):
        importlib.import_module(found.name)
print(json.dumps(sorted(sys.modules)))
"""


def loaded_after_importing(*packages: str) -> list[str]:
    """Every module in `sys.modules` of a fresh interpreter that imported `packages` fully."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *packages], capture_output=True, text=True, check=True, timeout=120
    )
    modules: list[str] = json.loads(done.stdout)
    return modules


def server_modules(modules: list[str]) -> list[str]:
    """The modules among `modules` that belong to the server side."""

    def is_server(module: str) -> bool:
        top = module.split(".")[0]
        if top in SERVER_FRAMEWORKS or top == "ocpp_server":
            return True
        if top != "mobility" or module == "mobility":
            return False
        return not any(module == sdk or module.startswith(sdk + ".") for sdk in SDK)

    return [module for module in modules if is_server(module)]


def test_the_sdk_and_the_wire_package_load_no_server_code() -> None:
    loaded = loaded_after_importing(*SDK)
    assert "mobility.wallet.api_client" in loaded
    assert "mobility.wire.codec.voucher" in loaded
    assert server_modules(loaded) == []


def test_the_check_sees_a_server_module() -> None:
    """The probe and the filter would notice: a server module drags in its framework."""
    loaded = loaded_after_importing("mobility.wire", "mobility.api.auth")
    assert "mobility.api.auth" in server_modules(loaded)
    assert "fastapi" in server_modules(loaded_after_importing("mobility.ledger.api"))
