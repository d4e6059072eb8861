"""A real SMTP server on loopback that the suite controls: accept, answer 4xx/5xx, or go away."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class ReceivedMail:
    envelope_to: list[str]
    message: EmailMessage
    received_at: float = field(default_factory=time.monotonic)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def to(self) -> str:
        return str(self.message["To"])

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, "no text/plain part"
        return str(part.get_content())  # type: ignore[attr-defined]

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None, "no text/html part"
        return str(part.get_content())  # type: ignore[attr-defined]


class _Handler:
    def __init__(self, server: ControlledSmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        reply = self.server.reply_for_next()
        if reply is not None:
            return reply
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.server.record(ReceivedMail([str(r) for r in envelope.rcpt_tos], msg))
        return "250 OK queued"


class ControlledSmtpServer:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._mails: list[ReceivedMail] = []
        self._scripted: list[str] = []  # replies for the next DATA commands, in order
        self.connections = 0
        self._controller: Controller | None = None

    # control
    def start(self) -> None:
        if self._controller is not None:
            return
        server = self

        class _CountingSMTP(SMTP):
            def connection_made(self, transport: Any) -> None:
                server.connections += 1
                super().connection_made(transport)

        class _Controller(Controller):
            def factory(self) -> SMTP:
                return _CountingSMTP(self.handler, enable_SMTPUTF8=True)

        self._controller = _Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """The server goes away: connections are refused until start() again."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse_next(self, *replies: str) -> None:
        """Answer the next DATA commands with these replies, e.g. '451 4.3.0 try later'."""
        with self._lock:
            self._scripted.extend(replies)

    def reply_for_next(self) -> str | None:
        with self._lock:
            return self._scripted.pop(0) if self._scripted else None

    # observation
    def record(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._mails.append(mail)

    def mails_to(self, address: str) -> list[ReceivedMail]:
        with self._lock:
            return [m for m in self._mails if address.lower() in (r.lower() for r in m.envelope_to)]

    async def wait_for_mail(
        self, address: str, *, count: int = 1, timeout: float = 30.0, subject_contains: str | None = None
    ) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        while True:
            found = [
                m
                for m in self.mails_to(address)
                if subject_contains is None or subject_contains.lower() in m.subject.lower()
            ]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} mail(s) to {address} (subject~{subject_contains!r}), got {len(found)}: "
                    f"{[m.subject for m in self.mails_to(address)]}"
                )
            await asyncio.sleep(0.1)
