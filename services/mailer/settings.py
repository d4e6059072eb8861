"""Every setting of the mailer, read from the environment in this one place (prefix ``MCF_``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr

from eventing.settings import LinkKey
from services.mailer.adapters.smtp import SmtpSettings
from services.mailer.domain.policies import RecipientCap, RetryPolicy
from services.mailer.domain.settings import MailSettings


class Settings(LinkKey):  # the link key (shared with registration)
    redis_url: str = "redis://127.0.0.1:6379/2"
    http_port: int = 8103

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_use_tls: bool = False
    smtp_start_tls: bool | None = None
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = 10.0
    smtp_pool_size: int = 2

    mail_from_address: str = "ne-pas-repondre@moncompteformation.example"
    mail_from_display_name: str = "Mon Compte Formation"
    recipient_cap_per_hour: int = 5
    mail_retry_first_delay_s: float = 1.0
    mail_retry_max_delay_s: float = 300.0
    mail_give_up_after_h: float = 24
    senders: int = 4  # concurrent SMTP senders: a slow mail never holds up the others
    send_lease_s: float = 60.0  # a claimed mail reappears after this if its sender died

    def mail(self) -> MailSettings:
        return MailSettings(
            public_base_url=self.public_base_url,
            from_address=self.mail_from_address,
            from_display_name=self.mail_from_display_name,
        )

    def smtp(self) -> SmtpSettings:
        return SmtpSettings(
            host=self.smtp_host,
            port=self.smtp_port,
            use_tls=self.smtp_use_tls,
            start_tls=self.smtp_start_tls,
            username=self.smtp_username,
            password=self.smtp_password.get_secret_value() if self.smtp_password else None,
            timeout=self.smtp_timeout_s,
            pool_size=self.smtp_pool_size,
        )

    def retry(self) -> RetryPolicy:
        return RetryPolicy(
            base_delay=timedelta(seconds=self.mail_retry_first_delay_s),
            max_delay=timedelta(seconds=self.mail_retry_max_delay_s),
            give_up_after=timedelta(hours=self.mail_give_up_after_h),
        )

    def cap(self) -> RecipientCap:
        return RecipientCap(max_mails=self.recipient_cap_per_hour, window=timedelta(hours=1))
