"""SmtpMailer against a real aiosmtpd server on loopback, started by each test."""

from __future__ import annotations

import asyncio
import email
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from services.mailer.adapters.smtp import SmtpMailer, SmtpSettings
from services.mailer.adapters.templates import JinjaTemplateRenderer
from services.mailer.domain import (
    MailSettings,
    PermanentMailError,
    TransientMailError,
    WelcomeMail,
    compose,
)

NOW = datetime(2025, 3, 1, 13, 5, tzinfo=UTC)
TO = "chloe.dupont@exemple.fr"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Handler:
    """Records accepted mails; ``rcpt_reply`` / ``data_reply`` make the server refuse instead."""

    def __init__(self) -> None:
        self.received: list[Envelope] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self.data_delay: float = 0.0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.data_reply:
            return self.data_reply
        self.received.append(envelope)
        return "250 2.0.0 Message accepted"


class CountingController(Controller):
    """Counts the SMTP sessions the server opened (one protocol instance per TCP connection)."""

    def __init__(self, handler: Handler, port: int, **kwargs: Any) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=port, **kwargs)
        self.connections = 0

    def factory(self) -> SMTP:
        self.connections += 1
        smtp = super().factory()  # type: ignore[no-untyped-call]  # aiosmtpd ships no annotations here
        assert isinstance(smtp, SMTP)
        return smtp

    def start(self) -> None:
        super().start()
        self.connections = 0  # start() opens one probe connection of its own


@pytest.fixture
def handler() -> Handler:
    return Handler()


