"""FranceConnect for accounts: log in, link from "Mes droits", sign up, and win over a mailbox (issue 13).

    provider ──identity──▶ log_in      a linked subject: a session, as a password login gives
    provider ──identity──▶ link        a password account: NIR cross-checked, then linked ──IdentityVerified
    provider ──identity──▶ sign_up     form + NIR cross-checked; a pending password sign-up for the NIR is
                                       cancelled ──MailRequested(signup_cancelled); then, e-mail as the
                                       provider's: opened (or reclaimed) at once; otherwise a link is mailed
    holder ──link──▶ VerifiedOpening   opens the account, or reclaims one opened with a mailbox only
                                       ──AccountReclaimed, MailRequested(account_reclaimed)

The identity is the provider's, checked by the adapter; the NIR is the holder's, so it is cross-checked
(:func:`cross_check`) before anything is linked: a mismatch or an identity that cannot be checked
automatically is refused with one French sentence, never a silent pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from contracts import topics
from contracts.registration import AccountReclaimed, IdentityVerified
from eventing.publishing import OutgoingEvent, derived_event_id
from services.registration.domain.account import PENDING, SignupRequest
from services.registration.domain.cgu import accept_cgu
from services.registration.domain.errors import DomainError, FieldError
from services.registration.domain.franceconnect_signup import same_email, validate_franceconnect_signup
from services.registration.domain.identity import VerifiedIdentity
from services.registration.domain.identity_check import CheckOutcome, cross_check
from services.registration.domain.login_history import LoginClient
from services.registration.domain.nir import Nir
from services.registration.domain.records import Account, PendingDetails
from services.registration.domain.signup import SignupForm
from services.registration.use_cases.common import utc_now
from services.registration.use_cases.mails import MailDesk
from services.registration.use_cases.ports import Clock, EventFactory, RegistrationStore
from services.registration.use_cases.sessions import LogIn, LoginAccepted
from services.registration.use_cases.signup import SignUp, SignupThrottled

FRANCECONNECT = "franceconnect"
LOCK_WAIT_S = 5.0
SUBJECT_TAKEN = "Cette identité FranceConnect est déjà liée à un autre compte Mon Compte Formation."
ACCOUNT_LINKED_ELSEWHERE = "Ce compte est déjà lié à une autre identité FranceConnect."
NIR_LINKED_ELSEWHERE = "Ce numéro de sécurité sociale est déjà lié à une autre identité FranceConnect."
OTHER_IDENTITY = (
    "Cette identité FranceConnect n'est pas celle qui est liée à votre compte : identifiez-vous avec la vôtre, "
    "ou confirmez avec votre mot de passe."
)


class IdentityAlreadyLinked(DomainError):
    """At the link's click: the account or the FranceConnect identity got linked to another meanwhile."""

    code = "identity_already_linked"


@dataclass(frozen=True)
class Refused:
    code: str  # "mismatch", "cannot_check", "subject_taken", "account_linked_elsewhere", "nir_linked_elsewhere",
    # "other_identity" (authenticating again as someone else), "too_many_signups"
    message: str  # one French sentence, which never says which part of an identity differs


@dataclass(frozen=True)
class Linked:
    holder_id: str


@dataclass(frozen=True)
class UnknownIdentity:
    """No account is linked to this FranceConnect identity (the page offers sign-up with it)."""


@dataclass(frozen=True)
class AwaitingConfirmation:
    request_id: str  # the link went to the address typed


def _checked(nir: Nir, identity: VerifiedIdentity) -> Refused | None:
    check = cross_check(nir, identity)
    if check.outcome is CheckOutcome.MATCH:
        return None
    assert check.message is not None
    return Refused(check.outcome.value, check.message)


