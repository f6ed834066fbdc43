"""The Alembic migrations build exactly the schema the SQLModel models describe, on both
backends, and can be undone and redone."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from mobility.db import create_db_engine
from mobility.migrate import alembic_config, upgrade
from mobility.schema import METADATA


def schema_differences(empty_database_url: str) -> list[object]:
    """What Alembic finds between the database's schema and the models."""
    engine = create_db_engine(empty_database_url)
    with engine.connect() as connection:
        differences: list[object] = compare_metadata(MigrationContext.configure(connection), METADATA)
    engine.dispose()
    return differences


def test_migrations_match_the_models(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    assert schema_differences(empty_database_url) == []


def test_downgrade_and_upgrade_again(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "base")
    engine = create_db_engine(empty_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_database_url)
    assert set(METADATA.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_latest_migration_goes_down_and_up_again(empty_database_url: str) -> None:
    """One step down and up again (not only to the base): a migration that names what its
    downgrade created differently from what it drops fails here."""
    upgrade(empty_database_url)
    config = alembic_config(empty_database_url)
    command.downgrade(config, "-1")
    upgrade(empty_database_url)
    assert schema_differences(empty_database_url) == []


def _predicate(clause: object) -> str:
    """An index predicate as text, without the parentheses and case a backend adds."""
    return str(clause).replace("(", "").replace(")", "").lower()


def test_migrations_keep_the_storage_options_the_comparison_ignores(empty_database_url: str) -> None:
    """Alembic's comparison looks at neither partial-index predicates nor SQLite's WITHOUT
    ROWID; both are there to keep ingest cheap, so a migration that loses one shows here."""
    upgrade(empty_database_url)
    engine = create_db_engine(empty_database_url)
    dialect = engine.dialect.name
    inspector = inspect(engine)
    partial = 0
    for table in METADATA.tables.values():
        reflected = {index["name"]: index for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            where = index.dialect_options[dialect]["where"]
            if where is None:
                continue
            partial += 1
            options = reflected[index.name].get("dialect_options", {})
            assert _predicate(options.get(f"{dialect}_where")) == _predicate(where), index.name
    assert partial >= 3  # the held blocks, carried milestones, channel outputs
    if dialect == "sqlite":
        with engine.connect() as connection:
            for table in METADATA.tables.values():
                clustered = table.dialect_options["sqlite"]["with_rowid"] is False
                sql = connection.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table.name,)
                ).scalar_one()
                assert sql.rstrip().endswith("WITHOUT ROWID") == clustered, table.name
    engine.dispose()


def test_ledger_2_down_gives_approvals_their_rowid_back(empty_database_url: str) -> None:
    """Alembic's batch mode reflects WITHOUT ROWID and would keep it on the way down."""
    engine = create_db_engine(empty_database_url)
    if engine.dialect.name != "sqlite":
        engine.dispose()
        pytest.skip("WITHOUT ROWID is SQLite's")
    upgrade(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "ledger_1")
    sql = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'ledger_approval'"
    with engine.connect() as connection:
        assert not connection.exec_driver_sql(sql).scalar_one().rstrip().endswith("WITHOUT ROWID")
    upgrade(empty_database_url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql(sql).scalar_one().rstrip().endswith("WITHOUT ROWID")
    engine.dispose()
