"""SMTP delivery over aiosmtplib, with a small pool of reused connections.

Errors are mapped to the domain's :class:`TransientMailError` / :class:`PermanentMailError` so callers
never see aiosmtplib types. The rule:

* failures while *opening a session* (connect, greeting, EHLO, STARTTLS, AUTH) are transient whatever the
  code: they say nothing about the message, and parking every mail on the dead-letter topic because a
  password was rotated or the relay is starting up would lose them for good;
* failures of the *mail transaction* (MAIL FROM, RCPT TO, DATA) are classified by reply code: 4xx
  transient, 5xx permanent (see ``services.mailer.domain.policies.classify_smtp_reply``);
* network failures and timeouts are transient.

Each pooled connection has its own ``asyncio.Lock``: an SMTP session carries one transaction at a time,
and ``close()`` takes the same lock so it waits for the mail in flight instead of cutting it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import TracebackType
from typing import Self

import aiosmtplib

from services.mailer.domain.errors import MailDeliveryError, PermanentMailError, TransientMailError
from services.mailer.domain.policies import FailureClass, classify_smtp_reply, error_for_reply

# Reply code a server sends before closing the channel (RFC 5321 §3.8): the session is over.
_SERVICE_CLOSING = 421


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    # Implicit TLS from the first byte (port 465).
    use_tls: bool = False
    # STARTTLS: True = required, False = never, None = if the server offers it. Production should say True.
    start_tls: bool | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    # Seconds, for connecting and for each SMTP command.
    timeout: float = 10.0
    validate_certs: bool = True
    # PEM file of the CA(s) to trust for the server's certificate (a private relay); None = system CAs.
    cert_bundle: str | None = None
    # Name sent in EHLO; None lets aiosmtplib use the machine's FQDN.
    local_hostname: str | None = None
    # MAIL FROM (where bounces go); None uses the message's From address.
    envelope_sender: str | None = None
    # Concurrent SMTP sessions; sends beyond that wait for a free session.
    pool_size: int = 2
    # Many relays cap messages per session; reconnecting first avoids a 4xx on the next mail.
    max_messages_per_connection: int = 100
    # A session idle longer than this (seconds) is checked with NOOP before reuse: servers drop idle
    # sessions, and finding out in the middle of MAIL FROM would cost the mail an attempt.
    idle_check_after: float = 30.0

    def __post_init__(self) -> None:
        if self.use_tls and self.start_tls:
            raise ValueError("use_tls and start_tls are mutually exclusive")
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if self.pool_size < 1 or self.max_messages_per_connection < 1:
            raise ValueError("pool_size and max_messages_per_connection must be at least 1")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")


class _Connection:
    """One pooled SMTP session (opened lazily) and the lock that serialises its use."""

    def __init__(self) -> None:
        self.client: aiosmtplib.SMTP | None = None
        self.lock = asyncio.Lock()
        self.sent = 0
        self.last_used = 0.0

    def discard(self) -> None:
        """Drop the session without a polite QUIT: its state is unknown after an error."""
        if self.client is not None:
            self.client.close()
        self.client = None


_NETWORK_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)


class SmtpMailer:
    """Sends composed messages. Safe to share between concurrent consumers.

    ``send`` raises :class:`TransientMailError` or :class:`PermanentMailError`; the caller decides about
    retries (``services.mailer.domain.policies.outcome_for_failure``). No retry happens in here, so a
    caller's back-off schedule is the only one and one slow mail never holds a session for long.
    """

    def __init__(self, settings: SmtpSettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._connections = [_Connection() for _ in range(settings.pool_size)]
        # LIFO: the most recently used (still open) session is handed out first, so a light load keeps
        # reusing one connection and the others are only opened when sends actually overlap.
        self._free: asyncio.LifoQueue[_Connection] = asyncio.LifoQueue()
        for conn in reversed(self._connections):
            self._free.put_nowait(conn)
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` to the recipients in its headers; return once the server accepted it."""
        if self._closed:
            raise RuntimeError("SmtpMailer is closed")
        conn = await self._free.get()
        try:
            async with conn.lock:
                if self._closed:
                    raise RuntimeError("SmtpMailer is closed")
                await self._send_on(conn, message)
        finally:
            self._free.put_nowait(conn)

    async def close(self) -> None:
        """Finish the mails in flight, then QUIT every open session. Idempotent."""
        self._closed = True
        for conn in self._connections:
            async with conn.lock:
                await self._quit(conn)

    # --- internals -------------------------------------------------------------------------------------

    async def _send_on(self, conn: _Connection, message: EmailMessage) -> None:
        try:
            client = await self._session(conn)
        except asyncio.CancelledError:
            conn.discard()
            raise
        except _NETWORK_ERRORS as exc:
            conn.discard()
            code = exc.code if isinstance(exc, aiosmtplib.SMTPResponseException) else None
            raise TransientMailError(f"cannot open SMTP session: {_describe(exc)}", code) from exc

        try:
            await client.send_message(message, sender=self._settings.envelope_sender)
        except asyncio.CancelledError:
            # Cancelled mid-transaction (shutdown): the session is in an unknown state.
            conn.discard()
            raise
        except aiosmtplib.SMTPRecipientsRefused as exc:
            # aiosmtplib already sent RSET, so the session stays usable.
            raise _recipients_error(exc) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == _SERVICE_CLOSING or not client.is_connected:
                conn.discard()
            raise error_for_reply(exc.code, exc.message) from exc
        except aiosmtplib.SMTPNotSupported as exc:
            # E.g. a non-ASCII address and a server without SMTPUTF8: this message can never go there.
            raise PermanentMailError(None, exc.message) from exc
        except _NETWORK_ERRORS as exc:
            conn.discard()
            raise TransientMailError(_describe(exc)) from exc
        except ValueError as exc:
            # aiosmtplib refuses addresses it cannot put safely on the wire, before talking to the server.
            raise PermanentMailError(None, f"invalid message: {exc}") from exc
        # With a single recipient (how compose() builds mails) a refusal always raises above; partial
        # refusals of multi-recipient messages are not reported.
        conn.sent += 1
        conn.last_used = self._clock()

    async def _session(self, conn: _Connection) -> aiosmtplib.SMTP:
        """An open session on ``conn``: the current one if still healthy, otherwise a new one."""
        client = conn.client
        if client is not None and client.is_connected:
            if conn.sent >= self._settings.max_messages_per_connection:
                await self._quit(conn)
            elif self._clock() - conn.last_used > self._settings.idle_check_after:
                try:
                    await client.noop()
                except _NETWORK_ERRORS:
                    conn.discard()
                else:
                    return client
            else:
                return client
        conn.discard()

        s = self._settings
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.use_tls,
            start_tls=s.start_tls,
            username=s.username,
            password=s.password,
            timeout=s.timeout,
            validate_certs=s.validate_certs,
            cert_bundle=s.cert_bundle,
            local_hostname=s.local_hostname,
        )
        try:
            await client.connect()
        except BaseException:
            client.close()
            raise
        conn.client = client
        conn.sent = 0
        conn.last_used = self._clock()
        return client

    async def _quit(self, conn: _Connection) -> None:
        client = conn.client
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except _NETWORK_ERRORS:
                pass  # QUIT is a courtesy; the socket is closed below either way.
        conn.discard()


def _recipients_error(exc: aiosmtplib.SMTPRecipientsRefused) -> MailDeliveryError:
    refusals = exc.recipients
    if not refusals:
        return TransientMailError("all recipients refused")
    # Retry if any refusal is temporary: the mail may still reach that recipient later.
    for refusal in refusals:
        if classify_smtp_reply(refusal.code) is FailureClass.TRANSIENT:
            return TransientMailError(refusal.message, refusal.code)
    first = refusals[0]
    return PermanentMailError(first.code, first.message)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
