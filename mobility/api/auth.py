"""Who is calling: drivers by signed challenge and short-lived bearer token, operators and
fleets by API key with scopes (the login rate limit is a `mobility.ratelimit.RateLimiter`).

Driver tokens are stateless: `base64url(account_id "|" expiry) "." base64url(HMAC-SHA256)`
under a server secret, so a restart with the same secret keeps sessions valid. A driver logs
in by signing `mobility.wire.domains.LOGIN_DOMAIN + challenge` with the Ed25519 key they signed up with.
API keys read `mob_<key id>_<secret>`; only the secret's SHA-256 is stored (it is 256 random
bits, so a slow hash would add nothing).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from mobility.clock import Clock, utc_now

API_KEY_PREFIX = "mob_"

OPERATOR_SCOPES = frozenset(
    {"chargers:read", "chargers:write", "commands", "tariffs", "sessions:read", "metrics"}
)
FLEET_SCOPES = frozenset({"fleet:read", "fleet:write"})
# Whoever runs the engine (`mobility admins add`): the engine-wide figures of `/metrics`.
ADMIN_ROLE = "admin"
ADMIN_SCOPES = frozenset({"metrics"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A bearer token and when it stops working."""

    token: str
    expires_at: datetime


class TokenSigner:
    """Issues and checks drivers' bearer tokens."""

    def __init__(self, secret: bytes, ttl: timedelta = timedelta(minutes=15), clock: Clock = utc_now) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret needs at least 32 bytes")
        self._secret = secret
        self.ttl = ttl
        self.clock = clock

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def issue(self, account_id: str) -> IssuedToken:
        """A token for `account_id`, valid for `ttl`."""
        expires_at = self.clock() + self.ttl
        payload = f"{account_id}|{int(expires_at.timestamp())}".encode()
        return IssuedToken(f"{_b64(payload)}.{_b64(self._mac(payload))}", expires_at)

    def verify(self, token: str) -> str | None:
        """The account ID of a valid, unexpired token; None otherwise."""
        try:
            encoded_payload, encoded_mac = token.split(".")
            payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
            account_id, expiry = payload.decode().rsplit("|", 1)
            expires = int(expiry)
        except (ValueError, UnicodeDecodeError):
            return None
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        if self.clock().timestamp() >= expires:
            return None
        return account_id


class Challenges:
    """One-time login challenges, each valid for `ttl` and for one public key."""

    def __init__(self, ttl: timedelta = timedelta(minutes=2), clock: Clock = utc_now, limit: int = 10_000):
        self.ttl = ttl
        self.clock = clock
        self.limit = limit
        self._open: dict[bytes, tuple[str, datetime]] = {}

    def issue(self, public_key_hex: str) -> tuple[bytes, datetime]:
        """A fresh 32-byte challenge for the key, and when it expires."""
        now = self.clock()
        if len(self._open) >= self.limit:  # forget expired ones before growing further
            self._open = {c: v for c, v in self._open.items() if v[1] > now}
        challenge, expires_at = secrets.token_bytes(32), now + self.ttl
        self._open[challenge] = (public_key_hex, expires_at)
        return challenge, expires_at

    def take(self, public_key_hex: str, challenge: bytes) -> bool:
        """True once for an issued, unexpired challenge of this key (it is used up either way)."""
        entry = self._open.pop(challenge, None)
        return entry is not None and entry[0] == public_key_hex and self.clock() < entry[1]


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly made key: show `key` once; store `key_id` and `secret_sha256`."""

    key: str
    key_id: str
    secret_sha256: str


def new_api_key() -> NewApiKey:
    """A random API key."""
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    return NewApiKey(f"{API_KEY_PREFIX}{key_id}_{secret}", key_id, secret_digest(secret))


def secret_digest(secret: str) -> str:
    """What is stored of an API key's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def split_api_key(key: str) -> tuple[str, str] | None:
    """`(key_id, secret)` of a well-formed key, else None."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    key_id, _, secret = key[len(API_KEY_PREFIX) :].partition("_")
    if len(key_id) != 16 or not secret:
        return None
    return key_id, secret


@dataclass(frozen=True, slots=True)
class DriverPrincipal:
    """A logged-in driver."""

    account_id: str


@dataclass(frozen=True, slots=True)
class OperatorPrincipal:
    """A charge-point operator's API key."""

    operator_id: str
    scopes: frozenset[str]

    @property
    def tenant_id(self) -> str:
        """The key's tenant: the operator."""
        return self.operator_id


@dataclass(frozen=True, slots=True)
class FleetPrincipal:
    """A fleet operator's API key; `account_id` is the fleet's payment account."""

    account_id: str
    scopes: frozenset[str]

    @property
    def tenant_id(self) -> str:
        """The key's tenant: the fleet's account."""
        return self.account_id
