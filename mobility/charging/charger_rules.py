"""What registering a charge point must satisfy, whoever does it (operator API or CLI).

The ID is safe in a URL path and as a Basic-auth user; the password is OCPP's
BasicAuthPassword (security profiles 1 and 2): 16 to 40 characters.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

MAX_ID_LENGTH = 48
CHARGE_POINT_PATTERN = r"^[A-Za-z0-9._@+-]+$"
PASSWORD_MIN, PASSWORD_MAX = 16, 40

ChargePointId = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH, pattern=CHARGE_POINT_PATTERN)
]
Password = Annotated[str, StringConstraints(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]


def id_problem(charge_point_id: str) -> str | None:
    """Why `charge_point_id` cannot be registered, or None."""
    if not 0 < len(charge_point_id) <= MAX_ID_LENGTH or not re.fullmatch(
        CHARGE_POINT_PATTERN, charge_point_id
    ):
        return f"a charge point ID has 1 to {MAX_ID_LENGTH} of the characters A-Z a-z 0-9 . _ @ + -"
    return None


def password_problem(password: str) -> str | None:
    """Why `password` cannot be a charge point's password, or None."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return f"a charge point password has {PASSWORD_MIN} to {PASSWORD_MAX} characters"
    return None
