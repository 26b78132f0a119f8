"""Control API for tests, benchmarks and the chat page: play users, read inboxes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from line_simulator.api.deps import SimulatorDep
from line_simulator.schemas import (
    DeliveryRecord,
    FaultPublic,
    FaultSpec,
    InboxEntry,
    PostbackCreate,
    RuntimeConfig,
    RuntimeConfigPatch,
    Stats,
    TimelineEntry,
    UnsendCreate,
    UserCreate,
    UserMessage,
    UserPublic,
)
from line_simulator.state import CapacityError

router = APIRouter(prefix="/sim", tags=["control"])


def known_user(user_id: str, sim: SimulatorDep) -> str:
    if sim.state.user(user_id) is None:
        raise HTTPException(404, f"no simulated user {user_id}")
    return user_id


UserId = Annotated[str, Depends(known_user)]


@router.post("/users", status_code=201)
async def create_user(sim: SimulatorDep, body: UserCreate | None = None) -> UserPublic:
    body = body or UserCreate()
    try:
        user = sim.state.add_user(display_name=body.display_name, language=body.language)
    except CapacityError as exc:
        raise HTTPException(409, str(exc)) from None
    return user.public()


@router.get("/users")
async def list_users(sim: SimulatorDep) -> list[UserPublic]:
    return sim.state.users()


@router.get("/users/{user_id}")
async def get_user(user_id: UserId, sim: SimulatorDep) -> UserPublic:
    user = sim.state.user(user_id)
    assert user is not None
    return user.public()


@router.post("/users/{user_id}/messages")
async def send_message(user_id: UserId, body: UserMessage, sim: SimulatorDep) -> DeliveryRecord:
    """The user sends a message; answers once the webhook is delivered or given up."""
    return await sim.send_message(user_id, body)


@router.post("/users/{user_id}/follow")
async def follow(user_id: UserId, sim: SimulatorDep) -> DeliveryRecord:
    return await sim.follow(user_id)


@router.post("/users/{user_id}/unfollow")
async def unfollow(user_id: UserId, sim: SimulatorDep) -> DeliveryRecord:
    return await sim.unfollow(user_id)


@router.post("/users/{user_id}/postback")
async def postback(user_id: UserId, body: PostbackCreate, sim: SimulatorDep) -> DeliveryRecord:
    return await sim.postback(user_id, body.data, body.params)


@router.post("/users/{user_id}/unsend")
async def unsend(user_id: UserId, body: UnsendCreate, sim: SimulatorDep) -> DeliveryRecord:
    return await sim.unsend(user_id, body.message_id)


@router.delete("/media/{message_id}", status_code=204)
async def expire_media(message_id: str, sim: SimulatorDep) -> Response:
    """Let a message's content expire: the content API answers 404 from now on."""
    if not sim.state.expire_media(message_id):
        raise HTTPException(404, f"no media for message {message_id}")
    return Response(status_code=204)


@router.get("/users/{user_id}/inbox")
async def inbox(
    user_id: UserId,
    sim: SimulatorDep,
    since: Annotated[int | None, Query(description="Only entries with a larger seq")] = None,
) -> list[InboxEntry]:
    return sim.state.inbox(user_id, since=since)


@router.get("/users/{user_id}/timeline")
async def timeline(
    user_id: UserId, sim: SimulatorDep, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[TimelineEntry]:
    return sim.state.timeline(user_id, limit=limit)


@router.get("/deliveries")
async def deliveries(
    sim: SimulatorDep,
    user_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[DeliveryRecord]:
    return sim.state.deliveries(user_id=user_id, limit=limit)


@router.post("/deliveries/{webhook_event_id}/redeliver")
async def redeliver(webhook_event_id: str, sim: SimulatorDep) -> DeliveryRecord:
    """Send an earlier event again with ``isRedelivery: true``, as LINE does when our
    answer was lost, possibly hours later."""
    record = await sim.redeliver(webhook_event_id)
    if record is None:
        raise HTTPException(404, f"no event {webhook_event_id!r} was sent by this simulator")
    return record


@router.post("/reset", status_code=204)
async def reset(sim: SimulatorDep) -> Response:
    sim.reset()
    return Response(status_code=204)


@router.post("/faults", status_code=201)
async def add_fault(body: FaultSpec, sim: SimulatorDep) -> list[FaultPublic]:
    sim.faults.add(body)
    return sim.faults.list()


@router.get("/faults")
async def list_faults(sim: SimulatorDep) -> list[FaultPublic]:
    return sim.faults.list()


@router.delete("/faults", status_code=204)
async def clear_faults(sim: SimulatorDep) -> Response:
    sim.faults.clear()
    return Response(status_code=204)


@router.get("/config")
async def get_config(sim: SimulatorDep) -> RuntimeConfig:
    return sim.state.config


@router.patch("/config")
async def patch_config(body: RuntimeConfigPatch, sim: SimulatorDep) -> RuntimeConfig:
    changes = body.model_dump(exclude_none=True)
    sim.state.config = sim.state.config.model_copy(update=changes)
    return sim.state.config


@router.get("/stats")
async def stats(sim: SimulatorDep) -> Stats:
    return sim.state.stats()
