"""Load for a drill: LINE users writing, counsellors answering, and the reckoning after.

Every text carries a marker unique to the drill, so a drill counts only its own
messages on a stack earlier drills have used.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from line_simulator.schemas import DeliveryRecord

from drills.world import World


@dataclass
class Sent:
    text: str
    user_id: str
    record: DeliveryRecord | None = None
    error: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.record is not None and self.record.final_status in range(200, 300)


@dataclass
class Tally:
    """What the reconciliation found; `lost` and `duplicates` must be zero."""

    sent: int
    acknowledged: int
    stored: int
    duplicates: int
    lost: int
    replies_sent: int
    replies_received: int
    reply_duplicates: int
    replies_lost: int

    @property
    def clean(self) -> bool:
        return self.lost == self.duplicates == self.replies_lost == self.reply_duplicates == 0


@dataclass
class Traffic:
    """Users writing at a steady rate (open loop: a message leaves on schedule
    whether or not LINE has had an answer for the previous one)."""

    world: World
    tag: str
    users: list[str] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # texts the console accepted
    answered: set[str] = field(default_factory=set)  # case ids with a reply accepted
    # Cases opened before this drill belong to earlier drills: not answered here.
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _started: float = field(default_factory=time.monotonic)

    def say(self, what: str) -> None:
        print(f"  {time.monotonic() - self._started:6.1f} s  {what}", file=sys.stderr, flush=True)

    async def add_users(self, count: int) -> None:
        for _ in range(count):
            user = await self.world.sim.create_user()
            self.users.append(user.user_id)

    async def write(self, *, rate: float, seconds: float) -> None:
        """Send for `seconds` at `rate` messages/s; returns when all are sent
        (not when LINE has its answers: `settle` waits for those)."""
        start = time.monotonic()
        for n in range(round(rate * seconds)):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            item = Sent(
                text=f"{self.tag}#{len(self.sent)}", user_id=self.users[n % len(self.users)]
            )
            self.sent.append(item)
            self._tasks.append(asyncio.create_task(self._send(item)))

    async def _send(self, item: Sent) -> None:
        try:
            item.record = await self.world.sim.send_text(item.user_id, item.text)
        except httpx.HTTPError as exc:
            item.error = type(exc).__name__

    async def answer(self, until: asyncio.Event, *, give_up_s: float, every: float = 1.0) -> None:
        """Each counsellor answers each of their cases once a round. After `until`
        is set, rounds go on until every user's case has had a reply (a case may be
        assigned only after a fault), or for `give_up_s` at most. A reply the console
        refused (it or a dependency down) is not counted as sent."""
        give_up_at: float | None = None
        while True:
            for client in self.world.counsellors:
                await self._answer_round(client)
            if until.is_set():
                give_up_at = give_up_at or time.monotonic() + give_up_s
                if len(self.answered) >= len(self.users) or time.monotonic() > give_up_at:
                    return
            try:
                await asyncio.wait_for(until.wait(), timeout=every)
            except TimeoutError:
                pass
            else:
                await asyncio.sleep(every)

    async def _answer_round(self, client: httpx.AsyncClient) -> None:
        for case in await self._cases_of(client):
            text = f"{self.tag}-reply#{len(self.replies)}:{str(case['case_id'])[:8]}"
            try:
                response = await client.post(
                    f"/api/cases/{case['case_id']}/replies", json={"text": text}
                )
            except httpx.HTTPError:
                continue  # no answer: not counted as sent (it is checked as received anyway)
            if response.status_code in (200, 201, 202):
                self.replies.append(text)
                self.answered.add(str(case["case_id"]))

    async def close_cases(self, *, timeout: float = 60.0) -> None:
        """Close this drill's cases, so the next drill's clients find counsellors
        with room (a counsellor holds at most CAPACITY cases)."""
        deadline = time.monotonic() + timeout
        for client in self.world.counsellors:
            options = (await client.get("/api/closing-options")).json()
            close = {"outcome": options["outcomes"][0], "topics": options["topics"][:1]}
            while time.monotonic() < deadline:
                mine = [c for c in await self._cases_of(client) if c["status"] != "closed"]
                if not mine:
                    break
                for case in mine:
                    await client.post(f"/api/cases/{case['case_id']}/close", json=close)
                await asyncio.sleep(1.0)

    async def _cases_of(self, client: httpx.AsyncClient) -> list[dict[str, Any]]:
        """This drill's cases the counsellor holds ([] while the console is away)."""
        try:
            response = await client.get("/api/cases", params={"assignee": "me", "limit": 100})
            if response.status_code != 200:
                return []
            body = response.json()
        except (httpx.HTTPError, ValueError):
            return []
        cases = body["items"] if isinstance(body, dict) else body
        return [c for c in cases if datetime.fromisoformat(c["opened_at"]) >= self.since]

    async def settle(self) -> None:
        """Wait until LINE has a final answer for every message sent."""
        await asyncio.gather(*self._tasks)
        self._tasks.clear()

    def latencies_ms(self) -> list[float]:
        """First-attempt acknowledgement times of the acknowledged messages."""
        return [
            s.record.attempts[0].latency_ms
            for s in self.sent
            if s.acknowledged and s.record is not None and s.record.attempts
        ]

    async def reconcile(self) -> Tally:
        acked = [s for s in self.sent if s.acknowledged and s.record and s.record.message_id]
        ids = [s.record.message_id for s in acked if s.record]
        rows = await self.world.query(
            "SELECT line_message_id, count(*) FROM console.messages"
            " WHERE line_message_id = ANY(%s) GROUP BY line_message_id",
            ids,
        )
        stored = {str(line_id): int(str(n)) for line_id, n in rows}
        received = await self._replies_received()
        wanted = Counter(self.replies)
        return Tally(
            sent=len(self.sent),
            acknowledged=len(acked),
            stored=sum(1 for i in ids if i in stored),
            duplicates=sum(n - 1 for n in stored.values()),
            lost=sum(1 for i in ids if i not in stored),
            replies_sent=len(self.replies),
            replies_received=sum(1 for t in wanted if received[t] > 0),
            reply_duplicates=sum(n - 1 for t, n in received.items() if n > 1),
            replies_lost=sum(1 for t in wanted if received[t] == 0),
        )

    async def _replies_received(self) -> Counter[str]:
        prefix = f"{self.tag}-reply#"
        got: Counter[str] = Counter()
        for user_id in self.users:
            for entry in await self.world.sim.inbox(user_id):
                text = entry.message.get("text")
                if isinstance(text, str) and text.startswith(prefix):
                    got[text] += 1
        return got

    async def reconcile_when_complete(self, *, timeout: float) -> tuple[Tally, float]:
        """Reconcile until nothing is missing (or `timeout`); returns the tally
        and how long the stack took to catch up."""
        start = time.monotonic()
        while True:
            tally = await self.reconcile()
            waited = time.monotonic() - start
            if (tally.lost == 0 and tally.replies_lost == 0) or waited > timeout:
                return tally, waited
            await asyncio.sleep(0.5)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]
