"""Before a counsellor's reply goes out: does it look like it holds personal data?

A counsellor may paste a phone number or an address by mistake (another client's,
their own); once on LINE it cannot be taken back from the client's phone. The same
detector ingress uses on clients' messages (:mod:`sodan_shared.personal_data`)
decides; the counsellor then confirms or goes back to edit. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sodan_shared.events.line import PersonalDataKind
from sodan_shared.personal_data import KINDS, find_personal_data

# The names the composer shows (the browser keeps its own copy in labels.js).
KIND_LABELS: dict[PersonalDataKind, str] = {
    "phone": "電話番号",
    "email": "メールアドレス",
    "postal_address": "住所",
    "my_number": "マイナンバー",
}


@dataclass(frozen=True)
class Span:
    kind: PersonalDataKind
    start: int
    end: int


@dataclass(frozen=True)
class PersonalDataWarning:
    kinds: list[PersonalDataKind]
    spans: list[Span]

    @property
    def message(self) -> str:
        names = "、".join(KIND_LABELS[k] for k in self.kinds)
        return (
            f"個人情報の可能性がある内容が含まれています（{names}）。"
            "このまま送る場合は確認のうえ送信してください"
        )


def _utf16_index(text: str, index: int) -> int:
    # The browser addresses a textarea in UTF-16 code units: an emoji before a
    # phone number would otherwise shift the highlight by one per emoji.
    return len(text[:index].encode("utf-16-le")) // 2


def check_reply(text: str | None) -> PersonalDataWarning | None:
    """What to warn about in ``text``, with spans in UTF-16 code units; None: nothing."""
    if not text:
        return None
    findings = find_personal_data(text)
    if not findings:
        return None
    found = {f.kind for f in findings}
    return PersonalDataWarning(
        kinds=[k for k in KINDS if k in found],
        spans=[
            Span(kind=f.kind, start=_utf16_index(text, f.start), end=_utf16_index(text, f.end))
            for f in findings
        ],
    )
