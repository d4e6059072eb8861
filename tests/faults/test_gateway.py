"""The public gateway (nginx, deploy/local/nginx.conf.template) when the service behind it is down or
drops a connection: a French 503 with Retry-After (JSON for the API, a page for browsers) instead of
nginx's bare 502, and reads (never writes) tried again on a fresh connection.

The upstream here is a small HTTP server on a real loopback socket that the test can stop or make drop
connections, standing in for registration; the gateway is the real nginx started by deploy/local/stack.py.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import tests.conftest  # noqa: F401 - puts deploy/local on the path

# isort: split
import stack  # deploy/local/stack.py, on the path tests.conftest sets


class DroppingUpstream:
    """Answers 200 JSON, except that the first ``drops`` requests to /api/v1/drop are cut (TCP reset)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.drops = 0
        self.seen: list[str] = []  # "METHOD path" of every request that reached the upstream
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((stack.LOOPBACK, self.port))
        sock.listen(16)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """The service goes away: connections are refused."""
        if self._sock is not None:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            self._sock.close()
            self._sock = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _serve(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        method, path = data.split(b" ", 2)[:2]
        self.seen.append(f"{method.decode()} {path.decode()}")
        if path.startswith(b"/api/v1/drop") and self.drops > 0:
            self.drops -= 1
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return  # closing with linger 0 sends a reset, as a process killed mid-request does
        body = b'{"ok": true}'
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DroppingUpstream]]:
    state = stack.StackState(var=str(tmp_path_factory.mktemp("gateway")), ports=stack.Ports.free())
    Path(state.var, "logs").mkdir()
    upstream = DroppingUpstream(state.ports.registration)
    upstream.start()
    stack.start_nginx(state)
    try:
        yield f"http://{stack.LOOPBACK}:{state.ports.gateway}", upstream
    finally:
        stack.stop_pid(state.pids["nginx"], "nginx", grace=5)
        upstream.stop()


async def test_a_read_cut_by_the_service_is_tried_again_on_a_fresh_connection(
    gateway: tuple[str, DroppingUpstream],
) -> None:
    base, upstream = gateway
    upstream.drops, upstream.seen[:] = 1, []
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        resp = await http.get("/api/v1/drop/status")
    assert resp.status_code == 200 and resp.json() == {"ok": True}
    assert upstream.seen == ["GET /api/v1/drop/status", "GET /api/v1/drop/status"]


async def test_a_write_cut_by_the_service_is_not_sent_twice(gateway: tuple[str, DroppingUpstream]) -> None:
    base, upstream = gateway
    upstream.drops, upstream.seen[:] = 1, []
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        resp = await http.post("/api/v1/drop/registrations", json={"x": 1})
    # The holder is told to try again; the service saw the sign-up once, so it is not made twice.
    assert resp.status_code == 503 and resp.headers["retry-after"] == "5"
    assert resp.json()["errors"][0]["code"] == "unavailable"
    assert upstream.seen == ["POST /api/v1/drop/registrations"]


async def test_a_service_down_is_a_french_503_with_retry_after_not_a_bare_502(
    gateway: tuple[str, DroppingUpstream],
) -> None:
    base, upstream = gateway
    upstream.stop()
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            api = await http.get("/api/v1/registrations/abc")
            page = await http.get("/inscription")
            sign_up = await http.post("/api/v1/registrations", json={})
    finally:
        upstream.start()
    for resp in (api, page, sign_up):
        assert resp.status_code == 503, resp.text
        assert resp.headers["retry-after"] == "5"
        assert "nginx" not in resp.text
    assert api.headers["content-type"].startswith("application/json")
    assert api.json() == {
        "errors": [
            {
                "field": None,
                "code": "unavailable",
                "message": "Le service est momentanément indisponible. Réessayez dans quelques secondes.",
            }
        ]
    }
    assert sign_up.json()["errors"][0]["code"] == "unavailable"
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="fr">' in page.text and "Service momentanément indisponible" in page.text
    assert "Nous ne pouvons pas répondre pour l'instant" in page.text


async def test_the_gateway_answers_again_once_the_service_is_back(gateway: tuple[str, DroppingUpstream]) -> None:
    base, upstream = gateway
    upstream.stop()
    upstream.start()
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        resp = await http.get("/api/v1/registrations/abc")
    assert resp.status_code == 200 and resp.json() == {"ok": True}
