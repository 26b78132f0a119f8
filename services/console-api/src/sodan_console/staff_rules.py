"""Staff accounts: the admins' guard rails, and the rules for login ids, names and
passwords. Pure functions over plain data; each refusal is the Japanese message the
API returns.

The password rule is deliberately simple (length matters more than character
classes): 10 to 128 characters, not containing the login id, and at least 5
different characters (so "aaaaaaaaaa" or "1212121212" are refused).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from uuid import UUID

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
MIN_DISTINCT_CHARACTERS = 5
MAX_DISPLAY_NAME = 100
LOGIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{2,63}")
# No 0/o, 1/l/i: a temporary password is read off a screen and typed by someone else.
_GENERATED_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_GENERATED_GROUPS = 4
_GENERATED_GROUP_LENGTH = 4

ROLE_LABELS = {"counsellor": "相談員", "supervisor": "スーパーバイザー", "admin": "管理者"}

LOGIN_FORMAT = (
    "ログインIDは半角の英小文字・数字・「._@-」で3〜64文字にしてください（先頭は英小文字か数字）"
)
LOGIN_TAKEN = "このログインIDはすでに使われています"
NAME_EMPTY = "表示名を入力してください"
NAME_TOO_LONG = f"表示名は{MAX_DISPLAY_NAME}文字以内にしてください"
NAME_CONTROL = "表示名に改行などの制御文字は使えません"
PASSWORD_TOO_SHORT = f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください"
PASSWORD_TOO_LONG = f"パスワードは{MAX_PASSWORD_LENGTH}文字以内にしてください"
PASSWORD_HAS_LOGIN = "パスワードにログインIDを含めないでください"  # noqa: S105 (a message)
PASSWORD_TOO_SIMPLE = (
    f"パスワードには{MIN_DISTINCT_CHARACTERS}種類以上の文字を使ってください"
    "（同じ文字の繰り返しは使えません）"
)
PASSWORD_UNCHANGED = "新しいパスワードが今のパスワードと同じです"  # noqa: S105 (a message)

SELF_DISABLE = "自分自身は無効にできません"
SELF_DEMOTE = "自分自身の役割は変更できません（別の管理者に依頼してください）"
SELF_RESET = "自分のパスワードと二段階認証は「アカウント設定」で変更してください"
LAST_ADMIN_DISABLE = "有効な管理者がほかにいないため、この管理者は無効にできません"
LAST_ADMIN_DEMOTE = "有効な管理者がほかにいないため、この管理者の役割は変更できません"


def login_problem(login: str) -> str | None:
    return None if LOGIN_PATTERN.fullmatch(login) else LOGIN_FORMAT


def clean_display_name(name: str) -> str:
    """Surrounding spaces go; NFC so the same name is stored the same way."""
    return unicodedata.normalize("NFC", name.strip())


def display_name_problem(name: str) -> str | None:
    if not name:
        return NAME_EMPTY
    if len(name) > MAX_DISPLAY_NAME:
        return NAME_TOO_LONG
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        return NAME_CONTROL
    return None


def password_problem(password: str, *, login: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return PASSWORD_TOO_SHORT
    if len(password) > MAX_PASSWORD_LENGTH:
        return PASSWORD_TOO_LONG
    if login and login.lower() in password.lower():
        return PASSWORD_HAS_LOGIN
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return PASSWORD_TOO_SIMPLE
    return None


def generate_password() -> str:
    """A temporary password like ``k7tq-m3xa-9pwe-hrz4`` (about 79 bits)."""
    while True:
        groups = (
            "".join(secrets.choice(_GENERATED_ALPHABET) for _ in range(_GENERATED_GROUP_LENGTH))
            for _ in range(_GENERATED_GROUPS)
        )
        password = "-".join(groups)
        # Practically always true; the loop keeps the rule's promise anyway.
        if password_problem(password, login="") is None:
            return password


# --- the admins' guard rails -------------------------------------------------------


@dataclass(frozen=True)
class StaffFacts:
    staff_id: UUID
    role: str
    disabled: bool


def _is_enabled_admin(target: StaffFacts) -> bool:
    return target.role == "admin" and not target.disabled


def disable_refusal(actor_id: UUID, target: StaffFacts, *, enabled_admins: int) -> str | None:
    """An admin cannot disable themselves, nor the last enabled admin (nobody could
    administer the desk any more)."""
    if target.staff_id == actor_id:
        return SELF_DISABLE
    if _is_enabled_admin(target) and enabled_admins <= 1:
        return LAST_ADMIN_DISABLE
    return None


def role_change_refusal(
    actor_id: UUID, target: StaffFacts, *, new_role: str, enabled_admins: int
) -> str | None:
    """Demoting is refused for oneself and for the last enabled admin; keeping the
    same role is never refused."""
    if new_role == target.role or new_role == "admin":
        return None
    if target.staff_id == actor_id:
        return SELF_DEMOTE
    if _is_enabled_admin(target) and enabled_admins <= 1:
        return LAST_ADMIN_DEMOTE
    return None


def reset_refusal(actor_id: UUID, target: StaffFacts) -> str | None:
    """Resetting one's own password or TOTP from the admin screen would skip the
    current-password check of アカウント設定."""
    return SELF_RESET if target.staff_id == actor_id else None


# --- sessions that may do only one thing ---------------------------------------------

ENROLMENT_REQUIRED = "二段階認証（確認コード）の登録が必要です。登録を済ませてください"
PASSWORD_CHANGE_REQUIRED = "パスワードの変更が必要です。新しいパスワードを設定してください"  # noqa: S105 (a message)


def session_refusal(
    *,
    enrol_only: bool,
    password_change_required: bool,
    allow_enrol: bool,
    allow_password_change: bool,
) -> str | None:
    """What a restricted session may not do yet: TOTP enrolment comes first (its
    session is good for nothing else), then the password change. Enrolment is also
    allowed while the password change waits, so both can be done in one visit."""
    if enrol_only and not allow_enrol:
        return ENROLMENT_REQUIRED
    if password_change_required and not (allow_enrol or allow_password_change):
        return PASSWORD_CHANGE_REQUIRED
    return None
