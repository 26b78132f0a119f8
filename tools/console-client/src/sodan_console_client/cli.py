"""``sodan-console-client``: the console API from a shell or a scheduled job.

Stateless: every run logs in (password from ``SODAN_CONSOLE_PASSWORD`` or a
prompt), does one thing and logs out. Exit codes: 0 done, 1 the console refused
or could not be reached (the reason on stderr), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import os
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel

from sodan_console_client.client import ConsoleClient, ConsoleError, TotpRequired
from sodan_console_client.models import Case, CaseDetail, Message, Staff

PROG = "sodan-console-client"
DEFAULT_URL = "http://127.0.0.1:8000"
EXIT_OK, EXIT_API, EXIT_USAGE = 0, 1, 2
STATUSES = ("queued", "assigned", "on_hold", "closed")
URGENCIES = ("critical", "high", "medium", "normal")
ACTIONS = ("login.succeeded", "login.failed", "logout", "read", "change")

# The console's own labels (web/labels.js), so the table reads like the screen.
STATUS_JA = {"queued": "受付待ち", "assigned": "対応中", "on_hold": "保留", "closed": "終了"}
URGENCY_JA = {"critical": "緊急", "high": "高", "medium": "中", "normal": "通常"}
ROLE_JA = {"counsellor": "相談員", "supervisor": "スーパーバイザー", "admin": "管理者"}
PRESENCE_JA = {"available": "対応可", "away": "離席", "break": "休憩", "offline": "オフライン"}
DELIVERY_JA = {"pending": "送信中", "sent": "送信済み", "failed": "送信失敗"}
# The desk's time: Japan has no daylight saving, so a fixed offset is exact.
JST = timezone(timedelta(hours=9), "JST")


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog=PROG,
        description="sodan 相談コンソールの API をコマンドラインから使います。",
        epilog="終了コード: 0 成功 / 1 コンソールが拒否した・接続できない / 2 使い方の誤り。"
        " パスワードは環境変数 SODAN_CONSOLE_PASSWORD、なければ端末で入力します。",
    )
    _connection_options(top, defaults=True)
    # Also accepted after the command (``cases list --login x``); SUPPRESS keeps
    # the sub-parser from overwriting what was given before it.
    connection = argparse.ArgumentParser(add_help=False)
    _connection_options(connection, defaults=False)
    output = argparse.ArgumentParser(add_help=False, parents=[connection])
    output.add_argument("--json", action="store_true", help="JSON で出力（スクリプト向け）")

    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("whoami", parents=[output], help="ログインした職員を表示")

    cases = commands.add_parser("cases", help="相談の一覧・表示・返信").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    listing = cases.add_parser("list", parents=[output], help="相談の一覧（緊急度の高い順）")
    listing.add_argument(
        "--status",
        action="append",
        choices=STATUSES,
        help="状態で絞り込み（複数可。既定: 終了以外）",
    )
    listing.add_argument(
        "--urgency", action="append", choices=URGENCIES, help="緊急度で絞り込み（複数可）"
    )
    listing.add_argument("--limit", type=_positive, help="最大件数（既定: すべて）")
    show = cases.add_parser("show", parents=[output], help="相談の会話を表示")
    show.add_argument("case_id", metavar="CASE_ID")
    reply = cases.add_parser("reply", parents=[output], help="相談者に返信を送る")
    reply.add_argument("case_id", metavar="CASE_ID")
    text = reply.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="本文")
    text.add_argument("--stdin", action="store_true", help="本文を標準入力から読む")

    log = commands.add_parser("access-log", help="アクセスログ（管理者のみ）").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    export = log.add_parser("export", parents=[connection], help="CSV に書き出す")
    export.add_argument("--from", dest="since", type=_date, help="開始日 YYYY-MM-DD（日本時間）")
    export.add_argument("--to", dest="until", type=_date, help="終了日 YYYY-MM-DD（この日を含む）")
    export.add_argument("--staff-id", help="職員IDで絞り込み")
    export.add_argument("--action", dest="log_action", choices=ACTIONS, help="操作の種類")
    export.add_argument("--out", required=True, help="書き出すファイル（- で標準出力）")
    return top


def _connection_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--url",
        default=default(os.environ.get("SODAN_CONSOLE_URL", DEFAULT_URL)),
        help=f"コンソールの URL（既定: $SODAN_CONSOLE_URL または {DEFAULT_URL}）",
    )
    parser.add_argument(
        "--login",
        default=default(os.environ.get("SODAN_CONSOLE_LOGIN")),
        help="ログインID（既定: $SODAN_CONSOLE_LOGIN）",
    )
    parser.add_argument(
        "--totp",
        metavar="CODE",
        default=default(None),
        help="二段階認証の確認コード（登録している場合）",
    )
    parser.add_argument(
        "--timeout", type=float, default=default(30.0), help="待ち時間の上限（秒、既定: 30）"
    )


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("1 以上を指定してください")
    return number


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日付は YYYY-MM-DD で指定してください: {value}") from None


def _password(env: Mapping[str, str]) -> str:
    password = env.get("SODAN_CONSOLE_PASSWORD")
    if password:
        return password
    if not _has_terminal():
        raise UsageError(
            "パスワードを環境変数 SODAN_CONSOLE_PASSWORD で渡してください"
            "（端末がないため入力を求められません）"
        )
    return getpass.getpass("パスワード: ")


def _has_terminal() -> bool:
    if sys.stdin.isatty():
        return True
    try:
        with open("/dev/tty"):  # getpass reads the terminal even when stdin is piped
            return True
    except OSError:
        return False


# --- output -----------------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned for a terminal, counting full-width characters as two."""
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def _when(value: datetime | None) -> str:
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M") if value else "-"


