"""Keycloak, the peer: its server distribution from Maven Central (``org.keycloak:keycloak-quarkus-dist``),
cached under var/cache, built once for the dev-file database, started in production mode on free ports.

Everything it needs is made through its admin REST API: a realm, a public client allowed the password
grant, the users that log in. Its password hashing is left at the default (argon2id, see ``PARAMS``).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.peers import ROOT, stack
from bench.peers.load import Answer, Client
from bench.peers.measure import Argon2Params
from tests.support.journey import PASSWORD

VERSION = "26.7.3"
REALM = "bench"
CLIENT = "bench-login"
# Keycloak's default password hashing (server configuration guide, "password-hashing" provider options:
# argon2 type id, version 1.3, memory 7168 KiB, iterations 5, parallelism 1, hash length 32).
PARAMS = Argon2Params("Keycloak default", memory_kib=7168, time_cost=5, parallelism=1)


def java_home(minimum: int = 21) -> Path:
    """The newest JDK under /usr/lib/jvm with a major version of at least ``minimum`` (Keycloak 26 needs 21)."""
    found: list[tuple[int, Path]] = []
    for home in Path("/usr/lib/jvm").iterdir():
        release = home / "release"
        if home.is_symlink() or not release.exists() or not (home / "bin" / "java").exists():
            continue
        if match := re.search(r'JAVA_VERSION="(\d+)', release.read_text()):
            found.append((int(match.group(1)), home))
    usable = sorted(v for v in found if v[0] >= minimum)
    if not usable:
        raise RuntimeError(f"Keycloak needs Java {minimum}+ under /usr/lib/jvm; found {sorted(found)}")
    return usable[-1][1]


def distribution(version: str, cache: Path, java: Path) -> Path:
    """The unpacked, built distribution; downloaded with Maven (the project's client for Maven Central)."""
    home = cache / f"keycloak-{version}"
    if (home / ".built").exists():
        return home
    download = cache / f"keycloak-{version}-download"
    shutil.rmtree(download, ignore_errors=True)
    stack.log(f"fetching Keycloak {version} from Maven Central (once, ~170 MB)")
    subprocess.run(
        [
            "mvn",
            "-B",
            "-q",
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
            f"-Dartifact=org.keycloak:keycloak-quarkus-dist:{version}:zip",
            f"-DoutputDirectory={download}",
        ],
        check=True,
    )
    shutil.rmtree(home, ignore_errors=True)
    with zipfile.ZipFile(download / f"keycloak-quarkus-dist-{version}.zip") as archive:
        archive.extractall(cache)
        for info in archive.infolist():  # zipfile drops the execute bits the scripts need
            if mode := info.external_attr >> 16:
                (cache / info.filename).chmod(mode & 0o777)
    shutil.rmtree(download, ignore_errors=True)
    stack.log("building Keycloak for the dev-file database (once, about a minute)")
    subprocess.run(
        [str(home / "bin" / "kc.sh"), "build", "--db=dev-file", "--health-enabled=true"],
        check=True,
        env={**os.environ, "JAVA_HOME": str(java)},
        stdout=subprocess.DEVNULL,
    )
    (home / ".built").write_text(version)
    return home


def free_port() -> int:
    with socket.socket() as s:
        s.bind((stack.LOOPBACK, 0))
        return int(s.getsockname()[1])


@dataclass
class Keycloak:
    var: Path
    version: str = VERSION
    name: str = "keycloak"
    port: int = field(default_factory=free_port)
    management_port: int = field(default_factory=free_port)
    pid: int | None = None
    start_s: float = 0.0
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    admin_token: str = ""
    login_users: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://{stack.LOOPBACK}:{self.port}"

    def start(self) -> None:
        java = java_home()
        home = distribution(self.version, ROOT / "var" / "cache", java)
        shutil.rmtree(home / "data", ignore_errors=True)  # a fresh dev-file database every run
        self.var.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "JAVA_HOME": str(java),
            "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",
            "KC_BOOTSTRAP_ADMIN_PASSWORD": self.admin_password,
        }
        started = time.monotonic()
        self.pid = stack.spawn(
            [
                str(home / "bin" / "kc.sh"),
                "start",
                "--optimized",
                "--http-enabled=true",
                f"--http-host={stack.LOOPBACK}",
                f"--http-port={self.port}",
                f"--http-management-port={self.management_port}",
                "--hostname-strict=false",
            ],
            self.var / "keycloak.log",
            env=env,
        )
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if not stack.alive(self.pid):
                raise RuntimeError(f"Keycloak exited:\n{(self.var / 'keycloak.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"http://{stack.LOOPBACK}:{self.management_port}/health/ready").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise TimeoutError("Keycloak not ready within 240 s")
        self.start_s = time.monotonic() - started
        stack.log(f"keycloak {self.version} ready on {self.base_url} in {self.start_s:.1f} s")

    def stop(self) -> None:
        if self.pid is not None:
            stack.stop_pid(self.pid, "keycloak", grace=30)
            self.pid = None

    def processes(self) -> dict[str, int]:
        assert self.pid is not None
        return {"keycloak": self.pid}

    def _token(self, http: httpx.Client) -> str:
        resp = http.post(
            "/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": "admin",
                "password": self.admin_password,
            },
        )
        resp.raise_for_status()
        return str(resp.json()["access_token"])

    def prepare(self, login_users: int) -> None:
        """The bench realm, its login client and ``login_users`` users; an admin token that outlives the run."""
        with httpx.Client(base_url=self.base_url, timeout=60) as http:
            auth = {"Authorization": f"Bearer {self._token(http)}"}
            http.put("/admin/realms/master", json={"accessTokenLifespan": 7200}, headers=auth).raise_for_status()
            self.admin_token = self._token(http)
            auth = {"Authorization": f"Bearer {self.admin_token}"}
            http.post("/admin/realms", json={"realm": REALM, "enabled": True}, headers=auth).raise_for_status()
            http.post(
                f"/admin/realms/{REALM}/clients",
                json={
                    "clientId": CLIENT,
                    "publicClient": True,
                    "directAccessGrantsEnabled": True,
                    "standardFlowEnabled": False,
                },
                headers=auth,
            ).raise_for_status()
            for i in range(login_users):
                username = f"login{i}"
                http.post(f"/admin/realms/{REALM}/users", json=self._user(username), headers=auth).raise_for_status()
                self.login_users.append(username)

    @staticmethod
    def _user(username: str) -> dict[str, object]:
        # The fields of our sign-up form that Keycloak's default user profile knows; the password is the same.
        return {
            "username": username,
            "email": f"{username}@example.org",
            "emailVerified": True,
            "firstName": "Chloé",
            "lastName": "Dupont",
            "enabled": True,
            "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
        }

    async def create_account(self, http: Client, sequence: int) -> Answer:
        return await http.post(
            f"/admin/realms/{REALM}/users",
            json=self._user(f"signup{sequence}"),
            headers={"Authorization": f"Bearer {self.admin_token}"},
        )

    async def log_in(self, http: Client, sequence: int) -> Answer:
        return await http.post(
            f"/realms/{REALM}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": CLIENT,
                "username": self.login_users[sequence % len(self.login_users)],
                "password": PASSWORD,
            },
        )

    create_status = 201
    login_status = 200
