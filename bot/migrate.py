"""Apply the Alembic migrations shipped in ``bot/migrations`` (``pana db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine as Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(database: Database) -> None:
    """Bring the database to the latest schema; safe to run on every start."""
    config = alembic_config(database.url.render_as_string(hide_password=False))
    with database.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several workers may start at once: one migrates, the others wait.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(1918987873)")  # 0x72616e61
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
