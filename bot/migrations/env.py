"""Alembic environment: runs migrations on the connection ``bot.migrate`` passes in."""

from alembic import context

from bot.models import Base

config = context.config
target_metadata = Base.metadata
connection = config.attributes.get("connection")

if connection is None:
    from bot.database import make_database

    database = make_database(config.get_main_option("sqlalchemy.url") or "")
    with database.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
