"""The local stack: Apache Kafka (KRaft, from Maven Central jars), Redis, an SMTP catcher and nginx.

(Over 300 lines on purpose: a single standard-library script, runnable before anything is installed.)

Used by ``make run`` (fixed ports, MailDev inbox) and by the test suite (free ports, fresh data, an SMTP
server the suite controls). Standard library only, so it runs before anything else is installed.

    python deploy/local/stack.py up      # start what is not running yet, wait until healthy
    python deploy/local/stack.py down    # stop everything this folder's var/ started
    python deploy/local/stack.py status
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
KAFKA_POM = HERE / "kafka" / "pom.xml"
NGINX_TEMPLATE = HERE / "nginx.conf.template"
LOOPBACK = "127.0.0.1"


@dataclass
class Ports:
    kafka: int = 9092
    kafka_controller: int = 9093
    redis: int = 6379
    smtp: int = 1025
    inbox: int = 1080  # MailDev's web inbox
    gateway: int = 8000  # nginx: the one public origin
    registration: int = 8101
    captcha: int = 8102
    mailer: int = 8103
    rights: int = 8104
    oidc: int = 8105  # the OpenID Connect provider playing FranceConnect (oidc_provider.py)

    @classmethod
    def free(cls) -> Ports:
        """Distinct free ports, for a test stack that must not collide with ``make run``."""
        numbers: list[int] = []
        while len(numbers) < len(fields(cls)):
            port = free_listen_port()
            if port not in numbers:
                numbers.append(port)
        return cls(*numbers)


# Listening ports are taken below Linux's ephemeral range (32768-60999 by default): a port the kernel
# hands out for port 0 lies inside it, and in the seconds before a service binds it an outgoing
# connection (a Kafka or Redis client of any process) may take it as its local port, which once made a
# test stack's registration fail with "address already in use".
_LISTEN_PORTS = (20000, 32000)


def free_listen_port() -> int:
    """A port nobody listens on now, outside the ephemeral range, at random (parallel stacks differ)."""
    for _ in range(200):
        port = random.randrange(*_LISTEN_PORTS)  # noqa: S311 - a port, not a secret
        with socket.socket() as s:
            try:
                s.bind((LOOPBACK, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {_LISTEN_PORTS}")


@dataclass
class StackState:
    var: str
    ports: Ports
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def kafka_bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.ports.kafka}"

    def save(self) -> None:
        Path(self.var, "stack.json").write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, var: Path) -> StackState | None:
        path = var / "stack.json"
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        return cls(var=raw["var"], ports=Ports(**raw["ports"]), pids=raw.get("pids", {}))


def log(msg: str) -> None:
    print(f"[stack] {msg}", file=sys.stderr, flush=True)


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A zombie left by a parent that did not reap it is not alive for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.3):
            return True
    except OSError:
        return False


def wait_port(port: int, what: str, proc_pid: int | None, timeout: float, logfile: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if proc_pid is not None and not alive(proc_pid):
            tail = logfile.read_text()[-3000:] if logfile and logfile.exists() else ""
            raise RuntimeError(f"{what} exited before opening port {port}\n{tail}")
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not open port {port} within {timeout:.0f}s")


def spawn(cmd: list[str], logfile: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with open(logfile, "ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv built here
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    return proc.pid


def stop_pid(pid: int, what: str, grace: float = 15.0) -> None:
    if not alive(pid):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.1)
    if alive(pid):
        log(f"{what} ignored SIGTERM; killing")
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            os.kill(pid, signal.SIGKILL)


# --- Kafka ---------------------------------------------------------------------------------------


def maven_libs(pom: Path, cache: Path, name: str) -> Path:
    """A POM's runtime classpath, downloaded once from Maven Central into ``cache/<name>-<POM hash>``."""
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]
    libs = cache / f"{name}-{digest}"
    if (libs / ".complete").exists():
        return libs
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise RuntimeError(f"{name} needs java (17+) and mvn on PATH")
    log(f"fetching {name} from Maven Central (once)")
    tmp = libs.with_suffix(".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(  # noqa: S603
        [
            "mvn",
            "-B",
            "-q",
            "-f",
            str(pom),
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={tmp}",
            "-Dmdep.prependGroupId=true",
        ],
        check=True,
    )
    (tmp / ".complete").write_text(digest)
    shutil.rmtree(libs, ignore_errors=True)
    tmp.rename(libs)
    return libs


