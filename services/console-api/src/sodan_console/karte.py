"""The client record (相談者カルテ) and case notes (ケースメモ): the fixed flag list,
the length limits and the checks on a counsellor's edit, as plain data and pure
functions (the API serves the flags to the console, so there is one list)."""

from __future__ import annotations

from collections.abc import Sequence

# Flags a counsellor can set on a client. Adding one is fine; renaming one would
# silently drop it from records that carry the old name, so add beside it instead.
FLAGS: tuple[str, ...] = (
    "要注意",
    "継続支援",
    "緊急対応歴あり",
    "医療機関紹介済み",
    "他機関連携中",
    "未成年の可能性",
    "保護者に知られたくない",
)

MAX_CHARACTERISTICS = 4000
MAX_CAUTIONS = 2000
MAX_NOTE = 4000

# Purposes the free text is sealed under with the client's key (crypto-shredding
# the client erases all of it).
CHARACTERISTICS_PURPOSE = "client_record.characteristics"
CAUTIONS_PURPOSE = "client_record.cautions"
FLAGS_PURPOSE = "client_record.flags"
NOTE_PURPOSE = "case.note"

STALE_RECORD = (
    "このカルテは他のスタッフが先に更新しました。最新の内容を確認してから、もう一度保存してください"
)


def flags_problem(flags: Sequence[str]) -> str | None:
    """Why a set of flags cannot be saved (Japanese, for the counsellor), or None."""
    unknown = [f for f in flags if f not in FLAGS]
    if unknown:
        return f"不明なフラグです: {'、'.join(unknown)}"
    if len(set(flags)) != len(flags):
        return "フラグが重複しています"
    return None


def in_list_order(flags: Sequence[str]) -> list[str]:
    """Flags as the console lists them, whatever order they were ticked in."""
    chosen = set(flags)
    return [f for f in FLAGS if f in chosen]


def next_record_version(current: int, edited: int) -> int | None:
    """The version an edit of ``edited`` becomes, or None when someone saved in between
    (optimistic concurrency: two counsellors never overwrite each other silently)."""
    return current + 1 if edited == current else None
