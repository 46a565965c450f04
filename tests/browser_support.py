"""What every real-browser test shares: Debian's Chromium, driven by Playwright, started as
this machine allows (as root, with no network beyond loopback)."""

from __future__ import annotations

from pathlib import Path

#: Debian's Chromium (`make browser`); Playwright's own browser download cannot work offline.
CHROMIUM = Path("/usr/bin/chromium")
#: As root Chromium needs --no-sandbox; the rest keep it from calling out to a closed network.
LAUNCH_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
