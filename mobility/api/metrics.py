"""`GET /metrics`: the engine in Prometheus text format, for an operator key with `metrics`.

Every value is read when scraped (live connections and voucher counts from memory, the rest
from the database), through a collector on a registry of this app's own, so several engines
in one process (tests) never share or clash over the global registry. The figures are the
whole engine's, not one operator's: the `metrics` scope is for whoever runs the engine (the key
`mobility operators add` prints has it; keys given to other tenants should not).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlmodel import col

from mobility.api.auth import OperatorPrincipal
from mobility.api.context import ApiContext, operator_with
from mobility.charging.models import SessionRecord
from mobility.payments.models import SettlementRecord

SETTLEMENT_STATUSES = ("intent", "built", "submitted", "confirmed", "failed")


class EngineCollector(Collector):
    """Reads the engine's figures at scrape time."""

    def __init__(self, context: ApiContext) -> None:
        self.context = context

    def collect(self) -> Iterable[Metric]:
        """One family per figure (runs in a worker thread: it queries the database)."""
        context = self.context
        connections = GaugeMetricFamily(
            "mobility_ocpp_connections", "Charge points connected over OCPP-J now."
        )
        connections.add_metric([], context.central.connection_count if context.central else 0)
        yield connections

        sessions = SessionRecord
        with context.api_store.engine.connect() as db:
            active = db.execute(
                select(func.count()).select_from(sessions).where(col(sessions.ended_at).is_(None))
            ).scalar_one()
            energy = db.execute(select(func.coalesce(func.sum(col(sessions.energy_wh)), 0))).scalar_one()
            statuses = select(col(SettlementRecord.status), func.count()).group_by(
                col(SettlementRecord.status)
            )
            by_status: dict[str, int] = {status: count for status, count in db.execute(statuses)}
        yield GaugeMetricFamily("mobility_sessions_active", "Charging sessions not ended.", value=active)
        yield CounterMetricFamily(
            "mobility_energy_delivered_wh", "Energy metered in all sessions, in Wh.", value=energy
        )
        settlements = GaugeMetricFamily(
            "mobility_settlements", "Settlements (ledger claims) by status.", labels=["status"]
        )
        for status in sorted(set(SETTLEMENT_STATUSES) | set(by_status)):
            settlements.add_metric([status], by_status.get(status, 0))
        yield settlements

        vouchers = CounterMetricFamily(
            "mobility_vouchers",
            "Payment vouchers by outcome and rejection reason.",
            labels=["outcome", "reason"],
        )
        outcomes = context.payments.voucher_outcomes if context.payments is not None else {}
        vouchers.add_metric(["accepted", ""], outcomes.get("accepted", 0))
        for reason, count in sorted(outcomes.items()):
            if reason != "accepted":
                vouchers.add_metric(["rejected", reason], count)
        yield vouchers

        latest = context.node.store.latest_milestone()
        yield GaugeMetricFamily(
            "mobility_ledger_milestone_index",
            "Index of the latest applied milestone (0: none yet).",
            value=latest.milestone_index if latest is not None else 0,
        )


def create_metrics_router(context: ApiContext) -> APIRouter:
    """The `/metrics` route over a registry holding only this app's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(context))
    router = APIRouter(tags=["engine"])

    @router.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
    )
    async def metrics(_: Annotated[OperatorPrincipal, operator_with("metrics")]) -> Response:
        """Prometheus text format; scrape with an operator API key as the bearer token."""
        body = await asyncio.to_thread(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
