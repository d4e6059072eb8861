"""Every setting of the registration service, read from the environment in this one place (``MCF_``)."""

from __future__ import annotations

from pydantic import SecretStr

from eventing.settings import HolderKey, LinkKey


class Settings(LinkKey, HolderKey):  # the link key (shared with the mailer), the holder-id key (with rights)
    redis_url: str = "redis://127.0.0.1:6379/0"
    http_port: int = 8101

    # Secrets: generated once under keys_dir locally, Kubernetes Secrets in a cluster.
    session_private_key_pem: SecretStr | None = None  # else keys_dir/session-signing.pem

    cgu_version: str = "2026-01"
    request_lifetime_h: float = 7 * 24
    link_lifetime_h: float = 24
    resend_cooldown_s: int = 60
    max_resends: int = 5
    access_token_ttl_s: int = 300  # short: the session cookie, revocable at once, renews it
    session_ttl_s: int = 8 * 3600
    password_reset_ttl_h: float = 1
    reset_cooldown_s: int = 60
    purge_interval_s: int = 300
    allow_test_email_domains: bool = False
    signups_per_address: int = 30  # per 10 minutes: each sign-up issues a check and may send mail
    max_body_bytes: int = 64 * 1024  # the gateway's client_max_body_size is the same
