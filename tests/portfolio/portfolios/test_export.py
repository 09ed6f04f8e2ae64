"""Portfolio exports: the PDF embeds images from storage as data: URIs, fetches nothing else
and prints hostile text as text; the ZIP holds each file once under a safe name and a manifest
whose SHA-256s match the files."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.core.db import db
from portfolio.core.pdf import RestrictedFetcher
from portfolio.evidence.models import Artefact
from portfolio.portfolios.export import archive_name, render_portfolio_pdf
from portfolio.portfolios.models import Portfolio
from portfolio.portfolios.pages import portfolio_pdf_html
from tests.portfolio.core.test_pdf import layout_text
from tests.portfolio.evidence.test_evidence_pages import (
    create_evidence,
    png_bytes,
    upload,
)
from tests.portfolio.portfolios.test_portfolios import (
    add_section,
    place,
    section_ids,
    shared_portfolio,
)

STORY = b"Once upon a time there was a song.\n"


@pytest.fixture
def pages(app: Flask) -> Flask:
    """The app with CSRF checks off (CSRF itself is tested in test_auth)."""
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _with_story(app: Flask) -> dict[str, Any]:
    """The shared portfolio plus a second section holding a text file named hostilely."""
    shared = shared_portfolio(app, "private")
    owner, portfolio_id = shared["owner"], shared["portfolio_id"]
    story = create_evidence(owner, title="<script>alert(1)</script> Story", narrative="**Bold**")
    response = upload(owner, story, STORY, "../../etc/passwd.txt", title="Story")
    assert response.status_code == 303, response.get_data(as_text=True)
    add_section(owner, str(portfolio_id), "Writing")
    assert (
        place(owner, str(portfolio_id), section_ids(app, str(portfolio_id))[1], story).status_code
        == 303
    )
    return shared


def test_the_zip_manifest_lists_everything_and_its_hashes_match(pages: Flask) -> None:
    shared = _with_story(pages)
    response = shared["owner"].get(f"/portfolios/{shared['portfolio_id']}/export.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        assert "manifest.json" in names
        assert all("/" not in n and "\\" not in n and ".." not in n for n in names)
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist())
        manifest = json.loads(archive.read("manifest.json"))
        files = [
            artefact
            for section in manifest["sections"]
            for evidence in section["evidence"]
            for artefact in evidence["artefacts"]
            if artefact["kind"] == "file"
        ]
        assert len(files) == 2 == len(names) - 1
        for entry in files:
            data = archive.read(entry["filename"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert len(data) == entry["size"]
        story = next(f for f in files if f["title"] == "Story")
        assert archive.read(story["filename"]) == STORY
        assert story["mediaType"] == "text/plain"
    assert manifest["portfolio"]["title"] == "Art"
    assert [s["title"] for s in manifest["sections"]] == ["Drawings", "Writing"]
    links = [
        a
        for s in manifest["sections"]
        for e in s["evidence"]
        for a in e["artefacts"]
        if a["kind"] == "link"
    ]
    assert links == [{"kind": "link", "title": "More", "url": "https://example.org/more"}]
    # The private evidence outside the portfolio is not exported.
    assert "Diary" not in json.dumps(manifest)


def test_archive_names_are_flat_unique_and_never_the_manifest() -> None:
    taken = {"manifest.json"}
    hostile = Artefact(kind="file", title="x", original_filename="../../manifest.json")
    first = archive_name(1, hostile, taken)
    second = archive_name(1, hostile, taken)
    assert first == "001-manifest.json" and second == "001-manifest.json-2"
    nameless = Artefact(kind="file", title="../..", original_filename=None)
    assert archive_name(2, nameless, taken) == "002-artefact"


def test_the_pdf_embeds_images_fetches_nothing_and_escapes_text(pages: Flask) -> None:
    shared = _with_story(pages)
    response = shared["owner"].get(f"/portfolios/{shared['portfolio_id']}/export.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF-")
    assert "attachment" in response.headers["Content-Disposition"]

    with pages.test_request_context():
        portfolio = db.session.scalar(
            select(Portfolio).where(Portfolio.public_id == shared["portfolio_id"])
        )
        assert portfolio is not None
        html = portfolio_pdf_html(portfolio)
        story_sha = hashlib.sha256(STORY).hexdigest()
        fetcher = RestrictedFetcher()
        assert render_portfolio_pdf(html, fetcher=fetcher).startswith(b"%PDF-")
    assert "<script>" not in html
    assert fetcher.requested and all(
        u.startswith("data:image/png;base64,") for u in fetcher.requested
    )
    assert fetcher.served == fetcher.requested
    text = layout_text(html, RestrictedFetcher())
    assert "<script>alert(1)</script> Story" in text
    assert story_sha in text
    assert "Bold" in text and "Diary" not in text


def test_exports_are_for_the_owner_only(pages: Flask) -> None:
    shared = shared_portfolio(pages, "public")
    anonymous = pages.test_client()
    for suffix in ("export.pdf", "export.zip"):
        response = anonymous.get(f"/portfolios/{shared['portfolio_id']}/{suffix}")
        assert response.status_code == 302  # to the sign-in page
    assert png_bytes()  # the fixture's image is what the PDF test embeds


def test_the_pdf_holds_the_text_of_stories_and_rendered_markdown(pages: Flask) -> None:
    """Issue 16: a story's or a song's words are in the PDF, not only its name; Markdown is
    rendered (no ``**``)."""
    shared = _with_story(pages)
    with pages.test_request_context():
        portfolio = db.session.scalar(
            select(Portfolio).where(Portfolio.public_id == shared["portfolio_id"])
        )
        assert portfolio is not None
        html = portfolio_pdf_html(portfolio)
    text = layout_text(html, RestrictedFetcher())
    assert STORY.decode().strip() in text
    assert "Bold" in text and "**" not in text
