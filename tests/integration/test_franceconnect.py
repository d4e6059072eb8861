"""The FranceConnect client (services/registration/adapters/franceconnect.py) against the real local provider
(NAV's mock-oauth2-server, shaped like FranceConnect v2 by deploy/local/oidc_provider.py) over real sockets,
with its single-use logins in a real Redis. Issue 13: state and nonce replays, a weaker acr, an expired or
altered ID token and a provider that does not answer are each refused with a typed error carrying a French
sentence."""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from redis.asyncio import Redis

from services.registration.adapters.franceconnect import FranceConnectClient, FranceConnectConfig
from services.registration.adapters.pending_logins import RedisPendingLogins
from services.registration.domain.nir import Sex
from services.registration.settings import FranceConnectSettings
from services.registration.use_cases.identity import (
    LoginCancelled,
    LoginRejected,
    ProviderUnavailable,
    ReauthenticationNotProven,
    RejectionReason,
)
from tests.conftest import LOW_ASSURANCE_CLIENT_ID, ROOT, free_port, oidc_provider, stack
from tests.support.franceconnect import MARIE, MARIE_SUBJECT, login_at_provider

pytestmark = pytest.mark.integration

CLIENT_ID = "mcf-test"
REDIRECT_URI = "http://127.0.0.1:9/connexion/franceconnect/retour"  # never reached: the test reads Location


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A Redis of its own (started by the project's stack script), for the single-use logins."""
    var = ROOT / "var" / f"test-fc-redis-{os.getpid()}"
    state = stack.StackState(var=str(var), ports=stack.Ports.free())
    (var / "logs").mkdir(parents=True, exist_ok=True)
    stack.start_redis(state)
    try:
        yield f"redis://{stack.LOOPBACK}:{state.ports.redis}/0"
    finally:
        stack.stop_pid(state.pids["redis"], "redis", grace=5)
        shutil.rmtree(var, ignore_errors=True)


def config(issuer: str, client_id: str = CLIENT_ID) -> FranceConnectConfig:
    settings = FranceConnectSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret="local-test-secret",  # the local provider checks no secret
        redirect_uri=REDIRECT_URI,
        post_logout_redirect_uri="http://127.0.0.1:9/deconnexion",
    )
    made = FranceConnectConfig.from_settings(settings)
    assert made is not None
    return made


class Clock:
    """Real time, which a test can move forward (the provider's clock is not touched)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def make_client(
    franceconnect: oidc_provider.Provider, redis: Redis
) -> AsyncIterator[Callable[..., FranceConnectClient]]:
    made: list[FranceConnectClient] = []

    def make(
        *,
        issuer: str | None = None,
        client_id: str = CLIENT_ID,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] | None = None,
    ) -> FranceConnectClient:
        client = FranceConnectClient(
            config(issuer or franceconnect.issuer, client_id),
            RedisPendingLogins(redis),
            transport=transport,
            **({"clock": clock} if clock else {}),
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


async def refusal(client: FranceConnectClient, claims: dict[str, Any] | None = None) -> RejectionReason:
    """Log in at the provider (with ``claims`` typed on its page) and return why the client refused it."""
    start = await client.begin_login()
    callback = await login_at_provider(start.authorization_url, claims=claims)
    with pytest.raises(LoginRejected) as refused:
        await client.complete_login(callback, start.state)
    return refused.value.reason


async def test_a_holder_logs_in_and_the_identity_is_the_one_the_provider_certified(
    make_client: Callable[..., FranceConnectClient], franceconnect: oidc_provider.Provider
) -> None:
    client = make_client()
    start = await client.begin_login()
    sent = dict(parse_qsl(urlsplit(start.authorization_url).query))
    assert start.authorization_url.startswith(f"{franceconnect.issuer}/authorize?")
    assert sent["response_type"] == "code" and sent["client_id"] == CLIENT_ID and sent["acr_values"] == "eidas1"
    assert sent["scope"].split() == [
        "openid",
        "given_name",
        "family_name",
        "birthdate",
        "birthplace",
        "birthcountry",
        "gender",
        "email",
        "preferred_username",
    ]
    assert sent["state"] == start.state and len(start.state) >= 32 and len(sent["nonce"]) >= 32

    login = await client.complete_login(await login_at_provider(start.authorization_url), start.state)

    who = login.identity
    assert who.subject == MARIE_SUBJECT and who.acr == "eidas1"
    assert who.given_names == ("Marie", "Claire") and who.family_name == "Dupont" and who.preferred_name == "Martin"
    assert who.birthdate == date(1985, 5, 12) and who.gender is Sex.FEMALE
    assert who.birthplace == "75105" and who.birthcountry == "99100" and who.email == MARIE["email"]


async def test_each_login_has_its_own_state_and_nonce(make_client: Callable[..., FranceConnectClient]) -> None:
    client = make_client()
    first, second = await client.begin_login(), await client.begin_login()
    nonces = {dict(parse_qsl(urlsplit(s.authorization_url).query))["nonce"] for s in (first, second)}
    assert first.state != second.state and len(nonces) == 2


async def test_a_callback_replayed_after_its_login_is_refused(make_client: Callable[..., FranceConnectClient]) -> None:
    client = make_client()
    start = await client.begin_login()
    callback = await login_at_provider(start.authorization_url)
    await client.complete_login(callback, start.state)

    with pytest.raises(LoginRejected) as refused:
        await client.complete_login(callback, start.state)
    assert refused.value.reason is RejectionReason.UNKNOWN_STATE
    assert "FranceConnect" in refused.value.message


async def test_a_callback_reaching_another_browser_is_refused_and_the_login_stays_usable(
    make_client: Callable[..., FranceConnectClient],
) -> None:
    """Login CSRF: someone else's callback link opened in this browser (whose cookie holds another state)."""
    client = make_client()
    mine, theirs = await client.begin_login(), await client.begin_login()
    their_callback = await login_at_provider(theirs.authorization_url, subject="fc-sub-someone-else")

    with pytest.raises(LoginRejected) as refused:
        await client.complete_login(their_callback, mine.state)
    assert refused.value.reason is RejectionReason.STATE_NOT_FROM_THIS_BROWSER
    with pytest.raises(LoginRejected):
        await client.complete_login(their_callback, None)  # no cookie at all


