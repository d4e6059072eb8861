"""What registration keeps about a pending request, an account and a password reset (plain records).

The request's lifecycle rules are in ``account.py``; these are the data that go with it, stored as they
are on registration's private state topic (``AccountStateRecorded.state``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


@dataclass
class PendingDetails:
    """What the form said, kept with the pending request until the link is used (then it is the account)."""

    nir: str
    first_name: str
    birth_name: str
    email: str
    password_hash: str
    birth_year_month: str
    phone_landline: str | None = None
    phone_mobile: str | None = None
    address: dict[str, Any] | None = None
    highest_diploma: str = "not_given"
    apprenticeship_contract: bool = False
    cgu: dict[str, str] = field(default_factory=dict)
    purpose: str = "signup"  # "signup", or a decoy: "existing_account" / "pending_request"
    # A sign-up with FranceConnect: the person is verified; the account opens with this link to them.
    franceconnect_subject: str | None = None
    identity_verified_by: str | None = None  # "franceconnect", or None (a mailbox, not a person)
    identity_acr: str | None = None  # the eIDAS level the provider certified


@dataclass
class Account:
    holder_id: str
    nir: str
    first_name: str
    birth_name: str
    email: str
    password_hash: str
    birth_year_month: str
    activated_at: str
    request_id: str
    phone_landline: str | None = None
    phone_mobile: str | None = None
    address: dict[str, Any] | None = None
    highest_diploma: str = "not_given"
    cgu: dict[str, str] = field(default_factory=dict)
    sessions_valid_after: float = 0.0  # a password reset revokes every session opened before it
    # How the person behind the account was verified (docs/identity.md): "franceconnect" with the
    # provider's stable subject, or None: the account then proves a mailbox only, and may be reclaimed.
    franceconnect_subject: str | None = None
    identity_verified_by: str | None = None
    identity_verified_at: str | None = None
    # A change of address (domain/email_change.py): the one pending request (its address, the hash of the
    # link mailed to it and when that link dies), then, once changes took effect, every address they
    # replaced while its "Ce n'était pas moi" links may still be followed: [address, until (ISO)], oldest
    # first (a link mailed to one of them puts it back, even after several changes in a row).
    email_change_to: str | None = None
    email_change_link_sha256: str | None = None
    email_change_expires_at: str | None = None
    replaced_emails: list[list[str]] = field(default_factory=list)

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)  # an account opened with FranceConnect may have none

    @classmethod
    def opened_from(cls, details: PendingDetails, holder_id: str, request_id: str, at: datetime) -> Account:
        """The account a confirmed request becomes: what the form said, minus what only a request needs."""
        kept = {f.name: getattr(details, f.name) for f in fields(cls) if hasattr(details, f.name)}
        return cls(**kept, holder_id=holder_id, request_id=request_id, activated_at=at.isoformat())


@dataclass
class PasswordReset:
    reset_id: str
    holder_id: str
    requested_at: str
    token_sha256: str | None = None
    expires_at: str | None = None
    used_at: str | None = None
