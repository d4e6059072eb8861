"""Every setting of the captcha service, read from the environment in this one place (prefix ``MCF_``)."""

from __future__ import annotations

from datetime import timedelta

from eventing.settings import ServiceSettings
from services.captcha.domain.challenge import ChallengeKind, ChallengeSettings


class Settings(ServiceSettings):  # broker, Redis, HTTP: eventing.settings
    redis_url: str = "redis://127.0.0.1:6379/1"
    http_port: int = 8102

    captcha_kind: ChallengeKind = ChallengeKind.IMAGE
    captcha_choices: int = 5
    captcha_attempts: int = 3
    captcha_ttl_s: int = 600
    captcha_max_renewals: int = 5
    captcha_render_workers: int = 2  # threads for picture and audio rendering, off the event loop

    def challenge(self) -> ChallengeSettings:
        return ChallengeSettings(
            kind=self.captcha_kind,
            choice_count=self.captcha_choices,
            max_attempts=self.captcha_attempts,
            ttl=timedelta(seconds=self.captcha_ttl_s),
            max_renewals=self.captcha_max_renewals,
        )
