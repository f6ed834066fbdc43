"""OCPP timestamps (RFC 3339) to and from aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_timestamp(value: str) -> datetime:
    """An OCPP timestamp (RFC 3339) as an aware UTC datetime; naive input is taken as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    """RFC 3339 with a Z, as OCPP expects."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
