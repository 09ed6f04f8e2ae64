"""Security headers and cookies (issue #7, "Web application"): every response — page, JSON,
file, error — forbids inline and foreign script and framing, MIME sniffing and cross-site
referrers; HSTS over HTTPS; the stricter policies of file routes are kept; session cookies are
Secure, HttpOnly and SameSite."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from portfolio.core.security_headers import CONTENT_SECURITY_POLICY
from tests.conftest import TEST_KEK, unsigned_badge
from wsgi import create_app

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
UPLOADS = Path(__file__).resolve().parents[2] / "assets" / "uploads"


def policy(response: Any) -> dict[str, str]:
    """The Content-Security-Policy as {directive: sources}."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request.path}"
    directives = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def scripts_allowed(directives: dict[str, str]) -> str:
    """The sources a script may come from under ``directives`` (CSP 3 fallback to
    default-src); "'none'" when none may run, "'self'" when only our own script files."""
    return directives.get("script-src", directives.get("default-src", "*"))


def assert_hardened(response: Any) -> None:
    directives = policy(response)
    # Our own script files at most: never inline script, eval or another origin's.
    assert scripts_allowed(directives) in ("'none'", "'self'")
    if directives.get("default-src") != "'none'":  # not a file's own stricter policy
        assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert "camera=()" in response.headers["Permissions-Policy"]


@pytest.fixture
def pages(app: Flask) -> Flask:
    """The app with a view that fails (a 500) and one that serves an uploaded file, added
    before its first request."""
    from flask import request

    from portfolio.accounts.models import User
    from portfolio.core.db import db
    from portfolio.files.models import Blob
    from portfolio.files.uploads import send_blob, store_blob

    @app.get("/test-failure")
    def failure() -> str:
        raise RuntimeError("a bug")

    @app.get("/test-blobs/<sha256>")
    def serve(sha256: str) -> Any:
        blob = db.get_or_404(Blob, sha256)
        return send_blob(blob, filename=None, inline=request.args.get("inline") == "1")

    with app.app_context():
        from werkzeug.datastructures import FileStorage

        owner = User(
            email="ada@example.test", password_hash="x", display_name="Ada", role="student"
        )
        db.session.add(owner)
        data = (UPLOADS / "drawing.png").read_bytes()
        store_blob(FileStorage(io.BytesIO(data), "drawing.png"), owner=owner)
        db.session.commit()
    return app


@pytest.fixture
def credential_id(pages: Flask, issuer: Any) -> str:
    from portfolio.issuing import service as services

    return str(services.issue(unsigned_badge(), issuer=issuer).public_id)


def _every_kind_of_response(client: Any, credential_id: str) -> dict[str, tuple[int, Any]]:
    """(expected status, response) by kind."""
    drawing = hashlib.sha256((UPLOADS / "drawing.png").read_bytes()).hexdigest()
    return {
        "HTML page": (200, client.get("/")),
        "form page": (200, client.get("/sign-in")),
        "credential page": (200, client.get(f"/c/{credential_id}")),
        "HTML 404": (404, client.get("/no-such-page")),
        "HTML 405": (405, client.get("/sign-out")),
        "HTML 500": (500, client.get("/test-failure")),
        "/verify 400": (400, client.post("/verify", data={})),
        "JSON document": (200, client.get("/.well-known/did.json")),
        "JSON OpenAPI": (200, client.get("/api/openapi.json")),
        "JSON 400": (400, client.post("/credentials/verify", json={})),
        "JSON 404": (404, client.get("/credentials/no-such-thing")),
        "JSON-LD download": (200, client.get(f"/c/{credential_id}/credential.json")),
        "SVG badge": (200, client.get(f"/c/{credential_id}/badge.svg")),
        "PNG badge": (200, client.get(f"/c/{credential_id}/badge.png")),
        "uploaded file": (200, client.get(f"/test-blobs/{drawing}?inline=1")),
    }


