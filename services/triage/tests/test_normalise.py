import pytest
from sodan_triage.lexicon import load_lexicon
from sodan_triage.normalise import normalise, normalise_with_breaks


@pytest.mark.parametrize(
    "written",
    [
        "し　に　た　い",
        "ｼﾆﾀｲ",
        "シニタイ",
        "しにたーーい",
        "しにた〜〜い",
        "しにた～い",
        "しにたいいいい",
        "しにたぁぁい",
        "しにたぃ",
        "し\u200bに\u200bた\u200bい",
        "し・に・た・い！！",
        "し.に.た.い",
        "し\u3000に\u3000た\u3000い\ufe0f",
    ],
)
def test_ways_of_writing_shinitai_fold_to_the_same_kana(written: str) -> None:
    assert normalise(written) == "しにたい"


@pytest.mark.parametrize("written", ["死 に た い", "死　に　た　い", "死。に。た。い", "死にたい"])
def test_spaced_kanji_is_joined(written: str) -> None:
    assert normalise(written) == "死にたい"


def test_full_width_latin_is_folded_and_lowercased() -> None:
    assert normalise("ＯＤ　した") == "odした"


def test_empty_and_noise_only_text_normalise_to_nothing() -> None:
    assert normalise("") == ""
    assert normalise("！？…　🙂✨") == ""


def test_signal_emoji_are_kept_and_variants_fold() -> None:
    assert normalise("💊💊💊 のんだ") == "💊のんだ"
    assert normalise("🗡️") == normalise("🔪") == "🔪"
    assert normalise("🪢") == "🪢"


@pytest.mark.parametrize("face", ["(´;ω;`)", "（´；ω；｀）", "(T_T)", "😭😭", "😢"])
def test_crying_faces_become_one_signal(face: str) -> None:
    assert normalise(f"もう無理{face}") == "もう無理😭"


def test_small_vowels_that_are_not_stretching_are_enlarged() -> None:
    # ふぁ is its own sound: kept as ふあ, on both sides alike
    assert normalise("ファミリー") == normalise("ふあみりー") == "ふあみり"


def test_sentence_breaks_are_reported_but_do_not_split_words() -> None:
    norm = normalise_with_breaks("死にたい。ないてる")
    assert norm.text == "死にたいないてる"
    assert norm.breaks == frozenset({4})
    assert normalise_with_breaks("し.に").breaks == frozenset({1})


def test_normalisation_is_idempotent_on_the_lexicon() -> None:
    lexicon = load_lexicon()
    for term in lexicon.terms:
        for pattern in term.patterns:
            once = normalise(pattern)
            assert normalise(once) == once, (term.id, pattern)
