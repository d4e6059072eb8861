"""Login throttling: progressive delay, then a temporary lock, per NIR and per client address.

Pure: the caller keeps the failure timestamps (e.g. a Redis sorted set per key, trimmed to the
window) and asks :func:`evaluate_login` before checking the password.

- After ``free_failures`` failures inside ``window``, each further attempt must wait
  ``base_delay × 2^(n − free_failures)`` (capped at ``max_delay``) after the latest failure,
  like Zitadel's tarpit; the answer carries ``retry_after_seconds``.
- At ``lock_after`` failures inside ``window``, the key is locked for ``lock_duration`` from the
  latest failure; once it lifts, one more failure relocks (the old failures are still in the window).
- The NIR key counts failures whether or not an account exists for that NIR, so the lock message
  reveals nothing about existence (OWASP). Wrong NIR and wrong password share one generic message.
- A lock does not block "mot de passe oublié": the holder always has a way in (OWASP: lockout must
  not become a denial of service). A successful login clears the NIR's failures.
- The address limit is looser (many holders share a public or carrier-grade NAT address).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

INVALID_CREDENTIALS_CODE = "invalid_credentials"
INVALID_CREDENTIALS_MESSAGE = "Numéro de sécurité sociale ou mot de passe incorrect."


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_failures: int
    lock_after: int
    base_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(seconds=30)
    lock_duration: timedelta = timedelta(minutes=15)
    window: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if not 0 <= self.free_failures < self.lock_after:
            raise ValueError("need 0 <= free_failures < lock_after")
        if self.lock_duration > self.window:
            # Otherwise a lock could outlive the evidence for it.
            raise ValueError("the lock cannot last longer than the counting window")

    def delay_after(self, failures: int) -> timedelta:
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, 30)  # bounded: the cap is reached long before
        return min(self.base_delay * (1 << doublings), self.max_delay)


NIR_POLICY = ThrottlePolicy(free_failures=3, lock_after=10)
ADDRESS_POLICY = ThrottlePolicy(free_failures=10, lock_after=50)


class Verdict(StrEnum):
    ALLOWED = "allowed"
    DELAYED = "delayed"  # too early: retry after ``retry_after_seconds`` (HTTP 429 + Retry-After)
    LOCKED = "locked"  # temporarily locked until ``locked_until``


class Scope(StrEnum):
    NIR = "nir"
    ADDRESS = "address"


@dataclass(frozen=True, slots=True)
class LoginDecision:
    verdict: Verdict
    retry_after_seconds: int = 0
    locked_until: datetime | None = None
    scope: Scope | None = None  # which key caused the refusal

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOWED

    @property
    def code(self) -> str:
        return {Verdict.ALLOWED: "allowed", Verdict.DELAYED: "too_many_attempts", Verdict.LOCKED: "locked"}[
            self.verdict
        ]

    @property
    def message(self) -> str:
        """The French text shown to the holder (empty when allowed)."""
        if self.verdict is Verdict.ALLOWED:
            return ""
        if self.verdict is Verdict.DELAYED:
            return (
                "Trop de tentatives de connexion rapprochées. Patientez "
                f"{_duration_fr(self.retry_after_seconds)} avant de réessayer."
            )
        minutes = max(1, math.ceil(self.retry_after_seconds / 60))
        wait = f"{minutes} minute{'s' if minutes > 1 else ''}"
        if self.scope is Scope.ADDRESS:
            return (
                "Trop de tentatives de connexion ont échoué depuis votre connexion internet. Les "
                f"connexions sont suspendues pendant {wait}."
            )
        return (
            "Votre compte est temporairement bloqué après plusieurs tentatives de connexion "
            f"infructueuses. Réessayez dans {wait}, ou réinitialisez votre mot de passe avec "
            "« Mot de passe oublié ? »."
        )


def _duration_fr(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


def evaluate_key(failures: Iterable[datetime], now: datetime, policy: ThrottlePolicy, scope: Scope) -> LoginDecision:
    """Decision for one key (one NIR, or one address) from its failure timestamps."""
    recent = sorted(f for f in failures if now - policy.window < f <= now)
    if not recent:
        return LoginDecision(Verdict.ALLOWED)
    latest, count = recent[-1], len(recent)
    if count >= policy.lock_after:
        locked_until = latest + policy.lock_duration
        if now < locked_until:
            return LoginDecision(Verdict.LOCKED, math.ceil((locked_until - now).total_seconds()), locked_until, scope)
    wait = (latest + policy.delay_after(count) - now).total_seconds()
    if wait > 0:
        return LoginDecision(Verdict.DELAYED, math.ceil(wait), None, scope)
    return LoginDecision(Verdict.ALLOWED)


_SEVERITY = {Verdict.ALLOWED: 0, Verdict.DELAYED: 1, Verdict.LOCKED: 2}


def evaluate_login(
    nir_failures: Iterable[datetime],
    address_failures: Iterable[datetime],
    now: datetime,
    *,
    nir_policy: ThrottlePolicy = NIR_POLICY,
    address_policy: ThrottlePolicy = ADDRESS_POLICY,
) -> LoginDecision:
    """May this login attempt proceed to the password check? The stricter of the two keys wins."""
    decisions = [
        evaluate_key(nir_failures, now, nir_policy, Scope.NIR),
        evaluate_key(address_failures, now, address_policy, Scope.ADDRESS),
    ]
    return max(decisions, key=lambda d: (_SEVERITY[d.verdict], d.retry_after_seconds))
