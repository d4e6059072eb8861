"""Challenges: issuing, checking answers, renewing. (Over 300 lines on purpose: the three operations share
the challenge's invariants, kept in one module.)

Pure functions over immutable values: every operation takes the current :class:`Challenge` and the
time, and returns the new state to store plus a verdict. Randomness comes from an injected
``random.Random`` (``secrets.SystemRandom()`` in production, a seeded ``random.Random`` in tests), so the
same inputs give the same challenge in a test and an unpredictable one in production.

Rules (issue 3):
- an image challenge shows 5 or 6 distinct pictograms, one of them the prompt word, in random order,
  each under an opaque choice id; the answer never appears in :class:`PublicChallenge`;
- a text challenge shows distorted characters (rendered server-side) to type, case-blind;
- either can be answered by typing what the audio version says, case- and accent-blind;
- a right answer passes once; a wrong one costs one of 3 attempts; after the last attempt or the expiry
  the challenge is dead and only renewal helps;
- renewals per request are capped; past the cap the request fails with a reason code.
"""

from __future__ import annotations

import base64
import hmac
import random
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from services.captcha.domain.normalise import MAX_TYPED_LENGTH, normalise_characters, normalise_word
from services.captcha.domain.vocabulary import VOCABULARY, Pictogram, pictogram


class ChallengeKind(StrEnum):
    IMAGE = "image"  # "Cliquez sur l'image Pantalon"
    TEXT = "text"  # the older "type the characters shown" variant


class ChallengeStatus(StrEnum):
    OPEN = "open"  # answerable until expires_at
    PASSED = "passed"  # terminal: passed once, never again
    EXHAUSTED = "exhausted"  # no attempts left: renewal only
    SUPERSEDED = "superseded"  # renewed: the newer challenge is the only valid one
    FAILED = "failed"  # renewal cap exceeded: the request is rejected


class Verdict(StrEnum):
    """What an answer did."""

    PASSED = "passed"
    WRONG = "wrong"  # attempts remain
    DEAD = "dead"  # expired or out of attempts (possibly because of this answer): renew
    REFUSED = "refused"  # not counted: wrong request, already passed, superseded, failed, empty


class Reason(StrEnum):
    """Stable reason codes (the HTTP layer maps them to French messages and status codes)."""

    WRONG_ANSWER = "wrong_answer"
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    EXPIRED = "expired"
    ALREADY_PASSED = "already_passed"
    REQUEST_MISMATCH = "request_mismatch"
    SUPERSEDED = "superseded"
    REQUEST_FAILED = "request_failed"
    EMPTY_ANSWER = "empty_answer"
    RENEWAL_CAP_EXCEEDED = "renewal_cap_exceeded"


# Characters of the text variant: upper case only (answers are case-blind anyway), without the pairs a
# distorted rendering confuses: 0/O/Q, 1/I/L/J, 2/Z, 5/S, 8/B, U/V, G/6.
TEXT_ALPHABET = "ACDEFHKMNPRTWXY34679"

# How each character of the text variant is spoken (espeak-ng reads a lone "Y" as "i grec" correctly,
# but "A" alone may be read as the verb "a"; spelling them out avoids ambiguity).
_SPOKEN_CHARACTER = {
    "A": "a",
    "C": "cé",
    "D": "dé",
    "E": "eu",
    "F": "èf",
    "H": "ache",
    "K": "ka",
    "M": "ème",
    "N": "ène",
    "P": "pé",
    "R": "èr",
    "T": "té",
    "W": "double vé",
    "X": "ixe",
    "Y": "i grec",
    "3": "trois",
    "4": "quatre",
    "6": "six",
    "7": "sept",
    "9": "neuf",
}


@dataclass(frozen=True, slots=True)
class ChallengeSettings:
    """Knobs of a challenge; defaults follow issue 3."""

    kind: ChallengeKind = ChallengeKind.IMAGE
    choice_count: int = 5
    max_attempts: int = 3
    ttl: timedelta = timedelta(minutes=10)
    max_renewals: int = 5
    text_length: int = 6

    def __post_init__(self) -> None:
        if self.choice_count not in (5, 6):
            raise ValueError("choice_count must be 5 or 6")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        if self.max_renewals < 0:
            raise ValueError("max_renewals must not be negative")
        if not 4 <= self.text_length <= 10:
            raise ValueError("text_length must be between 4 and 10")


@dataclass(frozen=True, slots=True)
class Choice:
    """One picture of an image challenge. ``choice_id`` is public; ``key`` stays server-side."""

    choice_id: str
    key: str

    @property
    def pictogram(self) -> Pictogram:
        return pictogram(self.key)


@dataclass(frozen=True, slots=True)
class ExpectedAnswer:
    """The server-side secret. Never serialised towards the client."""

    choice_id: str | None  # image: the matching picture
    words: frozenset[str]  # image: normalised typed forms of the word (audio version)
    characters: str | None  # text: the normalised characters shown
    spoken: str  # what the audio version says


