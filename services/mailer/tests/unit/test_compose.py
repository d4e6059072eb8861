"""Render every template through the real Jinja renderer and check the resulting messages."""

from __future__ import annotations

import email
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import jinja2
import pytest

from services.mailer.adapters.templates import DEFAULT_TEMPLATE_DIR, JinjaTemplateRenderer
from services.mailer.domain import (
    AccountReclaimedMail,
    ConfirmationLink,
    ConfirmationMail,
    DuplicateSignupMail,
    EmailChangedMail,
    EmailChangeLink,
    EmailChangeMail,
    EmailRestoredMail,
    MailKind,
    MailRequest,
    MailSettings,
    NewLoginMail,
    NotMeLink,
    OutgoingMail,
    PasswordResetLink,
    PasswordResetMail,
    RenderedMail,
    SignupCancelledMail,
    WelcomeMail,
    compose,
    message_id_for,
)

BASE_URL = "https://moncompteformation.test"
NOW = datetime(2025, 3, 1, 13, 5, tzinfo=UTC)
TO = "chloe.dupont@exemple.fr"
TOKEN = "T" * 43
DAY, HOUR = timedelta(hours=24), timedelta(hours=1)
FOOTER = "Merci de ne pas répondre directement à ce courriel"
SIGNATURE = "Votre correspondant CPF"


def make_request(kind: MailKind, settings: MailSettings, first_name: str | None = "Chloé") -> MailRequest:
    match kind:
        case MailKind.CONFIRMATION:
            return ConfirmationMail(TO, first_name, ConfirmationLink.build(settings, TOKEN, NOW, NOW + DAY))
        case MailKind.WELCOME:
            return WelcomeMail(TO, first_name)
        case MailKind.PASSWORD_RESET:
            return PasswordResetMail(TO, first_name, PasswordResetLink.build(settings, TOKEN, NOW, NOW + HOUR))
        case MailKind.DUPLICATE_SIGNUP:
            return DuplicateSignupMail(TO, first_name, attempted_at=NOW - timedelta(minutes=3))
        case MailKind.SIGNUP_CANCELLED:
            return SignupCancelledMail(TO, first_name, attempted_at=NOW - timedelta(minutes=3))
        case MailKind.ACCOUNT_RECLAIMED:
            return AccountReclaimedMail(TO, first_name, attempted_at=NOW - timedelta(minutes=3))
        case MailKind.NEW_LOGIN:
            link = NotMeLink.build(settings, TOKEN, NOW, NOW + HOUR)
            return NewLoginMail(TO, first_name, link, NOW - timedelta(minutes=1), "mot de passe", "Firefox sur Linux")
        case MailKind.EMAIL_CHANGE:
            return EmailChangeMail(TO, first_name, EmailChangeLink.build(settings, TOKEN, NOW, NOW + DAY))
        case MailKind.EMAIL_CHANGED:
            link = NotMeLink.build(settings, TOKEN, NOW, NOW + 7 * DAY)
            return EmailChangedMail(TO, first_name, link, changed_at=NOW - timedelta(minutes=1))
        case MailKind.EMAIL_RESTORED:
            return EmailRestoredMail(TO, first_name, attempted_at=NOW - timedelta(minutes=2))
    raise AssertionError(kind)


def build(
    kind: MailKind,
    settings: MailSettings,
    renderer: JinjaTemplateRenderer,
    event_id: str = "0b6c1e9e-7f43-4a52-9d8e-1f0a2b3c4d5e",
    first_name: str | None = "Chloé",
) -> OutgoingMail:
    mail = make_request(kind, settings, first_name)
    return compose(mail, settings=settings, renderer=renderer, event_id=event_id, now=NOW)


