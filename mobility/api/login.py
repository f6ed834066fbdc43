"""Drivers sign up with an Ed25519 public key and log in by signing a challenge: no passwords."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from pydantic import BaseModel

import pow_rs
from mobility.api.context import Context, Driver
from mobility.api.problems import Problem
from mobility.api.store import AlreadyExistsError
from mobility.wire.domains import LOGIN_DOMAIN, SIGNUP_DOMAIN
from mobility.wire.payer_api import ChallengeOut, ChallengeRequest, Login, SignedUp, SignUp, TokenOut

router = APIRouter(prefix="/driver", tags=["driver: account"])


def _too_many(retry: float | None) -> None:
    if retry is not None:
        raise Problem(
            429,
            "Too many login attempts",
            f"try again in {retry:.0f} s",
            "rate-limited",
            {"Retry-After": str(max(1, round(retry)))},
        )


def _limit_client(context: Context, request: Request) -> None:
    """Every challenge and login counts against the calling address."""
    _too_many(context.login_limiter.hit(f"ip:{request.client.host if request.client else 'unknown'}"))


def _key_bucket(public_key: str) -> str:
    # Only failed signature checks count against a key: asking for challenges, or sending junk
    # ones, must not let anyone lock a driver out.
    return f"key:{public_key.lower()}"


@router.post("/signup", status_code=201, response_model=SignedUp)
async def sign_up(body: SignUp, context: Context) -> SignedUp:
    """Create a driver account for a public key (409 if it has one, or is a fleet's)."""
    public_key = bytes.fromhex(body.public_key)
    if not pow_rs.ed25519_strong_key(public_key):
        # A small-order key "signs" whatever anyone wants: the all-zero key took the all-zero
        # signature as its proof, and then anyone could log in as it.
        raise Problem(422, "Weak key", "a small-order or non-canonical key names nobody", "weak-key")
    try:
        held = pow_rs.ed25519_verify(public_key, SIGNUP_DOMAIN + public_key, bytes.fromhex(body.signature))
    except pow_rs.PowRsError:  # not a curve point
        held = False
    if not held:
        raise Problem(422, "Invalid proof", "sign SIGNUP_DOMAIN + the public key with it", "invalid-proof")
    try:
        account_id = await asyncio.to_thread(
            context.api_store.add_driver, bytes.fromhex(body.public_key), body.name
        )
    except AlreadyExistsError as error:
        raise Problem(409, "Already signed up", str(error), "already-exists") from error
    return SignedUp(account_id=account_id)


@router.post("/login/challenge", response_model=ChallengeOut)
async def login_challenge(body: ChallengeRequest, context: Context, request: Request) -> ChallengeOut:
    """A one-time challenge to sign (rate limited per client address)."""
    _limit_client(context, request)
    challenge, expires_at = context.challenges.issue(body.public_key.lower())
    return ChallengeOut(challenge=challenge.hex(), expires_at=expires_at)


@router.post("/login", response_model=TokenOut)
async def login(body: Login, context: Context, request: Request) -> TokenOut:
    """Exchange a signed challenge for a short-lived bearer token (rate limited per client
    address, and per key after failed attempts)."""
    _limit_client(context, request)
    _too_many(context.login_limiter.check(_key_bucket(body.public_key)))
    public_key, challenge = bytes.fromhex(body.public_key), bytes.fromhex(body.challenge)
    # A challenge never issued for this key (junk, stale, another key's) fails before any
    # signature is checked: it counts against the caller's address only. Counting it against
    # the key let anyone lock a driver out by naming their key.
    if not context.challenges.take(body.public_key.lower(), challenge):
        raise Problem(401, "Login failed", "unknown key, stale challenge or bad signature", "login-failed")
    try:
        # A weak key signed up before keys were checked: anyone could sign its challenge.
        signed = pow_rs.ed25519_strong_key(public_key) and pow_rs.ed25519_verify(
            public_key, LOGIN_DOMAIN + challenge, bytes.fromhex(body.signature)
        )
    except pow_rs.PowRsError:  # not a curve point: no valid signature is possible
        signed = False
    driver = await asyncio.to_thread(context.api_store.driver_by_key, public_key) if signed else None
    if driver is None:
        context.login_limiter.hit(_key_bucket(body.public_key))
        raise Problem(401, "Login failed", "unknown key, stale challenge or bad signature", "login-failed")
    issued = context.tokens.issue(driver.account_id)
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at, account_id=driver.account_id)


class Me(BaseModel):
    """The logged-in driver."""

    account_id: str
    name: str
    public_key: str


@router.get("/me", response_model=Me)
async def me(driver: Driver, context: Context) -> Me:
    """Who the token belongs to."""
    account = await asyncio.to_thread(context.payment_store.account, driver.account_id)
    key = await asyncio.to_thread(context.api_store.driver_key_of, driver.account_id)
    if account is None or key is None:
        raise Problem(404, "Not found", "this account no longer exists", "not-found")
    return Me(account_id=account.id, name=account.name, public_key=key.public_key)
