"""Personal-data flags on client text: realistic positives and hard negatives."""

from __future__ import annotations

import pytest
from sodan_shared.personal_data import (
    detect_personal_data,
    is_my_number,
    mask_personal_data,
    my_number_check_digit,
)

# A valid individual number: check digit computed by the official rule.
MY_NUMBER = "12345678901" + str(my_number_check_digit("12345678901"))


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("電話番号は090-1234-5678です", ["phone"]),
        ("携帯 ０９０－１２３４－５６７８ に電話ください", ["phone"]),
        ("09012345678に連絡して", ["phone"]),
        ("家の電話は03-1234-5678", ["phone"]),
        ("03(1234)5678 まで", ["phone"]),
        ("0120-123-456", ["phone"]),
        ("090ー1234ー5678", ["phone"]),
        ("+81 90-1234-5678", ["phone"]),
        ("メールは taro.yamada+line@example.co.jp です", ["email"]),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", ["email"]),
        ("〒100-0005 東京都千代田区丸の内1丁目", ["postal_address"]),
        ("住所は１００－０００５東京都千代田区", ["postal_address"]),
        ("神奈川県横浜市中区山下町1-2-3に住んでる", ["postal_address"]),
        ("埼玉県さいたま市に住んでいます", ["postal_address"]),
        (f"マイナンバーは{MY_NUMBER}", ["my_number"]),
        (f"{MY_NUMBER[:4]} {MY_NUMBER[4:8]} {MY_NUMBER[8:]}", ["my_number"]),
        (
            "090-1234-5678 か a@b.jp、〒123-4567 大阪府大阪市北区1-1",
            ["phone", "email", "postal_address"],
        ),
    ],
)
def test_personal_data_is_flagged(text: str, kinds: list[str]) -> None:
    assert detect_personal_data(text) == kinds


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-26に面談したい",
        "2026/11/26 10:30-12:00",
        "バイト代は12,000円でした",
        "注文番号 1234567890 の件",
        "予約番号は2025112612",
        "09-12-2026",
        "東京都の区役所に行った",
        "東京都内の学校に通っています",
        "市役所と町内会の話",
        "123-4567",
        "さいたま市浦和区に住んでいます",
        "体重は55.5kg、身長は165cm",
        "@everyone こんにちは",
        "123456789012",
        "090-1234-56789",
        "",
    ],
)
def test_ordinary_text_is_not_flagged(text: str) -> None:
    assert detect_personal_data(text) == []


def test_my_number_needs_a_valid_check_digit() -> None:
    wrong = MY_NUMBER[:11] + str((int(MY_NUMBER[11]) + 1) % 10)
    assert is_my_number(MY_NUMBER)
    assert not is_my_number(wrong)
    assert detect_personal_data(f"番号 {wrong}") == []


def test_masking_replaces_only_the_personal_spans() -> None:
    text = "電話は０９０－１２３４－５６７８、メールはa@example.comです"
    assert mask_personal_data(text) == "電話は＊＊＊、メールは＊＊＊です"


def test_masking_text_without_personal_data_changes_nothing() -> None:
    text = "今日は２０２６－１１－２６、つらいです"
    assert mask_personal_data(text) == text
