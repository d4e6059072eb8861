"""Browser fixtures: Debian's headless Chromium driven by Playwright (no browser download), a screenshot
and an axe-core audit of every page the holder sees, and a watch on CSP violations and script errors."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "deploy" / "local" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BLOCKING_IMPACTS = {"serious", "critical"}

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " → " + n.failureSummary)
  }));
}"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core is missing: run `cd deploy/local && npm ci` ({AXE})")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing: `apt-get install -y chromium`")
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@dataclass
class PageWatch:
    """Console messages that mean the page is broken: CSP refusals and uncaught script errors."""

    problems: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.problems.append(f"CSP: {text}")

    def on_page_error(self, error: Any) -> None:
        self.problems.append(f"script error: {error}")


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = await context.new_page()
    watch = PageWatch()
    tab.on("console", watch.on_console)
    tab.on("pageerror", watch.on_page_error)
    try:
        yield tab
    finally:
        await context.close()
    assert watch.problems == [], "\n".join(watch.problems)


@dataclass
class Pages:
    """Screenshot and accessibility audit of each page, named after the test and the step."""

    axe_source: str
    prefix: str
    count: int = 0
    audited: list[str] = field(default_factory=list)

    async def check(self, page: Page, name: str, *, audit: bool = True) -> Path:
        self.count += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        if audit:
            assert await page.get_attribute("html", "lang") == "fr", f"{name}: <html lang> is not fr"
            await self.audit(page, name)
        return path

    async def audit(self, page: Page, name: str) -> None:
        # Evaluated through the DevTools protocol, so the page's CSP (no inline script) is left untouched.
        if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
            await page.evaluate(self.axe_source + "\n;void 0")
        violations: list[dict[str, Any]] = await page.evaluate(AXE_RUN)
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        self.audited.append(name)
        assert not blocking, f"axe-core on « {name} » ({page.url}):\n" + json.dumps(
            blocking, ensure_ascii=False, indent=2
        )


@pytest.fixture
def pages(request: pytest.FixtureRequest, axe_source: str) -> Pages:
    words = re.sub(r"[^a-z0-9]+", " ", request.node.name.removeprefix("test_").lower()).split()
    prefix = "-".join(words[:3])
    return Pages(axe_source, prefix)