@dataclass
class VerifiedOpening:
    """The end of a sign-up with FranceConnect (at once, or at the link's click): open the account, or
    reclaim the one a mailbox opened for this NIR."""

    store: RegistrationStore
    events: EventFactory
    mails: MailDesk
    opened_events: Callable[[Account, datetime], list[OutgoingEvent]]  # SignUp.opened_events
    clock: Clock = utc_now

    def verified_event(self, holder_id: str, acr: str, at: datetime, cause: str, correlation_id: str) -> OutgoingEvent:
        return self.events.event(
            topics.IDENTITY_VERIFIED,
            IdentityVerified(holder_id=holder_id, method=FRANCECONNECT, acr=acr, verified_at=at),
            key=holder_id,
            correlation_id=correlation_id,  # a request id, or the holder's (at most 100 characters)
            event_id=derived_event_id(cause, "identity-verified"),
        )

    async def finish(self, request: SignupRequest, details: PendingDetails) -> str:
        """``request`` is active; returns the holder id. Raises IdentityAlreadyLinked."""
        now, holder_id, rid = self.clock(), request.holder_id, request.request_id
        subject = details.franceconnect_subject or ""
        async with self.store.locked(f"holder:{holder_id}", wait_s=LOCK_WAIT_S):
            other = await self.store.holder_for_subject(subject)
            account = await self.store.account(holder_id)
            if (other and other != holder_id) or (account and account.identity_verified_by):
                raise IdentityAlreadyLinked(SUBJECT_TAKEN if other and other != holder_id else NIR_LINKED_ELSEWHERE)
            verified = self.verified_event(holder_id, details.identity_acr or "", now, rid, rid)
            if account is None:
                opened = Account.opened_from(details, holder_id, rid, now)
                opened.identity_verified_at = now.isoformat()
                caused = self.opened_events(opened, now)
                await self.store.open_account(opened, request, details, verified, *caused)
                return holder_id
            await self._reclaim(account, request, details, verified, now)
            return holder_id

    async def _reclaim(
        self, account: Account, request: SignupRequest, details: PendingDetails, verified: OutgoingEvent, now: datetime
    ) -> None:
        """The verified person takes back an account opened with a mailbox only: same holder (the rights
        stay), their e-mail and details, every session closed, the previous password removed."""
        previous_email, rid = account.email, request.request_id
        reclaimed = replace(
            Account.opened_from(details, account.holder_id, account.request_id, now),
            activated_at=account.activated_at,
            identity_verified_at=now.isoformat(),
            sessions_valid_after=now.timestamp(),
        )
        event = self.events.event(
            topics.ACCOUNT_RECLAIMED,
            AccountReclaimed(holder_id=account.holder_id, reclaimed_at=now),
            key=account.holder_id,
            correlation_id=rid,
            event_id=derived_event_id(rid, "reclaimed"),
        )
        told = self.mails.order(
            "account_reclaimed",
            f"account_reclaimed:{rid}",
            to=previous_email,
            first_name=account.first_name,
            holder_id=account.holder_id,
            subject_id=rid,
            attempted_at=now,
        )
        await self.store.open_account(reclaimed, request, details, verified, event, told.event)
        await self.store.close_all_sessions(account.holder_id)


