"""The engine's HTTP API: one FastAPI app with the routes grouped by who calls them."""

from __future__ import annotations

from fastapi import FastAPI

from mobility.api import driver, fleet, login, ocpp_uploads, operator
from mobility.api.body_limit import BodyLimitMiddleware
from mobility.api.context import ApiContext
from mobility.api.limits import body_limit
from mobility.api.metrics import create_metrics_router
from mobility.api.problems import install_problem_handlers
from mobility.ledger.api import create_ledger_router

DESCRIPTION = """\
Routes by caller: `/driver/...` (the mobile app: a bearer token from `/driver/login`),
`/operator/...` and `/fleet/...` (API keys with scopes: `Authorization: Bearer mob_...`), and
the ledger node's `/ledger/...`. Errors are RFC 9457 problem documents; lists take
`limit` and `offset` and answer with `items` and `total`. Request bodies are bounded per route
(16 KiB for JSON, 64 KiB for a tariff, a block's 32 KiB on the ledger): larger ones get 413.
"""


def create_api(context: ApiContext) -> FastAPI:
    """The app over `context`."""
    app = FastAPI(title="mobility engine", version="0.1.0", description=DESCRIPTION)
    app.add_middleware(BodyLimitMiddleware, limit_for=body_limit)
    app.state.context = context
    install_problem_handlers(app)
    app.include_router(login.router)
    app.include_router(driver.router)
    app.include_router(operator.router)
    app.include_router(fleet.router)
    app.include_router(ocpp_uploads.router)
    app.include_router(create_ledger_router(context.node, pow_policy=context.remote_pow))
    app.include_router(create_metrics_router(context))

    @app.get("/health", tags=["engine"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    return app
