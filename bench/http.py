"""A minimal HTTP/1.1 keep-alive client on asyncio streams, for load generation.

httpx spends more CPU per request than a bare FastAPI endpoint does, and on
a 2-core machine the load generator shares the machine with the server: a
heavy client would measure itself, not the server. This client writes
prebuilt request bytes and reads just the status line, ``Content-Length``
and the body; nothing else. It only talks to 127.0.0.1.
"""

from __future__ import annotations

import asyncio

from tests.load.requests import Request


def request_bytes(request: Request, port: int) -> bytes:
    """The raw HTTP/1.1 request, with Host and Content-Length."""
    head = [f"POST {request.path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    head += [f"{name}: {value}" for name, value in request.headers.items()]
    head.append(f"Content-Length: {len(request.body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + request.body


class Connection:
    """One keep-alive connection to ``127.0.0.1:port``; reconnects when the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def exchange(self, data: bytes) -> tuple[int, bytes]:
        """Send one request, return (status, body)."""
        reused = self._writer is not None
        try:
            return await self._exchange(data)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.close()
            if not reused:
                raise
        # uvicorn closes connections idle for 5 s; a closed idle connection never read
        # the request, so sending it again on a new one is safe.
        return await self._exchange(data)

    async def _exchange(self, data: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self._reader is not None and self._writer is not None
        self._writer.write(data)
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await self._reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
