"""What a holder's page gets from the captcha's HTTP API (status codes, French messages, no answer in
sight), with the real routes over the use cases on in-memory fakes; no server, no Redis."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from services.captcha.app.deps import CaptchaUseCases
from services.captcha.app.main import http_api
from services.captcha.domain.challenge import Challenge, ChallengeSettings
from services.captcha.tests.unit.conftest import REQUEST_LIFETIME
from services.captcha.tests.unit.fakes import (
    FakeClock,
    FakeRenderer,
    MemoryChallengeStore,
    MemoryMediaCache,
    MemoryRateCounter,
    RecordedEvents,
)
from services.captcha.use_cases.checks import SecurityChecks
from services.captcha.use_cases.media import ChallengeMedia

API = "/api/v1/captcha"
REQUEST = "req-http-00000001"


@dataclass
class Page:
    http: httpx.AsyncClient
    challenge: Challenge
    clock: FakeClock
    store: MemoryChallengeStore


@pytest.fixture
async def page(clock: FakeClock, store: MemoryChallengeStore) -> AsyncIterator[Page]:
    checks = SecurityChecks(store, RecordedEvents(), ChallengeSettings(), random.Random(11), clock)
    media = ChallengeMedia(store, MemoryMediaCache(), FakeRenderer(), clock)
    app = http_api(CaptchaUseCases(checks, media, store, MemoryRateCounter(), clock))
    challenge = await checks.on_check_requested(REQUEST, "evt-http", clock() + REQUEST_LIFETIME)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://captcha") as http:
        yield Page(http, challenge, clock, store)


def french_error(resp: httpx.Response, status: int, code: str) -> str:
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert error["code"] == code
    message: str = error["message"]
    assert any(ch in message for ch in "éèàêç"), message
    return message


async def test_the_page_shows_the_current_challenge_without_its_answer(page: Page) -> None:
    resp = await page.http.get(f"{API}/requests/{REQUEST}/challenge")

    assert resp.status_code == 200
    body = resp.json()
    assert body["challenge_id"] == page.challenge.challenge_id
    assert body["instruction"] == f"Cliquez sur l'image {page.challenge.prompt_word}"
    assert len(body["pictures"]) == 5 and body["attempts_left"] == 3
    # Only opaque ids and addresses: nothing says which picture is right, nor what each one shows.
    assert all(set(p) == {"id", "url"} for p in body["pictures"])
    assert {p["id"] for p in body["pictures"]} == {c.choice_id for c in page.challenge.choices}
    assert not {"expected", "answer", "choices", "key"} & set(body)


async def test_a_right_answer_passes_and_a_wrong_one_says_so_in_french(page: Page) -> None:
    url = f"{API}/challenges/{page.challenge.challenge_id}/answers"
    wrong = next(c.choice_id for c in page.challenge.choices if c.choice_id != page.challenge.expected.choice_id)

    missed = await page.http.post(url, json={"request_id": REQUEST, "choice_id": wrong})
    passed = await page.http.post(url, json={"request_id": REQUEST, "choice_id": page.challenge.expected.choice_id})

    assert missed.status_code == 422
    assert missed.json() == {
        "status": "wrong",
        "reason": "wrong_answer",
        "message": "Ce n'est pas la bonne réponse. Essayez encore.",
        "attempts_left": 2,
    }
    assert passed.status_code == 200 and passed.json()["message"] == "Contrôle de sécurité réussi."


async def test_a_malformed_answer_or_an_unknown_challenge_gets_a_clear_error(page: Page) -> None:
    malformed = await page.http.post(f"{API}/challenges/{page.challenge.challenge_id}/answers", json={"typed": 3})
    unknown = await page.http.post(f"{API}/challenges/never-issued-0000/answers", json={"request_id": REQUEST})

    french_error(malformed, 422, "invalid")
    french_error(unknown, 404, "not_found")


async def test_an_answer_while_another_is_judged_for_too_long_is_told_to_retry(page: Page) -> None:
    async with page.store.judging(page.challenge.challenge_id):
        resp = await page.http.post(
            f"{API}/challenges/{page.challenge.challenge_id}/answers", json={"request_id": REQUEST, "typed": "chat"}
        )

    french_error(resp, 409, "busy")


async def test_a_client_answering_too_often_is_told_when_to_come_back(page: Page) -> None:
    url = f"{API}/challenges/{page.challenge.challenge_id}/answers"
    for _ in range(120):
        await page.http.post(url, json={"request_id": "req-someone-else", "typed": "x"})

    resp = await page.http.post(url, json={"request_id": REQUEST, "typed": "x"})

    french_error(resp, 429, "rate_limited")
    assert int(resp.headers["Retry-After"]) > 0


async def test_a_renewal_shows_the_new_challenge_and_expired_pictures_are_gone(page: Page) -> None:
    choice = page.challenge.choices[0].choice_id
    picture = await page.http.get(f"{API}/challenges/{page.challenge.challenge_id}/pictures/{choice}")
    page.clock.advance(timedelta(minutes=10))
    expired = await page.http.get(f"{API}/challenges/{page.challenge.challenge_id}/pictures/{choice}")

    renewed = await page.http.post(f"{API}/requests/{REQUEST}/renewals")

    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.headers["cache-control"] == "no-store"
    french_error(expired, 410, "expired")
    assert renewed.status_code == 201
    assert renewed.json()["challenge_id"] != page.challenge.challenge_id
    assert renewed.json()["renewals_left"] == 4
    french_error(await page.http.post(f"{API}/requests/never-requested-0000/renewals"), 404, "not_found")
