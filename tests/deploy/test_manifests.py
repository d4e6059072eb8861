"""The Kubernetes manifests (deploy/k8s) and images (deploy/docker), checked offline.

Renders both overlays, validates every object against the Kubernetes API schemas (kubernetes-validate,
strict) and the Strimzi/KEDA CRD schemas (fetched from registries by deploy/k8s/fetch-schemas.sh), and
checks the properties the platform relies on: topics as the catalog states them, ACLs as the code
subscribes and publishes, non-root containers, probes, resources, PDBs, grace periods, autoscaling on the
code's consumer groups, Secrets referenced never inlined, Ingress routes as the local gateway's.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from pydantic_settings import BaseSettings

from contracts.topics import CATALOG, Audience, physical_topics
from eventing.settings import ConnectionSettings
from tests.deploy.kustomize import build, load_docs

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
SERVICES = ("registration", "captcha", "mailer", "rights")
HTTP_SERVICES = ("registration", "captcha", "rights")
KUBERNETES_VERSIONS = ("1.30", kubernetes_validate.latest_version())  # preStop `sleep` needs 1.30
# Secrets the operator provides (docs/deploy.md); the KafkaUser Secrets are written by Strimzi.
OPERATOR_SECRETS = {
    "holder-id-key",
    "link-token-key",
    "franceconnect-client",
    "session-signing-key",
    "mailer-smtp",
    "registration-redis",
    "captcha-redis",
    "mailer-redis",
    "rights-redis",
    "kafka-lag-reader-credentials",
    "mcf-cluster-ca-cert",
}
# Settings the manifests set ahead of the code: the Kafka client's TLS + SCRAM options (see docs/deploy.md,
# "Known gaps"). Any other MCF_ variable must be a field of the service's Settings.
# Read by every service through the shared runtime (Kafka login, TLS, trusted proxies).
CONNECTION_SETTINGS = {f"MCF_{f.upper()}" for f in ConnectionSettings.model_fields}


def _load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("generate_k8s", ROOT / "scripts" / "generate_k8s.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_k8s"] = module
    spec.loader.exec_module(module)
    return module


generate_k8s = _load_generator()


# ---------------------------------------------------------------------------------------------- fixtures


@cache
def rendered(overlay: str) -> list[dict[str, Any]]:
    return build(K8S / "overlays" / overlay)


def objects(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in rendered(overlay) if o["kind"] == kind}


def all_objects() -> Iterator[tuple[str, dict[str, Any]]]:
    for overlay in OVERLAYS:
        for obj in rendered(overlay):
            yield overlay, obj


@cache
def code_kafka(service: str) -> dict[str, Any]:
    """What the service's code does on Kafka, read here independently of the generator."""
    runtime = generate_k8s.build_runtime(service)
    subscriptions = {}
    for sub in runtime.broker.subscribers:
        for topic in sub.topic_names:
            subscriptions[topic] = sub.group_id
    return {
        "subscriptions": subscriptions,
        "publishes": {p.topic for p in runtime.broker.publishers},
        "graceful_timeout": runtime.broker.config.graceful_timeout,
        "transactional_ids": {w.transactional_id.split(":")[0] + ":" for w in runtime.writers},
    }


def schema_dir() -> Path:
    found = sorted((ROOT / "var" / "cache").glob("k8s-schemas-*/.complete"))
    if not found:
        pytest.fail("CRD schemas missing: run deploy/k8s/fetch-schemas.sh (deploy/local/setup.sh does)")
    return found[-1].parent


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> strict JSON schema, from the CRDs fetched from Maven Central / the Go proxy."""
    out = {}
    for path in sorted(schema_dir().glob("*/*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served", True):
                out[(f"{group}/{version['name']}", kind)] = _strict(version["schema"]["openAPIV3Schema"])
    return out


def _strict(schema: Any) -> Any:
    """The API server prunes unknown fields silently; here an unknown field (a typo) is an error."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


