"""`sodan-keyring`: the operator's commands for the master key and client erasure."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from uuid import UUID

from sodan_shared.crypto import migrate_keyring
from sodan_shared.runtime import Database, keyring_for
from sodan_shared.settings import SodanSettings


async def _rotate(settings: SodanSettings) -> int:
    db = Database.from_settings(settings)
    try:
        keyring = keyring_for(settings, db)
        total = 0
        while changed := await keyring.rotate():
            total += changed
        return total
    finally:
        await db.dispose()


async def _erase(settings: SodanSettings, client_id: UUID) -> None:
    db = Database.from_settings(settings)
    try:
        await keyring_for(settings, db).destroy_client(client_id)
    finally:
        await db.dispose()


def cli(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sodan-keyring", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create or upgrade the keyring schema")
    commands.add_parser(
        "rotate", help="re-wrap every client key with the active master key (SODAN_MASTER_KEY_ID)"
    )
    erase = commands.add_parser(
        "erase-client", help="destroy one client's key: all their data becomes unreadable"
    )
    erase.add_argument("client_id", type=UUID)
    erase.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    args = parser.parse_args(argv)
    settings = SodanSettings(service_name="keyring")
    if args.command == "migrate":
        migrate_keyring(settings.database_url)
    elif args.command == "rotate":
        print(f"re-wrapped {asyncio.run(_rotate(settings))} client keys")
    else:
        if not args.yes:
            parser.error("erasing a client cannot be undone: add --yes")
        asyncio.run(_erase(settings, args.client_id))
        print(f"client {args.client_id} erased: their data can no longer be decrypted")
