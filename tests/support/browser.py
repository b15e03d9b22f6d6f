"""Browser testing helpers: Debian's chromium driven by Playwright, and a live WSGI server."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from werkzeug.serving import make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
INSTALL_HINT = "run `sudo scripts/install-test-deps.sh` to install the test dependencies"


def find_chromium() -> str | None:
    """Return the path of Debian's chromium, or None when it is not installed."""
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    return shutil.which("chromium")


def launch_chromium(playwright: Playwright) -> Browser:
    """Launch Debian's chromium through Playwright with the flags that work on these machines."""
    executable = find_chromium()
    if executable is None:
        raise RuntimeError(f"chromium is not installed; {INSTALL_HINT}")
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG under test-artifacts/screenshots/ and return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "screenshot"
    path = SCREENSHOT_DIR / f"{safe.removesuffix('.png')}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextmanager
def serve_app(wsgi_app: WSGIApplication) -> Iterator[str]:
    """Serve wsgi_app on 127.0.0.1 and a free port in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server"
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
