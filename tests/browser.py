"""A real browser for tests: Playwright driving Debian's Chromium (never a downloaded browser).

Debian's Chromium from the ``chromium`` package (``BLING_CHROMIUM``, default
/usr/bin/chromium; .ci/run installs it), headless, no network beyond
loopback. Without it the test is skipped on a local run and fails under CI
(tests/ci_rule.py), so CI cannot pass without running it.
"""

from __future__ import annotations

import os
import pathlib
from contextlib import contextmanager

from ci_rule import require

CHROMIUM = os.environ.get("BLING_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = pathlib.Path(__file__).resolve().parent / "screenshots"  # gitignored
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--no-proxy-server"]


def chromium_or_skip() -> str:
    """The path of Debian's Chromium, or skip (fail under CI) when it is not installed."""
    require(os.path.exists(CHROMIUM), "Chromium", f"{CHROMIUM}: apt-get install chromium")
    return CHROMIUM


@contextmanager
def browser(extra_args: list[str] | None = None):
    """A headless Chromium (Playwright ``Browser``), closed afterwards."""
    path = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS + list(extra_args or []))
        try:
            yield launched
        finally:
            launched.close()


def screenshot(page, name: str) -> pathlib.Path:
    """Save a full-page screenshot to tests/screenshots/<name>.png and return its path."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
