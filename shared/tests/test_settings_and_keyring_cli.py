import base64
import os

import pytest
from pydantic import ValidationError
from sodan_shared.crypto import KeyDestroyedError, Keyring, MasterKeys
from sodan_shared.db import create_engine, session_factory
from sodan_shared.keyring_cli import cli
from sodan_shared.settings import LineChannelSettings, SodanSettings


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_production_refuses_the_demo_master_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SODAN_MASTER_KEYS", raising=False)
    with pytest.raises(ValidationError, match="SODAN_MASTER_KEYS"):
        SodanSettings(environment="production")


def test_production_refuses_demo_line_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SODAN_MASTER_KEYS", f"k1:{_key()}")
    monkeypatch.delenv("SODAN_LINE_CHANNEL_SECRET", raising=False)
    with pytest.raises(ValidationError, match="SODAN_LINE_CHANNEL_SECRET"):
        LineChannelSettings(environment="production")


def test_database_url_is_also_read_from_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SODAN_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db.example:5432/x")
    assert SodanSettings().database_url == "postgresql+psycopg://u@db.example:5432/x"


async def test_keyring_cli_rotates_then_erases_a_client(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = f"old:{_key()}", f"new:{_key()}"
    monkeypatch.setenv("SODAN_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("SODAN_MASTER_KEYS", old)
    cli(["migrate"])
    engine = create_engine(fresh_database_url)
    sessions = session_factory(engine)
    client = await Keyring(sessions, MasterKeys(old)).ensure_client(
        channel="demo", line_user_id="U1"
    )

    monkeypatch.setenv("SODAN_MASTER_KEYS", f"{new},{old}")
    await _run_in_thread(cli, ["rotate"])
    assert "re-wrapped 1 client keys" in capsys.readouterr().out
    only_new = Keyring(sessions, MasterKeys(new))
    assert (await only_new.cipher(client.client_id)).client_id == client.client_id

    with pytest.raises(SystemExit):
        cli(["erase-client", str(client.client_id)])  # refused without --yes
    await _run_in_thread(cli, ["erase-client", str(client.client_id), "--yes"])
    with pytest.raises(KeyDestroyedError):
        await Keyring(sessions, MasterKeys(new)).cipher(client.client_id)
    await engine.dispose()


async def _run_in_thread(fn, argv):  # type: ignore[no-untyped-def]
    # the CLI runs its own event loop (asyncio.run), so not on the test's loop
    import asyncio

    await asyncio.to_thread(fn, argv)
