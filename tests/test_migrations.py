"""The Alembic migrations build exactly the schema the SQLModel models describe, on both
backends, and can be undone and redone."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from mobility.db import create_db_engine
from mobility.migrate import alembic_config, upgrade
from mobility.schema import METADATA


def schema_differences(database_url: str) -> list[object]:
    """What Alembic finds between the database's schema and the models."""
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        differences: list[object] = compare_metadata(MigrationContext.configure(connection), METADATA)
    engine.dispose()
    return differences


def test_migrations_match_the_models(database_url: str) -> None:
    upgrade(database_url)
    assert schema_differences(database_url) == []


def test_downgrade_and_upgrade_again(database_url: str) -> None:
    upgrade(database_url)
    command.downgrade(alembic_config(database_url), "base")
    engine = create_db_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(database_url)
    assert set(METADATA.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_latest_migration_goes_down_and_up_again(database_url: str) -> None:
    """One step down and up again (not only to the base): a migration that names what its
    downgrade created differently from what it drops fails here."""
    upgrade(database_url)
    config = alembic_config(database_url)
    command.downgrade(config, "-1")
    upgrade(database_url)
    assert schema_differences(database_url) == []
