"""The smallest payload a JSON schema of the `ocpp` library accepts, to send every message a
version defines without writing each by hand: required fields only, the first enum value,
strings and arrays at their minimum, timestamps `NOW`."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from tests.ocpp.frames import NOW


def request_schema(version: str, action: str) -> Any:
    """The library's request schema of `action` on `version`."""
    return _schema(version, action if version == "1.6" else f"{action}Request")


def response_schema(version: str, action: str) -> Any:
    """The library's response schema of `action` on `version`."""
    return _schema(version, f"{action}Response")


def _schema(version: str, name: str) -> Any:
    folder = "v16" if version == "1.6" else f"v{version.replace('.', '')}"
    return json.loads((resources.files("ocpp") / folder / "schemas" / f"{name}.json").read_text())


def minimal(schema: Any, root: Any | None = None) -> Any:
    """The smallest instance of `schema` (its `definitions` resolved against `root`)."""
    root = root or schema
    if "$ref" in schema:
        return minimal(root["definitions"][schema["$ref"].rsplit("/", 1)[-1]], root)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {name: minimal(properties[name], root) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal(schema["items"], root) for _ in range(max(schema.get("minItems", 1), 1))]
    if kind == "string":
        if schema.get("format") == "date-time":
            return NOW
        if schema.get("format") == "uri":
            return "https://example.com/x"
        return "1" * max(schema.get("minLength", 1), 1)  # "1": also a decimal, as meter values are
    if kind == "integer":
        return int(max(schema.get("minimum", 1), 1))
    if kind == "number":
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return False
    return "x"