def test_every_kind_of_response_forbids_inline_script_framing_and_sniffing(pages, credential_id):
    pages.logger.disabled = True  # the 500's traceback is expected
    try:
        responses = _every_kind_of_response(pages.test_client(), credential_id)
    finally:
        pages.logger.disabled = False
    for kind, (status, response) in responses.items():
        try:
            assert response.status_code == status
            assert_hardened(response)
        except AssertionError as exc:
            raise AssertionError(f"{kind} ({response.status_code}): {exc}") from exc
    assert responses["JSON 404"][1].mimetype == "application/json"


def test_the_pages_policy_allows_scripts_and_styles_only_from_our_own_files(client):
    directives = policy(client.get("/"))
    assert directives == dict(part.split(None, 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"  # portfolio/static/*.js; no inline, no eval
    assert directives["style-src"] == "'self'"  # no <style> block, no style attribute
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'"
    for name, sources in directives.items():
        assert "unsafe" not in sources, name


def test_the_stricter_policies_of_file_routes_are_kept_as_they_are(pages, credential_id):
    from portfolio.files.uploads import CONTENT_SECURITY_POLICY as FILE_POLICY

    client = pages.test_client()
    drawing = hashlib.sha256((UPLOADS / "drawing.png").read_bytes()).hexdigest()
    blob = client.get(f"/test-blobs/{drawing}")
    assert blob.headers["Content-Security-Policy"] == FILE_POLICY
    assert "sandbox" in policy(blob)
    svg = client.get(f"/c/{credential_id}/badge.svg")
    assert svg.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    for response in (blob, svg):
        assert response.headers["X-Frame-Options"] == "DENY"


def test_a_header_a_view_sets_itself_is_not_replaced(pages, credential_id):
    drawing = hashlib.sha256((UPLOADS / "drawing.png").read_bytes()).hexdigest()
    # send_blob asks for no referrer at all, stricter than the pages' same-origin.
    response = pages.test_client().get(f"/test-blobs/{drawing}")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers.getlist("Content-Security-Policy") == [
        response.headers["Content-Security-Policy"]
    ]


# -- HSTS ------------------------------------------------------------------------------------


@pytest.fixture
def http_app(tmp_path: Path) -> Iterator[Flask]:
    """A service whose public URL is plain http (a local demo)."""
    from portfolio.core.db import db

    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "http-instance"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'http.sqlite3'}",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            "CREDFOLIO_PUBLIC_URL": "http://127.0.0.1:5000",
        }
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_hsts_is_sent_when_the_public_url_is_https(client):
    for response in (client.get("/"), client.get("/.well-known/did.json")):
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_is_not_sent_by_a_plain_http_service_unless_the_request_came_over_tls(http_app):
    client = http_app.test_client()
    response = client.get("/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


# -- templates ---------------------------------------------------------------------------------


def test_no_template_has_inline_script_event_handlers_or_javascript_urls():
    """The policy would block them anyway; this keeps pages from depending on them.  The one
    script element allowed loads a first-party file by ``asset_url`` and is empty."""
    pattern = re.compile(
        r"<script(?!\s+src=\"\{\{ asset_url\('[\w.-]+\.js'\) \}\}\"(?:\s+defer)?></script>)"
        r"|\son[a-z]+\s*=|javascript:",
        re.IGNORECASE,
    )
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_no_template_has_a_style_block_or_a_style_attribute():
    """The policy would ignore them (``style-src 'self'``): styles live in
    portfolio/static/credfolio.css, and the PDFs' in pdf.css."""
    pattern = re.compile(r"<style|\sstyle\s*=", re.IGNORECASE)
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


# -- cookies ---------------------------------------------------------------------------------


def _session_cookie(response: Any) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def test_the_anonymous_session_cookie_of_a_form_is_secure_http_only_and_same_site(client):
    """Visiting a form stores its CSRF token in the session: that cookie is protected too."""
    cookie = _session_cookie(client.get("/sign-in"))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite"} <= attributes
    assert "SameSite=Lax" in cookie


def test_the_session_cookie_is_not_marked_secure_on_a_plain_http_service(http_app):
    cookie = _session_cookie(http_app.test_client().get("/sign-in"))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
