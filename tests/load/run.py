"""The load run: simulated users against a real server, a kill -9 in the middle.

Each user sends their conversation one message at a time (as a person
does), with a little think time. Some messages are sent twice at once (a
racing retry), some again after they were answered (a late retry). When
half of all messages have been answered the server's whole process group
gets SIGKILL and is started again on the same port and database; requests
caught by the crash are retried with the same id until the new server
answers.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import httpx

from tests.load.client import Attempt, Delivery, send
from tests.load.fake_bot_api import FakeBotApi
from tests.load.mix import conversation
from tests.load.requests import User, build
from tests.load.server import ServerProcess

#: Share of messages re-sent at the same moment as the original.
TWIN_SHARE = 0.04
#: Share of messages re-sent after they were answered.
LATE_SHARE = 0.08
THINK_SECONDS = 0.03


@dataclass
class Plan:
    users: int = 200
    messages: int = 20
    kill_at: float | None = 0.5
    seed: int = 7
    #: The whole run is cancelled (and fails) after this many seconds.
    deadline: float = 300.0


@dataclass
class Outcome:
    deliveries: list[Delivery] = field(default_factory=list)
    seconds: float = 0.0
    kills: int = 0
    restart_seconds: float = 0.0
    timed_out: bool = False


def make_users(count: int) -> list[User]:
    """Half on WhatsApp, a fifth on SMS, the rest on Telegram; one in four in English."""
    channels = ["whatsapp"] * 5 + ["sms"] * 2 + ["telegram"] * 3
    return [
        User(i, channels[i % len(channels)], "en" if i % 4 == 3 else "es") for i in range(count)
    ]


def plan_deliveries(plan: Plan) -> list[list[Delivery]]:
    """Every user's messages, built in advance (same seed, same messages)."""
    rng = random.Random(plan.seed)
    per_user = []
    for user in make_users(plan.users):
        steps = conversation(rng, plan.messages)
        deliveries = []
        for step in steps:
            roll = rng.random()
            deliveries.append(
                Delivery(
                    build(user, step),
                    twins=1 if roll < TWIN_SHARE else 0,
                    late_copies=1 if TWIN_SHARE <= roll < TWIN_SHARE + LATE_SHARE else 0,
                )
            )
        per_user.append(deliveries)
    return per_user


class LoadRun:
    """Drives one plan against ``server``; Telegram replies land in ``api``."""

    def __init__(self, plan: Plan, server: ServerProcess, api: FakeBotApi) -> None:
        self.plan = plan
        self.server = server
        self.api = api
        self.answered = 0
        self.total = plan.users * plan.messages
        self.outcome = Outcome()
        self._kill_due = asyncio.Event()

    async def run(self) -> Outcome:
        per_user = plan_deliveries(self.plan)
        self.outcome.deliveries = [d for user in per_user for d in user]
        limits = httpx.Limits(max_connections=self.plan.users * 2, max_keepalive_connections=64)
        began = time.monotonic()
        async with httpx.AsyncClient(limits=limits) as client:
            users = [self._user(client, deliveries, i) for i, deliveries in enumerate(per_user)]
            killer = asyncio.create_task(self._killer())
            try:
                await asyncio.wait_for(asyncio.gather(*users), self.plan.deadline)
            except TimeoutError:
                self.outcome.timed_out = True
            finally:
                killer.cancel()
        self.outcome.seconds = time.monotonic() - began
        return self.outcome

    async def _user(self, client: httpx.AsyncClient, deliveries: list[Delivery], i: int) -> None:
        rng = random.Random(self.plan.seed * 1000 + i)
        await asyncio.sleep(rng.uniform(0, 1.0))  # people do not all write at once
        for delivery in deliveries:
            await self._deliver(client, delivery)
            self.answered += 1
            if self.plan.kill_at is not None and self.answered >= self.plan.kill_at * self.total:
                self._kill_due.set()
            await asyncio.sleep(rng.uniform(0, THINK_SECONDS))

    async def _deliver(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        request = delivery.request
        url = self.server.url
        chat = request.user.chat_id
        before = self.api.count(chat)
        copies = await asyncio.gather(
            *(send(client, url, request) for _ in range(1 + delivery.twins))
        )
        delivery.attempts = [a for attempts in copies for a in attempts]
        self._run_webhook_replies(delivery.attempts)
        delivery.texts = self.api.texts(chat)[before:]
        for _ in range(delivery.late_copies):
            before = self.api.count(chat)
            late = await send(client, url, request)
            self._run_webhook_replies(late)
            delivery.late_attempts += late
            delivery.late_texts += self.api.texts(chat)[before:]

    def _run_webhook_replies(self, attempts: list[Attempt]) -> None:
        for attempt in attempts:
            if attempt.webhook_call:
                self.api.run_webhook_reply(attempt.webhook_call)

    async def _killer(self) -> None:
        if self.plan.kill_at is None:
            return
        await self._kill_due.wait()
        began = time.monotonic()
        await asyncio.to_thread(self.server.kill)
        self.outcome.kills += 1
        await asyncio.sleep(0.5)  # clients see refused connections and back off meanwhile
        await asyncio.to_thread(self.server.start)
        self.outcome.restart_seconds = time.monotonic() - began


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (nearest rank) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]