def _json(value: BaseModel | Sequence[BaseModel]) -> str:
    data: Any = (
        value.model_dump(mode="json")
        if isinstance(value, BaseModel)
        else [v.model_dump(mode="json") for v in value]
    )
    return json.dumps(data, ensure_ascii=False, indent=2)


def _staff_text(staff: Staff) -> str:
    role = ROLE_JA.get(staff.role, staff.role)
    presence = PRESENCE_JA.get(staff.presence, staff.presence)
    return f"{staff.display_name}（{staff.login}、{role}）状態: {presence}"


def _cases_text(cases: Sequence[Case]) -> str:
    if not cases:
        return "該当する相談はありません"
    rows = [
        [
            str(c.case_id),
            c.client_label,
            STATUS_JA.get(c.status, c.status),
            URGENCY_JA.get(c.urgency, c.urgency),
            c.assignee_name or "-",
            _when(c.opened_at),
            _when(c.last_message_at),
        ]
        for c in cases
    ]
    header = ["相談ID", "相談者", "状態", "緊急度", "担当", "受付", "最新メッセージ"]
    return table(header, rows) + f"\n{len(cases)} 件"


def _message_text(message: Message, client_label: str) -> str:
    who = client_label if message.direction == "in" else (message.staff_name or "システム")
    if message.text is not None:
        body = message.text
    elif message.unreadable:
        body = "（読み出せません）"
    elif message.sticker_label:
        body = message.sticker_label
    else:
        body = f"（{message.kind}）"
    status = ""
    if message.direction == "out" and message.delivery:
        status = f" [{DELIVERY_JA.get(message.delivery, message.delivery)}]"
    return f"[{_when(message.sent_at)}] {who}{status}: {body}"


def _detail_text(detail: CaseDetail) -> str:
    c = detail.case
    head = [
        f"相談 {c.case_id}  相談者 {c.client_label}",
        f"状態: {STATUS_JA.get(c.status, c.status)}  緊急度: {URGENCY_JA.get(c.urgency, c.urgency)}"
        f"  担当: {c.assignee_name or '-'}  受付: {_when(c.opened_at)}",
        "",
    ]
    lines = [_message_text(m, c.client_label) for m in detail.messages]
    return "\n".join(head + (lines or ["（メッセージはありません）"]))


def _csv_records(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return max(sum(1 for _ in csv.reader(file)) - 1, 0)


# --- commands ---------------------------------------------------------------------------


def _run(args: argparse.Namespace, console: ConsoleClient, stdin: TextIO, out: TextIO) -> None:
    if args.command == "whoami":
        staff = console.me()
        print(_json(staff) if args.json else _staff_text(staff), file=out)
    elif args.command == "cases" and args.action == "list":
        cases = console.list_cases(status=args.status, urgency=args.urgency, limit=args.limit)
        print(_json(cases) if args.json else _cases_text(cases), file=out)
    elif args.command == "cases" and args.action == "show":
        detail = console.get_case(args.case_id)
        print(_json(detail) if args.json else _detail_text(detail), file=out)
    elif args.command == "cases" and args.action == "reply":
        message = console.send_reply(args.case_id, args.text)
        if args.json:
            print(_json(message), file=out)
        else:
            state = DELIVERY_JA.get(message.delivery or "", message.delivery or "")
            print(f"返信を受け付けました（{state}）: {message.message_id}", file=out)
    elif args.command == "access-log":
        filters: dict[str, Any] = {
            "since": args.since,
            "until": args.until,
            "staff_id": args.staff_id,
            "action": args.log_action,
        }
        if args.out == "-":
            out.flush()
            console.export_access_log(sys.stdout.buffer, **filters)
            sys.stdout.buffer.flush()
        else:
            target = Path(args.out)
            console.export_access_log(target, **filters)
            print(f"アクセスログを書き出しました: {target}（{_csv_records(target)} 件）", file=out)


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    env = os.environ if env is None else env
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage and the problem
        return EXIT_OK if exit_.code in (0, None) else EXIT_USAGE
    try:
        if not args.login:
            raise UsageError(
                "ログインIDを --login または環境変数 SODAN_CONSOLE_LOGIN で指定してください"
            )
        if args.command == "cases" and args.action == "reply":
            if args.stdin:
                # `echo 本文 | ...` ends with a newline nobody meant to send
                args.text = stdin.read().rstrip("\r\n")
            if not args.text or not args.text.strip():
                raise UsageError("本文が空です")
        password = _password(env)
    except UsageError as problem:
        print(f"{PROG}: {problem}", file=err)
        return EXIT_USAGE
    try:
        with ConsoleClient(args.url, timeout=args.timeout) as console:
            console.login(args.login, password, totp=args.totp)
            try:
                _run(args, console, stdin, out)
            finally:
                try:
                    console.logout()
                except ConsoleError:
                    pass  # the session ends by itself; the command's outcome stands
    except TotpRequired as refused:
        print(f"{PROG}: {refused.detail}（--totp で指定してください）", file=err)
        return EXIT_API
    except ConsoleError as refused:
        where = f"（HTTP {refused.status}）" if refused.status is not None else ""
        print(f"{PROG}: エラー{where}: {refused.detail}", file=err)
        return EXIT_API
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
