"""The rights domain stays pure: no I/O frameworks, no pydantic, no contracts, no adapters or app."""

from __future__ import annotations

import ast
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
FORBIDDEN = {
    "faststream",
    "redis",
    "aiosmtplib",
    "aiokafka",
    "fastapi",
    "pydantic",
    "pydantic_settings",
    "contracts",
    "httpx",
    "os",
    "socket",
    "subprocess",
    "time",
    "random",
}
FORBIDDEN_PREFIXES = ("services.rights.adapters", "services.rights.app")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_imports_nothing_impure() -> None:
    files = sorted(DOMAIN.glob("*.py"))
    assert len(files) > 5
    for path in files:
        for module in imported_modules(path):
            assert module.split(".")[0] not in FORBIDDEN, f"{path.name} imports {module}"
            assert not module.startswith(FORBIDDEN_PREFIXES), f"{path.name} imports {module}"


def test_domain_reads_no_clock() -> None:
    for path in sorted(DOMAIN.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "date.today" not in text and "datetime.now" not in text, path.name
