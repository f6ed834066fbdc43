"""Database migrations (Alembic) for the engine's one database.

The scripts live in `mobility/migrations/`, inside the package, so an installed wheel has them.
The engine upgrades to the newest revision when it starts; `mobility db upgrade` does it alone.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for `url` pointing at the project's migration scripts."""
    if not MIGRATIONS.is_dir():
        raise FileNotFoundError(f"migration scripts not found at {MIGRATIONS}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`."""
    command.upgrade(alembic_config(url), revision)
