"""Every setting of the rights service, read from the environment in this one place (prefix ``MCF_``)."""

from __future__ import annotations

from eventing.settings import HolderKey


class Settings(HolderKey):  # broker, Redis, HTTP and the holder-id key shared with registration
    redis_url: str = "redis://127.0.0.1:6379/3"
    http_port: int = 8104

    session_public_key_pem: str | None = None  # else keys_dir/session-signing.pub (made by registration)

    def session_public_key(self) -> bytes:
        if self.session_public_key_pem:
            return self.session_public_key_pem.encode()
        return (self.keys_dir / "session-signing.pub").read_bytes()
