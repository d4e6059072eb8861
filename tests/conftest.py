"""Session fixtures: the real local stack (Kafka, Redis, nginx), a controlled SMTP server and the four
service processes, started by the project's own scripts (deploy/local) on free loopback ports."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))

import launcher as local_services  # noqa: E402 - deploy/local/launcher.py
import oidc_provider  # noqa: E402 - deploy/local/oidc_provider.py
import stack  # noqa: E402 - deploy/local/stack.py

from tests.support.smtp_server import ControlledSmtpServer  # noqa: E402


@dataclass
class Platform:
    state: stack.StackState
    smtp: ControlledSmtpServer

    @property
    def kafka(self) -> str:
        return self.state.kafka_bootstrap

    @property
    def gateway(self) -> str:
        return f"http://{stack.LOOPBACK}:{self.state.ports.gateway}"

    def url(self, service: str) -> str:
        return f"http://{stack.LOOPBACK}:{getattr(self.state.ports, service)}"

    def redis_url(self, service: str) -> str:
        return f"redis://{stack.LOOPBACK}:{self.state.ports.redis}/{local_services.REDIS_DB[service]}"

    def restart(self, *names: str) -> None:
        local_services.stop(self.state, names)
        local_services.start(self.state, names, extra_env=TEST_ENV)


# Settings that make the suite fast and deterministic without changing behaviour under test.
TEST_ENV: dict[str, dict[str, str]] = {
    # Every test client is 127.0.0.1: the per-address sign-up limit is proven in its own test.
    "registration": {"MCF_LOG_LEVEL": "INFO", "MCF_SIGNUPS_PER_ADDRESS": "100000"},
    "captcha": {"MCF_LOG_LEVEL": "INFO"},
    "mailer": {
        "MCF_LOG_LEVEL": "INFO",
        "MCF_MAIL_RETRY_FIRST_DELAY_S": "0.5",
        "MCF_MAIL_RETRY_MAX_DELAY_S": "2",
    },
    "rights": {"MCF_LOG_LEVEL": "INFO"},
}


@pytest.fixture(scope="session")
def stack_state() -> Iterator[stack.StackState]:
    # One directory per run: several suites may run side by side on one machine.
    var = ROOT / "var" / f"test-stack-{os.getpid()}"
    shutil.rmtree(var, ignore_errors=True)
    state = stack.up(var, stack.Ports.free(), with_maildev=False, with_nginx=True, cache=ROOT / "var" / "cache")
    try:
        yield state
    finally:
        local_services.stop(state)
        stack.down(var)
        shutil.rmtree(var, ignore_errors=True)


@pytest.fixture(scope="session")
def platform(stack_state: stack.StackState) -> Iterator[Platform]:
    smtp = ControlledSmtpServer(stack_state.ports.smtp)
    smtp.start()
    # Registration's FranceConnect client points at the stack's provider (launcher.franceconnect_env);
    # stack.down stops it with the rest.
    oidc_provider.start_in_stack(stack_state, ROOT / "var" / "cache")
    local_services.start(stack_state, extra_env=TEST_ENV)
    try:
        yield Platform(stack_state, smtp)
    finally:
        local_services.stop(stack_state)
        smtp.stop()


# A client id the test provider answers with acr "eidas0" (below plain FranceConnect's eidas1), so the
# client's refusal of a weaker assurance level is tested against the real provider.
LOW_ASSURANCE_CLIENT_ID = "mcf-test-eidas0"


@pytest.fixture(scope="session")
def franceconnect() -> Iterator[oidc_provider.Provider]:
    """The OpenID Connect provider playing FranceConnect (deploy/local/oidc_provider.py) on a free loopback
    port, independent of the Kafka stack: only the tests that ask for it pay for its JVM."""
    var = ROOT / "var" / f"test-oidc-{os.getpid()}"
    shutil.rmtree(var, ignore_errors=True)
    provider = oidc_provider.start(
        var, free_port(), ROOT / "var" / "cache", acr_by_client={LOW_ASSURANCE_CLIENT_ID: "eidas0"}
    )
    try:
        yield provider
    finally:
        stack.stop_pid(provider.pid, "oidc provider", grace=5)
        shutil.rmtree(var, ignore_errors=True)


def free_port() -> int:
    return stack.free_listen_port()
