"""``sodan-line-sim chat --user NAME``: be a LINE user from a terminal.

Each typed line is sent as a text message; lines starting with ``/`` are
commands. Received messages are printed as they arrive.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from line_simulator.client import SimulatorClient
from line_simulator.schemas import DeliveryRecord

HELP = (
    "コマンド: /sticker /image /file /location /follow /unfollow "
    "/postback DATA /help /quit（それ以外の行はテキストとして送信）"
)


def describe(message: dict[str, Any]) -> str:
    """One line for a received message object, whatever its type."""
    kind = message.get("type")
    if kind in ("text", "textV2"):
        return str(message.get("text", ""))
    if kind in ("template", "flex", "imagemap"):
        return f"[{kind}] {message.get('altText', '')}"
    if kind == "sticker":
        return f"[スタンプ {message.get('packageId')}/{message.get('stickerId')}]"
    labels = {"sticker": "スタンプ", "image": "画像", "video": "動画", "audio": "音声"}
    return f"[{labels.get(str(kind), kind)}]"


def _status(record: DeliveryRecord) -> str:
    mark = "✓" if record.outcome == "delivered" else "✗"
    return f"  {mark} webhook {record.final_status or '接続失敗'} (試行 {len(record.attempts)} 回)"


async def _find_or_create(client: SimulatorClient, name: str) -> str:
    for user in await client.list_users():
        if user.display_name == name:
            return user.user_id
    return (await client.create_user(name)).user_id


async def _print_incoming(client: SimulatorClient, user_id: str) -> None:
    seen = max((e.seq for e in await client.inbox(user_id)), default=0)
    read = (await client.get_user(user_id)).read_up_to_message_id
    while True:
        for entry in await client.inbox(user_id, since=seen):
            seen = entry.seq
            print(f"\r相談窓口 > {describe(entry.message)}{_buttons(entry.message)}", end="")
            print("\nあなた > ", end="", flush=True)
        now_read = (await client.get_user(user_id)).read_up_to_message_id
        if now_read != read:
            read = now_read
            print("\r  既読\nあなた > ", end="", flush=True)
        await asyncio.sleep(0.5)


def _buttons(message: dict[str, Any]) -> str:
    """Quick-reply labels as the user would see them under the message."""
    items = (message.get("quickReply") or {}).get("items") or []
    labels = [str((i.get("action") or {}).get("label", "")) for i in items]
    return f"\n  ［{' | '.join(labels)}］" if labels else ""


async def _run_command(client: SimulatorClient, user_id: str, line: str) -> DeliveryRecord | None:
    command, _, arg = line.partition(" ")
    actions = {
        "/sticker": lambda: client.send_sticker(user_id),
        "/image": lambda: client.send_media(user_id, "image"),
        "/file": lambda: client.send_media(user_id, "file"),
        "/location": lambda: client.send_location(user_id),
        "/follow": lambda: client.follow(user_id),
        "/unfollow": lambda: client.unfollow(user_id),
        "/postback": lambda: client.postback(user_id, arg or "action=menu"),
    }
    if command not in actions:
        print(HELP)
        return None
    return await actions[command]()


async def run_chat(base_url: str, name: str) -> None:
    async with SimulatorClient(base_url) as client:
        user_id = await _find_or_create(client, name)
        print(f"LINE シミュレーター: {name} として接続しました。{HELP}")
        incoming = asyncio.create_task(_print_incoming(client, user_id))
        try:
            while True:
                print("あなた > ", end="", flush=True)
                raw = await asyncio.to_thread(sys.stdin.readline)
                line = raw.strip()
                if not raw or line in ("/quit", "/exit"):  # "" only at end of input
                    break
                if not line:
                    continue
                if line.startswith("/"):
                    record = await _run_command(client, user_id, line)
                else:
                    record = await client.send_text(user_id, line)
                if record is not None:
                    print(_status(record))
        finally:
            incoming.cancel()
