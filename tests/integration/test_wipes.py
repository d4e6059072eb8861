"""Redis wiped under running services, through the real stack: no holder's sign-up is lost.

Each test is one of the windows issue 11 found: an event naming a request that a rebuilding service does
not know *yet* (it must be held, never committed unapplied), a queued mail whose Redis job vanished
(it must still go out, once, with the link already announced), and a security check whose challenges
vanished mid-check (the holder renews and finishes).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from redis.asyncio import Redis

from contracts import topics
from contracts.links import link_token
from tests.conftest import Platform
from tests.support.journey import Holder, answer, confirmation_link, current_challenge, server_side_answer, sign_up
from tests.support.kafka import eventually, read_topic

pytestmark = pytest.mark.integration

CONFIRMATION = "Activez votre compte"


@pytest.fixture
async def http(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as client:
        yield client


async def redis_of(platform: Platform, service: str) -> Redis:
    return Redis.from_url(platform.redis_url(service))


async def status_when_served(http: httpx.AsyncClient, request_id: str) -> dict[str, Any] | None:
    """The request's status, or None while registration answers 503 (it is rebuilding)."""
    resp = await http.get(f"/api/v1/registrations/{request_id}")
    if resp.status_code == 503:
        assert resp.headers["retry-after"] and resp.json()["errors"][0]["code"] == "unavailable"
        return None
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def follow(http: httpx.AsyncClient, link: str) -> httpx.Response:
    url = urlsplit(link)
    return await http.get(f"{url.path}?{url.query}")


async def test_checks_passed_while_registration_rebuilds_its_redis_are_applied_not_dropped(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    holders = [Holder.new(f"wipe-reg-{i}") for i in range(4)]
    requests = [await sign_up(http, h) for h in holders]
    challenges = [await current_challenge(http, rid) for rid in requests]
    expected = [await server_side_answer(platform.redis_url("captcha"), c["challenge_id"]) for c in challenges]

    reg = await redis_of(platform, "registration")
    try:
        await reg.flushdb()  # CaptchaPassed reaches a registration that has not rebuilt yet
        for rid, challenge, right in zip(requests, challenges, expected, strict=True):
            passed = await answer(http, challenge["challenge_id"], rid, choice_id=right["choice_id"])
            assert passed.status_code == 200 and passed.json()["status"] == "passed", passed.text
        await eventually(lambda: reg.exists("reg:rebuilt"), timeout=60)
    finally:
        await reg.aclose()

    for holder, rid in zip(holders, requests, strict=True):

        async def awaiting(rid: str = rid) -> bool:
            body = await status_when_served(http, rid)
            return body is not None and body["status"] == "awaiting_confirmation"

        await eventually(awaiting, timeout=60)
        [mail] = await platform.smtp.wait_for_mail(holder.email, subject_contains=CONFIRMATION)
        landing = await follow(http, confirmation_link(mail.text()))
        assert landing.status_code == 200, landing.text  # the link is known: not the 404 of issue 11


async def test_a_mail_queued_when_the_mailer_redis_is_wiped_still_goes_out_once_and_its_link_works(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    holder = Holder.new("wipe-mail")
    request_id = await sign_up(http, holder)
    challenge = await current_challenge(http, request_id)
    right = await server_side_answer(platform.redis_url("captcha"), challenge["challenge_id"])
    mailer = await redis_of(platform, "mailer")
    platform.smtp.stop()
    try:
        passed = await answer(http, challenge["challenge_id"], request_id, choice_id=right["choice_id"])
        assert passed.status_code == 200, passed.text
        # Registration asked for the mail (and recorded its link); the mail waits for the SMTP server.
        asked = await read_topic(
            platform.kafka,
            topics.MAIL_REQUESTED.name,
            until=lambda rs: any(r.key == request_id for r in rs),
        )
        [mail_id] = {r.json()["mail_id"] for r in asked if r.key == request_id}
        await mailer.flushdb()
        await eventually(lambda: mailer.exists("mail:rebuilt"), timeout=60)
    finally:
        platform.smtp.start()
        await mailer.aclose()

    [mail] = await platform.smtp.wait_for_mail(holder.email, subject_contains=CONFIRMATION)
    await asyncio.sleep(3)
    assert len(platform.smtp.mails_to(holder.email)) == 1  # once, not once per life of the queue
    link = confirmation_link(mail.text())
    token = parse_qs(urlsplit(link).query)["token"][0]
    link_key = bytes.fromhex((Path(platform.state.var) / "keys" / "link-token.key").read_text().strip())
    assert token == link_token(link_key, mail_id)  # the very link registration recorded before the wipe
    landing = await follow(http, link)
    assert landing.status_code == 200, landing.text


async def test_a_holder_caught_mid_check_by_a_captcha_wipe_renews_and_finishes(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    holder = Holder.new("wipe-captcha")
    request_id = await sign_up(http, holder)
    challenge = await current_challenge(http, request_id)
    captcha = await redis_of(platform, "captcha")
    try:
        await captcha.flushdb()
        await eventually(lambda: captcha.exists("captcha:rebuilt"), timeout=60)
    finally:
        await captcha.aclose()

    lost = await answer(http, challenge["challenge_id"], request_id, choice_id="whatever")
    assert lost.status_code == 404 and "Renouvelez" in lost.json()["error"]["message"], lost.text  # French, not a 5xx

    renewed = await http.post(f"/api/v1/captcha/requests/{request_id}/renewals")
    assert renewed.status_code == 201, renewed.text
    fresh = renewed.json()
    assert fresh["challenge_id"] != challenge["challenge_id"]
    right = await server_side_answer(platform.redis_url("captcha"), fresh["challenge_id"])
    passed = await answer(http, fresh["challenge_id"], request_id, choice_id=right["choice_id"])
    assert passed.status_code == 200 and passed.json()["status"] == "passed", passed.text
    await platform.smtp.wait_for_mail(holder.email, subject_contains=CONFIRMATION)


async def test_a_request_unknown_to_the_captcha_cannot_be_renewed_into_existence(http: httpx.AsyncClient) -> None:
    resp = await http.post("/api/v1/captcha/requests/never-requested-0000/renewals")
    assert resp.status_code == 404, resp.text
