"""`GET /metrics`: the engine in Prometheus text format.

An engine-admin key (`mobility admins add`) reads the whole engine's figures; an operator key
with the `metrics` scope reads the same families over its own charge points only (connections,
sessions, energy, the settlements covering its sessions) and not the voucher counts, which are
kept engine-wide. Every value is read when scraped (live connections and voucher counts from
memory, the rest from the database), through a collector on a registry of the scrape's own, so
several engines in one process (tests) never share or clash over the global registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Select, func, select
from sqlmodel import col

from mobility.api.context import ApiContext, metrics_reader
from mobility.charging.models import ChargePointRecord, SessionRecord
from mobility.payments.models import SessionPaymentRecord, SettlementRecord
from ocpp_server.call_times import BUCKETS_S

SETTLEMENT_STATUSES = ("intent", "built", "submitted", "confirmed", "failed")


class EngineCollector(Collector):
    """Reads the engine's figures at scrape time: all of them, or one operator's."""

    def __init__(self, context: ApiContext, operator_id: str | None = None) -> None:
        self.context = context
        self.operator_id = operator_id

    def _connections(self, db: Connection) -> int:
        central = self.context.central
        if central is None:
            return 0
        if self.operator_id is None:
            return central.connection_count
        owned = select(col(ChargePointRecord.id)).where(
            col(ChargePointRecord.operator_id) == self.operator_id
        )
        return sum(1 for (charge_point_id,) in db.execute(owned) if central.is_connected(charge_point_id))

    def _owned(self, query: Select[Any], charge_point_id: Any) -> Select[Any]:
        """`query` over the operator's charge points only (all of them for the engine)."""
        if self.operator_id is None:
            return query
        return query.join(ChargePointRecord, col(ChargePointRecord.id) == charge_point_id).where(
            col(ChargePointRecord.operator_id) == self.operator_id
        )

    def collect(self) -> Iterable[Metric]:
        """One family per figure (runs in a worker thread: it queries the database)."""
        context = self.context
        sessions, payment, settlement = SessionRecord, SessionPaymentRecord, SettlementRecord
        with context.api_store.engine.connect() as db:
            connected = self._connections(db)
            active = db.execute(
                self._owned(
                    select(func.count()).select_from(sessions).where(col(sessions.ended_at).is_(None)),
                    col(sessions.charge_point_id),
                )
            ).scalar_one()
            energy = db.execute(
                self._owned(
                    select(func.coalesce(func.sum(col(sessions.energy_wh)), 0)).select_from(sessions),
                    col(sessions.charge_point_id),
                )
            ).scalar_one()
            if self.operator_id is None:
                statuses = select(col(settlement.status), func.count()).group_by(col(settlement.status))
            else:
                covering = self._owned(
                    select(col(payment.settlement_id)).distinct(), col(payment.charge_point_id)
                ).subquery()
                statuses = (
                    select(col(settlement.status), func.count())
                    .where(col(settlement.id).in_(select(covering.c.settlement_id)))
                    .group_by(col(settlement.status))
                )
            by_status: dict[str, int] = {status: count for status, count in db.execute(statuses)}
        connections = GaugeMetricFamily(
            "mobility_ocpp_connections", "Charge points connected over OCPP-J now."
        )
        connections.add_metric([], connected)
        yield connections
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

        if self.operator_id is None:
            yield self._vouchers()
            yield self._call_times()

        latest = context.node.store.latest_milestone()
        yield GaugeMetricFamily(
            "mobility_ledger_milestone_index",
            "Index of the latest applied milestone (0: none yet).",
            value=latest.milestone_index if latest is not None else 0,
        )

    def _call_times(self) -> Metric:
        """Engine-wide like the voucher counts: a charger's CALL is not tied to an operator's
        share of the histogram."""
        histogram = HistogramMetricFamily(
            "mobility_ocpp_call_seconds",
            "Time from a CALL's arrival to its answer handed to the socket, by action.",
            labels=["action"],
        )
        central = self.context.central
        for action, times in sorted((central.call_times.snapshot() if central is not None else {}).items()):
            cumulative, buckets = 0, []
            for bound, count in zip([*map(str, BUCKETS_S), "+Inf"], times.counts, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            histogram.add_metric([action], buckets, sum_value=times.total_s)
        return histogram

    def _vouchers(self) -> Metric:
        vouchers = CounterMetricFamily(
            "mobility_vouchers",
            "Payment vouchers by outcome and rejection reason.",
            labels=["outcome", "reason"],
        )
        payments = self.context.payments
        outcomes = payments.voucher_outcomes if payments is not None else {}
        vouchers.add_metric(["accepted", ""], outcomes.get("accepted", 0))
        for reason, count in sorted(outcomes.items()):
            if reason != "accepted":
                vouchers.add_metric(["rejected", reason], count)
        return vouchers


def scrape(context: ApiContext, operator_id: str | None) -> bytes:
    """The Prometheus text of the engine (`operator_id` None) or of one operator."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(context, operator_id))
    return generate_latest(registry)


def create_metrics_router(context: ApiContext) -> APIRouter:
    """The `/metrics` route."""
    router = APIRouter(tags=["engine"])

    @router.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
    )
    async def metrics(operator_id: Annotated[str | None, Depends(metrics_reader)]) -> Response:
        """Prometheus text format: the whole engine for an engine-admin key, an operator's own
        figures for an operator key (either with the `metrics` scope) as the bearer token."""
        body = await asyncio.to_thread(scrape, context, operator_id)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
