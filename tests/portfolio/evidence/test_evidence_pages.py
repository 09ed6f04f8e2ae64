"""Students' evidence pages: create, edit and delete evidence; upload files and add links;
remove and reorder artefacts; nothing partial is stored when an upload is refused."""

from __future__ import annotations

import hashlib
import io
import struct
import wave
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portfolio.core.db import db
from portfolio.evidence.models import Artefact, Evidence
from portfolio.files.models import Blob
from tests.portfolio.accounts.test_auth import make_user, sign_in

# -- helpers shared by the evidence, portfolio, access and export tests -----------------------


@pytest.fixture
def pages(app: Flask) -> Flask:
    """The app with CSRF checks off (CSRF itself is tested in test_auth)."""
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def student_client(app: Flask, email: str) -> Any:
    """A test client signed in as a new student with that address."""
    make_user(app, email, "student")
    client = app.test_client()
    assert sign_in(client, email).status_code == 303
    return client


def png_bytes(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small, valid PNG image."""
    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (16, 12), color).save(output, format="PNG")
    return output.getvalue()


def wav_bytes(seconds: float = 1.0) -> bytes:
    """A valid mono WAV file of silence lasting ``seconds``."""
    output = io.BytesIO()
    with wave.open(output, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(struct.pack("<h", 0) * int(8000 * seconds))
    return output.getvalue()


def create_evidence(client: Any, title: str = "My song", narrative: str = "") -> str:
    """Create evidence through the form; its public id."""
    response = client.post("/evidence/new", data={"title": title, "narrative": narrative})
    assert response.status_code == 303, response.get_data(as_text=True)
    return str(response.headers["Location"]).rsplit("/", 1)[-1]


def upload(client: Any, evidence_id: str, data: bytes, filename: str, **fields: str) -> Any:
    """Upload a file artefact through the form; the response."""
    form: dict[str, Any] = {"file_title": fields.pop("title", filename), **fields}
    form["file"] = (io.BytesIO(data), filename)
    return client.post(
        f"/evidence/{evidence_id}/artefacts/file", data=form, content_type="multipart/form-data"
    )


def add_link(client: Any, evidence_id: str, url: str, title: str = "A link") -> Any:
    return client.post(
        f"/evidence/{evidence_id}/artefacts/link", data={"link_title": title, "url": url}
    )


def artefacts_of(app: Flask, evidence_id: str) -> list[Artefact]:
    with app.app_context():
        evidence = db.session.scalar(select(Evidence).where(Evidence.public_id == evidence_id))
        assert evidence is not None
        items = list(evidence.artefacts)
        for each in items:
            db.session.expunge(each)
        return items


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


# -- evidence --------------------------------------------------------------------------------


def test_a_student_creates_evidence_and_sees_the_sanitized_narrative(pages: Flask) -> None:
    client = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(
        client, title="<b>Song</b>", narrative="**Loud** <script>alert(1)</script>"
    )
    page = client.get(f"/evidence/{evidence_id}").get_data(as_text=True)
    assert "<h1>&lt;b&gt;Song&lt;/b&gt;</h1>" in page
    assert "<strong>Loud</strong>" in page
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<h1") == 1
    listing = client.get("/evidence").get_data(as_text=True)
    assert "&lt;b&gt;Song&lt;/b&gt;" in listing


def test_the_form_shows_errors_next_to_fields_with_422(pages: Flask) -> None:
    client = student_client(pages, "ada@school.example")
    response = client.post(
        "/evidence/new", data={"title": " ", "competencies": "not a url\nhttps://ok.example/c"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="title-error"' in page and "Enter a title." in page
    assert 'id="competencies-error"' in page and "not a url" in page
    assert 'aria-describedby="title-error"' in page
    assert count(pages, Evidence) == 0


def test_edit_saves_title_narrative_and_competencies(pages: Flask) -> None:
    client = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(client)
    response = client.post(
        f"/evidence/{evidence_id}/edit",
        data={
            "title": "Renamed",
            "narrative": "New *text*",
            "competencies": "https://school.example/c/1\n\nhttps://school.example/c/2\n",
        },
    )
    assert response.status_code == 303
    with pages.app_context():
        evidence = db.session.scalar(select(Evidence).where(Evidence.public_id == evidence_id))
        assert evidence is not None
        assert (evidence.title, evidence.narrative) == ("Renamed", "New *text*")
        assert evidence.competencies == ["https://school.example/c/1", "https://school.example/c/2"]


def test_signing_in_is_required_and_only_students_have_evidence(pages: Flask) -> None:
    anonymous = pages.test_client()
    assert anonymous.get("/evidence").status_code == 302
    assert anonymous.post("/evidence/new", data={"title": "x"}).status_code == 401
    make_user(pages, "admin@school.example", "admin")
    admin = pages.test_client()
    sign_in(admin, "admin@school.example")
    assert admin.get("/evidence").status_code == 403


def test_deleting_evidence_removes_its_artefacts(pages: Flask) -> None:
    client = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(client)
    assert add_link(client, evidence_id, "https://example.org/a").status_code == 303
    confirm = client.get(f"/evidence/{evidence_id}/delete").get_data(as_text=True)
    assert "No credential links to this evidence." in confirm
    assert (
        client.post(f"/evidence/{evidence_id}/delete", data={"confirm": "yes"}).status_code == 303
    )
    assert count(pages, Evidence) == 0
    assert count(pages, Artefact) == 0
    assert client.get(f"/evidence/{evidence_id}").status_code == 404


def test_deleting_evidence_takes_a_confirmation_step(pages: Flask) -> None:
    client = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(client)
    unconfirmed = client.post(f"/evidence/{evidence_id}/delete")
    assert unconfirmed.status_code == 422
    assert "Your evidence was not deleted" in unconfirmed.get_data(as_text=True)
    assert count(pages, Evidence) == 1


# -- artefacts -------------------------------------------------------------------------------


def test_an_image_upload_is_shown_with_its_alt_text_and_served_to_the_owner(pages: Flask) -> None:
    client = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(client)
    data = png_bytes()
    response = upload(
        client, evidence_id, data, "drawing.png", title="Drawing", alt_text='A red "square"'
    )
    assert response.status_code == 303
    (artefact,) = artefacts_of(pages, evidence_id)
    assert artefact.blob_sha256 == hashlib.sha256(data).hexdigest()
    page = client.get(f"/evidence/{evidence_id}").get_data(as_text=True)
    assert f'<img src="/artefacts/{artefact.public_id}" alt="A red &#34;square&#34;"' in page
    served = client.get(f"/artefacts/{artefact.public_id}")
    assert served.status_code == 200
    assert served.data == data
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    if artefact.thumbnail_sha256:
        assert client.get(f"/artefacts/{artefact.public_id}/thumbnail").status_code == 200


def test_audio_gets_controls_captions_track_and_transcript(pages: Flask) -> None:
    client = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(client)
    captions = "WEBVTT\n\n00:00.000 --> 00:01.000\nLa la la\n"
    response = upload(
        client,
        evidence_id,
        wav_bytes(),
        "song.wav",
        title="Song",
        captions_vtt=captions,
        transcript="La la la <i>",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    (artefact,) = artefacts_of(pages, evidence_id)
    page = client.get(f"/evidence/{evidence_id}").get_data(as_text=True)
    assert "<audio controls" in page
    assert artefact.duration_seconds == pytest.approx(1.0, abs=0.05)
    assert "Song (0:01)" in page
    captions_url = f"/artefacts/{artefact.public_id}/captions.vtt"
    assert f'<track kind="captions" srclang="en" label="Captions" src="{captions_url}"' in page
    assert "<details><summary>Transcript of Song</summary>" in page
    assert "La la la &lt;i&gt;" in page
    vtt = client.get(f"/artefacts/{artefact.public_id}/captions.vtt")
    assert vtt.mimetype == "text/vtt" and vtt.get_data(as_text=True) == captions.strip()


@pytest.mark.parametrize(
    ("data", "filename", "status", "field"),
    [
        (b"", "empty.txt", 400, "file"),
        (b"%PDF-1.4 not a song", "song.mp3", 422, "file"),
        (b"<html><script>alert(1)</script></html>", "page.html", 422, "file"),
    ],
)
def test_a_refused_upload_stores_nothing_and_says_why_next_to_the_field(
    pages: Flask, data: bytes, filename: str, status: int, field: str
) -> None:
    client = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(client)
    response = upload(client, evidence_id, data, filename, title="Bad")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert count(pages, Artefact) == 0
    assert count(pages, Blob) == 0


def test_an_oversized_upload_is_refused_with_413(pages: Flask) -> None:
    pages.config["CREDFOLIO_MAX_UPLOAD_BYTES"] = 1000
    client = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(client)
    response = upload(client, evidence_id, b"word " * 1000, "story.txt", title="Long")
    assert response.status_code == 413
    assert 'id="file-error"' in response.get_data(as_text=True)
    assert count(pages, Artefact) == 0


def test_upload_needs_a_title_and_a_file(pages: Flask) -> None:
    client = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(client)
    response = client.post(
        f"/evidence/{evidence_id}/artefacts/file",
        data={"file_title": ""},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="file_title-error"' in page and 'id="file-error"' in page


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "example.org", ""]
)
def test_only_web_links_are_accepted(pages: Flask, url: str) -> None:
    client = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(client)
    response = add_link(client, evidence_id, url)
    assert response.status_code == 422
    assert 'id="url-error"' in response.get_data(as_text=True)
    assert count(pages, Artefact) == 0


def test_links_are_listed_with_rel_nofollow(pages: Flask) -> None:
    client = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(client)
    assert add_link(client, evidence_id, "https://example.org/song", "<My> song").status_code == 303
    page = client.get(f"/evidence/{evidence_id}").get_data(as_text=True)
    assert (
        '<a href="https://example.org/song" rel="nofollow noopener noreferrer">&lt;My&gt; song</a>'
        in page
    )


def test_artefacts_are_reordered_and_removed(pages: Flask) -> None:
    client = student_client(pages, "ada@school.example")
    evidence_id = create_evidence(client)
    for name in ("one", "two", "three"):
        assert add_link(client, evidence_id, f"https://example.org/{name}", name).status_code == 303
    titles = [a.title for a in artefacts_of(pages, evidence_id)]
    assert titles == ["one", "two", "three"]
    three = artefacts_of(pages, evidence_id)[2].public_id
    move = f"/evidence/{evidence_id}/artefacts/{three}/move"
    assert client.post(move, data={"direction": "up"}).status_code == 303
    assert [a.title for a in artefacts_of(pages, evidence_id)] == ["one", "three", "two"]
    client.post(move, data={"direction": "up"})
    client.post(move, data={"direction": "up"})  # already first: nothing changes
    assert [a.title for a in artefacts_of(pages, evidence_id)] == ["three", "one", "two"]
    one = artefacts_of(pages, evidence_id)[1].public_id
    assert client.post(f"/evidence/{evidence_id}/artefacts/{one}/delete").status_code == 303
    assert [a.title for a in artefacts_of(pages, evidence_id)] == ["three", "two"]
