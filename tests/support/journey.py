"""Steps of the holder's journey shared by the integration and end-to-end tests."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from redis.asyncio import Redis

from contracts.identity import holder_id
from tests.support.kafka import eventually

PASSWORD = "Tr0mpette-Bleue"  # passes the policy and is not a common password


def nir_key(nir13: str) -> str:
    number = int(nir13.replace("2A", "19").replace("2B", "18"))
    return f"{97 - number % 97:02d}"


def fresh_nir(year: int = 1990, month: int = 5, rng: random.Random | None = None) -> tuple[str, str]:
    """A valid, made-up NIR (never a real person's), unique enough for one test run."""
    rng = rng or random.Random()
    sex = rng.choice("12")
    nir13 = f"{sex}{year % 100:02d}{month:02d}75{rng.randint(101, 120):03d}{rng.randint(1, 999):03d}"
    return nir13, nir_key(nir13)


@dataclass
class Holder:
    nir: str
    key: str
    email: str
    first_name: str = "Chloé"
    birth_name: str = "Dupont"
    password: str = PASSWORD

    @classmethod
    def new(cls, tag: str, year: int = 1990) -> Holder:
        nir, key = fresh_nir(year)
        return cls(nir, key, f"{tag}.{nir}@example.org")

    def form(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "nir": self.nir,
            "nir_key": self.key,
            "first_name": self.first_name,
            "birth_name": self.birth_name,
            "phone_mobile": "06 12 34 56 78",
            "email": self.email,
            "email_confirmation": self.email,
            "password": self.password,
            "password_confirmation": self.password,
            "cgu_accepted": True,
        }
        body.update(overrides)
        return body

    def holder_id(self, keys_dir: Path) -> str:
        return holder_id(self.nir, bytes.fromhex((keys_dir / "holder-id.key").read_text().strip()))


async def sign_up(http: httpx.AsyncClient, holder: Holder) -> str:
    resp = await http.post("/api/v1/registrations", json=holder.form())
    assert resp.status_code == 202, resp.text
    return str(resp.json()["request_id"])


async def current_challenge(http: httpx.AsyncClient, request_id: str, timeout: float = 30) -> dict[str, Any]:
    async def ready() -> dict[str, Any] | None:
        resp = await http.get(f"/api/v1/registrations/{request_id}")
        body = resp.json()
        return body["challenge"] if resp.status_code == 200 and body.get("challenge") else None

    challenge: dict[str, Any] = await eventually(ready, timeout=timeout)
    return challenge


async def server_side_answer(captcha_redis_url: str, challenge_id: str) -> dict[str, Any]:
    """What a human sees in the pictures: the test reads it from the captcha's own store."""
    redis = Redis.from_url(captcha_redis_url)
    try:
        raw = await redis.get(f"captcha:ch:{challenge_id}")
        assert raw is not None, "challenge not stored"
        expected: dict[str, Any] = json.loads(raw)["expected"]
        return expected
    finally:
        await redis.aclose()


def wrong_choice(challenge: dict[str, Any], right: str) -> str:
    return next(url.rsplit("/", 1)[1] for url in challenge["picture_urls"] if not url.endswith("/" + right))


async def answer(http: httpx.AsyncClient, challenge_id: str, request_id: str, **answer: str) -> httpx.Response:
    return await http.post(
        f"/api/v1/captcha/challenges/{challenge_id}/answers", json={"request_id": request_id, **answer}
    )


LINK = re.compile(r"https?://[^\s\"'<>]+/activation\?token=[A-Za-z0-9_\-]+")


def confirmation_link(text: str) -> str:
    match = LINK.search(text)
    assert match, f"no activation link in mail:\n{text}"
    return match.group(0)


async def activate_holder(http: httpx.AsyncClient, holder: Holder, captcha_redis_url: str, smtp: Any) -> str:
    """The whole sign-up of ``holder`` through the public API and the e-mailed link; returns the request id."""
    request_id = await sign_up(http, holder)
    challenge = await current_challenge(http, request_id)
    expected = await server_side_answer(captcha_redis_url, challenge["challenge_id"])
    passed = await answer(http, challenge["challenge_id"], request_id, choice_id=expected["choice_id"])
    assert passed.status_code == 200, passed.text
    [mail] = await smtp.wait_for_mail(holder.email, subject_contains="Activez votre compte")
    link = confirmation_link(mail.text())
    url = urlsplit(link)
    landing = await http.get(f"{url.path}?{url.query}")
    assert landing.status_code == 200, landing.text
    return request_id


async def log_in(http: httpx.AsyncClient, holder: Holder) -> str:
    resp = await http.post("/api/v1/sessions", json={"nir": holder.nir, "password": holder.password})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["access_token"])
