"""The ledger node's HTTP API: a router to mount in the engine's app, or an app of its own."""

from __future__ import annotations

from fastapi import FastAPI

from mobility.ledger.api.remote_pow import RemotePow
from mobility.ledger.api.routes import create_ledger_router
from mobility.ledger.node import Node

__all__ = ["RemotePow", "create_ledger_app", "create_ledger_router"]


def create_ledger_app(node: Node, remote_pow: RemotePow | None = None) -> FastAPI:
    """A FastAPI app serving only the ledger routes."""
    app = FastAPI(title="mobility ledger node", version="0.1.0")
    app.include_router(create_ledger_router(node, pow_policy=remote_pow))
    return app
