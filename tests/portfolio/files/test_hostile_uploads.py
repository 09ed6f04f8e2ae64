"""Hostile uploads (issue #7).

- Polyglots are stored as what their magic bytes say and served so that no browser runs them:
  their own type (never HTML), ``nosniff``, a sandboxing Content-Security-Policy.
- Script-capable markup (HTML, SVG, XML) and archives (ZIP, Office documents, gzip) are refused
  by their content whatever they are named; nothing ever inflates an archive, the ZIP export
  included.
- Decompression bombs are refused from their headers, before any pixel is decoded, with a
  clear 4xx wherever images are uploaded (evidence, profile photos, competency images); the
  PDF export draws pixel-heavy images from their thumbnails.
- PDFs are opened and drawn in a child process with memory and time limits: a PDF bomb (a
  content stream or an object stream inflating to hundreds of megabytes) is a 422, and the
  web worker never inflates it.
- Every XML parser in the code is defusedxml (or refuses DTDs and entities itself); hostile
  SVGs at the public verify page are refused.
- Hostile file names are display names only (storage is content-addressed) and reach
  ``Content-Disposition`` only in RFC 6266 form.

The named fixtures are in ``tests/assets/hostile/uploads/`` (see its README).
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import io
import json
import re
import resource
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask
from PIL import Image, ImageFile, WebPImagePlugin
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portfolio.accounts.models import LearnerProfile
from portfolio.core.db import db
from portfolio.evidence.artefacts import add_file_artefact
from portfolio.evidence.models import Artefact, Evidence
from portfolio.files import media
from portfolio.files.models import Blob
from portfolio.files.storage import LocalStorage, storage
from portfolio.portfolios import export
from portfolio.portfolios.models import Portfolio
from portfolio.portfolios.pages import portfolio_pdf_html
from tests.portfolio.accounts.test_auth import make_user, sign_in
from tests.portfolio.accounts.test_profile import PROFILE
from tests.portfolio.catalogue.test_catalogue_pages import (
    competency,
    create_competency,
    errors_in,
    signed_in,
    upload_image,
)
from tests.portfolio.evidence.test_evidence_pages import (
    artefacts_of,
    create_evidence,
    png_bytes,
    student_client,
    upload,
)
from tests.portfolio.portfolios.test_portfolios import (
    add_section,
    create_portfolio,
    place,
    section_ids,
)

ROOT = Path(__file__).resolve().parents[3]
ASSETS = ROOT / "tests" / "assets"
HOSTILE = ASSETS / "hostile" / "uploads"


def hostile(name: str) -> bytes:
    return (HOSTILE / name).read_bytes()


@pytest.fixture
def pages(app: Flask) -> Flask:
    """The app with CSRF checks off (CSRF itself is tested in test_auth)."""
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def rows(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def stored_files(app: Flask) -> list[Path]:
    with app.app_context():
        backend = storage()
        assert isinstance(backend, LocalStorage)
        root = backend.root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def policies(response: Any) -> list[dict[str, str]]:
    """Each Content-Security-Policy header as ``{directive name: directive}``."""
    found = []
    for header in response.headers.getlist("Content-Security-Policy"):
        parts = [part.strip() for part in header.split(";") if part.strip()]
        found.append({part.split()[0].lower(): part for part in parts})
    return found


def assert_served_inert(response: Any, media_type: str, disposition: str) -> None:
    """The response carries stored content the way no browser will run as a page or a script:
    its own type (never HTML), nosniff, and a policy with no script and a sandbox."""
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert "html" not in response.headers["Content-Type"].lower()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert any(
        policy.get("default-src") == "default-src 'none'"
        and policy.get("sandbox") == "sandbox"  # no allow-scripts, no allow-same-origin
        and "script-src" not in policy
        for policy in policies(response)
    ), response.headers.getlist("Content-Security-Policy")
    assert response.headers["Content-Disposition"].split(";")[0] == disposition


# -- polyglots -------------------------------------------------------------------------------


#: A file that is two things at once, what its magic bytes make it, and how it is served.
POLYGLOTS = [
    ("gif-js-polyglot.gif", "image/gif", "inline"),
    ("png-html-polyglot.png", "image/png", "inline"),
    ("jpeg-script-comment.jpg", "image/jpeg", "inline"),
    ("pdf-html-polyglot.pdf", "application/pdf", "attachment"),
]


def uploaded(app: Flask, student: Any, files: list[tuple[bytes, str]]) -> list[Artefact]:
    """Upload each ``(data, filename)`` through the form as artefacts of one new piece of
    evidence; the artefacts, in order."""
    evidence_id = create_evidence(student)
    for data, filename in files:
        response = upload(student, evidence_id, data, filename, title=filename)
        assert response.status_code == 303, (filename, response.get_data(as_text=True))
    return artefacts_of(app, evidence_id)


def test_a_polyglot_is_stored_as_its_magic_bytes_say_and_served_inert(pages: Flask) -> None:
    student = student_client(pages, "ada@school.example")
    files = [(hostile(fixture), fixture) for fixture, _, _ in POLYGLOTS]
    artefacts = uploaded(pages, student, files)
    for (fixture, media_type, disposition), artefact, (data, _) in zip(
        POLYGLOTS, artefacts, files, strict=True
    ):
        assert b"<script>" in data  # each one is also a page (or a script) with a payload
        assert artefact.media_type == media_type, fixture

        served = student.get(f"/artefacts/{artefact.public_id}")
        assert_served_inert(served, media_type, disposition)
        assert served.data == data  # kept byte for byte: judged, not rewritten

        # The thumbnail is a PNG we drew: none of the payload survives the re-encoding.
        thumbnail = student.get(f"/artefacts/{artefact.public_id}/thumbnail")
        assert_served_inert(thumbnail, "image/png", "inline")
        assert b"<script" not in thumbnail.data and b"alert(" not in thumbnail.data, fixture


def test_markup_inside_text_is_served_as_plain_text_for_download(pages: Flask) -> None:
    texts = [
        (b"My notes\n<script>alert(document.domain)</script>\n", "notes.txt", "text/plain"),
        (b"<p>Hello</p><script>alert(1)</script>\n", "hello.txt", "text/plain"),
        (b"<!-- draft --><svg onload=alert(1)>\n", "story.md", "text/markdown"),
    ]
    student = student_client(pages, "ada@school.example")
    artefacts = uploaded(pages, student, [(text, name) for text, name, _ in texts])
    for (_, name, media_type), artefact in zip(texts, artefacts, strict=True):
        served = student.get(f"/artefacts/{artefact.public_id}")
        assert_served_inert(served, media_type, "attachment")
        assert served.headers["Content-Type"] == f"{media_type}; charset=utf-8", name


@pytest.mark.parametrize(
    ("data", "filename", "code", "label"),
    [
        (hostile("svg-script.svg"), "svg-script.svg", "type-not-allowed", "an SVG image"),
        (hostile("svg-script.svg"), "drawing.png", "type-not-allowed", "an SVG image"),
        (hostile("svg-script.svg"), "notes.txt", "type-not-allowed", "an SVG image"),
        (hostile("svg-bom-script.txt"), "svg-bom-script.txt", "type-not-allowed", "an SVG"),
        (hostile("svg-doctype-xxe.txt"), "svg-doctype-xxe.txt", "type-not-allowed", "an SVG"),
        (b"\xef\xbb\xbf<!DOCTYPE html><script>alert(1)</script>", "a.txt", "type-not-allowed",
         "an HTML page"),
        (b"<?xml version='1.0'?><x:script xmlns:x='http://www.w3.org/1999/xhtml'/>", "a.md",
         "type-not-allowed", "an XML document"),
        # FF FE is both the UTF-16 byte order mark and an MPEG audio sync word.
        (hostile("html-utf16.mp3"), "html-utf16.mp3", "type-not-allowed", "UTF-16 text"),
        (hostile("gif-js-polyglot.gif"), "page.html", "type-mismatch", "a GIF image"),
        (hostile("png-html-polyglot.png"), "image.svg", "type-mismatch", "a PNG image"),
    ],
)  # fmt: skip
def test_markup_is_refused_by_its_content_whatever_its_name(
    data: bytes, filename: str, code: str, label: str
) -> None:
    with pytest.raises(media.MediaError) as raised:
        media.classify(io.BytesIO(data), filename)  # what every upload goes through
    assert raised.value.code == code
    assert label in raised.value.message


def assert_refused_and_nothing_stored(app: Flask, files: list[tuple[bytes, str]]) -> None:
    """Each upload through the form is a 422 that says why, and nothing at all is stored."""
    student = student_client(app, "ada@school.example")
    evidence_id = create_evidence(student)
    for data, filename in files:
        response = upload(student, evidence_id, data, filename, title="Refused")
        assert response.status_code == 422, filename
        assert "cannot be uploaded" in response.get_data(as_text=True), filename
    assert rows(app, Blob) == rows(app, Artefact) == 0
    assert stored_files(app) == []


def test_a_markup_upload_is_a_422_and_stores_nothing(pages: Flask) -> None:
    fixtures = ["svg-script.svg", "svg-bom-script.txt", "svg-doctype-xxe.txt", "html-utf16.mp3"]
    assert_refused_and_nothing_stored(pages, [(hostile(name), name) for name in fixtures])


# -- archives and zip bombs ------------------------------------------------------------------


def zip_bomb(inflated: int = 16 * 1024 * 1024) -> bytes:
    """A ZIP whose one member inflates to ``inflated`` bytes of zeros (about 1000:1)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("zeros.bin", "w") as member,
    ):
        for _ in range(inflated // (1024 * 1024)):
            member.write(bytes(1024 * 1024))
    return out.getvalue()


def office_document() -> bytes:
    """A .docx-shaped ZIP whose document.xml carries an external entity (a classic XXE)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "word/document.xml",
            '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
        )
    return out.getvalue()


def gzip_bomb() -> bytes:
    return gzip.compress(bytes(16 * 1024 * 1024), compresslevel=9, mtime=0)


@pytest.fixture
def no_inflating(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every ZIP or gzip file opened and every zlib inflate started by our own code
    (``credentials``, ``issuer_keys``, ``portfolio``), as
    ``"ZipFile:w@portfolio.portfolios.export"``."""
    opened: list[str] = []

    def spy(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            caller = str(sys._getframe(1).f_globals.get("__name__"))
            if caller.split(".")[0] in {"credentials", "issuer_keys", "portfolio"}:
                mode = kwargs.get("mode") or (
                    args[2] if name == "ZipFile" and len(args) > 2 else ""
                )
                opened.append(f"{name}:{mode}@{caller}")
            return original(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(zipfile.ZipFile, "__init__", spy("ZipFile", zipfile.ZipFile.__init__))
    monkeypatch.setattr(gzip.GzipFile, "__init__", spy("GzipFile", gzip.GzipFile.__init__))
    monkeypatch.setattr(zlib, "decompress", spy("decompress", zlib.decompress))
    monkeypatch.setattr(zlib, "decompressobj", spy("decompressobj", zlib.decompressobj))
    return opened


@pytest.mark.parametrize(
    ("make", "filename", "label"),
    [
        (zip_bomb, "bomb.zip", "a ZIP archive"),
        (office_document, "report.docx", "a ZIP archive"),
        (zip_bomb, "drawing.png", "a ZIP archive"),
        (zip_bomb, "song.mp3", "a ZIP archive"),
        (zip_bomb, "notes.txt", "a ZIP archive"),
        (gzip_bomb, "notes.txt", "GZIP"),
        (gzip_bomb, "backup.gz", "GZIP"),
    ],
)
def test_archives_are_refused_by_their_content_and_never_opened(
    no_inflating: list[str], make: Callable[[], bytes], filename: str, label: str
) -> None:
    data = make()
    if make is not office_document:
        assert len(data) * 500 < 16 * 1024 * 1024  # a real bomb: it inflates 500 times or more
    with pytest.raises(media.MediaError) as raised:
        media.classify(io.BytesIO(data), filename)
    assert raised.value.code == "type-not-allowed"
    assert label in raised.value.message
    assert no_inflating == []  # judged from its first bytes; nothing was opened or inflated


def test_an_archive_upload_is_a_422_and_stores_nothing(
    pages: Flask, no_inflating: list[str]
) -> None:
    files = [(zip_bomb(), "bomb.zip"), (office_document(), "report.docx"), (gzip_bomb(), "a.txt")]
    assert_refused_and_nothing_stored(pages, files)
    assert no_inflating == []


def test_the_zip_export_only_deflates_what_is_stored(pages: Flask, no_inflating: list[str]) -> None:
    student = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(student, title="A long story")
    # 390 KB that deflate to about 1 KB (under 500 KB: the test client spools larger bodies
    # to a temporary file it never closes).
    story = b"la " * 130_000
    assert upload(student, evidence_id, story, "story.txt", title="Story").status_code == 303
    portfolio_id = create_portfolio(student, title="Stories")
    add_section(student, portfolio_id, "Writing")
    (section,) = section_ids(pages, portfolio_id)
    assert place(student, portfolio_id, section, evidence_id).status_code == 303

    no_inflating.clear()
    response = student.get(f"/portfolios/{portfolio_id}/export.zip")
    assert response.status_code == 200
    assert no_inflating == [
        "ZipFile:w@portfolio.portfolios.export"
    ]  # writes one archive, reads none
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        entries = {info.filename: info for info in archive.infolist()}
        manifest = json.loads(archive.read("manifest.json"))
    (entry,) = manifest["sections"][0]["evidence"][0]["artefacts"]
    # What the archive unpacks to is exactly what the student stored: the export can hold no
    # more than their quota, and no archive (refused at upload) can be inside it.
    assert entries[entry["filename"]].file_size == entry["size"] == len(story)
    assert entry["sha256"] == hashlib.sha256(story).hexdigest()
    assert entry["mediaType"] == "text/plain"


# -- decompression bombs ---------------------------------------------------------------------

IMAGE_BOMBS = [
    "bomb-50000x50000.png",
    "bomb-65535x65535.gif",
    "bomb-frame-65535x65535.gif",
    "bomb-65500x65500.jpg",
    "bomb-16383x16383.webp",
]


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[int, int]]]:
    """Records every image Pillow decodes (its format and size) while the test runs."""
    loads: list[tuple[str, tuple[int, int]]] = []

    def spy(original: Callable[..., Any]) -> Callable[..., Any]:
        def load(self: Any) -> Any:
            loads.append((str(self.format), tuple(self.size)))
            return original(self)

        return load

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy(ImageFile.ImageFile.load))
    monkeypatch.setattr(
        WebPImagePlugin.WebPImageFile, "load", spy(WebPImagePlugin.WebPImageFile.load)
    )
    return loads


