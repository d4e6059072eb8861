"""``make run``: the whole platform in the foreground; Ctrl-C stops everything it started.

A service that crashes is restarted with back-off, as Kubernetes would (deploy/local/supervisor.py); the
rest of the platform keeps running meanwhile.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import launcher
import oidc_provider
import stack
from supervisor import Supervisor


def main() -> None:
    var = stack.ROOT / "var" / "local"
    stop_requested = False

    def on_signal(_sig: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    state = stack.up(var, stack.Ports(), with_maildev=True, with_nginx=True, cache=stack.ROOT / "var" / "cache")
    try:
        franceconnect = oidc_provider.start_in_stack(state, stack.ROOT / "var" / "cache")
        launcher.start(state)
        p = state.ports
        print(
            "\n  Mon Compte Formation is running.\n"
            f"    Sign-up page and API : http://{stack.LOOPBACK}:{p.gateway}/\n"
            f"    API (OpenAPI docs)   : http://{stack.LOOPBACK}:{p.gateway}/api/v1/docs\n"
            f"    E-mail inbox         : http://{stack.LOOPBACK}:{p.inbox}/\n"
            f"    FranceConnect (local): {franceconnect.issuer}/.well-known/openid-configuration\n"
            f"    Logs                 : {var / 'logs'}\n"
            "  A crashed service is restarted with back-off (1 s, 2 s, 4 s … 30 s), as Kubernetes would.\n"
            "  Press Ctrl-C to stop.\n",
            flush=True,
        )
        supervisor = Supervisor(state)
        while not stop_requested:
            supervisor.tick()
            time.sleep(0.5)
    finally:
        stack.log("stopping")
        launcher.stop(state)
        stack.down(var)


if __name__ == "__main__":
    main()
