"""The compiled schema check (jsonschema-rs) agrees with `jsonschema` on every request schema.

Payloads are drawn from each schema, mostly valid, with random breakage (missing required
field, wrong type, unknown field, over-long string, value outside an enum).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator  # type: ignore[import-untyped]

from ocpp_server.schema import compile_schema

OCPP_DIR = Path(str(__import__("ocpp").__file__)).parent
JUNK: list[Any] = [None, 0, -1, 1.5, True, "", "x", [], {}, "2026-01-01T00:00:00Z"]


def _request_schemas(version_dir: str) -> list[Path]:
    files = sorted((OCPP_DIR / version_dir / "schemas").glob("*.json"))
    return [path for path in files if not path.stem.endswith("Response")]


def _load(path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8-sig"))
    return schema


@st.composite
def _instance(draw: st.DrawFn, schema: dict[str, Any], root: dict[str, Any], depth: int = 0) -> Any:
    if "$ref" in schema:
        schema = root["definitions"][schema["$ref"].rsplit("/", 1)[1]]
    if draw(st.integers(0, 24)) == 0 or depth > 6:
        return draw(st.sampled_from(JUNK))
    kind = schema.get("type", "object")
    if "enum" in schema:
        return draw(st.sampled_from([*schema["enum"], "NotInTheEnum"]))
    if kind == "string":
        longest = schema.get("maxLength", 30)
        return draw(st.text(max_size=min(longest + 2, 60)))
    if kind == "integer":
        return draw(st.integers(-3, 3000))
    if kind == "number":
        return draw(st.one_of(st.integers(-3, 3000), st.floats(-1e3, 1e5, allow_nan=False)))
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "array":
        item = schema.get("items", {})
        return draw(st.lists(_instance(item, root, depth + 1), max_size=3))
    required = set(schema.get("required", []))
    value: dict[str, Any] = {}
    for name, sub in schema.get("properties", {}).items():
        if name in required or draw(st.booleans()):
            value[name] = draw(_instance(sub, root, depth + 1))
    if required and draw(st.integers(0, 19)) == 0:
        value.pop(draw(st.sampled_from(sorted(required))), None)
    if draw(st.integers(0, 19)) == 0:
        value["unexpectedField"] = 1
    return value


@pytest.mark.parametrize("version_dir", ["v16", "v201", "v21"])
@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_compiled_check_agrees_with_jsonschema(version_dir: str, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_request_schemas(version_dir)))
    schema = _load(path)
    fast = compile_schema(schema)
    payload = data.draw(_instance(schema, schema))
    assert fast(payload) == Draft4Validator(schema).is_valid(payload), (path.name, payload)


def test_every_request_schema_compiles() -> None:
    for version_dir in ("v16", "v201", "v21"):
        for path in _request_schemas(version_dir):
            compile_schema(_load(path))


@pytest.mark.parametrize("value", [1, 1.0, 1.5, True, 10**30, 1e30, "1", None])
def test_integers_are_read_as_draft_4_reads_them(value: object) -> None:
    """Draft 4: 1.0 is a number but not an integer, booleans are neither (Draft 6 differs)."""
    schema = {"type": "object", "properties": {"connectorId": {"type": "integer"}}}
    payload = {"connectorId": value}
    assert compile_schema(schema)(payload) == Draft4Validator(schema).is_valid(payload)
