"""Registration over the real stack (issue 8): nginx (the one public origin), the four service processes,
Apache Kafka, Redis and the suite's SMTP server. The answer a human reads off the captcha pictures is
taken from the captcha's own store (``server_side_answer``); everything else goes through public sockets.

Two things are done behind the API's back, on purpose and in the open:
- every request of the suite reaches registration from one address (nginx's loopback), so the per-address
  login counter is forgotten around each test (as if each test were another client);
- the lockout test records nine failed logins "a few minutes ago" in registration's throttling store rather
  than waiting the progressive delays out (about two minutes): the policy counts failures in its window,
  whenever they happened.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from redis.asyncio import Redis

from contracts import topics
from tests.conftest import TEST_ENV, Platform, local_services  # type: ignore[attr-defined]
from tests.support.journey import (
    Holder,
    answer,
    confirmation_link,
    current_challenge,
    fresh_nir,
    server_side_answer,
    sign_up,
)
from tests.support.kafka import eventually, read_topic

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fresh_client_address")]

API = "/api/v1"
NEW_PASSWORD = "Nouvelle-Trompette-9"
FRENCH = re.compile(r"[éèàêçù]|\b(le|la|les|votre|vous|de|du|des)\b", re.IGNORECASE)


# --- fixtures and steps -----------------------------------------------------------------------------------


@pytest.fixture
async def http(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as client:
        yield client


async def pass_check(platform: Platform, http: httpx.AsyncClient, request_id: str) -> None:
    challenge = await current_challenge(http, request_id)
    expected = await server_side_answer(platform.redis_url("captcha"), challenge["challenge_id"])
    passed = await answer(http, challenge["challenge_id"], request_id, choice_id=expected["choice_id"])
    assert passed.status_code == 200, passed.text
    assert passed.json()["status"] == "passed"


async def confirmation_token(platform: Platform, holder: Holder, count: int = 1) -> str:
    """The token of the ``count``-th confirmation mail received by ``holder``."""
    mails = await platform.smtp.wait_for_mail(holder.email, count=count, subject_contains="Activez votre compte")
    link = confirmation_link(mails[count - 1].text())
    return parse_qs(urlsplit(link).query)["token"][0]


async def status_of(http: httpx.AsyncClient, request_id: str) -> dict[str, Any]:
    resp = await http.get(f"{API}/registrations/{request_id}")
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def wait_status(http: httpx.AsyncClient, request_id: str, status: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        body = await status_of(http, request_id)
        return body if body["status"] == status else None

    body: dict[str, Any] = await eventually(reached, timeout=30)
    return body


async def activate(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(f"{API}/activations", json={"token": token})


async def activated_holder(platform: Platform, http: httpx.AsyncClient, tag: str) -> tuple[Holder, str]:
    """A holder whose account is active (sign-up, check, e-mailed link); returns it and its request id."""
    holder = Holder.new(tag)
    request_id = await sign_up(http, holder)
    await pass_check(platform, http, request_id)
    token = await confirmation_token(platform, holder)
    resp = await activate(http, token)
    assert resp.status_code == 200 and resp.json()["status"] == "activated", resp.text
    return holder, request_id


async def log_in(http: httpx.AsyncClient, nir: str, password: str) -> httpx.Response:
    return await http.post(f"{API}/sessions", json={"nir": nir, "password": password})


def assert_errors(resp: httpx.Response, status: int, *codes: str) -> list[dict[str, str]]:
    """A JSON refusal in the API's one error shape, with French messages; ``codes`` must all be present."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    items: list[dict[str, str]] = resp.json()["errors"]
    assert items and all(set(item) == {"field", "code", "message"} for item in items), items
    for item in items:
        assert FRENCH.search(item["message"]), item
    missing = set(codes) - {item["code"] for item in items}
    assert not missing, f"missing codes {missing} in {items}"
    return items


def keys_dir(platform: Platform) -> Path:
    return Path(platform.state.var) / "keys"


# --- sign-up and activation -------------------------------------------------------------------------------


