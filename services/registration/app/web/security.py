"""The pages' signed tokens: the CSRF token of every form and the CGU token of the sign-up form.

CSRF: a random cookie and, in the form, its HMAC under a key derived from the page key (itself derived
from the holder-id secret), so that every replica agrees; a cross-origin ``Origin`` header is refused too.
CGU: the sign-up form is reached from the CGU step with a token naming the CGU version and when they were
accepted, so the form itself need not ask again (for two hours).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

CSRF_FIELD = "csrf_token"
CGU_TOKEN_FIELD = "cgu_token"  # noqa: S105 - a form field name, not a secret
CGU_TOKEN_LIFETIME_S = 2 * 3600
CSRF_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{32,64}")


class Signer:
    """HMAC-SHA256 under a key derived from a service secret; a purpose keeps signatures apart."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"mcf-registration-web-v1", hashlib.sha256).digest()

    def sign(self, purpose: str, value: str) -> str:
        mac = hmac.new(self._key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def verify(self, purpose: str, value: str, signature: str) -> bool:
        return bool(value) and hmac.compare_digest(self.sign(purpose, value), signature)


@dataclass(frozen=True)
class PageSecurity:
    signer: Signer
    secure_cookies: bool
    cgu_version: str

    @property
    def csrf_cookie(self) -> str:
        return "__Host-mcf_csrf" if self.secure_cookies else "mcf_csrf"

    def csrf_pair(self, request: Request) -> tuple[str, bool]:
        """The browser's CSRF cookie value, and whether it must be (re)set on this response."""
        current = request.cookies.get(self.csrf_cookie, "")
        if CSRF_COOKIE_VALUE.fullmatch(current):
            return current, False
        return secrets.token_urlsafe(32), True

    def csrf_form_token(self, cookie_value: str) -> str:
        return self.signer.sign("csrf", cookie_value)

    def set_csrf_cookie(self, response: Response, cookie_value: str) -> None:
        response.set_cookie(
            self.csrf_cookie,
            cookie_value,
            httponly=True,
            samesite="lax",
            secure=self.secure_cookies,
            path="/",
            max_age=None,
        )

    def csrf_ok(self, request: Request, submitted: str) -> bool:
        """A same-origin post whose form token signs the browser's CSRF cookie."""
        origin = request.headers.get("origin")
        if origin and origin != "null":
            host = request.headers.get("host", "")
            if origin.split("://", 1)[-1] != host:
                return False
        cookie = request.cookies.get(self.csrf_cookie, "")
        return self.signer.verify("csrf", cookie, submitted)

    def cgu_token(self) -> str:
        value = f"{self.cgu_version}.{int(time.time())}"
        return f"{value}.{self.signer.sign('cgu', value)}"

    def cgu_token_ok(self, token: str) -> bool:
        value, _, signature = token.rpartition(".")
        version, _, issued = value.rpartition(".")
        if not issued.isdigit() or version != self.cgu_version or not self.signer.verify("cgu", value, signature):
            return False
        return 0 <= time.time() - int(issued) <= CGU_TOKEN_LIFETIME_S