def test_an_image_bomb_is_refused_at_upload_before_any_pixel_is_decoded(
    pages: Flask, decoded: list[tuple[str, tuple[int, int]]]
) -> None:
    student = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(student)
    for bomb in IMAGE_BOMBS:
        data = hostile(bomb)
        assert len(data) < 400, bomb
        response = upload(student, evidence_id, data, bomb, title="Bomb")
        assert response.status_code == 422, bomb
        assert "decompression bomb" in response.get_data(as_text=True), bomb
    assert decoded == []
    assert rows(pages, Artefact) == rows(pages, Blob) == 0
    assert stored_files(pages) == []
    # The spy does see decoding: an ordinary image is decoded for its thumbnail.
    assert upload(student, evidence_id, png_bytes(), "red.png", title="Red").status_code == 303
    assert ("PNG", (16, 12)) in decoded


def test_an_image_bomb_is_refused_as_a_profile_photo(
    pages: Flask, decoded: list[tuple[str, tuple[int, int]]]
) -> None:
    user_id = make_user(pages, "sam@school.example", "student")
    client = pages.test_client()
    assert sign_in(client, "sam@school.example").status_code == 303
    for bomb in IMAGE_BOMBS:
        response = client.post(
            "/profile",
            data={**PROFILE, "photo": (io.BytesIO(hostile(bomb)), bomb)},
            content_type="multipart/form-data",
        )
        assert response.status_code == 422, bomb
        page = response.get_data(as_text=True)
        assert 'id="photo-error"' in page and "decompression bomb" in page, bomb
    assert decoded == []
    with pages.app_context():
        assert db.session.get(LearnerProfile, user_id) is None
    assert rows(pages, Blob) == 0


