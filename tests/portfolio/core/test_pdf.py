"""PDF rendering: WeasyPrint fetches nothing but data: URIs, and the certificate says what it
should.  Text is read from WeasyPrint's own layout (no PDF text extractor is installed)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from weasyprint import HTML
from weasyprint.formatting_structure import boxes

from portfolio.core import pdf
from tests.conftest import unsigned_badge

PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
)
REMOTE = "https://attacker.example/track.png"
LOCAL = "file:///etc/passwd"


def _texts(box: Any) -> Iterator[str]:
    if isinstance(box, boxes.TextBox):
        yield box.text
    for child in getattr(box, "children", []):
        yield from _texts(child)


def layout_text(html: str, fetcher: pdf.RestrictedFetcher) -> str:
    """Every piece of text WeasyPrint laid out, in order."""
    document = HTML(string=html, url_fetcher=fetcher).render()
    return " ".join(text for page in document.pages for text in _texts(page._page_box))


# -- the fetcher -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        REMOTE,
        "http://127.0.0.1:5000/",
        LOCAL,
        "FILE:///etc/passwd",
        "ftp://example.org/x",
        "gopher://example.org/",
        "//example.org/x.png",
    ],
)
def test_fetcher_refuses_everything_but_data_uris(url: str) -> None:
    fetcher = pdf.RestrictedFetcher()
    with pytest.raises(pdf.FetchRefusedError):
        fetcher.fetch(url)
    with pytest.raises(pdf.FetchRefusedError):
        fetcher(url)  # WeasyPrint's entry point
    assert fetcher.requested == [url, url]
    assert fetcher.served == []


def test_fetcher_serves_data_uris_and_allowed_resources() -> None:
    fetcher = pdf.RestrictedFetcher(allowed={"credfolio:logo": ("image/png", PNG_1X1)})
    uri = "data:image/png;base64," + base64.b64encode(PNG_1X1).decode()
    assert fetcher.fetch(uri).read() == PNG_1X1
    assert fetcher.fetch("data:text/plain,a%20b").read() == b"a b"
    assert fetcher.fetch("credfolio:logo").content_type == "image/png"
    assert fetcher.served == [uri, "data:text/plain,a%20b", "credfolio:logo"]


def test_data_uris_are_size_limited() -> None:
    fetcher = pdf.RestrictedFetcher(max_data_bytes=10)
    with pytest.raises(pdf.FetchRefusedError, match="larger than 10 bytes"):
        fetcher.fetch("data:text/plain;base64," + base64.b64encode(b"x" * 11).decode())
    with pytest.raises(pdf.FetchRefusedError, match="larger than 10 bytes"):
        fetcher.fetch("data:text/plain," + "x" * 100)
    with pytest.raises(pdf.FetchRefusedError, match="no comma"):
        fetcher.fetch("data:text/plain")


def test_render_pdf_leaves_out_what_it_may_not_fetch() -> None:
    fetcher = pdf.RestrictedFetcher()
    html = (
        f'<link rel="stylesheet" href="{REMOTE}"><style>@import url("{LOCAL}");</style>'
        f'<img src="{LOCAL}"><img src="{REMOTE}"><a rel="attachment" href="{LOCAL}">x</a>'
        f'<svg><image href="{LOCAL}"/></svg><p>Hello</p>'
    )
    output = pdf.render_pdf(html, fetcher=fetcher)
    assert output.startswith(b"%PDF-") and output.rstrip().endswith(b"%%EOF")
    assert fetcher.served == []
    assert set(fetcher.requested) <= {REMOTE, LOCAL}
    assert LOCAL in fetcher.requested  # asked for, and refused
    assert b"root:" not in pdf.render_pdf(html, fetcher=pdf.RestrictedFetcher(), uncompressed=True)


# -- the certificate -------------------------------------------------------------------------


def _plant_everywhere(url: str) -> dict[str, Any]:
    """A credential request with ``url`` (and markup) planted in every rendered field."""
    badge = unsigned_badge()
    achievement = badge["credentialSubject"]["achievement"]
    achievement["name"] = f'Name <img src="{url}"> {url}'
    achievement["description"] = f'<img src="{url}"> description {url}'
    achievement["criteria"]["narrative"] = f'<link rel="stylesheet" href="{url}"> {url}'
    achievement["image"] = {"id": url, "type": "Image"}
    badge["credentialSubject"]["name"] = f'<img src="{url}">'
    badge["evidence"] = [
        {"id": url, "type": ["Evidence"], "name": f'<a rel="attachment" href="{url}">e</a>'}
    ]
    return badge


def test_certificate_fetches_nothing_planted_in_the_credential(
    app: Any, issuer: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portfolio.issuing import service as services
    from portfolio.public import pages as public

    fetchers: list[pdf.RestrictedFetcher] = []

    class Recording(pdf.RestrictedFetcher):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            fetchers.append(self)

    monkeypatch.setattr(public, "RestrictedFetcher", Recording)
    for url in (REMOTE, LOCAL):
        row = services.issue(
            _plant_everywhere(url), issuer=issuer, recipient_name=f'<img src="{url}">'
        )
        response = client.get(f"/c/{row.public_id}/certificate.pdf")
        assert response.status_code == 200
        assert response.data.startswith(b"%PDF-")
        assert b"root:x:0:0" not in response.data

        fetcher = fetchers[-1]
        assert fetcher.requested, "the QR code and the badge are data: URIs"
        assert all(u.startswith("data:image/png;base64,") for u in fetcher.requested)
        assert fetcher.served == fetcher.requested
        assert url not in fetcher.requested


def test_certificate_html_shows_recipient_achievement_issuer_date_and_link(
    app: Any, issuer: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portfolio.issuing import service as services
    from portfolio.public import pages as public

    rendered: list[str] = []

    def keep(html: str, *, fetcher: pdf.RestrictedFetcher | None = None) -> bytes:
        rendered.append(html)
        return pdf.render_pdf(html, fetcher=fetcher)

    monkeypatch.setattr(public, "render_pdf", keep)
    row = services.issue(
        unsigned_badge(), issuer=issuer, recipient_name="<script>alert(1)</script>"
    )
    assert client.get(f"/c/{row.public_id}/certificate.pdf").status_code == 200
    text = layout_text(rendered[0], pdf.RestrictedFetcher())
    page_url = f"https://credfolio.test/c/{row.public_id}"
    assert "<script>alert(1)</script>" in text  # escaped markup, printed as text
    assert "<script>" not in rendered[0]
    for expected in ("Teamwork", "Credfolio Demo School", "January 1, 2010", page_url):
        assert expected in text
    assert f"Verify at {page_url}" in " ".join(text.split())
    assert 'alt="QR code linking to' in rendered[0]


def test_revoked_certificate_says_so(
    app: Any, issuer: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portfolio.issuing import service as services
    from portfolio.public import pages as public

    row = services.issue(unsigned_badge(), issuer=issuer)
    services.set_status(row, "revoke", reason="issued in error")
    html_pages: list[str] = []

    def keep(html: str, *, fetcher: pdf.RestrictedFetcher | None = None) -> bytes:
        html_pages.append(html)
        return pdf.render_pdf(html, fetcher=fetcher)

    monkeypatch.setattr(public, "render_pdf", keep)
    assert client.get(f"/c/{row.public_id}/certificate.pdf").status_code == 200
    text = layout_text(html_pages[0], pdf.RestrictedFetcher())
    assert "This credential has been revoked" in text
    assert "issued in error" in text


# -- the PDFs' stylesheet ----------------------------------------------------------------------


def test_the_pdfs_get_their_stylesheet_from_a_file_not_a_fetch() -> None:
    """portfolio/static/pdf.css: a certificate is A4 landscape, a portfolio export A4 portrait
    (the templates have no <style>, and may fetch nothing)."""

    def page_size(body_class: str) -> tuple[float, float]:
        html = f'<html><body class="{body_class}"><p>x</p></body></html>'
        fetcher = pdf.RestrictedFetcher()
        document = HTML(string=html, url_fetcher=fetcher).render(stylesheets=[pdf.pdf_stylesheet()])
        assert fetcher.requested == []
        return document.pages[0].width, document.pages[0].height

    width, height = page_size("certificate")
    assert width > height
    width, height = page_size("portfolio-export")
    assert width < height
    assert pdf.pdf_stylesheet() is pdf.pdf_stylesheet()  # read and parsed once per process
    assert pdf.render_pdf('<body class="certificate"><p>x</p></body>').startswith(b"%PDF-")