async def test_an_id_token_carrying_an_already_used_nonce_is_refused(
    make_client: Callable[..., FranceConnectClient],
) -> None:
    client = make_client()
    first = await client.begin_login()
    used_nonce = dict(parse_qsl(urlsplit(first.authorization_url).query))["nonce"]
    await client.complete_login(await login_at_provider(first.authorization_url), first.state)

    # A second login whose authorization request carries the first login's nonce (an attacker replaying an
    # intercepted request): the provider signs an ID token with the old nonce, the client refuses it.
    second = await client.begin_login()
    parts = urlsplit(second.authorization_url)
    query = dict(parse_qsl(parts.query)) | {"nonce": used_nonce}
    replayed = urlunsplit(parts._replace(query=urlencode(query)))

    with pytest.raises(LoginRejected) as refused:
        await client.complete_login(await login_at_provider(replayed), second.state)
    assert refused.value.reason is RejectionReason.NONCE_MISMATCH


async def test_an_identity_below_eidas1_is_refused(make_client: Callable[..., FranceConnectClient]) -> None:
    client = make_client(client_id=LOW_ASSURANCE_CLIENT_ID)  # the provider answers acr=eidas0 to this client
    assert await refusal(client) is RejectionReason.INSUFFICIENT_ACR


async def test_a_typed_acr_on_the_login_page_cannot_raise_the_level(
    make_client: Callable[..., FranceConnectClient],
) -> None:
    """The provider sets acr itself: a tester (or a forged login form) claiming eidas3 does not get it."""
    client = make_client(client_id=LOW_ASSURANCE_CLIENT_ID)
    assert await refusal(client, claims={**MARIE, "acr": "eidas3"}) is RejectionReason.INSUFFICIENT_ACR


async def test_an_expired_id_token_is_refused(make_client: Callable[..., FranceConnectClient]) -> None:
    clock = Clock()
    client = make_client(clock=clock)
    start = await client.begin_login()
    callback = await login_at_provider(start.authorization_url)
    # The provider's ID tokens live 60 s; the client tolerates 30 s of clock difference. Two minutes later
    # the token is stale, while the login itself (10 minutes) is still pending.
    clock.offset = 120
    with pytest.raises(LoginRejected) as refused:
        await client.complete_login(callback, start.state)
    assert refused.value.reason is RejectionReason.INVALID_ID_TOKEN


class AlteringProxy(httpx.AsyncBaseTransport):
    """Forwards to the real provider and rewrites the token endpoint's first answer: what a network
    attacker or a compromised relay would do."""

    def __init__(self, alter_id_token: Callable[[str], str]) -> None:
        self._real = httpx.AsyncHTTPTransport()
        self._alter: Callable[[str], str] | None = alter_id_token

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._real.handle_async_request(request)
        if self._alter is None or not request.url.path.endswith("/token"):
            return response
        body = json.loads(await response.aread())
        body["id_token"], self._alter = self._alter(body["id_token"]), None
        return httpx.Response(response.status_code, json=body)

    async def aclose(self) -> None:
        await self._real.aclose()


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unb64(part: str) -> dict[str, object]:
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def other_birthdate(token: str) -> str:
    header, payload, signature = token.split(".")
    return ".".join((header, b64(unb64(payload) | {"birthdate": "1970-01-01", "sub": "fc-sub-attacker"}), signature))