@pytest.fixture
def server(handler: Handler) -> Iterator[CountingController]:
    controller = CountingController(handler, free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
async def mailer(server: CountingController) -> AsyncIterator[SmtpMailer]:
    smtp = SmtpMailer(SmtpSettings(host="127.0.0.1", port=server.port, timeout=5, start_tls=False))
    yield smtp
    await smtp.close()


def welcome(settings: MailSettings, renderer: JinjaTemplateRenderer, event_id: str = "evt-1") -> EmailMessage:
    mail = WelcomeMail(TO, "Chloé")
    return compose(mail, settings=settings, renderer=renderer, event_id=event_id, now=NOW).message


async def test_delivers_the_exact_message(
    mailer: SmtpMailer,
    server: CountingController,
    handler: Handler,
    settings: MailSettings,
    renderer: JinjaTemplateRenderer,
) -> None:
    message = welcome(settings, renderer)
    await mailer.send(message)

    assert len(handler.received) == 1
    envelope = handler.received[0]
    assert envelope.mail_from == "ne-pas-repondre@moncompteformation.test"
    assert envelope.rcpt_tos == [TO]
    assert isinstance(envelope.content, bytes)
    got = email.message_from_bytes(envelope.content, policy=policy.default)
    for header in ("Message-ID", "Date", "From", "To", "Subject", "Auto-Submitted"):
        assert got[header] == message[header], header
    assert got["Subject"] == "Bienvenue dans votre compte personnel de formation"
    assert got["From"] == "Mon Compte Formation <ne-pas-repondre@moncompteformation.test>"
    body = got.get_body(("plain",))
    assert body is not None
    assert "Votre compte personnel sécurisé est activé" in body.get_content()
    # Byte for byte what we composed.
    assert envelope.content.rstrip(b"\r\n") == message.as_bytes().rstrip(b"\r\n")


async def test_envelope_sender_is_configurable(
    server: CountingController, handler: Handler, settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    async with SmtpMailer(
        SmtpSettings(host="127.0.0.1", port=server.port, envelope_sender="bounces@moncompteformation.test")
    ) as smtp:
        await smtp.send(welcome(settings, renderer))
    assert handler.received[0].mail_from == "bounces@moncompteformation.test"


async def test_connection_is_reused(
    mailer: SmtpMailer,
    server: CountingController,
    handler: Handler,
    settings: MailSettings,
    renderer: JinjaTemplateRenderer,
) -> None:
    await mailer.send(welcome(settings, renderer, "evt-1"))
    await mailer.send(welcome(settings, renderer, "evt-2"))
    assert len(handler.received) == 2
    assert server.connections == 1


async def test_concurrent_sends_share_a_bounded_pool(
    server: CountingController, handler: Handler, settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    handler.data_delay = 0.02  # make the sends overlap
    async with SmtpMailer(SmtpSettings(host="127.0.0.1", port=server.port, pool_size=3)) as smtp:
        await asyncio.gather(*(smtp.send(welcome(settings, renderer, f"evt-{i}")) for i in range(20)))
    assert len(handler.received) == 20
    assert 1 < server.connections <= 3
    ids = {email.message_from_bytes(e.content)["Message-ID"] for e in handler.received}  # type: ignore[arg-type]
    assert len(ids) == 20


async def test_451_is_transient(
    mailer: SmtpMailer, handler: Handler, settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    handler.data_reply = "451 4.3.0 Try again later"
    with pytest.raises(TransientMailError) as caught:
        await mailer.send(welcome(settings, renderer))
    assert caught.value.code == 451
    assert "Try again later" in caught.value.reason
    assert handler.received == []


async def test_550_is_permanent_and_the_session_stays_usable(
    mailer: SmtpMailer,
    server: CountingController,
    handler: Handler,
    settings: MailSettings,
    renderer: JinjaTemplateRenderer,
) -> None:
    handler.rcpt_reply = "550 5.1.1 User unknown"
    with pytest.raises(PermanentMailError) as caught:
        await mailer.send(welcome(settings, renderer))
    assert caught.value.code == 550
    assert "User unknown" in caught.value.reason

    handler.rcpt_reply = None
    await mailer.send(welcome(settings, renderer, "evt-2"))
    assert len(handler.received) == 1
    assert server.connections == 1


async def test_550_on_data_is_permanent(
    mailer: SmtpMailer, handler: Handler, settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    handler.data_reply = "554 5.7.1 Message rejected"
    with pytest.raises(PermanentMailError) as caught:
        await mailer.send(welcome(settings, renderer))
    assert caught.value.code == 554


async def test_421_drops_the_session_and_the_next_send_reconnects(
    mailer: SmtpMailer,
    server: CountingController,
    handler: Handler,
    settings: MailSettings,
    renderer: JinjaTemplateRenderer,
) -> None:
    handler.data_reply = "421 4.3.2 Service shutting down"
    with pytest.raises(TransientMailError):
        await mailer.send(welcome(settings, renderer))
    handler.data_reply = None
    await mailer.send(welcome(settings, renderer, "evt-2"))
    assert len(handler.received) == 1
    assert server.connections == 2


async def test_closed_port_is_transient(settings: MailSettings, renderer: JinjaTemplateRenderer) -> None:
    async with SmtpMailer(SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2)) as smtp:
        with pytest.raises(TransientMailError) as caught:
            await smtp.send(welcome(settings, renderer))
    assert caught.value.code is None
    assert "cannot open SMTP session" in caught.value.reason


async def test_silent_server_times_out_as_transient(settings: MailSettings, renderer: JinjaTemplateRenderer) -> None:
    async def never_greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accept the TCP connection, never send the 220 greeting
        writer.close()

    silent = await asyncio.start_server(never_greet, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        async with SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, timeout=0.3)) as smtp:
            with pytest.raises(TransientMailError):
                await smtp.send(welcome(settings, renderer))
    finally:
        silent.close()
        await silent.wait_closed()


async def test_server_down_then_back_loses_nothing(
    handler: Handler, settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    port = free_port()
    first = CountingController(handler, port)
    first.start()
    async with SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, timeout=2)) as smtp:
        await smtp.send(welcome(settings, renderer, "evt-1"))
        first.stop()
        with pytest.raises(TransientMailError):
            await smtp.send(welcome(settings, renderer, "evt-2"))
        second = CountingController(handler, port)
        second.start()
        try:
            await smtp.send(welcome(settings, renderer, "evt-2"))
        finally:
            second.stop()
    assert len(handler.received) == 2


async def test_session_rotated_after_max_messages(
    server: CountingController, handler: Handler, settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    smtp_settings = SmtpSettings(host="127.0.0.1", port=server.port, max_messages_per_connection=2)
    async with SmtpMailer(smtp_settings) as smtp:
        for i in range(5):
            await smtp.send(welcome(settings, renderer, f"evt-{i}"))
    assert len(handler.received) == 5
    assert server.connections == 3


async def test_idle_session_is_checked_and_reused(
    server: CountingController, handler: Handler, settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    clock = [0.0]
    smtp_settings = SmtpSettings(host="127.0.0.1", port=server.port, idle_check_after=30)
    async with SmtpMailer(smtp_settings, clock=lambda: clock[0]) as smtp:
        await smtp.send(welcome(settings, renderer, "evt-1"))
        clock[0] += 3600  # idle for an hour: NOOP first, the session is still alive
        await smtp.send(welcome(settings, renderer, "evt-2"))
    assert len(handler.received) == 2
    assert server.connections == 1


def accept_only(password: str) -> Any:
    def authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    return authenticator


@pytest.mark.filterwarnings("ignore::UserWarning")
async def test_authentication(handler: Handler, settings: MailSettings, renderer: JinjaTemplateRenderer) -> None:
    port = free_port()
    controller = CountingController(
        handler, port, auth_required=True, auth_require_tls=False, authenticator=accept_only("s3cret")
    )
    controller.start()
    try:
        good = SmtpSettings(host="127.0.0.1", port=port, username="mailer", password="s3cret")
        async with SmtpMailer(good) as smtp:
            await smtp.send(welcome(settings, renderer))
        assert len(handler.received) == 1

        # A wrong password is a setup problem, not the message's fault: transient, never dead-lettered.
        bad = SmtpSettings(host="127.0.0.1", port=port, username="mailer", password="wrong")
        async with SmtpMailer(bad) as smtp:
            with pytest.raises(TransientMailError) as caught:
                await smtp.send(welcome(settings, renderer, "evt-2"))
        assert caught.value.code == 535
    finally:
        controller.stop()


async def test_send_after_close_is_refused(
    mailer: SmtpMailer, settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    await mailer.send(welcome(settings, renderer))
    await mailer.close()
    await mailer.close()  # idempotent
    with pytest.raises(RuntimeError):
        await mailer.send(welcome(settings, renderer))


def test_settings_validation() -> None:
    with pytest.raises(ValueError):
        SmtpSettings(use_tls=True, start_tls=True)
    with pytest.raises(ValueError):
        SmtpSettings(username="u")
    with pytest.raises(ValueError):
        SmtpSettings(pool_size=0)
    assert "hunter2" not in repr(SmtpSettings(username="u", password="hunter2"))
