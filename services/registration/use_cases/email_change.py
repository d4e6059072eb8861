"""Changing the e-mail address of an account (issue 13, item 6); the rules are ``domain/email_change.py``.

    holder ──password again, or a fresh FranceConnect login──▶ LogIn.reauthenticated (a few minutes)
    holder ──new address──▶ request     pending on the account ──MailRequested(email_change)──▶ new address
    new mailbox ──link──▶ confirm       the address changes; every other session is closed
                                        ──MailRequested(email_changed, "Ce n'était pas moi")──▶ old address
    old mailbox ──"Ce n'était pas moi"──▶ LoginAlerts.not_me: the old address back, sessions closed, reset

Everything goes through ``save_account``: the account's record on the private state topic, written in
one transaction with the mail it causes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from contracts.links import token_hash
from services.registration.domain.email_change import (
    TOO_MANY,
    EmailChanged,
    EmailChangeLinkInvalid,
    confirm_change,
    new_address,
    request_change,
)
from services.registration.domain.errors import FieldError
from services.registration.use_cases.common import utc_now
from services.registration.use_cases.login_alerts import LoginAlerts
from services.registration.use_cases.mails import MailDesk
from services.registration.use_cases.ports import Accounts, Clock, Sessions, Throttles
from services.registration.use_cases.sessions import LogIn

LOCK_WAIT_S = 5.0
DAY_S = 24 * 3600


class EmailChangeStore(Accounts, Sessions, Throttles, Protocol):
    """What changing the address needs (the one store adapter provides it)."""


@dataclass(frozen=True)
class ReauthenticationNeeded:
    """The holder has not proven it again recently: the page asks for the password (or FranceConnect)."""


@dataclass(frozen=True)
class ChangeRequested:
    new_email: str  # where the link went


@dataclass
class EmailChanges:
    store: EmailChangeStore
    mails: MailDesk
    login: LogIn
    alerts: LoginAlerts
    link_lifetime: timedelta
    changes_per_day: int
    allow_test_email_domains: bool = False
    clock: Clock = utc_now

    async def request(
        self, holder_id: str, session_id: str, raw_email: str, raw_confirmation: str
    ) -> ChangeRequested | ReauthenticationNeeded | list[FieldError]:
        """Mail a link to the new address; the account's address changes only when it is followed."""
        if not await self.login.recently_authenticated(session_id):
            return ReauthenticationNeeded()
        now = self.clock()
        async with self.store.locked(f"holder:{holder_id}", wait_s=LOCK_WAIT_S):
            account = await self.store.account(holder_id)
            if account is None:
                return ReauthenticationNeeded()
            new_email = new_address(
                account, raw_email, raw_confirmation, allow_test_domains=self.allow_test_email_domains
            )
            if isinstance(new_email, list):
                return new_email
            if await self.store.count(f"email-change:{holder_id}:{int(now.timestamp()) // DAY_S}", DAY_S) > (
                self.changes_per_day
            ):
                return [TOO_MANY]
            expires_at = now + self.link_lifetime
            order = self.mails.order(
                "email_change",
                f"email_change:{holder_id[:16]}:{secrets.token_urlsafe(12)}",
                to=new_email,
                first_name=account.first_name,
                holder_id=holder_id,
                subject_id=holder_id,
                link_expires_at=expires_at,
            )
            assert order.link_sha256 is not None
            request_change(account, new_email, order.link_sha256, expires_at)
            await self.store.save_account(account, order.event)
        return ChangeRequested(new_email)

    async def confirm(self, token: str, session_id: str) -> EmailChanged:
        """The new mailbox followed its link. Raises EmailChangeLinkInvalid. The browser that follows it keeps
        its session if it is the holder's; every other session of the account is closed."""
        if not 16 <= len(token) <= 200:
            raise EmailChangeLinkInvalid()
        link = token_hash(token)
        holder_id = await self.store.holder_for_email_change(link)
        if holder_id is None:
            raise EmailChangeLinkInvalid()
        now = self.clock()
        async with self.store.locked(f"holder:{holder_id}", wait_s=LOCK_WAIT_S):
            account = await self.store.account(holder_id)
            if account is None:
                raise EmailChangeLinkInvalid()
            changed = confirm_change(account, link, now, undo_until=now + self.alerts.link_lifetime)
            warning = await self.alerts.warn(
                "email_changed",
                f"email_changed:{holder_id[:16]}:{secrets.token_urlsafe(12)}",
                account,
                to=changed.previous_email,
                attempted_at=now,
            )
            await self.store.save_account(account, warning)
        kept = session_id if session_id and await self.store.session_holder(session_id) == holder_id else ""
        await self.store.close_other_sessions(holder_id, keep_sid=kept)
        return changed
