"""A hard cap on request bodies, for every service's HTTP port (the gateway has the same cap)."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE = json.dumps(
    {"errors": [{"field": "body", "code": "too_large", "message": "La requête est trop volumineuse."}]}
).encode()


class BodyLimit:
    """Refuse a body over ``max_bytes`` with a French JSON 413, announced (Content-Length) or streamed.

    The body is read (at most ``max_bytes`` + one chunk) before the application sees it, so a refusal never
    leaves unread data on the connection (a proxy would report that as a 502) and chunked uploads are
    counted too. Our bodies are small forms: buffering them costs nothing.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = 64 * 1024) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        too_large = declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes)
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            more = message.get("more_body", False)
            if size > self.max_bytes:
                too_large = True
            if not too_large:
                chunks.append(chunk)
        if too_large:
            await self._refuse(send)
            return
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Send) -> None:
        headers: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(TOO_LARGE)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": TOO_LARGE})
