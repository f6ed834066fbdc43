"""`GET /me` for API keys, written once: the operator's and the fleet's answer alike.

No `from __future__ import annotations` here: the route is made inside a function, and
FastAPI reads its parameter's annotation, which must be an object, not the name of a local.
"""

from typing import Annotated, Any, Protocol

from fastapi import APIRouter
from pydantic import BaseModel


class KeyHolder(Protocol):
    """The caller of an API-key route: an operator or a fleet."""

    @property
    def tenant_id(self) -> str: ...

    @property
    def scopes(self) -> frozenset[str]: ...


class KeyInfo(BaseModel):
    """The calling key's tenant and scopes."""

    tenant_id: str
    scopes: list[str]


def key_info_router(caller: Any, tenant: str) -> APIRouter:
    """A router with `GET /me` for the keys `caller` (a `Depends`) authenticates; `tenant`
    names what the key belongs to, for the description ("operator", "fleet")."""
    router = APIRouter()
    Caller = Annotated[KeyHolder, caller]  # noqa: N806  (a type alias, named as one)

    @router.get("/me", response_model=KeyInfo)
    async def me(key: Caller) -> KeyInfo:
        return KeyInfo(tenant_id=key.tenant_id, scopes=sorted(key.scopes))

    me.__doc__ = f"Which {tenant} this API key belongs to, and what it may do."
    return router
