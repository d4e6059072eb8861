"""Every setting of the registration service, read from the environment in this one place (``MCF_``)."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from eventing.settings import HolderKey, LinkKey
from services.registration.domain.email_change import CHANGES_PER_DAY, LINK_LIFETIME, RECENT_AUTH


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
    not_me_link_ttl_h: float = 7 * 24  # a warning's "Ce n'était pas moi" works this long
    reauth_window_s: int = int(RECENT_AUTH.total_seconds())  # password typed again: changes allowed so long
    email_change_link_ttl_h: float = LINK_LIFETIME.total_seconds() / 3600
    email_changes_per_day: int = CHANGES_PER_DAY
    purge_interval_s: int = 300
    allow_test_email_domains: bool = False
    signups_per_address: int = 30  # per 10 minutes: each sign-up issues a check and may send mail
    max_body_bytes: int = 64 * 1024  # the gateway's client_max_body_size is the same


class FranceConnectSettings(BaseSettings):
    """The OpenID Connect provider that verifies identities (docs/identity.md), ``MCF_FRANCECONNECT_``.

    Locally the provider of deploy/local/oidc_provider.py; in production FranceConnect's v2 issuer, with the
    client id and secret FranceConnect gives the service, from Secrets. No default points anywhere real.
    """

    model_config = SettingsConfigDict(env_prefix="MCF_FRANCECONNECT_", extra="ignore")

    issuer: str | None = None  # None: FranceConnect is off, the pages offer password sign-up only
    client_id: str | None = None
    client_secret: SecretStr | None = None
    redirect_uri: str | None = None  # must be registered with the provider, byte for byte
    post_logout_redirect_uri: str | None = None
    # FranceConnect v2 accepts client_secret_post or client_secret_basic; the client registration says which.
    token_endpoint_auth_method: str = "client_secret_post"  # noqa: S105 - a method name, not a secret
    acr_values: str = "eidas1"  # the assurance level asked for and required in the ID token
    scopes: str = "openid given_name family_name birthdate birthplace birthcountry gender email preferred_username"
    http_timeout_s: float = 5.0
    clock_leeway_s: int = 30  # tolerated clock difference when checking exp/iat
    # How long a started login may take at the provider before its state and nonce expire.
    login_lifetime_s: int = 600
