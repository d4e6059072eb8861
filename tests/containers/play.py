"""The `dev` overlay played by podman (``podman kube play``) against the test stack, with the images of
``make images``.

What is played is the rendered overlay itself (tests/deploy/kustomize.py), narrowed and completed the way an
environment completes it, nothing else:

* kinds: the Deployments and ConfigMaps (podman 4.3 plays these; Services, Ingress, NetworkPolicies, PDBs,
  ServiceAccounts and the Strimzi/KEDA objects stay validated offline by tests/deploy);
* images: ``registry.dev.example/mcf/<name>:dev`` is ``localhost/mcf/<name>:dev``, as if pushed there;
* endpoints and credentials (what the cluster, its Secrets and the sandbox relay provide): the test broker in
  plain text, the test Redis, the suite's SMTP server (no STARTTLS, no login), the gateway as public origin;
  the Secrets go to podman's secret store, where ``secretKeyRef`` is resolved;
* network: podman's host network (no bridge on this machine kind), so each pod gets its own loopback port for
  ``http`` instead of 8080 (``MCF_HTTP_PORT`` in the service's ConfigMap), and no port mapping;
* what podman 4.3 cannot run: the CA-certificate Secret volume becomes an emptyDir (a plain-text broker needs
  no CA); emptyDir names get the pod's name (podman makes them named volumes, shared otherwise); the
  mailer's SMTP login is left out (the suite's server takes none); the probes are taken out of the YAML
  (podman would run them as ``curl`` inside the container through systemd timers: the image has no curl,
  the machine no systemd). The tests run them instead, with the manifest's own paths, ports and thresholds
  (``Probe``).
"""

from __future__ import annotations

import base64
import copy
import json
import os
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.kustomize import build

ROOT = Path(__file__).resolve().parents[2]
PODMAN = ROOT / "deploy" / "images" / "podman"  # podman with the project's configuration
OVERLAY = ROOT / "deploy" / "k8s" / "overlays" / "dev"
SERVICES = ("registration", "captcha", "mailer", "rights")
IMAGE_TAG = os.environ.get("MCF_IMAGE_TAG", "dev")
PLAYED_KINDS = ("ConfigMap", "Deployment")
# The ConfigMap values this test environment replaces (endpoints); every other value is the overlay's own.
ENVIRONMENT_KEYS = frozenset(
    {
        "MCF_KAFKA_BOOTSTRAP_SERVERS",
        "MCF_KAFKA_SECURITY_PROTOCOL",
        "MCF_PUBLIC_BASE_URL",
        "MCF_SMTP_HOST",
        "MCF_SMTP_PORT",
        "MCF_SMTP_START_TLS",
        "MCF_HTTP_PORT",
    }
)
LOOPBACK = "127.0.0.1"

Obj = dict[str, Any]


def podman(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(PODMAN), *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def image(name: str) -> str:
    return f"localhost/mcf/{name}:{IMAGE_TAG}"


def unavailable() -> str | None:
    """Why the containers cannot run here, in words for the person at the terminal; None when they can."""
    if shutil.which("podman") is None:
        return "podman is not installed: run `make images` (it installs podman, runc and mmdebstrap, as root)"
    if os.geteuid() != 0:
        return "the containers run as root on this machine kind (vfs storage, runc): run `sudo make test-containers`"
    missing = [image(n) for n in SERVICES if podman("image", "exists", image(n), check=False).returncode != 0]
    if missing:
        return f"images {', '.join(missing)} are not built: run `make images`"
    return None


def rendered() -> list[Obj]:
    return build(OVERLAY)


def deployments(objs: list[Obj]) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == "Deployment"}


@dataclass(frozen=True)
class Probe:
    """One of the manifest's probes, as the kubelet would run it against a container on ``port``."""

    kind: str
    path: str
    port: int
    period_s: float
    failure_threshold: int
    timeout_s: float

    @classmethod
    def of(cls, container: Obj, kind: str, local_port: int) -> Probe:
        """``container`` as rendered; its ``http`` port is ``local_port`` on the host network."""
        spec = container[kind]
        named = {p["name"]: p["containerPort"] for p in container["ports"]}
        target = spec["httpGet"]["port"]
        assert named.get(target, target) == named["http"], f"{kind} of {container['name']} targets {target}"
        return cls(
            kind,
            spec["httpGet"]["path"],
            local_port,
            float(spec.get("periodSeconds", 10)),
            int(spec.get("failureThreshold", 3)),
            float(spec.get("timeoutSeconds", 1)),
        )

    def status(self) -> int | None:
        try:
            with urllib.request.urlopen(f"http://{LOOPBACK}:{self.port}{self.path}", timeout=self.timeout_s) as r:
                return int(r.status)
        except urllib.error.HTTPError as e:
            return int(e.code)
        except OSError:
            return None

    def wait_success(self, budget_s: float | None = None) -> float:
        """Poll until 2xx within the probe's own budget (period x threshold); returns the seconds it took."""
        budget = budget_s if budget_s is not None else self.period_s * self.failure_threshold
        start = time.monotonic()
        while time.monotonic() - start < budget:
            status = self.status()
            if status is not None and 200 <= status < 300:
                return time.monotonic() - start
            time.sleep(0.5)
        raise TimeoutError(f"{self.kind} {self.path} on port {self.port} not successful within {budget:.0f}s")


