"""Uploads (issue #4): limits, types from content, hostile files that store nothing,
deduplication, quota, thumbnails, durations, link artefacts."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portfolio.accounts.models import User
from portfolio.core.db import db
from portfolio.core.errors import InvalidInputError
from portfolio.evidence.artefacts import add_file_artefact, add_link_artefact
from portfolio.evidence.models import Artefact, Evidence
from portfolio.files import media
from portfolio.files.models import Blob
from portfolio.files.storage import LocalStorage, storage
from portfolio.files.uploads import UploadError, store_blob, upload_status, used_bytes
from tests.portfolio.files.test_storage import run_moto, s3_client

UPLOADS = Path(__file__).parents[2] / "assets" / "uploads"


def upload(asset: str, filename: str | None = None) -> FileStorage:
    """A fixture file as the browser would send it (optionally under another name)."""
    data = (UPLOADS / asset).read_bytes()
    return FileStorage(stream=io.BytesIO(data), filename=filename or asset)


def sha(asset: str) -> str:
    return hashlib.sha256((UPLOADS / asset).read_bytes()).hexdigest()


def make_user(email: str) -> User:
    user = User(email=email, password_hash="x", display_name=email.split("@")[0], role="student")
    db.session.add(user)
    db.session.flush()
    return user


@pytest.fixture
def ctx(app: Any) -> Iterator[Any]:
    with app.app_context():
        yield app


@pytest.fixture
def evidence(ctx: Any) -> Evidence:
    item = Evidence(owner=make_user("ada@example.test"), title="My song")
    db.session.add(item)
    db.session.commit()
    return item


def stored_files(app: Any) -> list[Path]:
    backend = storage()
    assert isinstance(backend, LocalStorage)
    return sorted(p for p in backend.root.rglob("*") if p.is_file())


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Blob)) or 0,
        db.session.scalar(select(func.count()).select_from(Artefact)) or 0,
    )


# -- good uploads --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "asset, media_type, category",
    [
        ("tone.wav", "audio/wav", "audio"),
        ("drawing.png", "image/png", "image"),
        ("photo.jpg", "image/jpeg", "image"),
        ("essay.pdf", "application/pdf", "document"),
        ("story.txt", "text/plain", "document"),
        ("story.md", "text/markdown", "document"),
    ],
)
def test_allowed_files_are_stored_content_addressed(
    evidence: Evidence, asset: str, media_type: str, category: str
) -> None:
    artefact = add_file_artefact(evidence, upload(asset), title="Evidence")
    db.session.commit()
    assert artefact.media_type == media_type
    assert artefact.blob is not None
    assert artefact.blob.sha256 == sha(asset)
    assert artefact.blob.media_type == media_type
    assert artefact.size == (UPLOADS / asset).stat().st_size
    assert artefact.original_filename == asset
    assert storage().get(sha(asset)) == (UPLOADS / asset).read_bytes()


def test_wav_duration_from_the_file(evidence: Evidence) -> None:
    artefact = add_file_artefact(evidence, upload("tone.wav"), title="A tone")
    assert artefact.duration_seconds == pytest.approx(0.5, abs=0.01)
    assert artefact.thumbnail_sha256 is None


@pytest.mark.parametrize("asset", ["drawing.png", "photo.jpg", "essay.pdf"])
def test_thumbnails_of_images_and_pdf_first_pages(evidence: Evidence, asset: str) -> None:
    artefact = add_file_artefact(evidence, upload(asset), title="With a thumbnail")
    db.session.commit()
    assert artefact.thumbnail_sha256 is not None
    thumbnail = db.session.get(Blob, artefact.thumbnail_sha256)
    assert thumbnail is not None and thumbnail.media_type == "image/png"
    data = storage().get(artefact.thumbnail_sha256)
    assert hashlib.sha256(data).hexdigest() == artefact.thumbnail_sha256
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        assert max(image.size) == 400 or asset == "essay.pdf"
        assert max(image.size) <= 400
        if asset == "essay.pdf":  # an A4 page: portrait, 400 px high
            assert image.size[1] == 400 > image.size[0]


def test_links_and_accessibility_texts(evidence: Evidence) -> None:
    audio = add_file_artefact(
        evidence,
        upload("tone.wav"),
        title="  My   song ",
        captions_vtt="WEBVTT\n\n00:00.000 --> 00:00.500\nLa la la\n",
        transcript="La la la",
    )
    link = add_link_artefact(evidence, url="https://example.org/my-game", title="My game")
    db.session.commit()
    assert (audio.title, audio.position, link.position) == ("My song", 0, 1)
    assert audio.captions_vtt is not None and audio.transcript == "La la la"
    assert (link.kind, link.url, link.blob_sha256) == ("link", "https://example.org/my-game", None)
    assert [a.title for a in evidence.artefacts] == ["My song", "My game"]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "https://",
        "https://user:secret@example.org/",
        "https://example.org/a b",
        "https://example.org/100%",  # not RFC 3987: could not be signed into a credential
        "https://example.org/a[1]",
        "example.org",
        "https://example.org/" + "a" * 2048,
    ],
)
def test_bad_links_are_refused(evidence: Evidence, url: str) -> None:
    with pytest.raises(UploadError) as raised:
        add_link_artefact(evidence, url=url, title="A link")
    assert raised.value.code == "bad-url"
    assert counts() == (0, 0)


def test_duplicate_upload_reuses_the_blob(evidence: Evidence) -> None:
    first = add_file_artefact(evidence, upload("drawing.png"), title="One")
    second = add_file_artefact(evidence, upload("drawing.png", "copy.png"), title="Two")
    db.session.commit()
    assert first.blob_sha256 == second.blob_sha256 == sha("drawing.png")
    # The image and its thumbnail: two blobs, two files, whatever the number of uploads.
    assert counts() == (2, 2)
    assert len(stored_files(evidence)) == 2
    other = Evidence(owner=make_user("bo@example.test"), title="Also mine")
    db.session.add(other)
    add_file_artefact(other, upload("drawing.png"), title="Three")
    db.session.commit()
    assert counts() == (2, 3)


def test_store_blob_with_allowed_types(ctx: Any) -> None:
    owner = make_user("cy@example.test")
    blob = store_blob(upload("photo.jpg"), owner=owner, allowed=media.IMAGE_TYPES)
    assert blob.media_type == "image/jpeg"
    with pytest.raises(UploadError) as raised:
        store_blob(upload("essay.pdf"), owner=owner, allowed=frozenset({"image"}))
    assert raised.value.code == "not-allowed-here"
    assert "PDF" in raised.value.message
    db.session.commit()
    assert counts() == (1, 0)


# -- hostile and bad uploads: a clear message, nothing stored --------------------------------


@pytest.mark.parametrize(
    "asset, filename, code, message",
    [
        ("misleading-song.mp3", None, "type-mismatch", r"misleading-song\.mp3.*really a PDF"),
        ("essay.pdf", "photo.png", "type-mismatch", r"\.png file but it is really a PDF"),
        ("story.txt", "notes.html", "type-mismatch", r"\.html file but it is really a text"),
        ("empty.txt", None, "empty", r"empty\.txt.* is empty"),
        ("bomb.png", None, "image-too-large", r"decompression bomb"),
        ("page.html", None, "type-not-allowed", r"an HTML page"),
        ("page.html", "page.txt", "type-not-allowed", r"an HTML page"),
        ("binary-notes.txt", None, "type-not-allowed", r"cannot be uploaded"),
    ],
)
def test_bad_files_are_refused_and_store_nothing(
    evidence: Evidence, asset: str, filename: str | None, code: str, message: str
) -> None:
    with pytest.raises(UploadError, match=message) as raised:
        add_file_artefact(evidence, upload(asset, filename), title="Bad")
    assert raised.value.code == code
    assert raised.value.message == str(raised.value)
    db.session.commit()
    assert counts() == (0, 0)
    assert stored_files(evidence) == []


def test_images_over_the_configured_pixel_limit_are_refused(evidence: Evidence) -> None:
    current_app.config["CREDFOLIO_MAX_IMAGE_PIXELS"] = 100_000
    with pytest.raises(UploadError, match="800×600 pixels") as raised:
        add_file_artefact(evidence, upload("drawing.png"), title="Big")
    assert raised.value.code == "image-too-large"
    assert stored_files(evidence) == []


def test_damaged_png_is_refused(evidence: Evidence) -> None:
    data = bytearray((UPLOADS / "drawing.png").read_bytes())
    data[-20] ^= 0xFF  # corrupt the last IDAT chunk (its CRC no longer matches)
    with pytest.raises(UploadError) as raised:
        add_file_artefact(evidence, FileStorage(io.BytesIO(bytes(data)), "d.png"), title="Bad")
    assert raised.value.code == "damaged-image"
    assert counts() == (0, 0)
    assert stored_files(evidence) == []


def test_damaged_pdf_is_refused(evidence: Evidence) -> None:
    data = (UPLOADS / "essay.pdf").read_bytes()[:200]
    with pytest.raises(UploadError) as raised:
        add_file_artefact(evidence, FileStorage(io.BytesIO(data), "essay.pdf"), title="Bad")
    assert raised.value.code == "damaged-pdf"
    assert stored_files(evidence) == []


def test_unknown_binary_is_named_by_its_content(evidence: Evidence) -> None:
    zipped = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("a.txt", "hello")
    with pytest.raises(UploadError, match="a ZIP archive") as raised:
        add_file_artefact(
            evidence, FileStorage(io.BytesIO(zipped.getvalue()), "song.mp3"), title="Zip"
        )
    assert raised.value.code == "type-not-allowed"
    assert stored_files(evidence) == []


def test_oversized_file_is_refused_while_reading(evidence: Evidence) -> None:
    current_app.config["CREDFOLIO_MAX_UPLOAD_BYTES"] = 4096
    stream = CountingStream((UPLOADS / "story.txt").read_bytes() * 10_000)
    with pytest.raises(UploadError, match="larger than the limit") as raised:
        add_file_artefact(evidence, FileStorage(stream, "long.txt"), title="Too long")
    assert raised.value.code == "too-large"
    # Reading stopped just past the limit instead of consuming the whole upload.
    assert stream.consumed <= 4096 + 1024 * 1024
    assert stream.consumed < len(stream.getvalue())
    assert counts() == (0, 0)
    assert stored_files(evidence) == []


class CountingStream(io.BytesIO):
    """A request body that records how much of it was read."""

    consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


def test_quota_counts_distinct_blobs(evidence: Evidence) -> None:
    png = (UPLOADS / "drawing.png").stat().st_size
    wav = (UPLOADS / "tone.wav").stat().st_size
    current_app.config["CREDFOLIO_USER_QUOTA_BYTES"] = png + wav - 1
    add_file_artefact(evidence, upload("drawing.png"), title="Fits")
    # The same content again costs nothing.
    add_file_artefact(evidence, upload("drawing.png"), title="Same again")
    assert used_bytes(evidence.owner) == png
    with pytest.raises(UploadError, match="does not fit") as raised:
        add_file_artefact(evidence, upload("tone.wav"), title="Too much")
    assert raised.value.code == "quota-exceeded"
    db.session.commit()
    assert not storage().exists(sha("tone.wav"))
    assert len(evidence.artefacts) == 2


def test_path_traversal_filename_is_only_a_display_name(evidence: Evidence) -> None:
    artefact = add_file_artefact(
        evidence, upload("passwd.txt", "../../etc/passwd.txt"), title="Traversal"
    )
    db.session.commit()
    assert artefact.original_filename == "passwd.txt"
    # Stored under its digest inside the storage root, nowhere else.
    [path] = stored_files(evidence)
    assert path.name == sha("passwd.txt")
    root = storage()
    assert isinstance(root, LocalStorage)
    assert path.is_relative_to(root.root)


@pytest.mark.parametrize(
    "title, captions, code",
    [
        ("", None, "bad-title"),
        ("x" * 257, None, "bad-title"),
        ("Song", "not captions", "bad-captions"),
        ("Song", "WEBVTTX\n", "bad-captions"),
    ],
)
def test_bad_fields_are_checked_before_anything_is_stored(
    evidence: Evidence, title: str, captions: str | None, code: str
) -> None:
    with pytest.raises(UploadError) as raised:
        add_file_artefact(evidence, upload("tone.wav"), title=title, captions_vtt=captions)
    assert raised.value.code == code
    assert counts() == (0, 0)
    assert stored_files(evidence) == []


# -- pure helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\ada\\song.mp3", "song.mp3"),
        ("..", "upload"),
        (".hidden.png", "hidden.png"),
        ("a\x00b\x1fc.txt", "abc.txt"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("  lots   of\tspace .md", "lots of space .md"),
        ('quo"te.png', "quo'te.png"),
        ("x" * 300 + ".png", "x" * 196 + ".png"),
        (None, "upload"),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    assert media.safe_filename(name) == expected


@pytest.mark.parametrize(
    "head, kind",
    [
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", media.MP3),
        (b"\xff\xfb\x90\x00" + b"\x00" * 40, media.MP3),
        (b"OggS\x00\x02" + b"\x00" * 40, media.OGG),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", media.M4A),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", media.MP4),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", media.WEBM),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", media.WEBP),
        (b"GIF89a\x01\x00\x01\x00", media.GIF),
    ],
)
def test_sniff_magic_bytes(head: bytes, kind: media.Kind) -> None:
    assert media.sniff(io.BytesIO(head))[0] is kind


@pytest.mark.parametrize(
    "head, label",
    [
        (b"\x00\x00\x00\x20ftypheic\x00\x00\x00\x00", "HEIC"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska", "Matroska"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "SVG"),
        (b"\xff\xf1\x50\x80", "AAC"),  # ADTS AAC, not MP3
    ],
)
def test_sniff_refuses_lookalikes(head: bytes, label: str) -> None:
    kind, description = media.sniff(io.BytesIO(head))
    assert kind is None
    assert label in description


def test_m4a_named_by_extension_for_generic_brands() -> None:
    head = io.BytesIO(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00")
    assert media.classify(head, "song.m4a") is media.M4A
    assert media.classify(head, "clip.mp4") is media.MP4
    assert media.classify(head, "clip") is media.MP4


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    yield from run_moto()


def test_uploads_to_the_s3_backend(
    app: Any, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole upload path against moto's S3 API server on loopback."""
    from portfolio.core.settings import Settings
    from portfolio.files.storage import S3Storage, init_storage

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket="evidence")
    config = Settings.from_sources(
        {},
        {
            "CREDFOLIO_STORAGE": "s3",
            "CREDFOLIO_S3_BUCKET": "evidence",
            "CREDFOLIO_S3_ENDPOINT_URL": s3_endpoint,
            "CREDFOLIO_S3_REGION": "us-east-1",
        },
    )
    init_storage(app, config)
    with app.app_context():
        assert isinstance(storage(), S3Storage)
        item = Evidence(owner=make_user("s3@example.test"), title="Stored remotely")
        db.session.add(item)
        artefact = add_file_artefact(item, upload("essay.pdf"), title="Essay")
        with pytest.raises(UploadError):
            add_file_artefact(item, upload("misleading-song.mp3"), title="Song")
        db.session.commit()
        keys = {
            o["Key"].rsplit("/", 1)[1]
            for o in client.list_objects_v2(Bucket="evidence")["Contents"]
        }
        assert keys == {sha("essay.pdf"), artefact.thumbnail_sha256}
    client.close()


