"""The client library and its command line against the real console."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import pyotp
import pytest
from client_support import PASSWORDS, Console, open_case, staff_with_totp
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from sodan_console_client import (
    AsyncConsoleClient,
    AuthenticationError,
    ConsoleClient,
    ConsoleUnreachable,
    NotFound,
    PermissionDenied,
    TotpRequired,
)
from sodan_console_client.cli import main, table
from sodan_devstack.nats import free_port
from sodan_shared.events.line import PushRequested
from sodan_shared.subjects import PUSH_REQUESTED

T = TypeVar("T")


async def in_thread(fn: Callable[[], T]) -> T:
    """The sync client blocks: run it beside the event loop that serves the console."""
    return await asyncio.to_thread(fn)


def logged_in(console: Console, login: str) -> ConsoleClient:
    client = ConsoleClient(console.url)
    client.login(login, PASSWORDS[login])
    return client


async def run_cli(
    console: Console | None, *argv: str, login: str = "counsellor1", stdin: str = "", **env: str
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    environment = {"SODAN_CONSOLE_PASSWORD": PASSWORDS.get(login, "")} | env
    prefix = ["--url", console.url] if console is not None else []
    code = await asyncio.to_thread(
        main,
        [*prefix, "--login", login, *argv],
        env=environment,
        stdin=io.StringIO(stdin),
        out=out,
        err=err,
    )
    return code, out.getvalue(), err.getvalue()


async def until(probe: Callable[[], T | None], *, what: str, timeout: float = 15.0) -> T:
    """Ask until the answer is truthy; a 404 means the console has not projected the
    case yet (events arrive asynchronously), so it is asked again too."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            result = await in_thread(probe)
        except NotFound:
            result = None
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_lists_pages_shows_and_replies_as_the_counsellor(
    console: Console, js: JetStreamContext
) -> None:
    first = await open_case(console.state, js, text="眠れない日が続いています")
    second = await open_case(console.state, js, text="学校のことで相談です")
    client = await in_thread(lambda: logged_in(console, "counsellor1"))
    try:
        me = await in_thread(client.me)
        assert (me.login, me.role) == ("counsellor1", "counsellor")

        def both_listed() -> list[Any] | None:
            # a page of one forces the client to follow next_cursor
            cases = list(client.iter_cases(status=["assigned"], page_size=1))
            ids = [c.case_id for c in cases]
            return cases if {first, second} <= set(ids) else None

        cases = await until(both_listed, what="both cases listed")
        assert len({c.case_id for c in cases}) == len(cases), "a page repeated a case"
        assert all(c.status == "assigned" for c in cases)
        # their own cases, and (read-only) the ones they once had that are others' now
        assert {first, second} <= {c.case_id for c in cases}
        assert (
            await in_thread(lambda: client.list_cases(status=["closed"], urgency=["critical"]))
            == []
        )

        detail = await until(
            lambda: (d := client.get_case(first)).messages and d, what="the decrypted message"
        )
        assert detail.case.case_id == first
        assert [m.text for m in detail.messages] == ["眠れない日が続いています"]

        pushes = await js.subscribe(
            PUSH_REQUESTED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
        )
        sent = await in_thread(lambda: client.send_reply(first, "お話ししてくれてありがとう"))
        assert sent.direction == "out" and sent.delivery == "pending"
        while True:
            push = PushRequested.model_validate_json((await pushes.next_msg(timeout=10)).data)
            if push.payload.push_id == sent.message_id:
                break
        await pushes.unsubscribe()
        assert push.payload.case_id == first and push.payload.origin == "counsellor"
        cipher = await console.state.keyring.cipher(push.payload.client_id)
        assert cipher.open("message.text", push.payload.texts[0]) == "お話ししてくれてありがとう"
    finally:
        await in_thread(client.close)


async def test_another_counsellors_case_is_refused_with_the_consoles_reason(
    console: Console, js: JetStreamContext
) -> None:
    case_id = await open_case(console.state, js, text="相談です")
    owner = await in_thread(lambda: logged_in(console, "counsellor1"))
    other = await in_thread(lambda: logged_in(console, "counsellor2"))
    try:
        await until(lambda: owner.get_case(case_id).case.status == "assigned", what="the case")
        with pytest.raises(PermissionDenied) as refused:
            await in_thread(lambda: other.get_case(case_id))
        assert refused.value.status == 403
        assert refused.value.detail == "この相談を表示する権限がありません"
        with pytest.raises(PermissionDenied):
            await in_thread(lambda: other.send_reply(case_id, "横から失礼"))
    finally:
        await in_thread(owner.close)
        await in_thread(other.close)


