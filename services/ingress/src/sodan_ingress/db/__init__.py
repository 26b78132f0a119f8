"""The ingress schema: tables, queries and migrations."""

from __future__ import annotations

from pathlib import Path

from sodan_shared.crypto import migrate_keyring
from sodan_shared.db.migrations import upgrade

from sodan_ingress.db.tables import SCHEMA


def migrate(database_url: str) -> None:
    """The shared keyring first (ingress creates clients), then our own schema."""
    migrate_keyring(database_url)
    upgrade(
        database_url=database_url,
        script_location=Path(__file__).parent / "migrations",
        schema=SCHEMA,
    )
