import json

import pytest
from pydantic import ValidationError
from sodan_shared.lexicon import lexicon_diff
from sodan_triage.lexicon import default_lexicon_text, load_lexicon
from sodan_triage.scoring import Scorer, combined_score


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(load_lexicon())


def test_shinitai_is_critical(scorer: Scorer) -> None:
    scored = scorer.score("もう死にたい")
    assert scored.level == "critical"
    assert scored.matches[0].category == "自殺・自傷"
    assert not scored.matches[0].negated
    assert scored.matches[0].subject == "self"


@pytest.mark.parametrize(
    "written",
    ["ｼﾆﾀｲ", "し　に　た　い", "死 に た い", "しにたーーい", "し.に.た.い", "タヒにたい"],
)
def test_disguised_shinitai_is_still_critical(scorer: Scorer, written: str) -> None:
    assert scorer.score(written).level == "critical"


@pytest.mark.parametrize(
    ("text", "marked"),
    [("今日もｼﾆﾀｲって思った", "ｼﾆﾀｲ"), ("もう　し に た い。つらい", "し に た い")],
)
def test_a_match_says_where_the_client_wrote_it(scorer: Scorer, text: str, marked: str) -> None:
    top = scorer.score(text).matches[0]
    assert [text[start:end] for start, end in top.spans] == [marked]


@pytest.mark.parametrize(
    "text", ["死にたくない", "死にたいとは思わない", "死にたいわけじゃないけど", "自殺なんてしない"]
)
def test_negated_and_hedged_wishes_score_lower(scorer: Scorer, text: str) -> None:
    negated = scorer.score(text)
    assert negated.level not in ("critical", "high")
    assert negated.matches and all(m.negated for m in negated.matches)


def test_negation_does_not_reach_across_a_sentence(scorer: Scorer) -> None:
    # ない after the full stop is another sentence (ないてる = 泣いてる)
    assert scorer.score("死にたい。ないてる").level == "critical"


def test_negation_far_after_the_word_is_not_negation(scorer: Scorer) -> None:
    assert scorer.score("死にたくてたまらない").level == "critical"


def test_an_explicit_only_way_out_is_critical_despite_nai(scorer: Scorer) -> None:
    assert scorer.score("もう死ぬしかない").level == "critical"


@pytest.mark.parametrize(
    "text",
    [
        "死ぬほど笑ったｗｗ",
        "課題で死にそう",
        "今日の自殺防止の授業、重かった",
        "暑すぎて死ぬ",
        "推しが尊すぎて死んだ",
        "goodな気分",
        "dvd借りてきた",
        "息を殺して隠れんぼ",
    ],
)
def test_benign_idioms_are_normal(scorer: Scorer, text: str) -> None:
    scored = scorer.score(text)
    assert scored.level == "normal", scored


def test_a_friends_wish_to_die_is_a_concern_marked_as_someone_elses(scorer: Scorer) -> None:
    scored = scorer.score("友達が死にたいって言ってた")
    assert scored.level == "high"
    assert scored.matches[0].subject == "other"
    assert scored.matches[0].term_id == "suicide.want_to_die"


def test_a_friend_mentioned_earlier_does_not_make_it_someone_elses(scorer: Scorer) -> None:
    scored = scorer.score("友達が冷たくて死にたい")
    assert scored.level == "critical"
    assert scored.matches[0].subject == "self"


def test_violence_by_a_family_member_stays_the_clients(scorer: Scorer) -> None:
    scored = scorer.score("兄が殴ってくる")
    assert scored.level == "high"
    assert all(m.subject == "self" for m in scored.matches)


def test_the_past_is_hedged_but_still_high(scorer: Scorer) -> None:
    scored = scorer.score("前は死にたいと思ってた")
    assert scored.level == "high"
    assert scored.matches[0].hedged


def test_latin_terms_match_only_as_words(scorer: Scorer) -> None:
    assert scorer.score("昨日ODした").level == "critical"
    assert scorer.score("food美味しかった").level == "normal"


def test_weak_signals_add_up(scorer: Scorer) -> None:
    assert scorer.score("💊").level == "normal"
    assert scorer.score("もう疲れた💊").level == "medium"


