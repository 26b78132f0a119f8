"""Helpers for the TOTP and lockout tests (a uniquely named module)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pyotp
from sodan_console.api.me import secret_box
from sodan_console.auth import hash_password
from sodan_console.db import auth_queries, queries
from sodan_console.state import ConsoleState
from sodan_console.twofactor import time_step
from sodan_shared.db import transaction


@dataclass(frozen=True)
class Person:
    staff_id: UUID
    login: str
    password: str
    role: str
    secret: str | None = None

    def code(self, *, steps_ahead: int = 0) -> str:
        """A code for now (or the next step: each step is accepted once)."""
        assert self.secret is not None
        when = datetime.now(UTC) + timedelta(seconds=30 * steps_ahead)
        return pyotp.TOTP(self.secret).at(when)


async def make_staff(state: ConsoleState, role: str, *, enrolled: bool = False) -> Person:
    """A fresh staff member with a unique login (lockout counts are per login)."""
    login = f"{role[:4]}-{uuid4().hex[:10]}"
    person = Person(uuid4(), login, f"pw-{uuid4().hex}", role)
    async with transaction(state.db.sessions) as session:
        await queries.upsert_staff(
            session,
            staff_id=person.staff_id,
            login=login,
            display_name=f"テスト {role}",
            role=role,
            password_hash=hash_password(person.password),
        )
        if enrolled:
            secret = pyotp.random_base32()
            sealed = secret_box(state.settings).seal(secret, staff_id=person.staff_id)
            await auth_queries.set_totp_secret(
                session, staff_id=person.staff_id, sealed=sealed.sealed, key_id=sealed.key_id
            )
            # As if enrolled a while ago: the current code is still unused.
            now = datetime.now(UTC)
            await auth_queries.confirm_totp(
                session, staff_id=person.staff_id, step=time_step(now) - 5, now=now
            )
            person = Person(person.staff_id, login, person.password, role, secret)
    return person
