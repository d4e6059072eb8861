"""The OpenID Connect provider that plays FranceConnect locally and in the tests (docs/identity.md).

NAV's ``mock-oauth2-server`` (Maven Central), run from its jars with Java 17 like the Kafka broker, shaped
like FranceConnect v2 by a JSON configuration (its ``JSON_CONFIG`` variable):

- the issuer id is ``franceconnect``: issuer ``http://127.0.0.1:<port>/franceconnect``, discovery, JWKS,
  authorize, token, userinfo and ``end_session_endpoint`` under it;
- every ID token carries ``acr`` = ``eidas1`` (plain FranceConnect) and ``aud`` = the client id; the
  provider sets them, so a tester cannot type them away;
- the login page (``login.html`` beside this file, French) is where the tester types the identity
  claims; the tests post the same form with fixed claims.

Standard library only, like stack.py, so it runs before anything else is installed.

    python deploy/local/oidc_provider.py up [--port 8105]   # start it (var/local), print its issuer
    python deploy/local/oidc_provider.py down
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import stack  # noqa: E402 - deploy/local/stack.py, found through HERE

POM = HERE / "oidc" / "pom.xml"
LOGIN_PAGE = HERE / "oidc" / "login.html"
MAIN_CLASS = "no.nav.security.mock.oauth2.StandaloneMockOAuth2ServerKt"
ISSUER_ID = "franceconnect"
ACR = "eidas1"  # what plain FranceConnect answers; FranceConnect+ answers eidas2 / eidas3
# FranceConnect+ access tokens live 60 s (research/identity.md); ID tokens here share the setting.
TOKEN_LIFETIME_S = 60
DEFAULT_PORT = 8105


def libs(cache: Path) -> Path:
    """The provider's classpath, downloaded once from Maven Central and cached by the POM's hash."""
    return stack.maven_libs(POM, cache, "oidc-libs")


def config(acr_by_client: Mapping[str, str] | None = None, *, login_page: Path = LOGIN_PAGE) -> dict[str, object]:
    """The provider's JSON configuration.

    ``acr_by_client`` gives some client ids another ``acr`` than ``eidas1`` (a test's client that must be
    refused for it). Claims set here win over the ones typed on the login page, so ``acr`` and ``aud``
    are always the provider's; the identity claims come from the login page.
    """
    mappings: list[dict[str, object]] = [
        {"requestParam": "client_id", "match": client, "claims": {"acr": acr, "aud": ["${clientId}"]}}
        for client, acr in (acr_by_client or {}).items()
    ]
    mappings.append({"requestParam": "client_id", "match": "*", "claims": {"acr": ACR, "aud": ["${clientId}"]}})
    return {
        "interactiveLogin": True,
        "loginPagePath": str(login_page),
        "httpServer": "NettyWrapper",
        "tokenCallbacks": [{"issuerId": ISSUER_ID, "tokenExpiry": TOKEN_LIFETIME_S, "requestMappings": mappings}],
    }


@dataclass(frozen=True)
class Provider:
    """A running provider: its process and where a client finds it."""

    pid: int
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{stack.LOOPBACK}:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/{ISSUER_ID}"


def start(var: Path, port: int, cache: Path, acr_by_client: Mapping[str, str] | None = None) -> Provider:
    """Start the provider on ``127.0.0.1:port`` (logs under ``var/logs``) and wait until it answers."""
    classpath = libs(cache)
    logfile = var / "logs" / "oidc.log"
    env = dict(os.environ)
    env.update(
        {
            "SERVER_HOSTNAME": stack.LOOPBACK,
            "SERVER_PORT": str(port),
            "JSON_CONFIG": json.dumps(config(acr_by_client)),
        }
    )
    pid = stack.spawn(
        ["java", "-Xms64m", "-Xmx192m", "-XX:+UseSerialGC", "-cp", f"{classpath}/*", MAIN_CLASS],
        logfile,
        env=env,
    )
    try:
        stack.wait_port(port, "oidc provider", pid, timeout=60, logfile=logfile)
    except (TimeoutError, RuntimeError):
        stack.stop_pid(pid, "oidc provider", grace=5)
        raise
    provider = Provider(pid, port)
    stack.log(f"OpenID Connect provider (FranceConnect) ready on {provider.issuer}")
    return provider


def start_in_stack(state: stack.StackState, cache: Path) -> Provider:
    """``make run``: start the provider on the stack's ``oidc`` port unless it already runs."""
    port = state.ports.oidc
    pid = state.pids.get("oidc")
    if pid and stack.alive(pid) and stack.port_open(port):
        return Provider(pid, port)
    provider = start(Path(state.var), port, cache)
    state.pids["oidc"] = provider.pid
    state.save()
    return provider


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--var", default=str(stack.ROOT / "var" / "local"))
    parser.add_argument("--cache", default=str(stack.ROOT / "var" / "cache"))
    args = parser.parse_args()
    var = Path(args.var).resolve()
    (var / "logs").mkdir(parents=True, exist_ok=True)
    state = stack.StackState.load(var) or stack.StackState(var=str(var), ports=stack.Ports())
    if args.command == "up":
        print(start_in_stack(state, Path(args.cache).resolve()).issuer)
    else:
        pid = state.pids.pop("oidc", None)
        if pid:
            stack.stop_pid(pid, "oidc provider", grace=5)
        state.save()


if __name__ == "__main__":
    main()
