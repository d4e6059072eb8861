"""The one-time links e-mailed to holders (account confirmation, password reset), as two services agree.

Registration asks for a mail with a link (``MailRequested``) and the mailer writes it; neither sends the
link's token to the other. Both hold the same link key (a platform secret, like the holder-id key) and
derive the token from the mail's id:

    token = base64url(HMAC-SHA256(link key, "mcf/link/v1\\0" + mail_id)), without padding (43 characters)

so registration records the token's SHA-256 the moment it asks for the mail (a click can never be faster
than that), the mailer derives the very same token whenever it (re)composes the mail, even after a Redis
wipe, and the token itself is stored nowhere. The token carries 256 bits: unguessable without the key,
and a plain SHA-256 of it is enough to store (no KDF needed, unlike a password).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

CONTEXT = b"mcf/link/v1\x00"
MIN_KEY_BYTES = 16


def link_token(key: bytes, mail_id: str) -> str:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the link key must be at least {MIN_KEY_BYTES} bytes")
    digest = hmac.new(key, CONTEXT + mail_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_hash(token: str) -> str:
    """The only form of a token that may be stored: SHA-256, lower-case hex of its UTF-8 bytes."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_token_hash(key: bytes, mail_id: str) -> str:
    return token_hash(link_token(key, mail_id))
