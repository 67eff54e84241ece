"""The channel contract: what every way in to Pana declares, and the one way it is answered.

A channel turns a platform's webhook into a message and the bot's replies
into that webhook's response, and nothing else::

    payload ──parse──▶ Inbound ──answer()──▶ Helpline.receive ──▶ replies ──render──▶ Response

- **Verification** (Twilio's signature, Telegram's secret token) is a route
  dependency: by the time a payload is parsed it is known to come from the
  platform.
- :meth:`Channel.parse` is pure: a payload in, an :class:`Inbound` out, or
  None for what Pana does not answer (the route says 200 and stores
  nothing). It raises ``ValueError`` (or the platform library's own errors)
  for a payload that is malformed; the route answers 400.
- :meth:`Channel.render` is pure: the replies as the HTTP response that
  carries them (TwiML, a Bot API call, JSON).
- :func:`answer` does the rest, the same for every channel: the helpline's
  transaction off the event loop, then, for a channel whose replies travel in
  the response (``confirm_later``), the "sent" record once the response has
  been written (see :mod:`bot.delivery`).

Two optional steps have defaults: :meth:`Channel.busy` (above the global
ceiling; default: 503, and the platform retries or uses its fallback) and
:meth:`Channel.send_ahead` (messages that cannot travel in the response).

A new channel (Meta's WhatsApp Cloud API, say) is then one module: a class
that subclasses :class:`Channel`, and a route that verifies, parses and
calls :func:`answer`. ``tests/test_channels.py`` adds one this way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

from fastapi import Response
from starlette.concurrency import run_in_threadpool

from bot.channels.confirmed import ConfirmedResponse
from bot.helpline import Busy
from bot.runtime import Runtime
from flows.turn import Incoming, Reply


@dataclass(frozen=True)
class Inbound:
    """One message as a channel parsed it: what the engine reads, and who and which it is."""

    incoming: Incoming
    #: The sender's id on the platform (a phone number, a Telegram id, a browser's id);
    #: pseudonymised before anything is stored.
    platform_id: str
    #: The platform's id for this message: a retry carries the same one and is answered
    #: once. None when the platform has none.
    delivery_id: str | None
    #: The organisation whose link opened the channel (the web chat's ``/?ref=CODE``).
    referral: str | None = None
    #: Where a later reply would go (Twilio's From and To, a Telegram chat): stored,
    #: sealed, only while a person reads the conversation (a hand-off).
    reply_to: Mapping[str, str] | None = None


InboundT = TypeVar("InboundT", bound=Inbound)


class Channel(Protocol[InboundT]):
    """A way in: parse a payload, render replies. Subclass it to get the defaults.

    ``InboundT`` lets a channel carry more than :class:`Inbound` from parse to
    render (Telegram: the chat to answer in).
    """

    #: True when the replies travel in the HTTP response: they stay in the delivery ledger
    #: until the response has been written, so a retry after a crash gets them again.
    #: False when they are stored as sent with the commit (the web chat).
    confirm_later: bool = True

    def parse(self, payload: Any) -> InboundT | None:
        """The message in ``payload``; None for an update Pana does not answer."""
        ...

    def render(self, inbound: InboundT, replies: Sequence[Reply]) -> Response:
        """The HTTP response that carries ``replies`` (possibly none) to the sender."""
        ...

    def busy(self, inbound: InboundT) -> Response | None:
        """The answer above the global ceiling, when nothing was stored; None: 503."""
        return None

    async def send_ahead(self, inbound: InboundT, replies: Sequence[Reply]) -> bool:
        """Send what cannot travel in the response, before it is rendered.

        False: the platform could not be reached; the delivery is released and
        the platform asked to retry (503).
        """
        return True


async def answer(runtime: Runtime, channel: Channel[InboundT], inbound: InboundT) -> Response:
    """Receive ``inbound`` in the helpline's one transaction and answer it as ``channel``
    renders it; the replies are recorded as sent once the response is written."""
    helpline = runtime.helpline
    name = inbound.incoming.channel
    receive = partial(
        helpline.receive,
        name,
        inbound.platform_id,
        inbound.incoming,
        inbound.delivery_id,
        confirm_later=channel.confirm_later,
        referral=inbound.referral,
        reply_to=inbound.reply_to,
    )
    try:
        outcome = await run_in_threadpool(receive)
    except Busy:
        response = channel.busy(inbound)
        if response is None:
            raise  # the app answers 503 with Retry-After
        return response
    if not await channel.send_ahead(inbound, outcome.replies):
        if inbound.delivery_id:
            await run_in_threadpool(helpline.release, name, inbound.delivery_id)
        return Response(status_code=503)
    response = channel.render(inbound, outcome.replies)
    if not (channel.confirm_later and inbound.delivery_id):
        return response
    return ConfirmedResponse(response, partial(helpline.confirm_soon, name, inbound.delivery_id))
