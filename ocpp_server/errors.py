"""CALLERROR codes as each OCPP version spells them (OCPP-J Part 4, 1.6 errata included).

The `ocpp` library answers 1.6 with 2.x spellings (FormatViolation) and reports missing
required fields as ProtocolError; these tables are what this server sends instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Problem(Enum):
    """A version-neutral kind of failure, mapped to a code per version."""

    UNPARSEABLE = "unparseable"
    BAD_FRAME = "bad_frame"
    UNKNOWN_MESSAGE_TYPE = "unknown_message_type"
    FORMAT = "format"
    TYPE = "type"
    OCCURRENCE = "occurrence"
    PROPERTY = "property"
    NOT_IMPLEMENTED = "not_implemented"  # an action the version does not define
    NOT_SUPPORTED = "not_supported"  # an action the version defines that this server does not handle
    INTERNAL = "internal"


_V16 = {
    # 1.6 has no RpcFrameworkError; its errata keep the "FormationViolation" and
    # "OccurenceConstraintViolation" spellings.
    Problem.UNPARSEABLE: "FormationViolation",
    Problem.BAD_FRAME: "FormationViolation",
    Problem.UNKNOWN_MESSAGE_TYPE: "",  # 1.6 says: ignore the message
    Problem.FORMAT: "FormationViolation",
    Problem.TYPE: "TypeConstraintViolation",
    Problem.OCCURRENCE: "OccurenceConstraintViolation",
    Problem.PROPERTY: "PropertyConstraintViolation",
    Problem.NOT_IMPLEMENTED: "NotImplemented",
    Problem.NOT_SUPPORTED: "NotSupported",
    Problem.INTERNAL: "InternalError",
}
_V2 = {
    Problem.UNPARSEABLE: "RpcFrameworkError",
    Problem.BAD_FRAME: "RpcFrameworkError",
    Problem.UNKNOWN_MESSAGE_TYPE: "MessageTypeNotSupported",
    Problem.FORMAT: "FormatViolation",
    Problem.TYPE: "TypeConstraintViolation",
    Problem.OCCURRENCE: "OccurrenceConstraintViolation",
    Problem.PROPERTY: "PropertyConstraintViolation",
    Problem.NOT_IMPLEMENTED: "NotImplemented",
    Problem.NOT_SUPPORTED: "NotSupported",
    Problem.INTERNAL: "InternalError",
}

# jsonschema keyword -> kind of violation. String lengths are part of OCPP's types
# (CiString20Type...), hence TYPE; value ranges and enumerations are PROPERTY.
_SCHEMA_KEYWORDS = {
    "type": Problem.TYPE,
    "maxLength": Problem.TYPE,
    "minLength": Problem.TYPE,
    "required": Problem.OCCURRENCE,
    "minItems": Problem.OCCURRENCE,
    "maxItems": Problem.OCCURRENCE,
    "enum": Problem.PROPERTY,
    "maximum": Problem.PROPERTY,
    "minimum": Problem.PROPERTY,
    "pattern": Problem.PROPERTY,
    "multipleOf": Problem.PROPERTY,
    "format": Problem.PROPERTY,
}


def error_code(problem: Problem, ocpp_version: str) -> str:
    """The code for `problem` in `ocpp_version` ("" means: send nothing)."""
    return (_V16 if ocpp_version == "1.6" else _V2)[problem]


def problem_for_schema_keyword(keyword: str) -> Problem:
    """Which kind of violation a failed jsonschema keyword is."""
    return _SCHEMA_KEYWORDS.get(keyword, Problem.FORMAT)


@dataclass(frozen=True, slots=True)
class CallErrorFrame:
    """A CALLERROR to send: `[4, id, code, description, details]`."""

    message_id: str
    code: str
    description: str
    details: dict[str, Any]

    def to_json(self) -> str:
        """The frame as compact JSON."""
        return json.dumps(
            [4, self.message_id, self.code, self.description, self.details], separators=(",", ":")
        )
