"""Browser fixtures: the real app served on 127.0.0.1 in a background thread, and Debian's
Chromium driven headless through Playwright (one browser per session, a context per test)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from portfolio.accounts.issuers import default_issuer
from tests.conftest import TEST_KEK

if TYPE_CHECKING:
    from flask import Flask
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

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


@contextmanager
def serve(folder: Path, **config: Any) -> Iterator[Flask]:
    """The app on instance folder ``folder/instance`` and its own database, served on a free
    local port (in a background thread) until the block ends; the tables are dropped after.

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
            f"sqlite:///{folder / 'browser.sqlite3'}"
        )
        app = create_app(
            {
                "INSTANCE_PATH": str(folder / "instance"),
                "SQLALCHEMY_DATABASE_URI": database_url,
                "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
                "CREDFOLIO_PUBLIC_URL": url,
                "LIVE_SERVER_URL": url,
                **config,
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
def live_app(tmp_path: Path) -> Iterator[Flask]:
    """The app on a temporary instance folder and database, served on a free local port (see
    :func:`serve`)."""
    with serve(tmp_path) as app:
        yield app


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


# -- inspection: axe-core, reflow, screenshots -----------------------------------------------

#: The viewports every inspected page is measured at (WCAG 1.4.10: no horizontal scroll).
REFLOW_WIDTHS = (320, 390)
#: The screenshots saved of every inspected step: a laptop and a phone, full page.
SHOT_SIZES = ((1280, 900), (390, 844))

_WIDER_THAN_VIEWPORT = """() => {
  const width = window.innerWidth;
  const over = (e) => { const box = e.getBoundingClientRect();
    return box.width > 0 && box.right > width + 0.5; };
  const scrolls = (e) => ['auto', 'scroll', 'hidden', 'clip']
    .includes(getComputedStyle(e).overflowX);
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + [...e.classList].slice(0, 3).map((c) => '.' + c).join('');
  const path = (e) => { const parts = []; for (let n = e; n && n !== document.body
    && parts.length < 4; n = n.parentElement) parts.unshift(name(n)); return parts.join(' > '); };
  const wide = [];
  for (const e of document.body.querySelectorAll('*')) {
    // The outermost culprits only: not what a wider parent carries, nor what sits in a
    // container that scrolls or clips it.
    if (!over(e) || (e.parentElement !== document.body && over(e.parentElement))) continue;
    let clipped = false;
    for (let n = e.parentElement; n && n !== document.body; n = n.parentElement) {
      if (scrolls(n)) { clipped = true; break; }
    }
    if (!clipped) {
      wide.push(path(e) + ' (right edge ' + Math.round(e.getBoundingClientRect().right) + ' px)');
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width,
          wide: wide.slice(0, 5)};
}"""

_AXE_RUN = """async () => {
  const results = await window.axe.run(document, {resultTypes: ['violations']});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    count: v.nodes.length,
  }));
}"""


def _axe_source() -> str:
    """axe.min.js from ``CREDFOLIO_AXE_DIR`` (scripts/axe); skips (fails in CI) without it."""
    folder = os.environ.get("CREDFOLIO_AXE_DIR")
    reason = None
    if not folder:
        reason = "CREDFOLIO_AXE_DIR is not set (scripts/test sets it from scripts/axe)"
    elif not (Path(folder) / "node_modules" / "axe-core" / "axe.min.js").is_file():
        reason = f"no axe-core in CREDFOLIO_AXE_DIR={folder} (run scripts/axe)"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the accessibility check cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    assert folder is not None
    return (Path(folder) / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (every rule, every impact).

    The script is evaluated through the DevTools protocol, which the page's Content Security
    Policy (``script-src 'self'``) does not govern, unlike a ``<script>`` tag."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    violations: list[dict[str, Any]] = page.evaluate(_AXE_RUN)
    return violations


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  {v['id']} ({v['impact']}): {v['help']} — {v['count']} element(s)")
        lines.extend(f"      {target}" for target in v["targets"])
        lines.append(f"      {v['helpUrl']}")
    return "\n".join(lines)


def reflow_problems(page: Page, widths: tuple[int, ...] = REFLOW_WIDTHS) -> list[str]:
    """For each width the page scrolls sideways at: what overflows.  The viewport is put back."""
    original = page.viewport_size
    problems = []
    try:
        for width in widths:
            page.set_viewport_size({"width": width, "height": 800})
            measured = page.evaluate(_WIDER_THAN_VIEWPORT)
            if measured["scrollWidth"] > measured["innerWidth"]:
                problems.append(
                    f"  at {width} px the page is {measured['scrollWidth']} px wide; widest: "
                    + "; ".join(measured["wide"])
                )
    finally:
        if original is not None:
            page.set_viewport_size(original)
    return problems


def save_screenshots(page: Page, folder: Path, stem: str) -> list[Path]:
    """Full-page screenshots at :data:`SHOT_SIZES`, ``<stem>-<width>.png``; viewport put back."""
    original = page.viewport_size
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    try:
        for width, height in SHOT_SIZES:
            page.set_viewport_size({"width": width, "height": height})
            path = folder / f"{stem}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            saved.append(path)
    finally:
        if original is not None:
            page.set_viewport_size(original)
    return saved


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-").lower()[:60] or "page"


@dataclass
class Inspector:
    """Inspects the page as it is now: axe-core finds no violation of any impact, the page does
    not scroll sideways at 320 or 390 px, and screenshots of the step are saved to
    ``test-artifacts/screenshots/<journey>/<NN>-<step>-<width>.png`` (not committed).

    Call it once per step: ``inspect(page, "evidence gallery")``.
    """

    journey: str
    axe_source: str = field(repr=False)
    screenshots: bool = True
    steps: int = 0
    failures: list[str] = field(default_factory=list)

    def check(self, page: Page, step: str, *, screenshots: bool | None = None) -> list[str]:
        """The inspection's problems with ``page`` (empty when it passes); saves screenshots."""
        page.wait_for_load_state("load")
        self.steps += 1
        stem = f"{self.steps:02d}-{_slug(step)}"
        problems = []
        violations = axe_violations(page, self.axe_source)
        if violations:
            problems.append(
                f"axe-core: {len(violations)} violation(s) on {page.url}:\n"
                + describe_violations(violations)
            )
        reflow = reflow_problems(page)
        if reflow:
            problems.append(f"reflow: horizontal scroll on {page.url}:\n" + "\n".join(reflow))
        if self.screenshots if screenshots is None else screenshots:
            save_screenshots(page, SCREENSHOTS / _slug(self.journey), stem)
        return problems

    def __call__(self, page: Page, step: str, *, screenshots: bool | None = None) -> None:
        problems = self.check(page, step, screenshots=screenshots)
        if problems:
            pytest.fail(f"step {step!r}:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def axe_source() -> str:
    return _axe_source()


@pytest.fixture
def inspect(axe_source: str, request: pytest.FixtureRequest) -> Inspector:
    """An :class:`Inspector` whose screenshots go to a folder named after the test."""
    name = request.node.name.removeprefix("test_")
    return Inspector(journey=name, axe_source=axe_source)


# -- the demo school, served -----------------------------------------------------------------


@dataclass
class Account:
    role: str
    email: str
    password: str = field(repr=False)
    name: str = ""


@dataclass
class Demo:
    """The demo school (portfolio/demo, as ``scripts/demo`` seeds it) on a live server."""

    app: Flask = field(repr=False)
    url: str
    #: role → the account used for it: "student" (Maya), "assessor" (Amara), "admin".
    accounts: dict[str, Account] = field(repr=False)
    #: every demo person's key ("maya", "leo", "amara", ...) → their account.
    people: dict[str, Account] = field(repr=False)
    #: scenario key ("maya-song", ...) → the public id of the credential it earned.
    credentials: dict[str, str]
    #: the public id of the credential the demo revoked.
    revoked: str
    #: scenario key → the submission's public id.
    submissions: dict[str, str]
    #: the browser, for :meth:`signed_in`.
    browser: Browser | None = field(default=None, repr=False)
    contexts: list[BrowserContext] = field(default_factory=list, repr=False)

    def sign_in(self, page: Page, who: str) -> None:
        """Sign ``page`` in as a role ("student", "assessor", "admin") or a person ("leo")."""
        account = self.accounts.get(who) or self.people[who]
        page.goto(f"{self.url}/sign-in")
        page.get_by_label("Email address").fill(account.email)
        page.get_by_label("Password", exact=True).fill(account.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("load")
        assert "/sign-in" not in page.url, f"signing in as {who} failed: {page.url}"

    def new_page(self, **context_options: Any) -> Page:
        """A page in a fresh browser context (closed at the end of the module's tests)."""
        assert self.browser is not None
        options: dict[str, Any] = {
            "viewport": {"width": 1280, "height": 900},
            "accept_downloads": True,
            **context_options,
        }
        context = self.browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        return context.new_page()

    def signed_in(self, who: str | None, **context_options: Any) -> Page:
        """A new page signed in as ``who`` (a role or a person), or anonymous for ``None``."""
        page = self.new_page(**context_options)
        if who is not None:
            self.sign_in(page, who)
        return page

    def close_pages(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


def _seed_demo(app: Flask) -> Demo:
    from portfolio.demo import school as demo_school
    from portfolio.demo.people import PEOPLE

    with app.app_context():
        issuer = default_issuer()
        app.extensions["credfolio"].key_store.create(issuer.did)
        school = demo_school.seed(issuer, instance_path=app.instance_path)
        people = {}
        for spec in PEOPLE:
            password = school.passwords.get(spec.email)
            assert password, f"no password recorded for {spec.email}"
            people[spec.key] = Account(str(spec.role.value), spec.email, password, spec.name)
        credentials = {
            key: submission.credential.public_id
            for key, submission in school.submissions.items()
            if submission.credential is not None
        }
        (revoked,) = (
            submission.credential.public_id
            for submission in school.submissions.values()
            if submission.credential is not None and submission.credential.state == "revoked"
        )
        submissions = {key: s.public_id for key, s in school.submissions.items()}
    return Demo(
        app=app,
        url=str(app.config["LIVE_SERVER_URL"]),
        accounts={
            "student": people["maya"],
            "assessor": people["amara"],
            "admin": people["admin"],
        },
        people=people,
        credentials=credentials,
        revoked=revoked,
        submissions=submissions,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Demo]:
    """The demo school seeded into a live app, once per test module; its accounts by role
    (``demo.accounts["student"].email``) and signed-in pages (``demo.signed_in("assessor")``)."""
    with serve(tmp_path_factory.mktemp("demo")) as app:
        school = _seed_demo(app)
        school.browser = browser
        try:
            yield school
        finally:
            school.close_pages()


@pytest.fixture
def as_role(demo: Demo) -> Iterator[Callable[..., Page]]:
    """``as_role("student")``: a new page signed in to the demo (``None``: anonymous); the
    pages' contexts close when the test ends."""
    start = len(demo.contexts)
    yield demo.signed_in
    for context in demo.contexts[start:]:
        context.close()
    del demo.contexts[start:]
