"""The domain layer stays pure: no I/O frameworks, no adapters or app code."""

from __future__ import annotations

import ast
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
FORBIDDEN = (
    "faststream",
    "redis",
    "aiosmtplib",
    "aiokafka",
    "fastapi",
    "pydantic_settings",
    "jinja2",
    "smtplib",
)
FORBIDDEN_PREFIXES = ("services.mailer.adapters", "services.mailer.app")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_imports_nothing_impure() -> None:
    files = sorted(DOMAIN.glob("*.py"))
    assert files
    for path in files:
        for module in imported_modules(path):
            top = module.split(".")[0]
            assert top not in FORBIDDEN, f"{path.name} imports {module}"
            assert not module.startswith(FORBIDDEN_PREFIXES), f"{path.name} imports {module}"
