"""Pure delivery policies: per-recipient cap (anti-bombing), SMTP failure classification, back-off."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.mailer.domain.errors import MailDeliveryError, PermanentMailError, TransientMailError

# --- Anti-bombing -------------------------------------------------------------------------------------


def normalize_recipient(address: str) -> str:
    """The mailbox an address lands in, as far as we can tell without provider-specific rules.

    Case is ignored and a ``+tag`` sub-address is dropped: ``Jo+1@x.fr`` and ``jo+2@X.fr`` reach the same
    inbox, so they must share one cap or the cap is trivially bypassed.
    """
    local, sep, domain = address.strip().rpartition("@")
    if not sep or not local or not domain:
        raise ValueError("not an e-mail address")
    local = local.split("+", 1)[0] or local
    return f"{local}@{domain}".lower()


def recipient_cap_key(address: str) -> str:
    """Key for the per-recipient counter: a hash, so the rate-limit store (Redis) holds no address."""
    return hashlib.sha256(normalize_recipient(address).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RecipientCap:
    """At most ``max_mails`` mails to one recipient per sliding ``window`` (default: 5 per hour)."""

    max_mails: int = 5
    window: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.max_mails < 1:
            raise ValueError("max_mails must be at least 1")
        if self.window <= timedelta(0):
            raise ValueError("window must be positive")

    def allows_count(self, sent_in_window: int) -> bool:
        """For a counter-based store: may one more mail go out, ``sent_in_window`` having gone already?"""
        return sent_in_window < self.max_mails

    def allows(self, previous_sends: Iterable[datetime], now: datetime) -> bool:
        """For a timestamp-based store: only sends within ``(now - window, now]`` count."""
        start = now - self.window
        return self.allows_count(sum(1 for sent_at in previous_sends if start < sent_at <= now))

    def retry_after(self, previous_sends: Iterable[datetime], now: datetime) -> timedelta:
        """How long until one more mail would be allowed (zero if it is allowed now)."""
        start = now - self.window
        recent = sorted(sent_at for sent_at in previous_sends if start < sent_at <= now)
        if len(recent) < self.max_mails:
            return timedelta(0)
        # The slot frees up when the oldest send that keeps us at the cap leaves the window.
        return recent[len(recent) - self.max_mails] + self.window - now


# --- Failure classification ---------------------------------------------------------------------------


class FailureClass(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"


def classify_smtp_reply(code: int | None) -> FailureClass:
    """RFC 5321 §4.2.1: 4yz is a transient negative reply, 5yz a permanent one.

    No code (connection refused, reset, timeout) is transient: the server may come back. Any other code
    (a malformed or unexpected reply) is treated as transient too: losing a mail is worse than retrying,
    and :class:`RetryPolicy` bounds the retries.
    """
    if code is not None and 500 <= code <= 599:
        return FailureClass.PERMANENT
    return FailureClass.TRANSIENT


def error_for_reply(code: int | None, reason: str) -> MailDeliveryError:
    """The typed error to raise for a failed SMTP exchange."""
    if classify_smtp_reply(code) is FailureClass.PERMANENT:
        return PermanentMailError(code, reason)
    return TransientMailError(reason, code)


# --- Retry with back-off ------------------------------------------------------------------------------

UniformSource = Callable[[], float]
"""Returns a float in [0, 1); injected for deterministic tests."""


def _default_uniform() -> float:
    # Jitter only spreads retries out; it needs no cryptographic quality.
    return random.random()  # noqa: S311


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with "equal jitter": attempt n waits in [d/2, d], d = min(cap, base·2^(n-1)).

    The jitter keeps many mails that failed together (SMTP server down) from retrying in lock-step; the
    lower bound d/2 keeps the schedule growing. ``give_up_after`` bounds how long a transiently failing
    mail is retried (``None``: forever); it should exceed any outage we want to survive.
    """

    base_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=5)
    give_up_after: timedelta | None = timedelta(hours=24)

    def __post_init__(self) -> None:
        if self.base_delay <= timedelta(0) or self.max_delay < self.base_delay:
            raise ValueError("need 0 < base_delay <= max_delay")

    def ceiling(self, attempt: int) -> timedelta:
        """Un-jittered delay after failed attempt number ``attempt`` (1-based)."""
        if attempt < 1:
            raise ValueError("attempt is 1-based")
        delay = self.base_delay
        # Double step by step: returns as soon as the cap is hit, so a huge attempt number cannot overflow.
        for _ in range(attempt - 1):
            delay *= 2
            if delay >= self.max_delay:
                return self.max_delay
        return delay

    def next_delay(self, attempt: int, uniform: UniformSource = _default_uniform) -> timedelta:
        """How long to wait after failed attempt number ``attempt`` before the next one."""
        ceiling = self.ceiling(attempt)
        return ceiling / 2 + (ceiling / 2) * uniform()


# --- Outcome ------------------------------------------------------------------------------------------


class MailStatus(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # transient failure: try again after ``retry_in``
    FAILED = "failed"  # permanent failure (or retries exhausted): emit MailFailed, park on the DLQ
    CAPPED = "capped"  # recipient cap reached: not sent, not retried


@dataclass(frozen=True)
class MailOutcome:
    status: MailStatus
    reason: str | None = None
    smtp_code: int | None = None
    retry_in: timedelta | None = None

    @classmethod
    def sent(cls) -> MailOutcome:
        return cls(MailStatus.SENT)

    @classmethod
    def capped(cls) -> MailOutcome:
        return cls(MailStatus.CAPPED, reason="recipient cap reached")

    @classmethod
    def retry(cls, reason: str, delay: timedelta, smtp_code: int | None = None) -> MailOutcome:
        return cls(MailStatus.RETRY, reason=reason, smtp_code=smtp_code, retry_in=delay)

    @classmethod
    def failed(cls, reason: str, smtp_code: int | None = None) -> MailOutcome:
        return cls(MailStatus.FAILED, reason=reason, smtp_code=smtp_code)


def outcome_for_failure(
    error: MailDeliveryError,
    *,
    attempt: int,
    first_attempt_at: datetime,
    now: datetime,
    policy: RetryPolicy,
    uniform: UniformSource = _default_uniform,
) -> MailOutcome:
    """Decide what to do after failed attempt number ``attempt`` (1-based) of one mail."""
    if isinstance(error, PermanentMailError):
        return MailOutcome.failed(error.reason, error.code)
    code = error.code if isinstance(error, TransientMailError) else None
    delay = policy.next_delay(attempt, uniform)
    if policy.give_up_after is not None and now + delay - first_attempt_at > policy.give_up_after:
        return MailOutcome.failed(f"gave up after {attempt} attempts: {error.reason}", code)
    return MailOutcome.retry(error.reason, delay, code)
