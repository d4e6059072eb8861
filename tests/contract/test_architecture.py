"""Domains do no I/O. lint-imports (in `make test`) enforces the package boundaries; the standard library
is outside its graph, so its I/O modules are checked here, for every service's domain at once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IO_MODULES = (
    "socket",
    "subprocess",
    "smtplib",
    "asyncio",
    "ssl",
    "urllib.request",
    "http.client",
    "http.server",
    "shutil",
    "sqlite3",
    "os",
)
DOMAIN_FILES = sorted(ROOT.glob("services/*/domain/*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_every_service_has_a_domain() -> None:
    assert {p.parts[-3] for p in DOMAIN_FILES} == {"registration", "captcha", "mailer", "rights"}


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_modules_import_no_io(path: Path) -> None:
    assert not {name for name in imported(path) for io in IO_MODULES if name == io or name.startswith(io + ".")}
