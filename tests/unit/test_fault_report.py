"""The fault suite's judge: which repeated mail is a bug and which is the SMTP transaction's own window."""

from __future__ import annotations

from email.message import EmailMessage

from tests.support.fault_report import in_smtp_window
from tests.support.smtp_server import ReceivedMail


def mail(message_id: str, at: float) -> ReceivedMail:
    message = EmailMessage()
    message["Message-ID"] = message_id
    message["Subject"] = "Bienvenue"
    return ReceivedMail(["lea@example.org"], message, received_at=at)


def test_a_repeat_with_a_mailer_crash_between_the_copies_is_the_smtp_window() -> None:
    assert in_smtp_window([mail("<a@x>", 100.0), mail("<a@x>", 160.0)], [101.5])
    assert in_smtp_window([mail("<a@x>", 100.0), mail("<a@x>", 148.5)], [111.0])  # a loaded machine


def test_any_other_repeat_is_a_duplicate() -> None:
    copies = [mail("<a@x>", 100.0), mail("<a@x>", 160.0)]
    assert not in_smtp_window(copies, [])  # no mailer crash: e.g. a report lost to Kafka re-sent the mail
    assert not in_smtp_window(copies, [99.0])  # killed before the first copy left: no excuse
    assert not in_smtp_window(copies, [170.0])  # killed after both copies: not the cause
    assert not in_smtp_window([mail("<a@x>", 100.0), mail("<b@x>", 160.0)], [101.0])  # two different mails
    assert not in_smtp_window([mail("<a@x>", 100.0)] * 3, [101.0])  # sent three times
