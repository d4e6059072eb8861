"""SmtpMailer over STARTTLS and implicit TLS, against aiosmtpd with a throw-away self-signed certificate."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.mailer.adapters.smtp import SmtpMailer, SmtpSettings
from services.mailer.adapters.templates import JinjaTemplateRenderer
from services.mailer.domain import MailSettings, TransientMailError, WelcomeMail, compose

NOW = datetime(2025, 3, 1, 13, 5, tzinfo=UTC)


class Handler:
    def __init__(self) -> None:
        self.received: list[Envelope] = []
        self.tls: list[bool] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        # STARTTLS shows in the session; implicit TLS in the transport.
        transport = server.transport
        implicit = transport is not None and transport.get_extra_info("ssl_object") is not None
        self.tls.append(session.ssl is not None or implicit)
        return "250 OK"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1; the cert file doubles as the CA bundle the client trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test smtp")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(handler: Handler, **kwargs: Any) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def handler() -> Handler:
    return Handler()


def welcome(settings: MailSettings, renderer: JinjaTemplateRenderer) -> Any:
    return compose(WelcomeMail("a@exemple.fr", None), settings=settings, renderer=renderer, event_id="e", now=NOW)


@pytest.fixture
def starttls_server(handler: Handler, certificate: tuple[Path, Path]) -> Iterator[Controller]:
    controller = start(handler, tls_context=server_context(certificate), require_starttls=True)
    yield controller
    controller.stop()


async def test_starttls_with_verified_certificate(
    starttls_server: Controller,
    handler: Handler,
    certificate: tuple[Path, Path],
    settings: MailSettings,
    renderer: JinjaTemplateRenderer,
) -> None:
    smtp_settings = SmtpSettings(
        host="127.0.0.1", port=starttls_server.port, start_tls=True, cert_bundle=str(certificate[0])
    )
    async with SmtpMailer(smtp_settings) as smtp:
        await smtp.send(welcome(settings, renderer).message)
    assert handler.tls == [True]


async def test_untrusted_certificate_is_refused_as_transient(
    starttls_server: Controller, handler: Handler, settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    smtp_settings = SmtpSettings(host="127.0.0.1", port=starttls_server.port, start_tls=True, timeout=5)
    async with SmtpMailer(smtp_settings) as smtp:
        with pytest.raises(TransientMailError):
            await smtp.send(welcome(settings, renderer).message)
    assert handler.received == []


async def test_required_starttls_missing_on_server_is_transient(
    handler: Handler, settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    plain = start(handler)
    try:
        async with SmtpMailer(SmtpSettings(host="127.0.0.1", port=plain.port, start_tls=True)) as smtp:
            with pytest.raises(TransientMailError):
                await smtp.send(welcome(settings, renderer).message)
    finally:
        plain.stop()
    assert handler.received == []


async def test_implicit_tls(
    handler: Handler, certificate: tuple[Path, Path], settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    server = start(handler, ssl_context=server_context(certificate))
    try:
        smtp_settings = SmtpSettings(host="127.0.0.1", port=server.port, use_tls=True, cert_bundle=str(certificate[0]))
        async with SmtpMailer(smtp_settings) as smtp:
            await smtp.send(welcome(settings, renderer).message)
    finally:
        server.stop()
    assert handler.tls == [True]
