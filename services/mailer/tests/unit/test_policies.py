from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.mailer.domain import (
    FailureClass,
    MailKind,
    MailOutcome,
    MailStatus,
    PermanentMailError,
    RecipientCap,
    RetryPolicy,
    TransientMailError,
    classify_smtp_reply,
    error_for_reply,
    format_datetime_fr,
    format_duration_fr,
    normalize_recipient,
    outcome_for_failure,
    recipient_cap_key,
)

NOW = datetime(2025, 3, 1, 13, 5, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")

# --- anti-bombing -------------------------------------------------------------------------------------


def test_cap_counts_only_the_last_hour() -> None:
    cap = RecipientCap(max_mails=3, window=timedelta(hours=1))
    old = [NOW - timedelta(hours=1), NOW - timedelta(hours=2)]  # exactly one hour ago is out
    recent = [NOW - timedelta(minutes=m) for m in (1, 10)]
    assert cap.allows(old + recent, NOW)
    assert not cap.allows([*old, *recent, NOW - timedelta(minutes=59)], NOW)
    assert cap.allows([], NOW)


def test_cap_ignores_future_timestamps() -> None:
    cap = RecipientCap(max_mails=1)
    assert cap.allows([NOW + timedelta(seconds=5)], NOW)


def test_cap_with_counts() -> None:
    cap = RecipientCap(max_mails=5)
    assert [cap.allows_count(n) for n in range(7)] == [True] * 5 + [False] * 2


def test_cap_retry_after() -> None:
    cap = RecipientCap(max_mails=2, window=timedelta(hours=1))
    sends = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=20), NOW - timedelta(minutes=5)]
    assert not cap.allows(sends, NOW)
    # The 2nd most recent send (20 min ago) must leave the window: 40 min from now.
    assert cap.retry_after(sends, NOW) == timedelta(minutes=40)
    assert cap.allows(sends, NOW + cap.retry_after(sends, NOW))
    assert cap.retry_after(sends[:1], NOW) == timedelta(0)


@pytest.mark.parametrize("bad", [{"max_mails": 0}, {"window": timedelta(0)}])
def test_cap_validates(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RecipientCap(**bad)  # type: ignore[arg-type]


def test_recipient_normalisation_defeats_case_and_plus_tags() -> None:
    assert normalize_recipient(" Chloe.Dupont+cpf@Exemple.FR ") == "chloe.dupont@exemple.fr"
    assert normalize_recipient("+x@exemple.fr") == "+x@exemple.fr"  # nothing before '+': keep as is
    key = recipient_cap_key("chloe.dupont@exemple.fr")
    assert key == recipient_cap_key("CHLOE.DUPONT+1@exemple.fr")
    assert key != recipient_cap_key("chloe.dupond@exemple.fr")
    assert "chloe" not in key and len(key) == 64
    with pytest.raises(ValueError):
        normalize_recipient("not-an-address")


def test_welcome_and_warnings_are_not_capped_but_third_party_triggered_mails_are() -> None:
    # A warning dropped because someone filled the cap would hide a takeover.
    for kind in (MailKind.WELCOME, MailKind.NEW_LOGIN, MailKind.EMAIL_CHANGED, MailKind.EMAIL_RESTORED):
        assert not kind.counts_against_recipient_cap
    for kind in (MailKind.CONFIRMATION, MailKind.PASSWORD_RESET, MailKind.DUPLICATE_SIGNUP, MailKind.EMAIL_CHANGE):
        assert kind.counts_against_recipient_cap


# --- classification -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (None, FailureClass.TRANSIENT),
        (421, FailureClass.TRANSIENT),
        (450, FailureClass.TRANSIENT),
        (451, FailureClass.TRANSIENT),
        (452, FailureClass.TRANSIENT),
        (500, FailureClass.PERMANENT),
        (550, FailureClass.PERMANENT),
        (552, FailureClass.PERMANENT),
        (554, FailureClass.PERMANENT),
        (-1, FailureClass.TRANSIENT),  # aiosmtplib's "no valid reply"
        (250, FailureClass.TRANSIENT),
    ],
)
def test_classify_smtp_reply(code: int | None, expected: FailureClass) -> None:
    assert classify_smtp_reply(code) is expected


def test_error_for_reply() -> None:
    transient = error_for_reply(451, "4.3.0 Try again later")
    assert isinstance(transient, TransientMailError)
    assert (transient.code, transient.reason) == (451, "4.3.0 Try again later")
    permanent = error_for_reply(550, "5.1.1 User unknown")
    assert isinstance(permanent, PermanentMailError)
    assert (permanent.code, permanent.reason) == (550, "5.1.1 User unknown")
    assert str(permanent) == "550 5.1.1 User unknown"


# --- back-off -----------------------------------------------------------------------------------------


