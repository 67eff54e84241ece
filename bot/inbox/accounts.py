"""Staff accounts, one per person, and their sessions.

- Passwords are hashed with argon2id (argon2-cffi's defaults); a hash made with
  older parameters is upgraded at the next login.
- A session is a random id in an ``HttpOnly``, ``SameSite=Strict`` cookie; only
  its SHA-256 is stored, so a copy of the database opens nothing. Logging out
  deletes it; revoking an account (``pana staff revoke``) deletes all of its
  sessions and refuses the account from the next request on.
- ``ADMIN_TOKEN`` is for setting up only; it does not open the inbox.

Example::

    password = add_staff(database, org="ocasiven", name="Ana", email="ana@example.org")
    staff = check_login(database, "ana@example.org", password)
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy import Engine as Database
from sqlalchemy.exc import IntegrityError

from bot.models import Staff, StaffSession

STAFF = cast(Table, Staff.__table__)
SESSIONS = cast(Table, StaffSession.__table__)
Role = Literal["agent", "coordinator"]
ROLES: tuple[Role, ...] = ("agent", "coordinator")
SESSION_HOURS = 12
MIN_PASSWORD_LENGTH = 12
_HASHER = PasswordHasher()
#: Checked against when the e-mail is unknown, so a wrong address takes as long as a
#: wrong password and does not tell which accounts exist.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A staff account cannot be made or changed as asked (the message says why)."""


@dataclass(frozen=True)
class StaffMember:
    id: int
    org: str
    name: str
    email: str
    role: Role


def _member(row: object) -> StaffMember:
    return StaffMember(row.id, row.org, row.name, row.email, row.role)  # type: ignore[attr-defined]


def add_staff(
    database: Database,
    org: str,
    name: str,
    email: str,
    role: Role = "agent",
    password: str | None = None,
    now: datetime | None = None,
) -> str:
    """Create an account and return its password (a generated one unless given)."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    email = email.strip().lower()
    if "@" not in email or not name.strip():
        raise AccountError("a name and an e-mail address are needed")
    password = password or secrets.token_urlsafe(12)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"passwords need {MIN_PASSWORD_LENGTH} characters or more")
    row = {
        "org": org,
        "name": name.strip(),
        "email": email,
        "role": role,
        "password_hash": _HASHER.hash(password),
        "active": True,
        "created_at": now or datetime.now(UTC),
    }
    try:
        with database.begin() as connection:
            connection.execute(insert(STAFF), row)
    except IntegrityError as exc:
        raise AccountError(f"{email} already has an account") from exc
    return password


def list_staff(database: Database) -> list[tuple[StaffMember, bool]]:
    """Every account with whether it is active, by organisation and name."""
    with database.connect() as connection:
        rows = connection.execute(select(STAFF).order_by(STAFF.c.org, STAFF.c.name)).all()
    return [(_member(row), bool(row.active)) for row in rows]


def revoke(database: Database, email: str) -> bool:
    """Deactivate an account and end its sessions; False when there is no such account."""
    with database.begin() as connection:
        staff_id = connection.scalar(select(STAFF.c.id).where(STAFF.c.email == email.lower()))
        if staff_id is None:
            return False
        connection.execute(update(STAFF).where(STAFF.c.id == staff_id).values(active=False))
        connection.execute(delete(SESSIONS).where(SESSIONS.c.staff_id == staff_id))
    return True


def check_login(database: Database, email: str, password: str) -> StaffMember | None:
    """The active account these credentials open, or None (in about constant time)."""
    with database.connect() as connection:
        row = connection.execute(
            select(STAFF).where(STAFF.c.email == email.strip().lower(), STAFF.c.active)
        ).first()
    try:
        _HASHER.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _HASHER.check_needs_rehash(row.password_hash):
        with database.begin() as connection:
            connection.execute(
                update(STAFF)
                .where(STAFF.c.id == row.id)
                .values(password_hash=_HASHER.hash(password))
            )
    return _member(row)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(database: Database, staff: StaffMember, now: datetime | None = None) -> str:
    """Store a new session for ``staff``; the id to put in the cookie."""
    session_id = secrets.token_urlsafe(32)
    expires = (now or datetime.now(UTC)) + timedelta(hours=SESSION_HOURS)
    with database.begin() as connection:
        connection.execute(
            insert(SESSIONS),
            {"id_hash": _hash(session_id), "staff_id": staff.id, "expires_at": expires},
        )
    return session_id


def end_session(database: Database, session_id: str) -> None:
    with database.begin() as connection:
        connection.execute(delete(SESSIONS).where(SESSIONS.c.id_hash == _hash(session_id)))


def session_member(
    connection: Connection, session_id: str, now: datetime | None = None
) -> StaffMember | None:
    """The active staff member a session id belongs to, if unexpired and not revoked."""
    if not session_id:
        return None
    row = connection.execute(
        select(STAFF, SESSIONS.c.expires_at)
        .join(SESSIONS, SESSIONS.c.staff_id == STAFF.c.id)
        .where(SESSIONS.c.id_hash == _hash(session_id), STAFF.c.active)
    ).first()
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    return _member(row) if expires > (now or datetime.now(UTC)) else None


def purge_sessions(connection: Connection, now: datetime) -> None:
    connection.execute(delete(SESSIONS).where(SESSIONS.c.expires_at < now))
