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


_TWO_CHANNELS = (
    '[{"id": "tokyo", "secret": "s-tokyo", "access_token": "t-tokyo",'
    ' "bot_user_id": "U0123456789abcdef0123456789abcdef"},'
    ' {"id": "youth", "secret": "s-youth", "access_token": "t-youth", "quiet_hours": ""}]'
)


def test_several_channels_come_from_one_json_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SODAN_LINE_CHANNELS", _TWO_CHANNELS)
    configs = LineChannelSettings().channel_configs
    assert [c.id for c in configs] == ["tokyo", "youth"]
    assert configs[0].bot_user_id == "U0123456789abcdef0123456789abcdef"
    assert configs[1].quiet_hours == ""
    assert "s-tokyo" not in repr(configs)  # secrets never printed


def test_without_a_list_the_single_channel_settings_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SODAN_LINE_CHANNELS", raising=False)
    monkeypatch.setenv("SODAN_LINE_CHANNEL_ID", "desk")
    (config,) = LineChannelSettings().channel_configs
    assert config.id == "desk"
    assert config.uses_demo_credentials()


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        (
            '[{"id": "a", "secret": "s", "access_token": "t"},'
            ' {"id": "a", "secret": "s2", "access_token": "t2"}]',
            "its own id",
        ),
        (
            '[{"id": "a", "secret": "s", "access_token": "t"},'
            ' {"id": "b", "secret": "s", "access_token": "t2"}]',
            "its own secret",
        ),
        ('[{"id": "a/b", "secret": "s", "access_token": "t"}]', "should match pattern"),
        ('[{"id": "a", "secret": "", "access_token": "t"}]', "must not be empty"),
        ('[{"id": "a", "secret": "s"}]', "access_token"),
        ('[{"id": "a", "secret": "s", "access_token": "t", "colour": "red"}]', "colour"),
        ('{"id": "a"}', "list"),
    ],
)
def test_bad_channel_lists_are_refused_clearly(
    monkeypatch: pytest.MonkeyPatch, channels: str, message: str
) -> None:
    monkeypatch.setenv("SODAN_LINE_CHANNELS", channels)
    with pytest.raises(ValidationError, match=message):
        LineChannelSettings()


def test_production_refuses_demo_credentials_in_any_listed_channel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SODAN_MASTER_KEYS", f"k1:{_key()}")
    monkeypatch.setenv(
        "SODAN_LINE_CHANNELS",
        '[{"id": "a", "secret": "real", "access_token": "real-token"},'
        ' {"id": "b", "secret": "sodan-demo-channel-secret", "access_token": "x"}]',
    )
    with pytest.raises(ValidationError, match="SODAN_LINE_CHANNELS"):
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
