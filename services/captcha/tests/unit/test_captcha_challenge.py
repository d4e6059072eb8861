"""Challenge generation, answer checking, attempts, expiry, pass-once, renewal (pure domain)."""

from __future__ import annotations

import dataclasses
import random
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.captcha.domain import (
    TEXT_ALPHABET,
    VOCABULARY,
    Answer,
    Challenge,
    ChallengeKind,
    ChallengeSettings,
    ChallengeStatus,
    Reason,
    RenewalVerdict,
    Verdict,
    challenge_from_record,
    challenge_to_record,
    check_answer,
    check_vocabulary,
    issue_challenge,
    normalise_answer,
    normalise_word,
    pictogram,
    renew,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
REQ = "req-0001"
TEXT = ChallengeSettings(kind=ChallengeKind.TEXT)


def image(seed: int = 7, **kw: object) -> Challenge:
    return issue_challenge(REQ, random.Random(seed), NOW, ChallengeSettings(**kw))  # type: ignore[arg-type]


def right_choice(ch: Challenge) -> str:
    assert ch.expected.choice_id is not None
    return ch.expected.choice_id


def wrong_choice(ch: Challenge) -> str:
    return next(c.choice_id for c in ch.choices if c.choice_id != ch.expected.choice_id)


# --- vocabulary -------------------------------------------------------------------------------------


def test_vocabulary_is_large_and_consistent() -> None:
    assert len(VOCABULARY) >= 40
    check_vocabulary()  # unique keys, no typed answer shared by two objects
    assert pictogram("trousers").word == "Pantalon"
    assert len({p.emoji for p in VOCABULARY}) == len(VOCABULARY)


def test_vocabulary_words_are_article_free_and_capitalised() -> None:
    for p in VOCABULARY:
        assert p.word[0].isupper(), p.word
        assert normalise_word(p.word) == normalise_answer(p.word), p.word


def test_check_vocabulary_rejects_shared_answers() -> None:
    a, b = VOCABULARY[0], VOCABULARY[1]
    clash = dataclasses.replace(b, answers=(a.word,))
    with pytest.raises(ValueError, match="shared"):
        check_vocabulary((a, clash))


# --- generation ------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), count=st.sampled_from([5, 6]))
def test_generation_invariants(seed: int, count: int) -> None:
    ch = issue_challenge(REQ, random.Random(seed), NOW, ChallengeSettings(choice_count=count))
    keys = [c.key for c in ch.choices]
    ids = [c.choice_id for c in ch.choices]
    assert len(ch.choices) == count
    assert len(set(keys)) == count and len(set(ids)) == count  # distinct pictures and ids
    # exactly one choice matches the prompt word, and it is the expected one
    matching = [c for c in ch.choices if pictogram(c.key).word == ch.prompt_word]
    assert len(matching) == 1 and matching[0].choice_id == ch.expected.choice_id
    # no two look-alikes in one challenge
    assert len({pictogram(k).family for k in keys}) == count
    assert ch.attempts_left == 3 and ch.renewals == 0 and ch.status is ChallengeStatus.OPEN
    assert ch.expires_at == NOW + timedelta(minutes=10)


def test_answer_position_is_random() -> None:
    positions: Counter[int] = Counter()
    for seed in range(600):
        ch = image(seed)
        positions[[c.choice_id for c in ch.choices].index(right_choice(ch))] += 1
    assert set(positions) == set(range(5))
    assert min(positions.values()) > 60  # ~120 each if uniform


def test_prompt_words_vary() -> None:
    assert len({image(seed).prompt_word for seed in range(300)}) > 30


def test_same_seed_same_challenge_other_seed_other_ids() -> None:
    assert image(1) == image(1)
    a, b = image(1), image(2)
    assert a.challenge_id != b.challenge_id
    assert not {c.choice_id for c in a.choices} & {c.choice_id for c in b.choices}


def test_works_with_system_random() -> None:
    ch = issue_challenge(REQ, secrets.SystemRandom(), NOW)
    assert len(ch.challenge_id) >= 20 and ch.expected.choice_id in {c.choice_id for c in ch.choices}


def test_public_part_does_not_reveal_the_answer() -> None:
    ch = image(3)
    pub = ch.public()
    dumped = repr(dataclasses.asdict(pub))
    target = next(c for c in ch.choices if c.choice_id == ch.expected.choice_id)
    assert target.key not in dumped
    for c in ch.choices:
        assert c.key not in dumped and pictogram(c.key).emoji not in dumped
    assert pub.choice_ids == tuple(c.choice_id for c in ch.choices)
    assert pub.prompt_word == ch.prompt_word and pub.renewals_left == 5 and pub.attempts_left == 3
    assert not any(f.name in {"expected", "choices", "request_id"} for f in dataclasses.fields(pub))
    assert "expected" not in repr(ch)  # the secret stays out of logs


def test_choice_lookup() -> None:
    ch = image(4)
    first = ch.choices[0]
    assert ch.choice(first.choice_id) == first
    assert ch.choice("nope") is None
    assert ch.choice("épée-✂") is None  # non-ASCII input must not raise


def test_non_ascii_answers_do_not_raise() -> None:
    ch = image()
    assert check_answer(ch, Answer(REQ, choice_id="épée"), NOW).verdict is Verdict.WRONG
    assert check_answer(ch, Answer("requête", choice_id="x"), NOW).reason is Reason.REQUEST_MISMATCH
    assert check_answer(ch, Answer(REQ, typed="x" * 10_000), NOW).verdict is Verdict.WRONG


def test_settings_validation() -> None:
    for bad in ({"choice_count": 4}, {"choice_count": 7}, {"max_attempts": 0}, {"ttl": timedelta(0)}):
        with pytest.raises(ValueError):
            ChallengeSettings(**bad)
    with pytest.raises(ValueError):
        issue_challenge("", random.Random(1), NOW)


def test_expiry_is_a_parameter() -> None:
    ch = image(ttl=timedelta(minutes=3))
    assert ch.expires_at == NOW + timedelta(minutes=3)


def test_text_challenge() -> None:
    ch = issue_challenge(REQ, random.Random(5), NOW, TEXT)
    assert ch.kind is ChallengeKind.TEXT and ch.choices == () and ch.prompt_word is None
    assert ch.expected.characters is not None and len(ch.expected.characters) == 6
    assert set(ch.expected.characters.upper()) <= set(TEXT_ALPHABET)
    assert not set("0O1IL5S2Z8B") & set(TEXT_ALPHABET)
    assert ch.public().choice_ids == ()
    assert ch.expected.characters not in repr(dataclasses.asdict(ch.public())).lower()


# --- answers ---------------------------------------------------------------------------------------


def test_right_click_passes() -> None:
    ch = image()
    out = check_answer(ch, Answer(REQ, choice_id=right_choice(ch)), NOW)
    assert out.verdict is Verdict.PASSED and out.passed and out.changed
    assert out.challenge.status is ChallengeStatus.PASSED


@pytest.mark.parametrize("typed", ["pantalon", "PANTALON", " Pantalon ", "le pantalon", "un Pantalon!", "jean"])
def test_typed_word_is_case_and_accent_blind(typed: str) -> None:
    ch = _with_target("trousers")
    assert check_answer(ch, Answer(REQ, typed=typed), NOW).passed


@pytest.mark.parametrize(
    ("key", "typed"),
    [
        ("scarf", "echarpe"),
        ("scarf", "ÉCHARPE"),
        ("scarf", "l'écharpe"),
        ("alarm_clock", "reveil"),
        ("phone", "TELEPHONE"),
        ("toothbrush", "brosse a dents"),
        ("tshirt", "tee shirt"),
        ("key", "clef"),
    ],
)
def test_typed_variants(key: str, typed: str) -> None:
    assert check_answer(_with_target(key), Answer(REQ, typed=typed), NOW).passed


def test_typed_wrong_word_fails() -> None:
    out = check_answer(_with_target("trousers"), Answer(REQ, typed="chapeau"), NOW)
    assert out.verdict is Verdict.WRONG and out.reason is Reason.WRONG_ANSWER


def test_text_challenge_typed_case_blind() -> None:
    ch = issue_challenge(REQ, random.Random(5), NOW, TEXT)
    shown = ch.expected.characters
    assert shown is not None
    assert check_answer(ch, Answer(REQ, typed=shown.lower()), NOW).passed
    assert check_answer(ch, Answer(REQ, typed=" ".join(shown.upper())), NOW).passed
    assert check_answer(ch, Answer(REQ, typed=shown[:-1]), NOW).verdict is Verdict.WRONG
    # a click on a text challenge is simply wrong
    assert check_answer(ch, Answer(REQ, choice_id="x"), NOW).verdict is Verdict.WRONG


def test_three_wrong_answers_kill_the_challenge() -> None:
    ch = image()
    seen = []
    for _ in range(3):
        out = check_answer(ch, Answer(REQ, choice_id=wrong_choice(ch)), NOW)
        seen.append((out.verdict, out.challenge.attempts_left))
        ch = out.challenge
    assert seen == [(Verdict.WRONG, 2), (Verdict.WRONG, 1), (Verdict.DEAD, 0)]
    assert ch.status is ChallengeStatus.EXHAUSTED
    late = check_answer(ch, Answer(REQ, choice_id=right_choice(ch)), NOW)  # even right: too late
    assert late.verdict is Verdict.DEAD and late.reason is Reason.ATTEMPTS_EXHAUSTED and not late.changed


def test_unknown_choice_id_costs_an_attempt() -> None:
    out = check_answer(image(), Answer(REQ, choice_id="forged-id"), NOW)
    assert out.verdict is Verdict.WRONG and out.challenge.attempts_left == 2


def test_right_after_a_wrong_one_still_passes() -> None:
    ch = check_answer(image(), Answer(REQ, choice_id=wrong_choice(image())), NOW).challenge
    assert check_answer(ch, Answer(REQ, choice_id=right_choice(ch)), NOW).passed


def test_expired_challenge_is_dead() -> None:
    ch = image()
    at_expiry = check_answer(ch, Answer(REQ, choice_id=right_choice(ch)), ch.expires_at)
    assert at_expiry.verdict is Verdict.DEAD and at_expiry.reason is Reason.EXPIRED
    just_before = check_answer(ch, Answer(REQ, choice_id=right_choice(ch)), ch.expires_at - timedelta(seconds=1))
    assert just_before.passed


def test_pass_only_once_and_replay_fails() -> None:
    ch = image()
    answer = Answer(REQ, choice_id=right_choice(ch))
    passed = check_answer(ch, answer, NOW).challenge
    replay = check_answer(passed, answer, NOW)
    assert replay.verdict is Verdict.REFUSED and replay.reason is Reason.ALREADY_PASSED
    assert not replay.passed and not replay.changed


def test_answer_for_another_request_fails_without_using_an_attempt() -> None:
    ch = image()
    out = check_answer(ch, Answer("req-other", choice_id=right_choice(ch)), NOW)
    assert out.verdict is Verdict.REFUSED and out.reason is Reason.REQUEST_MISMATCH
    assert out.challenge == ch


@pytest.mark.parametrize("answer", [Answer(REQ), Answer(REQ, typed="   "), Answer(REQ, choice_id="")])
def test_empty_answer_is_refused_without_cost(answer: Answer) -> None:
    out = check_answer(image(), answer, NOW)
    assert out.verdict is Verdict.REFUSED and out.reason is Reason.EMPTY_ANSWER and out.challenge.attempts_left == 3


# --- renewal ---------------------------------------------------------------------------------------


def test_renewal_gives_a_fresh_challenge() -> None:
    ch = check_answer(image(), Answer(REQ, choice_id="bad"), NOW).challenge
    later = NOW + timedelta(minutes=12)
    r = renew(ch, REQ, random.Random(99), later)
    assert r.verdict is RenewalVerdict.RENEWED and r.challenge is not None
    assert r.previous.status is ChallengeStatus.SUPERSEDED
    new = r.challenge
    assert new.challenge_id != ch.challenge_id and new.renewals == 1 and new.attempts_left == 3
    assert new.expires_at == later + timedelta(minutes=10)
    assert new.prompt_word != ch.prompt_word  # a different word for a fresh start
    # the superseded challenge cannot be answered any more
    stale = check_answer(r.previous, Answer(REQ, choice_id=right_choice(ch)), later)
    assert stale.verdict is Verdict.REFUSED and stale.reason is Reason.SUPERSEDED


def test_renewal_revives_a_dead_challenge() -> None:
    ch = image()
    for _ in range(3):
        ch = check_answer(ch, Answer(REQ, choice_id=wrong_choice(ch)), NOW).challenge
    r = renew(ch, REQ, random.Random(1), NOW)
    assert (
        r.challenge is not None
        and check_answer(r.challenge, Answer(REQ, choice_id=right_choice(r.challenge)), NOW).passed
    )


def test_renewal_cap_fails_the_request() -> None:
    ch = image(max_renewals=5)
    rng = random.Random(3)
    for n in range(1, 6):
        r = renew(ch, REQ, rng, NOW)
        assert r.verdict is RenewalVerdict.RENEWED and r.challenge is not None
        ch = r.challenge
        assert ch.renewals == n and ch.public().renewals_left == 5 - n
    past_cap = renew(ch, REQ, rng, NOW)
    assert past_cap.verdict is RenewalVerdict.FAILED and past_cap.reason is Reason.RENEWAL_CAP_EXCEEDED
    assert past_cap.challenge is None and past_cap.previous.status is ChallengeStatus.FAILED
    # the failed request stays failed
    again = renew(past_cap.previous, REQ, rng, NOW)
    assert again.verdict is RenewalVerdict.REFUSED and again.reason is Reason.REQUEST_FAILED
    answer = check_answer(past_cap.previous, Answer(REQ, choice_id=right_choice(ch)), NOW)
    assert answer.verdict is Verdict.REFUSED and answer.reason is Reason.REQUEST_FAILED


def test_zero_renewals_allowed() -> None:
    r = renew(image(max_renewals=0), REQ, random.Random(1), NOW)
    assert r.verdict is RenewalVerdict.FAILED and r.reason is Reason.RENEWAL_CAP_EXCEEDED


@pytest.mark.parametrize(
    ("mutate", "request_id", "reason"),
    [
        ({}, "req-other", Reason.REQUEST_MISMATCH),
        ({"status": ChallengeStatus.PASSED}, REQ, Reason.ALREADY_PASSED),
        ({"status": ChallengeStatus.SUPERSEDED}, REQ, Reason.SUPERSEDED),
    ],
)
def test_renewal_refusals(mutate: dict[str, object], request_id: str, reason: Reason) -> None:
    ch = dataclasses.replace(image(), **mutate)  # type: ignore[arg-type]
    r = renew(ch, request_id, random.Random(1), NOW)
    assert r.verdict is RenewalVerdict.REFUSED and r.reason is reason and r.previous == ch


def test_renewal_keeps_the_cap_of_the_original_challenge() -> None:
    ch = image(max_renewals=1)
    r = renew(ch, REQ, random.Random(1), NOW, ChallengeSettings(max_renewals=50))
    assert r.challenge is not None and r.challenge.renewal_cap == 1
    assert renew(r.challenge, REQ, random.Random(2), NOW).verdict is RenewalVerdict.FAILED


def test_renewal_may_switch_kind() -> None:
    r = renew(image(), REQ, random.Random(1), NOW, TEXT)
    assert r.challenge is not None and r.challenge.kind is ChallengeKind.TEXT


# --- records ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("ch", [image(11), issue_challenge(REQ, random.Random(2), NOW, TEXT)])
def test_record_round_trip(ch: Challenge) -> None:
    import json

    record = json.loads(json.dumps(challenge_to_record(ch)))
    assert challenge_from_record(record) == ch
    with pytest.raises(ValueError):
        challenge_from_record({**record, "v": 99})


# --- helpers ---------------------------------------------------------------------------------------


def _with_target(key: str) -> Challenge:
    for seed in range(5000):
        ch = image(seed)
        if any(c.key == key and c.choice_id == ch.expected.choice_id for c in ch.choices):
            return ch
    raise AssertionError(f"no seed gives target {key}")