def test_an_image_bomb_is_refused_as_a_competency_image(
    pages: Flask, decoded: list[tuple[str, tuple[int, int]]]
) -> None:
    admin = signed_in(pages, "alice@school.example")
    public_id = create_competency(admin)
    for bomb in IMAGE_BOMBS:
        response = upload_image(admin, public_id, hostile(bomb), bomb)
        assert response.status_code == 422, bomb
        errors = errors_in(response.get_data(as_text=True))
        assert "decompression bomb" in errors["image"], bomb
    assert decoded == []
    assert competency(pages, public_id).image_url is None
    assert rows(pages, Blob) == 0


@pytest.mark.parametrize("bomb", IMAGE_BOMBS)
def test_thumbnailing_refuses_a_bomb_even_without_the_upload_checks(bomb: str) -> None:
    with pytest.raises(media.MediaError) as raised:
        media.image_thumbnail(hostile(bomb))
    assert raised.value.code == "image-too-large"


def test_a_png_signature_on_content_for_another_pillow_decoder_is_refused(
    pages: Flask,
) -> None:
    data = hostile("png-signature-photocd.png")
    with Image.open(io.BytesIO(data)) as image:  # Pillow, left to itself, finds a decoder
        assert (image.format, image.size) == ("PCD", (768, 512))
    with pytest.raises(media.MediaError) as raised:
        media.check_image(data)
    assert raised.value.code == "damaged-image"
    student = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(student)
    assert upload(student, evidence_id, data, "photo.png", title="Photo").status_code == 422
    assert rows(pages, Blob) == 0


