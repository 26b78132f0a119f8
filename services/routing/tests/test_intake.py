"""The intake questionnaire's decisions, without broker or database."""

from __future__ import annotations

import pytest
from sodan_reporting.monthly import AGE_GROUPS as REPORT_AGE_GROUPS
from sodan_reporting.monthly import REGIONS as REPORT_REGIONS
from sodan_routing import intake
from sodan_routing.intake import Answers, State


def test_a_new_case_is_asked_for_consent_first() -> None:
    nxt = intake.start("こんにちは")
    assert nxt.ask == "consent" and nxt.answers == Answers()


def test_a_first_message_that_agrees_skips_the_consent_question() -> None:
    nxt = intake.start("同意する")
    assert nxt.ask == "age_group" and nxt.answers.consent == intake.AGREED


def test_tapping_every_button_walks_through_all_questions_in_order() -> None:
    state = intake.start("相談したいです").state
    assert state is not None
    for text in ("同意する", "20代", "北勢"):
        nxt = intake.answer(state, text)
        assert nxt.outcome is None
        state = nxt.state
        assert state is not None
    assert state.step == "gender_identity"
    done = intake.answer(state, "ノンバイナリー")
    assert done.outcome == "completed"
    assert done.answers == Answers(
        consent=intake.AGREED, age_group="20代", region="北勢", gender_identity="ノンバイナリー"
    )


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("２０代", "20代"),
        ("17", "10代以下"),
        ("15歳", "10代以下"),
        ("34さい", "30代"),
        ("72", "60代以上"),
        ("60代", "60代以上"),
        ("10代", "10代以下"),
        ("答えたくない", "不明"),
        ("スキップ", None),
        ("skip", None),
    ],
)
def test_typed_ages_are_understood(typed: str, value: str | None) -> None:
    nxt = intake.answer(State("age_group"), typed)
    assert nxt.ask == "region" and nxt.answers.age_group == value


@pytest.mark.parametrize(
    ("typed", "value"),
    [("伊賀", "伊賀"), ("東紀州地域", "東紀州"), ("県外", "県外"), ("答えたくない", "不明")],
)
def test_regions_are_understood(typed: str, value: str) -> None:
    assert intake.answer(State("region"), typed).answers.region == value


def test_every_recorded_label_is_one_the_report_counts() -> None:
    ages = {c.value for c in intake.QUESTIONS["age_group"].choices} - {None}
    regions = {c.value for c in intake.QUESTIONS["region"].choices} - {None}
    assert ages <= set(REPORT_AGE_GROUPS)
    assert regions <= set(REPORT_REGIONS)


def test_an_answer_not_understood_is_asked_once_more_then_skipped() -> None:
    first = intake.answer(State("age_group"), "えーと")
    assert first.ask == "age_group" and first.retry
    assert first.state is not None
    second = intake.answer(first.state, "わからない")
    assert second.ask == "region" and not second.retry
    assert second.answers.age_group is None


def test_a_sticker_is_not_an_answer_but_does_not_stop_the_questionnaire() -> None:
    nxt = intake.answer(State("consent"), None)
    assert nxt.ask == "consent" and nxt.retry


def test_a_long_message_ends_the_questionnaire_at_once() -> None:
    long = "実は最近ずっとつらくて、誰にも話せなくて、どうしたらいいのか分からないんです"
    nxt = intake.answer(State("age_group", answers=Answers(consent=intake.AGREED)), long)
    assert nxt.outcome == "not_an_answer" and nxt.ask is None
    assert nxt.answers.consent == intake.AGREED


def test_a_message_on_several_lines_ends_the_questionnaire() -> None:
    assert intake.answer(State("region"), "あの\nすみません").outcome == "not_an_answer"


def test_declining_the_terms_ends_the_questionnaire() -> None:
    nxt = intake.answer(State("consent"), "同意しない")
    assert nxt.outcome == "declined" and nxt.answers.consent == intake.DECLINED


def test_consent_can_be_skipped_without_declining() -> None:
    nxt = intake.answer(State("consent"), "スキップ")
    assert nxt.ask == "age_group" and nxt.answers.consent is None


def test_gender_identity_is_kept_in_the_clients_words_normalised() -> None:
    nxt = intake.answer(State("gender_identity"), "  Ｘジェンダー  ")
    assert nxt.outcome == "completed" and nxt.answers.gender_identity == "Xジェンダー"


def test_gender_identity_can_be_skipped() -> None:
    nxt = intake.answer(State("gender_identity"), "スキップ")
    assert nxt.outcome == "completed" and nxt.answers.gender_identity is None


def test_every_question_offers_skip_and_fits_lines_quick_replies() -> None:
    for step in intake.STEPS:
        buttons = intake.quick_replies(step)
        assert {"label": "スキップ", "text": "スキップ"} in buttons
        assert len(buttons) <= 12  # the end button comes last (13 at most)
        assert all(1 <= len(b["label"]) <= 20 for b in buttons)


def test_only_short_answers_without_personal_data_reach_the_report() -> None:
    answers = Answers(gender_identity="トランス男性")
    assert intake.reportable_gender_identity(answers, personal_data=False) == "トランス男性"
    assert intake.reportable_gender_identity(answers, personal_data=True) is None
    long = Answers(gender_identity="あ" * (intake.MAX_REPORTED_CHARS + 1))
    assert intake.reportable_gender_identity(long, personal_data=False) is None
