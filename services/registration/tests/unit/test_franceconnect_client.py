"""The FranceConnect client against a scripted provider shaped like production FranceConnect v2 (ES256 keys,
userinfo as a signed JWT), which the local provider cannot play: the JWT userinfo is verified (signature,
issuer, audience, subject), a rotated key is fetched once, and server errors are "provider unavailable".
The real-provider journeys are in tests/integration/test_franceconnect.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from services.registration.adapters.franceconnect import FranceConnectClient, FranceConnectConfig
from services.registration.settings import FranceConnectSettings
from services.registration.use_cases.identity import (
    LoginRejected,
    PendingLogin,
    ProviderUnavailable,
    ReauthenticationNotProven,
    RejectionReason,
)

ISSUER = "https://fc.example.test/api/v2"
CLIENT_ID = "mcf-client"
IDENTITY = {
    "given_name": "Jean Pierre",
    "family_name": "Martin",
    "preferred_username": "",
    "birthdate": "1962-11-03",
    "gender": "male",
    "birthplace": "",
    "birthcountry": "99352",
    "email": "jp.martin@example.fr",
}


class MemoryPendingLogins:
    """The port's fake: single use, like the Redis adapter."""

    def __init__(self) -> None:
        self.logins: dict[str, PendingLogin] = {}

    async def save(self, state: str, login: PendingLogin, ttl_s: int) -> None:
        self.logins[state] = login

    async def take(self, state: str) -> PendingLogin | None:
        return self.logins.pop(state, None)


