"""Events produced by the captcha service (security checks)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import EventData


class CaptchaChallengeIssued(EventData):
    """The public part of a challenge: never its answer."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.captcha.challenge_issued"

    request_id: str
    challenge_id: str
    kind: Literal["image", "text"] = "image"
    prompt: str = Field(description="the word to find, e.g. 'Pantalon' (image) or an instruction (text)")
    picture_urls: list[str] = Field(default_factory=list, description="one per choice, opaque ids")
    audio_url: str
    expires_at: datetime
    attempts_left: int = 3
    renewals_left: int = 5


class CaptchaPassed(EventData):
    EVENT_TYPE: ClassVar[str] = "fr.mcf.captcha.passed"

    request_id: str
    challenge_id: str
    passed_at: datetime


class CaptchaFailed(EventData):
    EVENT_TYPE: ClassVar[str] = "fr.mcf.captcha.failed"

    request_id: str
    reason: Literal["renewals_exhausted", "request_expired"]
    failed_at: datetime
