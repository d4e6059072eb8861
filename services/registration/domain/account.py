"""The sign-up request's lifecycle, as a pure state machine. (Over 300 lines on purpose: the states, the
transitions and their French refusals are read together.)

::

    start ──▶ awaiting_captcha ──pass_captcha──▶ awaiting_confirmation ──issue_link──▶ (link mailed)
                    │                                   │                                     │
                    └──reject──▶ rejected               └──── activate(token hash) ◀──────────┘
                                                                       │
    any pending state ──(now ≥ expires_at)──▶ expired                   ▼
                                                                     active

A pending request is **not** an account: the account exists only once a confirmation link is used
(``active``). Pending requests carry an overall deadline (``expires_at``, default 7 days), each link
its own (default 24 h, never beyond the request's); expired and rejected requests are purged and the
same NIR may start again (:func:`decide_start`).

Every transition returns a new value (the class is frozen) or raises a :class:`LifecycleError`
subclass whose ``message`` is the French text for the holder. Transitions that repeat what already
happened (a redelivered ``CaptchaPassed``, the same link issued twice) return the state
unchanged, so consumers stay idempotent under at-least-once delivery.

Expiry is evaluated lazily against ``now`` (:meth:`SignupRequest.status_at`): a purge job may run
late, but a stale request never activates. No personal data lives here: the holder is its
pseudonymous ``holder_id``; the profile and password hash are stored beside it by the app.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from services.registration.domain.errors import DomainError


class RequestStatus(StrEnum):
    AWAITING_CAPTCHA = "awaiting_captcha"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    ACTIVE = "active"
    EXPIRED = "expired"
    REJECTED = "rejected"


PENDING = frozenset({RequestStatus.AWAITING_CAPTCHA, RequestStatus.AWAITING_CONFIRMATION})


@dataclass(frozen=True, slots=True)
class LifecyclePolicy:
    """Settings with sensible defaults (the app reads overrides from its configuration)."""

    link_lifetime: timedelta = timedelta(hours=24)  # Keycloak's 5 min locks out slow mail gateways
    request_lifetime: timedelta = timedelta(days=7)
    resend_cooldown: timedelta = timedelta(seconds=60)
    max_resends: int = 5

    def __post_init__(self) -> None:
        if self.link_lifetime <= timedelta(0) or self.request_lifetime <= timedelta(0):
            raise ValueError("lifetimes must be positive")
        if self.resend_cooldown < timedelta(0) or self.max_resends < 0:
            raise ValueError("the resend cooldown and cap cannot be negative")


DEFAULT_POLICY = LifecyclePolicy()


class LifecycleError(DomainError):
    """A transition that cannot happen in the request's current state."""


class InvalidTransition(LifecycleError):
    code = "invalid_transition"


class CaptchaPending(LifecycleError):
    code = "captcha_pending"


class RequestExpired(LifecycleError):
    code = "request_expired"


class RequestRejected(LifecycleError):
    code = "request_rejected"


class AlreadyActive(LifecycleError):
    code = "already_active"


class LinkExpired(LifecycleError):
    code = "link_expired"


class UnknownLink(LifecycleError):
    code = "link_unknown"


class ResendTooSoon(LifecycleError):
    code = "resend_too_soon"

    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(
            "Un lien de confirmation vient de vous être envoyé. Vous pourrez en demander un nouveau "
            f"dans {retry_after_seconds} seconde{'s' if retry_after_seconds > 1 else ''}."
        )


class ResendLimitReached(LifecycleError):
    code = "resend_limit_reached"


_MSG_RESTART = "Vous pouvez recommencer votre inscription."


CHECK_FIRST = "Passez d'abord le contrôle de sécurité : le lien de confirmation est envoyé juste après."


def _expired() -> RequestExpired:
    return RequestExpired(f"Votre demande d'inscription a expiré. {_MSG_RESTART}")


def _rejected() -> RequestRejected:
    return RequestRejected(f"Votre demande d'inscription n'a pas abouti. {_MSG_RESTART}")


def _already_active() -> AlreadyActive:
    return AlreadyActive(
        "Votre compte est déjà activé : connectez-vous avec votre numéro de sécurité sociale et votre mot de passe."
    )


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("lifecycle times must be timezone-aware")
    return moment


