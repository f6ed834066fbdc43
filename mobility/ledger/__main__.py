"""`python -m mobility.ledger`: run a ledger node alone (with its coordinator if configured)."""

from __future__ import annotations

import uvicorn

from mobility.ledger.config import LedgerSettings, open_node
from mobility.ledger.coordinator import Coordinator
from mobility.ledger.service import create_node_app
from mobility.migrate import upgrade
from mobility.runtime import freeze_startup_heap
from mobility.settings import Settings


def main() -> None:
    """Serve the node on the engine's API host and port."""
    settings, ledger = Settings(), LedgerSettings()
    upgrade(settings.resolved_database_url)
    node = open_node(ledger, settings.resolved_database_url)
    keys = ledger.coordinator_keys()
    coordinator = Coordinator(node, keys) if keys else None
    app = create_node_app(node, coordinator, ledger.milestone_interval_seconds, ledger.remote_pow_policy())
    freeze_startup_heap()
    uvicorn.run(app, host=settings.api_host, port=settings.api_port)


if __name__ == "__main__":
    main()
