"""Start and stop the four service processes against a running stack (``make run`` and the tests)."""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from pathlib import Path

import stack

SERVICES = ("registration", "captcha", "mailer", "rights")
REDIS_DB = {"registration": 0, "captcha": 1, "mailer": 2, "rights": 3}


def service_env(state: stack.StackState, name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    p = state.ports
    env = dict(os.environ)
    env.update(
        {
            "MCF_KAFKA_BOOTSTRAP_SERVERS": state.kafka_bootstrap,
            "MCF_REDIS_URL": f"redis://{stack.LOOPBACK}:{p.redis}/{REDIS_DB[name]}",
            "MCF_HTTP_HOST": stack.LOOPBACK,
            "MCF_HTTP_PORT": str(getattr(p, name)),
            "MCF_PUBLIC_BASE_URL": f"http://{stack.LOOPBACK}:{p.gateway}",
            "MCF_SMTP_HOST": stack.LOOPBACK,
            "MCF_SMTP_PORT": str(p.smtp),
            "MCF_KEYS_DIR": str(Path(state.var) / "keys"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if name == "registration":
        env.update(franceconnect_env(state))
    env.update(extra or {})
    return env


def franceconnect_env(state: stack.StackState) -> dict[str, str]:
    """Registration's client of the local FranceConnect (oidc_provider.py); on Kubernetes the issuer and
    URIs are FranceConnect's and the client id and secret come from Secrets (docs/identity.md)."""
    gateway = f"http://{stack.LOOPBACK}:{state.ports.gateway}"
    return {
        "MCF_FRANCECONNECT_ISSUER": f"http://{stack.LOOPBACK}:{state.ports.oidc}/franceconnect",
        "MCF_FRANCECONNECT_CLIENT_ID": "mcf-local",
        "MCF_FRANCECONNECT_CLIENT_SECRET": "local-provider-checks-no-secret",
        "MCF_FRANCECONNECT_REDIRECT_URI": f"{gateway}/connexion/franceconnect/retour",
        "MCF_FRANCECONNECT_POST_LOGOUT_REDIRECT_URI": f"{gateway}/deconnexion",
    }


def ensure_keys(keys_dir: Path) -> None:
    """Local secrets shared by two services (on Kubernetes: Secrets), made once before either starts:
    the holder-id key (registration, rights), the link key (registration, mailer), the session keys."""
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for shared in ("holder-id.key", "link-token.key"):
        key_file = keys_dir / shared
        if not key_file.exists():
            key_file.write_text(os.urandom(32).hex())
            key_file.chmod(0o600)
    pem = keys_dir / "session-signing.pem"
    if not pem.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.generate()
        pem.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        pem.chmod(0o600)
        (keys_dir / "session-signing.pub").write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )


def start(
    state: stack.StackState,
    names: tuple[str, ...] = SERVICES,
    extra_env: dict[str, dict[str, str]] | None = None,
    timeout: float = 60,
) -> dict[str, int]:
    ensure_keys(Path(state.var) / "keys")
    pids = {name: spawn(state, name, (extra_env or {}).get(name)) for name in names}
    state.save()
    for name in names:
        wait_ready(state, name, pids[name], timeout)
    return pids


def spawn(state: stack.StackState, name: str, extra_env: dict[str, str] | None = None) -> int:
    """Start one service process (not waiting for it) and record its pid in ``state``."""
    pid = stack.spawn(
        [sys.executable, "-m", f"services.{name}.app"],
        Path(state.var) / "logs" / f"{name}.log",
        env=service_env(state, name, extra_env),
        cwd=stack.ROOT,
    )
    state.pids[name] = pid
    return pid


def ready(state: stack.StackState, name: str) -> bool:
    """What a readiness probe sees: ``/readyz`` answers 200."""
    url = f"http://{stack.LOOPBACK}:{getattr(state.ports, name)}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def wait_ready(state: stack.StackState, name: str, pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not stack.alive(pid):
            logfile = Path(state.var) / "logs" / f"{name}.log"
            raise RuntimeError(f"{name} exited during start:\n{logfile.read_text()[-4000:]}")
        if ready(state, name):
            stack.log(f"{name} ready on http://{stack.LOOPBACK}:{getattr(state.ports, name)}")
            return
        time.sleep(0.3)
    raise TimeoutError(f"{name} not ready within {timeout:.0f}s")


def stop(state: stack.StackState, names: tuple[str, ...] = SERVICES) -> None:
    for name in names:
        pid = state.pids.pop(name, None)
        if pid:
            stack.stop_pid(pid, name, grace=25)
    state.save()