async def test_sign_up_then_activation_through_the_api_records_the_cgu_and_opens_the_account(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    holder = Holder.new("reg-journey")
    resp = await http.post(
        f"{API}/registrations",
        json=holder.form(
            phone_mobile="+33 6 12 34 56 78",
            address={
                "number": "12",
                "repetition_index": "bis",
                "street_type": "rue",
                "street_name": "des Lilas",
                "postcode": "75019",
                "city": "Paris",
            },
            highest_diploma=None,
        ),
    )
    assert resp.status_code == 202, resp.text
    accepted = resp.json()
    request_id = accepted["request_id"]
    assert accepted == {
        "request_id": request_id,
        "status": "awaiting_captcha",
        "status_url": f"{API}/registrations/{request_id}",
    }

    status = await status_of(http, accepted["status_url"].removeprefix(f"{API}/registrations/"))
    assert status["status"] == "awaiting_captcha" and status["resends_left"] >= 1
    await pass_check(platform, http, request_id)
    token = await confirmation_token(platform, holder)
    # A pending request is not an account: nobody can log in before the link is used.
    refused = await log_in(http, holder.nir, holder.password)
    assert_errors(refused, 401, "invalid_credentials")
    assert (await wait_status(http, request_id, "awaiting_confirmation"))["challenge"] is None

    activated = await activate(http, token)
    assert activated.status_code == 200, activated.text
    assert activated.json() == {"status": "activated", "message": "Votre compte personnel sécurisé est activé."}
    assert (await status_of(http, request_id))["status"] == "active"
    [welcome] = await platform.smtp.wait_for_mail(holder.email, subject_contains="Bienvenue")
    assert "Votre compte personnel sécurisé est activé" in welcome.text()

    # The account (and the CGU acceptance as a fact) is on registration's private state topic.
    holder_id = holder.holder_id(keys_dir(platform))
    records = await read_topic(
        platform.kafka,
        topics.ACCOUNT_STATE.name,
        until=lambda rs: any(r.key == f"account:{holder_id}" for r in rs),
    )
    account = [r for r in records if r.key == f"account:{holder_id}"][-1].json()["state"]
    assert account["email"] == holder.email and account["phone_mobile"] == "+33612345678"
    assert account["address"]["repetition_index"] == "bis" and account["highest_diploma"] == "not_given"
    assert account["password_hash"].startswith("$argon2id$") and holder.password not in str(account)
    cgu = account["cgu"]
    assert cgu["version"] and len(cgu["text_sha256"]) == 64 and cgu["channel"] == "api" and cgu["accepted_at"]

    session = await log_in(http, holder.nir, holder.password)
    assert session.status_code == 201, session.text
    assert session.json()["token_type"] == "Bearer" and session.json()["expires_in"] > 0

    # The link again: the API and the landing page both say the account is already active.
    again = await activate(http, token)
    assert again.status_code == 200 and again.json()["status"] == "already_active", again.text
    page = await http.get("/activation", params={"token": token})
    assert page.status_code == 200 and "déjà activé" in page.text, page.text


async def test_pages_and_api_answers_reach_the_browser_with_its_protections(http: httpx.AsyncClient) -> None:
    for path in ("/", "/inscription", f"{API}/registrations/inconnue-0000"):
        resp = await http.get(path)
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"], path
        assert resp.headers["x-frame-options"] == "DENY" and resp.headers["x-content-type-options"] == "nosniff"


async def test_an_invalid_form_gets_every_error_at_once_in_french(http: httpx.AsyncClient) -> None:
    holder = Holder.new("reg-invalid")
    resp = await http.post(
        f"{API}/registrations",
        json=holder.form(
            nir_key="00" if holder.key != "00" else "01",
            first_name="Chloé3",
            phone_mobile="",
            email_confirmation="autre@example.org",
            password="court",
            password_confirmation="autre",
            cgu_accepted=False,
        ),
    )
    items = assert_errors(resp, 422, "mismatch", "too_short", "phone_required")
    fields = {item["field"] for item in items}
    assert {
        "nir_key",
        "first_name",
        "email_confirmation",
        "password",
        "password_confirmation",
        "cgu_accepted",
    } <= fields
    assert any(item["field"] in {"phone_mobile", "phone_landline", "phones"} for item in items), items


async def test_unknown_tokens_get_a_clear_answer_never_a_server_error(http: httpx.AsyncClient) -> None:
    unknown = secrets.token_urlsafe(32)
    odd = ("", "court", "x" * 5000, "../../etc/passwd", "%00%00%00%00%00%00%00%00", "é" * 50, "\u202e" * 20)
    # An unknown token is given a moment (a link announced late by the mailer), so ask all at once.
    api, page, *landings = await asyncio.gather(
        activate(http, unknown),
        http.get("/activation", params={"token": unknown}),
        *(http.get("/activation", params={"token": token}) for token in odd),
    )
    [item] = assert_errors(api, 404, "unknown_link")
    assert "lien" in item["message"]
    assert page.status_code == 404 and "text/html" in page.headers["content-type"], page.text
    assert "lien" in page.text.lower() and "Traceback" not in page.text
    for token, landing in zip(odd, landings, strict=True):
        assert 400 <= landing.status_code < 500, (token, landing.status_code, landing.text[:200])
        assert "Traceback" not in landing.text


# --- no account enumeration -------------------------------------------------------------------------------


async def test_a_duplicate_nir_is_answered_like_a_new_one_and_only_the_real_owner_is_warned(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    owner, _ = await activated_holder(platform, http, "reg-owner")
    pending = Holder.new("reg-pending")
    pending_request = await sign_up(http, pending)

    def stranger(of: Holder, i: int) -> Holder:  # someone typing a NIR that is not theirs
        return Holder(of.nir, of.key, f"intrus.{i}.{secrets.token_hex(4)}@example.org", "Eve", "Martin")

    kinds = ("new", "existing_account", "pending_request")
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    answers: dict[str, list[httpx.Response]] = {kind: [] for kind in kinds}
    typed: list[str] = []
    for i in range(5):
        for kind in kinds:
            if kind == "new":
                who = Holder.new(f"reg-new{i}")
            else:
                who = stranger(owner if kind == "existing_account" else pending, i)
                typed.append(who.email)
            started = time.perf_counter()
            resp = await http.post(f"{API}/registrations", json=who.form())
            timings[kind].append(time.perf_counter() - started)
            answers[kind].append(resp)

    for kind in kinds:
        for resp in answers[kind]:
            assert resp.status_code == 202, (kind, resp.text)
            body = resp.json()
            assert set(body) == {"request_id", "status", "status_url"} and body["status"] == "awaiting_captcha"
            assert body["status_url"] == f"{API}/registrations/{body['request_id']}"
            assert len(body["request_id"]) == len(answers["new"][0].json()["request_id"])
            assert set(resp.headers) - {"date"} == set(answers["new"][0].headers) - {"date"}, kind
    # Same timing: the password is hashed whatever the NIR (medians of a few tries, generous tolerance).
    medians = {kind: statistics.median(values) for kind, values in timings.items()}
    for kind in ("existing_account", "pending_request"):
        assert abs(medians[kind] - medians["new"]) <= max(0.25, 0.6 * medians["new"]), medians

    # The decoy's status behaves like a real request's: same fields, a challenge to pass.
    decoy = answers["existing_account"][0].json()["request_id"]
    real = answers["new"][0].json()["request_id"]
    await current_challenge(http, decoy)
    await current_challenge(http, real)
    decoy_status, real_status = await status_of(http, decoy), await status_of(http, real)
    assert set(decoy_status) == set(real_status) and decoy_status["status"] == real_status["status"]
    assert set(decoy_status["challenge"]) == set(real_status["challenge"])
    assert decoy_status["resends_left"] == real_status["resends_left"]

    # Once the decoy's check is passed, the real owner is warned once; the typed address gets nothing.
    await pass_check(platform, http, decoy)
    [warning] = await platform.smtp.wait_for_mail(owner.email, subject_contains="Tentative d'inscription")
    assert owner.nir not in warning.text()
    assert (await wait_status(http, decoy, "awaiting_confirmation"))["challenge"] is None
    # A sign-up for a NIR whose request still waits replaces it once its own check is passed (issue 13: a
    # holder who mistyped their address starts over): it gets its link like any new sign-up, so its typist
    # cannot tell that a request was pending, and the request it replaced is closed.
    replacing = answers["pending_request"][0].json()["request_id"]
    await pass_check(platform, http, replacing)
    await wait_status(http, replacing, "awaiting_confirmation")
    [link_mail] = await platform.smtp.wait_for_mail(typed[1], subject_contains="Activez votre compte")
    assert (await status_of(http, pending_request))["status"] == "rejected"
    await asyncio.sleep(1.5)  # let anything wrongly queued reach the SMTP server
    assert [m.subject for m in platform.smtp.mails_to(owner.email)].count(warning.subject) == 1
    for address in typed[:1] + typed[2:]:
        assert platform.smtp.mails_to(address) == [], address
    assert platform.smtp.mails_to(pending.email) == []
    assert platform.smtp.mails_to(typed[1]) == [link_mail]
    # And the decoy of an existing account can never become an account: no link was minted for it.
    assert_errors(await http.post(f"{API}/registrations/{decoy}/resend"), 429, "resend_too_soon")


# --- login, throttling, logout ----------------------------------------------------------------------------


async def test_login_errors_are_generic_then_delayed_then_locked_with_a_french_message(
    platform: Platform, http: httpx.AsyncClient, reg_redis: Redis
) -> None:
    holder, _ = await activated_holder(platform, http, "reg-login")
    other_nir, _key = fresh_nir()

    wrong_password = await log_in(http, holder.nir, "Pas-Le-Bon-1")
    unknown_nir = await log_in(http, other_nir, holder.password)
    malformed_nir = await log_in(http, "12345", holder.password)
    for resp in (wrong_password, unknown_nir, malformed_nir):
        assert_errors(resp, 401, "invalid_credentials")
        assert resp.json() == wrong_password.json()
        assert "mcf_session" not in resp.headers.get("set-cookie", "")

    # Progressive delay: three free failures for a NIR, then each attempt must wait longer.
    await log_in(http, holder.nir, "Pas-Le-Bon-2")
    await log_in(http, holder.nir, "Pas-Le-Bon-3")  # 3 failures for this NIR now
    waits: list[int] = []
    for attempt in range(2):
        resp = await log_in(http, holder.nir, f"Encore-Faux-{attempt}")
        while resp.status_code == 429:
            [item] = assert_errors(resp, 429, "too_many_attempts")
            assert "Patientez" in item["message"]
            waits.append(int(resp.headers["retry-after"]))
            await asyncio.sleep(waits[-1])
            resp = await log_in(http, holder.nir, f"Encore-Faux-{attempt}")
        assert_errors(resp, 401, "invalid_credentials")
    # 5 failures: the next attempt, even with the right password, is held back for a few seconds.
    held = await log_in(http, holder.nir, holder.password)
    [item] = assert_errors(held, 429, "too_many_attempts")
    delay = int(held.headers["retry-after"])
    assert 2 <= delay <= 4 and f"{delay} secondes" in item["message"], item
    assert waits and max(waits) <= delay

    # Temporary lock: nine failures earlier this hour (recorded directly), the tenth now.
    holder_id = holder.holder_id(keys_dir(platform))
    failures = f"reg:fail:nir:{holder_id}"
    assert await reg_redis.zcard(failures) == 5
    await reg_redis.delete(failures)
    earlier = time.time() - 600
    await reg_redis.zadd(failures, {f"{earlier + 10 * i:.6f}": earlier + 10 * i for i in range(9)})
    await reg_redis.expire(failures, 3600)
    assert_errors(await log_in(http, holder.nir, "Dixieme-Essai-1"), 401, "invalid_credentials")
    for password in (holder.password, "Dixieme-Essai-2"):
        locked = await log_in(http, holder.nir, password)
        [item] = assert_errors(locked, 429, "locked")
        assert "temporairement bloqué" in item["message"] and "Mot de passe oublié" in item["message"], item
        assert 14 * 60 <= int(locked.headers["retry-after"]) <= 15 * 60
    # The lock never takes away "mot de passe oublié".
    reset = await http.post(f"{API}/password-resets", json={"nir": holder.nir})
    assert reset.status_code == 202, reset.text


async def test_strings_that_cannot_be_a_nir_share_no_throttle(http: httpx.AsyncClient) -> None:
    """Only the client's address counts them: one shared counter for every malformed NIR would let anyone
    lock out every holder who mistypes theirs."""
    for attempt in range(6):
        resp = await log_in(http, f"12345{attempt}", "Pas-Le-Bon-1")
        assert_errors(resp, 401, "invalid_credentials")


async def test_logout_closes_the_session_whether_by_cookie_or_by_bearer_token(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    holder, _ = await activated_holder(platform, http, "reg-logout")

    first = await log_in(http, holder.nir, holder.password)
    assert first.status_code == 201, first.text
    cookie = first.headers["set-cookie"]
    assert "mcf_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    refreshed = await http.post(f"{API}/sessions/current/token")
    assert refreshed.status_code == 200 and refreshed.json()["access_token"] != first.json()["access_token"]
    out = await http.delete(f"{API}/sessions/current")
    assert out.status_code == 204
    assert 'mcf_session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    [item] = assert_errors(await http.post(f"{API}/sessions/current/token"), 401, "no_session")
    assert "reconnectez-vous" in item["message"]

    # An API client that kept only the access token closes its session with it.
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as browser:
        second = await log_in(browser, holder.nir, holder.password)
        assert second.status_code == 201, second.text
        token = second.json()["access_token"]
        async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as api_client:
            bye = await api_client.delete(f"{API}/sessions/current", headers={"Authorization": f"Bearer {token}"})
            assert bye.status_code == 204
        assert_errors(await browser.post(f"{API}/sessions/current/token"), 401, "no_session")
    # Logging out twice, or without any session, is harmless.
    assert (await http.delete(f"{API}/sessions/current")).status_code == 204
    junk = await http.delete(f"{API}/sessions/current", headers={"Authorization": "Bearer pas.un.jeton"})
    assert junk.status_code == 204


# --- password reset ---------------------------------------------------------------------------------------


async def test_password_reset_always_accepted_then_policy_then_new_password_and_sessions_revoked(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    holder, _ = await activated_holder(platform, http, "reg-reset")
    session = await log_in(http, holder.nir, holder.password)
    assert session.status_code == 201, session.text
    assert (await http.post(f"{API}/sessions/current/token")).status_code == 200

    answers = [
        await http.post(f"{API}/password-resets", json={"nir": nir})
        for nir in (holder.nir, fresh_nir()[0], "pas un NIR", holder.nir)  # the last one: inside the cooldown
    ]
    assert all(a.status_code == 202 for a in answers), [a.text for a in answers]
    assert len({a.text for a in answers}) == 1 and "courriel" in answers[0].json()["message"]

    [mail] = await platform.smtp.wait_for_mail(holder.email, subject_contains="Réinitialisation")
    match = re.search(r"https?://\S+?[?&]token=([A-Za-z0-9_\-]+)", mail.text())
    assert match, mail.text()
    token = match.group(1)

    async def confirm(password: str, confirmation: str) -> httpx.Response:
        return await http.post(
            f"{API}/password-resets/confirm",
            json={"token": token, "password": password, "password_confirmation": confirmation},
        )

    # Registration recorded the link when it asked for the mail: the link works the moment the mail lands.
    weak = await confirm("court", "court")
    assert_errors(weak, 422, "too_short", "missing_uppercase", "missing_digit")
    assert_errors(await confirm(NEW_PASSWORD, NEW_PASSWORD + "x"), 422, "mismatch")
    assert_errors(await confirm(f"Aa{holder.nir}", f"Aa{holder.nir}"), 422, "contains_nir")
    assert_errors(await confirm("Azerty123", "Azerty123"), 422, "too_common")

    done = await confirm(NEW_PASSWORD, NEW_PASSWORD)
    assert done.status_code == 200, done.text
    assert "mot de passe a été modifié" in done.json()["message"]
    # The link works once.
    assert_errors(await confirm("Encore-Une-Fois-7", "Encore-Une-Fois-7"), 422, "invalid_link")

    # The session opened before the reset is revoked: its cookie no longer refreshes a token.
    assert_errors(await http.post(f"{API}/sessions/current/token"), 401, "no_session")
    assert_errors(await log_in(http, holder.nir, holder.password), 401, "invalid_credentials")
    assert (await log_in(http, holder.nir, NEW_PASSWORD)).status_code == 201
    # One mail for the two requests made within the cooldown, none for the others.
    resets = [m for m in platform.smtp.mails_to(holder.email) if "Réinitialisation" in m.subject]
    assert len(resets) == 1


# --- Redis wiped ------------------------------------------------------------------------------------------


async def test_state_survives_a_redis_wipe_and_is_rebuilt_from_the_topic(
    platform: Platform, http: httpx.AsyncClient, reg_redis: Redis
) -> None:
    account_holder, account_request = await activated_holder(platform, http, "reg-wipe-account")
    pending = Holder.new("reg-wipe-pending")
    pending_request = await sign_up(http, pending)
    await pass_check(platform, http, pending_request)
    token = await confirmation_token(platform, pending)
    before = await wait_status(http, pending_request, "awaiting_confirmation")
    waiting = Holder.new("reg-wipe-captcha")
    waiting_request = await sign_up(http, waiting)
    await current_challenge(http, waiting_request)

    await reg_redis.flushdb()
    assert not await reg_redis.exists("reg:rebuilt")
    await eventually(lambda: reg_redis.exists("reg:rebuilt"), timeout=30)

    login = await log_in(http, account_holder.nir, account_holder.password)
    assert login.status_code == 201, login.text
    assert (await status_of(http, account_request))["status"] == "active"
    after = await status_of(http, pending_request)
    assert after == before
    assert (await status_of(http, waiting_request))["status"] == "awaiting_captcha"
    # The NIR is still known to have an account (a new sign-up becomes a decoy), and the link e-mailed
    # before the wipe still works.
    again = await sign_up(http, account_holder)
    await pass_check(platform, http, again)
    records = await read_topic(
        platform.kafka, topics.MAIL_REQUESTED.name, until=lambda rs: any(r.key == again for r in rs)
    )
    assert [r.json()["kind"] for r in records if r.key == again] == ["duplicate_signup"]
    activated = await activate(http, token)
    assert activated.status_code == 200 and activated.json()["status"] == "activated", activated.text
    assert (await log_in(http, pending.nir, pending.password)).status_code == 201


# --- short lifetimes: expired links, resend cooldown and cap ----------------------------------------------

LINK_LIFETIME_S = 6.0
RESEND_COOLDOWN_S = 4


@pytest.fixture(scope="class")
def short_lifetimes(platform: Platform) -> Iterator[None]:
    """Registration restarted with a link lifetime of seconds, a short resend cooldown and one resend."""
    env = {
        **TEST_ENV,
        "registration": {
            **TEST_ENV["registration"],
            "MCF_LINK_LIFETIME_H": str(LINK_LIFETIME_S / 3600),
            "MCF_RESEND_COOLDOWN_S": str(RESEND_COOLDOWN_S),
            "MCF_MAX_RESENDS": "1",
        },
    }
    local_services.stop(platform.state, ("registration",))
    local_services.start(platform.state, ("registration",), extra_env=env)
    try:
        yield
    finally:
        platform.restart("registration")


@pytest.mark.usefixtures("short_lifetimes")
class TestShortLifetimes:
    async def test_expired_link_resend_cooldown_cap_and_the_new_link_activates(
        self, platform: Platform, http: httpx.AsyncClient
    ) -> None:
        holder = Holder.new("reg-expiry")
        request_id = await sign_up(http, holder)
        assert_errors(await http.post(f"{API}/registrations/{request_id}/resend"), 409, "captcha_pending")
        await pass_check(platform, http, request_id)
        first = await confirmation_token(platform, holder)
        mailed_at = time.monotonic()
        await wait_status(http, request_id, "awaiting_confirmation")

        too_soon = await http.post(f"{API}/registrations/{request_id}/resend")
        [item] = assert_errors(too_soon, 429, "resend_too_soon")
        assert 1 <= int(too_soon.headers["retry-after"]) <= RESEND_COOLDOWN_S
        assert "seconde" in item["message"]

        await asyncio.sleep(max(0.0, mailed_at + LINK_LIFETIME_S + 0.5 - time.monotonic()))
        [item] = assert_errors(await activate(http, first), 410, "link_expired")
        assert "expiré" in item["message"]
        page = await http.get("/activation", params={"token": first})
        assert page.status_code == 410 and "expiré" in page.text, page.text
        assert (await status_of(http, request_id))["status"] == "awaiting_confirmation"

        resent = await http.post(f"{API}/registrations/{request_id}/resend")
        assert resent.status_code == 202, resent.text
        assert resent.json()["status"] == "awaiting_confirmation" and resent.json()["resends_left"] == 0
        capped = await http.post(f"{API}/registrations/{request_id}/resend")
        [item] = assert_errors(capped, 429, "resend_limit_reached")
        assert "nombre maximal" in item["message"]

        second = await confirmation_token(platform, holder, count=2)
        assert second != first
        landing = await http.get("/activation", params={"token": second})
        assert landing.status_code == 200 and "activé" in landing.text, landing.text
        assert (await status_of(http, request_id))["status"] == "active"
        # The expired link, clicked once the account is active, says so rather than "expired".
        assert (await activate(http, first)).json()["status"] == "already_active"
        assert_errors(await http.post(f"{API}/registrations/{request_id}/resend"), 409, "already_active")


async def test_sign_ups_are_limited_per_client_address(platform: Platform, restart_with: Any) -> None:
    """Each sign-up issues a security check and may lead to a mail: one address gets a bounded number."""
    restart_with("registration", MCF_SIGNUPS_PER_ADDRESS="3")
    redis = Redis.from_url(platform.redis_url("registration"))
    async for key in redis.scan_iter(match="reg:rl:signup:*"):  # earlier tests' sign-ups, same address
        await redis.delete(key)
    await redis.aclose()
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        answers = [await http.post("/api/v1/registrations", json=Holder.new("flood").form()) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [202, 202, 202]
    refused = answers[3]
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 600
    [item] = refused.json()["errors"]
    assert item["code"] == "too_many_signups" and "Réessayez" in item["message"]
