"""The captcha service over the real stack (issue 3): Kafka in and out, HTTP through the nginx gateway,
the challenge store in the real Redis. The answer a human would read off the pictures is taken from the
captcha's own store (``server_side_answer``); everything else goes through public sockets."""

from __future__ import annotations

import array
import asyncio
import io
import json
import secrets
import unicodedata
import wave
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from contracts import topics
from services.captcha.domain.rate_limit import RateAction, RateLimitPolicy, rate_window
from tests.conftest import Platform
from tests.integration.conftest import Restart
from tests.integration.events import new_request_id, publish_event, read_all, records_for, security_check_requested
from tests.support.journey import Holder, answer, current_challenge, server_side_answer, sign_up, wrong_choice
from tests.support.kafka import eventually

pytestmark = pytest.mark.integration

API = "/api/v1/captcha"
JSON = {"content-type": "application/json"}
CLIENT = "127.0.0.1"  # the suite's address as the captcha sees it behind nginx (X-Forwarded-For)


@pytest.fixture
async def http(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as client:
        yield client


async def issued_for(platform: Platform, request_id: str) -> dict[str, Any]:
    """Publish a real ``SecurityCheckRequested`` and return the ``CaptchaChallengeIssued`` it leads to."""
    await publish_event(
        platform,
        topics.SECURITY_CHECK_REQUESTED,
        security_check_requested(request_id),
        key=request_id,
        correlation_id=request_id,
    )
    [record] = await records_for(platform, topics.CHALLENGE_ISSUED, request_id)
    body: dict[str, Any] = record.json()
    return body


async def public_challenge(http: httpx.AsyncClient, request_id: str) -> dict[str, Any]:
    resp = await http.get(f"{API}/requests/{request_id}/challenge")
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def as_challenge(public: dict[str, Any]) -> dict[str, Any]:
    """The registration-shaped view (``picture_urls``) the journey helpers take."""
    return {**public, "picture_urls": [p["url"] for p in public["pictures"]]}


def assert_french_error(resp: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = resp.json()["error"]
    if code is not None:
        assert error["code"] == code
    message = str(error["message"])
    # French, for a holder: accented letters or the service's own vocabulary, never an English code.
    assert "contrôle de sécurité" in message or any(ch in message for ch in "éèàêç"), message
    return error


async def test_a_requested_check_issues_a_challenge_whose_public_part_reveals_no_answer(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    request_id = new_request_id("issue")
    issued = await issued_for(platform, request_id)
    [record] = await records_for(platform, topics.CHALLENGE_ISSUED, request_id)
    assert record.headers["ce_type"] == "fr.mcf.captcha.challenge_issued"
    assert record.headers["ce_source"] == "/mcf/captcha"
    assert record.headers["ce_correlationid"] == request_id

    assert issued["kind"] == "image" and issued["prompt"]
    assert issued["attempts_left"] == 3 and issued["renewals_left"] == 5
    assert len(issued["picture_urls"]) == 5
    assert datetime.fromisoformat(issued["expires_at"]) > datetime.now(UTC)

    public = await public_challenge(http, request_id)
    assert public["challenge_id"] == issued["challenge_id"]
    assert [p["url"] for p in public["pictures"]] == issued["picture_urls"]
    assert public["instruction"] == f"Cliquez sur l'image {issued['prompt']}"
    choice_ids = [p["id"] for p in public["pictures"]]
    assert len(set(choice_ids)) == 5

    # The answer stays server-side: nothing public names the right picture or the objects shown.
    redis = Redis.from_url(platform.redis_url("captcha"))
    try:
        stored = json.loads(await redis.get(f"captcha:ch:{issued['challenge_id']}") or b"{}")
    finally:
        await redis.aclose()
    assert stored["expected"]["choice_id"] in choice_ids
    public_text = (await http.get(f"{API}/challenges/{issued['challenge_id']}")).text + record.value.decode()
    assert "expected" not in public_text
    assert not any(f'"{key}"' in public_text or f"/{key}" in public_text for _cid, key in stored["choices"])

    # Each picture is a PNG of its own, under an opaque URL (no file name, no word).
    pictures: list[bytes] = []
    for url in issued["picture_urls"]:
        assert issued["prompt"].lower() not in url.lower()
        resp = await http.get(url)
        assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
        assert resp.headers["cache-control"] == "no-store"
        assert resp.content.startswith(b"\x89PNG\r\n\x1a\n")
        pictures.append(resp.content)
    assert len(set(pictures)) == 5
    again = await http.get(issued["picture_urls"][0])
    assert again.content == pictures[0]  # a reload shows the same picture


async def test_a_redelivered_check_request_issues_no_second_challenge(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    request_id = new_request_id("redeliver")
    event = security_check_requested(request_id)
    asked = topics.SECURITY_CHECK_REQUESTED
    first = await publish_event(platform, asked, event, key=request_id, correlation_id=request_id)
    [issued] = await records_for(platform, topics.CHALLENGE_ISSUED, request_id)
    # The same event again (a redelivery) and the same request under a new event id (a producer retry).
    await publish_event(
        platform, asked, event, key=request_id, correlation_id=request_id, event_id=first.event_id
    )
    await publish_event(platform, asked, event, key=request_id, correlation_id=request_id)
    records = await records_for(platform, topics.CHALLENGE_ISSUED, request_id, count=2)
    assert {r.json()["challenge_id"] for r in records} == {issued.json()["challenge_id"]}
    assert (await public_challenge(http, request_id))["challenge_id"] == issued.json()["challenge_id"]


async def test_a_right_click_passes_and_emits_captcha_passed(platform: Platform, http: httpx.AsyncClient) -> None:
    request_id = new_request_id("pass")
    issued = await issued_for(platform, request_id)
    expected = await server_side_answer(platform.redis_url("captcha"), issued["challenge_id"])

    resp = await answer(http, issued["challenge_id"], request_id, choice_id=expected["choice_id"])
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "passed" and resp.json()["message"] == "Contrôle de sécurité réussi."

    [passed] = await records_for(platform, topics.CAPTCHA_PASSED, request_id)
    assert passed.json()["challenge_id"] == issued["challenge_id"]
    assert passed.json()["request_id"] == request_id
    assert passed.headers["ce_type"] == "fr.mcf.captcha.passed"
    assert passed.headers["ce_correlationid"] == request_id
    public = await public_challenge(http, request_id)
    assert public["status"] == "passed"


async def test_the_audio_version_is_a_playable_wav_and_typing_the_word_passes_case_and_accent_blind(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    request_id = new_request_id("audio")
    issued = await issued_for(platform, request_id)
    resp = await http.get(issued["audio_url"])
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(resp.content)) as clip:
        rate, frames, width, channels = clip.getframerate(), clip.getnframes(), clip.getsampwidth(), clip.getnchannels()
        pcm = clip.readframes(frames)
    assert frames / rate > 0.3, f"clip of {frames / rate:.2f}s"
    assert width == 2 and channels in (1, 2)
    samples = array.array("h", pcm)
    assert max(abs(s) for s in samples) > 3000  # speech, not silence
    assert (await http.get(issued["audio_url"])).content == resp.content  # replaying the URL: same clip

    # The holder types the word heard, shouting and without its accents.
    heard = "".join(
        c for c in unicodedata.normalize("NFD", issued["prompt"]) if unicodedata.category(c) != "Mn"
    ).upper()
    passed = await answer(http, issued["challenge_id"], request_id, typed=f"  {heard} ")
    assert passed.status_code == 200, passed.text
    assert passed.json()["status"] == "passed"
    await records_for(platform, topics.CAPTCHA_PASSED, request_id)


async def test_three_wrong_answers_kill_the_challenge_and_a_renewal_brings_a_different_one(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    request_id = new_request_id("renew")
    issued = await issued_for(platform, request_id)
    challenge_id = issued["challenge_id"]
    expected = await server_side_answer(platform.redis_url("captcha"), challenge_id)
    wrong = wrong_choice(issued, expected["choice_id"])

    for left in (2, 1):
        resp = await answer(http, challenge_id, request_id, choice_id=wrong)
        assert resp.status_code == 422, resp.text
        assert resp.json() == {
            "status": "wrong",
            "reason": "wrong_answer",
            "message": "Ce n'est pas la bonne réponse. Essayez encore.",
            "attempts_left": left,
        }
    third = await answer(http, challenge_id, request_id, typed="pas du tout")
    assert third.status_code == 410, third.text
    assert third.json()["status"] == "dead" and third.json()["reason"] == "attempts_exhausted"
    assert "Renouvelez le contrôle de sécurité" in third.json()["message"]
    # Dead means dead: even the right answer is refused now, and nothing is emitted.
    late = await answer(http, challenge_id, request_id, choice_id=expected["choice_id"])
    assert late.status_code == 410 and late.json()["reason"] == "attempts_exhausted"

    renewed = await http.post(f"{API}/requests/{request_id}/renewals")
    assert renewed.status_code == 201, renewed.text
    fresh = renewed.json()
    assert fresh["challenge_id"] != challenge_id
    assert fresh["prompt"] != issued["prompt"]
    assert fresh["attempts_left"] == 3 and fresh["renewals_left"] == 4 and fresh["status"] == "open"
    assert not {p["id"] for p in fresh["pictures"]} & {u.rsplit("/", 1)[1] for u in issued["picture_urls"]}
    # The renewal is announced like the first challenge, so registration's page shows it.
    records = await records_for(platform, topics.CHALLENGE_ISSUED, request_id, count=2)
    assert [r.json()["challenge_id"] for r in records] == [challenge_id, fresh["challenge_id"]]

    # The old challenge is superseded; the new one passes once.
    old = await answer(http, challenge_id, request_id, choice_id=expected["choice_id"])
    assert old.status_code == 409 and old.json()["reason"] == "superseded"
    new_expected = await server_side_answer(platform.redis_url("captcha"), fresh["challenge_id"])
    ok = await answer(http, fresh["challenge_id"], request_id, choice_id=new_expected["choice_id"])
    assert ok.status_code == 200, ok.text
    [passed] = await records_for(platform, topics.CAPTCHA_PASSED, request_id)
    assert passed.json()["challenge_id"] == fresh["challenge_id"]


async def test_past_the_renewal_cap_the_request_fails_and_registration_rejects_it(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    holder = Holder.new("captcha-cap")
    request_id = await sign_up(http, holder)
    first = await current_challenge(http, request_id)

    seen = {first["challenge_id"]}
    for left in (4, 3, 2, 1, 0):
        resp = await http.post(f"{API}/requests/{request_id}/renewals")
        assert resp.status_code == 201, resp.text
        assert resp.json()["renewals_left"] == left
        seen.add(resp.json()["challenge_id"])
    assert len(seen) == 6
    last_id = resp.json()["challenge_id"]

    capped = await http.post(f"{API}/requests/{request_id}/renewals")
    assert_french_error(capped, 409, "renewal_cap_exceeded")
    assert "recommencez votre inscription" in capped.json()["error"]["message"]

    [failed] = await records_for(platform, topics.CAPTCHA_FAILED, request_id)
    assert failed.json()["reason"] == "renewals_exhausted"
    assert failed.headers["ce_type"] == "fr.mcf.captcha.failed"

    async def rejected() -> bool:
        resp = await http.get(f"/api/v1/registrations/{request_id}")
        return resp.status_code == 200 and resp.json()["status"] == "rejected"

    await eventually(rejected)

    # Nothing more for this request: no renewal, and not even the right answer passes.
    assert_french_error(await http.post(f"{API}/requests/{request_id}/renewals"), 409, "request_failed")
    expected = await server_side_answer(platform.redis_url("captcha"), last_id)
    late = await answer(http, last_id, request_id, choice_id=expected["choice_id"])
    assert late.status_code == 409 and late.json()["reason"] == "request_failed"
    assert await records_for(platform, topics.CAPTCHA_FAILED, request_id) == [failed]
    assert not [r for r in await read_all(platform, topics.CAPTCHA_PASSED.name) if r.key == request_id]
    assert platform.smtp.mails_to(holder.email) == []


async def test_a_passed_challenge_cannot_be_replayed_nor_answered_for_another_request(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    mine, other = new_request_id("replay-a"), new_request_id("replay-b")
    issued, theirs = await issued_for(platform, mine), await issued_for(platform, other)
    expected = await server_side_answer(platform.redis_url("captcha"), issued["challenge_id"])
    their_expected = await server_side_answer(platform.redis_url("captcha"), theirs["challenge_id"])

    # Another request's challenge id, even with its right answer, is refused and costs nobody an attempt.
    cross = await answer(http, theirs["challenge_id"], mine, choice_id=their_expected["choice_id"])
    assert cross.status_code == 409, cross.text
    assert cross.json()["status"] == "refused" and cross.json()["reason"] == "request_mismatch"
    assert cross.json()["attempts_left"] == 3

    ok = await answer(http, issued["challenge_id"], mine, choice_id=expected["choice_id"])
    assert ok.status_code == 200, ok.text
    [passed] = await records_for(platform, topics.CAPTCHA_PASSED, mine)

    # The same right answer again (a replay), by click or by typing, and concurrently: all refused.
    replays = await asyncio.gather(
        answer(http, issued["challenge_id"], mine, choice_id=expected["choice_id"]),
        answer(http, issued["challenge_id"], mine, typed=issued["prompt"]),
        answer(http, issued["challenge_id"], other, choice_id=expected["choice_id"]),
    )
    assert [r.status_code for r in replays] == [409, 409, 409], [r.text for r in replays]
    assert [r.json()["reason"] for r in replays] == ["already_passed", "already_passed", "request_mismatch"]
    assert replays[0].json()["message"] == "Ce contrôle de sécurité a déjà été réussi."
    # A passed challenge cannot be renewed into another pass either.
    assert_french_error(await http.post(f"{API}/requests/{mine}/renewals"), 409, "already_passed")

    await asyncio.sleep(1)
    assert await records_for(platform, topics.CAPTCHA_PASSED, mine) == [passed]
    # The other request is untouched: it still passes with its own answer.
    theirs_ok = await answer(http, theirs["challenge_id"], other, choice_id=their_expected["choice_id"])
    assert theirs_ok.status_code == 200 and theirs_ok.json()["attempts_left"] == 3


async def test_unknown_and_malformed_ids_get_french_json_errors_never_a_5xx(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    unknown = secrets.token_urlsafe(16)
    request_id = new_request_id("unknown")
    issued = await issued_for(platform, request_id)
    cid = issued["challenge_id"]

    for resp in (
        await http.get(f"{API}/challenges/{unknown}"),
        await http.get(f"{API}/challenges/{unknown}/audio"),
        await http.get(f"{API}/challenges/{unknown}/picture"),
        await http.get(f"{API}/challenges/{unknown}/pictures/{secrets.token_urlsafe(12)}"),
        await http.get(f"{API}/challenges/{cid}/pictures/{secrets.token_urlsafe(12)}"),  # real challenge
        await http.get(f"{API}/challenges/{cid}/picture"),  # an image challenge has no text picture
        await http.get(f"{API}/requests/{unknown}/challenge"),
        await answer(http, unknown, request_id, choice_id="x" * 16),
        await http.post(f"{API}/requests/{unknown}/renewals"),
    ):
        error = assert_french_error(resp, 404, "not_found")
        assert error["message"] == "Ce contrôle de sécurité n'existe pas. Renouvelez le contrôle de sécurité."

    malformed = [
        await http.get(f"{API}/challenges/short"),
        await http.get(f"{API}/challenges/{'a' * 65}"),
        await http.get(f"{API}/challenges/{unknown}%27%3B--"),
        await http.post(f"{API}/challenges/{cid}/answers", json={"choice_id": "x"}),  # no request_id
        await http.post(
            f"{API}/challenges/{cid}/answers", content=b"{not json", headers={"content-type": "application/json"}
        ),
        await http.post(f"{API}/challenges/{cid}/answers", json={"request_id": request_id, "typed": "x" * 500}),
        await http.post(f"{API}/challenges/{cid}/answers", json=["a", "list"]),
    ]
    for resp in malformed:
        assert_french_error(resp, 422, "invalid")
    empty = await answer(http, cid, request_id, typed="   ")
    assert empty.status_code == 422 and empty.json()["reason"] == "empty_answer"
    assert empty.json()["attempts_left"] == 3  # none of the above cost an attempt
    assert (await public_challenge(http, request_id))["attempts_left"] == 3


async def test_answers_and_renewals_are_rate_limited_per_client_address(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    redis = Redis.from_url(platform.redis_url("captcha"))
    policy = RateLimitPolicy()
    answer_limit, renew_limit = policy.limit(RateAction.ANSWER), policy.limit(RateAction.RENEW)
    # A fixed window must not roll over in the middle of the test.
    now = datetime.now(UTC)
    window = rate_window(RateAction.ANSWER, CLIENT, now)
    if (window.window_end - now).total_seconds() < 45:
        await asyncio.sleep((window.window_end - now).total_seconds() + 1)
    answer_key = rate_window(RateAction.ANSWER, CLIENT, datetime.now(UTC)).key
    renew_key = rate_window(RateAction.RENEW, CLIENT, datetime.now(UTC)).key
    try:
        request_id = new_request_id("limit")
        issued = await issued_for(platform, request_id)
        expected = await server_side_answer(platform.redis_url("captcha"), issued["challenge_id"])

        first = await answer(http, secrets.token_urlsafe(16), request_id, choice_id="x" * 16)
        assert first.status_code == 404
        used = int(await redis.get(answer_key) or 0)  # earlier tests of the session count too
        assert used >= 1, "the answer counter is kept per client address"
        for _ in range(answer_limit.max_count - used):
            resp = await answer(http, secrets.token_urlsafe(16), request_id, choice_id="x" * 16)
            assert resp.status_code == 404, resp.text
        blocked = await answer(http, issued["challenge_id"], request_id, choice_id=expected["choice_id"])
        error = assert_french_error(blocked, 429, "rate_limited")
        assert "Réessayez dans quelques minutes" in error["message"]
        retry_after = int(blocked.headers["Retry-After"])
        window_left = rate_window(RateAction.ANSWER, CLIENT, datetime.now(UTC)).window_end - datetime.now(UTC)
        assert 1 <= retry_after <= int(answer_limit.window.total_seconds())
        assert abs(retry_after - window_left.total_seconds()) <= 3
        # The limited answer was not judged: the challenge is still open with all its attempts.
        assert (await public_challenge(http, request_id))["attempts_left"] == 3
        assert (await public_challenge(http, request_id))["status"] == "open"

        # Renewals have their own counter.
        for _ in range(renew_limit.max_count - int(await redis.get(renew_key) or 0)):
            resp = await http.post(f"{API}/requests/{secrets.token_urlsafe(16)}/renewals")
            assert resp.status_code == 404, resp.text
        renew_blocked = await http.post(f"{API}/requests/{request_id}/renewals")
        assert_french_error(renew_blocked, 429, "rate_limited")
        assert int(renew_blocked.headers["Retry-After"]) >= 1
        assert (await public_challenge(http, request_id))["challenge_id"] == issued["challenge_id"]
    finally:
        # Give the suite's address its allowance back for the tests that follow.
        await redis.delete(answer_key, renew_key)
        await redis.aclose()
    ok = await answer(http, issued["challenge_id"], request_id, choice_id=expected["choice_id"])
    assert ok.status_code == 200, ok.text


async def test_an_expired_challenge_answers_410_and_only_renewal_helps(
    platform: Platform, http: httpx.AsyncClient, restart_with: Restart
) -> None:
    restart_with("captcha", MCF_CAPTCHA_TTL_S="3")
    request_id = new_request_id("expiry")
    issued = await issued_for(platform, request_id)
    expected = await server_side_answer(platform.redis_url("captcha"), issued["challenge_id"])
    await asyncio.sleep(
        max(0.0, (datetime.fromisoformat(issued["expires_at"]) - datetime.now(UTC)).total_seconds()) + 0.5
    )

    for resp in (await http.get(issued["picture_urls"][0]), await http.get(issued["audio_url"])):
        error = assert_french_error(resp, 410, "expired")
        assert error["message"] == "Le contrôle de sécurité a expiré. Renouvelez le contrôle de sécurité."
    late = await answer(http, issued["challenge_id"], request_id, choice_id=expected["choice_id"])
    assert late.status_code == 410, late.text
    assert late.json()["status"] == "dead" and late.json()["reason"] == "expired"
    assert late.json()["attempts_left"] == 3  # an expired challenge costs no attempt

    renewed = await http.post(f"{API}/requests/{request_id}/renewals")
    assert renewed.status_code == 201, renewed.text
    fresh = renewed.json()
    fresh_expected = await server_side_answer(platform.redis_url("captcha"), fresh["challenge_id"])
    ok = await answer(http, fresh["challenge_id"], request_id, choice_id=fresh_expected["choice_id"])
    assert ok.status_code == 200, ok.text
    [passed] = await records_for(platform, topics.CAPTCHA_PASSED, request_id)
    assert passed.json()["challenge_id"] == fresh["challenge_id"]
