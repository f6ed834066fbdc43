"""Charge points near a place, for drivers looking for somewhere to charge.

A bounding box narrows the rows in SQL (indexable, portable between SQLite and PostgreSQL);
the great-circle distance then decides. Coordinates are degrees (WGS 84) and distances km:
floats are fine here, they are neither money nor energy.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from mobility.charging.models import ChargePointRecord, ConnectorRecord

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class NearbyChargePoint:
    """A located charge point, how far it is, and its connectors' last known statuses."""

    charge_point: ChargePointRecord
    distance_km: float
    connectors: list[ConnectorRecord]


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance between two points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def charge_points_near(engine: Engine, lat: float, lon: float, radius_km: float) -> list[NearbyChargePoint]:
    """Enabled, located charge points within `radius_km`, nearest first (ties by ID)."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    query = (
        select(ChargePointRecord)
        .where(col(ChargePointRecord.enabled))
        .where(col(ChargePointRecord.latitude).is_not(None))
        .where(col(ChargePointRecord.longitude).is_not(None))
        .where(col(ChargePointRecord.latitude).between(lat - dlat, lat + dlat))
    )
    cos_lat = math.cos(math.radians(lat))
    if cos_lat > 1e-6:  # away from the poles a longitude box holds too (no antimeridian wrap)
        dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat))
        if lon - dlon > -180 and lon + dlon < 180:
            query = query.where(col(ChargePointRecord.longitude).between(lon - dlon, lon + dlon))
    with Session(engine, expire_on_commit=False) as db:
        found: list[tuple[float, ChargePointRecord]] = []
        for record in db.exec(query):
            assert record.latitude is not None
            assert record.longitude is not None
            distance = distance_km(lat, lon, record.latitude, record.longitude)
            if distance <= radius_km:
                found.append((distance, record))
        found.sort(key=lambda item: (item[0], item[1].id))
        ids = [record.id for _, record in found]
        connectors: dict[str, list[ConnectorRecord]] = defaultdict(list)
        for start in range(0, len(ids), 500):
            rows = db.exec(
                select(ConnectorRecord)
                .where(col(ConnectorRecord.charge_point_id).in_(ids[start : start + 500]))
                .order_by(col(ConnectorRecord.charge_point_id), col(ConnectorRecord.connector_id))
            )
            for row in rows:
                connectors[row.charge_point_id].append(row)
    return [NearbyChargePoint(record, distance, connectors[record.id]) for distance, record in found]
