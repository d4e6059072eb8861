"""What the captcha's use cases need from the outside world, as ``typing.Protocol``s.

The adapters (Redis, Kafka, the renderers) implement them in production; ``tests/unit/fakes.py`` holds an
in-memory fake of each, and one contract test runs the store's against both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from contracts.captcha import CaptchaChallengeIssued, CaptchaFailed, CaptchaPassed
from services.captcha.domain.challenge import Challenge


class ChallengeBusy(Exception):
    """Another answer for the same challenge is being judged right now (and has been for too long)."""


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class ChallengeReader(Protocol):
    """Reading challenges (the public views and the media need nothing more)."""

    async def get(self, challenge_id: str) -> Challenge | None: ...

    async def current_id(self, request_id: str) -> str | None:
        """The id of the request's current challenge (the latest issued), if still known."""
        ...


class ChallengeStore(ChallengeReader, Protocol):
    """Challenges with their secret answers, and the requests still awaiting their check.

    Kept with a TTL: a challenge a while past its expiry (late answers get "expired", not "unknown"), an
    open request until the request itself expires.
    """

    async def save(self, challenge: Challenge, now: datetime, *, current: bool = False) -> None:
        """Keep ``challenge``; with ``current``, it also becomes its request's current challenge (one write)."""
        ...

    async def open_request(self, request_id: str, expires_at: datetime, now: datetime) -> str | None:
        """Mark the request as awaiting its check; returns its current challenge's id, if any (one trip)."""
        ...

    async def close_request(self, request_id: str) -> None: ...

    async def is_open(self, request_id: str) -> bool: ...

    async def needs_rebuild(self) -> bool:
        """Whether the store was wiped (or never filled) since the last :meth:`mark_rebuilt`."""
        ...

    async def mark_rebuilt(self) -> None: ...

    def judging(self, challenge_id: str) -> AbstractAsyncContextManager[None]:
        """One answer or renewal at a time per challenge; raises :class:`ChallengeBusy` if the turn is
        not given within a short wait."""
        ...


class MediaCache(Protocol):
    """Rendered pictures and sounds, kept until their challenge expires: a reload shows the same one."""

    async def cached(self, key: str) -> bytes | None: ...

    async def keep(self, key: str, data: bytes, ttl_s: int) -> None: ...


class RateCounter(Protocol):
    async def count(self, key: str, ttl_s: int) -> int:
        """Increment the counter ``key`` (created with a ``ttl_s`` expiry) and return its new value."""
        ...


class MediaRenderer(Protocol):
    """Pictures and sounds of a challenge; the same seed gives the same bytes."""

    async def pictogram(self, emoji: str, seed: str) -> bytes: ...

    async def characters(self, text: str, seed: str) -> bytes: ...

    async def speech(self, spoken: str, seed: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class EventIdentity:
    """What an event's id is derived from: the fact that caused it and what the event is. A redelivered
    cause yields the same id, so downstream de-duplication absorbs the repeat."""

    cause: str
    what: str


class CaptchaEvents(Protocol):
    """The three facts the captcha announces (keyed and correlated by request id)."""

    async def challenge_issued(self, event: CaptchaChallengeIssued, identity: EventIdentity) -> None: ...

    async def passed(self, event: CaptchaPassed, identity: EventIdentity) -> None: ...

    async def failed(self, event: CaptchaFailed, identity: EventIdentity) -> None: ...


@dataclass(frozen=True, slots=True)
class RequestOpened:
    """A sign-up request asked for a security check (from ``SecurityCheckRequested``)."""

    request_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class RequestClosed:
    """A request's check ended: passed or failed."""

    request_id: str


RequestFact = RequestOpened | RequestClosed


class RequestHistory(Protocol):
    """Every request fact still retained, in any order (what a wiped store is rebuilt from)."""

    def facts(self) -> AsyncIterator[RequestFact]: ...