class ScriptedProvider:
    """Answers discovery, JWKS, token and userinfo like FranceConnect v2; each answer can be overridden."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", parameters={"kid": "2026-1"})
        self.nonce = ""
        self.userinfo_claims: dict[str, Any] = {"sub": "fc-sub-1", "iss": ISSUER, "aud": CLIENT_ID, **IDENTITY}
        self.userinfo_key: ECKey | None = None
        self.token_status = 200
        self.jwks_fetches = 0
        self.auth_time: int | None = None  # when the person last logged in at the provider; None: not said

    def sign(self, claims: dict[str, Any], key: ECKey | None = None) -> str:
        key = key or self.key
        return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v2")
        if path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    **{f"{k}_endpoint": f"{ISSUER}/{k}" for k in ("authorization", "token", "userinfo")},
                    "end_session_endpoint": f"{ISSUER}/session/end",
                    "jwks_uri": f"{ISSUER}/jwks",
                },
            )
        if path == "/jwks":
            self.jwks_fetches += 1
            return httpx.Response(200, json=KeySet([self.key]).as_dict(private=False))
        if path == "/token":
            if self.token_status != 200:
                return httpx.Response(self.token_status, text="<html>maintenance</html>")
            now = int(time.time())
            id_token = self.sign(
                {
                    "iss": ISSUER, "aud": CLIENT_ID, "sub": "fc-sub-1", "iat": now, "exp": now + 60,
                    "nonce": self.nonce, "acr": "eidas1",
                    **({} if self.auth_time is None else {"auth_time": self.auth_time}),
                }
            )  # fmt: skip
            return httpx.Response(200, json={"access_token": "at-1", "token_type": "Bearer", "id_token": id_token})
        if path == "/userinfo":
            body = self.sign(self.userinfo_claims, self.userinfo_key)
            return httpx.Response(200, text=body, headers={"content-type": "application/jwt; charset=utf-8"})
        return httpx.Response(404)


def make_client(provider: ScriptedProvider, pending: MemoryPendingLogins | None = None) -> FranceConnectClient:
    settings = FranceConnectSettings(
        issuer=ISSUER,
        client_id=CLIENT_ID,
        client_secret="secret-from-a-kubernetes-secret",  # a test value
        redirect_uri="https://www.example.test/connexion/franceconnect/retour",
    )
    config = FranceConnectConfig.from_settings(settings)
    assert config is not None
    return FranceConnectClient(config, pending or MemoryPendingLogins(), transport=httpx.MockTransport(provider.handle))


async def complete(client: FranceConnectClient, provider: ScriptedProvider, *, reauthenticate: bool = False) -> Any:
    start = await client.begin_login(reauthenticate=reauthenticate)
    provider.nonce = dict(parse_qsl(urlsplit(start.authorization_url).query))["nonce"]
    return await client.complete_login({"state": start.state, "code": "code-1"}, start.state)


async def test_a_signed_userinfo_gives_the_identity_of_a_person_born_abroad() -> None:
    provider = ScriptedProvider()
    login = await complete(make_client(provider), provider)
    assert login.identity.subject == "fc-sub-1" and login.identity.given_names == ("Jean", "Pierre")
    assert login.identity.birthplace is None and login.identity.birthcountry == "99352"
    assert login.identity.preferred_name is None


def signed_by_another_key(p: ScriptedProvider) -> None:
    p.userinfo_key = ECKey.generate_key("P-256", parameters={"kid": "2026-1"})  # same key id, other key


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(signed_by_another_key, id="signature"),
        pytest.param(lambda p: p.userinfo_claims.update(aud="another-service"), id="audience"),
        pytest.param(lambda p: p.userinfo_claims.update(iss="https://idp.example.test"), id="issuer"),
        pytest.param(lambda p: p.userinfo_claims.update(sub="fc-sub-2"), id="subject"),
    ],
)
async def test_a_signed_userinfo_that_does_not_verify_is_refused(spoil: Callable[[ScriptedProvider], None]) -> None:
    provider = ScriptedProvider()
    spoil(provider)
    with pytest.raises(LoginRejected) as refused:
        await complete(make_client(provider), provider)
    assert refused.value.reason is RejectionReason.INVALID_USERINFO


async def test_a_userinfo_without_the_birth_date_is_refused_as_unusable() -> None:
    provider = ScriptedProvider()
    del provider.userinfo_claims["birthdate"]
    with pytest.raises(LoginRejected) as refused:
        await complete(make_client(provider), provider)
    assert refused.value.reason is RejectionReason.INVALID_CLAIMS


async def test_a_rotated_signing_key_is_fetched_once_more() -> None:
    provider = ScriptedProvider()
    client = make_client(provider)
    await complete(client, provider)
    provider.key = ECKey.generate_key("P-256", parameters={"kid": "2026-2"})  # the provider rotates its key
    login = await complete(client, provider)
    assert login.identity.subject == "fc-sub-1" and provider.jwks_fetches == 2


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_token_endpoint_in_trouble_is_provider_unavailable(status: int) -> None:
    provider = ScriptedProvider()
    provider.token_status = status
    with pytest.raises(ProviderUnavailable) as down:
        await complete(make_client(provider), provider)
    assert "FranceConnect ne répond pas" in down.value.message


async def test_a_refused_code_is_a_rejection_not_an_outage() -> None:
    provider = ScriptedProvider()
    provider.token_status = 400
    with pytest.raises(LoginRejected) as refused:
        await complete(make_client(provider), provider)
    assert refused.value.reason is RejectionReason.TOKEN_REFUSED


async def test_a_login_older_than_its_lifetime_is_refused() -> None:
    provider, pending = ScriptedProvider(), MemoryPendingLogins()
    client = make_client(provider, pending)
    start = await client.begin_login()
    # The holder took more than the login's lifetime at the provider (Redis's TTL would also have expired it).
    pending.logins[start.state] = PendingLogin(nonce="n" * 43, created_at=time.time() - 601)
    with pytest.raises(LoginRejected) as refused:
        await client.complete_login({"state": start.state, "code": "code-1"}, start.state)
    assert refused.value.reason is RejectionReason.UNKNOWN_STATE


def test_the_settings_leave_franceconnect_off_until_configured() -> None:
    assert FranceConnectConfig.from_settings(FranceConnectSettings()) is None
    configured = FranceConnectSettings(
        issuer=ISSUER + "/", client_id=CLIENT_ID, client_secret="s", redirect_uri="https://x.test/cb"
    )
    config = FranceConnectConfig.from_settings(configured)
    assert config is not None and config.issuer == ISSUER and config.accepted_acr == ["eidas1", "eidas2", "eidas3"]
    with pytest.raises(ValueError, match="acr_values"):
        FranceConnectConfig.from_settings(configured.model_copy(update={"acr_values": "eidas9"}))


async def test_the_logout_url_is_the_end_session_endpoint() -> None:
    url = await make_client(ScriptedProvider()).logout_url("the-id-token", state="s" * 43)
    assert url.startswith(f"{ISSUER}/session/end?")
    assert dict(parse_qsl(urlsplit(url).query)) == {"id_token_hint": "the-id-token", "state": "s" * 43}


async def test_authenticating_again_asks_the_provider_for_a_fresh_login() -> None:
    client = make_client(ScriptedProvider())
    usual = dict(parse_qsl(urlsplit((await client.begin_login()).authorization_url).query))
    again = dict(parse_qsl(urlsplit((await client.begin_login(reauthenticate=True)).authorization_url).query))
    assert "prompt" not in usual and "max_age" not in usual
    assert again["prompt"] == "login" and again["max_age"] == "0"
    assert again["acr_values"] == "eidas1" and len(again["nonce"]) >= 32


async def test_a_re_authentication_whose_id_token_does_not_say_when_the_person_logged_in_is_refused() -> None:
    provider = ScriptedProvider()  # e.g. prompt=login stripped from the redirect: the provider's session reused
    with pytest.raises(ReauthenticationNotProven) as refused:
        await complete(make_client(provider), provider, reauthenticate=True)
    assert refused.value.reason is RejectionReason.STALE_AUTHENTICATION
    assert "Rien n'a été modifié" in refused.value.message


async def test_a_re_authentication_answered_with_an_earlier_login_is_refused() -> None:
    provider = ScriptedProvider()
    provider.auth_time = int(time.time()) - 600  # the provider's session of ten minutes ago, reused silently
    with pytest.raises(ReauthenticationNotProven):
        await complete(make_client(provider), provider, reauthenticate=True)


async def test_a_re_authentication_with_a_login_after_its_start_counts() -> None:
    provider = ScriptedProvider()
    provider.auth_time = int(time.time()) - 5  # a provider clock a little behind ours is tolerated (leeway)
    login = await complete(make_client(provider), provider, reauthenticate=True)
    assert login.reauthenticated and login.identity.subject == "fc-sub-1"


async def test_an_ordinary_login_needs_no_auth_time_and_never_counts_as_a_re_authentication() -> None:
    provider = ScriptedProvider()
    assert not (await complete(make_client(provider), provider)).reauthenticated
    provider.auth_time = int(time.time())  # a fresh login, but the service did not start it as a re-authentication
    assert not (await complete(make_client(provider), provider)).reauthenticated


async def test_the_pending_login_and_not_the_callback_says_it_is_a_re_authentication() -> None:
    provider, pending = ScriptedProvider(), MemoryPendingLogins()
    client = make_client(provider, pending)
    start = await client.begin_login(reauthenticate=True)
    assert pending.logins[start.state].reauthentication
    ordinary = await client.begin_login()
    assert not pending.logins[ordinary.state].reauthentication
