"""The platform as containers: the `dev` overlay played by podman against the suite's own stack (Kafka, Redis,
nginx from tests/conftest.py, the controlled SMTP server), with the images of ``make images``.

``platform`` is overridden here, so a test written for the processes (the e2e journey) runs unchanged
against the containers. Run by ``make test-containers``; ``make test`` leaves this folder out.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Platform, local_services, stack  # type: ignore[attr-defined]  # deploy/local modules
from tests.containers import play
from tests.support.smtp_server import ControlledSmtpServer


@dataclass
class Played:
    """The played pods, the manifests they came from and what was measured while they started."""

    platform: Platform
    kube_yaml: Path
    manifests: dict[str, dict[str, Any]]  # rendered Deployments by name
    ports: dict[str, int]
    ready_after_s: dict[str, float] = field(default_factory=dict)
    down: bool = False

    def container(self, name: str) -> dict[str, Any]:
        [container] = self.manifests[name]["spec"]["template"]["spec"]["containers"]
        return dict(container)

    def probe(self, name: str, kind: str) -> play.Probe:
        return play.Probe.of(self.container(name), kind, self.ports[name])


@pytest.fixture(scope="session")
def podman_ready() -> None:
    reason = play.unavailable()
    if reason is not None:
        pytest.fail(f"the container tests cannot run here: {reason}", pytrace=False)


@pytest.fixture(scope="session")
def played(podman_ready: None, stack_state: stack.StackState) -> Iterator[Played]:
    var = Path(stack_state.var)
    keys = var / "keys"
    local_services.ensure_keys(keys)  # the Secrets' values, also read by the tests (holder ids)
    ports = {name: getattr(stack_state.ports, name) for name in play.SERVICES}
    env = play.Environment(
        kafka=stack_state.kafka_bootstrap,
        redis_urls={
            n: f"redis://{stack.LOOPBACK}:{stack_state.ports.redis}/{local_services.REDIS_DB[n]}" for n in play.SERVICES
        },
        smtp_port=stack_state.ports.smtp,
        gateway=f"http://{stack.LOOPBACK}:{stack_state.ports.gateway}",
        ports=ports,
        keys_dir=keys,
    )
    objs = play.rendered()
    kube_yaml = play.write_kube_yaml(play.environment_values(objs, env), var / "kube.yaml")
    secrets = play.secrets(env)
    smtp = ControlledSmtpServer(stack_state.ports.smtp)
    smtp.start()
    play.create_secrets(secrets)
    result = Played(Platform(stack_state, smtp), kube_yaml, play.deployments(objs), ports)
    try:
        # A run that failed half-way (a pod refused to start) may have left its other pods behind.
        for name in play.SERVICES:
            play.podman("pod", "rm", "--force", play.pod_name(name), check=False)
        started = time.monotonic()
        play.podman("kube", "play", "--network", "host", str(kube_yaml))
        for name in play.SERVICES:
            # As the kubelet: the startup probe within its budget, then readiness.
            try:
                result.probe(name, "startupProbe").wait_success()
                result.probe(name, "readinessProbe").wait_success()
            except TimeoutError as e:
                logs = play.podman("logs", "--tail", "40", play.container_name(name), check=False)
                raise AssertionError(f"{name} did not come up: {e}\n{logs.stdout}{logs.stderr}") from e
            result.ready_after_s[name] = time.monotonic() - started
        yield result
    finally:
        if not result.down:
            play.podman("kube", "down", str(kube_yaml), check=False)
        play.remove_secrets(list(secrets))
        smtp.stop()


@pytest.fixture(scope="session")
def platform(played: Played) -> Platform:
    """The suite's Platform, served by the containers: same gateway, Kafka, Redis and SMTP server."""
    return played.platform
