"""Rate-limit policy: fixed windows per client address and action (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.captcha.domain import (
    Limit,
    RateAction,
    RateLimitPolicy,
    client_bucket,
    decide,
    rate_window,
)

NOW = datetime(2026, 3, 2, 9, 31, 20, tzinfo=UTC)
POLICY = RateLimitPolicy(
    limits={
        RateAction.ISSUE: Limit(3, timedelta(minutes=10)),
        RateAction.RENEW: Limit(5, timedelta(minutes=10)),
        RateAction.ANSWER: Limit(10, timedelta(minutes=1)),
    }
)


def test_counts_up_to_the_limit_are_allowed_then_refused() -> None:
    decisions = [decide(RateAction.ISSUE, n, NOW, POLICY) for n in range(1, 6)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
    assert decisions[0].retry_after_seconds == 0
    # 09:31:20 in a 10-minute window [09:30, 09:40): 8 min 40 s to wait
    assert decisions[3].retry_after_seconds == 520


def test_each_action_has_its_own_limit_and_counter() -> None:
    assert decide(RateAction.ANSWER, 10, NOW, POLICY).allowed
    assert not decide(RateAction.ANSWER, 11, NOW, POLICY).allowed
    keys = {rate_window(a, "203.0.113.7", NOW, POLICY).key for a in RateAction}
    assert len(keys) == 3


def test_fixed_window_bounds_and_ttl() -> None:
    w = rate_window(RateAction.ISSUE, "203.0.113.7", NOW, POLICY)
    assert w.window_start == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert w.window_end == datetime(2026, 3, 2, 9, 40, tzinfo=UTC)
    assert w.ttl_seconds == 521
    assert w.key.startswith("captcha:rl:issue:203.0.113.7:")
    same = rate_window(RateAction.ISSUE, "203.0.113.7", NOW + timedelta(minutes=8), POLICY)
    nxt = rate_window(RateAction.ISSUE, "203.0.113.7", NOW + timedelta(minutes=9), POLICY)
    assert same.key == w.key and nxt.key != w.key


def test_clients_are_counted_apart_and_ipv6_by_slash_64() -> None:
    a = rate_window(RateAction.ANSWER, "203.0.113.7", NOW, POLICY).key
    b = rate_window(RateAction.ANSWER, "203.0.113.8", NOW, POLICY).key
    assert a != b
    assert client_bucket("2001:db8:1:2::1") == client_bucket("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_bucket("2001:db8:1:3::1") != client_bucket("2001:db8:1:2::1")
    assert client_bucket("::ffff:203.0.113.7") == "203.0.113.7"
    assert client_bucket(" 203.0.113.7 ") == "203.0.113.7"
    assert client_bucket("not-an-ip").startswith("raw:")  # counted, not let through


def test_defaults_leave_room_for_a_holder() -> None:
    policy = RateLimitPolicy()
    # one holder: 1 issue, 5 renewals, 3 answers per challenge (6 challenges) — well inside the limits
    assert decide(RateAction.ISSUE, 1, NOW, policy).allowed
    assert decide(RateAction.RENEW, 5, NOW, policy).allowed
    assert decide(RateAction.ANSWER, 18, NOW, policy).allowed


def test_naive_time_and_bad_limits_are_rejected() -> None:
    with pytest.raises(ValueError):
        rate_window(RateAction.ISSUE, "203.0.113.7", datetime(2026, 1, 1), POLICY)
    with pytest.raises(ValueError):
        Limit(0, timedelta(minutes=1))
    with pytest.raises(ValueError):
        Limit(1, timedelta(0))
