"""Browser fixtures: the real app served on 127.0.0.1 in a background thread, and Debian's
Chromium driven headless through Playwright (one browser per session, a context per test)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from portfolio.accounts.issuers import default_issuer
from tests.conftest import TEST_KEK

if TYPE_CHECKING:
    from flask import Flask
    from playwright.sync_api import Browser, Page, Playwright

#: Debian's chromium (scripts/system-packages installs it); Playwright's own browser downloads
#: are not used.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10_000  # fail fast: every page here is local


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing: run scripts/system-packages (Debian package 'chromium')"
    return None


# -- the app, served for real ----------------------------------------------------------------


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[Flask]:
    """The app on a temporary instance folder and database, served on a free local port.

    ``CREDFOLIO_PUBLIC_URL`` is the server's own URL, so credential ids, status-list URLs and
    the issuer's did:web all point at this server.  The base URL is in
    ``app.config["LIVE_SERVER_URL"]``.
    """
    from werkzeug.serving import make_server

    from portfolio.core.db import db
    from wsgi import create_app

    # The port is known only once the socket is bound, and the app needs it for its public
    # URL: bind first with a forwarding WSGI callable, then create the app.
    apps: dict[str, Flask] = {}

    def application(environ: dict[str, Any], start_response: Any) -> Any:
        return apps["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        database_url = os.environ.get("CREDFOLIO_DATABASE_URL") or (
            f"sqlite:///{tmp_path / 'browser.sqlite3'}"
        )
        app = create_app(
            {
                "INSTANCE_PATH": str(tmp_path / "instance"),
                "SQLALCHEMY_DATABASE_URI": database_url,
                "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
                "CREDFOLIO_PUBLIC_URL": url,
                "LIVE_SERVER_URL": url,
            }
        )
        apps["app"] = app
        with app.app_context():
            db.create_all()
        thread.start()
        try:
            yield app
        finally:
            # Stop serving first: no request may hold the database while it is dropped.
            server.shutdown()
            thread.join(timeout=10)
            with app.app_context():
                db.session.remove()
                db.drop_all()
                # Close pooled connections now, not at garbage collection (a ResourceWarning).
                db.engine.dispose()
    finally:
        server.server_close()


@pytest.fixture
def live_server(live_app: Flask) -> str:
    """The live server's base URL, ``http://127.0.0.1:<port>``."""
    return str(live_app.config["LIVE_SERVER_URL"])


@pytest.fixture
def live_issuer(live_app: Flask) -> str:
    """The live app's default issuer, given an active signing key; returns its DID."""

    with live_app.app_context():
        issuer = default_issuer()
        live_app.extensions["credfolio"].key_store.create(issuer.did)
        return str(issuer.did)


# -- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    reason = _browser_missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh browser context; a screenshot of it is saved when the test ends."""
    context = browser.new_context(viewport={"width": 1000, "height": 800}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        try:
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        finally:
            context.close()
