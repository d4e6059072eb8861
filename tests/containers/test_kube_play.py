"""The `dev` overlay's Deployments, played by podman from the images: they come up with the manifests' env,
probes and security context, carry the holder's journey, and drain on SIGTERM within their grace period.

The journey is the e2e test itself, imported: conftest.py's ``platform`` serves it from the containers.
The drain test runs last (it takes the pods down)."""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.containers import play
from tests.containers.conftest import Played
from tests.e2e.test_skeleton_journey import test_a_holder_signs_up_activates_and_sees_balances

pytestmark = pytest.mark.integration

__all__ = ["test_a_holder_signs_up_activates_and_sees_balances"]  # the journey, through the containers


def inspect(container: str) -> dict[str, object]:
    [info] = json.loads(play.podman("container", "inspect", container).stdout)
    return dict(info)


@pytest.mark.parametrize("name", play.SERVICES)
def test_every_probe_of_the_manifest_answers_on_the_container(played: Played, name: str) -> None:
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = played.probe(name, kind)
        assert probe.status() == 200, f"{name}: {kind} {probe.path} answers {probe.status()}"
    assert played.ready_after_s[name] < played.probe(name, "startupProbe").period_s * 60


@pytest.mark.parametrize("name", play.SERVICES)
def test_each_container_runs_with_the_manifests_security_context(played: Played, name: str) -> None:
    wanted = played.container(name)["securityContext"]
    container = play.container_name(name)
    info = inspect(container)
    config, host = info["Config"], info["HostConfig"]
    assert isinstance(config, dict) and isinstance(host, dict)
    assert str(config["User"]).split(":")[0] == str(wanted["runAsUser"])
    assert host["ReadonlyRootfs"] is wanted["readOnlyRootFilesystem"] is True
    assert info["EffectiveCaps"] in ([], None), "capabilities: drop ALL"
    assert "no-new-privileges" in (host.get("SecurityOpt") or []), "allowPrivilegeEscalation: false"
    # What the process really is and may do: not root, nothing written outside /tmp.
    uid = play.podman("exec", container, "python", "-c", "import os; print(os.getuid(), os.getgid())").stdout.split()
    pod = played.manifests[name]["spec"]["template"]["spec"]["securityContext"]
    assert uid == [str(wanted["runAsUser"]), str(pod["runAsGroup"])]
    denied = play.podman("exec", container, "python", "-c", "open('/app/written', 'w')", check=False)
    assert denied.returncode != 0 and "Read-only file system" in denied.stderr
    allowed = play.podman("exec", container, "python", "-c", "open('/tmp/written', 'w').write('x')", check=False)
    assert allowed.returncode == 0, allowed.stderr


@pytest.mark.parametrize("name", play.SERVICES)
def test_each_container_reads_the_manifests_env(played: Played, name: str) -> None:
    """What the overlay's ConfigMaps say is what the process sees (e.g. dev accepts test e-mail domains)."""
    env = play.podman("exec", play.container_name(name), "env").stdout.splitlines()
    seen = dict(line.split("=", 1) for line in env if "=" in line)
    overlay = {o["metadata"]["name"]: o for o in play.rendered() if o["kind"] == "ConfigMap"}
    [container] = played.manifests[name]["spec"]["template"]["spec"]["containers"]
    for source in container["envFrom"]:
        for key, value in overlay[source["configMapRef"]["name"]]["data"].items():
            if key in play.ENVIRONMENT_KEYS:
                continue  # the endpoints this test environment provides (play.py)
            assert seen.get(key) == value, f"{name}: {key}"


def test_sigterm_with_the_grace_period_drains_every_service(played: Played) -> None:
    """Last. What the kubelet does on a rollout or a drain: SIGTERM, then SIGKILL only after
    terminationGracePeriodSeconds. Each service stops its consumers and ends on the SIGTERM, not a SIGKILL,
    well within that period.

    podman 4.3's `kube down` stops pods with a zero timeout (SIGKILL at once: exit 137, no drain), so the pods
    are stopped first with the manifest's grace period (`podman pod stop --time`), then `kube down` removes
    them."""
    since = time.time()
    grace = {
        name: int(d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"])
        for name, d in played.manifests.items()
    }
    took: dict[str, float] = {}

    logs: dict[str, str] = {}

    def stop(name: str) -> None:
        started = time.monotonic()
        play.podman("pod", "stop", "--time", str(grace[name]), play.pod_name(name), timeout=grace[name] + 30)
        took[name] = time.monotonic() - started
        # The whole log of the stopped container, read before `kube down` removes it (a `logs -f` follower
        # attached earlier could lose the last lines when the container exits).
        final = play.podman("logs", play.container_name(name), check=False)
        logs[name] = final.stdout + final.stderr

    with ThreadPoolExecutor(len(play.SERVICES)) as pool:
        list(pool.map(stop, play.SERVICES))
    play.podman("kube", "down", str(played.kube_yaml))
    played.down = True
    died = play.podman(
        "events", "--stream=false", "--since", str(int(since) - 1), "--filter", "event=died", "--format", "json"
    ).stdout
    exits = {}
    for line in died.splitlines():
        event = json.loads(line)
        exits[event["Name"]] = event.get("ContainerExitCode", 0)
    for name in play.SERVICES:
        log = logs[name]
        assert f"{name} stopped" in log, f"{name} left its consumer groups cleanly:\n{log[-2000:]}"
        assert "Traceback" not in log.split("Shutting down")[-1], log[-2000:]
        # 143: uvicorn re-raises the SIGTERM it handled once shut down, tini reports it; 137 would be SIGKILL.
        code = exits.get(play.container_name(name))
        assert code in (0, 128 + signal.SIGTERM), f"{name} exit code {code}"
        assert took[name] < grace[name], f"{name} took {took[name]:.1f}s, grace period {grace[name]}s"