# ---------------------------------------------------------------------------------------------- rendering


def test_generated_kafka_manifests_are_up_to_date() -> None:
    for name, text in generate_k8s.render().items():
        committed = (K8S / "base" / "kafka" / name).read_text()
        assert committed == text, f"base/kafka/{name} drifted: run python scripts/generate_k8s.py"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_the_whole_platform(overlay: str) -> None:
    kinds = {(o["kind"], o["metadata"]["name"]) for o in rendered(overlay)}
    for service in SERVICES:
        for kind in ("Deployment", "Service", "ServiceAccount", "PodDisruptionBudget", "ConfigMap"):
            name = f"{service}-config" if kind == "ConfigMap" else service
            assert (kind, name) in kinds, f"{overlay}: no {kind} {name}"
        assert ("ScaledObject", service) in kinds
        assert ("NetworkPolicy", service) in kinds
        assert ("KafkaUser", service) in kinds
    assert ("Ingress", "mcf") in kinds
    assert all(o["metadata"].get("namespace") for o in rendered(overlay))


def kustomize() -> Path:
    """The kustomize that ``make setup`` builds (deploy/local/setup.sh pins its version)."""
    setup = (ROOT / "deploy" / "local" / "setup.sh").read_text()
    match = re.search(r"^KUSTOMIZE_VERSION=(\S+)$", setup, re.MULTILINE)
    assert match, "deploy/local/setup.sh no longer pins KUSTOMIZE_VERSION"
    binary = ROOT / "var" / "cache" / f"kustomize-{match.group(1)}" / "kustomize"
    assert binary.is_file(), f"{binary} is missing: run `make setup`"
    return binary


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_our_renderer_agrees_with_kustomize(overlay: str) -> None:
    out = subprocess.run(
        [str(kustomize()), "build", str(K8S / "overlays" / overlay)], capture_output=True, text=True, check=True
    )
    theirs = sorted(json.dumps(d, sort_keys=True) for d in yaml.safe_load_all(out.stdout) if d)
    ours = sorted(json.dumps(d, sort_keys=True) for d in rendered(overlay))
    assert ours == theirs


# ---------------------------------------------------------------------------------------------- schemas


def test_every_object_is_valid_against_the_kubernetes_and_crd_schemas() -> None:
    crds = crd_schemas()
    for want in (("kafka.strimzi.io/v1", "KafkaTopic"), ("kafka.strimzi.io/v1", "KafkaUser")):
        assert want in crds, f"the fetched Strimzi CRDs do not serve {want}"
    errors = []
    for overlay, obj in all_objects():
        where = f"{overlay}: {obj['kind']}/{obj['metadata']['name']}"
        key = (obj["apiVersion"], obj["kind"])
        if key in crds:
            for error in jsonschema.Draft7Validator(crds[key]).iter_errors(obj):
                errors.append(f"{where}: {'/'.join(map(str, error.absolute_path))}: {error.message}")
            continue
        for version in KUBERNETES_VERSIONS:
            try:  # an unknown kind raises SchemaNotFoundError: every object is checked against some schema
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                errors.append(f"{where} (k8s {version}): {'/'.join(map(str, exc.absolute_path))}: {exc.message}")
    assert not errors, "\n".join(errors)


def test_the_dev_example_secrets_are_valid_placeholders_and_not_applied() -> None:
    example = K8S / "overlays" / "dev" / "secrets.example.yaml"
    docs = load_docs(example)
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSIONS[-1], strict=True)
        secret_values = {k: v for k, v in doc["stringData"].items() if k != "username" or "CHANGE-ME" in v}
        assert all("CHANGE-ME" in v for v in secret_values.values()), doc["metadata"]["name"]
    assert {d["metadata"]["name"] for d in docs} == OPERATOR_SECRETS - {"mcf-cluster-ca-cert"}
    for overlay, obj in all_objects():
        assert obj["kind"] != "Secret", f"{overlay}: a Secret is rendered; only references belong here"


