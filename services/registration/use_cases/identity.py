"""The port through which registration verifies a person with FranceConnect (docs/identity.md).

A login is two HTTP requests of the holder's browser:

1. :meth:`IdentityProvider.begin_login` gives the provider's authorization URL and a ``state``. The web
   layer redirects there and keeps ``state`` in an HttpOnly, SameSite=Lax cookie: the callback must come
   back to the browser that started the login (no login CSRF).
2. The provider redirects the browser to the redirect URI with ``code`` and ``state`` (or ``error``).
   :meth:`IdentityProvider.complete_login` takes that query and the cookie's value and returns the
   :class:`VerifiedIdentity`, or raises one of the typed errors below, each with a French sentence the
   page can show as it is.

Every ``state`` (with its ``nonce``) is used at most once: :class:`PendingLogins` forgets it when it is
taken, whether the login then succeeds or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from services.registration.domain.identity import VerifiedIdentity


class IdentityProviderError(Exception):
    """Base of the port's errors: ``message`` is French, for the holder; ``str()`` is English, for logs."""

    message = "La connexion avec FranceConnect n'a pas abouti. Réessayez ou utilisez votre mot de passe."


class ProviderUnavailable(IdentityProviderError):
    """The provider did not answer, or answered with a server error: nothing the holder did wrong."""

    message = (
        "FranceConnect ne répond pas pour le moment. Réessayez dans quelques minutes, ou connectez-vous avec "
        "votre numéro de sécurité sociale et votre mot de passe."
    )


class LoginCancelled(IdentityProviderError):
    """The holder left the provider's page without logging in (``error=access_denied``)."""

    message = "Vous avez annulé la connexion avec FranceConnect. Vous pouvez recommencer quand vous le souhaitez."


class RejectionReason(StrEnum):
    """Why a provider answer was refused (for logs and metrics; the holder sees one sentence)."""

    UNKNOWN_STATE = "unknown_state"  # never issued, already used (replay) or expired
    STATE_NOT_FROM_THIS_BROWSER = "state_not_from_this_browser"
    PROVIDER_ERROR = "provider_error"  # an OAuth error other than a cancellation
    TOKEN_REFUSED = "token_refused"  # noqa: S105 - a reason code, not a password  # the token endpoint refused the code (reused or expired code)
    INVALID_ID_TOKEN = "invalid_id_token"  # noqa: S105 - a reason code, not a password  # signature, iss, aud, exp, iat or shape
    NONCE_MISMATCH = "nonce_mismatch"
    INSUFFICIENT_ACR = "insufficient_acr"
    INVALID_USERINFO = "invalid_userinfo"  # signature, iss/aud, sub differing from the ID token's, shape
    INVALID_CLAIMS = "invalid_claims"  # a verified answer that does not describe a usable identity
    STALE_AUTHENTICATION = "stale_authentication"  # a re-authentication without a login after its start


class LoginRejected(IdentityProviderError):
    """The answer cannot be trusted or used; ``reason`` says why (never shown to the holder)."""

    message = (
        "La connexion avec FranceConnect n'a pas pu être vérifiée. Recommencez depuis la page de connexion "
        "de Mon Compte Formation."
    )

    def __init__(self, reason: RejectionReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason


class ReauthenticationNotProven(LoginRejected):
    """A re-authentication whose ID token does not prove that the person logged in at the provider after it
    started (``auth_time`` missing or older): a provider session reused silently, e.g. ``prompt=login``
    removed from the redirect. Nothing sensitive may follow it."""

    message = (
        "FranceConnect n'a pas confirmé que vous venez de vous identifier à nouveau. Rien n'a été modifié : "
        "recommencez et saisissez vos identifiants sur la page de FranceConnect."
    )

    def __init__(self, detail: str) -> None:
        super().__init__(RejectionReason.STALE_AUTHENTICATION, detail)


@dataclass(frozen=True, slots=True)
class LoginStart:
    authorization_url: str  # where to redirect the browser
    state: str  # to keep in the browser's cookie until the callback


@dataclass(frozen=True, slots=True)
class CompletedLogin:
    identity: VerifiedIdentity
    id_token: str  # kept in the session only to end it at the provider (``id_token_hint``)
    # True only for a login the service started as a re-authentication (server-side, never the browser's
    # word) whose ID token proves a login at the provider after that start (``auth_time``).
    reauthenticated: bool = False


class IdentityProvider(Protocol):
    async def begin_login(self, *, reauthenticate: bool = False) -> LoginStart:
        """A new login: fresh ``state`` and ``nonce`` remembered for ``login_lifetime_s``. ``reauthenticate``:
        the provider must ask the person to authenticate again (``prompt=login``, ``max_age=0``), even with
        a session of its own (before a sensitive change); the pending login remembers it, and its callback
        is refused unless the ID token's ``auth_time`` is after the start."""
        ...

    async def complete_login(self, query: Mapping[str, str], browser_state: str | None) -> CompletedLogin:
        """Verify the provider's callback. Raises :class:`IdentityProviderError` subclasses."""
        ...

    async def logout_url(self, id_token: str, state: str) -> str:
        """Where to send the browser to end the provider's session too (``end_session_endpoint``)."""
        ...


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """What the service remembers between the two requests of a login."""

    nonce: str
    created_at: float  # epoch seconds
    reauthentication: bool = False  # started to confirm a sensitive change: a fresh login is required


class PendingLogins(Protocol):
    """Started logins by ``state``; single use: :meth:`take` returns a login at most once."""

    async def save(self, state: str, login: PendingLogin, ttl_s: int) -> None: ...

    async def take(self, state: str) -> PendingLogin | None: ...


class HeldIdentities(Protocol):
    """Identities verified by the provider and waiting for the holder's next step (the sign-up form, or
    a page offering sign-up after a login with an unknown subject). Short-lived; ``hold`` returns an
    unguessable id that the web layer keeps in an HttpOnly cookie."""

    async def hold(self, identity: VerifiedIdentity, ttl_s: int, provider_id_token: str = "") -> str:
        """``provider_id_token``: the provider's ID token of that login, for the session the form opens
        (its logout ends the provider's session too)."""
        ...

    async def held(self, hold_id: str) -> VerifiedIdentity | None: ...

    async def provider_id_token(self, hold_id: str) -> str:
        """The ID token held with the identity ("" if none, or the hold is gone)."""
        ...

    async def release(self, hold_id: str) -> None: ...
