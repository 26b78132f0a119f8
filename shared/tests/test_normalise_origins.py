"""Each folded character knows the span of the client's text it came from."""

from hypothesis import given
from hypothesis import strategies as st
from sodan_shared.normalise import normalise_with_breaks


def _original_of(text: str, word: str) -> str:
    folded = normalise_with_breaks(text)
    i = folded.text.index(word)
    start, end = folded.original_span(i, i + len(word))
    return text[start:end]


def test_a_word_maps_back_to_how_the_client_wrote_it() -> None:
    assert _original_of("今日ｼﾆﾀｲって思った", "しにたい") == "ｼﾆﾀｲ"
    assert _original_of("もう　し に た い", "しにたい") == "し に た い"
    assert _original_of("しにたぁぁぁいいい。", "しにたい") == "しにたぁぁぁいいい"
    assert _original_of("ＯＤした", "od") == "ＯＤ"


def test_half_width_voiced_kana_and_kaomoji_keep_their_whole_span() -> None:
    assert _original_of("ｶﾞｯｺｳ行けない", "がっこう") == "ｶﾞｯｺｳ"
    assert _original_of("つらい(´;ω;`)", "😭") == "(´;ω;`)"


@given(
    st.text(alphabet="しにたいぁぃーｼﾆﾀｲｶﾞﾟ。！ 　(´;ω;`)T_orz💊😭ＡＢab㍻\u3099\u0301", max_size=30)
)
def test_every_folded_character_has_an_ordered_span_inside_the_text(text: str) -> None:
    folded = normalise_with_breaks(text)
    assert len(folded.origins) == len(folded.text)
    for start, end in folded.origins:
        assert 0 <= start < end <= len(text)
    starts = [start for start, _ in folded.origins]
    assert starts == sorted(starts)  # ㍻ becomes two characters with one span
