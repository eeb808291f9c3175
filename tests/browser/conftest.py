"""Browser tests: Playwright driving Debian's Chromium (headless) against the live server.

In CI (CI=true) a missing browser is a failure. On a developer machine without Chromium the
browser tests are skipped with a message saying how to install it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_path() -> str | None:
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit if Path(explicit).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium_browser():
    path = _chromium_path()
    if path is None:
        message = "Debian's Chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: browser tests must run in CI", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class CspWatch:
    """Collects what the browser refused under the Content-Security-Policy, on every page of
    a context: a test fails on any, since a refused script or style is a broken page."""

    def __init__(self):
        self.violations: list[str] = []

    def attach(self, page) -> None:
        page.on("console", self._console)

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.violations.append(text)

    def check(self) -> None:
        assert not self.violations, "CSP violations:\n" + "\n".join(self.violations)


@pytest.fixture
def browser_context(chromium_browser, live_server):
    """`browser_context(**options)`: a new context whose pages are watched for CSP violations
    (checked when the test ends)."""
    made = []

    def _new(**options):
        options.setdefault("base_url", live_server.url)
        options.setdefault("locale", "ko-KR")
        context = chromium_browser.new_context(**options)
        context.set_default_timeout(15000)
        watch = CspWatch()
        context.on("page", watch.attach)
        made.append((context, watch))
        return context

    yield _new
    for context, watch in made:
        try:
            watch.check()
        finally:
            context.close()


@pytest.fixture
def page(browser_context, request):
    """A fresh browser context (no cookies) on a desktop viewport."""
    context = browser_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"), full_page=True)


@pytest.fixture
def shot(request):
    """`shot("step")` saves a screenshot of the test's page (or of `target`) as an artifact."""

    def _shot(step: str, target=None) -> Path:
        target = target or request.getfixturevalue("page")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}-{step}.png"
        target.screenshot(path=str(path), full_page=True)
        return path

    return _shot
