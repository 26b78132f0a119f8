"""What one push or reply looks like on LINE: pure assembly, no I/O.

Texts first, then the sticker; quick-reply buttons ride on the last message
(LINE shows them only for the last one). The client's end button is always the
last button, so one tap sends the end word through the normal end-word path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from linebot.v3.messaging import (
    Message,
    MessageAction,
    QuickReply,
    QuickReplyItem,
    StickerMessage,
    TextMessage,
)
from sodan_shared.events.line import (
    MAX_QUICK_REPLIES,
    MAX_QUICK_REPLY_LABEL,
    MAX_QUICK_REPLY_TEXT,
    StickerRef,
)


@dataclass(frozen=True)
class Button:
    """A quick-reply message action: tapping it sends ``text`` as the client."""

    label: str
    text: str


class BadQuickRepliesError(ValueError):
    """The sealed quick-reply list did not hold what console-api promised."""


def parse_buttons(raw: str) -> list[Button]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadQuickRepliesError("not JSON") from exc
    if not isinstance(data, list):
        raise BadQuickRepliesError("not a list")
    buttons = []
    for item in data:
        if not isinstance(item, dict):
            raise BadQuickRepliesError("item is not an object")
        label, text = item.get("label"), item.get("text")
        if not isinstance(label, str) or not 1 <= len(label) <= MAX_QUICK_REPLY_LABEL:
            raise BadQuickRepliesError("bad label")
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_QUICK_REPLY_TEXT:
            raise BadQuickRepliesError("bad text")
        buttons.append(Button(label=label, text=text))
    return buttons


def end_button(label: str, end_words: list[str]) -> Button | None:
    """The client's way out as a button; None when switched off (empty label)."""
    if not label or not end_words:
        return None
    return Button(label=label[:MAX_QUICK_REPLY_LABEL], text=end_words[0])


def assemble_buttons(own: list[Button], end: Button | None) -> list[Button]:
    """The counsellor's buttons, then the end button last; never above LINE's 13.

    Console-api keeps counsellors to 12 when the end button is on; trimming here
    only guards an older console, and the end button is never what is dropped.
    """
    if end is None:
        return own[:MAX_QUICK_REPLIES]
    mine = [b for b in own if b != end][: MAX_QUICK_REPLIES - 1]
    return [*mine, end]


def build_messages(
    texts: list[str], *, sticker: StickerRef | None = None, buttons: list[Button] | None = None
) -> list[Message]:
    messages: list[Message] = [TextMessage(text=text) for text in texts]
    if sticker is not None:
        messages.append(StickerMessage(packageId=sticker.package_id, stickerId=sticker.sticker_id))
    if buttons and messages:
        items = [QuickReplyItem(action=MessageAction(label=b.label, text=b.text)) for b in buttons]
        messages[-1].quick_reply = QuickReply(items=items)
    return messages
