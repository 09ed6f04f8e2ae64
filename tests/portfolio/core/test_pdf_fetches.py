"""Nothing planted in what a PDF shows is ever fetched (issue #7).

Every field rendered into the portfolio export and into the credential certificate carries
remote URLs (the cloud metadata address, a web image), ``file:`` URLs (one of them to a real,
readable file), ``data:`` URIs that name further URLs, and relative URLs, in every form HTML,
CSS, Markdown and SVG offer.  The renderer's fetcher is recorded: it is asked for the images we
embedded ourselves and for nothing else; no file is opened, no urllib handler runs (and
pytest-socket would fail any network attempt).  Should markup ever get through unescaped, the
fetcher itself refuses every such URL — ``file:`` included — rather than its being merely
unreachable.
"""

from __future__ import annotations

import base64
import builtins
import io
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import weasyprint.urls
from flask import Flask, template_rendered
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portfolio.accounts.models import User
from portfolio.core import pdf
from portfolio.core.db import db
from portfolio.evidence.artefacts import add_file_artefact
from portfolio.evidence.models import Evidence
from portfolio.issuing import service as services
from portfolio.portfolios import export
from portfolio.portfolios.models import Portfolio, PortfolioItem, PortfolioSection
from portfolio.public import pages as public
from tests.conftest import unsigned_badge
from tests.portfolio.core.test_pdf import layout_text
from tests.portfolio.evidence.test_evidence_pages import png_bytes, student_client

SECRET = "SECRET-c0ffee-not-for-pdfs"
METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
REMOTE = "https://example.org/x.png"
PASSWD = "file:///etc/passwd"
#: A data: SVG that names a file in turn (the fetcher must judge nested URLs too).
NESTED_SVG = "data:image/svg+xml;base64," + base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>'
).decode("ascii")
NESTED_CSS = "data:text/css,@import%20url(http://169.254.169.254/);"
RELATIVE = ["../../../../etc/passwd", "/etc/passwd", "x.png", "//example.org/y.png"]


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A real file the renderer could read if ``file:`` URLs were followed."""
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


@pytest.fixture
def planted(secret_file: Path) -> list[str]:
    """Every URL planted, absolute and relative."""
    return [
        METADATA,
        REMOTE,
        PASSWD,
        secret_file.as_uri(),
        "FILE://localhost/etc/passwd",
        "  file:/etc/passwd",
        NESTED_SVG,
        NESTED_CSS,
        *RELATIVE,
    ]


def payload(url: str) -> str:
    """``url`` in every form that would make an HTML-to-PDF renderer fetch it, as Markdown,
    HTML, CSS and SVG."""
    return (
        f"![tracking]({url}) [a link]({url}) <{url}>\n\n"
        f'<img src="{url}"><img srcset="{url} 2x"><link rel="stylesheet" href="{url}">'
        f'<a rel="attachment" href="{url}">attached</a><base href="{url}">'
        f'<style>@import url("{url}"); @font-face {{ font-family: x; src: url("{url}") }}</style>'
        f"<p style=\"background: url('{url}'); list-style-image: url('{url}')\">styled</p>"
        f'<object data="{url}"></object><embed src="{url}"><iframe src="{url}"></iframe>'
        f'<svg><image href="{url}" width="9" height="9"/><use href="{url}#x"/></svg>\n'
    )


def short(url: str) -> str:
    """``url`` as an image, for fields limited to 256 characters."""
    return f'<img src="{url}">'[:256]


class Recorder:
    """What the PDF renderers asked their fetchers for, and what happened to each request."""

    def __init__(self) -> None:
        self.outcomes: list[tuple[str, str]] = []  # (url, "served" or the exception's name)

    @property
    def requested(self) -> list[str]:
        return [url for url, _ in self.outcomes]

    @property
    def served(self) -> list[str]:
        return [url for url, outcome in self.outcomes if outcome == "served"]

    def fetcher_class(self) -> type[pdf.RestrictedFetcher]:
        recorder = self

        class Recording(pdf.RestrictedFetcher):
            def fetch(self, url: str, headers: Any = None) -> Any:
                try:
                    response = super().fetch(url, headers)
                except Exception as error:
                    recorder.outcomes.append((url, type(error).__name__))
                    raise
                recorder.outcomes.append((url, "served"))
                return response

        return Recording


@pytest.fixture
def fetches(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Records every fetch of every restricted fetcher the app creates."""
    recorder = Recorder()
    recording = recorder.fetcher_class()
    for module in (pdf, export, public):
        monkeypatch.setattr(module, "RestrictedFetcher", recording)
    return recorder