@dataclass
class FranceConnectAccounts:
    store: RegistrationStore
    signup: SignUp
    opening: VerifiedOpening
    login: LogIn
    clock: Clock = utc_now

    async def log_in(
        self, identity: VerifiedIdentity, client: LoginClient, id_token: str = ""
    ) -> LoginAccepted | UnknownIdentity:
        """``id_token``: the provider's, kept with the session to end the provider's session at logout."""
        holder_id = await self.store.holder_for_subject(identity.subject)
        if holder_id is None or await self.store.account(holder_id) is None:
            return UnknownIdentity()
        return await self.login.open_session(holder_id, FRANCECONNECT, client, id_token)

    async def reauthenticate(self, holder_id: str, session_id: str, identity: VerifiedIdentity) -> Refused | None:
        """A fresh FranceConnect login (``prompt=login``) by the logged-in holder, before a sensitive change:
        it must be the identity the account is linked to."""
        account = await self.store.account(holder_id)
        if account is None or account.franceconnect_subject != identity.subject:
            return Refused("other_identity", OTHER_IDENTITY)
        await self.login.reauthenticated(session_id)
        return None

    async def link(self, holder_id: str, identity: VerifiedIdentity) -> Linked | Refused:
        """Link the logged-in holder's account to this identity, once its NIR is cross-checked."""
        async with self.store.locked(f"holder:{holder_id}", wait_s=LOCK_WAIT_S):
            account = await self.store.account(holder_id)
            if account is None:
                return Refused("no_account", "Votre session a expiré : reconnectez-vous.")
            if account.franceconnect_subject == identity.subject:
                return Linked(holder_id)  # already done (a second click)
            if account.franceconnect_subject:
                return Refused("account_linked_elsewhere", ACCOUNT_LINKED_ELSEWHERE)
            other = await self.store.holder_for_subject(identity.subject)
            if other is not None and other != holder_id:
                return Refused("subject_taken", SUBJECT_TAKEN)
            if refused := _checked(Nir.parse(account.nir), identity):
                return refused
            now = self.clock()
            account.franceconnect_subject, account.identity_verified_by = identity.subject, FRANCECONNECT
            account.identity_verified_at = now.isoformat()
            cause = f"link:{holder_id}:{identity.subject}"
            verified = self.opening.verified_event(holder_id, identity.acr, now, cause, correlation_id=holder_id)
            await self.store.save_account(account, verified)
            return Linked(holder_id)

    async def sign_up(
        self, identity: VerifiedIdentity, form: SignupForm, client: LoginClient, provider_id_token: str = ""
    ) -> LoginAccepted | AwaitingConfirmation | Refused | SignupThrottled | list[FieldError]:
        """The form after FranceConnect. The answers do not depend on whether the NIR has an account or a
        pending request (only on the identity, the NIR's cross-check and the e-mail typed). Limited per
        client address as the password sign-up is (each one may send mail). ``provider_id_token``: that
        login's ID token, kept with the session it opens so its logout ends the provider's session too."""
        now = self.clock()
        signup = self.signup
        if throttled := await signup.throttled(client.address, now):
            return throttled
        limits = signup.limits
        valid = validate_franceconnect_signup(
            form, identity, now.date(), allow_test_email_domains=limits.allow_test_email_domains
        )
        if isinstance(valid, list):
            return valid
        if refused := _checked(valid.nir, identity):
            return refused
        password_hash = await signup.hashing.hash(valid.password) if valid.password else ""
        if (linked := await self.store.holder_for_subject(identity.subject)) is not None:
            # This person already has an account: a sign-up is a login (never a second account).
            return await self.login.open_session(linked, FRANCECONNECT, client, provider_id_token)
        holder_id = signup.holder_ids.of(valid.nir)
        account = await self.store.account(holder_id)
        if account is not None and account.identity_verified_by:
            return Refused("nir_linked_elsewhere", NIR_LINKED_ELSEWHERE)
        await self._cancel_pending(holder_id, now)
        details = signup.pending_details(
            valid, password_hash, accept_cgu(signup.cgu, form.cgu_accepted, now, "web"), "signup"
        )
        details.franceconnect_subject, details.identity_verified_by = identity.subject, FRANCECONNECT
        details.identity_acr = identity.acr
        # No security check: the person is authenticated by FranceConnect.
        request = SignupRequest.start(signup.ids.mint(now), holder_id, now, signup.policy).pass_captcha(now)
        if same_email(valid.email, identity):
            active = request.activate_verified(now)
            try:
                opened = await self.opening.finish(active, details)
                return await self.login.open_session(opened, FRANCECONNECT, client, provider_id_token)
            except IdentityAlreadyLinked as exc:
                return Refused(exc.code, exc.message)
        with_link, caused = signup.with_link(request, details, 0, now)
        await self.store.save_request(with_link, details, *caused)
        return AwaitingConfirmation(request.request_id)

    async def _cancel_pending(self, holder_id: str, now: datetime) -> None:
        """FranceConnect beats a mailbox: a pending sign-up for this NIR ends now (its links die) and a
        password one's address is told; no 7-day wait."""
        latest = await self.store.latest_request(holder_id)
        if latest is None or latest[0].status_at(now) not in PENDING:
            return
        rid = latest[0].request_id
        async with self.store.locked(f"request:{rid}", wait_s=LOCK_WAIT_S):
            found = await self.store.request(rid)  # again, under the lock: its link may have been used
            if found is None or found[0].status_at(now) not in PENDING:
                return
            request, details = found
            cancelled = request.reject("superseded_by_franceconnect", now)
            caused = []
            if not details.identity_verified_by:
                notice = self.signup.mails.order(
                    "signup_cancelled",
                    f"signup_cancelled:{request.request_id}",
                    to=details.email,
                    first_name=details.first_name,
                    holder_id=holder_id,
                    subject_id=request.request_id,
                    attempted_at=now,
                )
                caused.append(notice.event)
            await self.store.save_request(cancelled, details, *caused)
