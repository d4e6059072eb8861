"""Takeover defences (issue 13, item 6): the login history, the new-login alert and "Ce n'était pas moi".

    login ──▶ record       the login is remembered coarsely (domain/login_history.py); from a device not
                           seen before: the "Ce n'était pas moi" link's hash recorded, then
                           ──MailRequested(new_login)──▶ mailer, then the login added to the history
    holder ──link──▶ not_me  the link is used once: the password stops working, every session is closed
                           and a reset starts ──MailRequested(password_reset)──▶ mailer; a link mailed
                           to the address an e-mail change replaced (``email_change.py``) puts it back

The history and the links live in Redis like sessions (short-lived, not rebuilt after a wipe: the first
login after a wipe is then not "new", as the first login of an account).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from contracts.links import token_hash
from eventing.publishing import OutgoingEvent
from services.registration.domain.email_change import cancel_pending, restore_replaced_address
from services.registration.domain.login_history import (
    KEPT_FOR,
    KEPT_LOGINS,
    LoginClient,
    LoginRecord,
    is_new_device,
    kept,
)
from services.registration.domain.records import Account
from services.registration.use_cases.common import utc_now
from services.registration.use_cases.mails import MailDesk
from services.registration.use_cases.password_reset import PasswordResets
from services.registration.use_cases.ports import Accounts, Clock, LoginHistory, Sessions, Throttles

LOCK_WAIT_S = 5.0


class AlertStore(Accounts, LoginHistory, Sessions, Throttles, Protocol):
    """What the takeover defences need (the one store adapter provides it)."""


@dataclass
class LoginAlerts:
    store: AlertStore
    mails: MailDesk
    resets: PasswordResets
    link_lifetime: timedelta
    clock: Clock = utc_now

    async def record(self, holder_id: str, method: str, client: LoginClient) -> None:
        """Remember a successful login; tell the holder if its device is new for the account."""
        now = self.clock()
        login = LoginRecord.of(client, method, now)
        history = kept(await self.store.login_history(holder_id), now)
        account = await self.store.account(holder_id) if is_new_device(history, login) else None
        alert = []
        if account is not None:
            alert.append(
                await self.warn(
                    "new_login",
                    f"new_login:{holder_id[:16]}:{secrets.token_urlsafe(12)}",
                    account,
                    to=account.email,
                    attempted_at=now,
                    login_method=login.method_label,
                    login_client=f"{login.client_label}, réseau {login.network}",
                )
            )
        await self.store.record_login(holder_id, login, KEPT_LOGINS, int(KEPT_FOR.total_seconds()), *alert)

    async def warn(
        self,
        kind: Literal["new_login", "email_changed"],
        mail_id: str,
        account: Account,
        *,
        to: str,
        attempted_at: datetime,
        login_method: Literal["mot de passe", "FranceConnect"] | None = None,
        login_client: str | None = None,
    ) -> OutgoingEvent:
        """A warning with a "Ce n'était pas moi" link: the link's hash is recorded, the mail's command
        returned (for the caller to write). The hash first: a click can never come before it."""
        order = self.mails.order(
            kind,
            mail_id,
            to=to,
            first_name=account.first_name,
            holder_id=account.holder_id,
            subject_id=account.holder_id,
            link_expires_at=attempted_at + self.link_lifetime,
            attempted_at=attempted_at,
            login_method=login_method,
            login_client=login_client,
        )
        assert order.link_sha256 is not None
        await self.store.save_not_me_link(
            order.link_sha256, account.holder_id, to, int(self.link_lifetime.total_seconds())
        )
        return order.event

    async def history(self, holder_id: str) -> list[LoginRecord]:
        """The logins "Historique de connexion" shows, newest first."""
        return kept(await self.store.login_history(holder_id), self.clock())

    async def not_me(self, token: str) -> bool:
        """ "Ce n'était pas moi": false for an unknown, expired or used link (nothing happens then)."""
        if not 16 <= len(token) <= 200:
            return False
        found = await self.store.use_not_me_link(token_hash(token))
        if found is None:
            return False
        holder_id, sent_to = found
        async with self.store.locked(f"holder:{holder_id}", wait_s=LOCK_WAIT_S):
            account = await self.store.account(holder_id)
            if account is None:
                return False
            # Whoever logged in knows the password: it stops working now, and the reset chooses another.
            account.password_hash = ""
            # A link mailed to an address a change replaced puts it back (the reset goes there); a change
            # the intruder asked for and that is still pending dies with its link. The address it replaces
            # is told: if that was the holder's own change, they learn it at once, not at the next login.
            now = self.clock()
            replaced = account.email
            told: list[OutgoingEvent] = []
            if restore_replaced_address(account, sent_to):
                notice = self.mails.order(
                    "email_restored",
                    f"email_restored:{holder_id[:16]}:{secrets.token_urlsafe(12)}",
                    to=replaced,
                    first_name=account.first_name,
                    holder_id=holder_id,
                    subject_id=holder_id,
                    attempted_at=now,
                )
                told.append(notice.event)
            cancel_pending(account)
            account.sessions_valid_after = now.timestamp()
            await self.store.save_account(account, *told)
        await self.store.close_all_sessions(holder_id)
        await self.resets.send_link(account)
        return True