def unsigned(token: str) -> str:
    _, payload, _ = token.split(".")
    return ".".join((b64({"alg": "none", "typ": "JWT"}), payload, ""))


@pytest.mark.parametrize("alteration", [other_birthdate, unsigned], ids=["payload-changed", "alg-none"])
async def test_an_altered_id_token_is_refused(
    make_client: Callable[..., FranceConnectClient], alteration: Callable[[str], str]
) -> None:
    client = make_client(transport=AlteringProxy(alteration))
    assert await refusal(client) is RejectionReason.INVALID_ID_TOKEN
    # The next, untouched answer is accepted: the refusal was the alteration's, and the client still works.
    start = await client.begin_login()
    login = await client.complete_login(await login_at_provider(start.authorization_url), start.state)
    assert login.identity.subject == MARIE_SUBJECT


async def test_a_provider_that_does_not_answer_gives_a_french_error(
    make_client: Callable[..., FranceConnectClient],
) -> None:
    client = make_client(issuer=f"http://{stack.LOOPBACK}:{free_port()}/franceconnect")  # nobody listens there
    with pytest.raises(ProviderUnavailable) as down:
        await client.begin_login()
    assert down.value.message.startswith("FranceConnect ne répond pas pour le moment.")


async def test_a_holder_who_cancels_at_the_provider_is_told_so(
    make_client: Callable[..., FranceConnectClient],
) -> None:
    client = make_client()
    start = await client.begin_login()
    with pytest.raises(LoginCancelled) as cancelled:
        await client.complete_login({"state": start.state, "error": "access_denied"}, start.state)
    assert "annulé" in cancelled.value.message
    with pytest.raises(LoginRejected):  # the state went with the cancelled attempt
        await client.complete_login({"state": start.state, "code": "x"}, start.state)


async def test_logout_goes_through_the_providers_end_session_endpoint(
    make_client: Callable[..., FranceConnectClient], franceconnect: oidc_provider.Provider
) -> None:
    client = make_client()
    start = await client.begin_login()
    login = await client.complete_login(await login_at_provider(start.authorization_url), start.state)

    url = await client.logout_url(login.id_token, state="s" * 32)
    assert url.startswith(f"{franceconnect.issuer}/endsession?")
    assert dict(parse_qsl(urlsplit(url).query))["id_token_hint"] == login.id_token
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(url)
    assert answer.status_code == 302
    assert answer.headers["location"] == f"http://127.0.0.1:9/deconnexion?state={'s' * 32}"


async def test_the_providers_login_page_is_french_and_prefilled_with_a_usable_identity(
    franceconnect: oidc_provider.Provider,
) -> None:
    query = {"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT_URI, "scope": "openid"}
    async with httpx.AsyncClient() as browser:
        page = (await browser.get(f"{franceconnect.issuer}/authorize?{urlencode(query)}")).text
    assert '<html lang="fr">' in page and 'name="username"' in page and "Se connecter" in page
    textarea = page.split('name="claims"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    claims = json.loads(textarea)
    assert set(claims) >= {"given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry", "email"}


async def test_a_re_authentication_counts_only_with_a_login_time_after_its_start(
    make_client: Callable[..., FranceConnectClient],
) -> None:
    """The local provider issues no ``auth_time`` of its own: the tester types it on its login page, as
    FranceConnect would put it in the ID token (docs/identity.md). The pending login's purpose survives Redis."""
    client = make_client()
    start = await client.begin_login(reauthenticate=True)
    sent = dict(parse_qsl(urlsplit(start.authorization_url).query))
    assert sent["prompt"] == "login" and sent["max_age"] == "0"
    fresh = await login_at_provider(start.authorization_url, claims={**MARIE, "auth_time": int(time.time())})
    assert (await client.complete_login(fresh, start.state)).reauthenticated

    for typed in ({}, {"auth_time": int(time.time()) - 3600}):  # no login time, or the provider's old session
        start = await client.begin_login(reauthenticate=True)
        callback = await login_at_provider(start.authorization_url, claims={**MARIE, **typed})
        with pytest.raises(ReauthenticationNotProven):
            await client.complete_login(callback, start.state)

    ordinary = await client.begin_login()
    callback = await login_at_provider(ordinary.authorization_url, claims={**MARIE, "auth_time": int(time.time())})
    assert not (await client.complete_login(callback, ordinary.state)).reauthenticated
