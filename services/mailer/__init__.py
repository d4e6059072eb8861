"""Mailer service: the only service that talks SMTP (confirmation, welcome, reset and duplicate mails)."""
