"""A small keep-alive HTTP/1.1 client on asyncio streams: the load generator's client for both sides.

The load generator shares the two cores with the servers it measures; httpx (h11, httpcore's pool, anyio)
spent about 2 ms of CPU per request there, as much as some of the servers' own processes. This one sends
the same requests (same bodies, encoded as httpx encodes them) for a small fraction of that, so both
sides get more of the cores alike. It knows only what the bench needs: POST with a JSON or form body,
answers with a Content-Length or chunked, connections kept open and reused.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

USER_AGENT = "bench-peers/1"


class HttpError(Exception):
    """The request got no complete answer (connection refused or closed, timeout, unreadable answer)."""


@dataclass(frozen=True)
class Response:
    status_code: int
    content: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class _Closed(Exception):
    """A kept-open connection the server had closed before our request: send it again on a new one."""


class Http1Client:
    """Requests to one server from one local (source) address, over at most ``max_connections``
    connections kept open (more callers wait for one)."""

    def __init__(self, base_url: str, local_address: str, timeout: float = 60, max_connections: int = 4) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.host_header = f"Host: {url.netloc}\r\nUser-Agent: {USER_AGENT}\r\n"
        self.local_address = local_address
        self.timeout = timeout
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(max_connections)

    async def post(
        self,
        path: str,
        /,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            content_type = "application/json"
        else:
            body = urlencode(data or {}).encode()
            content_type = "application/x-www-form-urlencoded"
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        head = (
            f"POST {path} HTTP/1.1\r\n{self.host_header}Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n"
        )
        request = head.encode() + body
        async with self.slots:
            try:
                async with asyncio.timeout(self.timeout):
                    try:
                        return await self._exchange(request, reused=True)
                    except _Closed:
                        return await self._exchange(request, reused=False)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                raise HttpError(f"{type(exc).__name__}: {exc}") from exc

    async def _exchange(self, request: bytes, *, reused: bool) -> Response:
        if reused and self.idle:
            reader, writer = self.idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port, local_addr=(self.local_address, 0))
            reused = False
        keep = False
        try:
            writer.write(request)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                if reused and not exc.partial:
                    raise _Closed from None
                raise
            response, keep = await self._read_body(reader, head)
            return response
        finally:
            if keep:
                self.idle.append((reader, writer))
            else:
                writer.close()

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, head: bytes) -> tuple[Response, bool]:
        status_line, _, header_block = head.partition(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = 0, False, status_line.startswith(b"HTTP/1.0")
        for line in header_block.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        if chunked:
            parts = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                parts.append((await reader.readexactly(size + 2))[:-2])
            await reader.readuntil(b"\r\n")  # no trailers are sent to the bench: the final empty line
            content = b"".join(parts)
        else:
            content = await reader.readexactly(length) if length else b""
        return Response(status, content), not close

    async def aclose(self) -> None:
        for _reader, writer in self.idle:
            writer.close()
        self.idle.clear()
