"""A challenge's pictures and spoken version, rendered once per challenge and kept until it expires."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from services.captcha.domain.challenge import Challenge, ChallengeKind
from services.captcha.use_cases.ports import ChallengeReader, Clock, MediaCache, MediaRenderer

PNG = "image/png"
WAV = "audio/wav"
KEEP_AFTER_EXPIRY_S = 60


class MediaRefused(StrEnum):
    NOT_FOUND = "not_found"  # no such challenge, picture, or no characters to show
    EXPIRED = "expired"  # the challenge is past its expiry: renew it


@dataclass(frozen=True, slots=True)
class Media:
    data: bytes
    media_type: str


@dataclass
class ChallengeMedia:
    store: ChallengeReader
    cache: MediaCache
    renderer: MediaRenderer
    clock: Clock

    async def picture(self, challenge_id: str, choice_id: str) -> Media | MediaRefused:
        challenge = await self.store.get(challenge_id)
        choice = challenge.choice(choice_id) if challenge else None
        if challenge is None or choice is None:
            return MediaRefused.NOT_FOUND
        emoji, seed = choice.pictogram.emoji, f"{challenge_id}/{choice_id}"
        return await self._serve(
            challenge, f"pic:{challenge_id}:{choice_id}", lambda: self.renderer.pictogram(emoji, seed), PNG
        )

    async def characters(self, challenge_id: str) -> Media | MediaRefused:
        """The picture of a text challenge's characters."""
        challenge = await self.store.get(challenge_id)
        if challenge is None or challenge.kind is not ChallengeKind.TEXT or challenge.expected.characters is None:
            return MediaRefused.NOT_FOUND
        text = challenge.expected.characters
        return await self._serve(
            challenge, f"txt:{challenge_id}", lambda: self.renderer.characters(text, challenge_id), PNG
        )

    async def speech(self, challenge_id: str) -> Media | MediaRefused:
        challenge = await self.store.get(challenge_id)
        if challenge is None:
            return MediaRefused.NOT_FOUND
        spoken = challenge.spoken
        return await self._serve(
            challenge, f"audio:{challenge_id}", lambda: self.renderer.speech(spoken, challenge_id), WAV
        )

    async def _serve(
        self, challenge: Challenge, key: str, render: Callable[[], Awaitable[bytes]], media_type: str
    ) -> Media | MediaRefused:
        now = self.clock()
        if challenge.is_expired(now):
            return MediaRefused.EXPIRED
        # Rendered once per challenge and cached until it expires: reloading shows the same picture.
        data = await self.cache.cached(key)
        if data is None:
            data = await render()
            await self.cache.keep(key, data, int((challenge.expires_at - now).total_seconds()) + KEEP_AFTER_EXPIRY_S)
        return Media(data, media_type)