@dataclass(frozen=True, slots=True)
class IssuedLink:
    token_sha256: str
    sent_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SignupRequest:
    request_id: str
    holder_id: str
    requested_at: datetime
    expires_at: datetime
    status: RequestStatus = RequestStatus.AWAITING_CAPTCHA
    captcha_passed_at: datetime | None = None
    links: tuple[IssuedLink, ...] = ()
    resend_requests: tuple[datetime, ...] = ()
    activated_at: datetime | None = None
    closed_at: datetime | None = None  # when it became expired or rejected
    rejection_reason: str | None = None

    # --- creation and queries -------------------------------------------------------------------

    @classmethod
    def start(
        cls, request_id: str, holder_id: str, now: datetime, policy: LifecyclePolicy = DEFAULT_POLICY
    ) -> SignupRequest:
        _aware(now)
        return cls(request_id, holder_id, requested_at=now, expires_at=now + policy.request_lifetime)

    def status_at(self, now: datetime) -> RequestStatus:
        """The status as the holder should see it at ``now`` (pending past its deadline = expired)."""
        if self.status in PENDING and now >= self.expires_at:
            return RequestStatus.EXPIRED
        return self.status

    @property
    def link_sent(self) -> bool:
        return bool(self.links)

    @property
    def resends_used(self) -> int:
        return len(self.resend_requests)

    def resends_left(self, policy: LifecyclePolicy = DEFAULT_POLICY) -> int:
        return max(0, policy.max_resends - self.resends_used)

    def should_purge(self, now: datetime) -> bool:
        """Expired and rejected requests go at once. An activated one is kept until its deadline so a
        second click on the link can still say "already active" rather than "unknown link"."""
        status = self.status_at(now)
        if status in (RequestStatus.EXPIRED, RequestStatus.REJECTED):
            return True
        return status is RequestStatus.ACTIVE and now >= self.expires_at

    def _require_pending(self, now: datetime) -> None:
        status = self.status_at(now)
        if status is RequestStatus.EXPIRED:
            raise _expired()
        if status is RequestStatus.REJECTED:
            raise _rejected()
        if status is RequestStatus.ACTIVE:
            raise _already_active()

    # --- transitions ----------------------------------------------------------------------------

    def pass_captcha(self, now: datetime) -> SignupRequest:
        """``CaptchaPassed`` arrived. Idempotent once past the captcha."""
        _aware(now)
        if self.captcha_passed_at is not None and self.status is not RequestStatus.AWAITING_CAPTCHA:
            return self
        self._require_pending(now)
        return replace(self, status=RequestStatus.AWAITING_CONFIRMATION, captcha_passed_at=now)

    def reject(self, reason: str, now: datetime) -> SignupRequest:
        """``CaptchaFailed`` (or another refusal): the request ends; the NIR may start again."""
        _aware(now)
        if self.status is RequestStatus.REJECTED:
            return self
        self._require_pending(now)
        return replace(self, status=RequestStatus.REJECTED, closed_at=now, rejection_reason=reason)

    def expire(self, now: datetime) -> SignupRequest:
        """Make the lazy expiry explicit (purge job). Raises unless the deadline has passed."""
        _aware(now)
        if self.status is RequestStatus.EXPIRED:
            return self
        if self.status_at(now) is not RequestStatus.EXPIRED:
            raise InvalidTransition("Cette demande d'inscription n'a pas encore expiré.")
        return replace(self, status=RequestStatus.EXPIRED, closed_at=now)

    def issue_link(
        self, token_sha256: str, now: datetime, policy: LifecyclePolicy = DEFAULT_POLICY
    ) -> SignupRequest:
        """A confirmation link is issued (its mail asked for): valid ``policy.link_lifetime``, never
        beyond the request's own deadline. Only after the check; the same link twice is one link."""
        _aware(now)
        if any(hmac.compare_digest(link.token_sha256, token_sha256) for link in self.links):
            return self
        self._require_pending(now)
        if self.status is RequestStatus.AWAITING_CAPTCHA:
            raise CaptchaPending(CHECK_FIRST)
        link_expiry = min(now + policy.link_lifetime, self.expires_at)
        return replace(self, links=(*self.links, IssuedLink(token_sha256, now, link_expiry)))

    def request_resend(self, now: datetime, policy: LifecyclePolicy = DEFAULT_POLICY) -> SignupRequest:
        """The holder asks for a new link: cooldown since the last send or ask, and a per-request cap."""
        _aware(now)
        self._require_pending(now)
        if self.status is RequestStatus.AWAITING_CAPTCHA:
            raise CaptchaPending(CHECK_FIRST)
        if self.resends_used >= policy.max_resends:
            raise ResendLimitReached(
                "Vous avez demandé le nombre maximal de nouveaux liens pour cette inscription. Vérifiez "
                "vos courriers indésirables, ou recommencez votre inscription quand elle aura expiré."
            )
        moments = [
            m
            for m in (self.captcha_passed_at, *(link.sent_at for link in self.links), *self.resend_requests)
            if m is not None
        ]
        last = max(moments) if moments else self.requested_at
        wait = (last + policy.resend_cooldown - now).total_seconds()
        if wait > 0:
            raise ResendTooSoon(math.ceil(wait))
        return replace(self, resend_requests=(*self.resend_requests, now))

    def activate(self, token_sha256: str, now: datetime) -> SignupRequest:
        """The holder followed a link. Any link sent for this request works until its own expiry
        (the holder may click an older mail after asking for a new one)."""
        _aware(now)
        matching = next((link for link in self.links if hmac.compare_digest(link.token_sha256, token_sha256)), None)
        if matching is None:
            raise UnknownLink(
                "Ce lien de confirmation n'est pas valide. Vérifiez que vous avez ouvert le lien complet "
                "reçu par courriel."
            )
        self._require_pending(now)
        if now >= matching.expires_at:
            raise LinkExpired(
                "Ce lien de confirmation a expiré. Demandez un nouveau lien depuis la page de votre "
                "inscription, ou utilisez le plus récent reçu par courriel."
            )
        return replace(self, status=RequestStatus.ACTIVE, activated_at=now)

    def activate_verified(self, now: datetime) -> SignupRequest:
        """Active without a link: FranceConnect verified the person and the very e-mail address typed
        (sign-up with FranceConnect, issue 13). Only after the check step, which such a request skips."""
        _aware(now)
        self._require_pending(now)
        if self.status is RequestStatus.AWAITING_CAPTCHA:
            raise CaptchaPending(CHECK_FIRST)
        return replace(self, status=RequestStatus.ACTIVE, activated_at=now)

    # --- persistence (registration's private, compacted topic) ------------------------------------

    def to_record(self) -> dict[str, Any]:
        """JSON-ready dict for ``AccountStateRecorded.state`` (rebuilds Redis after a wipe)."""

        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None

        return {
            "request_id": self.request_id,
            "holder_id": self.holder_id,
            "requested_at": iso(self.requested_at),
            "expires_at": iso(self.expires_at),
            "status": self.status.value,
            "captcha_passed_at": iso(self.captcha_passed_at),
            "links": [
                {
                    "token_sha256": link.token_sha256,
                    "sent_at": iso(link.sent_at),
                    "expires_at": iso(link.expires_at),
                }
                for link in self.links
            ],
            "resend_requests": [iso(m) for m in self.resend_requests],
            "activated_at": iso(self.activated_at),
            "closed_at": iso(self.closed_at),
            "rejection_reason": self.rejection_reason,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SignupRequest:
        def moment(value: Any) -> datetime | None:
            return _aware(datetime.fromisoformat(value)) if value is not None else None

        def required(value: Any) -> datetime:
            parsed = moment(value)
            if parsed is None:
                raise ValueError("missing timestamp in a signup request record")
            return parsed

        return cls(
            request_id=str(record["request_id"]),
            holder_id=str(record["holder_id"]),
            requested_at=required(record["requested_at"]),
            expires_at=required(record["expires_at"]),
            status=RequestStatus(record["status"]),
            captcha_passed_at=moment(record.get("captcha_passed_at")),
            links=tuple(
                IssuedLink(str(link["token_sha256"]), required(link["sent_at"]), required(link["expires_at"]))
                for link in record.get("links", [])
            ),
            resend_requests=tuple(required(m) for m in record.get("resend_requests", [])),
            activated_at=moment(record.get("activated_at")),
            closed_at=moment(record.get("closed_at")),
            rejection_reason=record.get("rejection_reason"),
        )


class StartDecision(StrEnum):
    NEW_REQUEST = "new_request"  # create a request (the NIR is free)
    EXISTING_ACCOUNT = "existing_account"  # same 202 answer; the real owner is warned by mail
    PENDING_REQUEST = "pending_request"  # same 202 answer; nothing else (no squatting by replacement)


def decide_start(has_account: bool, latest_request: SignupRequest | None, now: datetime) -> StartDecision:
    """What a new sign-up for a NIR leads to. The HTTP answer must be identical in all three cases
    (status, body shape, timing): only the side effects differ, so nobody can probe which NIRs exist.
    A request that expired or was rejected leaves the NIR free again."""
    if has_account:
        return StartDecision.EXISTING_ACCOUNT
    if latest_request is not None:
        status = latest_request.status_at(now)
        if status in PENDING:
            return StartDecision.PENDING_REQUEST
        if status is RequestStatus.ACTIVE:
            return StartDecision.EXISTING_ACCOUNT
    return StartDecision.NEW_REQUEST