def test_everyday_message_is_normal(scorer: Scorer) -> None:
    scored = scorer.score("こんにちは、相談したいことがあります")
    assert (scored.level, scored.score) == ("normal", 0.0)


def test_matches_name_terms_and_categories_never_the_text(scorer: Scorer) -> None:
    scored = scorer.score("家で殴られて、もう消えたい")
    assert {m.category for m in scored.matches} == {"他害・暴力被害", "自殺・自傷"}
    assert scored.level == "high"
    for m in scored.matches:
        assert "殴" not in m.term_id and "消" not in m.term_id


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("親にゲイってバレた", "アウティング・差別"),
        ("クラスの人にバラすぞって言われた", "アウティング・差別"),
        ("親に勘当された", "家族からの拒絶"),
        ("今日帰る家がない", "住居喪失"),
        ("父親に殴られた", "虐待"),
        ("無理やりされた", "性暴力"),
    ],
)
def test_desk_specific_categories(scorer: Scorer, text: str, category: str) -> None:
    scored = scorer.score(text)
    assert scored.level in ("high", "critical")
    assert category in {m.category for m in scored.matches}


def test_level_follows_the_highest_weight(scorer: Scorer) -> None:
    assert scorer.score("虐待されていて、自殺も考える").level == "critical"


def test_combined_score_is_damped_and_bounded() -> None:
    assert combined_score([], 0.5) == 0.0
    assert combined_score([0.7], 0.5) == 0.7
    assert combined_score([0.4, 0.4], 0.5) == pytest.approx(0.52)
    assert combined_score([1.0, 1.0, 1.0], 1.0) == 1.0


def _raw(**changes: object) -> str:
    data = json.loads(default_lexicon_text())
    data.update(changes)
    return json.dumps(data, ensure_ascii=False)


def test_lexicon_rejects_a_weight_outside_its_level_band() -> None:
    data = json.loads(default_lexicon_text())
    data["terms"][0]["weight"] = 0.5
    with pytest.raises(ValidationError, match=r"重み 0\.5 は「中」の範囲です"):
        load_lexicon(json.dumps(data))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"levels": {"critical": 0.5, "high": 0.6, "medium": 0.3}}, "の順にしてください"),
        ({"benign": ["！！"]}, "空白や記号だけです"),
        ({"unknown": 1}, "extra_forbidden"),
    ],
)
def test_lexicon_mistakes_are_named(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        load_lexicon(_raw(**changes))


def test_lexicon_rejects_duplicate_ids_and_unknown_categories() -> None:
    data = json.loads(default_lexicon_text())
    data["terms"].append(dict(data["terms"][0], category="謎"))
    with pytest.raises(ValidationError) as info:
        load_lexicon(json.dumps(data))
    assert "ID が重複しています" in str(info.value) and "未知のカテゴリ「謎」" in str(info.value)


def test_diff_names_term_ids_only() -> None:
    old = load_lexicon()
    data = json.loads(default_lexicon_text())
    data["terms"] = data["terms"][1:]
    data["terms"][0]["patterns"].append("新しい言い方")
    data["terms"].append(dict(data["terms"][1], id="new.term"))
    diff = lexicon_diff(old, load_lexicon(json.dumps(data)))
    assert diff.added == ["new.term"]
    assert diff.removed == [old.terms[0].id]
    assert diff.changed == [old.terms[1].id]
    assert not diff.settings_changed


def test_lexicon_has_a_version(scorer: Scorer) -> None:
    assert scorer.score("x").lexicon_version == scorer.lexicon.version != ""


def test_errors_are_described_in_japanese_with_where() -> None:
    from sodan_shared.lexicon import describe_errors

    data = json.loads(default_lexicon_text())
    data["terms"][0]["weight"] = 1.5
    data["terms"][1]["id"] = "Bad Id"
    data["unknown"] = 1
    with pytest.raises(ValidationError) as info:
        load_lexicon(json.dumps(data))
    described = describe_errors(info.value).split("; ")
    assert "語1番目・重み: 1.0 以下にしてください" in described
    assert "語2番目・ID: 英小文字・数字・「.」「_」「-」で書いてください" in described
    assert "unknown: 不明な項目です" in described
