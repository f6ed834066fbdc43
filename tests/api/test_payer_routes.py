"""The routes drivers and fleets share (`/operator`, `/channels/...`, written once in
`mobility.api.payer_routes`) and the API keys' `/me` (`mobility.api.key_info`) are served at the
URLs, with the operation IDs and tags, they had when each was written twice (their behaviour
per caller is in `test_driver_channels.py`, `test_fleet_channels.py` and `test_auth.py`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from mobility.api import driver, fleet, operator

PAYER_OPERATIONS = {
    ("get", "/operator", "operator_info"),
    ("post", "/channels", "register_channel"),
    ("get", "/channels", "list_channels"),
    ("get", "/channels/{channel_id}", "get_channel"),
    ("post", "/channels/{channel_id}/refresh", "refresh_channel"),
    ("post", "/channels/{channel_id}/close", "close_channel"),
}


def _app() -> FastAPI:
    app = FastAPI()
    for router in (driver.router, operator.router, fleet.router):
        app.include_router(router)
    return app


def _operations(app: FastAPI) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
    }


def test_payer_routes_keep_their_urls_operation_ids_and_tags() -> None:
    operations = _operations(_app())
    for prefix, tags in (("/driver", ["driver"]), ("/fleet", ["fleet", "fleet"])):
        for method, path, name in PAYER_OPERATIONS:
            operation = operations[(method, prefix + path)]
            expected_id = (
                f"{name}{prefix}{path}_{method}".replace("/", "_").replace("{", "_").replace("}", "_")
            )
            assert operation["operationId"] == expected_id
            assert operation["tags"] == tags
    for prefix in ("/operator", "/fleet"):
        assert operations[("get", f"{prefix}/me")]["operationId"] == f"me_{prefix[1:]}_me_get"


def test_the_key_info_schema_is_one_model() -> None:
    schemas = _app().openapi()["components"]["schemas"]
    assert [name for name in schemas if "KeyInfo" in name] == ["KeyInfo"]
