"""WhatsApp and SMS through Twilio: signed form posts in, TwiML out.

Twilio posts ``application/x-www-form-urlencoded`` fields (``From``,
``Body``, ``MessageSid``, ``NumMedia``, ``Latitude``, ``Longitude``) and
signs them with ``X-Twilio-Signature``: HMAC-SHA1 of the public URL plus the
sorted fields, keyed by the auth token. The reply is synchronous TwiML, so no
outbound API call is needed. ``From: whatsapp:+51…`` is WhatsApp; a bare
number is SMS.

The signature covers the fields' names and values run together, so
``MessageSid=SM…&NumMedia=0`` and ``MessageSid=SM…NumMedia0`` sign alike; a
signed request is therefore also checked for Twilio's documented fields
(``MessageSid`` is ``SM`` or ``MM`` and 32 hex digits, ``AccountSid`` is
``AC`` and 32, ``NumMedia`` a number) before it is handled, or it gets 400.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.base import Channel, Inbound, answer
from bot.channels.coordinates import checked_location
from bot.channels.split import SMS_LIMIT, WHATSAPP_LIMIT, split_text
from bot.runtime import RuntimeDep
from flows.turn import Incoming, Location, Reply

log = logging.getLogger("pana.twilio")
router = APIRouter()
TWIML = "application/xml"
#: Messages this module says itself, from the messages table.
MESSAGES = ("busy",)
#: Twilio's documented formats for the fields every message webhook carries.
STANDARD_FIELDS = {
    "MessageSid": re.compile(r"(SM|MM)[0-9a-fA-F]{32}"),
    "AccountSid": re.compile(r"AC[0-9a-fA-F]{32}"),
    "From": re.compile(r".+", re.DOTALL),
    "NumMedia": re.compile(r"\d{1,2}"),
}


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


async def verified_form(request: Request, runtime: RuntimeDep) -> dict[str, str]:
    """The posted fields, after checking the signature; 403 otherwise (a route dependency)."""
    form = await signed_form(request, runtime)
    for name, pattern in STANDARD_FIELDS.items():
        if not pattern.fullmatch(form.get(name, "").strip()):
            log.warning("signed Twilio request without a valid %s", name)
            raise HTTPException(400, f"missing or malformed {name}")
    return form


async def signed_form(request: Request, runtime: RuntimeDep) -> dict[str, str]:
    """The posted fields of any request Twilio signed (a message or a status callback)."""
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


VerifiedForm = Annotated[dict[str, str], Depends(verified_form)]
SignedForm = Annotated[dict[str, str], Depends(signed_form)]


class Twilio(Channel[Inbound]):
    """WhatsApp and SMS: a verified form in, TwiML out.

    Example::

        inbound = Twilio().parse({"From": "whatsapp:+51987654321", "Body": "hola",
                                  "MessageSid": "SM" + "0" * 32, "NumMedia": "0"})
        inbound.incoming.channel, inbound.platform_id   # ("whatsapp", "+51987654321")
    """

    confirm_later = True

    def parse(self, payload: Mapping[str, str]) -> Inbound:
        """``payload``: a form :func:`verified_form` passed, so its standard fields are there."""
        sender = payload["From"].strip()
        whatsapp = sender.lower().startswith("whatsapp:")
        incoming = Incoming(
            channel="whatsapp" if whatsapp else "sms",
            text=payload.get("Body", ""),
            location=_location(payload),
            has_media=int(payload["NumMedia"]) > 0,
            today=date.today(),
        )
        platform_id = sender.split(":", 1)[1] if whatsapp else sender
        ours = payload.get("To", "").strip()
        reply_to = {"to": sender, "from": ours} if ours else None
        return Inbound(incoming, platform_id, payload["MessageSid"].strip(), reply_to=reply_to)

    def render(self, inbound: Inbound, replies: Sequence[Reply]) -> Response:
        """One ``<Message>`` per piece: WhatsApp's cut at 1,600 characters, SMS's short forms."""
        return twiml(_texts(replies, sms=inbound.incoming.channel == "sms"))


def _location(form: Mapping[str, str]) -> Location | None:
    try:
        return checked_location(float(form["Latitude"]), float(form["Longitude"]))
    except (KeyError, ValueError):
        return None


def _texts(replies: Sequence[Reply], sms: bool) -> list[str]:
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
                    "required": ["MessageSid", "AccountSid", "From", "NumMedia"],
                    "properties": {
                        "MessageSid": {"type": "string", "pattern": "^(SM|MM)[0-9a-f]{32}$"},
                        "AccountSid": {"type": "string", "pattern": "^AC[0-9a-f]{32}$"},
                        "From": {"type": "string", "example": "whatsapp:+51987654321"},
                        "Body": {"type": "string"},
                        "NumMedia": {"type": "string", "pattern": "^[0-9]{1,2}$"},
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
async def twilio_webhook(form: VerifiedForm, runtime: RuntimeDep) -> Response:
    """Inbound WhatsApp or SMS message; answers with TwiML."""
    channel = Twilio()
    return await answer(runtime, channel, channel.parse(form))


@router.post(
    "/webhooks/twilio/fallback",
    response_class=Response,
    tags=["channels"],
    openapi_extra=TWILIO_FORM,
)
async def twilio_fallback(form: VerifiedForm, runtime: RuntimeDep) -> Response:
    """Twilio's fallback URL: a static reply that needs no database."""
    return twiml([runtime.kb.message("busy", "es")])


@router.post("/webhooks/twilio/status", tags=["channels"])
async def twilio_status(form: SignedForm, runtime: RuntimeDep) -> Response:
    """Twilio's status callback for a staff reply: queued, sent, delivered, read, failed."""
    sid = form.get("MessageSid", "").strip()
    status = form.get("MessageStatus", "").strip().lower()
    if not STANDARD_FIELDS["MessageSid"].fullmatch(sid) or not status.isalpha():
        raise HTTPException(400, "missing or malformed MessageSid or MessageStatus")
    code = form.get("ErrorCode", "").strip()
    error = f"Twilio {code}" if code and code != "0" else None
    await run_in_threadpool(runtime.desk.record_status, sid, status, error)
    return Response(status_code=204)