def test_the_pdf_export_embeds_a_pixel_heavy_image_as_its_thumbnail(pages: Flask) -> None:
    # 20 million pixels in a few kilobytes: within the upload limit, but more than the PDF
    # renderer is given to decode per image.
    heavy = io.BytesIO()
    Image.new("1", (5000, 4000), 1).save(heavy, format="PNG")
    assert len(heavy.getvalue()) < 100_000 and export.MAX_PDF_IMAGE_PIXELS < 5000 * 4000
    student = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(student, title="Drawings")
    for data, name in ((heavy.getvalue(), "heavy.png"), (png_bytes(), "small.png")):
        assert upload(student, evidence_id, data, name, title=name).status_code == 303
    portfolio_id = create_portfolio(student, title="Art")
    add_section(student, portfolio_id, "Drawings")
    (section,) = section_ids(pages, portfolio_id)
    assert place(student, portfolio_id, section, evidence_id).status_code == 303

    with pages.test_request_context():
        portfolio = db.session.scalar(select(Portfolio).where(Portfolio.public_id == portfolio_id))
        assert portfolio is not None
        artefacts = {
            a.original_filename: a for a in portfolio.sections[0].items[0].evidence.artefacts
        }
        uris = export.image_data_uris(portfolio)
        heavy_thumbnail = storage().get(str(artefacts["heavy.png"].thumbnail_sha256))
        html = portfolio_pdf_html(portfolio)
    embedded = {name: _data_uri_bytes(uris[a.public_id]) for name, a in artefacts.items()}
    assert embedded["heavy.png"] == heavy_thumbnail  # the 400-pixel PNG we made, not the original
    assert embedded["small.png"] == png_bytes()  # small images go in as they are
    with Image.open(io.BytesIO(embedded["heavy.png"])) as image:
        assert max(image.size) <= media.THUMBNAIL_SIZE
    assert uris[artefacts["heavy.png"].public_id] in html


