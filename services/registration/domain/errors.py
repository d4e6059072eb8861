"""Errors shared by the registration rules.

A :class:`FieldError` is what the HTTP layer returns in a 422 body: a stable English ``code`` that
clients and tests rely on, and a French ``message`` telling the holder precisely what to fix.
A :class:`DomainError` is raised by state transitions (lifecycle, NIR parsing) and carries the same
pair, so the web pages can show the message without a lookup table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One refusal on one form field (``field`` uses dots for nested fields: ``address.postcode``)."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class DomainError(Exception):
    """Base of the registration domain's exceptions: a stable ``code`` and a French ``message``."""

    code: str = "domain_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r})"