# ---------------------------------------------------------------------------------------------- Kafka


def test_every_catalog_topic_has_a_kafkatopic_with_the_catalog_settings() -> None:
    for overlay in OVERLAYS:
        by_topic = {t["spec"]["topicName"]: t for t in objects(overlay, "KafkaTopic").values()}
        expected = physical_topics()
        assert set(by_topic) == {t.name for t in expected}, overlay
        for topic in expected:
            spec = by_topic[topic.name]["spec"]
            assert spec["partitions"] == topic.partitions, topic.name
            assert spec["replicas"] == 3, topic.name
            config = {k: str(v) for k, v in spec["config"].items()}
            assert config["min.insync.replicas"] == "2", topic.name
            for key, value in topic.config.items():
                assert config[key] == value, f"{topic.name}: {key}"
            assert by_topic[topic.name]["metadata"]["labels"]["strimzi.io/cluster"] == "mcf"
    # The catalog's retention rules really reach the manifests (not only whatever config says).
    compacted = {s.name for s in CATALOG if s.compacted}
    prod = {t["spec"]["topicName"]: t["spec"]["config"] for t in objects("prod", "KafkaTopic").values()}
    assert {n for n, c in prod.items() if "compact" in c["cleanup.policy"].split(",")} == compacted
    assert all(prod[s.dlq]["cleanup.policy"] == "delete" for s in CATALOG if s.with_dlq)


