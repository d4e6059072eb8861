"""What the routes are given: the service's use cases, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from services.captcha.use_cases.checks import SecurityChecks
from services.captcha.use_cases.media import ChallengeMedia
from services.captcha.use_cases.ports import ChallengeReader, Clock, RateCounter


@dataclass(frozen=True)
class CaptchaUseCases:
    checks: SecurityChecks
    media: ChallengeMedia
    reader: ChallengeReader  # for the public views
    rate_counter: RateCounter
    clock: Clock


async def _use_cases(request: Request) -> CaptchaUseCases:
    use_cases: CaptchaUseCases = request.app.state.captcha
    return use_cases


UseCases = Annotated[CaptchaUseCases, Depends(_use_cases)]
Id = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
