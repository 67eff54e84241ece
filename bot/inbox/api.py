"""The staff inbox's JSON API under ``/inbox/api``; the page calls it.

Routes only translate between HTTP and :class:`bot.handoff.desk.Desk`. Every
route but ``login`` needs a staff session (401 otherwise), and sees only the
staff member's organisation (404 for another's conversation). Bodies are JSON
(415 otherwise, which also keeps plain HTML forms of other sites out).

| route | what |
|---|---|
| ``POST login`` / ``POST logout`` / ``GET me`` | the session |
| ``GET queue`` | open conversations, waiting ones first, oldest first |
| ``GET conversations/{id}`` | one, with its messages and WhatsApp's 24-hour window |
| ``POST conversations/{id}/claim`` / ``reply`` / ``transfer`` / ``close`` | acting |
| ``GET partners`` | organisations a conversation can be passed to |
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bot.handoff.desk import Conflict, NotFound
from bot.inbox import accounts
from bot.inbox.accounts import StaffMember
from bot.limits import LoginLimits
from bot.runtime import Runtime, RuntimeDep

router = APIRouter(prefix="/inbox/api", tags=["inbox"])
COOKIE = "pana_staff"
NO_STORE = {"Cache-Control": "no-store"}


def _json_body(request: Request) -> None:
    if request.method == "POST" and request.headers.get("content-length", "0") != "0":
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise HTTPException(415, "send JSON")


def current_staff(request: Request, runtime: RuntimeDep) -> StaffMember:
    """The logged-in staff member (a route dependency); 401 otherwise."""
    session_id = request.cookies.get(COOKIE, "")
    with runtime.database.connect() as connection:
        staff = accounts.session_member(connection, session_id)
    if staff is None:
        raise HTTPException(401, "login")
    return staff


StaffDep = Annotated[StaffMember, Depends(current_staff)]
JsonOnly = Depends(_json_body)


def _me(runtime: Runtime, staff: StaffMember) -> dict[str, Any]:
    org = runtime.kb.organisations.get(staff.org)
    return {
        "id": staff.id,
        "name": staff.name,
        "email": staff.email,
        "org": org.code if org else staff.org,
        "org_name": org.name if org else staff.org,
        "role": staff.role,
    }


def _allow_login(request: Request) -> bool:
    address = request.client.host if request.client else "unknown"
    limits: LoginLimits = request.app.state.login_limits["inbox"]
    return limits.allow(address)


class Login(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=200)


class ReplyBody(BaseModel):
    text: str = Field(min_length=1, max_length=1500)
    key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{8,64}$")


class TransferBody(BaseModel):
    org: str = Field(min_length=2, max_length=40)


class CloseBody(BaseModel):
    outcome: Literal["resolved", "referred", "no_reply", "other"]


async def conflict(request: Request, exc: Exception) -> JSONResponse:
    """409 ``{"detail": "claimed", "by": name}``: another staff member holds it."""
    holder = exc.holder if isinstance(exc, Conflict) else ""
    return JSONResponse({"detail": "claimed", "by": holder}, status_code=409)


@router.post("/login", dependencies=[JsonOnly])
async def login(body: Login, request: Request, runtime: RuntimeDep) -> Response:
    """Trade an e-mail and password for a session cookie."""
    if not _allow_login(request):
        return JSONResponse({"detail": "too_many"}, status_code=429, headers={"Retry-After": "60"})
    staff = await run_in_threadpool(
        accounts.check_login, runtime.database, body.email, body.password
    )
    if staff is None:
        return JSONResponse({"detail": "wrong_login"}, status_code=401)
    session_id = await run_in_threadpool(accounts.start_session, runtime.database, staff)
    response = JSONResponse({"me": _me(runtime, staff)}, headers=NO_STORE)
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=accounts.SESSION_HOURS * 3600,
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/logout", status_code=204, dependencies=[JsonOnly])
async def logout(request: Request, runtime: RuntimeDep) -> Response:
    session_id = request.cookies.get(COOKIE, "")
    if session_id:
        await run_in_threadpool(accounts.end_session, runtime.database, session_id)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.get("/me")
async def me(staff: StaffDep, runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse(_me(runtime, staff), headers=NO_STORE)


Language = Annotated[Literal["es", "en"], Query()]


@router.get("/queue")
async def queue(staff: StaffDep, runtime: RuntimeDep, lang: Language = "es") -> JSONResponse:
    """The organisation's open conversations; topics named in ``lang``."""
    items = await run_in_threadpool(runtime.desk.queue, staff, lang)
    body = {"now": datetime.now(UTC).isoformat(), "conversations": items}
    return JSONResponse(body, headers=NO_STORE)


async def _detail(
    runtime: Runtime, staff: StaffMember, handoff_id: int, lang: str = "es"
) -> JSONResponse:
    try:
        detail = await run_in_threadpool(runtime.desk.detail, staff, handoff_id, lang)
    except NotFound:
        raise HTTPException(404, "not found") from None
    return JSONResponse(detail, headers=NO_STORE)


@router.get("/conversations/{handoff_id}")
async def conversation(
    handoff_id: int, staff: StaffDep, runtime: RuntimeDep, lang: Language = "es"
) -> JSONResponse:
    """One conversation and its messages; its topic named in ``lang``."""
    return await _detail(runtime, staff, handoff_id, lang)


async def _act(call: Any, *args: Any) -> Any:
    """Run a desk operation; its refusals as 404 / 400 (a :class:`Conflict` becomes 409
    through :func:`conflict`, registered by the app)."""
    try:
        return await run_in_threadpool(call, *args)
    except NotFound:
        raise HTTPException(404, "not found") from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


@router.post("/conversations/{handoff_id}/claim", dependencies=[JsonOnly])
async def claim(handoff_id: int, staff: StaffDep, runtime: RuntimeDep) -> JSONResponse:
    await _act(runtime.desk.claim, staff, handoff_id)
    return await _detail(runtime, staff, handoff_id)


@router.post("/conversations/{handoff_id}/reply", status_code=201, dependencies=[JsonOnly])
async def reply(
    handoff_id: int, body: ReplyBody, staff: StaffDep, runtime: RuntimeDep
) -> JSONResponse:
    """Queue a reply; it goes out through the person's channel."""
    message, notice = await _act(runtime.desk.reply, staff, handoff_id, body.text, body.key)
    return JSONResponse({"message": message, "notice": notice}, status_code=201)


@router.post("/conversations/{handoff_id}/transfer", dependencies=[JsonOnly])
async def transfer(
    handoff_id: int, body: TransferBody, staff: StaffDep, runtime: RuntimeDep
) -> JSONResponse:
    code = body.org.strip().lower()
    org = next((o.id for o in runtime.kb.organisations.values() if o.code.lower() == code), code)
    await _act(runtime.desk.transfer, staff, handoff_id, org)
    return JSONResponse({"ok": True})


@router.post("/conversations/{handoff_id}/close", dependencies=[JsonOnly])
async def close(
    handoff_id: int, body: CloseBody, staff: StaffDep, runtime: RuntimeDep
) -> JSONResponse:
    await _act(runtime.desk.close, staff, handoff_id, body.outcome)
    return JSONResponse({"ok": True})


@router.get("/partners")
async def partners(staff: StaffDep, runtime: RuntimeDep) -> JSONResponse:
    items = await run_in_threadpool(runtime.desk.partners, staff)
    return JSONResponse([{"code": p["code"], "name": p["name"]} for p in items])
