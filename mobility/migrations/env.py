"""Alembic environment: the engine's one database, every package's SQLModel tables."""

from __future__ import annotations

from alembic import context

from mobility.db import create_db_engine
from mobility.schema import METADATA

target_metadata = METADATA


def run_migrations() -> None:
    """Migrate the database named by the Alembic config's `sqlalchemy.url`."""
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no database URL given to the migrations")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_db_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
