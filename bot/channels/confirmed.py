"""A response that is the reply itself, and says so once it has been handed over.

Twilio (TwiML) and Telegram (a method in the webhook's response) both take
the bot's reply in the HTTP response. Until the body is written the replies
stay stored with the delivery, so the platform's retry after a crash between
the database commit and this write gets the same answer again, not silence;
once it is written the platform has the reply and will not retry.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Response
from starlette.types import Receive, Scope, Send


class ConfirmedResponse(Response):
    """Send ``inner``, then call ``confirm`` (which queues the "sent" record).

    Example::

        return ConfirmedResponse(twiml(texts), lambda: helpline.confirm_soon("sms", sid))
    """

    def __init__(self, inner: Response, confirm: Callable[[], None]) -> None:
        super().__init__(inner.body, inner.status_code, media_type=inner.media_type)
        self.confirm = confirm

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)
        self.confirm()
