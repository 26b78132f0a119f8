"""Request checks the Messaging API applies, with LINE's error wording.

Only the rules our services can trip over are modelled: message count, text
length, required fields per message type, alt text, quick reply size. Pure
functions returning ``(property, message)`` pairs so they test without HTTP.
"""

from __future__ import annotations

import re
from typing import Any

Problem = tuple[str, str]

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_ALT_TEXT = 1500
MAX_QUICK_REPLY_ITEMS = 13
MAX_ACTION_LABEL = 20
MAX_ACTION_TEXT = 300
USER_ID = re.compile(r"^U[0-9a-f]{32}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
LOADING_SECONDS = range(5, 61, 5)

# Fields each message type cannot do without.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "textV2": ("text",),
    "sticker": ("packageId", "stickerId"),
    "image": ("originalContentUrl", "previewImageUrl"),
    "video": ("originalContentUrl", "previewImageUrl"),
    "audio": ("originalContentUrl", "duration"),
    "location": ("title", "address", "latitude", "longitude"),
    "imagemap": ("baseUrl", "altText", "baseSize", "actions"),
    "template": ("altText", "template"),
    "flex": ("altText", "contents"),
}
_URL_FIELDS = ("originalContentUrl", "previewImageUrl", "baseUrl")


def error_body(problems: list[Problem]) -> dict[str, Any]:
    """LINE's 400 body: a count and one detail per offending property."""
    return {
        "message": f"The request body has {len(problems)} error(s)",
        "details": [{"message": m, "property": p} for p, m in problems],
    }


def validate_messages(messages: Any) -> list[Problem]:
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        return [("messages", f"size must be between 1 and {MAX_MESSAGES}")]
    problems: list[Problem] = []
    for i, message in enumerate(messages):
        problems += _validate_message(f"messages[{i}]", message)
    return problems


def _validate_message(where: str, message: Any) -> list[Problem]:
    if not isinstance(message, dict):
        return [(where, "must be an object")]
    kind = message.get("type")
    if kind not in _REQUIRED:
        return [(f"{where}.type", "must be one of " + ", ".join(_REQUIRED))]
    problems = [
        (f"{where}.{name}", "must be specified")
        for name in _REQUIRED[kind]
        if message.get(name) in (None, "")
    ]
    problems += _validate_lengths(where, message)
    problems += _validate_quick_reply(where, message.get("quickReply"))
    return problems


def _validate_lengths(where: str, message: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    text = message.get("text")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT):
        problems.append((f"{where}.text", f"Length must be between 0 and {MAX_TEXT}"))
    alt = message.get("altText")
    if alt is not None and (not isinstance(alt, str) or len(alt) > MAX_ALT_TEXT):
        problems.append((f"{where}.altText", f"Length must be between 0 and {MAX_ALT_TEXT}"))
    for name in _URL_FIELDS:
        url = message.get(name)
        if url is not None and not (isinstance(url, str) and url.startswith("https://")):
            problems.append((f"{where}.{name}", "must be a valid HTTPS URL"))
    return problems


def _validate_quick_reply(where: str, quick_reply: Any) -> list[Problem]:
    if quick_reply is None:
        return []
    items = quick_reply.get("items") if isinstance(quick_reply, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_QUICK_REPLY_ITEMS:
        return [
            (f"{where}.quickReply.items", f"size must be between 1 and {MAX_QUICK_REPLY_ITEMS}")
        ]
    problems: list[Problem] = []
    for i, item in enumerate(items):
        action = item.get("action") if isinstance(item, dict) else None
        at = f"{where}.quickReply.items[{i}].action"
        if not isinstance(action, dict):
            problems.append((at, "must be specified"))
            continue
        label = action.get("label")
        if not isinstance(label, str) or not 1 <= len(label) <= MAX_ACTION_LABEL:
            problems.append((f"{at}.label", f"Length must be between 1 and {MAX_ACTION_LABEL}"))
        text = action.get("text")
        if action.get("type") == "message" and (
            not isinstance(text, str) or not 1 <= len(text) <= MAX_ACTION_TEXT
        ):
            problems.append((f"{at}.text", f"Length must be between 1 and {MAX_ACTION_TEXT}"))
    return problems


def invalid_property_message(raw_body: bytes, name: str) -> str:
    """LINE's wording for a property it cannot use, pointing at its place in the body."""
    column = raw_body.find(f'"{name}"'.encode()) + 1
    where = f"line 1, column {column}" if column > 0 else "line: -, column: -"
    return f"The property, '{name}', in the request body is invalid ({where})"
