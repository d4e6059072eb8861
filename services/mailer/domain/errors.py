"""Delivery failures as the rest of the mailer sees them, whatever SMTP library raised them."""

from __future__ import annotations


class MailDeliveryError(Exception):
    """Base: the message was not accepted by the SMTP server."""

    reason: str


class TransientMailError(MailDeliveryError):
    """Try again later: 4xx reply, connection refused/lost, timeout, or a server-side setup problem.

    ``code`` is the SMTP reply code when the server gave one, ``None`` for network failures.
    """

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason if code is None else f"{code} {reason}")
        self.reason = reason
        self.code = code


class PermanentMailError(MailDeliveryError):
    """Retrying cannot help: 5xx reply about this message or recipient, or an address we cannot send to.

    ``code`` is ``None`` when the message was refused locally, before reaching the server.
    """

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(reason if code is None else f"{code} {reason}")
        self.code = code
        self.reason = reason
