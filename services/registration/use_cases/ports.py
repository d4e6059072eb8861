"""What registration's use cases need from the outside world, as ``typing.Protocol``s.

The Redis + Kafka adapter (``adapters/store.py``) and the in-memory fake (``tests/unit/fakes.py``) both
implement :class:`RegistrationStore`; ``tests/unit/test_store_contract.py`` runs the same tests on both.
Events are built by an :class:`EventFactory` and handed to the store, which writes them in the same
transaction as the state change that causes them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from contracts.base import EventData
from contracts.topics import TopicSpec
from eventing.publishing import OutgoingEvent
from services.registration.domain.account import SignupRequest
from services.registration.domain.login_history import LoginRecord
from services.registration.domain.records import Account, PasswordReset, PendingDetails

Clock = Callable[[], datetime]


class LockBusy(Exception):
    """Someone else holds the lock of this request for longer than we may wait (answered with a 503)."""


class EventFactory(Protocol):
    def event(
        self, topic: TopicSpec, data: EventData, *, key: str, correlation_id: str, event_id: str | None = None
    ) -> OutgoingEvent: ...


class Requests(Protocol):
    async def request(self, request_id: str) -> tuple[SignupRequest, PendingDetails] | None: ...
    async def save_request(self, req: SignupRequest, details: PendingDetails, *events: OutgoingEvent) -> None: ...
    async def latest_request(self, holder_id: str) -> tuple[SignupRequest, PendingDetails] | None: ...
    async def request_for_link(self, token_sha256: str) -> str | None: ...
    async def is_gone(self, request_id: str) -> bool: ...
    async def forget_request(self, req: SignupRequest) -> None: ...
    def request_ids(self) -> AsyncIterator[str]: ...
    async def wait_for_change(self, request_id: str, seen: SignupRequest, timeout_s: float) -> None:
        """Return once the stored request differs from ``seen`` (at once if it already does), or after
        ``timeout_s``: woken by the write itself (a push, not a poll)."""
        ...

    async def set_challenge(self, request_id: str, public: dict[str, Any], ttl_s: int) -> None: ...
    async def challenge(self, request_id: str) -> dict[str, Any] | None: ...


class Accounts(Protocol):
    async def account(self, holder_id: str) -> Account | None: ...
    async def holder_for_subject(self, subject: str) -> str | None:
        """The holder whose account is linked to this FranceConnect subject (indexed with the account)."""
        ...

    async def holder_for_email_change(self, link_sha256: str) -> str | None:
        """The holder whose pending e-mail change was mailed this link (indexed with the account)."""
        ...

    async def save_account(self, account: Account, *events: OutgoingEvent) -> None: ...
    async def open_account(
        self, account: Account, request: SignupRequest, details: PendingDetails, *events: OutgoingEvent
    ) -> None: ...


class Resets(Protocol):
    async def save_reset(self, reset: PasswordReset, ttl_s: int, *events: OutgoingEvent) -> None: ...
    async def reset(self, reset_id: str) -> PasswordReset | None: ...
    async def reset_for_link(self, token_sha256: str) -> PasswordReset | None: ...
    async def reset_used(self, account: Account, reset: PasswordReset) -> None: ...


class Sessions(Protocol):
    async def open_session(self, sid: str, holder_id: str, ttl_s: int, provider_id_token: str = "") -> None:
        """``provider_id_token``: a FranceConnect login's ID token, kept to end the provider's session too."""
        ...

    async def session_holder(self, sid: str) -> str | None: ...
    async def session_provider_id_token(self, sid: str) -> str | None: ...
    async def keep_session_provider_id_token(self, sid: str, provider_id_token: str) -> None:
        """A later login at the provider from this session (a re-authentication, a linking): its ID token
        replaces the kept one, for the session's remaining life; nothing for a closed session."""
        ...

    async def close_session(self, sid: str) -> None: ...
    async def close_all_sessions(self, holder_id: str) -> None: ...
    async def close_other_sessions(self, holder_id: str, keep_sid: str) -> None:
        """Every session of the holder but ``keep_sid`` (the browser that made a change keeps its own)."""
        ...

    async def mark_reauthenticated(self, sid: str, at: float, ttl_s: int) -> None:
        """The session's holder proved it again at ``at`` (password typed, or a fresh provider login);
        remembered ``ttl_s`` at most."""
        ...

    async def reauthenticated_at(self, sid: str) -> float | None: ...


class LoginHistory(Protocol):
    """Short-lived like sessions (Redis only, not rebuilt after a wipe): the logins of an account and the
    "Ce n'était pas moi" links of its new-login alerts."""

    async def login_history(self, holder_id: str) -> list[LoginRecord]:
        """The account's logins, newest first."""
        ...

    async def record_login(
        self, holder_id: str, login: LoginRecord, keep: int, keep_s: int, *events: OutgoingEvent
    ) -> None:
        """Write ``events`` (the alert's mail), then add the login: ``keep`` at most, for ``keep_s``."""
        ...

    async def save_not_me_link(self, token_sha256: str, holder_id: str, sent_to: str, ttl_s: int) -> None:
        """``sent_to``: the address the link was mailed to (the one who follows it holds that mailbox)."""
        ...

    async def use_not_me_link(self, token_sha256: str) -> tuple[str, str] | None:
        """The holder a "Ce n'était pas moi" link names and the address it was sent to, once: a used or
        unknown link names nobody."""
        ...


class Throttles(Protocol):
    async def count(self, key: str, ttl_s: int) -> int:
        """A fixed-window counter: the number of hits in this window, this one included."""
        ...

    async def claim(self, key: str, ttl_s: int) -> bool:
        """A cooldown: true the first time within ``ttl_s``."""
        ...

    async def failures(self, since: float, *keys: str) -> list[list[float]]:
        """The failures still counted (after ``since``) under each key, read together."""
        ...

    async def add_failure(self, key: str, at: float, keep_s: int) -> None: ...
    async def clear_failures(self, key: str) -> None: ...
    def locked(self, name: str, ttl_ms: int = 10_000, wait_s: float = 0.0) -> AbstractAsyncContextManager[None]:
        """Exclusive for ``ttl_ms`` at most; waits up to ``wait_s`` for a holder, then raises LockBusy."""
        ...


class RegistrationStore(Requests, Accounts, Resets, Sessions, LoginHistory, Throttles, Protocol):
    """Everything registration keeps (one adapter implements it all)."""

    async def standing(self, holder_id: str) -> tuple[Account | None, tuple[SignupRequest, PendingDetails] | None]:
        """The holder's account and latest sign-up request, read together (what a sign-up decides on)."""
        ...

    async def counted_standing(
        self, counter: tuple[str, int], holder_id: str
    ) -> tuple[int, Account | None, tuple[SignupRequest, PendingDetails] | None]:
        """One more hit on a counter (``counter``: its key and window, as :meth:`Throttles.count` takes them)
        and :meth:`standing`, in one round trip: a sign-up's throttle and what it decides on."""
        ...


class AccessTokens(Protocol):
    ttl_s: int

    def issue(self, holder_id: str, session_id: str) -> str: ...
    def verify(self, token: str) -> dict[str, object]: ...
