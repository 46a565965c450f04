"""What every real-browser test shares: Debian's Chromium, driven by Playwright, started as
this machine allows (as root, with no network beyond loopback)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

#: Debian's Chromium (`make browser`); Playwright's own browser download cannot work offline.
CHROMIUM = Path("/usr/bin/chromium")
#: As root Chromium needs --no-sandbox; the rest keep it from calling out to a closed network.
LAUNCH_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
               "--disable-sync", "--no-first-run"]


@contextmanager
def chromium():
    """A headless Chromium (Playwright's ``Browser``), closed after; the test is skipped, saying
    how to install what is missing, without Chromium or Playwright."""
    import pytest

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install it with `make browser` (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()
