"""The sign-up request lifecycle: transitions, expiry, resend, activation, restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.links import token_hash as hash_token
from services.registration.domain.account import (
    AlreadyActive,
    CaptchaPending,
    InvalidTransition,
    LifecycleError,
    LifecyclePolicy,
    LinkExpired,
    RequestExpired,
    RequestRejected,
    RequestStatus,
    ResendLimitReached,
    ResendTooSoon,
    SignupRequest,
    StartDecision,
    UnknownLink,
    decide_start,
)

T0 = datetime(2026, 5, 15, 10, 0, tzinfo=UTC)
TOKEN = hash_token("first-token")
TOKEN2 = hash_token("second-token")


def at(**delta: float) -> datetime:
    return T0 + timedelta(**delta)


def started() -> SignupRequest:
    return SignupRequest.start("req-1", "holder-1", T0)


def linked() -> SignupRequest:
    return started().pass_captcha(at(minutes=1)).issue_link(TOKEN, at(minutes=2))


def test_start_awaits_the_captcha_with_default_lifetimes() -> None:
    request = started()
    assert request.status is RequestStatus.AWAITING_CAPTCHA
    assert request.expires_at == T0 + timedelta(days=7)
    assert not request.link_sent


def test_happy_path() -> None:
    request = started().pass_captcha(at(minutes=1))
    assert request.status is RequestStatus.AWAITING_CONFIRMATION and request.captcha_passed_at == at(minutes=1)
    request = request.issue_link(TOKEN, at(minutes=2))
    assert request.link_sent and request.links[0].expires_at == at(minutes=2, hours=24)
    request = request.activate(TOKEN, at(hours=3))
    assert request.status is RequestStatus.ACTIVE and request.activated_at == at(hours=3)


def test_transitions_return_new_values() -> None:
    request = started()
    request.pass_captcha(at(minutes=1))
    assert request.status is RequestStatus.AWAITING_CAPTCHA


def test_redelivered_events_are_idempotent() -> None:
    request = linked()
    assert request.pass_captcha(at(minutes=5)) is request
    assert request.issue_link(TOKEN, at(minutes=5)) is request
    active = request.activate(TOKEN, at(minutes=6))
    assert active.pass_captcha(at(minutes=7)) is active
    rejected = started().reject("renewals_exhausted", at(minutes=1))
    assert rejected.reject("renewals_exhausted", at(minutes=2)) is rejected


def test_no_link_is_issued_before_the_check_is_passed() -> None:
    # Registration asks for the confirmation mail when it records the pass: never before it.
    with pytest.raises(CaptchaPending):
        started().issue_link(TOKEN, at(minutes=2))


def test_a_pending_request_is_not_an_account() -> None:
    assert decide_start(False, linked(), at(hours=1)) is StartDecision.PENDING_REQUEST
    assert decide_start(False, linked().activate(TOKEN, at(hours=1)), at(hours=2)) is StartDecision.EXISTING_ACCOUNT


def test_captcha_failure_rejects_and_the_nir_can_start_again() -> None:
    request = started().reject("renewals_exhausted", at(minutes=5))
    assert request.status is RequestStatus.REJECTED and request.rejection_reason == "renewals_exhausted"
    assert decide_start(False, request, at(minutes=6)) is StartDecision.NEW_REQUEST
    with pytest.raises(RequestRejected):
        request.pass_captcha(at(minutes=6))
    with pytest.raises(RequestRejected):
        request.request_resend(at(minutes=6))


def test_expiry_is_lazy_and_the_nir_can_start_again() -> None:
    request = linked()
    assert request.status_at(at(days=7) - timedelta(seconds=1)) is RequestStatus.AWAITING_CONFIRMATION
    assert request.status_at(at(days=7)) is RequestStatus.EXPIRED
    assert decide_start(False, request, at(days=7)) is StartDecision.NEW_REQUEST
    assert decide_start(False, None, T0) is StartDecision.NEW_REQUEST
    assert decide_start(True, None, T0) is StartDecision.EXISTING_ACCOUNT


def test_explicit_expire() -> None:
    with pytest.raises(InvalidTransition):
        started().expire(at(days=6))
    expired = started().expire(at(days=7))
    assert expired.status is RequestStatus.EXPIRED and expired.closed_at == at(days=7)
    assert expired.expire(at(days=8)) is expired
    with pytest.raises(RequestExpired):
        expired.pass_captcha(at(days=8))


def test_captcha_passed_after_expiry_is_refused() -> None:
    with pytest.raises(RequestExpired):
        started().pass_captcha(at(days=8))


def test_activation_with_an_expired_link() -> None:
    request = linked()
    with pytest.raises(LinkExpired) as exc:
        request.activate(TOKEN, at(minutes=2, hours=24))
    assert "expiré" in exc.value.message


def test_activation_after_the_request_expired() -> None:
    policy = LifecyclePolicy(link_lifetime=timedelta(days=30))
    request = started().pass_captcha(at(minutes=1)).issue_link(TOKEN, at(minutes=2), policy=policy)
    assert request.links[0].expires_at == request.expires_at  # a link never outlives its request
    with pytest.raises(RequestExpired):
        request.activate(TOKEN, at(days=7, minutes=1))


def test_activation_with_an_unknown_token() -> None:
    with pytest.raises(UnknownLink):
        linked().activate(TOKEN2, at(hours=1))


def test_second_click_says_already_active() -> None:
    active = linked().activate(TOKEN, at(hours=1))
    with pytest.raises(AlreadyActive) as exc:
        active.activate(TOKEN, at(hours=2))
    assert "déjà activé" in exc.value.message


def test_any_unexpired_link_of_the_request_activates() -> None:
    request = linked().request_resend(at(minutes=5)).issue_link(TOKEN2, at(minutes=6))
    assert request.activate(TOKEN, at(hours=1)).status is RequestStatus.ACTIVE
    assert request.activate(TOKEN2, at(hours=1)).status is RequestStatus.ACTIVE


def test_a_link_lives_the_policy_lifetime_from_its_issue() -> None:
    policy = LifecyclePolicy(link_lifetime=timedelta(hours=1))
    request = started().pass_captcha(at(minutes=1)).issue_link(TOKEN, at(minutes=2), policy)
    assert request.links[0].expires_at == at(minutes=2, hours=1)
    with pytest.raises(LinkExpired):
        request.activate(TOKEN, at(minutes=2, hours=1))


def test_resend_needs_the_captcha_first() -> None:
    with pytest.raises(CaptchaPending):
        started().request_resend(at(minutes=5))


def test_resend_cooldown() -> None:
    request = linked()  # link sent at +2 min
    with pytest.raises(ResendTooSoon) as exc:
        request.request_resend(at(minutes=2, seconds=30))
    assert exc.value.retry_after_seconds == 30
    assert "30 secondes" in exc.value.message
    request = request.request_resend(at(minutes=3))
    assert request.resends_used == 1
    with pytest.raises(ResendTooSoon):
        request.request_resend(at(minutes=3, seconds=59))  # the ask itself restarts the cooldown


def test_resend_cap() -> None:
    request = linked()
    for i in range(5):
        request = request.request_resend(at(minutes=10 + i))
    assert request.resends_left() == 0
    with pytest.raises(ResendLimitReached):
        request.request_resend(at(hours=1))


def test_resend_settings_are_parameters() -> None:
    policy = LifecyclePolicy(resend_cooldown=timedelta(seconds=10), max_resends=1)
    request = linked().request_resend(at(minutes=2, seconds=10), policy)
    with pytest.raises(ResendLimitReached):
        request.request_resend(at(hours=1), policy)


def test_resend_after_activation_says_already_active() -> None:
    with pytest.raises(AlreadyActive):
        linked().activate(TOKEN, at(hours=1)).request_resend(at(hours=2))


def test_purge() -> None:
    assert not linked().should_purge(at(days=1))
    assert linked().should_purge(at(days=7))
    assert started().reject("renewals_exhausted", at(minutes=1)).should_purge(at(minutes=2))
    active = linked().activate(TOKEN, at(hours=1))
    assert not active.should_purge(at(days=2))  # kept so a second click says "already active"
    assert active.should_purge(at(days=7))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        SignupRequest.start("r", "h", datetime(2026, 5, 15))


def test_invalid_policies() -> None:
    with pytest.raises(ValueError):
        LifecyclePolicy(link_lifetime=timedelta(0))
    with pytest.raises(ValueError):
        LifecyclePolicy(max_resends=-1)


def test_errors_carry_codes_and_french_messages() -> None:
    with pytest.raises(LifecycleError) as exc:
        linked().activate(TOKEN2, at(hours=1))
    assert exc.value.code == "link_unknown" and "lien" in exc.value.message


def test_record_round_trip() -> None:
    request = linked().request_resend(at(minutes=5)).issue_link(TOKEN2, at(minutes=6))
    for value in (
        started(),
        request,
        request.activate(TOKEN2, at(hours=1)),
        started().reject("request_expired", at(minutes=1)),
    ):
        assert SignupRequest.from_record(value.to_record()) == value


_steps = st.lists(
    st.tuples(
        st.sampled_from(["captcha", "link", "link2", "resend", "activate", "activate2", "reject", "expire"]),
        st.integers(0, 3 * 24 * 3600),
    ),
    max_size=12,
)


@settings(deadline=None)  # no per-example deadline: first calls load data; CI may be slow
@given(_steps)
def test_random_event_sequences_keep_the_invariants(steps: list[tuple[str, int]]) -> None:
    request = started()
    now = T0
    for action, seconds in steps:
        now = now + timedelta(seconds=seconds)
        try:
            match action:
                case "captcha":
                    request = request.pass_captcha(now)
                case "link":
                    request = request.issue_link(TOKEN, now)
                case "link2":
                    request = request.issue_link(TOKEN2, now)
                case "resend":
                    request = request.request_resend(now)
                case "activate":
                    request = request.activate(TOKEN, now)
                case "activate2":
                    request = request.activate(TOKEN2, now)
                case "reject":
                    request = request.reject("renewals_exhausted", now)
                case _:
                    request = request.expire(now)
        except LifecycleError:
            pass
        # Invariants: activation only through a sent link, before the deadline; terminal states stay.
        if request.status is RequestStatus.ACTIVE:
            assert request.link_sent and request.activated_at is not None
            assert request.activated_at < request.expires_at
        assert request.resends_used <= 5
        assert all(link.expires_at <= request.expires_at for link in request.links)
        assert SignupRequest.from_record(request.to_record()) == request
