"""No webhook body makes ingress answer 5xx (other than 503) or stop answering.

Hypothesis throws arbitrary bytes, arbitrary JSON, LINE-shaped bodies whose
fields have the wrong types, and huge or odd unicode at the running app, each
signed with the channel secret and also unsigned.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from line_simulator.webhook import (
    make_follow_event,
    make_image_event,
    make_location_event,
    make_sticker_event,
    make_text_event,
    new_user_id,
    sign,
)
from sodan_shared.settings import DEMO_CHANNEL_SECRET

from .conftest import BOT_USER_ID, signed_webhook

WEBHOOK = "/line/webhook/demo"

# Lone surrogates survive json.dumps (as \ud800 escapes) and json.loads, but not
# UTF-8 encoding: a classic way to crash whatever seals or logs the text later.
odd_text = st.one_of(
    st.text(max_size=64),
    st.text(alphabet=st.sampled_from("\ud800\udfff\u0000\u202e\ufeff😀𠮷ｱ\n"), max_size=32),
    st.builds(lambda c, n: c * n, st.sampled_from("あ𠮷x"), st.integers(1000, 40_000)),
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | odd_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(odd_text, children, max_size=4)
    ),
    max_leaves=12,
)


def _templates() -> list[dict[str, Any]]:
    user = new_user_id()
    return [
        make_text_event(user_id=user),
        make_image_event(user_id=user),
        make_location_event(user_id=user),
        make_sticker_event(user_id=user),
        make_follow_event(user_id=user),
    ]


@st.composite
def line_shaped_bodies(draw: st.DrawFn) -> bytes:
    """A real event with some of its fields (top level or nested) replaced."""
    event = draw(st.sampled_from(_templates()))
    for key in draw(st.lists(st.sampled_from(sorted(event)), max_size=3, unique=True)):
        event[key] = draw(json_values)
    for nested in ("message", "source", "deliveryContext"):
        inner = event.get(nested)
        if isinstance(inner, dict) and inner and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(inner)))
            inner[key] = draw(json_values | odd_text)
    body: dict[str, Any] = {"destination": BOT_USER_ID, "events": [event]}
    if draw(st.booleans()):
        body["destination"] = draw(json_values)
    if draw(st.booleans()):
        body["events"] = draw(st.sampled_from([None, {}, "x", [None], [event, 1]]))
    return json.dumps(body).encode()


bodies = st.one_of(
    st.binary(max_size=2048),
    json_values.map(lambda v: json.dumps(v).encode()),
    line_shaped_bodies(),
)


@pytest.fixture(scope="module")
async def fuzz_http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


def _acceptable(response: httpx.Response) -> bool:
    return response.status_code < 500 or response.status_code == 503


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=bodies)
# found by this test: a non-ASCII destination made the channel check raise
@example(body=b'{"destination":"\\u0080","events":[]}')
async def test_no_body_makes_the_webhook_fail_or_stop(
    body: bytes, fuzz_http: httpx.AsyncClient, ingress_url: str
) -> None:
    url = ingress_url + WEBHOOK
    signed = {"X-Line-Signature": sign(body, DEMO_CHANNEL_SECRET)}
    for headers in (signed, {}):
        response = await fuzz_http.post(
            url, content=body, headers={"Content-Type": "application/json", **headers}
        )
        assert _acceptable(response), (response.status_code, response.text[:200])
    assert (await fuzz_http.post(url, content=body)).status_code == 401


async def test_the_app_still_accepts_a_real_webhook_after_the_fuzzing(
    fuzz_http: httpx.AsyncClient, ingress_url: str
) -> None:
    hook = signed_webhook([make_text_event(user_id=new_user_id())])

    response = await fuzz_http.post(ingress_url + WEBHOOK, content=hook.body, headers=hook.headers)

    assert response.status_code == 200