@pytest.fixture
def escapes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Tripwires on every other way to a resource: files opened by Python code, urllib's
    handlers, and WeasyPrint's own (unrestricted) fetcher.  Returns what was opened or tried."""
    tried: list[str] = []
    real_open = builtins.open

    def spying_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        tried.append(f"open {file}")
        return real_open(file, *args, **kwargs)

    def tripwire(name: str) -> Callable[..., Any]:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            tried.append(f"{name} {args[1:2]}")
            raise AssertionError(f"{name} must never run while rendering a PDF")

        return refuse

    monkeypatch.setattr(builtins, "open", spying_open)
    monkeypatch.setattr(io, "open", spying_open)
    monkeypatch.setattr(weasyprint.urls.URLFetcher, "fetch", tripwire("URLFetcher.fetch"))
    for handler, method in (
        (urllib.request.FileHandler, "file_open"),
        (urllib.request.HTTPHandler, "http_open"),
        (urllib.request.HTTPSHandler, "https_open"),
        (urllib.request.FTPHandler, "ftp_open"),
        (urllib.request.DataHandler, "data_open"),
    ):
        monkeypatch.setattr(handler, method, tripwire(f"{handler.__name__}.{method}"))
    return tried


@pytest.fixture
def rendered(app: Flask) -> Iterator[dict[str, dict[str, Any]]]:
    """``template name -> context`` of every template rendered while the test runs."""
    contexts: dict[str, dict[str, Any]] = {}

    def record(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
        contexts[str(template.name)] = dict(context)

    template_rendered.connect(record, app)
    yield contexts
    template_rendered.disconnect(record, app)


@pytest.fixture
def pdf_html(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The HTML of every PDF the routes render (rendered as usual all the same)."""
    from portfolio.portfolios import pages as portfolios

    pages: list[str] = []

    def keeping(render: Callable[..., bytes]) -> Callable[..., bytes]:
        def keep(html: str, **kwargs: Any) -> bytes:
            pages.append(html)
            return render(html, **kwargs)

        return keep

    monkeypatch.setattr(portfolios, "render_portfolio_pdf", keeping(export.render_portfolio_pdf))
    monkeypatch.setattr(public, "render_pdf", keeping(pdf.render_pdf))
    return pages


def printed(html: str) -> str:
    """The text WeasyPrint lays out for ``html``, without any white space (long URLs are
    broken across lines)."""
    return "".join(layout_text(html, pdf.RestrictedFetcher()).split())


def assert_nothing_escaped(tried: list[str], secret_file: Path) -> None:
    opened = " ".join(tried)
    assert str(secret_file) not in opened and "/etc/passwd" not in opened, tried
    assert not [entry for entry in tried if not entry.startswith("open ")], tried


# -- if markup got through: the fetcher refuses every URL itself ----------------------------


def test_the_fetcher_refuses_every_planted_url_even_as_live_markup(
    fetches: Recorder, escapes: list[str], secret_file: Path, planted: list[str]
) -> None:
    # Raw, unescaped markup: what a template bug would let through.  Rendered the way the
    # portfolio export renders (with its own default fetcher).
    html = "<!doctype html><html><body>" + "".join(payload(url) for url in planted) + "</body>"
    escapes.clear()
    output = export.render_portfolio_pdf(html)
    assert output.startswith(b"%PDF-")

    outcomes = dict(fetches.outcomes)
    # Remote and file: URLs all reached the fetcher, and it refused each one itself.
    for url in [METADATA, REMOTE, PASSWD, secret_file.as_uri(), "FILE://localhost/etc/passwd"]:
        assert outcomes.get(url) == "FetchRefusedError", url
    # Relative URLs were resolved against the planted <base> (the metadata address): refused.
    assert outcomes["http://169.254.169.254/etc/passwd"] == "FetchRefusedError"
    # Only data: URIs are served (they carry their bytes; nothing is looked up) ...
    assert set(fetches.served) == {NESTED_SVG, NESTED_CSS}
    # ... and the URL one of them names goes through the same fetcher: refused.
    assert outcomes["http://169.254.169.254/"] == "FetchRefusedError"
    assert {outcome for url, outcome in fetches.outcomes if not url.startswith("data:")} == {
        "FetchRefusedError"
    }

    assert_nothing_escaped(escapes, secret_file)
    plain = pdf.render_pdf(html, uncompressed=True)
    assert SECRET.encode() not in plain and b"root:x:0:0" not in plain


def test_relative_urls_reach_the_fetcher_and_are_refused(fetches: Recorder) -> None:
    html = (
        '<style>@import url("../../etc/style.css");</style>'
        '<img src="../../../../etc/passwd"><img src="//example.org/y.png"><p>Hello</p>'
    )
    # Without a base URL WeasyPrint raised on the relative @import: never a 500 now.
    assert pdf.render_pdf(html).startswith(b"%PDF-")
    assert fetches.outcomes == [
        (f"{pdf.NO_BASE_URL}etc/style.css", "FetchRefusedError"),
        (f"{pdf.NO_BASE_URL}etc/passwd", "FetchRefusedError"),
        ("https://example.org/y.png", "FetchRefusedError"),
    ]
    assert pdf.NO_BASE_URL.split("/")[2].endswith(".invalid")  # RFC 6761: never resolves


# -- the portfolio export --------------------------------------------------------------------


def _plant_in_portfolio(app: Flask, owner_email: str, urls: list[str]) -> str:
    """A portfolio of the student ``owner_email`` with ``urls`` planted in every field the
    export prints (straight into the rows, past the forms' own checks); its public id."""
    from portfolio.evidence.models import Artefact

    everything = "".join(payload(url) for url in urls)
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == owner_email))
        assert owner is not None
        owner.display_name = short(METADATA)
        evidence = Evidence(owner=owner, title=short(PASSWD), narrative=everything)
        db.session.add(evidence)
        db.session.flush()
        image = add_file_artefact(
            evidence, FileStorage(io.BytesIO(png_bytes()), "red.png"), title="x"
        )
        image.title, image.alt_text = short(REMOTE), f'"><img src="{PASSWD}">{everything}'
        text = add_file_artefact(
            evidence, FileStorage(io.BytesIO(b"my story\n"), "story.txt"), title="x"
        )
        text.title, text.original_filename = short(urls[3]), short(NESTED_SVG)
        text.media_type, text.transcript = short(REMOTE)[:128], everything
        # A link the form accepts, and one it would refuse.
        for url, title in ((METADATA, short(NESTED_CSS)), (PASSWD, short(RELATIVE[0]))):
            link = Artefact(kind="link", url=url, title=title, position=len(evidence.artefacts))
            evidence.artefacts.append(link)
        portfolio = Portfolio(owner=owner, title=short(REMOTE), cover_text=everything)
        section = PortfolioSection(portfolio=portfolio, title=short(RELATIVE[3]), position=0)
        db.session.add_all([portfolio, section])
        db.session.flush()
        db.session.add(PortfolioItem(section=section, evidence=evidence, position=0))
        db.session.commit()
        return portfolio.public_id


def test_the_portfolio_export_fetches_only_its_own_images(
    app: Flask,
    issuer: Any,
    fetches: Recorder,
    escapes: list[str],
    rendered: dict[str, dict[str, Any]],
    pdf_html: list[str],
    secret_file: Path,
    planted: list[str],
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    student = student_client(app, "ada@school.example")
    portfolio_id = _plant_in_portfolio(app, "ada@school.example", planted)
    # An earned credential, its achievement name planted too.
    document = unsigned_badge()
    document["credentialSubject"]["achievement"]["name"] = short(secret_file.as_uri())
    row = services.issue(document, issuer=issuer, recipient_name="Ada")
    row.recipient_user_id = db.session.scalar(
        select(User.id).where(User.email == "ada@school.example")
    )
    db.session.commit()

    escapes.clear()
    response = student.get(f"/portfolios/{portfolio_id}/export.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF-")
    assert_nothing_escaped(escapes, secret_file)

    ours = set(rendered["portfolios/export.html"]["image_uris"].values())
    assert len(ours) == 1  # the one uploaded image, embedded by us as a data: URI
    assert set(fetches.requested) == ours
    assert fetches.served == fetches.requested

    # Every field was in the PDF, its URLs printed as text.
    (html,) = pdf_html
    text = printed(html)
    for url in [METADATA, REMOTE, PASSWD, secret_file.as_uri(), NESTED_SVG, NESTED_CSS, *RELATIVE]:
        assert url.replace(" ", "") in text, url


# -- the credential certificate ----------------------------------------------------------------


def test_the_certificate_fetches_only_its_own_badge_and_qr_code(
    app: Flask,
    issuer: Any,
    client: Any,
    fetches: Recorder,
    escapes: list[str],
    rendered: dict[str, dict[str, Any]],
    pdf_html: list[str],
    secret_file: Path,
    planted: list[str],
) -> None:
    everything = "".join(payload(url) for url in planted)
    issuer.name = short(METADATA)
    issuer.url, issuer.email, issuer.description = PASSWD, "ada@example.org", everything
    issuer.image = NESTED_SVG
    db.session.commit()
    document = unsigned_badge()
    subject = document["credentialSubject"]
    achievement = subject["achievement"]
    achievement["name"] = short(secret_file.as_uri())
    # The certificate is one page: long texts are cut at 400 characters.
    achievement["description"] = payload(METADATA)
    achievement["criteria"]["narrative"] = payload(NESTED_CSS)
    achievement["image"] = {"id": METADATA, "type": "Image", "caption": short(REMOTE)}
    subject["name"] = short(NESTED_CSS)
    document["evidence"] = [
        {"id": secret_file.as_uri(), "type": ["Evidence"], "name": short(RELATIVE[0])},
        {"id": REMOTE, "type": ["Evidence"], "name": short(PASSWD)},
    ]
    row = services.issue(document, issuer=issuer, recipient_name=short(REMOTE))
    services.set_status(row, "revoke", reason=short(NESTED_SVG))

    escapes.clear()
    response = client.get(f"/c/{row.public_id}/certificate.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF-")
    assert_nothing_escaped(escapes, secret_file)

    context = rendered["pdf/certificate.html"]
    ours = {context["badge_uri"], context["qr_uri"]}
    assert all(uri.startswith("data:image/png;base64,") for uri in ours)
    assert sorted(fetches.requested) == sorted(ours)
    assert fetches.served == fetches.requested

    # The planted fields were all printed, as text.
    (html,) = pdf_html
    text = printed(html)
    for url in [METADATA, REMOTE, PASSWD, secret_file.as_uri(), NESTED_SVG, NESTED_CSS]:
        assert url in text, url
    assert RELATIVE[0] in text
    assert "Thiscredentialhasbeenrevoked" in text
