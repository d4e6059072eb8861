"""How every service connects to Kafka and sits behind proxies: one place, from ``MCF_*`` variables.

Locally the broker listens in plain text on loopback; on Kubernetes (Strimzi) each service logs in with
its own SCRAM-SHA-512 user over TLS, which is what makes the per-service ACLs apply.
"""

from __future__ import annotations

import secrets
import socket
import ssl
from pathlib import Path
from typing import Any, Literal

from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from eventing.secrets import hex_key


class ConnectionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MCF_", extra="ignore")

    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None  # the cluster CA (Strimzi's <cluster>-cluster-ca-cert)
    # Proxies whose X-Forwarded-For is believed (the Ingress controller's addresses in a cluster),
    # so that per-client limits see the holder's address, not the proxy's.
    forwarded_allow_ips: str = "127.0.0.1"
    # This process's stable name (the pod's name on Kubernetes, the host's locally): consumers join their
    # groups as static members named after it, so a restarted process takes its partitions back at once
    # instead of waiting for a rebalance, and its transactional producer fences its previous life.
    instance_id: str = socket.gethostname()
    # How long the offset of a handled message may wait to be committed together with others
    # (eventing.offsets); 0 commits each message's offset on its own, at once.
    commit_interval_ms: int = 500
    # How long a consumer's fetch waits at the broker for a record before it is answered empty (a record
    # arriving answers it at once): how often an idle consumer asks again. 5 s saved the idle services
    # 1-2 ms of CPU a second but cost the broker ~1 ms more per sign-up (bench/README.md, issue 16).
    fetch_max_wait_ms: int = 500
    # How often a consumer tells its group coordinator it is alive; a member joining is learnt of at the
    # next one (see eventing.consuming).
    heartbeat_interval_ms: int = 500

    def ssl_context(self) -> ssl.SSLContext | None:
        if self.kafka_security_protocol == "PLAINTEXT":
            return None
        return ssl.create_default_context(cafile=self.kafka_ssl_cafile)

    def broker_security(self) -> BaseSecurity | None:
        """For FastStream's KafkaBroker."""
        context = self.ssl_context()
        if self.kafka_security_protocol == "SASL_SSL":
            if not self.kafka_sasl_username or self.kafka_sasl_password is None:
                raise ValueError("SASL_SSL needs MCF_KAFKA_SASL_USERNAME and MCF_KAFKA_SASL_PASSWORD")
            scram = SASLScram512 if self.kafka_sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
            return scram(self.kafka_sasl_username, self.kafka_sasl_password.get_secret_value(), ssl_context=context)
        if context is not None:
            return BaseSecurity(ssl_context=context)
        return None

    def client_kwargs(self) -> dict[str, Any]:
        """For plain aiokafka clients (replays, topic administration)."""
        kwargs: dict[str, Any] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_security_protocol != "PLAINTEXT":
            kwargs["ssl_context"] = self.ssl_context()
        if self.kafka_security_protocol == "SASL_SSL":
            kwargs.update(
                sasl_mechanism=self.kafka_sasl_mechanism,
                sasl_plain_username=self.kafka_sasl_username,
                sasl_plain_password=self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else None,
            )
        return kwargs


class ServiceSettings(BaseSettings):
    """What every service reads, declared once: its broker, its Redis, where it listens, its local keys.

    Each service's ``Settings`` derives from this and only changes the defaults that differ (its Redis
    database and its port). Kafka's security settings are :class:`ConnectionSettings`."""

    model_config = SettingsConfigDict(env_prefix="MCF_", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    redis_url: str = "redis://127.0.0.1:6379/0"
    http_host: str = "127.0.0.1"
    http_port: int = 8100
    public_base_url: str = "http://127.0.0.1:8000"  # what holders' browsers see (links, secure cookies)
    # Local secrets are generated once under this folder; on Kubernetes they come from Secrets.
    keys_dir: Path = Path("var/local/keys")


class HolderKey(ServiceSettings):
    """The key of the pseudonymous holder id (``contracts.identity``), held by registration, which names
    holders by it, and rights, which meets their NIRs in partner declarations. A Kubernetes Secret
    (``holder-id-key``, hex); locally generated once under ``keys_dir``."""

    holder_id_key: SecretStr | None = None

    def holder_key(self) -> bytes:
        configured = self.holder_id_key.get_secret_value() if self.holder_id_key else None
        return hex_key(self.keys_dir, "holder-id.key", configured, secrets.token_hex(32))


class LinkKey(ServiceSettings):
    """The key the e-mailed links' tokens are derived from (``contracts.links``), held by registration,
    which records the links, and the mailer, which writes them. A Kubernetes Secret (``link-token-key``,
    hex); locally generated once under ``keys_dir``."""

    link_token_key: SecretStr | None = None

    def link_key(self) -> bytes:
        configured = self.link_token_key.get_secret_value() if self.link_token_key else None
        return hex_key(self.keys_dir, "link-token.key", configured, secrets.token_hex(32))
