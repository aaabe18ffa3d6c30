"""The alembic environment of eightstep.

Run by ``eightstep init`` (:func:`eightstep.store.migrate.upgrade`, which passes its open connection in
``config.attributes["connection"]`` so that recording an old database, every revision and the meta rows commit
together) and by ``python -m eightstep.store.migrations`` (autogenerate, ``--sql``).
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine

from eightstep.store.tables import metadata

config = context.config
target_metadata = metadata

OPTIONS: dict[str, Any] = {
    "target_metadata": target_metadata,
    "render_as_batch": True,  # SQLite cannot ALTER most things: batch mode copies the table
    "compare_type": True,
}


def run_offline() -> None:
    """``--sql``: print the DDL instead of running it (e.g. for a DBA to review on PostgreSQL)."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True,
                      dialect_opts={"paramstyle": "named"}, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None, "store.migrate.alembic_config passes a connection or a url"
    engine = create_engine(url)
    try:
        with engine.connect() as own:
            context.configure(connection=own, **OPTIONS)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
