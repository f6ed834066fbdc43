"""The API layer's own rows: operators, API keys and drivers' keys (synchronous; routes call it
through `asyncio.to_thread` or from sync endpoints, which FastAPI runs in its thread pool)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mobility.api.auth import NewApiKey, new_api_key, secret_digest, split_api_key
from mobility.api.models import ApiKeyRecord, DriverKeyRecord, OperatorRecord
from mobility.clock import Clock, utc_now
from mobility.fleet.models import FleetPayerKeyRecord
from mobility.payments.store import PaymentStore


class AlreadyExistsError(Exception):
    """The row to create exists already."""


class ApiStore:
    """Tenants and credentials."""

    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def add_operator(self, operator_id: str, name: str = "") -> None:
        """Register an operator (idempotent)."""
        with self._session() as db:
            if db.get(OperatorRecord, operator_id) is None:
                db.add(OperatorRecord(id=operator_id, name=name))
                db.commit()

    def operator(self, operator_id: str) -> OperatorRecord | None:
        """An operator by ID."""
        with self._session() as db:
            return db.get(OperatorRecord, operator_id)

    def add_api_key(self, role: str, tenant_id: str, scopes: frozenset[str]) -> NewApiKey:
        """A new key for the operator or fleet `tenant_id`; the returned key is shown once."""
        key = new_api_key()
        with self._session() as db:
            db.add(
                ApiKeyRecord(
                    key_id=key.key_id,
                    secret_sha256=key.secret_sha256,
                    role=role,
                    tenant_id=tenant_id,
                    scopes=" ".join(sorted(scopes)),
                    created_at=self.clock(),
                )
            )
            db.commit()
        return key

    def api_key(self, key: str) -> ApiKeyRecord | None:
        """The live key record matching `key` (secret compared in constant time), else None."""
        parts = split_api_key(key)
        if parts is None:
            return None
        key_id, secret = parts
        with self._session() as db:
            record = db.get(ApiKeyRecord, key_id)
        if record is None or record.revoked:
            return None
        if not hmac.compare_digest(record.secret_sha256, secret_digest(secret)):
            return None
        return record

    def revoke_api_key(self, key_id: str) -> bool:
        """Revoke a key; False if there is no such key."""
        with self._session() as db:
            record = db.get(ApiKeyRecord, key_id)
            if record is None:
                return False
            record.revoked = True
            db.add(record)
            db.commit()
            return True

    def add_driver(self, public_key: bytes, name: str = "") -> str:
        """Sign a driver up with their Ed25519 public key; returns the new account's ID."""
        account_id = "driver-" + hashlib.blake2b(public_key, digest_size=10).hexdigest()
        with self._session() as db:
            if db.get(DriverKeyRecord, public_key.hex()) is not None:
                raise AlreadyExistsError("this public key is signed up already")
            if db.get(FleetPayerKeyRecord, public_key.hex()) is not None:
                raise AlreadyExistsError("this public key is a fleet's payer key")
        # The account is the payment layer's row (its one writer); its ID follows from the key, so
        # a sign-up that loses the race below finds the same account made already.
        with contextlib.suppress(IntegrityError):  # made by a concurrent sign-up with this key
            PaymentStore(self.engine).add_account(account_id, "driver", name)
        with self._session() as db:
            db.add(
                DriverKeyRecord(public_key=public_key.hex(), account_id=account_id, created_at=self.clock())
            )
            try:
                db.commit()
            except IntegrityError as error:  # a concurrent sign-up with the same key won
                raise AlreadyExistsError("this public key is signed up already") from error
        return account_id

    def driver_by_key(self, public_key: bytes) -> DriverKeyRecord | None:
        """The driver who signed up with `public_key`."""
        with self._session() as db:
            return db.get(DriverKeyRecord, public_key.hex())

    def driver_key_of(self, account_id: str) -> DriverKeyRecord | None:
        """A driver's key by account."""
        with self._session() as db:
            return db.exec(select(DriverKeyRecord).where(DriverKeyRecord.account_id == account_id)).first()
