"""Real infrastructure for tests: a private nats-server and a fresh PostgreSQL database.

Tests never use the machine's own NATS or database: they start a nats-server on
a free port and create a database of their own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


@contextmanager
def postgres_admin_url(state_dir: Path) -> Iterator[str]:
    """A PostgreSQL server to create test databases on.

    ``SODAN_TEST_PG_ADMIN_URL`` if set, else a local server on 5432 if one
    answers, else (or with ``SODAN_TEST_PG_ADMIN_URL=private``) a private
    cluster started under ``state_dir``, as on a machine with no PostgreSQL.
    """
    configured = os.environ.get("SODAN_TEST_PG_ADMIN_URL", "")
    if configured and configured != "private":
        yield configured
        return
    if configured != "private" and _answers(DEFAULT_ADMIN_URL):
        yield DEFAULT_ADMIN_URL
        return
    # Nothing answers: start a private cluster like `make run` does.
    from sodan_devstack.postgres import private_cluster_for_tests

    with private_cluster_for_tests(state_dir / "pg") as admin_url:
        yield admin_url


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """Create ``sodan_test_<random>``; yield its SQLAlchemy URL; drop it after."""
    name = f"sodan_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
