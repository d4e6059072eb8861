"""A request's security check, from the first challenge to its pass or failure: load → domain decision →
store → announce."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from contracts.captcha import CaptchaChallengeIssued, CaptchaFailed, CaptchaPassed
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
from services.captcha.use_cases.ports import CaptchaEvents, ChallengeStore, Clock, EventIdentity
from services.captcha.use_cases.queries import view_of

TEXT_PROMPT = "Saisissez les caractères de l'image"  # the announced prompt of a text challenge


@dataclass
class SecurityChecks:
    store: ChallengeStore
    events: CaptchaEvents
    settings: ChallengeSettings
    rng: random.Random
    clock: Clock

    async def on_check_requested(self, request_id: str, cause_event_id: str, expires_at: datetime) -> Challenge:
        """A new request gets its first challenge; a redelivered one is announced again, unchanged."""
        current_id = await self.store.open_request(request_id, expires_at, self.clock())
        current = await self.store.get(current_id) if current_id else None
        if current is None:
            current = issue_challenge(request_id, self.rng, self.clock(), self.settings)
            await self.store.save(current, self.clock(), current=True)
        await self._announce(current, EventIdentity(cause_event_id, "challenge"))
        return current

    async def answer(self, challenge_id: str, answer: Answer) -> Outcome | None:
        """Judge an answer; ``None`` when the challenge is unknown. Raises ``ChallengeBusy``."""
        challenge = await self.store.get(challenge_id)
        if challenge is None:
            return None
        async with self.store.judging(challenge_id):
            fresh = await self.store.get(challenge_id) or challenge
            outcome = check_answer(fresh, answer, self.clock())
            if outcome.passed:
                # Announced before the pass is recorded: a crash in between lets the holder answer again
                # (same event id, absorbed downstream); the other order would lose the sign-up.
                passed = CaptchaPassed(
                    request_id=fresh.request_id, challenge_id=fresh.challenge_id, passed_at=self.clock()
                )
                await self.events.passed(passed, EventIdentity(fresh.challenge_id, "passed"))
            if outcome.changed:
                await self.store.save(outcome.challenge, self.clock())
        if outcome.passed:
            await self.store.close_request(fresh.request_id)
        return outcome

    async def renew(self, request_id: str) -> Renewal | None:
        """A fresh challenge within the renewal cap; past it the request fails. ``None``: unknown request.
        Raises ``ChallengeBusy``."""
        current_id = await self.store.current_id(request_id)
        current = await self.store.get(current_id) if current_id else None
        if current is None:
            return await self._reissue(request_id)
        async with self.store.judging(current.challenge_id):
            result = renew(current, request_id, self.rng, self.clock(), self.settings)
            if result.verdict is not RenewalVerdict.REFUSED:
                await self.store.save(result.previous, self.clock())
            if result.challenge is not None:
                await self.store.save(result.challenge, self.clock(), current=True)
        if result.challenge is not None:
            await self._announce(result.challenge, EventIdentity(result.challenge.challenge_id, "issued"))
        elif result.verdict is RenewalVerdict.FAILED:
            await self.store.close_request(request_id)
            failed = CaptchaFailed(request_id=request_id, reason="renewals_exhausted", failed_at=self.clock())
            await self.events.failed(failed, EventIdentity(current.challenge_id, "failed"))
        return result

    async def _reissue(self, request_id: str) -> Renewal | None:
        """A request still awaiting its check whose challenges were lost (a wiped Redis, or expired):
        it gets a fresh first challenge, so the holder can finish instead of starting over."""
        if not await self.store.is_open(request_id):
            return None
        fresh = issue_challenge(request_id, self.rng, self.clock(), self.settings)
        await self.store.save(fresh, self.clock(), current=True)
        await self._announce(fresh, EventIdentity(fresh.challenge_id, "issued"))
        return Renewal(RenewalVerdict.RENEWED, previous=fresh, challenge=fresh)

    async def _announce(self, challenge: Challenge, identity: EventIdentity) -> None:
        view = view_of(challenge)
        issued = CaptchaChallengeIssued(
            request_id=view.request_id,
            challenge_id=view.challenge_id,
            kind=view.kind.value,
            prompt=view.prompt_word or TEXT_PROMPT,
            picture_urls=[p.url for p in view.pictures],
            audio_url=view.audio_url,
            expires_at=view.expires_at,
            attempts_left=view.attempts_left,
            renewals_left=view.renewals_left,
        )
        await self.events.challenge_issued(issued, identity)
