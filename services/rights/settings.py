"""Every setting of the rights service, read from the environment in this one place (prefix ``MCF_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MCF_", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    redis_url: str = "redis://127.0.0.1:6379/3"
    http_host: str = "127.0.0.1"
    http_port: int = 8104

    # Shared with registration (Kubernetes Secrets; locally files under keys_dir made by the launcher).
    keys_dir: Path = Path("var/local/keys")
    holder_id_key: SecretStr | None = None  # hex; else keys_dir/holder-id.key
    session_public_key_pem: str | None = None  # else keys_dir/session-signing.pub

    def holder_key(self) -> bytes:
        if self.holder_id_key:
            return bytes.fromhex(self.holder_id_key.get_secret_value())
        return bytes.fromhex((self.keys_dir / "holder-id.key").read_text().strip())

    def session_public_key(self) -> bytes:
        if self.session_public_key_pem:
            return self.session_public_key_pem.encode()
        return (self.keys_dir / "session-signing.pub").read_bytes()
