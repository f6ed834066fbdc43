"""Migration fleet_3 keeps who charged before it: every fleet token gets an assignment valid
since 1970 with its current vehicle and driver (issue 14, point 12)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import Session, select

from mobility.db import create_db_engine
from mobility.fleet.models import TokenAssignmentRecord
from mobility.migrate import upgrade


def test_existing_fleet_tokens_get_an_assignment_since_always(empty_database_url: str) -> None:
    upgrade(empty_database_url, "payments_1")
    engine = create_db_engine(empty_database_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO payment_account (id, kind, name) VALUES ('f', 'fleet', '')"))
        connection.execute(
            text(
                "INSERT INTO payment_id_token (token, account_id, vehicle_id, driver_name) VALUES"
                " ('04AA', 'f', 'veh-1', 'Alice'), ('APPDRIVER', 'f', NULL, NULL)"
            )
        )
    upgrade(empty_database_url)
    with Session(engine) as db:
        rows = db.exec(select(TokenAssignmentRecord)).all()
    assert [(r.token, r.account_id, r.vehicle_id, r.driver_name) for r in rows] == [
        ("04AA", "f", "veh-1", "Alice")
    ]
    assert rows[0].valid_from == datetime(1970, 1, 1, tzinfo=UTC)
    engine.dispose()
