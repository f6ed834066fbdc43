"""The validity check of OCPP request payloads, compiled once per action by jsonschema-rs.

Every CALL is checked against its action's schema. The `ocpp` library's `jsonschema`
validator spends 50-100 us on a MeterValues frame, and the closure compiler this module held
before about 20 us: about a fifth of the engine's CPU per message under load. jsonschema-rs
(Rust; already in the tree through schemathesis, so its pin follows schemathesis's range)
answers "valid or not" in about 1 us. A payload it rejects is re-validated by `jsonschema` to
name the error, so error codes and messages are the library's. Schemas are read as Draft 4, as
the library reads them (its 2.x files say Draft 6), and `format` is not checked, as the library
does not: `tests/ocpp/test_schema.py` checks that both agree on every request schema of every
version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema_rs

Check = Callable[[Any], bool]


def compile_schema(schema: dict[str, Any]) -> Check:
    """A function telling whether a payload is valid against `schema`."""
    return jsonschema_rs.Draft4Validator(schema, validate_formats=False).is_valid


__all__ = ["Check", "compile_schema"]
