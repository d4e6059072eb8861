"""The mails registration asks for: one ``MailRequested`` command per mail, with a stable id.

The id makes the mailer send each mail once however often the command is redelivered, and it is the
link's id: the token is derived from it under the link key both services hold (:mod:`contracts.links`),
so registration records the link's hash when it asks for the mail, before the mail can be clicked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from contracts import topics
from contracts.links import link_token_hash
from contracts.mailer import MailKind
from contracts.registration import MailRequested
from eventing.publishing import OutgoingEvent, derived_event_id
from services.registration.use_cases.ports import EventFactory


@dataclass(frozen=True)
class MailOrder:
    """A mail to ask for: its command, and the hash of its link (for mails that carry one)."""

    event: OutgoingEvent
    link_sha256: str | None


@dataclass(frozen=True)
class MailDesk:
    events: EventFactory
    link_key: bytes

    def order(
        self,
        kind: MailKind,
        mail_id: str,
        *,
        to: str,
        first_name: str,
        holder_id: str,
        subject_id: str,
        link_expires_at: datetime | None = None,
        attempted_at: datetime | None = None,
        login_method: Literal["mot de passe", "FranceConnect"] | None = None,
        login_client: str | None = None,
    ) -> MailOrder:
        command = MailRequested(
            mail_id=mail_id,
            kind=kind,
            to=to,
            first_name=first_name,
            holder_id=holder_id,
            subject_id=subject_id,
            link_expires_at=link_expires_at,
            attempted_at=attempted_at,
            login_method=login_method,
            login_client=login_client,
        )
        event = self.events.event(
            topics.MAIL_REQUESTED,
            command,
            key=subject_id,
            correlation_id=subject_id,
            event_id=derived_event_id(mail_id, "mail-requested"),
        )
        with_link = link_expires_at is not None
        return MailOrder(event, link_token_hash(self.link_key, mail_id) if with_link else None)

    def link_hash(self, mail_id: str) -> str:
        """The hash of the link a mail id stands for (what a confirmation must show before it is sent)."""
        return link_token_hash(self.link_key, mail_id)