def test_two_first_uploads_of_the_same_content_at_once_share_one_blob(
    app: Any, evidence: Evidence
) -> None:
    """Both requests find no Blob row and insert one; the loser reuses the winner's row."""
    import threading

    owner_id = evidence.owner_id
    db.session.commit()
    for round_ in range(4):
        content = f"A story written in round {round_}.\n".encode()
        pieces = [Evidence(owner_id=owner_id, title=f"{round_}-{n}") for n in ("a", "b")]
        db.session.add_all(pieces)
        db.session.commit()
        ids = [piece.id for piece in pieces]
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def student_uploads(
            evidence_id: int,
            content: bytes = content,
            barrier: threading.Barrier = barrier,
            errors: list[BaseException] = errors,
        ) -> None:
            with app.app_context():
                try:
                    mine = db.session.get(Evidence, evidence_id)
                    barrier.wait(timeout=10)
                    add_file_artefact(
                        mine, FileStorage(io.BytesIO(content), filename="story.txt"), title="S"
                    )
                    db.session.commit()
                except BaseException as exc:  # reported below
                    errors.append(exc)
                    db.session.rollback()

        threads = [threading.Thread(target=student_uploads, args=(i,)) for i in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        digest = hashlib.sha256(content).hexdigest()
        assert db.session.scalar(select(func.count()).where(Blob.sha256 == digest)) == 1
        assert db.session.scalar(select(func.count()).where(Artefact.blob_sha256 == digest)) == 2


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("too-large", 413),
        ("quota-exceeded", 413),
        ("empty", 400),
        ("no-file", 400),
        ("type-mismatch", 422),
        ("bad-url", 422),
    ],
)
def test_an_upload_refusal_is_an_invalid_input_answered_with_its_status(code, status):
    error = UploadError(code, "Refused.")
    assert isinstance(error, InvalidInputError)
    assert (error.code, error.message, str(error)) == (code, "Refused.", "Refused.")
    assert upload_status(error) == status