def _data_uri_bytes(uri: str) -> bytes:
    import base64

    header, _, payload = uri.partition(",")
    assert header.endswith(";base64")
    return base64.b64decode(payload)


# -- PDF bombs -------------------------------------------------------------------------------


def inflating(megabytes: int) -> bytes:
    """A zlib stream (RFC 1950) of ``megabytes`` MiB of spaces, a thousand times smaller: one
    compressed MiB, ended by a full flush so that it stands alone, repeated; then the end of
    the stream with the Adler-32 of the whole, in closed form (every byte is 0x20)."""
    chunk = b" " * (1 << 20)
    deflate = zlib.compressobj(9)
    first = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.flush()[:-4]
    n, modulus = megabytes << 20, 65521
    adler = ((n + 0x20 * n * (n + 1) // 2) % modulus) << 16 | (1 + 0x20 * n) % modulus
    return first + again * (megabytes - 1) + end + adler.to_bytes(4, "big")


def pdf_file(objects: list[bytes], *, xref_stream: bool = False) -> bytes:
    """A PDF of ``objects`` (numbered from 1, the first the catalog) with a classic cross-
    reference table, or with a cross-reference stream when objects 1-3 are compressed into an
    object stream (object 4) and the table is object 5."""
    out, offsets = b"%PDF-1.5\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    if not xref_stream:
        start = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
        return out + b"startxref\n%d\n%%%%EOF\n" % start
    # Objects 1-3 live at indexes 0-2 of the object stream 4; 4 and 5 are plain objects.
    rows = [b"\x00" + bytes(4) + b"\xff\xff"]
    rows += [b"\x02" + (4).to_bytes(4, "big") + index.to_bytes(2, "big") for index in range(3)]
    start = len(out)
    rows += [b"\x01" + offsets[0].to_bytes(4, "big") + bytes(2)]
    rows += [b"\x01" + start.to_bytes(4, "big") + bytes(2)]
    table = b"".join(rows)
    out += b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length %d >>\n" % len(table)
    out += b"stream\n" + table + b"\nendstream\nendobj\n"
    return out + b"startxref\n%d\n%%%%EOF\n" % start


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"


def content_stream_bomb(megabytes: int) -> bytes:
    """One page whose content stream inflates to ``megabytes`` MiB (of spaces)."""
    stream = inflating(megabytes)
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"
    contents = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (
        len(stream),
        stream,
    )
    return pdf_file([CATALOG, PAGES, page, contents])


def object_stream_bomb(megabytes: int) -> bytes:
    """The catalog, page tree and page inside an object stream that inflates to ``megabytes``
    MiB: counting the pages inflates it."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
    objects = b""
    offsets = []
    for body in (CATALOG, PAGES, page):
        offsets.append(len(objects))
        objects += body + b"\n"
    header = b" ".join(b"%d %d" % (n, offset) for n, offset in enumerate(offsets, 1)) + b"\n"
    deflate = zlib.compressobj(9)
    # The objects, then the same spaces as inflating() (whose own zlib header is dropped).
    packed = deflate.compress(header + objects) + deflate.flush(zlib.Z_FULL_FLUSH)
    spaces = inflating(megabytes)[2:-6]  # blocks only: no zlib header, end block or checksum
    n, modulus = megabytes << 20, 65521
    adler = zlib.adler32(header + objects)
    a, b = adler & 0xFFFF, adler >> 16
    b = (b + n * a + 0x20 * n * (n + 1) // 2) % modulus
    a = (a + 0x20 * n) % modulus
    stream = packed + spaces + b"\x03\x00" + (b << 16 | a).to_bytes(4, "big")
    objstm = b"<< /Type /ObjStm /N 3 /First %d /Length %d /Filter /FlateDecode >>\n" % (
        len(header),
        len(stream),
    )
    return pdf_file(
        [b"null", b"null", b"null", objstm + b"stream\n" + stream + b"\nendstream"],
        xref_stream=True,
    )


def test_the_pdf_bomb_builders_build_what_they_claim() -> None:
    assert zlib.decompress(inflating(3)) == b" " * (3 << 20)
    bomb = object_stream_bomb(2)
    stream = bomb[bomb.index(b"stream\n") + 7 : bomb.index(b"\nendstream")]
    inflated = zlib.decompress(stream)
    assert inflated.startswith(b"1 0 2 34 3 76\n<< /Type /Catalog")
    assert len(inflated) > 2 << 20
    for small in (content_stream_bomb(1), object_stream_bomb(1)):  # sound PDFs when small
        assert media.check_pdf(small) == 1


def test_a_pdf_bomb_is_refused_at_upload_and_never_inflated_by_the_worker(
    pages: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The child that opens PDFs may use 256 MB here (512 MB by default): each bomb, about
    # 400 KB, inflates to 400 MiB.
    monkeypatch.setattr(media, "PDF_MEMORY_BYTES", 256 * 1024 * 1024)
    bombs = {"drawing.pdf": content_stream_bomb(400), "essay.pdf": object_stream_bomb(400)}
    assert all(len(bomb) < 450_000 for bomb in bombs.values())
    student = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(student)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name, bomb in bombs.items():
        response = upload(student, evidence_id, bomb, name, title="Bomb")
        assert response.status_code == 422, name
        assert "too much memory or time" in response.get_data(as_text=True), name
    # The worker never inflated them: its own peak memory grew by less than 64 MB.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_kb < 64 * 1024
    assert rows(pages, Blob) == rows(pages, Artefact) == 0
    assert stored_files(pages) == []
    # An ordinary PDF passes under the same limits, with its thumbnail.
    essay = (ASSETS / "uploads" / "essay.pdf").read_bytes()
    assert upload(student, evidence_id, essay, "essay.pdf", title="Essay").status_code == 303
    (artefact,) = artefacts_of(pages, evidence_id)
    assert artefact.media_type == "application/pdf" and artefact.thumbnail_sha256


# -- SVG and XML -----------------------------------------------------------------------------


def test_hostile_images_at_the_public_verify_page_are_a_400_not_a_500(pages: Flask) -> None:
    cases = [
        (ASSETS / "hostile" / "xxe-file.svg", "refusing hostile SVG"),
        (ASSETS / "hostile" / "xxe-external-dtd.svg", "refusing hostile SVG"),
        (ASSETS / "hostile" / "xxe-parameter-entity.svg", "refusing hostile SVG"),
        (ASSETS / "hostile" / "billion-laughs.svg", "refusing hostile SVG"),
        (HOSTILE / "svg-script.svg", "holds no baked credential"),
        # A baked badge is read chunk by chunk: the pixels of a bomb are never decoded.
        (HOSTILE / "bomb-50000x50000.png", "holds no baked credential"),
    ]
    client = pages.test_client()
    for path, message in cases:
        response = client.post(
            "/verify",
            data={"upload": (io.BytesIO(path.read_bytes()), path.name)},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400, path.name
        text = response.get_data(as_text=True)
        assert message in text, path.name
        assert "root:" not in text and "lollol" not in text


#: XML parsers that resolve entities or DTDs unless told not to.  ``xml.sax.saxutils.escape``
#: and the ``Element``/``ParseError`` types are not parsers.
UNSAFE_XML = {
    "xml.etree.ElementTree": {
        "fromstring", "fromstringlist", "parse", "XML", "XMLParser", "iterparse", "XMLPullParser",
    },
    "xml.etree.cElementTree": None,
    "xml.dom.minidom": None,
    "xml.dom.pulldom": None,
    "xml.dom.expatbuilder": None,
    "xml.sax": {"parse", "parseString", "make_parser"},
    "xml.sax.expatreader": None,
    "lxml": None,
    "lxml.etree": None,
    "xml.parsers.expat": None,
}  # fmt: skip
#: Reviewed exceptions: where, and why it is safe.
ALLOWED_XML = {
    # The offset-reporting second pass over an SVG that defusedxml has already accepted; its
    # handlers refuse any DOCTYPE, entity declaration or external entity reference.
    ("credentials/baking.py", "xml.parsers.expat"),
    # The prolog-only pass that vets a DOCTYPE before defusedxml parses: parameter entities
    # off, it refuses any internal subset and any external id but the W3C SVG DTDs, and stops
    # at the first element.
    ("credentials/svg_doctype.py", "xml.parsers.expat"),
}


def _xml_imports(path: Path) -> Iterator[tuple[str, str | None]]:
    """``(module, name)`` for every import of an unsafe XML parser in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                for module in UNSAFE_XML:
                    if alias.name == module or alias.name.startswith(f"{module}."):
                        yield module, None
        elif isinstance(node, ast.ImportFrom) and node.module:
            for module, names in UNSAFE_XML.items():
                if node.module == module or node.module.startswith(f"{module}."):
                    for alias in node.names:
                        if names is None or alias.name in names or alias.name == "*":
                            yield module, alias.name
            for alias in node.names:  # from xml.dom import minidom
                if f"{node.module}.{alias.name}" in UNSAFE_XML:
                    yield f"{node.module}.{alias.name}", None


def test_every_xml_parser_in_the_code_is_defusedxml() -> None:
    sources = [ROOT / "wsgi.py"] + [
        path
        for package in ("credentials", "issuer_keys", "portfolio")
        for path in sorted((ROOT / package).rglob("*.py"))
    ]
    found = {
        (str(path.relative_to(ROOT)), module)
        for path in sources
        for module, _name in _xml_imports(path)
    }
    assert found <= ALLOWED_XML, sorted(found - ALLOWED_XML)
    assert found == ALLOWED_XML  # the reviewed exception is still there, and still found
    baking = (ROOT / "credentials" / "baking.py").read_text(encoding="utf-8")
    assert "forbid_entities=True" in baking and "forbid_external=True" in baking
    # defusedxml accepts a DOCTYPE only after svg_doctype has vetted it.
    assert baking.index("check_doctype(svg)") < baking.index("safe_et.fromstring(")


def test_the_xml_scan_finds_unsafe_parsers(tmp_path: Path) -> None:
    module = tmp_path / "unsafe.py"
    module.write_text(
        "from xml.dom import minidom\nimport lxml.etree\n"
        "from xml.etree.ElementTree import fromstring, Element\n",
        encoding="utf-8",
    )
    assert sorted(_xml_imports(module), key=str) == sorted(
        [("xml.dom.minidom", None), ("lxml", None), ("lxml.etree", None),
         ("xml.etree.ElementTree", "fromstring")],
        key=str,
    )  # fmt: skip


# -- file names ------------------------------------------------------------------------------

HOSTILE_NAMES = [
    "../../etc/passwd.txt",
    "/etc/passwd.txt",
    "C:\\Windows\\System32\\notes.txt",
    "..\\..\\boot.txt",
    "notes\x00.php.txt",
    "notes\r\nSet-Cookie: session=stolen\r\nX-Evil: 1.txt",
    'evil.html"; filename="notes.txt',  # tries to end the quoted name and start another
    "%0d%0aSet-Cookie:%20x=1.txt",
    "song\u202e3pm.txt",  # RIGHT-TO-LEFT OVERRIDE: would display as "songtxt.mp3"
    "\u2066zero\u200bwidth\u2069.txt",
    "x" * 5000 + ".txt",
    "сочинение.txt",
    "..",
    "\x1b[31mred.txt",
]


def _disposition_parts(header: str) -> tuple[str, str, str]:
    """``(type, filename, filename*)`` of an RFC 6266 Content-Disposition, read strictly."""
    match = re.fullmatch(
        r"(inline|attachment); filename=\"([^\"\\]*)\"; filename\*=UTF-8''([A-Za-z0-9%._~!*'()-]*)",
        header,
    )
    assert match, header
    return match[1], match[2], unquote(match[3], errors="strict")


def test_hostile_file_names_are_display_names_only_and_safe_headers(pages: Flask) -> None:
    student = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(student)
    contents = [f"root:x:0:0:root:/root:/bin/sh {index}\n".encode() for index in range(99)]
    with pages.app_context():
        evidence = db.session.scalar(select(Evidence).where(Evidence.public_id == evidence_id))
        assert evidence is not None
        for name, content in zip(HOSTILE_NAMES, contents, strict=False):
            add_file_artefact(evidence, FileStorage(io.BytesIO(content), name), title="Named")
        db.session.commit()
    artefacts = artefacts_of(pages, evidence_id)
    assert len(artefacts) == len(HOSTILE_NAMES)

    # Storage never used the names: each file is named by its digest, under the root.
    assert {path.name for path in stored_files(pages)} == {
        hashlib.sha256(content).hexdigest() for content in contents[: len(HOSTILE_NAMES)]
    }
    for name, artefact, content in zip(HOSTILE_NAMES, artefacts, contents, strict=False):
        # A display name: one path segment, nothing invisible or controlling, not hidden.
        display = str(artefact.original_filename)
        assert display and len(display) <= 200, name
        assert not re.search(r"[/\\\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]", display)
        assert not display.startswith("."), name

        served = student.get(f"/artefacts/{artefact.public_id}")
        assert served.status_code == 200 and served.data == content
        headers = served.headers.getlist("Content-Disposition")
        assert len(headers) == 1, name
        kind, fallback, exact = _disposition_parts(headers[0])
        assert kind == "attachment"
        assert exact == display  # RFC 8187: the exact display name
        assert fallback.isascii() and fallback.isprintable() and "%" not in fallback, name
        for header, value in served.headers.items():
            assert not re.search(r"[\r\n\x00]", value), (name, header)
        assert "stolen" not in served.headers.get("Set-Cookie", "")
        assert "X-Evil" not in served.headers

    # In the ZIP export the names are flat, ASCII and unique.
    portfolio_id = create_portfolio(student, title="Names")
    add_section(student, portfolio_id, "All")
    (section,) = section_ids(pages, portfolio_id)
    assert place(student, portfolio_id, section, evidence_id).status_code == 303
    response = student.get(f"/portfolios/{portfolio_id}/export.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
    assert len(names) == len(HOSTILE_NAMES) + 1 == len(set(names))
    for name in names:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}", name), name
        assert ".." not in name


def test_a_traversal_name_sent_by_a_browser_is_cut_to_its_last_segment(pages: Flask) -> None:
    # (A backslash is left out: in a multipart quoted-string it is an escape character.)
    names = {"../../etc/passwd.txt": "passwd.txt", "/etc/hosts.md": "hosts.md"}
    student = student_client(pages, "ada@school.example")
    files = [(f"notes {index}\n".encode(), name) for index, name in enumerate(names)]
    artefacts = uploaded(pages, student, files)
    assert [a.original_filename for a in artefacts] == list(names.values())
    assert {path.name for path in stored_files(pages)} == {
        hashlib.sha256(data).hexdigest() for data, _ in files
    }
