import pytest
from sodan_triage.normalise import normalise


@pytest.mark.parametrize(
    "written",
    [
        "し　に　た　い",
        "ｼﾆﾀｲ",
        "シニタイ",
        "しにたーーい",
        "しにたいいいい",
        "し\u200bに\u200bた\u200bい",
        "し・に・た・い！！",
    ],
)
def test_ways_of_writing_shinitai_fold_to_the_same_kana(written: str) -> None:
    assert normalise(written) == "しにたい"


def test_spaced_kanji_is_joined() -> None:
    assert normalise("死 に た い") == "死にたい"


def test_full_width_latin_is_folded_and_lowercased() -> None:
    assert normalise("ＯＤ　した") == "odした"


def test_empty_and_symbol_only_text_normalise_to_nothing() -> None:
    assert normalise("") == ""
    assert normalise("！？…　🙂") == ""