@dataclass(frozen=True)
class Environment:
    """What the test stack provides in place of the cluster's Kafka, Redis, SMTP relay and Secrets."""

    kafka: str
    redis_urls: dict[str, str]
    smtp_port: int
    gateway: str
    ports: dict[str, int]
    keys_dir: Path


def secrets(env: Environment) -> dict[str, dict[str, str]]:
    keys = env.keys_dir
    plaintext = "unused: the test broker listens in plain text"
    return {
        "holder-id-key": {"key": (keys / "holder-id.key").read_text().strip()},
        # Registration and the mailer derive the links from it (both pods get this one).
        "link-token-key": {"key": os.urandom(32).hex()},
        "session-signing-key": {
            "private.pem": (keys / "session-signing.pem").read_text(),
            "public.pem": (keys / "session-signing.pub").read_text(),
        },
        **{f"{name}-redis": {"url": env.redis_urls[name]} for name in SERVICES},
        # Strimzi writes one Secret per KafkaUser; the test broker has no users.
        **{name: {"password": plaintext} for name in SERVICES},
    }


def environment_values(objs: list[Obj], env: Environment) -> list[Obj]:
    """The played objects: the rendered overlay narrowed to what podman plays, completed as module doc says."""
    config = {
        "platform-config": {
            "MCF_KAFKA_BOOTSTRAP_SERVERS": env.kafka,
            "MCF_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
            "MCF_PUBLIC_BASE_URL": env.gateway,
        },
        "mailer-config": {
            "MCF_SMTP_HOST": LOOPBACK,
            "MCF_SMTP_PORT": str(env.smtp_port),
            "MCF_SMTP_START_TLS": "false",
        },
    }
    # The pod's own port on the shared host network, in the service's ConfigMap: it comes after platform-config
    # in envFrom, so it wins there (podman 4.3 lets envFrom override a container's `env`, unlike Kubernetes).
    for name, port in env.ports.items():
        config[f"{name}-config"] = {**config.get(f"{name}-config", {}), "MCF_HTTP_PORT": str(port)}
    assert {key for values in config.values() for key in values} <= ENVIRONMENT_KEYS
    played: list[Obj] = []
    for original in objs:
        if original["kind"] not in PLAYED_KINDS:
            continue
        obj = copy.deepcopy(original)
        obj["metadata"].pop("namespace", None)
        if obj["kind"] == "ConfigMap":
            obj["data"].update(config.get(obj["metadata"]["name"], {}))
        else:
            _local_pod(obj, env)
        played.append(obj)
    return played


def _local_pod(deployment: Obj, env: Environment) -> None:
    name = deployment["metadata"]["name"]
    spec = deployment["spec"]["template"]["spec"]
    [container] = spec["containers"]
    container["image"] = image(name)
    # On the host network there is nothing to map (podman refuses port mappings there).
    container.pop("ports")
    if name == "mailer":  # the suite's SMTP server takes no login
        container["env"] = [e for e in container["env"] if e["name"] not in {"MCF_SMTP_USERNAME", "MCF_SMTP_PASSWORD"}]
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        container.pop(kind, None)
    for volume in spec["volumes"]:
        if "secret" in volume:
            volume.pop("secret")
            volume["emptyDir"] = {}
    # podman 4.3 makes a *named* volume of each emptyDir: without a prefix the four pods would share one /tmp.
    for item in spec["volumes"] + container["volumeMounts"]:
        item["name"] = f"{name}-{item['name']}"


def write_kube_yaml(played: list[Obj], path: Path) -> Path:
    path.write_text(yaml.safe_dump_all(played, sort_keys=False))
    return path


def create_secrets(values: dict[str, dict[str, str]]) -> None:
    """Each Secret in podman's store as podman 4.3 resolves ``secretKeyRef``: a JSON map of base64 values."""
    for name, data in values.items():
        podman("secret", "rm", name, check=False)
        encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
        result = subprocess.run(
            [str(PODMAN), "secret", "create", name, "-"],
            input=json.dumps(encoded),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"podman secret create {name}: {result.stderr}")


def remove_secrets(names: list[str]) -> None:
    for name in names:
        podman("secret", "rm", name, check=False)


def pod_name(deployment: str) -> str:
    return f"{deployment}-pod-0"  # podman 4.3 kube play: one pod per Deployment replica


def container_name(deployment: str) -> str:
    return f"{deployment}-pod-0-{deployment}"  # podman 4.3 kube play: pod <deployment>-pod-0, then the container
