"""The login history of an account, and what makes a login "new" (issue 13, item 6).

Each successful login is remembered coarsely, as the real site shows it: when, how ("mot de passe" /
"FranceConnect") and an approximate client: the browser family and the system from the User-Agent, and
the client's network, never its address (IPv4 truncated to /24, IPv6 to /48). A login from a device
(browser + system + network) not seen in the history is new, and the holder is told by mail; the first
login of an account has nothing to compare with and is not new.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

KEPT_LOGINS = 20
KEPT_FOR = timedelta(days=365)
MethodLabel = Literal["mot de passe", "FranceConnect"]
METHODS: dict[str, MethodLabel] = {"password": "mot de passe", "franceconnect": "FranceConnect"}
UNKNOWN = "inconnu"

# First match wins: Edge and Opera announce Chrome too, Chrome announces Safari.
_BROWSERS = (
    ("Edge", re.compile(r"Edg(e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/|HeadlessChrome/")),
    ("Safari", re.compile(r"Safari/")),
)
_SYSTEMS = (
    ("Android", re.compile(r"Android")),
    ("iOS", re.compile(r"iPhone|iPad|iPod")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux|X11")),
)


def _first(table: tuple[tuple[str, re.Pattern[str]], ...], user_agent: str) -> str:
    return next((name for name, pattern in table if pattern.search(user_agent)), UNKNOWN)


def network_of(address: str) -> str:
    """The client's network, never its address: /24 for IPv4, /48 for IPv6 ("inconnu" if not an address)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return UNKNOWN
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


@dataclass(frozen=True)
class LoginClient:
    """What the login request tells about its client (read by the web layer, kept here only coarsely)."""

    user_agent: str
    address: str


@dataclass(frozen=True)
class LoginRecord:
    """One successful login, as remembered (no whole address, no full User-Agent)."""

    at: str  # ISO 8601, UTC
    method: str  # "password" or "franceconnect"
    browser: str
    system: str
    network: str

    @classmethod
    def of(cls, client: LoginClient, method: str, at: datetime) -> LoginRecord:
        if method not in METHODS:
            raise ValueError(f"unknown login method {method!r}")
        ua = client.user_agent[:512]
        return cls(at.isoformat(), method, _first(_BROWSERS, ua), _first(_SYSTEMS, ua), network_of(client.address))

    @property
    def device(self) -> tuple[str, str, str]:
        """What "the same device" means: browser family, system and network."""
        return (self.browser, self.system, self.network)

    @property
    def method_label(self) -> MethodLabel:
        return METHODS[self.method]

    @property
    def client_label(self) -> str:
        """E.g. "Firefox sur Linux"."""
        return f"{self.browser} sur {self.system}"

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.at)


def kept(history: list[LoginRecord], now: datetime) -> list[LoginRecord]:
    """The history as kept: newest first, the last ``KEPT_LOGINS`` of the last ``KEPT_FOR``."""
    recent = [r for r in history if r.when > now - KEPT_FOR]
    return sorted(recent, key=lambda r: r.when, reverse=True)[:KEPT_LOGINS]


def is_new_device(history: list[LoginRecord], login: LoginRecord) -> bool:
    """A login is new when the history has logins and none from its device; the first login is not new."""
    return bool(history) and all(r.device != login.device for r in history)
