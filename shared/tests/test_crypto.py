import asyncio
import base64
import os
from uuid import uuid4

import pytest
from sodan_shared.crypto import (
    ClientCipher,
    KeyDestroyedError,
    Keyring,
    MasterKeys,
    SealedValueError,
    migrate_keyring,
)
from sodan_shared.db import create_engine, session_factory


def _key_spec(*ids: str) -> str:
    return ",".join(f"{i}:{base64.b64encode(os.urandom(32)).decode()}" for i in ids)


def test_sealed_text_opens_only_with_its_key_and_purpose() -> None:
    cipher = ClientCipher(client_id=uuid4(), data_key=os.urandom(32))
    sealed = cipher.seal("message.text", "死にたい")
    assert "死" not in sealed and sealed.startswith("v1.")
    assert cipher.open("message.text", sealed) == "死にたい"
    with pytest.raises(SealedValueError):
        cipher.open("line_user_id", sealed)
    other = ClientCipher(client_id=uuid4(), data_key=cipher.data_key)
    with pytest.raises(SealedValueError):
        other.open("message.text", sealed)


def test_master_keys_refuse_bad_configuration() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        MasterKeys("k1:" + base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="no master key"):
        MasterKeys("")
    with pytest.raises(ValueError, match="not configured"):
        MasterKeys(_key_spec("k1"), "k2")


@pytest.fixture
async def sessions(fresh_database_url: str):  # type: ignore[no-untyped-def]
    migrate_keyring(fresh_database_url)
    engine = create_engine(fresh_database_url)
    yield session_factory(engine)
    await engine.dispose()


async def test_same_line_user_gets_same_pseudonymous_client(sessions) -> None:  # type: ignore[no-untyped-def]
    keyring = Keyring(sessions, MasterKeys(_key_spec("k1")))
    a = await keyring.ensure_client(channel="demo", line_user_id="U1")
    again = await keyring.ensure_client(channel="demo", line_user_id="U1")
    b = await keyring.ensure_client(channel="demo", line_user_id="U2")
    assert a == again
    assert b.client_id != a.client_id and b.client_no == a.client_no + 1


async def test_replicas_racing_on_a_first_contact_agree_on_one_client(sessions) -> None:  # type: ignore[no-untyped-def]
    master = MasterKeys(_key_spec("k1"))
    replicas = [Keyring(sessions, master, cache_size=2) for _ in range(3)]
    first = await asyncio.gather(
        *(r.ensure_client(channel="demo", line_user_id="U1") for r in replicas)
    )
    assert len(set(first)) == 1
    # Past the cache's bound the database still answers, with the same identity.
    for n in range(2, 6):
        await replicas[0].ensure_client(channel="demo", line_user_id=f"U{n}")
    assert await replicas[0].ensure_client(channel="demo", line_user_id="U1") == first[0]
    assert await replicas[1].ensure_client(channel="demo", line_user_id="U1") == first[0]


async def test_destroying_a_client_key_makes_their_data_unreadable(sessions) -> None:  # type: ignore[no-untyped-def]
    keyring = Keyring(sessions, MasterKeys(_key_spec("k1")))
    client = await keyring.ensure_client(channel="demo", line_user_id="U1")
    sealed = (await keyring.cipher(client.client_id)).seal("message.text", "秘密")
    await keyring.destroy_client(client.client_id)
    fresh = Keyring(sessions, MasterKeys(_key_spec("k1")))
    with pytest.raises(KeyDestroyedError):
        await fresh.cipher(client.client_id)
    assert sealed.startswith("v1.")


async def test_rotation_rewraps_keys_and_old_data_still_opens(sessions) -> None:  # type: ignore[no-untyped-def]
    spec = _key_spec("old", "new")
    old = Keyring(sessions, MasterKeys(spec, "old"))
    client = await old.ensure_client(channel="demo", line_user_id="U1")
    sealed = (await old.cipher(client.client_id)).seal("message.text", "こんにちは")

    rotated = Keyring(sessions, MasterKeys(spec, "new"))
    assert await rotated.rotate() == 1
    only_new = Keyring(sessions, MasterKeys(spec.split(",")[1], "new"))
    assert (await only_new.cipher(client.client_id)).open("message.text", sealed) == "こんにちは"
    # the LINE-id lookup still finds the same client after rotation
    again = await only_new.ensure_client(channel="demo", line_user_id="U1")
    assert again.client_id == client.client_id
