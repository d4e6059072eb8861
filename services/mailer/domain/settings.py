"""What the mail rules need to know about the deployment, as a plain value (no environment reading here).

The app layer builds :class:`MailSettings` from its pydantic-settings object; the domain only validates
that the values make sense, so a typo in a URL fails at start-up rather than in a holder's inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class MailSettings:
    """Deployment-specific values used to build links and headers.

    ``public_base_url`` is what the holder's browser sees (e.g. ``https://moncompteformation.example``);
    every link in every mail is built from it, never from a request's Host header.
    """

    public_base_url: str
    from_address: str = "ne-pas-repondre@moncompteformation.example"
    from_display_name: str = "Mon Compte Formation"
    # Right-hand side of Message-ID; defaults to the From domain so ids are globally unique per sender.
    message_id_domain: str | None = None
    # Dates shown in mails are in the holder's legal time, not UTC.
    display_timezone: str = "Europe/Paris"
    # Paths of the web pages served by the registration service.
    activation_path: str = "/activation"
    password_reset_path: str = "/mot-de-passe/nouveau"  # noqa: S105 - a URL path
    password_reset_request_path: str = "/mot-de-passe/oublie"  # noqa: S105 - a URL path
    login_path: str = "/connexion"
    not_me_path: str = "/connexion/pas-moi"
    email_change_path: str = "/courriel/confirmation"

    def __post_init__(self) -> None:
        parts = urlsplit(self.public_base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"public_base_url must be an absolute http(s) URL, got {self.public_base_url!r}")
        if parts.query or parts.fragment:
            raise ValueError("public_base_url must not carry a query string or a fragment")
        # Normalise once so that every link is ``base + path`` without a double slash.
        object.__setattr__(self, "public_base_url", self.public_base_url.rstrip("/"))
        Address(addr_spec=self.from_address)  # raises on a malformed address
        if "@" not in self.from_address:
            raise ValueError(f"from_address must be a full address, got {self.from_address!r}")
        if "\n" in self.from_display_name or "\r" in self.from_display_name:
            raise ValueError("from_display_name must be a single line")
        paths = (
            "activation_path",
            "password_reset_path",
            "password_reset_request_path",
            "login_path",
            "not_me_path",
            "email_change_path",
        )
        for name in paths:
            if not getattr(self, name).startswith("/"):
                raise ValueError(f"{name} must start with '/'")
        try:
            ZoneInfo(self.display_timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown display_timezone {self.display_timezone!r}") from exc

    @property
    def mail_domain(self) -> str:
        """Domain used on the right of ``Message-ID``."""
        return self.message_id_domain or self.from_address.rpartition("@")[2]

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.display_timezone)

    def url(self, path: str) -> str:
        """Absolute URL of a page of the public site."""
        return f"{self.public_base_url}{path}"
