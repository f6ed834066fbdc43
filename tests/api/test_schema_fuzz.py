"""Schemathesis over every route of the OpenAPI document, against `mobility serve` as a real
process on each database backend: generated requests (valid and invalid) never get a 5xx.

Each route is called with the credentials of the role it belongs to, so generation reaches
past authentication; examples per route are bounded to keep CI short.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

import pow_rs
from mobility.wire.domains import LOGIN_DOMAIN
from testkit.process import engine_env, mobility, serving
from tests.api.conftest import signup_body

EXAMPLES = int(os.environ.get("MOBILITY_SCHEMA_FUZZ_EXAMPLES", "25"))


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """A served engine's base URL and a credential header per route prefix."""
    env = engine_env(
        tmp_path,
        database_url,
        payments_enabled="true",
        accept_unknown_chargers="true",
        ledger_min_pow_score="1",
        ledger_milestone_interval_seconds="3600",
    )
    operator_key = mobility(env, "operators", "add", "op-fuzz").strip()
    fleet_key = mobility(env, "fleets", "add", "fleet-fuzz").strip()
    with serving(env):
        base_url = f"http://127.0.0.1:{env['MOBILITY_API_PORT']}"
        key = pow_rs.SigningKey(bytes([0x77]) * 32)
        with httpx.Client(base_url=base_url, timeout=30) as http:
            http.post("/driver/signup", json=signup_body(key)).raise_for_status()
            challenge = http.post("/driver/login/challenge", json={"public_key": key.public_key.hex()}).json()
            signature = key.sign(LOGIN_DOMAIN + bytes.fromhex(challenge["challenge"])).hex()
            body = {
                "public_key": key.public_key.hex(),
                "challenge": challenge["challenge"],
                "signature": signature,
            }
            token = http.post("/driver/login", json=body).json()["access_token"]
        yield (
            base_url,
            {
                "driver": {"Authorization": f"Bearer {token}"},
                "operator": {"Authorization": f"Bearer {operator_key}"},
                "fleet": {"Authorization": f"Bearer {fleet_key}"},
            },
        )


def test_no_route_answers_with_a_server_error(served: tuple[str, dict[str, dict[str, str]]]) -> None:
    base_url, credentials = served
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # the document itself must be valid
        operations.append(result.ok())
    assert len(operations) > 10
    failures: list[str] = []
    for operation in operations:
        headers = credentials.get(operation.path.split("/")[1], {})

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(base_url=base_url, headers=headers, checks=[not_a_server_error])  # noqa: B023

        try:
            call()
        # Collect every failing route, then fail once with all of them (schemathesis reports
        # a route's failures as a BaseExceptionGroup).
        except (Exception, BaseExceptionGroup) as error:
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert failures == []
