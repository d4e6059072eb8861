"""Every answer of registration carries the browser protections; a route's own header wins."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from services.registration.app.headers import SecurityHeaders


async def page(_request: object) -> PlainTextResponse:
    return PlainTextResponse("bonjour")


async def framed(_request: object) -> PlainTextResponse:
    return PlainTextResponse("cadre", headers={"X-Frame-Options": "SAMEORIGIN"})


def client(https: bool) -> httpx.AsyncClient:
    app = SecurityHeaders(Starlette(routes=[Route("/", page), Route("/cadre", framed)]), https=https)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_pages_forbid_framing_sniffing_referrers_and_foreign_scripts() -> None:
    async with client(https=False) as http:
        resp = await http.get("/")
        missing = await http.get("/nulle-part")
    for answer in (resp, missing):  # errors too
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in resp.headers  # plain http: HSTS would be ignored or harmful
    assert resp.text == "bonjour"


async def test_https_adds_hsts_and_a_routes_own_header_is_kept() -> None:
    async with client(https=True) as http:
        resp = await http.get("/cadre")
    assert resp.headers["strict-transport-security"].startswith("max-age=31536000")
    assert resp.headers["x-frame-options"] == "SAMEORIGIN"
    assert resp.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
