"""Shared fixtures for the mailer's unit tests (the real Redis of the queue's contract test is the root
conftest's ``redis_url``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.mailer.adapters.templates import JinjaTemplateRenderer
from services.mailer.domain import MailSettings

BASE_URL = "https://moncompteformation.test"
NOW = datetime(2025, 3, 1, 13, 5, tzinfo=UTC)  # 14 h 05 in Paris (UTC+1 in winter)


@pytest.fixture
def settings() -> MailSettings:
    return MailSettings(
        public_base_url=BASE_URL + "/",
        from_address="ne-pas-repondre@moncompteformation.test",
        from_display_name="Mon Compte Formation",
    )


@pytest.fixture(scope="session")
def renderer() -> JinjaTemplateRenderer:
    return JinjaTemplateRenderer()
