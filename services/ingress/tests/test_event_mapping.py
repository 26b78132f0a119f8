"""Pure decisions on LINE events: which event they become, and lateness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from line_simulator.webhook import (
    make_follow_event,
    make_postback_event,
    make_text_event,
    make_unfollow_event,
    make_unsend_event,
)
from sodan_ingress.webhook import WebhookEvent, event_kind, is_late, skip_reason


def _parsed(event: dict[str, Any]) -> WebhookEvent:
    return WebhookEvent.model_validate(event)


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        (make_text_event(), "message"),
        (make_follow_event(), "follow"),
        (make_unfollow_event(), "unfollow"),
        (make_postback_event(), "postback"),
        (make_unsend_event(message_id="1234"), "unsend"),
        ({**make_unfollow_event(), "type": "videoPlayComplete"}, "unknown"),
        ({**make_postback_event(), "postback": None}, "unknown"),
    ],
)
def test_each_line_event_type_maps_to_one_kind(event: dict[str, Any], kind: str) -> None:
    assert event_kind(_parsed(event)) == kind


def test_group_and_room_events_are_skipped_even_if_unknown() -> None:
    for source in ({"type": "group", "groupId": "C1", "userId": "U1"}, {"type": "room"}):
        for event in (make_text_event(), {**make_follow_event(), "type": "memberJoined"}):
            assert skip_reason(_parsed({**event, "source": source})) == "not_one_to_one"


def test_known_events_need_a_user_but_unknown_ones_are_kept_without() -> None:
    no_user = {"type": "user"}
    assert skip_reason(_parsed({**make_follow_event(), "source": no_user})) == "no_user_id"
    unknown = {**make_follow_event(), "type": "somethingNew"}
    assert skip_reason(_parsed({**unknown, "source": no_user})) is None
    assert skip_reason(_parsed(make_unsend_event(message_id="1"))) is None


def test_an_event_older_than_the_threshold_is_late() -> None:
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert is_late(now - timedelta(hours=2), received=now, late_after_s=3600)
    assert not is_late(now - timedelta(minutes=59), received=now, late_after_s=3600)
    assert not is_late(now + timedelta(seconds=5), received=now, late_after_s=3600)
