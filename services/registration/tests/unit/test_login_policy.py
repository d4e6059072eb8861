"""Login throttling: progressive delay and temporary lock, per NIR and per address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.registration.domain.login_policy import (
    ADDRESS_POLICY,
    INVALID_CREDENTIALS_MESSAGE,
    NIR_POLICY,
    Scope,
    ThrottlePolicy,
    Verdict,
    evaluate_key,
    evaluate_login,
)

NOW = datetime(2026, 5, 15, 10, 0, tzinfo=UTC)


def failures(count: int, last: datetime = NOW, spacing: timedelta = timedelta(seconds=1)) -> list[datetime]:
    """``count`` failures, the latest at ``last``."""
    return [last - spacing * i for i in range(count)]


def test_no_failures_is_allowed() -> None:
    decision = evaluate_login([], [], NOW)
    assert decision.allowed and decision.message == "" and decision.code == "allowed"


def test_first_failures_are_free() -> None:
    assert evaluate_login(failures(2), [], NOW).allowed


def test_progressive_delay_after_the_free_failures() -> None:
    assert NIR_POLICY.delay_after(2) == timedelta(0)
    assert NIR_POLICY.delay_after(3) == timedelta(seconds=1)
    assert NIR_POLICY.delay_after(4) == timedelta(seconds=2)
    assert NIR_POLICY.delay_after(6) == timedelta(seconds=8)
    assert NIR_POLICY.delay_after(9) == timedelta(seconds=30)  # capped
    assert NIR_POLICY.delay_after(10_000) == timedelta(seconds=30)


def test_delayed_attempt_gets_retry_after() -> None:
    decision = evaluate_login(failures(5), [], NOW + timedelta(seconds=1))
    assert decision.verdict is Verdict.DELAYED and decision.retry_after_seconds == 3
    assert decision.scope is Scope.NIR and decision.code == "too_many_attempts"
    assert "3 secondes" in decision.message
    assert evaluate_login(failures(5), [], NOW + timedelta(seconds=4)).allowed


def test_lock_after_repeated_failures_with_a_clear_message() -> None:
    decision = evaluate_login(failures(10), [], NOW + timedelta(minutes=1))
    assert decision.verdict is Verdict.LOCKED
    assert decision.locked_until == NOW + timedelta(minutes=15)
    assert decision.retry_after_seconds == 14 * 60
    assert decision.message.startswith("Votre compte est temporairement bloqué")
    assert "14 minutes" in decision.message and "Mot de passe oublié" in decision.message


def test_lock_lifts_then_one_more_failure_relocks() -> None:
    history = failures(10)
    after = NOW + timedelta(minutes=15)
    assert evaluate_login(history, [], after).allowed
    history.append(after)
    assert evaluate_login(history, [], after + timedelta(seconds=1)).verdict is Verdict.LOCKED


def test_old_failures_leave_the_window() -> None:
    old = failures(10, last=NOW - timedelta(hours=2))
    assert evaluate_login(old, [], NOW).allowed


def test_future_timestamps_are_ignored() -> None:
    assert evaluate_login(failures(10, last=NOW + timedelta(hours=1)), [], NOW).allowed


def test_address_limit_is_looser_and_has_its_own_message() -> None:
    assert evaluate_login([], failures(9), NOW + timedelta(minutes=1)).allowed
    delayed = evaluate_login([], failures(12), NOW)
    assert delayed.verdict is Verdict.DELAYED and delayed.scope is Scope.ADDRESS
    locked = evaluate_login([], failures(50), NOW + timedelta(minutes=1))
    assert locked.verdict is Verdict.LOCKED and locked.scope is Scope.ADDRESS
    assert "connexion internet" in locked.message


def test_the_stricter_key_wins() -> None:
    decision = evaluate_login(failures(10), failures(12), NOW + timedelta(seconds=1))
    assert decision.verdict is Verdict.LOCKED and decision.scope is Scope.NIR


def test_generic_message_for_wrong_nir_or_password() -> None:
    assert INVALID_CREDENTIALS_MESSAGE == "Numéro de sécurité sociale ou mot de passe incorrect."


def test_policy_validation() -> None:
    with pytest.raises(ValueError):
        ThrottlePolicy(free_failures=5, lock_after=5)
    with pytest.raises(ValueError):
        ThrottlePolicy(free_failures=1, lock_after=5, lock_duration=timedelta(hours=2), window=timedelta(hours=1))


def test_custom_policy() -> None:
    policy = ThrottlePolicy(
        free_failures=0, lock_after=2, lock_duration=timedelta(minutes=1), window=timedelta(minutes=5)
    )
    assert evaluate_key(failures(1), NOW, policy, Scope.NIR).verdict is Verdict.DELAYED
    assert evaluate_key(failures(2), NOW, policy, Scope.NIR).verdict is Verdict.LOCKED
    locked = evaluate_key(failures(2), NOW + timedelta(seconds=30), policy, Scope.NIR)
    assert "1 minute" in locked.message and "1 minutes" not in locked.message


@settings(deadline=None)  # no per-example deadline: first calls load data; CI may be slow
@given(st.lists(st.integers(0, 7200), max_size=80), st.integers(0, 7200))
def test_decisions_are_consistent(offsets: list[int], later: int) -> None:
    history = [NOW - timedelta(seconds=s) for s in offsets]
    now = NOW + timedelta(seconds=later)
    for policy, scope in ((NIR_POLICY, Scope.NIR), (ADDRESS_POLICY, Scope.ADDRESS)):
        decision = evaluate_key(history, now, policy, scope)
        recent = [f for f in history if now - policy.window < f <= now]
        if len(recent) < policy.free_failures:
            assert decision.allowed
        if decision.verdict is Verdict.LOCKED:
            assert len(recent) >= policy.lock_after
            assert decision.locked_until is not None and decision.locked_until > now
        if not decision.allowed:
            assert decision.retry_after_seconds > 0 and decision.message
