"""The ceiling: a FastAPI app that answers the webhooks with constants.

Served by the same uvicorn settings as ``pana serve`` (``bench`` starts it
with :class:`tests.load.server.ServerProcess`), it does what any endpoint on
this stack must do (accept the connection, parse HTTP, route, read the body,
write a response) and nothing Pana does. Pana's throughput divided by this
one's is the share of the stack's ceiling that Pana reaches.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hola, soy Pana.</Message></Response>'
)

#: The answer as a Bot API call in the webhook's response, the way Pana answers Telegram.
TELEGRAM_REPLY = b'{"method":"sendMessage","chat_id":1,"text":"Hola, soy Pana."}'

app = FastAPI(title="bare endpoint")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/webhooks/twilio")
async def twilio(request: Request) -> Response:
    """A constant TwiML reply, after reading the form body as Pana must."""
    await request.body()
    return Response(TWIML, media_type="application/xml")


@app.post("/webhooks/telegram")
async def telegram(request: Request) -> Response:
    """A constant sendMessage call in the response, after reading the update."""
    await request.body()
    return Response(TELEGRAM_REPLY, media_type="application/json")