def reparse(outgoing: OutgoingMail) -> EmailMessage:
    """What the recipient's client sees: the message serialised to bytes and parsed back."""
    parsed = email.message_from_bytes(outgoing.message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    # Parts travel with CRLF line ends; compare with the templates' LF.
    return (
        str(text.get_content()).replace("\r\n", "\n"),
        str(html.get_content()).replace("\r\n", "\n"),
    )


ALL_KINDS = list(MailKind)
EXPECTED_SUBJECTS = {
    MailKind.CONFIRMATION: "Activez votre compte personnel de formation",
    MailKind.WELCOME: "Bienvenue dans votre compte personnel de formation",
    MailKind.PASSWORD_RESET: "Réinitialisation de votre mot de passe",
    MailKind.DUPLICATE_SIGNUP: "Tentative d'inscription avec votre numéro de sécurité sociale",
    MailKind.SIGNUP_CANCELLED: "Votre demande d'inscription a été annulée",
    MailKind.ACCOUNT_RECLAIMED: "Votre adresse n'est plus celle d'un compte personnel de formation",
    MailKind.NEW_LOGIN: "Nouvelle connexion à votre compte",
    MailKind.EMAIL_CHANGE: "Confirmez votre nouvelle adresse électronique",
    MailKind.EMAIL_CHANGED: "Votre adresse électronique a été modifiée",
    MailKind.EMAIL_RESTORED: "Votre adresse électronique n'est plus celle de votre compte",
}


def test_every_kind_has_all_three_templates() -> None:
    for kind in MailKind:
        for suffix in ("subject", "txt", "html"):
            assert (DEFAULT_TEMPLATE_DIR / f"{kind.value}.{suffix}.j2").is_file()
    JinjaTemplateRenderer().check()


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_headers(kind: MailKind, settings: MailSettings, renderer: JinjaTemplateRenderer) -> None:
    outgoing = build(kind, settings, renderer)
    message = reparse(outgoing)
    assert outgoing.kind is kind
    assert outgoing.recipient == TO
    assert message["Message-ID"] == outgoing.message_id
    assert re.fullmatch(r"<[0-9a-f]{32}@moncompteformation\.test>", outgoing.message_id)
    assert parsedate_to_datetime(message["Date"]) == NOW
    assert message["From"].addresses[0].display_name == "Mon Compte Formation"
    assert message["From"].addresses[0].addr_spec == "ne-pas-repondre@moncompteformation.test"
    assert message["To"].addresses[0].addr_spec == TO
    assert message["Subject"] == EXPECTED_SUBJECTS[kind]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Reply-To"] is None
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    for part in message.iter_parts():
        assert part.get_content_charset() == "utf-8"


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_raw_message_is_7bit_with_encoded_french_subject(
    kind: MailKind, settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    raw = build(kind, settings, renderer).message.as_bytes()
    raw.decode("ascii")  # every byte on the wire is ASCII: safe through any relay
    assert b"\r\n" in raw
    if not EXPECTED_SUBJECTS[kind].isascii():
        header = re.search(rb"^Subject: .*?\r\n(?! )", raw, re.MULTILINE | re.DOTALL)
        assert header is not None
        assert b"=?utf-8?" in header.group(0)  # RFC 2047 encoded word


def test_message_id_is_stable_per_event_and_kind(settings: MailSettings, renderer: JinjaTemplateRenderer) -> None:
    first = build(MailKind.WELCOME, settings, renderer, event_id="evt-1")
    retry = build(MailKind.WELCOME, settings, renderer, event_id="evt-1")
    other_event = build(MailKind.WELCOME, settings, renderer, event_id="evt-2")
    other_kind = build(MailKind.DUPLICATE_SIGNUP, settings, renderer, event_id="evt-1")
    assert first.message_id == retry.message_id
    assert first.message_id != other_event.message_id
    assert first.message_id != other_kind.message_id
    assert first.message_id == message_id_for("evt-1", MailKind.WELCOME, "moncompteformation.test")


def test_message_id_domain_can_be_configured(renderer: JinjaTemplateRenderer) -> None:
    settings = MailSettings(public_base_url=BASE_URL, message_id_domain="mailer.internal.test")
    assert build(MailKind.WELCOME, settings, renderer).message_id.endswith("@mailer.internal.test>")


def test_from_is_configurable(renderer: JinjaTemplateRenderer) -> None:
    settings = MailSettings(
        public_base_url=BASE_URL,
        from_address="no-reply@cpf.test",
        from_display_name="Caisse des Dépôts – CPF",
    )
    message = reparse(build(MailKind.WELCOME, settings, renderer))
    assert message["From"].addresses[0].display_name == "Caisse des Dépôts – CPF"
    assert message["From"].addresses[0].addr_spec == "no-reply@cpf.test"


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_footer_signature_and_french_text_in_both_parts(
    kind: MailKind, settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    text, html = parts(reparse(build(kind, settings, renderer)))
    for body in (text, html):
        assert "Bonjour" in body
        assert "Chloé" in body  # accents intact after transfer-decoding
        assert FOOTER in body
        assert SIGNATURE in body
        assert BASE_URL in body
        assert "{{" not in body and "{%" not in body
    assert '<html lang="fr">' in html
    assert "<img" not in html


LINK_PATHS = {
    MailKind.CONFIRMATION: "/activation?token=",
    MailKind.PASSWORD_RESET: "/mot-de-passe/nouveau?token=",
    MailKind.NEW_LOGIN: "/connexion/pas-moi?token=",
    MailKind.EMAIL_CHANGE: "/courriel/confirmation?token=",
    MailKind.EMAIL_CHANGED: "/connexion/pas-moi?token=",
}


@pytest.mark.parametrize("kind", list(LINK_PATHS))
def test_link_in_both_parts_button_and_text(
    kind: MailKind, settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    mail = make_request(kind, settings)
    assert isinstance(mail, ConfirmationMail | PasswordResetMail | NewLoginMail | EmailChangeMail | EmailChangedMail)
    outgoing = compose(mail, settings=settings, renderer=renderer, event_id="e", now=NOW)
    text, html = parts(reparse(outgoing))
    url = mail.link.url
    assert url == f"{BASE_URL}{LINK_PATHS[kind]}{mail.link.token}"
    assert url in text
    assert html.count(f'href="{url}"') == 2  # the button and the plain link
    assert f">{url}</a>" in html


def test_confirmation_wording(settings: MailSettings, renderer: JinjaTemplateRenderer) -> None:
    text, html = parts(reparse(build(MailKind.CONFIRMATION, settings, renderer)))
    assert "Ce lien est valable 24 heures, jusqu'au 2 mars 2025 à 14 h 05" in text
    assert "Activer mon compte" in html


def test_welcome_wording_from_the_real_mail(settings: MailSettings, renderer: JinjaTemplateRenderer) -> None:
    text, html = parts(reparse(build(MailKind.WELCOME, settings, renderer)))
    for body in (text, html):
        assert "Bienvenue dans votre compte personnel de formation." in body
        assert "Votre compte personnel sécurisé est activé, vous pouvez l'utiliser dès maintenant" in body
    assert f"{BASE_URL}/connexion" in text
    assert f'href="{BASE_URL}/connexion"' in html


def test_password_reset_wording(settings: MailSettings, renderer: JinjaTemplateRenderer) -> None:
    text, _ = parts(reparse(build(MailKind.PASSWORD_RESET, settings, renderer)))
    assert "Ce lien est valable 1 heure, jusqu'au 1er mars 2025 à 15 h 05" in text
    assert "votre mot de passe actuel reste valable" in text


def test_email_change_wording(settings: MailSettings, renderer: JinjaTemplateRenderer) -> None:
    text, html = parts(reparse(build(MailKind.EMAIL_CHANGE, settings, renderer)))
    assert "Ce lien est valable 24 heures, jusqu'au 2 mars 2025 à 14 h 05" in text
    assert "Une nouvelle demande de changement le remplace." in text
    assert "Confirmer ma nouvelle adresse" in html


def test_email_changed_tells_the_time_and_the_way_back_never_the_new_address(
    settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    text, html = parts(reparse(build(MailKind.EMAIL_CHANGED, settings, renderer)))
    for body in (text, html):
        assert "Le 1er mars 2025 à 14 h 04, l'adresse électronique de votre compte" in body
        assert "cette adresse redeviendra celle de votre compte" in body
        assert "8 mars 2025 à 14 h 05" in body
    assert "était pas moi" in html  # the button (its apostrophe is escaped)


def test_email_restored_tells_the_replaced_address_when_and_what_to_do_never_the_other_address(
    settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    text, html = parts(reparse(build(MailKind.EMAIL_RESTORED, settings, renderer)))
    for body in (text, html):
        assert "Le 1er mars 2025 à 14 h 03, une adresse électronique que votre compte" in body
        assert "recevez ce courriel n'est plus associée au compte" in body
        assert "identifiez-vous avec FranceConnect" in body
    assert "token" not in text


def test_duplicate_signup_gives_advice_and_only_the_time(
    settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    text, html = parts(reparse(build(MailKind.DUPLICATE_SIGNUP, settings, renderer)))
    for body in (text, html):
        assert "Le 1er mars 2025 à 14 h 02" in body
        assert f"{BASE_URL}/connexion" in body
        assert f"{BASE_URL}/mot-de-passe/oublie" in body
        assert "token" not in body


def test_missing_first_name_gives_plain_greeting(settings: MailSettings, renderer: JinjaTemplateRenderer) -> None:
    text, html = parts(reparse(build(MailKind.WELCOME, settings, renderer, first_name="  ")))
    assert text.startswith("Bonjour,\n")
    assert "<p>Bonjour,</p>" in html


def test_first_name_is_escaped_in_html_only(settings: MailSettings, renderer: JinjaTemplateRenderer) -> None:
    text, html = parts(reparse(build(MailKind.WELCOME, settings, renderer, first_name='<a href="x">Zoé</a>')))
    assert '<a href="x">Zoé</a>' in text
    assert "&lt;a href=&#34;x&#34;&gt;Zoé&lt;/a&gt;" in html
    assert '<a href="x">' not in html


def test_compose_is_deterministic(settings: MailSettings, renderer: JinjaTemplateRenderer) -> None:
    mail = make_request(MailKind.CONFIRMATION, settings)
    a = compose(mail, settings=settings, renderer=renderer, event_id="e", now=NOW).message
    b = compose(mail, settings=settings, renderer=renderer, event_id="e", now=NOW).message
    # Same bytes, MIME boundary included: a retry sends exactly what the first attempt sent.
    assert a.as_bytes() == b.as_bytes() == a.as_bytes()


class FakeRenderer:
    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.calls: list[tuple[MailKind, Mapping[str, object]]] = []

    def render(self, kind: MailKind, variables: Mapping[str, object]) -> RenderedMail:
        self.calls.append((kind, variables))
        return RenderedMail(subject=self.subject, text="texte\n\n\n", html="<p>html</p>\n")


def test_compose_with_any_renderer_and_subject_folded_to_one_line(settings: MailSettings) -> None:
    fake = FakeRenderer("  Objet\nsur deux\r\nlignes ")
    outgoing = compose(WelcomeMail(TO, "Chloé"), settings=settings, renderer=fake, event_id="e", now=NOW)
    assert outgoing.message["Subject"] == "Objet sur deux lignes"
    kind, variables = fake.calls[0]
    assert kind is MailKind.WELCOME
    assert variables["first_name"] == "Chloé"
    assert variables["login_url"] == f"{BASE_URL}/connexion"
    text, _ = parts(reparse(outgoing))
    assert text == "texte\n"


def test_empty_subject_is_refused(settings: MailSettings) -> None:
    with pytest.raises(ValueError, match="empty subject"):
        compose(WelcomeMail(TO, None), settings=settings, renderer=FakeRenderer(" \n"), event_id="e", now=NOW)


def test_compose_requires_aware_now_and_event_id(settings: MailSettings, renderer: JinjaTemplateRenderer) -> None:
    mail = WelcomeMail(TO, None)
    with pytest.raises(ValueError):
        compose(mail, settings=settings, renderer=renderer, event_id="e", now=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError):
        compose(mail, settings=settings, renderer=renderer, event_id="", now=NOW)


def test_unknown_template_variable_fails_loudly(tmp_path: Path, settings: MailSettings) -> None:
    for suffix, body in (("subject", "Objet"), ("txt", "{{ prenom }}"), ("html", "<p></p>")):
        (tmp_path / f"welcome.{suffix}.j2").write_text(body, encoding="utf-8")
    broken = JinjaTemplateRenderer(tmp_path)
    with pytest.raises(jinja2.UndefinedError):
        compose(WelcomeMail(TO, None), settings=settings, renderer=broken, event_id="e", now=NOW)