@dataclass(frozen=True, slots=True)
class PublicChallenge:
    """What the client may see: no answer, no object keys, only opaque ids."""

    challenge_id: str
    kind: ChallengeKind
    prompt_word: str | None  # image: the word to find; text: None (the characters are in the image)
    choice_ids: tuple[str, ...]  # image: one picture per id, in display order; text: empty
    expires_at: datetime
    attempts_left: int
    renewals_left: int


@dataclass(frozen=True, slots=True)
class Challenge:
    challenge_id: str
    request_id: str
    kind: ChallengeKind
    prompt_word: str | None
    choices: tuple[Choice, ...]
    expected: ExpectedAnswer = field(repr=False)  # keep the secret out of logs
    attempts_left: int
    issued_at: datetime
    expires_at: datetime
    renewals: int  # how many renewals led to this challenge (0 for the first of a request)
    renewal_cap: int  # fixed at issue so a settings change does not move the goalposts mid-flight
    status: ChallengeStatus = ChallengeStatus.OPEN

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def is_answerable(self, now: datetime) -> bool:
        return self.status is ChallengeStatus.OPEN and not self.is_expired(now)

    def choice(self, choice_id: str) -> Choice | None:
        """The choice behind a public id (to render its picture), or ``None``."""
        for c in self.choices:
            if hmac.compare_digest(c.choice_id.encode(), choice_id.encode()):  # bytes: any input is safe
                return c
        return None

    def public(self) -> PublicChallenge:
        return PublicChallenge(
            challenge_id=self.challenge_id,
            kind=self.kind,
            prompt_word=self.prompt_word,
            choice_ids=tuple(c.choice_id for c in self.choices),
            expires_at=self.expires_at,
            attempts_left=self.attempts_left,
            renewals_left=max(0, self.renewal_cap - self.renewals),
        )

    @property
    def spoken(self) -> str:
        """Text for the audio version (pass to the audio renderer)."""
        return self.expected.spoken


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer as posted: the request it claims to belong to, and a clicked id or typed text."""

    request_id: str
    choice_id: str | None = None
    typed: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    challenge: Challenge  # the state to store
    reason: Reason | None = None
    changed: bool = False  # whether ``challenge`` differs from the input and must be stored

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED


class RenewalVerdict(StrEnum):
    RENEWED = "renewed"
    FAILED = "failed"  # cap exceeded: emit CaptchaFailed, the request is rejected
    REFUSED = "refused"  # not this request's current challenge, or already passed / failed


@dataclass(frozen=True, slots=True)
class Renewal:
    verdict: RenewalVerdict
    previous: Challenge  # the old challenge's new state (superseded / failed / unchanged)
    challenge: Challenge | None = None  # the new challenge when renewed
    reason: Reason | None = None


def new_token(rng: random.Random, nbytes: int = 16) -> str:
    """Opaque URL-safe id: ``nbytes`` random bytes, base64url without padding."""
    return base64.urlsafe_b64encode(rng.randbytes(nbytes)).rstrip(b"=").decode("ascii")


def issue_challenge(
    request_id: str,
    rng: random.Random,
    now: datetime,
    settings: ChallengeSettings | None = None,
    *,
    renewals: int = 0,
    avoid_keys: Collection[str] = (),
) -> Challenge:
    """A fresh challenge for ``request_id``.

    ``renewals`` is the count carried over by :func:`renew`; ``avoid_keys`` asks for a different target
    word than the previous challenge's (if the vocabulary allows).
    """
    settings = settings or ChallengeSettings()
    if not request_id:
        raise ValueError("request_id is required")
    challenge_id = new_token(rng)
    if settings.kind is ChallengeKind.TEXT:
        text = "".join(rng.choice(TEXT_ALPHABET) for _ in range(settings.text_length))
        prompt_word: str | None = None
        choices: list[Choice] = []
        expected = ExpectedAnswer(
            choice_id=None,
            words=frozenset(),
            characters=normalise_characters(text),
            spoken=", ".join(_SPOKEN_CHARACTER[c] for c in text),
        )
    else:
        target, distractors = _pick_pictograms(rng, settings.choice_count, avoid_keys)
        choices = [Choice(choice_id=new_token(rng, 12), key=p.key) for p in (target, *distractors)]
        answer_id = choices[0].choice_id
        rng.shuffle(choices)  # display order must not betray the answer
        prompt_word = target.word
        expected = ExpectedAnswer(choice_id=answer_id, words=target.accepted, characters=None, spoken=target.word)
    return Challenge(
        challenge_id=challenge_id,
        request_id=request_id,
        kind=settings.kind,
        prompt_word=prompt_word,
        choices=tuple(choices),
        expected=expected,
        attempts_left=settings.max_attempts,
        issued_at=now,
        expires_at=now + settings.ttl,
        renewals=renewals,
        renewal_cap=settings.max_renewals,
    )


def _pick_pictograms(rng: random.Random, count: int, avoid_keys: Collection[str]) -> tuple[Pictogram, list[Pictogram]]:
    """A target and ``count - 1`` distractors, no two from the same look-alike family."""
    candidates = [p for p in VOCABULARY if p.key not in avoid_keys] or list(VOCABULARY)
    target = rng.choice(candidates)
    families = {target.family}
    pool = list(VOCABULARY)
    rng.shuffle(pool)
    distractors: list[Pictogram] = []
    for p in pool:
        if p.family not in families:
            families.add(p.family)
            distractors.append(p)
            if len(distractors) == count - 1:
                break
    if len(distractors) < count - 1:  # only with a tiny custom vocabulary
        raise ValueError("vocabulary too small for the requested number of choices")
    return target, distractors


def check_answer(challenge: Challenge, answer: Answer, now: datetime) -> Outcome:
    """Judge ``answer`` against ``challenge`` at ``now``; see :class:`Verdict` and :class:`Reason`.

    Refusals (another request's challenge, already passed, superseded, failed, empty answer) do not use
    an attempt: they reveal nothing and must not let a third party burn the holder's attempts.
    """
    if not hmac.compare_digest(answer.request_id.encode(), challenge.request_id.encode()):
        return Outcome(Verdict.REFUSED, challenge, Reason.REQUEST_MISMATCH)
    if challenge.status is ChallengeStatus.PASSED:
        return Outcome(Verdict.REFUSED, challenge, Reason.ALREADY_PASSED)
    if challenge.status is ChallengeStatus.SUPERSEDED:
        return Outcome(Verdict.REFUSED, challenge, Reason.SUPERSEDED)
    if challenge.status is ChallengeStatus.FAILED:
        return Outcome(Verdict.REFUSED, challenge, Reason.REQUEST_FAILED)
    if challenge.status is ChallengeStatus.EXHAUSTED:
        return Outcome(Verdict.DEAD, challenge, Reason.ATTEMPTS_EXHAUSTED)
    if challenge.is_expired(now):
        return Outcome(Verdict.DEAD, challenge, Reason.EXPIRED)
    if not (answer.choice_id or (answer.typed and answer.typed.strip())):
        return Outcome(Verdict.REFUSED, challenge, Reason.EMPTY_ANSWER)

    if _is_right(challenge.expected, answer):
        return Outcome(Verdict.PASSED, replace(challenge, status=ChallengeStatus.PASSED), changed=True)
    left = challenge.attempts_left - 1
    if left <= 0:
        dead = replace(challenge, attempts_left=0, status=ChallengeStatus.EXHAUSTED)
        return Outcome(Verdict.DEAD, dead, Reason.ATTEMPTS_EXHAUSTED, changed=True)
    return Outcome(Verdict.WRONG, replace(challenge, attempts_left=left), Reason.WRONG_ANSWER, changed=True)


def _is_right(expected: ExpectedAnswer, answer: Answer) -> bool:
    if answer.choice_id:
        # An unknown id is simply wrong (and costs an attempt), so probing ids gains nothing.
        return expected.choice_id is not None and hmac.compare_digest(
            expected.choice_id.encode(), answer.choice_id[:64].encode()
        )
    typed = (answer.typed or "")[: MAX_TYPED_LENGTH * 2]
    if expected.characters is not None:
        return hmac.compare_digest(expected.characters.encode(), normalise_characters(typed).encode())
    return normalise_word(typed) in expected.words


def renew(
    challenge: Challenge,
    request_id: str,
    rng: random.Random,
    now: datetime,
    settings: ChallengeSettings | None = None,
) -> Renewal:
    """Replace ``challenge`` (the request's current one) by a fresh one, within the renewal cap.

    Allowed whether the challenge is open, expired or exhausted (an unreadable picture is a fine reason
    to renew). Past the cap the old challenge becomes ``FAILED`` and the verdict is ``FAILED`` with
    :attr:`Reason.RENEWAL_CAP_EXCEEDED`: the caller emits ``CaptchaFailed``.
    """
    if not hmac.compare_digest(request_id.encode(), challenge.request_id.encode()):
        return Renewal(RenewalVerdict.REFUSED, challenge, reason=Reason.REQUEST_MISMATCH)
    refusals = {
        ChallengeStatus.PASSED: Reason.ALREADY_PASSED,
        ChallengeStatus.SUPERSEDED: Reason.SUPERSEDED,
        ChallengeStatus.FAILED: Reason.REQUEST_FAILED,
    }
    if challenge.status in refusals:
        return Renewal(RenewalVerdict.REFUSED, challenge, reason=refusals[challenge.status])
    if challenge.renewals >= challenge.renewal_cap:
        failed = replace(challenge, status=ChallengeStatus.FAILED)
        return Renewal(RenewalVerdict.FAILED, failed, reason=Reason.RENEWAL_CAP_EXCEEDED)
    settings = replace(settings or ChallengeSettings(), max_renewals=challenge.renewal_cap)
    avoid = [c.key for c in challenge.choices if c.choice_id == challenge.expected.choice_id]
    fresh = issue_challenge(request_id, rng, now, settings, renewals=challenge.renewals + 1, avoid_keys=avoid)
    return Renewal(RenewalVerdict.RENEWED, replace(challenge, status=ChallengeStatus.SUPERSEDED), fresh)
