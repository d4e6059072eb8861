"""The manifests and the images agree: user, port, command, and every MCF_ variable a manifest sets is a
setting the image's code reads. Read from the built images (``podman image inspect``, the code inside them),
so a Dockerfile or manifest change that drifts fails here. The probe paths are checked on the running
containers (test_kube_play.py): each answers 200 there."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.containers import play

pytestmark = pytest.mark.usefixtures("podman_ready")

# What the code in an image reads: the service's Settings and the shared connection settings (prefix MCF_).
# Every settings model of the service's settings module (each under its own prefix: MCF_, or
# MCF_FRANCECONNECT_ for registration's identity provider), and the connection settings every service reads.
SETTINGS_IN_IMAGE = """
import importlib, json, sys
from pydantic_settings import BaseSettings
from eventing.settings import ConnectionSettings
module = importlib.import_module(f"services.{sys.argv[1]}.settings")
models = [m for m in vars(module).values() if isinstance(m, type) and issubclass(m, BaseSettings)]
names = {
    f"{model.model_config.get('env_prefix', '')}{n}".upper()
    for model in (*models, ConnectionSettings)
    for n in model.model_fields
}
print(json.dumps(sorted(names)))
"""


def image_config(name: str) -> dict[str, Any]:
    [info] = json.loads(play.podman("image", "inspect", play.image(name)).stdout)
    return dict(info["Config"])


def container(name: str) -> dict[str, Any]:
    [c] = play.deployments(play.rendered())[name]["spec"]["template"]["spec"]["containers"]
    return dict(c)


def platform_config() -> dict[str, str]:
    [config] = [o for o in play.rendered() if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "platform-config"]
    return dict(config["data"])


@pytest.mark.parametrize("name", play.SERVICES)
def test_the_image_user_is_the_manifests_user(name: str) -> None:
    pod = play.deployments(play.rendered())[name]["spec"]["template"]["spec"]["securityContext"]
    wanted = container(name)["securityContext"]
    assert wanted["runAsUser"] == pod["runAsUser"]
    assert image_config(name)["User"] == f"{wanted['runAsUser']}:{pod['runAsGroup']}"


@pytest.mark.parametrize("name", play.SERVICES)
def test_the_image_serves_on_the_manifests_port(name: str) -> None:
    c = container(name)
    [http] = [p for p in c["ports"] if p["name"] == "http"]
    config = image_config(name)
    image_env = dict(e.split("=", 1) for e in config["Env"])
    assert set(config["ExposedPorts"]) == {f"{http['containerPort']}/tcp"}
    assert image_env["MCF_HTTP_PORT"] == platform_config()["MCF_HTTP_PORT"] == str(http["containerPort"])
    assert image_env["MCF_HTTP_HOST"] == platform_config()["MCF_HTTP_HOST"] == "0.0.0.0"
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert c[kind]["httpGet"]["port"] in ("http", http["containerPort"]), kind


@pytest.mark.parametrize("name", play.SERVICES)
def test_the_image_runs_the_deployments_service_under_tini(name: str) -> None:
    config = image_config(name)
    assert config["Entrypoint"] == ["/usr/bin/tini", "--"], "SIGTERM reaches python through tini"
    assert config["Cmd"] == ["python", "-m", f"services.{name}.app"]
    assert "command" not in container(name) and "args" not in container(name)


def settings_read_by(name: str) -> set[str]:
    out = play.podman(
        "run", "--rm", "--network", "none", "--read-only", play.image(name), "python", "-c", SETTINGS_IN_IMAGE, name
    ).stdout
    return set(json.loads(out))


def test_every_variable_a_manifest_sets_is_read_by_the_image() -> None:
    """The service's own ConfigMap and env by its image; the shared platform-config by at least one image."""
    read = {name: settings_read_by(name) for name in play.SERVICES}
    config_maps = {o["metadata"]["name"]: o["data"] for o in play.rendered() if o["kind"] == "ConfigMap"}
    shared = set(config_maps["platform-config"])
    assert sorted(shared - set().union(*read.values())) == []
    for name in play.SERVICES:
        c = container(name)
        own = {e["name"] for e in c["env"]}
        for source in c["envFrom"]:
            if source["configMapRef"]["name"] != "platform-config":
                own |= set(config_maps[source["configMapRef"]["name"]])
        assert sorted(own - read[name]) == [], f"{name} sets variables its image does not read"


@pytest.mark.parametrize("name", play.SERVICES)
def test_the_image_has_no_compiler_and_no_pip(name: str) -> None:
    found = play.podman(
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "sh",
        play.image(name),
        "-c",
        "command -v cc gcc c++ g++ pip pip3; true",
    ).stdout.split()
    assert found == []