async def test_the_cli_lists_shows_and_replies(console: Console, js: JetStreamContext) -> None:
    case_id = await open_case(console.state, js, text="誰にも言えなくて")
    client = await in_thread(lambda: logged_in(console, "counsellor1"))
    try:
        await until(lambda: client.get_case(case_id).messages, what="the case and its message")
    finally:
        await in_thread(client.close)

    code, out, err = await run_cli(console, "whoami")
    assert (code, err) == (0, "")
    assert "相談員 一郎（counsellor1、相談員）" in out
    # the same commands through the console's own command: `sodan-console whoami`
    env = {
        **os.environ,
        "SODAN_CONSOLE_URL": console.url,
        "SODAN_CONSOLE_LOGIN": "counsellor1",
        "SODAN_CONSOLE_PASSWORD": PASSWORDS["counsellor1"],
    }
    server_command = Path(sys.executable).parent / "sodan-console"
    done = await asyncio.to_thread(
        subprocess.run,
        [str(server_command), "whoami"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "相談員 一郎（counsellor1、相談員）" in done.stdout

    code, out, err = await run_cli(console, "cases", "list", "--status", "assigned")
    assert code == 0, err
    header, *rows = out.splitlines()
    assert header.split() == [
        "相談ID",
        "相談者",
        "状態",
        "緊急度",
        "担当",
        "受付",
        "最新メッセージ",
    ]
    line = next(r for r in rows if r.startswith(str(case_id)))
    assert "対応中" in line and "相談員 一郎" in line

    code, out, _ = await run_cli(console, "cases", "list", "--status", "assigned", "--json")
    assert code == 0 and str(case_id) in [c["case_id"] for c in json.loads(out)]

    code, out, _ = await run_cli(console, "cases", "show", str(case_id))
    assert code == 0 and "誰にも言えなくて" in out and "状態: 対応中" in out
    code, out, _ = await run_cli(console, "cases", "show", str(case_id), "--json")
    assert json.loads(out)["messages"][0]["text"] == "誰にも言えなくて"

    code, out, err = await run_cli(
        console, "cases", "reply", str(case_id), "--stdin", stdin="連絡ありがとうございます\n"
    )
    assert code == 0, err
    assert out.startswith("返信を受け付けました（送信中）")
    code, out, _ = await run_cli(console, "cases", "show", str(case_id), "--json")
    texts = [m["text"] for m in json.loads(out)["messages"]]
    assert "連絡ありがとうございます" in texts  # the shell's final newline is not sent


async def test_the_access_log_exports_for_an_admin_and_is_refused_to_a_counsellor(
    console: Console, tmp_path: Path
) -> None:
    target = tmp_path / "access-log.csv"
    code, out, err = await run_cli(
        console, "access-log", "export", "--from", "2020-01-01", "--out", str(target), login="admin"
    )
    assert code == 0, err
    assert out.startswith(f"アクセスログを書き出しました: {target}")
    raw = target.read_bytes()
    assert raw.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows and {"at", "login", "action", "path", "status"} <= set(rows[0])
    assert any(r["login"] == "admin" and r["action"] == "login.succeeded" for r in rows)

    only_logins = tmp_path / "logins.csv"
    client = await in_thread(lambda: logged_in(console, "admin"))
    try:
        await in_thread(lambda: client.export_access_log(only_logins, action="login.failed"))
    finally:
        await in_thread(client.close)
    actions = {r["action"] for r in csv.DictReader(io.StringIO(only_logins.read_text("utf-8-sig")))}
    assert actions <= {"login.failed"}

    refused = tmp_path / "refused.csv"
    code, out, err = await run_cli(
        console, "access-log", "export", "--out", str(refused), login="counsellor1"
    )
    assert code == 1 and out == ""
    assert "（HTTP 403）" in err and "アクセスログは管理者のみ見られます" in err
    assert not refused.exists() and not (tmp_path / "refused.csv.part").exists()


async def test_bad_credentials_a_missing_code_and_a_wrong_url_give_clear_errors(
    console: Console,
) -> None:
    code, out, err = await run_cli(console, "whoami", SODAN_CONSOLE_PASSWORD="not-the-password")
    assert (code, out) == (1, "")
    assert "（HTTP 401）" in err
    assert "ログインID・パスワード・確認コードのいずれかが正しくありません" in err
    with pytest.raises(AuthenticationError) as wrong:
        await in_thread(lambda: ConsoleClient(console.url).login("counsellor1", "nope"))
    assert wrong.value.status == 401

    login, password, secret = await staff_with_totp(console.state)
    code, _, err = await run_cli(console, "whoami", login=login, SODAN_CONSOLE_PASSWORD=password)
    assert code == 1 and "確認コード" in err and "--totp" in err
    with pytest.raises(TotpRequired):
        await in_thread(lambda: ConsoleClient(console.url).login(login, password))
    code, out, err = await run_cli(
        console,
        "whoami",
        "--totp",
        pyotp.TOTP(secret).now(),
        login=login,
        SODAN_CONSOLE_PASSWORD=password,
    )
    assert code == 0, err
    assert f"確認コード 五月（{login}、スーパーバイザー）" in out

    nowhere = f"http://127.0.0.1:{free_port()}"
    code, out, err = await run_cli(None, "--url", nowhere, "whoami")
    assert (code, out) == (1, "")
    assert f"コンソールに接続できません（URL を確認してください）: {nowhere}" in err
    with pytest.raises(ConsoleUnreachable):
        await in_thread(lambda: ConsoleClient(nowhere).login("counsellor1", "x"))

    # A web server that answers, but is not the console.
    with not_the_console() as other:
        code, out, err = await run_cli(None, "--url", other, "whoami")
    assert (code, out) == (1, "")
    assert "（HTTP 501）: コンソールから予期しない応答がありました（URL がコンソールのものか" in err


@contextmanager
def not_the_console() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_usage_mistakes_exit_2_without_calling_the_console() -> None:
    code, _, err = await run_cli(None, "whoami", login="")
    assert code == 2 and "ログインID" in err
    code, _, err = await run_cli(None, "cases", "reply", str(UUID(int=1)), "--stdin", stdin="  ")
    assert code == 2 and "本文が空です" in err
    assert (await run_cli(None, "cases", "list", "--status", "open"))[0] == 2
    assert (await run_cli(None, "access-log", "export", "--from", "yesterday", "--out", "x"))[
        0
    ] == 2


async def test_the_async_client_does_the_same_in_an_event_loop(
    console: Console, js: JetStreamContext
) -> None:
    first = await open_case(console.state, js, text="一通目")
    second = await open_case(console.state, js, text="二通目")
    async with AsyncConsoleClient(console.url) as client:
        assert (await client.login("counsellor1", PASSWORDS["counsellor1"])).role == "counsellor"

        async def listed() -> set[UUID]:
            return {c.case_id async for c in client.iter_cases(status=["assigned"], page_size=1)}

        deadline = asyncio.get_running_loop().time() + 15
        while not {first, second} <= await listed():
            assert asyncio.get_running_loop().time() < deadline, "cases never listed"
            await asyncio.sleep(0.1)
        assert len(await client.list_cases(status=["assigned"], limit=1)) == 1
        detail = await client.get_case(second)
        assert detail.case.case_id == second and detail.case.status == "assigned"
        sent = await client.send_reply(first, "非同期からの返信")
        assert sent.delivery == "pending"
        with pytest.raises(PermissionDenied) as refused:
            await client.export_access_log(io.BytesIO())
        assert refused.value.detail == "アクセスログは管理者のみ見られます"
        await client.logout()
        with pytest.raises(AuthenticationError):
            await client.me()
    async with AsyncConsoleClient(console.url) as admin:
        await admin.login("admin", PASSWORDS["admin"])
        buffer = io.BytesIO()
        assert await admin.export_access_log(buffer, action="logout") == len(buffer.getvalue())
        rows = list(csv.DictReader(io.StringIO(buffer.getvalue().decode("utf-8-sig"))))
        assert any(r["login"] == "counsellor1" for r in rows)
    async with AsyncConsoleClient(f"http://127.0.0.1:{free_port()}") as nowhere:
        with pytest.raises(ConsoleUnreachable):
            await nowhere.me()


def test_the_table_aligns_full_width_text() -> None:
    text = table(["名前", "n"], [["相談員 一郎", "1"], ["ab", "22"]])
    lines = text.splitlines()
    # each column starts at the same display column on every line
    assert lines == ["名前         n", "相談員 一郎  1", "ab           22"]
