"""`mobility serve`'s token options checked against the rest of the settings before start.

The allow-list joins the authorization order (`mobility/charging/auth_order.py`) after the
operators' tokens and before the payment rules; a setting that could not apply as written is
an error at start, never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mobility.charging.authorization import AllowListAuthorizer
from mobility.payments.accounts import is_app_token

# 1.6 idTag is CiString20; 2.x idToken is 36 characters; printable, no spaces.
_TOKEN = re.compile(r"[\x21-\x7e]{1,36}")


class TokenSettingsError(ValueError):
    """The token options cannot apply together with the other settings."""


def allow_list_for(
    allowed_tokens: Sequence[str], accept_all: bool, payments_enabled: bool
) -> AllowListAuthorizer | None:
    """The allow-list the options describe (None when empty), or `TokenSettingsError`."""
    if accept_all and payments_enabled:
        raise TokenSettingsError(
            "--accept-all-tokens cannot apply with payments on: every token would charge unbilled "
            "and the payment rules would never decide; list tokens with --allow-token instead"
        )
    if accept_all and allowed_tokens:
        raise TokenSettingsError(
            "--allow-token has no effect with --accept-all-tokens: give one or the other"
        )
    for token in allowed_tokens:
        if _TOKEN.fullmatch(token) is None:
            raise TokenSettingsError(f"--allow-token {token!r}: 1 to 36 printable characters, no spaces")
        if payments_enabled and is_app_token(token):
            raise TokenSettingsError(
                f"--allow-token {token!r} has a driver app token's shape: with payments on it would let "
                "that driver charge unbilled"
            )
    if not allowed_tokens and not accept_all:
        return None
    return AllowListAuthorizer(allowed_tokens, accept_all)
