"""Serving blobs (issue #4): stored type, security headers, Content-Disposition, ETag and
conditional GET, HTTP Range requests (RFC 9110 §14)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from flask import request
from werkzeug.datastructures import FileStorage

from portfolio.accounts.models import User
from portfolio.core.db import db
from portfolio.files.models import Blob
from portfolio.files.storage import storage
from portfolio.files.uploads import CONTENT_SECURITY_POLICY, send_blob, store_blob

UPLOADS = Path(__file__).parents[2] / "assets" / "uploads"


@pytest.fixture
def served(app: Any) -> Any:
    """A test client with a route that serves any blob through ``send_blob``, and the stored
    fixture files (WAV, PNG, PDF, text)."""

    @app.get("/test-blobs/<sha256>")
    def serve(sha256: str) -> Any:
        blob = db.get_or_404(Blob, sha256)
        return send_blob(
            blob, filename=request.args.get("name"), inline=request.args.get("inline") == "1"
        )

    with app.app_context():
        owner = User(
            email="ada@example.test", password_hash="x", display_name="Ada", role="student"
        )
        db.session.add(owner)
        for asset in ("tone.wav", "drawing.png", "essay.pdf", "story.txt"):
            data = (UPLOADS / asset).read_bytes()
            store_blob(FileStorage(io.BytesIO(data), asset), owner=owner)
        # Defensive paths: types that are never accepted as uploads, stored directly.
        for data, media_type in (
            (b"<svg onload='alert(1)'/>", "image/svg+xml"),
            (b"<script>alert(1)</script>", "text/html"),
        ):
            sha = hashlib.sha256(data).hexdigest()
            storage().put(sha, data)
            db.session.add(Blob(sha256=sha, size=len(data), media_type=media_type))
        db.session.commit()
    return app.test_client()


def url(data: bytes, **query: str) -> str:
    path = f"/test-blobs/{hashlib.sha256(data).hexdigest()}"
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


WAV = (UPLOADS / "tone.wav").read_bytes()
PNG = (UPLOADS / "drawing.png").read_bytes()
PDF = (UPLOADS / "essay.pdf").read_bytes()
TXT = (UPLOADS / "story.txt").read_bytes()


def test_full_response_and_security_headers(served: Any) -> None:
    response = served.get(url(WAV, name="tone.wav", inline="1"))
    assert response.status_code == 200
    assert response.data == WAV
    assert response.headers["Content-Type"] == "audio/wav"
    assert response.headers["Content-Length"] == str(len(WAV))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["ETag"] == f'"{hashlib.sha256(WAV).hexdigest()}"'
    assert response.headers["Content-Disposition"].startswith('inline; filename="tone.wav"')


@pytest.mark.parametrize(
    "data, query, disposition",
    [
        (PNG, {"inline": "1"}, "inline"),
        (PNG, {}, "attachment"),
        (PDF, {}, "attachment"),
        (PDF, {"inline": "1"}, "inline"),
        (TXT, {"inline": "1"}, "attachment"),
        (b"<svg onload='alert(1)'/>", {"inline": "1"}, "attachment"),
        (b"<script>alert(1)</script>", {"inline": "1"}, "attachment"),
    ],
)
def test_content_disposition(
    served: Any, data: bytes, query: dict[str, str], disposition: str
) -> None:
    response = served.get(url(data, **query))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_script_capable_types_are_never_served_as_such(served: Any) -> None:
    for data in (b"<svg onload='alert(1)'/>", b"<script>alert(1)</script>"):
        response = served.get(url(data, inline="1"))
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert "sandbox" in response.headers["Content-Security-Policy"]


def test_text_gets_a_charset(served: Any) -> None:
    assert served.get(url(TXT)).headers["Content-Type"] == "text/plain; charset=utf-8"


def test_unicode_filename_is_encoded(served: Any) -> None:
    response = served.get(url(PNG, name="%C3%A9t%C3%A9%22%0D%0AX-Evil:1.png"))
    disposition = response.headers["Content-Disposition"]
    assert "X-Evil" not in response.headers
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.startswith('attachment; filename="_t_\' X-Evil:1.png"')
    assert "filename*=UTF-8''%C3%A9t%C3%A9%27%20X-Evil%3A1.png" in disposition


def test_first_bytes(served: Any) -> None:
    response = served.get(url(WAV), headers={"Range": "bytes=0-43"})
    assert response.status_code == 206
    assert response.data == WAV[:44]
    assert response.headers["Content-Range"] == f"bytes 0-43/{len(WAV)}"
    assert response.headers["Content-Length"] == "44"
    assert response.headers["Content-Type"] == "audio/wav"


def test_open_ended_and_clamped_ranges(served: Any) -> None:
    response = served.get(url(WAV), headers={"Range": "bytes=8000-"})
    assert response.status_code == 206
    assert response.data == WAV[8000:]
    response = served.get(url(WAV), headers={"Range": "bytes=8000-999999"})
    assert response.data == WAV[8000:]
    assert response.headers["Content-Range"] == f"bytes 8000-{len(WAV) - 1}/{len(WAV)}"


def test_suffix_range(served: Any) -> None:
    response = served.get(url(WAV), headers={"Range": "bytes=-100"})
    assert response.status_code == 206
    assert response.data == WAV[-100:]
    assert response.headers["Content-Range"] == f"bytes {len(WAV) - 100}-{len(WAV) - 1}/{len(WAV)}"
    # A suffix longer than the file is the whole file.
    response = served.get(url(WAV), headers={"Range": f"bytes=-{len(WAV) + 10}"})
    assert response.status_code == 206
    assert response.data == WAV


@pytest.mark.parametrize(
    "header", [f"bytes={len(WAV)}-", f"bytes={len(WAV) + 5}-99999", "bytes=-0"]
)
def test_unsatisfiable_range(served: Any, header: str) -> None:
    response = served.get(url(WAV), headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(WAV)}"
    assert response.data == b""


@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "items=0-5", "bytes=9-2", "bytes=abc"])
def test_ranges_we_ignore_send_the_whole_file(served: Any, header: str) -> None:
    response = served.get(url(WAV), headers={"Range": header})
    assert response.status_code == 200
    assert response.data == WAV


def test_if_range(served: Any) -> None:
    etag = f'"{hashlib.sha256(WAV).hexdigest()}"'
    response = served.get(url(WAV), headers={"Range": "bytes=0-9", "If-Range": etag})
    assert (response.status_code, response.data) == (206, WAV[:10])
    response = served.get(url(WAV), headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert (response.status_code, response.data) == (200, WAV)


def test_conditional_get(served: Any) -> None:
    etag = f'"{hashlib.sha256(PNG).hexdigest()}"'
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = served.get(url(PNG), headers={"If-None-Match": header})
        assert response.status_code == 304
        assert response.data == b""
        assert response.headers["ETag"] == etag
    response = served.get(url(PNG), headers={"If-None-Match": '"other"'})
    assert (response.status_code, response.data) == (200, PNG)


def test_head(served: Any) -> None:
    response = served.head(url(PDF))
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(PDF))
    assert response.data == b""


def test_missing_bytes_are_not_found(served: Any) -> None:
    with served.application.app_context():
        storage().delete(hashlib.sha256(PNG).hexdigest())
    assert served.get(url(PNG)).status_code == 404


def test_ranges_with_thousands_of_digits_are_answered_not_crashed(served: Any) -> None:
    """Issue 15 §5: a 5,000-digit position (more than Python's int() converts) was a 500."""
    huge = "9" * 5000
    response = served.get(url(WAV), headers={"Range": f"bytes={huge}-"})
    assert response.status_code == 416
    response = served.get(url(WAV), headers={"Range": f"bytes=0-{huge}"})
    assert (response.status_code, response.data) == (206, WAV)
    response = served.get(url(WAV), headers={"Range": f"bytes=-{huge}"})
    assert (response.status_code, response.data) == (206, WAV)
    response = served.get(url(WAV), headers={"Range": f"bytes={'0' * 5000}9-{'0' * 5000}10"})
    assert (response.status_code, response.data) == (206, WAV[9:11])


@pytest.mark.parametrize("header", ["bytes=٣-", "bytes=0-٣", "bytes=-٣", "bytes=²-"])
def test_ranges_in_digits_of_other_scripts_are_ignored(served: Any, header: str) -> None:
    response = served.get(url(WAV), headers={"Range": header.encode().decode("latin-1")})
    assert (response.status_code, response.data) == (200, WAV)