def test_backoff_ceiling_doubles_then_caps_at_five_minutes() -> None:
    policy = RetryPolicy()
    ceilings = [policy.ceiling(n).total_seconds() for n in range(1, 12)]
    assert ceilings == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert policy.ceiling(10_000) == timedelta(minutes=5)  # no overflow


def test_backoff_jitter_stays_within_half_to_full_ceiling() -> None:
    policy = RetryPolicy()
    assert policy.next_delay(4, uniform=lambda: 0.0) == timedelta(seconds=4)
    assert policy.next_delay(4, uniform=lambda: 0.999999) < timedelta(seconds=8)
    assert policy.next_delay(4, uniform=lambda: 0.5) == timedelta(seconds=6)
    for attempt in range(1, 30):
        delay = policy.next_delay(attempt)
        assert policy.ceiling(attempt) / 2 <= delay <= policy.ceiling(attempt) <= timedelta(minutes=5)


def test_backoff_validates() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=timedelta(0))
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=timedelta(minutes=10), max_delay=timedelta(minutes=5))
    with pytest.raises(ValueError):
        RetryPolicy().ceiling(0)


# --- outcome ------------------------------------------------------------------------------------------


def test_permanent_failure_is_failed_immediately() -> None:
    outcome = outcome_for_failure(
        PermanentMailError(550, "5.1.1 User unknown"),
        attempt=1,
        first_attempt_at=NOW,
        now=NOW,
        policy=RetryPolicy(),
    )
    assert outcome == MailOutcome(MailStatus.FAILED, reason="5.1.1 User unknown", smtp_code=550)


def test_transient_failure_is_retried_with_backoff() -> None:
    outcome = outcome_for_failure(
        TransientMailError("4.3.0 Try again later", 451),
        attempt=3,
        first_attempt_at=NOW,
        now=NOW + timedelta(seconds=3),
        policy=RetryPolicy(),
        uniform=lambda: 0.0,
    )
    assert outcome.status is MailStatus.RETRY
    assert outcome.retry_in == timedelta(seconds=2)
    assert outcome.smtp_code == 451


def test_transient_failures_give_up_after_the_configured_time() -> None:
    policy = RetryPolicy(give_up_after=timedelta(hours=1))
    error = TransientMailError("ConnectionRefusedError")
    early = outcome_for_failure(error, attempt=20, first_attempt_at=NOW, now=NOW + timedelta(minutes=30), policy=policy)
    late = outcome_for_failure(error, attempt=21, first_attempt_at=NOW, now=NOW + timedelta(minutes=59), policy=policy)
    assert early.status is MailStatus.RETRY
    assert late.status is MailStatus.FAILED
    assert late.reason is not None and "ConnectionRefusedError" in late.reason


def test_no_give_up_retries_forever() -> None:
    policy = RetryPolicy(give_up_after=None)
    outcome = outcome_for_failure(
        TransientMailError("down"),
        attempt=10_000,
        first_attempt_at=NOW,
        now=NOW + timedelta(days=30),
        policy=policy,
    )
    assert outcome.status is MailStatus.RETRY
    assert outcome.retry_in is not None and outcome.retry_in <= timedelta(minutes=5)


def test_outcome_constructors() -> None:
    assert MailOutcome.sent().status is MailStatus.SENT
    assert MailOutcome.capped().status is MailStatus.CAPPED


# --- French formatting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2025, 3, 1, 13, 5, tzinfo=UTC), "1er mars 2025 à 14 h 05"),
        (datetime(2025, 7, 14, 22, 30, tzinfo=UTC), "15 juillet 2025 à 0 h 30"),  # summer time, next day
        (datetime(2025, 8, 2, 8, 0, tzinfo=UTC), "2 août 2025 à 10 h 00"),
        (datetime(2025, 12, 31, 23, 59, tzinfo=UTC), "1er janvier 2026 à 0 h 59"),
    ],
)
def test_format_datetime_fr(moment: datetime, expected: str) -> None:
    assert format_datetime_fr(moment, PARIS) == expected


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (timedelta(hours=24), "24 heures"),
        (timedelta(hours=1), "1 heure"),
        (timedelta(minutes=30), "30 minutes"),
        (timedelta(minutes=90), "1 heure et 30 minutes"),
        (timedelta(hours=48), "48 heures"),
        (timedelta(days=7), "7 jours"),
        (timedelta(days=3, hours=2, minutes=1), "3 jours, 2 heures et 1 minute"),
        # A link stamped a few milliseconds after registration issued it is still a "24 heures" link.
        (timedelta(hours=23, minutes=59, seconds=59, milliseconds=990), "24 heures"),
        (timedelta(seconds=6), "moins d'une minute"),  # short test settings: never a failed mail
    ],
)
def test_format_duration_fr(duration: timedelta, expected: str) -> None:
    assert format_duration_fr(duration) == expected
