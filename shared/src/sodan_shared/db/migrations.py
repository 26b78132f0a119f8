"""Alembic per service schema: each service owns one schema and its version table.

A service's ``db/migrations/env.py`` is three lines calling :func:`run_env`.
:func:`upgrade` takes a PostgreSQL advisory lock so replicas starting together
migrate once.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, text


def _sync_url(url: str) -> str:
    return url.replace("postgresql+asyncpg", "postgresql+psycopg")


def upgrade(*, database_url: str, script_location: Path, schema: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", _sync_url(database_url).replace("%", "%%"))
    cfg.attributes["schema"] = schema
    engine = create_engine(_sync_url(database_url))
    lock_id = zlib.crc32(f"sodan-migrate-{schema}".encode())
    try:
        with engine.connect() as conn:
            # a session-level lock: it survives the commits below
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_id})
            conn.commit()
            try:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                conn.commit()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_id})
                conn.commit()
    finally:
        engine.dispose()


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's alembic env.py (online mode only)."""
    cfg = context.config
    schema = cfg.attributes["schema"]
    conn = cfg.attributes.get("connection")
    if conn is None:
        engine = create_engine(_sync_url(cfg.get_main_option("sqlalchemy.url") or ""))
        with engine.connect() as conn:
            _configure_and_run(conn, target_metadata, schema)
        return
    _configure_and_run(conn, target_metadata, schema)


def _configure_and_run(conn: object, target_metadata: MetaData, schema: str) -> None:
    context.configure(
        connection=conn,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        version_table_schema=schema,
        include_schemas=False,
    )
    with context.begin_transaction():
        context.run_migrations()
