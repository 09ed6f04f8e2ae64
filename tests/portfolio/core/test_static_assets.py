"""The pages' stylesheet (portfolio/core/assets.py): served from /static under a URL that names its
version, kept by browsers for a year; every page links it (the CSP allows no inline style)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from portfolio.core import assets

STATIC = Path(__file__).resolve().parents[3] / "portfolio" / "static"
STYLESHEET = re.compile(r'<link rel="stylesheet" href="(/static/credfolio\.css\?v=([0-9a-f]+))">')


def current_version(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def test_pages_link_the_stylesheet_by_its_version(client: Any) -> None:
    for path in ("/", "/sign-in", "/verify", "/no-such-page"):
        match = STYLESHEET.search(client.get(path).get_data(as_text=True))
        assert match, path
        assert match.group(2) == current_version("credfolio.css")


def test_a_versioned_stylesheet_is_cached_for_a_year(client: Any) -> None:
    url = STYLESHEET.search(client.get("/").get_data(as_text=True)).group(1)
    with client.get(url) as response:
        assert response.status_code == 200
        assert response.mimetype == "text/css"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.get_data() == (STATIC / "credfolio.css").read_bytes()
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    # A browser revalidating (it should not, but may) keeps the promise too.
    with client.get(url, headers={"If-None-Match": response.headers["ETag"]}) as again:
        assert again.status_code == 304
        assert again.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_an_unversioned_or_outdated_url_is_not_promised_to_last(client: Any) -> None:
    for url in ("/static/credfolio.css", "/static/credfolio.css?v=000000000000"):
        with client.get(url) as response:
            assert response.status_code == 200, url
            assert "immutable" not in response.headers.get("Cache-Control", ""), url
    with client.get("/static/no-such.css?v=0") as missing:
        assert missing.status_code == 404


def test_the_version_is_read_once_per_process(app: Any, monkeypatch: Any) -> None:
    reads: list[Path] = []
    original = Path.read_bytes

    def counting(path: Path) -> bytes:
        reads.append(path)
        return original(path)

    assets.file_version.cache_clear()
    monkeypatch.setattr(Path, "read_bytes", counting)
    with app.test_request_context():
        first = assets.asset_url("credfolio.css")
        assert assets.asset_url("credfolio.css") == first
    assert len(reads) == 1
    monkeypatch.undo()
    assert first == f"/static/credfolio.css?v={current_version('credfolio.css')}"


def test_an_app_under_a_prefix_links_its_own_static_files(app: Any) -> None:
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/school"}):
        assert assets.asset_url("credfolio.css").startswith("/school/static/credfolio.css?v=")
