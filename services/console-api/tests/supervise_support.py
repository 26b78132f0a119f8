"""A stand-in for routing in console tests: it answers supervisors' commands the
way routing does (same events, same validation for texts and calendars), so the
console's side of the contract is tested without routing's own machinery (which
has its own tests in services/routing/tests/test_controls.py)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from sodan_shared import auto_texts, hours
from sodan_shared.closing import categories_problem
from sodan_shared.events.console import (
    PickCase,
    ReassignCase,
    ReplaceHours,
    SetAssignmentMode,
    UpdateAutoText,
    UpdateClosingCategories,
)
from sodan_shared.events.envelope import Envelope
from sodan_shared.events.routing import (
    AssignmentModeChanged,
    AssignmentModeChangedV1,
    AssignmentRefused,
    AssignmentRefusedV1,
    AutoTextChanged,
    AutoTextChangedV1,
    CaseAssigned,
    CaseAssignedV1,
    ClosingCategoriesChanged,
    ClosingCategoriesChangedV1,
    HoursChanged,
    HoursChangedV1,
)
from sodan_shared.nats import publish_event
from sodan_shared.subjects import (
    PICK_CASE,
    REASSIGN_CASE,
    REPLACE_HOURS,
    SET_ASSIGNMENT_MODE,
    UPDATE_AUTO_TEXT,
    UPDATE_CLOSING_CATEGORIES,
)

# routing's setting SODAN_ROUTING_FORBIDDEN_WORDS, as a test desk would set it
FORBIDDEN = ("性的少数者",)


class FakeRouting:
    def __init__(self, nc: Client) -> None:
        self.nc = nc
        self.subs: list[Subscription] = []
        self.mode = "auto"
        # case id -> (client id, assigned counsellor or None), filled by the test
        self.cases: dict[UUID, tuple[UUID, UUID | None]] = {}
        self.refuse: dict[UUID, tuple[str, str]] = {}
        self.commands: list[Envelope[Any]] = []

    async def start(self) -> None:
        for subject, handler in (
            (UPDATE_AUTO_TEXT, self.on_auto_text),
            (REPLACE_HOURS, self.on_hours),
            (UPDATE_CLOSING_CATEGORIES, self.on_closing_categories),
            (SET_ASSIGNMENT_MODE, self.on_mode),
            (PICK_CASE, self.on_pick),
            (REASSIGN_CASE, self.on_reassign),
        ):
            self.subs.append(await self.nc.subscribe(subject.name, cb=handler))

    async def stop(self) -> None:
        for sub in self.subs:
            await sub.unsubscribe()

    async def _publish(self, event: Envelope[Any]) -> None:
        await publish_event(self.nc.jetstream(), event)

    async def on_auto_text(self, msg: Msg) -> None:
        command = UpdateAutoText.model_validate_json(msg.data)
        self.commands.append(command)
        p = command.payload
        try:
            body: str | None = auto_texts.validate(p.key, p.body, forbidden_words=FORBIDDEN)
            error = None
        except auto_texts.AutoTextError as exc:
            body, error = None, str(exc)
        await self._publish(
            AutoTextChanged.new(
                channel=command.channel,
                caused_by=command,
                event_id=uuid5(command.id, "auto_text"),
                payload=AutoTextChangedV1(
                    key=p.key,
                    staff_id=p.staff_id,
                    outcome="applied" if body else "refused",
                    error=error,
                    body=body,
                    command_id=command.id,
                ),
            )
        )

    async def on_hours(self, msg: Msg) -> None:
        command = ReplaceHours.model_validate_json(msg.data)
        self.commands.append(command)
        p = command.payload
        hours.build_calendar(p.rules)  # the console validated it already
        await self._publish(
            HoursChanged.new(
                channel=command.channel,
                caused_by=command,
                event_id=uuid5(command.id, "hours"),
                payload=HoursChangedV1(
                    staff_id=p.staff_id,
                    outcome="applied",
                    rules=len(p.rules),
                    command_id=command.id,
                    calendar=p.rules,
                ),
            )
        )

    async def on_closing_categories(self, msg: Msg) -> None:
        command = UpdateClosingCategories.model_validate_json(msg.data)
        self.commands.append(command)
        p = command.payload
        error = categories_problem(p.outcomes, p.topics)
        await self._publish(
            ClosingCategoriesChanged.new(
                channel=command.channel,
                caused_by=command,
                event_id=uuid5(command.id, "closing_categories"),
                payload=ClosingCategoriesChangedV1(
                    staff_id=p.staff_id,
                    outcome="refused" if error else "applied",
                    error=error,
                    outcomes=None if error else p.outcomes,
                    topics=None if error else p.topics,
                    command_id=command.id,
                ),
            )
        )

    async def on_mode(self, msg: Msg) -> None:
        command = SetAssignmentMode.model_validate_json(msg.data)
        self.commands.append(command)
        previous, self.mode = self.mode, command.payload.mode
        await self._publish(
            AssignmentModeChanged.new(
                channel="system",
                caused_by=command,
                event_id=uuid5(command.id, "mode"),
                payload=AssignmentModeChangedV1(
                    mode=command.payload.mode,
                    previous_mode=previous,  # type: ignore[arg-type]
                    staff_id=command.payload.staff_id,
                    command_id=command.id,
                ),
            )
        )

    async def _assign(
        self, command: Envelope[Any], case_id: UUID, by: UUID, to: UUID, how: str
    ) -> None:
        if case_id in self.refuse:
            reason, message = self.refuse[case_id]
            await self._publish(
                AssignmentRefused.new(
                    channel=command.channel,
                    caused_by=command,
                    event_id=uuid5(command.id, "refused"),
                    payload=AssignmentRefusedV1(
                        case_id=case_id,
                        staff_id=by,
                        to_staff_id=to,
                        reason=reason,
                        message=message,
                        command_id=command.id,
                    ),
                )
            )
            return
        client_id, previous = self.cases[case_id]
        self.cases[case_id] = (client_id, to)
        await self._publish(
            CaseAssigned.new(
                channel=command.channel,
                caused_by=command,
                event_id=uuid5(command.id, "assigned"),
                payload=CaseAssignedV1(
                    case_id=case_id,
                    client_id=client_id,
                    counsellor_id=to,
                    previous_counsellor_id=previous,
                    how=how,  # type: ignore[arg-type]
                ),
            )
        )

    async def on_pick(self, msg: Msg) -> None:
        command = PickCase.model_validate_json(msg.data)
        self.commands.append(command)
        p = command.payload
        await self._assign(command, p.case_id, p.staff_id, p.staff_id, "self")

    async def on_reassign(self, msg: Msg) -> None:
        command = ReassignCase.model_validate_json(msg.data)
        self.commands.append(command)
        p = command.payload
        await self._assign(command, p.case_id, p.staff_id, p.to_staff_id, "supervisor")
