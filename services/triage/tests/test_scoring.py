import pytest
from sodan_triage.lexicon import load_lexicon
from sodan_triage.scoring import Scorer


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(load_lexicon())


def test_shinitai_is_critical(scorer: Scorer) -> None:
    scored = scorer.score("もう死にたい")
    assert scored.level == "critical"
    assert scored.matches[0].category == "自殺・自傷"
    assert not scored.matches[0].negated


@pytest.mark.parametrize("written", ["ｼﾆﾀｲ", "し　に　た　い", "死 に た い", "しにたーーい"])
def test_disguised_shinitai_is_still_critical(scorer: Scorer, written: str) -> None:
    assert scorer.score(written).level == "critical"


def test_negated_shinitai_scores_lower(scorer: Scorer) -> None:
    plain = scorer.score("死にたい")
    negated = scorer.score("死にたくない")
    assert negated.score < plain.score
    assert negated.level != "critical"
    assert all(m.negated for m in negated.matches)


def test_thinking_of_not_dying_is_negated(scorer: Scorer) -> None:
    assert scorer.score("死のうとは思わない").level != "critical"


def test_idiom_shinuhodo_is_normal(scorer: Scorer) -> None:
    scored = scorer.score("死ぬほど笑った")
    assert scored.level == "normal"
    assert scored.matches == ()


def test_everyday_message_is_normal(scorer: Scorer) -> None:
    scored = scorer.score("こんにちは、相談したいことがあります")
    assert (scored.level, scored.score) == ("normal", 0.0)


def test_matches_name_terms_and_categories_never_the_text(scorer: Scorer) -> None:
    scored = scorer.score("家で殴られて、もう消えたい")
    assert {m.category for m in scored.matches} == {"他害・暴力被害", "自殺・自傷"}
    assert scored.level == "high"
    for m in scored.matches:
        assert "殴" not in m.term_id and "消" not in m.term_id


def test_level_follows_the_highest_weight(scorer: Scorer) -> None:
    assert scorer.score("虐待されていて、自殺も考える").level == "critical"


def test_lexicon_rejects_a_weight_outside_its_level_band() -> None:
    raw = """{"version": "x", "levels": {"critical": 0.9, "high": 0.6, "medium": 0.3},
      "negation": {"window": 2, "factor": 0.5, "patterns": ["ない"]},
      "terms": [{"id": "a", "category": "c", "level": "critical", "weight": 0.5,
                 "patterns": ["あ"]}]}"""
    with pytest.raises(ValueError, match="band"):
        load_lexicon(raw)


def test_lexicon_has_a_version(scorer: Scorer) -> None:
    assert scorer.score("x").lexicon_version == scorer.lexicon.version != ""