def _grants(user: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    out = set()
    for acl in user["spec"]["authorization"]["acls"]:
        assert acl.get("type", "allow") == "allow"
        res = acl["resource"]
        for op in acl["operations"]:
            out.add((res["type"], res["name"], res.get("patternType", "literal"), op))
    return out


@pytest.mark.parametrize("service", SERVICES)
def test_service_acls_are_exactly_what_its_code_subscribes_to_and_publishes(service: str) -> None:
    code = code_kafka(service)
    catalog = {s.name: s for s in CATALOG}
    # The code agrees with the catalog: it reads only topics that name it as a consumer, and publishes
    # exactly the topics the catalog says it produces.
    for topic in code["subscriptions"]:
        assert service in catalog[topic].consumers, f"{service} subscribes to {topic} but the catalog disagrees"
    assert code["publishes"] == {s.name for s in CATALOG if s.producer == service}
    replayed = {s.name for s in CATALOG if service in s.consumers} - set(code["subscriptions"])
    expected = set()
    for topic in set(code["subscriptions"]) | replayed:
        expected |= {("topic", topic, "literal", "Describe"), ("topic", topic, "literal", "Read")}
    for group in set(code["subscriptions"].values()):
        expected.add(("group", group, "literal", "Read"))
    dead_letters = {catalog[t].dlq for t in code["subscriptions"] if catalog[t].with_dlq}
    for topic in code["publishes"] | dead_letters:
        expected |= {("topic", topic, "literal", "Describe"), ("topic", topic, "literal", "Write")}
    # A service that writes state and events atomically owns the transactional ids under its own name.
    for prefix in code["transactional_ids"]:
        expected |= {("transactionalId", prefix, "prefix", op) for op in ("Describe", "Write")}
    for overlay in OVERLAYS:
        user = objects(overlay, "KafkaUser")[service]
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        assert _grants(user) == expected, overlay


def test_the_partner_user_reads_partner_topics_and_writes_partner_inbound_topics_only() -> None:
    reads = {s.name for s in CATALOG if s.audience is Audience.PARTNER_READ}
    writes = {s.name for s in CATALOG if s.audience is Audience.PARTNER_WRITE}
    assert reads and writes
    grants = _grants(objects("prod", "KafkaUser")["partner"])
    topic_grants = {(name, op) for kind, name, _pattern, op in grants if kind == "topic"}
    assert topic_grants == {(t, "Read") for t in reads} | {(t, "Describe") for t in reads | writes} | {
        (t, "Write") for t in writes
    }
    assert all(p == "literal" for kind, _n, p, _o in grants if kind == "topic")
    assert {(k, n, p, o) for k, n, p, o in grants if k != "topic"} == {("group", "partner-", "prefix", "Read")}


def test_no_kafka_user_holds_admin_rights_or_wildcards() -> None:
    for user in objects("prod", "KafkaUser").values():
        for kind, name, pattern, op in _grants(user):
            assert op in {"Read", "Write", "Describe"}, (user["metadata"]["name"], op)
            assert kind in {"topic", "group", "transactionalId"} and name != "*", (user["metadata"]["name"], kind, name)
            if kind == "transactionalId":  # its own ids only: "<service>:<pod>"
                assert pattern == "prefix" and name == f"{user['metadata']['name']}:", (kind, name)
            else:
                assert pattern == "literal" or user["metadata"]["name"] == "partner"
    lag_reader = _grants(objects("prod", "KafkaUser")["kafka-lag-reader"])
    assert {op for *_rest, op in lag_reader} == {"Describe"}


# ---------------------------------------------------------------------------------------------- workloads


def _pod(deployment: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return pod


def test_no_container_runs_as_root_or_can_gain_privileges() -> None:
    for overlay in OVERLAYS:
        for name, deployment in objects(overlay, "Deployment").items():
            pod = _pod(deployment)
            assert pod["securityContext"]["runAsNonRoot"] is True, name
            assert pod["securityContext"].get("runAsUser", 1) != 0, name
            assert pod.get("automountServiceAccountToken") is False, name
            assert not pod.get("hostNetwork") and not pod.get("hostPID"), name
            for c in pod["containers"] + pod.get("initContainers", []):
                sc = c["securityContext"]
                assert sc.get("runAsUser", pod["securityContext"].get("runAsUser")) not in (0, None), name
                assert sc.get("runAsNonRoot", True) is True, name
                assert sc["allowPrivilegeEscalation"] is False, name
                assert sc["readOnlyRootFilesystem"] is True, name
                assert sc["capabilities"]["drop"] == ["ALL"] and not sc["capabilities"].get("add"), name
                assert not sc.get("privileged"), name


def test_every_deployment_has_meaningful_probes_and_resources() -> None:
    for overlay in OVERLAYS:
        for name, deployment in objects(overlay, "Deployment").items():
            for c in _pod(deployment)["containers"]:
                # Liveness is process-local; readiness checks Kafka and Redis; startup waits for the lifespan.
                assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", name
                assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", name
                assert c["startupProbe"]["httpGet"]["path"] == "/healthz", name
                ports = {p["name"]: p["containerPort"] for p in c["ports"]}
                for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                    assert c[probe]["httpGet"]["port"] in ports, (name, probe)
                for kind in ("requests", "limits"):
                    assert {"cpu", "memory"} <= set(c["resources"][kind]), (name, kind)


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "matchExpressions are not evaluated here"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def test_every_deployment_has_a_pdb_a_service_and_its_service_account() -> None:
    for overlay in OVERLAYS:
        pdbs = objects(overlay, "PodDisruptionBudget").values()
        services = objects(overlay, "Service").values()
        accounts = objects(overlay, "ServiceAccount")
        for name, deployment in objects(overlay, "Deployment").items():
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            covering = [p for p in pdbs if _selects(p["spec"]["selector"], labels)]
            assert len(covering) == 1, (overlay, name)
            assert covering[0]["spec"].get("maxUnavailable") == 1, (overlay, name)
            assert any(all(labels.get(k) == v for k, v in s["spec"]["selector"].items()) for s in services), name
            assert _pod(deployment)["serviceAccountName"] in accounts, name


def _uvicorn_graceful_timeout() -> float:
    tree = ast.parse((ROOT / "eventing" / "runner.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "timeout_graceful_shutdown":
            assert isinstance(node.value, ast.Constant) and isinstance(node.value.value, int | float)
            return float(node.value.value)
    raise AssertionError("eventing/runner.py no longer sets uvicorn's timeout_graceful_shutdown")


@pytest.mark.parametrize("service", SERVICES)
def test_grace_period_outlasts_the_graceful_shutdown(service: str) -> None:
    # SIGTERM: preStop drain, then uvicorn finishes requests, then the lifespan stops FastStream, which
    # finishes the message in hand, commits and leaves the group. Kubernetes must not SIGKILL before that.
    needed = _uvicorn_graceful_timeout() + code_kafka(service)["graceful_timeout"] + 10
    for overlay in OVERLAYS:
        pod = _pod(objects(overlay, "Deployment")[service])
        pre_stop = pod["containers"][0].get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        assert pod["terminationGracePeriodSeconds"] >= pre_stop + needed, (overlay, service)


def _setting_names(service: str) -> set[str]:
    """Every variable a service reads: the fields of each settings model of its settings module, under
    that model's own prefix (``MCF_`` for most, ``MCF_FRANCECONNECT_`` for the identity provider)."""
    module = importlib.import_module(f"services.{service}.settings")
    models = [m for m in vars(module).values() if isinstance(m, type) and issubclass(m, BaseSettings)]
    return {f"{m.model_config.get('env_prefix', '')}{f}".upper() for m in models for f in m.model_fields}


def test_env_settings_exist_and_credentials_come_from_secrets() -> None:
    for overlay in OVERLAYS:
        maps = objects(overlay, "ConfigMap")
        users = set(objects(overlay, "KafkaUser"))
        all_fields = {env for svc in SERVICES for env in _setting_names(svc)}
        shared: set[str] = set()
        for name, deployment in objects(overlay, "Deployment").items():
            fields = _setting_names(name)
            (c,) = _pod(deployment)["containers"]
            env: dict[str, Any] = {}
            for source in c["envFrom"]:
                data = maps[source["configMapRef"]["name"]].get("data", {})
                env.update(dict.fromkeys(data, "configmap"))
                if source["configMapRef"]["name"] == "platform-config":
                    # Shared settings: each must be read by some service (a typo is read by none).
                    assert set(data) - CONNECTION_SETTINGS <= all_fields, sorted(data)
                    shared = set(data)
            secret_refs = {}
            for e in c["env"]:
                if "fieldRef" in e.get("valueFrom", {}):  # the pod's own name, from the downward API
                    assert e["name"] == "MCF_INSTANCE_ID" and e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
                    env[e["name"]] = "pod"
                    continue
                if "valueFrom" in e:
                    ref = e["valueFrom"]["secretKeyRef"]
                    secret_refs[e["name"]] = ref["name"]
                    assert ref["name"] in OPERATOR_SECRETS | users, (name, ref)
                env[e["name"]] = "secret" if "valueFrom" in e else "value"
            unknown = set(env) - shared - fields - CONNECTION_SETTINGS
            assert not unknown, f"{name}: {sorted(unknown)} are not settings of services/{name}/settings.py"
            assert env["MCF_KAFKA_BOOTSTRAP_SERVERS"] == "configmap"
            for var in ("MCF_REDIS_URL", "MCF_KAFKA_SASL_PASSWORD"):
                assert env[var] == "secret", (name, var)
            assert secret_refs["MCF_KAFKA_SASL_PASSWORD"] == name  # the KafkaUser of the same name
            for var in env:
                if re.search(r"_KEY(_|$)|PASSWORD|PEM|SECRET|TOKEN|REDIS_URL", var):
                    assert env[var] == "secret", f"{name}: {var} must come from a Secret"
    required = {
        "registration": {"MCF_HOLDER_ID_KEY", "MCF_SESSION_PRIVATE_KEY_PEM"},
        "rights": {"MCF_HOLDER_ID_KEY", "MCF_SESSION_PUBLIC_KEY_PEM"},
        "mailer": {"MCF_SMTP_USERNAME", "MCF_SMTP_PASSWORD"},
        "captcha": set(),
    }
    for name, variables in required.items():
        (c,) = _pod(objects("prod", "Deployment")[name])["containers"]
        from_secrets = {e["name"] for e in c["env"] if "valueFrom" in e}
        assert variables <= from_secrets, name
        # The session's private key never leaves registration.
        if name != "registration":
            assert "MCF_SESSION_PRIVATE_KEY_PEM" not in from_secrets


def test_metrics_are_scraped() -> None:
    for overlay in OVERLAYS:
        for name, deployment in objects(overlay, "Deployment").items():
            annotations = deployment["spec"]["template"]["metadata"]["annotations"]
            assert annotations["prometheus.io/scrape"] == "true", name
            assert annotations["prometheus.io/path"] == "/metrics", name
            ports = {p["containerPort"] for p in _pod(deployment)["containers"][0]["ports"]}
            assert int(annotations["prometheus.io/port"]) in ports, name


# ---------------------------------------------------------------------------------------------- autoscaling


@pytest.mark.parametrize("service", SERVICES)
def test_autoscaling_follows_the_code_consumer_groups(service: str) -> None:
    code = code_kafka(service)
    for overlay in OVERLAYS:
        scaled = objects(overlay, "ScaledObject")[service]
        assert scaled["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
        kafka = {
            (t["metadata"]["topic"], t["metadata"]["consumerGroup"])
            for t in scaled["spec"]["triggers"]
            if t["type"] == "kafka"
        }
        assert kafka == {(topic, group) for topic, group in code["subscriptions"].items()}, overlay
        cpu = [t for t in scaled["spec"]["triggers"] if t["type"] == "cpu"]
        assert bool(cpu) == (service in HTTP_SERVICES), overlay
        # KEDA owns the replica count: no second autoscaler, no fixed replicas to fight it.
        assert not objects(overlay, "HorizontalPodAutoscaler")
        assert "replicas" not in objects(overlay, "Deployment")[service]["spec"]
        assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]
        for trigger in scaled["spec"]["triggers"]:
            if trigger["type"] == "kafka":
                auth = trigger["authenticationRef"]["name"]
                assert auth in objects(overlay, "TriggerAuthentication")
    http_min = min(objects("prod", "ScaledObject")[s]["spec"]["minReplicaCount"] for s in HTTP_SERVICES)
    assert http_min >= 2, "production HTTP services keep two replicas for the PDB to allow a drain"


# ---------------------------------------------------------------------------------------------- network


def _nginx_routes() -> dict[str, str]:
    text = (ROOT / "deploy" / "local" / "nginx.conf.template").read_text()
    return dict(re.findall(r"location (\S+) \{ proxy_pass http://(\w+); \}", text))


def _route(ingress: dict[str, Any], path: str) -> str:
    best = ("", "")
    for rule in ingress["spec"]["rules"]:
        for p in rule["http"]["paths"]:
            prefix = p["path"].rstrip("/")
            hit = path == prefix or path.startswith(prefix + "/") or prefix == ""
            if p["pathType"] == "Prefix" and hit and len(prefix) >= len(best[0]):
                best = (prefix, p["backend"]["service"]["name"])
    return best[1]


def test_ingress_routes_like_the_local_gateway() -> None:
    routes = _nginx_routes()
    assert routes, "could not read the locations of deploy/local/nginx.conf.template"
    probes = {
        "/api/v1/captcha/challenges/abc/audio": "captcha",
        "/api/v1/me/rights": "rights",
        "/api/v1/registrations": "registration",
        "/api/v1/": "registration",
        "/activation": "registration",
        "/": "registration",
    }
    for location, service in routes.items():
        probes[location] = service
    for overlay in OVERLAYS:
        ingress = objects(overlay, "Ingress")["mcf"]
        for path, service in probes.items():
            assert _route(ingress, path) == service, (overlay, path)
        backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
        assert "mailer" not in backends
    assert objects("prod", "Ingress")["mcf"]["spec"]["tls"]


def test_network_policies_allow_only_the_designed_flows() -> None:
    for overlay in OVERLAYS:
        policies = objects(overlay, "NetworkPolicy")
        deny = policies["default-deny"]["spec"]
        assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
        assert "ingress" not in deny and "egress" not in deny
        for name in SERVICES:
            spec = policies[name]["spec"]
            assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": name}}
            sources = {
                peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                for rule in spec["ingress"]
                for peer in rule["from"]
            }
            assert sources == ({"ingress-nginx", "monitoring"} if name in HTTP_SERVICES else {"monitoring"}), name
            ports = {p["port"] for rule in spec["egress"] for p in rule["ports"]}
            # Beyond Kafka and Redis: the mailer's SMTP relay, registration's FranceConnect (HTTPS).
            outside = {"mailer": {587, 465}, "registration": {443}}.get(name, set())
            assert ports == {9093, 6379} | outside, name
            for rule in spec["egress"]:
                for peer in rule["to"]:
                    # No service talks to another service's pods: events travel through Kafka only.
                    labels = peer.get("podSelector", {}).get("matchLabels", {})
                    assert labels.get("app.kubernetes.io/name") not in SERVICES, name


# ---------------------------------------------------------------------------------------------- images


def _dockerfile_stages() -> dict[str, list[str]]:
    text = (ROOT / "deploy" / "docker" / "Dockerfile").read_text().replace("\\\n", " ")
    stages: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"FROM\s+(\S+)\s+AS\s+(\S+)", line, re.IGNORECASE)
        if m:
            current = m.group(2)
            stages[current] = [f"FROM {m.group(1)}"]
        elif current:
            stages[current].append(line)
    return stages


def _chain(stages: dict[str, list[str]], name: str) -> list[str]:
    lines = stages[name]
    parent = lines[0].split()[1]
    return (_chain(stages, parent) if parent in stages else [lines[0]]) + lines[1:]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_image_is_slim_non_root_and_has_one_exec_form_entry_point(service: str) -> None:
    stages = _dockerfile_stages()
    assert "python:3.11-slim" in (ROOT / "deploy" / "docker" / "Dockerfile").read_text()
    lines = _chain(stages, service)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root"), service
    entry = [line for line in lines if line.startswith("ENTRYPOINT ")]
    cmd = [line for line in lines if line.startswith("CMD ")]
    assert entry and json.loads(entry[-1].split(" ", 1)[1]) == ["/usr/bin/tini", "--"]
    assert cmd and json.loads(cmd[-1].split(" ", 1)[1]) == ["python", "-m", f"services.{service}.app"]
    runtime = " ".join(lines)
    for tool in ("build-essential", "gcc", "git ", "curl"):
        assert tool not in runtime, f"{service}: {tool} in the final image"
    assert not re.search(r"\b(ARG|ENV)\s+\S*(PASSWORD|SECRET|TOKEN|KEY)\b", runtime), service
    captcha_debs = {"espeak-ng", "sox", "libsox-fmt-base", "fonts-noto-color-emoji", "fonts-dejavu-core"}
    assert captcha_debs <= set(runtime.split()) if service == "captcha" else not (captcha_debs & set(runtime.split()))


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    rules = [r.strip() for r in (ROOT / ".dockerignore").read_text().splitlines() if r.strip() and r[0] != "#"]
    assert rules[0] == "*", "an allow-list keeps var/ (local keys), .venv and .git out of the context"
    allowed = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    assert allowed == {"pyproject.toml", "contracts", "eventing", "services"}
