"""The captcha domain stays pure: no I/O library, no framework, nothing from adapters or app."""

from __future__ import annotations

import ast
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
FORBIDDEN_ROOTS = {
    "faststream",
    "aiokafka",
    "redis",
    "aiosmtplib",
    "fastapi",
    "starlette",
    "pydantic_settings",
    "PIL",
    "subprocess",
    "socket",
    "asyncio",
    "httpx",
    "os",
    "shutil",
    "tempfile",
    "pathlib",
}
FORBIDDEN_PREFIXES = ("services.captcha.adapters", "services.captcha.app")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_imports_nothing_impure() -> None:
    files = sorted(DOMAIN.glob("*.py"))
    assert files
    for path in files:
        for name in _imports(path):
            assert name.split(".")[0] not in FORBIDDEN_ROOTS, f"{path.name} imports {name}"
            assert not name.startswith(FORBIDDEN_PREFIXES), f"{path.name} imports {name}"
