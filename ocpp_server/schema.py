"""A fast validity check for OCPP's JSON schemas, compiled once per action into closures.

`jsonschema` spends ~50-100 us per MeterValues frame; this check costs a few. It answers
only "valid or not": a payload it rejects is re-validated by `jsonschema` to name the error,
so error codes are unchanged. It understands exactly the Draft-4 subset OCPP uses (type,
properties, required, additionalProperties, enum, maxLength, minLength, items, minItems,
maxItems, minimum, maximum, $ref to local definitions); a schema with anything else is
refused at compile time and left to `jsonschema`. `tests/ocpp/test_schema.py` checks that it
agrees with `jsonschema` on every inbound schema of every version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

_IGNORED = {"description", "javaType", "$schema", "$id", "id", "comment", "title", "default", "format"}
_HANDLED = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "enum",
    "maxLength",
    "minLength",
    "items",
    "additionalItems",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "$ref",
    "definitions",
}


class UnsupportedSchemaError(ValueError):
    """The schema uses a keyword this compiler does not implement."""


def _is_integer(value: Any) -> bool:
    # Draft 4: 1.0 is a number but not an integer; booleans are neither.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "null": lambda value: value is None,
}


def compile_schema(root: dict[str, Any]) -> Check:
    """A function telling whether a payload is valid against `root`."""
    definitions: dict[str, Any] = root.get("definitions", {})
    compiled: dict[str, Check] = {}

    def reference(ref: str) -> Check:
        if not ref.startswith("#/definitions/"):
            raise UnsupportedSchemaError(ref)
        name = ref[len("#/definitions/") :]
        if name not in compiled:
            compiled[name] = lambda value: compiled[name](value)  # placeholder for recursion
            compiled[name] = build(definitions[name])
        return compiled[name]

    def build(schema: dict[str, Any]) -> Check:
        unknown = set(schema) - _HANDLED - _IGNORED
        if unknown:
            raise UnsupportedSchemaError(", ".join(sorted(unknown)))
        if "$ref" in schema:
            # Draft 4: "$ref" replaces every sibling keyword.
            return reference(schema["$ref"])
        checks: list[Check] = []
        if "type" in schema:
            kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            type_checks = [_TYPES[kind] for kind in kinds]
            checks.append(lambda value: any(check(value) for check in type_checks))
        if "enum" in schema:
            options = schema["enum"]
            if not all(isinstance(option, str) for option in options):
                raise UnsupportedSchemaError("non-string enum")
            allowed = frozenset(options)
            checks.append(lambda value: isinstance(value, str) and value in allowed)
        checks.extend(_string_checks(schema))
        checks.extend(_number_checks(schema))
        checks.extend(_object_checks(schema, build))
        checks.extend(_array_checks(schema, build))
        if len(checks) == 1:
            return checks[0]
        return lambda value: all(check(value) for check in checks)

    return build(root)


def _string_checks(schema: dict[str, Any]) -> list[Check]:
    checks: list[Check] = []
    if "maxLength" in schema:
        longest = int(schema["maxLength"])
        checks.append(lambda value: not isinstance(value, str) or len(value) <= longest)
    if "minLength" in schema:
        shortest = int(schema["minLength"])
        checks.append(lambda value: not isinstance(value, str) or len(value) >= shortest)
    return checks


def _number_checks(schema: dict[str, Any]) -> list[Check]:
    checks: list[Check] = []
    if schema.get("exclusiveMinimum") or schema.get("exclusiveMaximum"):
        raise UnsupportedSchemaError("exclusive bounds")
    if "minimum" in schema:
        low = schema["minimum"]
        checks.append(lambda value: not _is_number(value) or value >= low)
    if "maximum" in schema:
        high = schema["maximum"]
        checks.append(lambda value: not _is_number(value) or value <= high)
    return checks


def _object_checks(schema: dict[str, Any], build: Callable[[dict[str, Any]], Check]) -> list[Check]:
    checks: list[Check] = []
    properties = {name: build(sub) for name, sub in schema.get("properties", {}).items()}
    required = list(schema.get("required", []))
    additional = schema.get("additionalProperties", True)
    if isinstance(additional, dict):
        raise UnsupportedSchemaError("additionalProperties schema")
    closed = additional is False
    if properties or required or closed:

        def check_object(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for name in required:
                if name not in value:
                    return False
            for name, item in value.items():
                check = properties.get(name)
                if check is None:
                    if closed:
                        return False
                elif not check(item):
                    return False
            return True

        checks.append(check_object)
    return checks


def _array_checks(schema: dict[str, Any], build: Callable[[dict[str, Any]], Check]) -> list[Check]:
    checks: list[Check] = []
    items = schema.get("items")
    if isinstance(items, list):
        raise UnsupportedSchemaError("tuple items")
    item_check = build(items) if isinstance(items, dict) else None
    fewest = int(schema.get("minItems", 0))
    most = schema.get("maxItems")
    if item_check is not None or fewest or most is not None:

        def check_array(value: Any) -> bool:
            if not isinstance(value, list):
                return True
            if len(value) < fewest or (most is not None and len(value) > most):
                return False
            return item_check is None or all(item_check(item) for item in value)

        checks.append(check_array)
    return checks
