"""Server-sent events: tells logged-in browsers which cases and chats changed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from sse_starlette.sse import EventSourceResponse

from sodan_console.api.deps import SESSION_COOKIE, CurrentStaff, StateDep, staff_for_token

router = APIRouter(prefix="/api", tags=["live"])

SESSION_RECHECK_S = 30.0


@router.get("/stream")
async def stream(request: Request, staff: CurrentStaff, state: StateDep) -> EventSourceResponse:
    token = request.cookies.get(SESSION_COOKIE)

    async def events() -> AsyncIterator[dict[str, Any]]:
        queue = state.hub.subscribe()
        try:
            yield {"event": "ready", "data": "{}"}
            while True:
                try:
                    change = await asyncio.wait_for(queue.get(), timeout=SESSION_RECHECK_S)
                except TimeoutError:
                    try:  # an expired or revoked session stops receiving updates
                        await staff_for_token(state, token, touch=False)
                    except HTTPException:
                        yield {"event": "logout", "data": "{}"}
                        return
                    continue
                if change is None:
                    return
                yield {"event": change.kind, "data": change.to_json()}
        finally:
            state.hub.unsubscribe(queue)

    return EventSourceResponse(events(), ping=15, headers={"Cache-Control": "no-store"})
