"""Helpers for the client's tests (a uniquely named module: all tests share one process)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from nats.js import JetStreamContext
from sodan_console.seed import DEMO_STAFF
from sodan_console.state import ConsoleState
from sodan_shared.events.routing import CaseAssigned, CaseAssignedV1, CaseOpened, CaseOpenedV1
from sodan_shared.nats import publish_event
from sodan_shared.testing.factories import make_message_received


@dataclass(frozen=True)
class Console:
    """A console serving on a free port, and its process state (keyring, database)."""

    url: str
    state: ConsoleState


PASSWORDS = {s.login: s.password for s in DEMO_STAFF}
STAFF_IDS = {s.login: s.staff_id for s in DEMO_STAFF}


async def open_case(
    state: ConsoleState, js: JetStreamContext, *, text: str, counsellor: str = "counsellor1"
) -> UUID:
    """What ingress and routing announce for a new client's case assigned to `counsellor`."""
    identity = await state.keyring.ensure_client(channel="demo", line_user_id="U" + uuid4().hex)
    cipher = await state.keyring.cipher(identity.client_id)
    received = make_message_received(cipher=cipher, client_no=identity.client_no, text=text)
    opened = CaseOpened.new(
        channel="demo",
        payload=CaseOpenedV1(
            case_id=uuid4(),
            client_id=identity.client_id,
            client_no=identity.client_no,
            first_message_event_id=received.id,
            queued_at=datetime.now(UTC),
        ),
    )
    assigned = CaseAssigned.new(
        channel="demo",
        caused_by=opened,
        payload=CaseAssignedV1(
            case_id=opened.payload.case_id,
            client_id=identity.client_id,
            counsellor_id=STAFF_IDS[counsellor],
        ),
    )
    for event in (received, opened, assigned):
        await publish_event(js, event)
    return opened.payload.case_id


async def staff_with_totp(state: ConsoleState) -> tuple[str, str, str]:
    """(login, password, TOTP secret) of a fresh supervisor who enrolled a while ago."""
    import pyotp
    from sodan_console.api.me import secret_box
    from sodan_console.auth import hash_password
    from sodan_console.db import auth_queries, queries
    from sodan_console.twofactor import time_step
    from sodan_shared.db import transaction

    staff_id, login, password = uuid4(), f"totp-{uuid4().hex[:10]}", f"pw-{uuid4().hex}"
    secret = pyotp.random_base32()
    async with transaction(state.db.sessions) as session:
        await queries.upsert_staff(
            session,
            staff_id=staff_id,
            login=login,
            display_name="確認コード 五月",
            role="supervisor",
            password_hash=hash_password(password),
        )
        sealed = secret_box(state.settings).seal(secret, staff_id=staff_id)
        await auth_queries.set_totp_secret(
            session, staff_id=staff_id, sealed=sealed.sealed, key_id=sealed.key_id
        )
        now = datetime.now(UTC)
        # enrolled a while ago, so the current code is still unused
        await auth_queries.confirm_totp(
            session, staff_id=staff_id, step=time_step(now) - 5, now=now
        )
    return login, password, secret
