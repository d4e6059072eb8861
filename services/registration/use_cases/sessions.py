"""Login, sessions and logout. A login never tells whether a NIR has an account; every successful one is
recorded (``login_alerts.py``: the history, and an alert from a new device). A logged-in holder may
authenticate again (password typed, or a fresh FranceConnect login) before a sensitive change: the
session remembers it for a few minutes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from services.registration.domain.email_change import RECENT_AUTH
from services.registration.domain.errors import DomainError
from services.registration.domain.login_history import LoginClient
from services.registration.domain.login_policy import evaluate_login
from services.registration.domain.nir import parse_login_nir
from services.registration.domain.password import normalise_password
from services.registration.domain.records import Account
from services.registration.use_cases.common import Hashing, HolderIds, utc_now
from services.registration.use_cases.login_alerts import LoginAlerts
from services.registration.use_cases.ports import AccessTokens, Accounts, Clock, Sessions, Throttles


@dataclass(frozen=True)
class LoginRefused:
    code: str  # "invalid_credentials", "wrong_password" (authenticating again), "too_many_attempts", "locked"
    message: str
    retry_after_s: int = 0


@dataclass(frozen=True)
class LoginAccepted:
    holder_id: str
    session_id: str
    access_token: str


INVALID_CREDENTIALS = LoginRefused("invalid_credentials", "Numéro de sécurité sociale ou mot de passe incorrect.")
WRONG_PASSWORD = LoginRefused("wrong_password", "Mot de passe incorrect.")


class SessionStore(Accounts, Sessions, Throttles, Protocol):
    """What logging in needs (the one store adapter provides it)."""


@dataclass
class LogIn:
    store: SessionStore
    hashing: Hashing
    holder_ids: HolderIds
    tokens: AccessTokens
    alerts: LoginAlerts
    session_ttl_s: int
    clock: Clock = utc_now
    # How long a password typed again (or a fresh provider login) allows a sensitive change: domain rule.
    reauth_window_s: int = int(RECENT_AUTH.total_seconds())

    def __post_init__(self) -> None:
        # Verifying against this when the NIR is unknown keeps the answer's timing the same.
        self._dummy_hash = self.hashing.hasher.hash(secrets.token_urlsafe(16))

    async def log_in(
        self, raw_nir: str, password: str, client: str, user_agent: str = ""
    ) -> LoginAccepted | LoginRefused:
        """``client``: the client's address (throttles count per address; the history keeps its network)."""
        now = self.clock()
        try:
            holder_id: str | None = self.holder_ids.of(parse_login_nir(raw_nir))
        except (DomainError, ValueError):
            holder_id = None
        # A string that cannot be a NIR has no account to protect: it counts against the client's address
        # only. (One shared "invalid NIR" counter would let anyone lock out every holder who mistypes.)
        refused, counted = await self._throttled(holder_id, client, now)
        if refused:
            return refused
        account = await self.store.account(holder_id) if holder_id else None
        matches = await self._password_matches(account, password, holder_id, client, now, counted)  # same timing
        if account is None or not matches:
            return INVALID_CREDENTIALS
        return await self.open_session(account.holder_id, "password", LoginClient(user_agent, client))

    async def _throttled(self, holder_id: str | None, client: str, now: datetime) -> tuple[LoginRefused | None, bool]:
        """The refusal if this login comes too soon after failures, and whether the NIR has failures
        counted (a success clears them: when there are none, that is a Redis call saved)."""
        since = (now - timedelta(hours=1)).timestamp()
        keys = (f"addr:{client}", f"nir:{holder_id}") if holder_id else (f"addr:{client}",)
        address_failures, *nir_failures = await self.store.failures(since, *keys)
        decision = evaluate_login(
            [datetime.fromtimestamp(t, UTC) for t in (nir_failures[0] if nir_failures else [])],
            [datetime.fromtimestamp(t, UTC) for t in address_failures],
            now,
        )
        counted = bool(nir_failures and nir_failures[0])
        if decision.allowed:
            return None, counted
        return LoginRefused(decision.code, decision.message, decision.retry_after_seconds), counted

    async def _password_matches(
        self, account: Account | None, password: str, holder_id: str | None, client: str, now: datetime, counted: bool
    ) -> bool:
        """argon2id against the account's hash (or the dummy one: same timing); a failure is counted."""
        password = normalise_password(password or "")
        # An account opened with FranceConnect may have no password: it is verified against the dummy
        # hash like an unknown NIR, and refused the same way.
        has_password = account is not None and account.has_password
        ok = await self.hashing.verify(
            account.password_hash if account and has_password else self._dummy_hash, password
        )
        if account is None or not has_password or not ok:
            for key in (f"nir:{holder_id}" if holder_id else None, f"addr:{client}"):
                if key:
                    await self.store.add_failure(key, now.timestamp(), keep_s=3600)
            return False
        if counted:
            await self.store.clear_failures(f"nir:{account.holder_id}")
        if self.hashing.needs_rehash(account.password_hash):
            account.password_hash = await self.hashing.hash(password)
            await self.store.save_account(account)
        return True

    async def open_session(
        self, holder_id: str, method: str, client: LoginClient, provider_id_token: str = ""
    ) -> LoginAccepted:
        """A session for a holder whose identity was proven (``method``: "password" or "franceconnect";
        ``provider_id_token``: the provider's ID token, to end its session at logout too)."""
        await self.alerts.record(holder_id, method, client)
        session_id = secrets.token_urlsafe(24)
        await self.store.open_session(session_id, holder_id, self.session_ttl_s, provider_id_token)
        return LoginAccepted(holder_id, session_id, self.tokens.issue(holder_id, session_id))

    async def keep_provider_id_token(self, session_id: str, provider_id_token: str) -> None:
        """The holder logged in at the provider again from this session (a re-authentication, a linking):
        its logout must end that provider session too, or the next person at a shared computer would be
        let in by FranceConnect without a password."""
        await self.store.keep_session_provider_id_token(session_id, provider_id_token)

    # --- authenticating again, before a sensitive change (the e-mail address) -----------------------
    async def reauthenticate(self, holder_id: str, session_id: str, password: str, client: str) -> LoginRefused | None:
        """The logged-in holder types their password again: throttled and counted like a login."""
        now = self.clock()
        refused, counted = await self._throttled(holder_id, client, now)
        if refused:
            return refused
        account = await self.store.account(holder_id)
        if not await self._password_matches(account, password, holder_id, client, now, counted):
            return WRONG_PASSWORD
        await self.reauthenticated(session_id)
        return None

    async def reauthenticated(self, session_id: str) -> None:
        """This session's holder just proved it again (their password, or a fresh provider login)."""
        await self.store.mark_reauthenticated(session_id, self.clock().timestamp(), self.reauth_window_s)

    async def recently_authenticated(self, session_id: str) -> bool:
        at = await self.store.reauthenticated_at(session_id) if session_id else None
        return at is not None and 0 <= self.clock().timestamp() - at < self.reauth_window_s

    async def holder_of(self, session_id: str) -> str | None:
        return await self.store.session_holder(session_id) if session_id else None

    async def refresh(self, session_id: str) -> str | None:
        holder_id = await self.holder_of(session_id)
        return self.tokens.issue(holder_id, session_id) if holder_id else None

    async def log_out(self, session_id: str) -> str | None:
        """Close the session; returns the provider's ID token when it was a FranceConnect login (the
        provider's session is then ended too)."""
        id_token = await self.store.session_provider_id_token(session_id)
        await self.store.close_session(session_id)
        return id_token

    def session_of_token(self, access_token: str) -> str:
        """The session an access token was issued for ("" if the token is not ours or has expired)."""
        try:
            return str(self.tokens.verify(access_token).get("sid", ""))
        except Exception:
            return ""
