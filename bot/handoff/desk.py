"""What staff do in the inbox: see the queue, claim, reply, transfer, close.

Each function is one transaction and checks that the conversation belongs to
the staff member's organisation: another organisation's conversation is
:class:`NotFound`, exactly like one that does not exist. Staff see a short
pseudonym and the channel, never a phone number or Telegram id.

Closing or transferring also changes the person's side: their conversation
state (the bot answers again, or another organisation reads) and a notice to
them, queued in the outbox like a reply.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy import Engine as Database

from bot.handoff import store
from bot.handoff.sealing import Sealer
from bot.handoff.store import HANDOFFS, MESSAGES, STAFF, WHATSAPP_WINDOW, Conflict
from bot.inbox.accounts import StaffMember
from bot.storage import conversations
from bot.storage.tables import aware
from flows.engine import Engine
from flows.turn import State, Turn

__all__ = ["Conflict", "Desk", "NotFound"]
#: What one staff reply may hold.
MAX_REPLY = 1500


class NotFound(LookupError):
    """No such conversation for this organisation (the inbox answers 404)."""


def _iso(moment: datetime | None) -> str | None:
    moment = aware(moment)
    return moment.isoformat() if moment else None


@dataclass
class Desk:
    """The inbox's operations over one database. ``wake`` nudges the outbox."""

    database: Database
    sealer: Sealer
    engine: Engine
    template_configured: bool = False
    wake: Callable[[], None] = lambda: None

    # -- reading ------------------------------------------------------------------

    def queue(
        self, staff: StaffMember, lang: str = "es", now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """The organisation's open conversations: waiting ones first, oldest first."""
        now = now or datetime.now(UTC)
        with self.database.connect() as connection:
            rows = connection.execute(
                select(HANDOFFS, STAFF.c.name.label("holder"))
                .outerjoin(STAFF, STAFF.c.id == HANDOFFS.c.claimed_by)
                .where(HANDOFFS.c.org == staff.org, HANDOFFS.c.status != "closed")
            ).all()
            waiting = store.unanswered(connection, [row.id for row in rows])
            last = store.last_message_times(connection, [row.id for row in rows])
        items = [
            self._summary(row, staff, waiting.get(row.id), last.get(row.id), now, lang)
            for row in rows
        ]
        return sorted(
            items,
            key=lambda item: (
                item["status"] != "waiting",
                -(item["waiting_seconds"] or 0),
                item["opened_at"],
            ),
        )

    def detail(
        self, staff: StaffMember, handoff_id: int, lang: str = "es", now: datetime | None = None
    ) -> dict[str, Any]:
        """One conversation with its messages, opened for reading."""
        now = now or datetime.now(UTC)
        with self.database.connect() as connection:
            row = self._row(connection, staff, handoff_id, open_only=False)
            waiting = store.unanswered(connection, [row.id]).get(row.id)
            last = store.last_message_times(connection, [row.id]).get(row.id)
            messages = connection.execute(
                select(MESSAGES, STAFF.c.name.label("staff_name"))
                .outerjoin(STAFF, STAFF.c.id == MESSAGES.c.staff_id)
                .where(MESSAGES.c.handoff_id == row.id)
                .order_by(MESSAGES.c.id)
            ).all()
        summary = self._summary(row, staff, waiting, last, now, lang)
        window_closes = aware(row.last_inbound_at)
        window_closes = window_closes + WHATSAPP_WINDOW if window_closes else None
        return {
            **summary,
            "messages": [self._message(m) for m in messages],
            "window": {
                "applies": row.channel == "whatsapp",
                "open": row.channel != "whatsapp" or bool(window_closes and window_closes > now),
                "closes_at": _iso(window_closes) if row.channel == "whatsapp" else None,
            },
            "template": self.template_configured,
        }

    def _summary(
        self,
        row: Any,
        staff: StaffMember,
        waiting: tuple[int, datetime] | None,
        last: datetime | None,
        now: datetime,
        lang: str = "es",
    ) -> dict[str, Any]:
        kb = self.engine.kb
        city = kb.cities.get(row.city or "")
        oldest = aware(waiting[1]) if waiting else None
        return {
            "id": row.id,
            "pseudonym": f"p-{row.pseudonym[:6]}",
            "channel": row.channel,
            "status": row.status,
            "claimed_by": {"id": row.claimed_by, "name": row.holder} if row.claimed_by else None,
            "mine": row.claimed_by == staff.id,
            "org": row.org,
            "opened_at": _iso(row.opened_at),
            "last_message_at": _iso(last or row.opened_at),
            "waiting_seconds": int((now - oldest).total_seconds()) if oldest else None,
            "unread": waiting[0] if waiting else 0,
            "topic": self._topic(row.topic, lang),
            "city": city.name if city else None,
        }

    def _topic(self, target: str | None, lang: str) -> str | None:
        """What the bot last answered, by name; a city alone is shown as the city."""
        if not target or target.partition(":")[0] not in ("topic", "org", "consulate", "list"):
            return None
        return self.engine.render.title_of(target, lang)

    def _message(self, row: Any) -> dict[str, Any]:
        text = self.sealer.open(row.body)
        note = None
        if row.direction == "note":
            note = {"event": row.kind, **json.loads(text)}
            text = store.note_text(row.kind, note)
        return {
            "id": row.id,
            "direction": row.direction,
            "kind": row.kind,
            "note": note,
            "text": text,
            "at": _iso(row.created_at),
            "staff": row.staff_name,
            "status": row.status if row.direction == "out" else None,
            "error": row.error,
        }

    def _row(
        self, connection: Connection, staff: StaffMember, handoff_id: int, open_only: bool = True
    ) -> Any:
        query = select(HANDOFFS, STAFF.c.name.label("holder")).outerjoin(
            STAFF, STAFF.c.id == HANDOFFS.c.claimed_by
        )
        query = query.where(HANDOFFS.c.id == handoff_id, HANDOFFS.c.org == staff.org)
        if open_only:
            query = query.where(HANDOFFS.c.status != "closed")
        row = connection.execute(query).first()
        if row is None:
            raise NotFound(handoff_id)
        return row

    # -- acting ----------------------------------------------------------------------

    def claim(self, staff: StaffMember, handoff_id: int, now: datetime | None = None) -> None:
        """Take the conversation; :class:`Conflict` when someone else holds it."""
        now = now or datetime.now(UTC)
        with self.database.begin() as connection:
            self._claim(connection, staff, self._row(connection, staff, handoff_id), now)

    def _claim(self, connection: Connection, staff: StaffMember, row: Any, now: datetime) -> None:
        if row.claimed_by == staff.id:
            return
        taken = connection.execute(
            update(HANDOFFS)
            .where(HANDOFFS.c.id == row.id, HANDOFFS.c.claimed_by.is_(None))
            .values(status="claimed", claimed_by=staff.id)
        )
        if taken.rowcount != 1:
            holder = connection.scalar(
                select(STAFF.c.name)
                .join(HANDOFFS, HANDOFFS.c.claimed_by == STAFF.c.id)
                .where(HANDOFFS.c.id == row.id)
            )
            raise Conflict(holder or "")
        store.note(connection, self.sealer, row.id, "claimed", now, name=staff.name)

    def reply(
        self,
        staff: StaffMember,
        handoff_id: int,
        text: str,
        key: str | None = None,
        now: datetime | None = None,
    ) -> tuple[dict[str, Any], str | None]:
        """Queue a reply to the person: the message as the inbox shows it, and a notice
        when WhatsApp's 24-hour window holds it (``held_template``/``held_no_template``)."""
        now = now or datetime.now(UTC)
        text = text.strip()[:MAX_REPLY]
        with self.database.begin() as connection:
            row = self._row(connection, staff, handoff_id)
            existing = self._by_key(connection, row.id, key)
            if existing is not None:
                return self._message(existing), None
            self._claim(connection, staff, row, now)
            last_inbound = aware(row.last_inbound_at)
            held = row.channel == "whatsapp" and (
                last_inbound is None or now - last_inbound >= WHATSAPP_WINDOW
            )
            message_id = store.queue_outgoing(
                connection, self.sealer, row.id, row.channel, text, now,
                staff_id=staff.id, key=key, held=held,
            )  # fmt: skip
            notice = self._hold(connection, row, now) if held else None
            message = self._by_id(connection, message_id)
        self.wake()
        return self._message(message), notice

    def _hold(self, connection: Connection, row: Any, now: datetime) -> str:
        """Outside the window: the approved template once per closed window, if there is one."""
        if not self.template_configured:
            return "held_no_template"
        sent = aware(row.template_sent_at)
        last_inbound = aware(row.last_inbound_at)
        if sent is None or (last_inbound is not None and sent < last_inbound):
            name = self.engine.handoffs.name(row.org)
            store.queue_outgoing(
                connection, self.sealer, row.id, row.channel, name, now, kind="template"
            )
            connection.execute(
                update(HANDOFFS).where(HANDOFFS.c.id == row.id).values(template_sent_at=now)
            )
        return "held_template"

    def _by_key(self, connection: Connection, handoff_id: int, key: str | None) -> Any:
        if not key:
            return None
        return connection.execute(
            select(MESSAGES, STAFF.c.name.label("staff_name"))
            .outerjoin(STAFF, STAFF.c.id == MESSAGES.c.staff_id)
            .where(MESSAGES.c.handoff_id == handoff_id, MESSAGES.c.key == key)
        ).first()

    def _by_id(self, connection: Connection, message_id: int) -> Any:
        return connection.execute(
            select(MESSAGES, STAFF.c.name.label("staff_name"))
            .outerjoin(STAFF, STAFF.c.id == MESSAGES.c.staff_id)
            .where(MESSAGES.c.id == message_id)
        ).one()

    def transfer(
        self, staff: StaffMember, handoff_id: int, org: str, now: datetime | None = None
    ) -> None:
        """Pass the conversation to another partner; it waits in their queue."""
        now = now or datetime.now(UTC)
        with self.database.begin() as connection:
            if org == staff.org or org not in store.staffed_organisations(connection):
                raise ValueError("not a partner")
            row = self._row(connection, staff, handoff_id)
            connection.execute(
                update(HANDOFFS)
                .where(HANDOFFS.c.id == row.id)
                .values(org=org, status="waiting", claimed_by=None)
            )
            name = self.engine.handoffs.name(org)
            store.note(
                connection, self.sealer, row.id, "transferred", now, name=staff.name, to=name
            )
            self._tell_person(
                connection, row, now, lambda s: self.engine.handoffs.transferred(s, org)
            )
        self.wake()

    def close(
        self, staff: StaffMember, handoff_id: int, outcome: str, now: datetime | None = None
    ) -> None:
        """Close with an outcome tag; the person is told and the bot answers again."""
        now = now or datetime.now(UTC)
        if outcome not in store.OUTCOMES or outcome == "person_left":
            raise ValueError("unknown outcome")
        with self.database.begin() as connection:
            row = self._row(connection, staff, handoff_id)
            store.note(
                connection, self.sealer, row.id, "closed", now, name=staff.name, outcome=outcome
            )
            self._tell_person(connection, row, now, self.engine.handoffs.ended)
            store.close(connection, row.id, outcome, now)
        self.wake()

    def _tell_person(
        self, connection: Connection, row: Any, now: datetime, change: Callable[[State], Turn]
    ) -> None:
        """Change the person's state as ``change`` says and queue its notice to them."""
        user = conversations.lock(connection, row.pseudonym, row.channel, now)
        turn = change(State.from_dict(user.state))
        conversations.save_state(connection, row.pseudonym, turn.state)
        for reply in turn.replies:
            store.queue_outgoing(
                connection, self.sealer, row.id, row.channel, reply.text, now, kind="notice"
            )

    def record_status(self, provider_id: str, status: str, error: str | None) -> None:
        """A platform's word on a sent message (Twilio's status callback)."""
        with self.database.begin() as connection:
            store.record_status(connection, provider_id, status, error)

    # -- the web chat's side ------------------------------------------------------------

    def web_updates(self, pseudonym: str) -> tuple[list[str], bool]:
        """Messages waiting for a web chat page, and whether a person reads it now."""
        with self.database.begin() as connection:
            found = store.fetch_for_web(connection, self.sealer, pseudonym)
            in_handoff = store.open_handoff(connection, pseudonym) is not None
        name = self.engine.handoffs.name
        return [store.as_sent(kind, text, name(org)) for kind, text, org in found], in_handoff

    def partners(self, staff: StaffMember) -> list[dict[str, str]]:
        """Organisations a conversation can be passed to."""
        with self.database.connect() as connection:
            orgs = store.staffed_organisations(connection)
        kb = self.engine.kb
        return [
            {"code": kb.organisations[o].code, "id": o, "name": kb.organisations[o].name}
            for o in orgs
            if o != staff.org and o in kb.organisations
        ]
