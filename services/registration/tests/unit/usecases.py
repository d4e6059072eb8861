"""The registration use cases wired to in-memory fakes, as ``app/main.py``'s ``compose`` wires them to
Redis and Kafka (the same function, so the wiring itself is under test)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from contracts.links import link_token
from services.registration.app.main import compose
from services.registration.domain.account import LifecyclePolicy
from services.registration.domain.login_history import LoginClient
from services.registration.domain.signup import SignupForm
from services.registration.settings import Settings
from services.registration.tests.unit.fakes import (
    Clock,
    FakeTokens,
    FastHasher,
    MemoryEvents,
    MemoryHeldIdentities,
    MemoryStore,
)
from services.registration.use_cases import Registration

HOLDER_KEY = bytes(range(32))
LINK_KEY = bytes(range(32, 64))
PASSWORD = "Tr0mpette-Bleue"
BODY = "2850575116001"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
CLIENT = LoginClient(FIREFOX_LINUX, "203.0.113.7")


def nir_key(body: str) -> str:
    return f"{97 - int(body) % 97:02d}"


FORM = SignupForm(
    nir=BODY,
    nir_key=nir_key(BODY),
    first_name="Chloé",
    birth_name="Dupont",
    phone_mobile="06 12 34 56 78",
    email="chloe.dupont@cpa.fr",
    email_confirmation="chloe.dupont@cpa.fr",
    password=PASSWORD,
    password_confirmation=PASSWORD,
    cgu_accepted=True,
)


def form(**changes: Any) -> SignupForm:
    return replace(FORM, **changes)


@dataclass
class World:
    reg: Registration
    store: MemoryStore
    clock: Clock

    def written(self, topic_suffix: str) -> list[dict[str, Any]]:
        """The payloads written so far on topics whose name contains ``topic_suffix``."""
        return [json.loads(e.value) for e in self.store.written if topic_suffix in e.topic]

    def mails(self) -> list[dict[str, Any]]:
        return self.written("mail-requested")

    def token_of(self, mail: dict[str, Any]) -> str:
        """The link token the mailer would write in this mail (both derive it the same way)."""
        return link_token(LINK_KEY, str(mail["mail_id"]))


def world(policy: LifecyclePolicy | None = None, **settings: Any) -> World:
    store, clock = MemoryStore(), Clock()
    config = Settings(link_token_key=LINK_KEY.hex(), allow_test_email_domains=True, **settings)
    reg = compose(
        config,
        store,
        MemoryEvents(),
        HOLDER_KEY,
        FakeTokens(),
        policy or LifecyclePolicy(),
        hasher=FastHasher(),
        clock=clock,
        held=MemoryHeldIdentities(),
    )
    return World(reg, store, clock)