def kafka_libs(cache: Path) -> Path:
    """The broker's classpath, downloaded once from Maven Central and cached by the POM's hash."""
    return maven_libs(KAFKA_POM, cache, "kafka-libs")


KAFKA_SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@{host}:{cport}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{cport}
advertised.listeners=PLAINTEXT://{host}:{port}
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data}
num.partitions=1
# Topics are created by the project, with explicit partitions and settings (contracts.topics).
auto.create.topics.enable=false
# Single node: internal topics with replication 1, or coordinators never become available.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.recovery.threads.per.data.dir=1
log.cleaner.dedupe.buffer.size=1048577
# One node on a small machine whose cores the services share: few threads (a request goes from a network
# thread to an I/O thread and back whatever their number; more only add switches), and no controller no-op
# record every half second (each is a metadata log append and fsync).
num.network.threads=1
num.io.threads=2
background.threads=2
group.coordinator.threads=1
metadata.max.idle.interval.ms=5000
"""

LOG4J2 = """\
status = warn
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""


def start_kafka(state: StackState, cache: Path) -> None:
    if alive(state.pids.get("kafka")) and port_open(state.ports.kafka):
        return
    libs = kafka_libs(cache)
    home = Path(state.var) / "kafka"
    data = home / "data"
    data.mkdir(parents=True, exist_ok=True)
    props = home / "server.properties"
    props.write_text(
        KAFKA_SERVER_PROPERTIES.format(
            host=LOOPBACK, port=state.ports.kafka, cport=state.ports.kafka_controller, data=data
        )
    )
    log4j = home / "log4j2.properties"
    log4j.write_text(LOG4J2)
    java = ["java", f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{libs}/*"]
    if not (data / "meta.properties").exists():
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        subprocess.run(  # noqa: S603
            [
                *java[:1],
                "-Xmx256m",
                *java[1:],
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={cluster_id}",  # one argument: a random id may start with "-"
                "-c",
                str(props),
                "--ignore-formatted",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    logfile = Path(state.var) / "logs" / "kafka.log"
    for attempt in (1, 2):  # KRaft start can time out on a loaded 2-core machine: one retry
        pid = spawn(
            [
                java[0],
                # A fixed heap and the serial collector: with one broker's small live set, G1's concurrent
                # and parallel GC threads and write barriers cost the shared cores more than they save.
                "-Xms512m",
                "-Xmx512m",
                "-XX:+UseSerialGC",
                "-Djava.awt.headless=true",
                f"-Dkafka.logs.dir={home / 'logs'}",
                *java[1:],
                "kafka.Kafka",
                str(props),
            ],
            logfile,
        )
        state.pids["kafka"] = pid
        state.save()
        try:
            wait_port(state.ports.kafka, "kafka", pid, timeout=60, logfile=logfile)
            log(f"kafka ready on {state.kafka_bootstrap}")
            return
        except (TimeoutError, RuntimeError):
            stop_pid(pid, "kafka")
            if attempt == 2:
                raise


# --- Redis, SMTP catcher, nginx ------------------------------------------------------------------


def start_redis(state: StackState) -> None:
    if alive(state.pids.get("redis")) and port_open(state.ports.redis):
        return
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    home = Path(state.var) / "redis"
    home.mkdir(parents=True, exist_ok=True)
    logfile = Path(state.var) / "logs" / "redis.log"
    # Redis holds only rebuildable data (indexes, caches, short-lived keys): no persistence needed.
    pid = spawn(
        [
            exe,
            "--bind",
            LOOPBACK,
            "--port",
            str(state.ports.redis),
            "--dir",
            str(home),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
        ],
        logfile,
    )
    state.pids["redis"] = pid
    state.save()
    wait_port(state.ports.redis, "redis", pid, timeout=20, logfile=logfile)
    log(f"redis ready on {LOOPBACK}:{state.ports.redis}")


def start_maildev(state: StackState) -> None:
    if alive(state.pids.get("maildev")) and port_open(state.ports.inbox):
        return
    exe = HERE / "node_modules" / ".bin" / "maildev"
    if not exe.exists():
        raise RuntimeError("MailDev is not installed: run `make setup` (npm ci in deploy/local)")
    logfile = Path(state.var) / "logs" / "maildev.log"
    pid = spawn(
        [
            str(exe),
            "--ip",
            LOOPBACK,
            "--smtp",
            str(state.ports.smtp),
            "--web",
            str(state.ports.inbox),
            "--web-ip",
            LOOPBACK,
        ],
        logfile,
    )
    state.pids["maildev"] = pid
    state.save()
    wait_port(state.ports.smtp, "maildev smtp", pid, timeout=30, logfile=logfile)
    wait_port(state.ports.inbox, "maildev web", pid, timeout=30, logfile=logfile)
    log(f"inbox ready on http://{LOOPBACK}:{state.ports.inbox}")


def render_nginx_conf(state: StackState) -> Path:
    home = Path(state.var) / "nginx"
    for sub in ("tmp", "logs"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    conf = NGINX_TEMPLATE.read_text()
    for name, value in asdict(state.ports).items():
        conf = conf.replace("{{" + name + "}}", str(value))
    conf = conf.replace("{{home}}", str(home)).replace("{{host}}", LOOPBACK)
    path = home / "nginx.conf"
    path.write_text(conf)
    return path


def start_nginx(state: StackState) -> None:
    if alive(state.pids.get("nginx")) and port_open(state.ports.gateway):
        return
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    conf = render_nginx_conf(state)
    logfile = Path(state.var) / "logs" / "nginx.log"
    pid = spawn(
        [
            exe,
            "-c",
            str(conf),
            "-p",
            str(conf.parent),
            "-e",
            str(conf.parent / "logs" / "error.log"),
            "-g",
            "daemon off;",
        ],
        logfile,
    )
    state.pids["nginx"] = pid
    state.save()
    wait_port(state.ports.gateway, "nginx", pid, timeout=20, logfile=logfile)
    log(f"gateway ready on http://{LOOPBACK}:{state.ports.gateway}")


def create_topics(state: StackState) -> None:
    """Create the catalog's topics with the project's own code (contracts.topics is the source)."""
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "eventing.admin", "--bootstrap", state.kafka_bootstrap], check=True, cwd=ROOT
    )


def up(var: Path, ports: Ports, *, with_maildev: bool, with_nginx: bool, cache: Path) -> StackState:
    var.mkdir(parents=True, exist_ok=True)
    (var / "logs").mkdir(exist_ok=True)
    state = StackState.load(var) or StackState(var=str(var), ports=ports)
    state.save()
    start_redis(state)
    start_kafka(state, cache)
    create_topics(state)
    if with_maildev:
        start_maildev(state)
    if with_nginx:
        start_nginx(state)
    return state


def down(var: Path) -> None:
    state = StackState.load(var)
    if state is None:
        return
    for name in ("nginx", "oidc", "maildev", "kafka", "redis"):
        pid = state.pids.pop(name, None)
        if pid:
            stop_pid(pid, name, grace=20 if name == "kafka" else 5)
            log(f"{name} stopped")
    state.save()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--var", default=str(ROOT / "var" / "local"))
    parser.add_argument("--cache", default=str(ROOT / "var" / "cache"))
    parser.add_argument("--no-maildev", action="store_true")
    parser.add_argument("--no-nginx", action="store_true")
    args = parser.parse_args()
    var = Path(args.var).resolve()
    if args.command == "up":
        state = up(
            var,
            Ports(),
            with_maildev=not args.no_maildev,
            with_nginx=not args.no_nginx,
            cache=Path(args.cache).resolve(),
        )
        print(json.dumps(asdict(state.ports)))
    elif args.command == "down":
        down(var)
    else:
        state = StackState.load(var)
        if state is None:
            print("not started")
            return
        for name, pid in state.pids.items():
            print(f"{name:10} pid {pid:>7}  {'running' if alive(pid) else 'stopped'}")


if __name__ == "__main__":
    main()
