"""WhatsApp and SMS through Twilio: signed form posts in, TwiML out.

Twilio posts ``application/x-www-form-urlencoded`` fields (``From``,
``Body``, ``MessageSid``, ``NumMedia``, ``Latitude``, ``Longitude``) and
signs them with ``X-Twilio-Signature``: HMAC-SHA1 of the public URL plus the
sorted fields, keyed by the auth token. The reply is synchronous TwiML, so no
outbound API call is needed. ``From: whatsapp:+51…`` is WhatsApp; a bare
number is SMS.
"""

from __future__ import annotations

import logging
from datetime import date
from functools import partial
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.confirmed import ConfirmedResponse
from bot.channels.split import SMS_LIMIT, WHATSAPP_LIMIT, split_text
from bot.runtime import Runtime, RuntimeDep
from flows.turn import Channel, Incoming, Location, Reply

log = logging.getLogger("pana.twilio")
router = APIRouter()
TWIML = "application/xml"


def twiml(texts: list[str]) -> Response:
    """A TwiML response with one ``<Message>`` per text (XML-escaped by the twilio library)."""
    response = MessagingResponse()
    for text in texts:
        response.message(text)
    return Response(str(response), media_type=TWIML)


def signed_url(request: Request, public_base_url: str) -> str:
    """The URL Twilio signed: the public base URL plus path and query, when configured."""
    if not public_base_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{public_base_url.rstrip('/')}{request.url.path}{query}"


async def verified_form(request: Request, runtime: Runtime) -> dict[str, str]:
    """The posted fields, after checking the signature; 403 otherwise."""
    token = runtime.settings.twilio_auth_token
    if not token:
        raise HTTPException(403, "Twilio is not configured")
    body = (await request.body()).decode("utf-8", errors="replace")
    form = dict(parse_qsl(body, keep_blank_values=True))
    signature = request.headers.get("X-Twilio-Signature", "")
    url = signed_url(request, runtime.settings.public_base_url)
    # RequestValidator compares in constant time.
    if not signature or not RequestValidator(token).validate(url, form, signature):
        log.warning("rejected unsigned or wrongly signed Twilio request")
        raise HTTPException(403, "invalid signature")
    return form


def _location(form: dict[str, str]) -> Location | None:
    try:
        latitude, longitude = float(form["Latitude"]), float(form["Longitude"])
    except (KeyError, ValueError):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return Location(latitude, longitude)


def _texts(replies: list[Reply], sms: bool) -> list[str]:
    texts: list[str] = []
    for reply in replies:
        if sms:
            body = reply.text if len(reply.text) <= SMS_LIMIT else (reply.short or reply.text)
            texts += split_text(body, SMS_LIMIT)[:2]
        else:
            texts += split_text(reply.text, WHATSAPP_LIMIT)
    return texts


#: The form Twilio posts, declared for the OpenAPI schema (the handler reads the raw body
#: because the signature covers exactly what was sent).
TWILIO_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["From"],
                    "properties": {
                        "MessageSid": {"type": "string"},
                        "From": {"type": "string", "example": "whatsapp:+51987654321"},
                        "Body": {"type": "string"},
                        "NumMedia": {"type": "string"},
                        "Latitude": {"type": "string"},
                        "Longitude": {"type": "string"},
                    },
                }
            }
        },
    },
    "parameters": [
        {
            "name": "X-Twilio-Signature",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
        }
    ],
}


@router.post(
    "/webhooks/twilio", response_class=Response, tags=["channels"], openapi_extra=TWILIO_FORM
)
async def twilio_webhook(request: Request, runtime: RuntimeDep) -> Response:
    """Inbound WhatsApp or SMS message; answers with TwiML."""
    form = await verified_form(request, runtime)
    sender = form.get("From", "").strip()
    if not sender:
        raise HTTPException(400, "missing From")
    whatsapp = sender.lower().startswith("whatsapp:")
    channel: Channel = "whatsapp" if whatsapp else "sms"
    platform_id = sender.split(":", 1)[1] if whatsapp else sender
    try:
        media = int(form.get("NumMedia", "0") or 0) > 0
    except ValueError:
        media = False
    incoming = Incoming(
        channel=channel,
        text=form.get("Body", ""),
        location=_location(form),
        has_media=media,
        today=date.today(),
    )
    sid = form.get("MessageSid") or None
    outcome = await run_in_threadpool(
        partial(runtime.helpline.receive, confirm_later=True), channel, platform_id, incoming, sid
    )
    response = twiml(_texts(outcome.replies, sms=not whatsapp))
    return ConfirmedResponse(response, lambda: runtime.helpline.confirm_soon(channel, sid))


@router.post(
    "/webhooks/twilio/fallback",
    response_class=Response,
    tags=["channels"],
    openapi_extra=TWILIO_FORM,
)
async def twilio_fallback(request: Request, runtime: RuntimeDep) -> Response:
    """Twilio's fallback URL: a static reply that needs no database."""
    await verified_form(request, runtime)
    return twiml([runtime.kb.message("busy", "es")])
