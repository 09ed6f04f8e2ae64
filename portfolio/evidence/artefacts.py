"""Artefacts of evidence: uploaded files (checked and stored through :mod:`portfolio.files.uploads`,
with thumbnails and durations) and links.  Nothing here commits."""

from __future__ import annotations

import contextlib
import hashlib
from typing import IO, Any

from flask import current_app
from sqlalchemy import Select, or_, select
from werkzeug.datastructures import FileStorage

from portfolio.accounts.models import User
from portfolio.core.db import db
from portfolio.core.i18n import LazyText
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.evidence.models import Artefact, ArtefactKind, Evidence
from portfolio.files import media
from portfolio.files.storage import storage
from portfolio.files.uploads import (
    UploadError,
    check_link,
    checked_upload,
    counts_towards_quota,
    ensure_blob,
    in_reader_language,
    store_content,
)
from portfolio.files.usage import keeps_blob

_MAX_TITLE = 256
_MAX_TEXT = 200_000  # alt text, captions, transcript


@counts_towards_quota
def artefact_blobs(owner: User) -> Select[Any]:
    """The blobs of the owner's artefacts: what their evidence keeps stored."""
    return (
        select(Artefact.blob_sha256)
        .join(Evidence, Artefact.evidence_id == Evidence.id)
        .where(Evidence.owner_id == owner.id, Artefact.blob_sha256.is_not(None))
    )


@keeps_blob
def artefact_uses(sha256: str) -> Select[Any]:
    """Artefacts whose file or thumbnail is the blob."""
    return select(Artefact.id).where(
        or_(Artefact.blob_sha256 == sha256, Artefact.thumbnail_sha256 == sha256)
    )


def stored_files(artefacts: list[Artefact]) -> list[str | None]:
    """The blobs the artefacts point at: their files and thumbnails."""
    return [sha for a in artefacts for sha in (a.blob_sha256, a.thumbnail_sha256)]


def _text(value: str | None, field: str | LazyText) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > _MAX_TEXT or "\x00" in value:
        raise UploadError(
            "text-too-long", _l("The %(field)s is too long or contains invalid text.", field=field)
        )
    return value


def _title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise UploadError("bad-title", _l("Give the artefact a title."))
    if len(title) > _MAX_TITLE:
        raise UploadError(
            "bad-title", _l("The title is longer than %(limit)s characters.", limit=_MAX_TITLE)
        )
    return title


def _thumbnail(kind: media.Kind, spool: IO[bytes], drawn: bytes | None) -> str | None:
    """Store a PNG thumbnail of an image or a PDF's first page (``drawn`` while the PDF was
    checked); returns its SHA-256, or None when the content gives none (the upload itself has
    already passed its checks)."""
    png: bytes | None = None
    if kind is media.PDF:
        png = drawn
    elif kind.category == "image":
        with contextlib.suppress(media.MediaError):
            png = media.image_thumbnail(spool)
    else:
        return None
    if png is None:
        current_app.logger.warning("no thumbnail for a %s upload", kind.media_type)
        return None
    sha256 = hashlib.sha256(png).hexdigest()
    storage().put(sha256, png)
    ensure_blob(sha256, len(png), "image/png")
    return sha256


def add_file_artefact(
    evidence: Evidence,
    upload: FileStorage,
    *,
    title: str,
    alt_text: str | None = None,
    captions_vtt: str | None = None,
    transcript: str | None = None,
) -> Artefact:
    """Add an uploaded file to ``evidence`` (last position), with a thumbnail for images and
    PDFs and the duration of audio and video.  Returns the new ``Artefact``.

    Adds to ``db.session`` without committing.  Raises ``UploadError`` (every field is checked
    before anything is stored; then nothing was added and no bytes were stored).
    """
    title = _title(title)
    alt_text = _text(alt_text, _l("alternative text"))
    transcript = _text(transcript, _l("transcript"))
    captions_vtt = _text(captions_vtt, _l("captions"))
    if captions_vtt is not None:
        try:
            media.check_webvtt(captions_vtt)
        except media.MediaError as error:
            raise UploadError(error.code, in_reader_language(error.message)) from None
    spool, sha256, size, kind, name, drawn = checked_upload(
        upload, owner=evidence.owner, allowed=None
    )
    with spool:
        blob = store_content(spool, sha256, size, kind.media_type)
        thumbnail = _thumbnail(kind, spool, drawn)
        duration = media.audio_duration(spool) if kind.category in {"audio", "video"} else None
    artefact = Artefact(
        kind=ArtefactKind.FILE,
        title=title,
        position=len(evidence.artefacts),
        blob_sha256=blob.sha256,
        original_filename=name,
        media_type=kind.media_type,
        size=size,
        alt_text=alt_text,
        captions_vtt=captions_vtt,
        transcript=transcript,
        duration_seconds=duration,
        thumbnail_sha256=thumbnail,
    )
    artefact.blob = blob
    evidence.artefacts.append(artefact)
    db.session.add(artefact)
    return artefact


def add_link_artefact(evidence: Evidence, *, url: str, title: str) -> Artefact:
    """Add an external link to ``evidence`` (last position); returns the new ``Artefact``.
    Adds to ``db.session`` without committing.  Raises ``UploadError``."""
    artefact = Artefact(
        kind=ArtefactKind.LINK,
        title=_title(title),
        url=check_link(url),
        position=len(evidence.artefacts),
    )
    evidence.artefacts.append(artefact)
    db.session.add(artefact)
    return artefact
