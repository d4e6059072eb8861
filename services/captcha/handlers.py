"""The captcha service's use cases: load → domain decision → store → publish."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from contracts import topics
from contracts.captcha import CaptchaChallengeIssued, CaptchaFailed, CaptchaPassed
from contracts.registration import SecurityCheckRequested
from eventing.publishing import EventPublisher, derived_event_id
from eventing.replay import replay, skipping_invalid
from services.captcha.adapters.redis_store import RedisChallengeStore
from services.captcha.domain.challenge import (
    Answer,
    Challenge,
    ChallengeSettings,
    Outcome,
    Renewal,
    RenewalVerdict,
    check_answer,
    issue_challenge,
    renew,
)

API = "/api/v1/captcha"


def _now() -> datetime:
    return datetime.now(UTC)


def picture_url(challenge: Challenge, choice_id: str) -> str:
    return f"{API}/challenges/{challenge.challenge_id}/pictures/{choice_id}"


def audio_url(challenge: Challenge) -> str:
    return f"{API}/challenges/{challenge.challenge_id}/audio"


def text_picture_url(challenge: Challenge) -> str:
    return f"{API}/challenges/{challenge.challenge_id}/picture"


@dataclass
class CaptchaService:
    store: RedisChallengeStore
    publisher: EventPublisher
    settings: ChallengeSettings
    rng: random.Random
    clock: Callable[[], datetime] = _now

    async def on_account_requested(self, request_id: str, cause_event_id: str, expires_at: datetime) -> Challenge:
        await self.store.open_request(request_id, expires_at, self.clock())
        current_id = await self.store.current_id(request_id)
        current = await self.store.get(current_id) if current_id else None
        if current is None:  # not a redelivery: a new request gets its first challenge
            current = issue_challenge(request_id, self.rng, self.clock(), self.settings)
            await self.store.save(current, self.clock())
            await self.store.make_current(current)
        await self._announce(current, derived_event_id(cause_event_id, "challenge"))
        return current

    async def answer(self, challenge: Challenge, answer: Answer) -> Outcome:
        async with self.store.judging(challenge.challenge_id):
            fresh = await self.store.get(challenge.challenge_id) or challenge
            outcome = check_answer(fresh, answer, self.clock())
            if outcome.passed:
                # Announced before the pass is recorded: a crash in between lets the holder answer again
                # (same event id, absorbed downstream); the other order would lose the sign-up.
                await self.publisher.publish(
                    topics.CAPTCHA_PASSED,
                    CaptchaPassed(
                        request_id=fresh.request_id, challenge_id=fresh.challenge_id, passed_at=self.clock()
                    ),
                    key=fresh.request_id,
                    correlation_id=fresh.request_id,
                    event_id=derived_event_id(fresh.challenge_id, "passed"),
                )
            if outcome.changed:
                await self.store.save(outcome.challenge, self.clock())
        if outcome.passed:
            await self.store.close_request(fresh.request_id)
        return outcome

    async def renew(self, request_id: str) -> Renewal | None:
        current_id = await self.store.current_id(request_id)
        current = await self.store.get(current_id) if current_id else None
        if current is None:
            return await self._reissue(request_id)
        async with self.store.judging(current.challenge_id):
            result = renew(current, request_id, self.rng, self.clock(), self.settings)
            if result.verdict is not RenewalVerdict.REFUSED:
                await self.store.save(result.previous, self.clock())
            if result.challenge is not None:
                await self.store.save(result.challenge, self.clock())
                await self.store.make_current(result.challenge)
        if result.challenge is not None:
            await self._announce(result.challenge, derived_event_id(result.challenge.challenge_id, "issued"))
        elif result.verdict is RenewalVerdict.FAILED:
            await self.store.close_request(request_id)
            await self.publisher.publish(
                topics.CAPTCHA_FAILED,
                CaptchaFailed(request_id=request_id, reason="renewals_exhausted", failed_at=self.clock()),
                key=request_id,
                correlation_id=request_id,
                event_id=derived_event_id(current.challenge_id, "failed"),
            )
        return result

    async def _reissue(self, request_id: str) -> Renewal | None:
        """A request still awaiting its check whose challenges were lost (a wiped Redis, or expired):
        it gets a fresh first challenge, so the holder can finish instead of starting over."""
        if not await self.store.is_open(request_id):
            return None
        fresh = issue_challenge(request_id, self.rng, self.clock(), self.settings)
        await self.store.save(fresh, self.clock())
        await self.store.make_current(fresh)
        await self._announce(fresh, derived_event_id(fresh.challenge_id, "issued"))
        return Renewal(RenewalVerdict.RENEWED, previous=fresh, challenge=fresh)

    async def rebuild(self, bootstrap: str) -> int:
        """Refill a wiped Redis with the requests still awaiting their check (their challenges are gone:
        the holder's next renewal issues a fresh one)."""
        now, waiting, closed = self.clock(), {}, set()

        async def on_requested(record: ConsumerRecord[bytes, bytes]) -> None:
            event = SecurityCheckRequested.model_validate_json(record.value or b"{}")
            waiting[event.request_id] = event.expires_at

        async def on_closed(record: ConsumerRecord[bytes, bytes]) -> None:
            closed.add(json.loads(record.value or b"{}").get("request_id", ""))

        await replay(bootstrap, topics.SECURITY_CHECK_REQUESTED, skipping_invalid(on_requested))
        for topic in (topics.CAPTCHA_PASSED, topics.CAPTCHA_FAILED):
            await replay(bootstrap, topic, skipping_invalid(on_closed))
        reopened = 0
        for request_id, expires_at in waiting.items():
            if request_id not in closed and expires_at > now:
                await self.store.open_request(request_id, expires_at, now)
                reopened += 1
        await self.store.mark_rebuilt()
        return reopened

    async def _announce(self, challenge: Challenge, event_id: str) -> None:
        public = challenge.public()
        await self.publisher.publish(
            topics.CHALLENGE_ISSUED,
            CaptchaChallengeIssued(
                request_id=challenge.request_id,
                challenge_id=challenge.challenge_id,
                kind=public.kind.value,
                prompt=public.prompt_word or "Saisissez les caractères de l'image",
                picture_urls=[picture_url(challenge, c) for c in public.choice_ids] or [text_picture_url(challenge)],
                audio_url=audio_url(challenge),
                expires_at=public.expires_at,
                attempts_left=public.attempts_left,
                renewals_left=public.renewals_left,
            ),
            key=challenge.request_id,
            correlation_id=challenge.request_id,
            event_id=event_id,
        )
