"""FranceConnect v2 through Authlib: the :class:`~services.registration.use_cases.identity.IdentityProvider`.

(Over 300 lines on purpose: every check of the protocol — state, nonce, issuer, audience, expiry, acr, the
signed or plain userinfo — sits next to the others, as one security review reads them.)

Authorization Code flow (docs/identity.md): Authlib builds the authorization URL and redeems the code;
the ID token's signature is checked against the provider's JWKS (joserfc, Authlib's JOSE library), its
claims with Authlib's OpenID Connect rules (``iss``, ``aud``, ``exp``, ``iat``, ``nonce``, ``azp``,
``at_hash``) plus the assurance level ``acr``. The userinfo answer is FranceConnect's signed JWT
(``application/jwt``: signature, ``iss``, ``aud`` checked) or plain JSON (the local provider's); in both
cases its ``sub`` must be the ID token's. Every failure ends as one of the port's typed errors.

A little over 300 lines on purpose: the whole flow and its checks read in order in one place.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ClaimError, JoseError
from joserfc.jwk import KeySet

from services.registration.domain.identity import IdentityClaimsError, identity_from_claims
from services.registration.settings import FranceConnectSettings
from services.registration.use_cases.identity import (
    CompletedLogin,
    IdentityProviderError,
    LoginCancelled,
    LoginRejected,
    LoginStart,
    PendingLogin,
    PendingLogins,
    ProviderUnavailable,
    ReauthenticationNotProven,
    RejectionReason,
)

# Secrets of 32 bytes: 43 URL-safe characters, above FranceConnect's minimum of 32 for state and nonce.
SECRET_BYTES = 32
# FranceConnect v2 signs with ES256 or RS256 (per client registration); nothing else is accepted,
# in particular never "none" or an HMAC keyed with a public key.
SIGNING_ALGORITHMS = ("ES256", "RS256")
# eIDAS levels in increasing strength: a stronger level than the one asked for also satisfies it.
EIDAS_LEVELS = ("eidas1", "eidas2", "eidas3")
DISCOVERY_TTL_S = 3600.0


@dataclass(frozen=True, slots=True)
class FranceConnectConfig:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    post_logout_redirect_uri: str | None
    token_endpoint_auth_method: str
    acr_values: str
    scopes: str
    http_timeout_s: float
    clock_leeway_s: int
    login_lifetime_s: int

    @classmethod
    def from_settings(cls, settings: FranceConnectSettings) -> FranceConnectConfig | None:
        """The configuration, or ``None`` when FranceConnect is not configured (the feature is off)."""
        if not (settings.issuer and settings.client_id and settings.client_secret and settings.redirect_uri):
            return None
        if settings.acr_values not in EIDAS_LEVELS:
            raise ValueError(f"unknown acr_values {settings.acr_values!r}; expected one of {EIDAS_LEVELS}")
        return cls(
            issuer=settings.issuer.rstrip("/"),
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value(),
            redirect_uri=settings.redirect_uri,
            post_logout_redirect_uri=settings.post_logout_redirect_uri,
            token_endpoint_auth_method=settings.token_endpoint_auth_method,
            acr_values=settings.acr_values,
            scopes=settings.scopes,
            http_timeout_s=settings.http_timeout_s,
            clock_leeway_s=settings.clock_leeway_s,
            login_lifetime_s=settings.login_lifetime_s,
        )

    @property
    def accepted_acr(self) -> list[str]:
        return list(EIDAS_LEVELS[EIDAS_LEVELS.index(self.acr_values) :])


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


class FranceConnectClient:
    """One per process; ``transport`` and ``clock`` are for tests (a proxy that alters answers, time travel)."""

    def __init__(
        self,
        config: FranceConnectConfig,
        pending: PendingLogins,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._pending = pending
        self._clock = clock
        # One connection pool for every call to the provider; Authlib's short-lived clients borrow it.
        self._transport = transport or httpx.AsyncHTTPTransport()
        self._http = httpx.AsyncClient(timeout=config.http_timeout_s, transport=self._transport)
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the port ---------------------------------------------------------------------------------

    async def begin_login(self, *, reauthenticate: bool = False) -> LoginStart:
        metadata = await self._discovery()
        state, nonce = new_secret(), new_secret()
        pending = PendingLogin(nonce=nonce, created_at=self._clock(), reauthentication=reauthenticate)
        await self._pending.save(state, pending, ttl_s=self._config.login_lifetime_s)
        async with self._oauth_client() as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=state,
                nonce=nonce,
                acr_values=self._config.acr_values,
                # OpenID Connect Core 3.1.2.1: both ask for a fresh login; only the ID token's auth_time,
                # checked on the callback, proves one (the browser carries this URL and may alter it).
                **({"prompt": "login", "max_age": "0"} if reauthenticate else {}),
            )
        return LoginStart(authorization_url=url, state=state)

    async def complete_login(self, query: Mapping[str, str], browser_state: str | None) -> CompletedLogin:
        state = query.get("state", "")
        if not state or not browser_state or not hmac.compare_digest(state.encode(), browser_state.encode()):
            raise LoginRejected(RejectionReason.STATE_NOT_FROM_THIS_BROWSER)
        pending = await self._pending.take(state)  # single use: gone now, whatever happens next
        if pending is None or self._clock() - pending.created_at > self._config.login_lifetime_s:
            raise LoginRejected(RejectionReason.UNKNOWN_STATE)
        if "error" in query:
            if query["error"] == "access_denied":
                raise LoginCancelled("the holder cancelled at the provider")
            raise LoginRejected(RejectionReason.PROVIDER_ERROR, query["error"][:100])
        code = query.get("code", "")
        if not code:
            raise LoginRejected(RejectionReason.PROVIDER_ERROR, "no code in the callback")
        metadata = await self._discovery()
        tokens = await self._redeem(metadata["token_endpoint"], code)
        id_token = tokens.get("id_token")
        access_token = tokens.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise LoginRejected(RejectionReason.TOKEN_REFUSED, "no id_token or access_token")
        id_claims = await self._verified_id_token(id_token, nonce=pending.nonce, access_token=access_token)
        if pending.reauthentication:
            self._check_fresh_login(id_claims, started_at=pending.created_at)
        userinfo = await self._userinfo(metadata["userinfo_endpoint"], access_token, subject=id_claims["sub"])
        try:
            identity = identity_from_claims({**userinfo, "sub": id_claims["sub"], "acr": id_claims["acr"]})
        except IdentityClaimsError as exc:
            raise LoginRejected(RejectionReason.INVALID_CLAIMS, f"{exc.claim}: {exc.detail}") from None
        return CompletedLogin(identity=identity, id_token=id_token, reauthenticated=pending.reauthentication)

    def _check_fresh_login(self, id_claims: Mapping[str, Any], *, started_at: float) -> None:
        """A re-authentication counts only if the person logged in at the provider after it started."""
        auth_time = id_claims.get("auth_time")
        if not isinstance(auth_time, int | float) or isinstance(auth_time, bool):
            raise ReauthenticationNotProven("no auth_time in the ID token")
        if auth_time < started_at - self._config.clock_leeway_s:
            raise ReauthenticationNotProven(f"auth_time {auth_time} before the start {started_at:.0f}")

    async def logout_url(self, id_token: str, state: str) -> str:
        endpoint = (await self._discovery()).get("end_session_endpoint")
        if not isinstance(endpoint, str):
            raise ProviderUnavailable("the provider publishes no end_session_endpoint")
        params = {"id_token_hint": id_token, "state": state}
        if self._config.post_logout_redirect_uri:
            params["post_logout_redirect_uri"] = self._config.post_logout_redirect_uri
        return f"{endpoint}?{urlencode(params)}"

    # --- provider documents -----------------------------------------------------------------------

    async def _get_json(self, url: str) -> Any:
        try:
            response = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"GET {url}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ProviderUnavailable(f"GET {url}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise ProviderUnavailable(f"GET {url}: not JSON") from None

    async def _discovery(self) -> dict[str, Any]:
        if self._metadata is not None and self._clock() - self._metadata_at < DISCOVERY_TTL_S:
            return self._metadata
        metadata = await self._get_json(f"{self._config.issuer}/.well-known/openid-configuration")
        needed = ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
        if not isinstance(metadata, dict) or not all(isinstance(metadata.get(k), str) for k in needed):
            raise ProviderUnavailable("discovery document incomplete")
        if metadata["issuer"] != self._config.issuer:  # OpenID Connect Discovery 1.0, section 4.3
            raise ProviderUnavailable(f"discovery names issuer {metadata['issuer']!r}")
        self._metadata, self._metadata_at = metadata, self._clock()
        return metadata

    async def _key_set(self, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            jwks = await self._get_json((await self._discovery())["jwks_uri"])
            try:
                self._keys = KeySet.import_key_set(jwks)
            except (JoseError, ValueError, TypeError, KeyError):
                raise ProviderUnavailable("unreadable JWKS") from None
        return self._keys

    async def _verified_jws(self, token: str) -> jwt.Token:
        """Decode a signed JWT from the provider; one JWKS refresh when its key is unknown (rotation)."""
        for refresh in (False, True):
            keys = await self._key_set(refresh=refresh)
            try:
                return jwt.decode(token, keys, algorithms=list(SIGNING_ALGORITHMS))
            except JoseError as exc:
                if refresh or exc.error not in ("invalid_key_id", "missing_key"):
                    raise
        raise AssertionError("unreachable")

    # --- the token and userinfo answers -----------------------------------------------------------

    def _oauth_client(self) -> AsyncOAuth2Client:
        """A client per use: Authlib's keeps the last token it fetched, which must not outlive one login."""
        return AsyncOAuth2Client(
            client_id=self._config.client_id,
            client_secret=self._config.client_secret,
            token_endpoint_auth_method=self._config.token_endpoint_auth_method,
            redirect_uri=self._config.redirect_uri,
            scope=self._config.scopes,
            timeout=self._config.http_timeout_s,
            transport=_Borrowed(self._transport),
        )

    async def _redeem(self, token_endpoint: str, code: str) -> Mapping[str, Any]:
        try:
            async with self._oauth_client() as client:
                token = await client.fetch_token(token_endpoint, code=code, grant_type="authorization_code")
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code >= 500:
                raise ProviderUnavailable(f"token endpoint: HTTP {exc.response.status_code}") from None
            raise LoginRejected(RejectionReason.TOKEN_REFUSED, f"HTTP {exc.response.status_code}") from None
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"token endpoint: {type(exc).__name__}") from None
        except OAuthError as exc:
            raise LoginRejected(RejectionReason.TOKEN_REFUSED, str(exc.error)) from None
        except ValueError:
            raise ProviderUnavailable("token endpoint: not a JSON object") from None
        return dict(token)

    async def _verified_id_token(self, id_token: str, *, nonce: str, access_token: str) -> dict[str, Any]:
        try:
            token = await self._verified_jws(id_token)
        except JoseError as exc:
            raise LoginRejected(RejectionReason.INVALID_ID_TOKEN, exc.error) from None
        claims = CodeIDToken(
            token.claims,
            token.header,
            options={
                "iss": {"essential": True, "value": self._config.issuer},
                "aud": {"essential": True, "value": self._config.client_id},
                "nonce": {"essential": True, "value": nonce},
                "acr": {"essential": True, "values": self._config.accepted_acr},
            },
            params={"nonce": nonce, "client_id": self._config.client_id, "access_token": access_token},
        )
        try:
            claims.validate(now=int(self._clock()), leeway=self._config.clock_leeway_s)
        except ClaimError as exc:
            reason = {"nonce": RejectionReason.NONCE_MISMATCH, "acr": RejectionReason.INSUFFICIENT_ACR}.get(
                exc.claim, RejectionReason.INVALID_ID_TOKEN
            )
            raise LoginRejected(reason, f"{exc.error}: {exc.claim}") from None
        except JoseError as exc:
            raise LoginRejected(RejectionReason.INVALID_ID_TOKEN, exc.error) from None
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise LoginRejected(RejectionReason.INVALID_ID_TOKEN, "no sub")
        return dict(claims)

    async def _userinfo(self, endpoint: str, access_token: str, *, subject: str) -> dict[str, Any]:
        try:
            response = await self._http.get(endpoint, headers={"Authorization": f"Bearer {access_token}"})
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"userinfo: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise ProviderUnavailable(f"userinfo: HTTP {response.status_code}")
        if response.status_code != 200:
            raise LoginRejected(RejectionReason.INVALID_USERINFO, f"HTTP {response.status_code}")
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type == "application/jwt":
            claims = await self._verified_userinfo_jwt(response.text)
        elif media_type == "application/json":
            try:
                claims = response.json()
            except ValueError:
                raise LoginRejected(RejectionReason.INVALID_USERINFO, "not JSON") from None
        else:
            raise LoginRejected(RejectionReason.INVALID_USERINFO, f"media type {media_type!r}")
        if not isinstance(claims, dict):
            raise LoginRejected(RejectionReason.INVALID_USERINFO, "not an object")
        # OpenID Connect Core 5.3.2: a userinfo sub differing from the ID token's must not be used.
        if claims.get("sub") != subject:
            raise LoginRejected(RejectionReason.INVALID_USERINFO, "sub differs from the ID token's")
        return claims

    async def _verified_userinfo_jwt(self, text: str) -> dict[str, Any]:
        try:
            token = await self._verified_jws(text.strip())
        except JoseError as exc:
            raise LoginRejected(RejectionReason.INVALID_USERINFO, exc.error) from None
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock()),
            leeway=self._config.clock_leeway_s,
            iss={"essential": True, "value": self._config.issuer},
            aud={"essential": True, "value": self._config.client_id},
        )
        try:
            registry.validate(token.claims)
        except JoseError as exc:
            raise LoginRejected(RejectionReason.INVALID_USERINFO, exc.error) from None
        return dict(token.claims)


class _Borrowed(httpx.AsyncBaseTransport):
    """Lends the client's transport to a short-lived Authlib client, which closes what it was given."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        pass  # the pool belongs to FranceConnectClient and is closed by its aclose()


__all__ = ["FranceConnectClient", "FranceConnectConfig", "IdentityProviderError"]
