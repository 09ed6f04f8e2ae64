"""Safe uploads and serving of stored files: size limits, type checks from the bytes,
content-addressed blobs, the storage quota (features register what counts towards it), and
``send_blob`` (security headers, HTTP ranges).  Evidence artefacts are made in
:mod:`portfolio.evidence.artefacts`.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from flask import Response, abort, current_app, request
from sqlalchemy import Select, false, func, select, union
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from credentials.iri import is_absolute_iri
from portfolio.core.db import db
from portfolio.core.errors import InvalidInputError, status_for
from portfolio.core.i18n import LazyText
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.numbers import whole_number
from portfolio.files import media
from portfolio.files.models import Blob
from portfolio.files.storage import storage

if TYPE_CHECKING:
    from portfolio.accounts.models import User

DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024
DEFAULT_USER_QUOTA_BYTES = 1024 * 1024 * 1024
_CHUNK = 1024 * 1024

#: Served with every blob: no script, no plugins, no framing of other content; ``sandbox`` makes
#: even a top-level navigation to the file a unique, script-less origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; media-src 'self'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
)
# Types that a browser may show inside the page; everything else is downloaded.
_INLINE_TYPES = media.IMAGE_TYPES | media.AUDIO_TYPES | media.VIDEO_TYPES


def in_reader_language(text: str) -> str | LazyText:
    """A message of :mod:`portfolio.files.media` (a :class:`media.Text`) in the reader's
    language; any other text as it is."""
    if not isinstance(text, media.Text):
        return text
    values = {
        name: in_reader_language(value) if isinstance(value, str) else value
        for name, value in text.variables.items()
    }
    return _l(text.msgid, **values)


class UploadError(InvalidInputError):
    """An upload or artefact was refused: ``message`` is what the student sees, ``code`` is
    stable (``empty``, ``too-large``, ``quota-exceeded``, ``type-not-allowed``, ``type-mismatch``,
    ``image-too-large``, ``damaged-image``, ``damaged-pdf``, ``pdf-too-complex``,
    ``bad-captions``, ``bad-title``, ``bad-url``, ``not-allowed-here``, ``no-file``,
    ``text-too-long``).  Pages answer it with :func:`upload_status`."""

    def __init__(self, code: str, message: str | LazyText) -> None:
        super().__init__(message, code=code)


#: Upload refusals answered with another status than an invalid input's (see :func:`upload_status`).
_STATUS_BY_CODE = {"too-large": 413, "quota-exceeded": 413, "empty": 400, "no-file": 400}


def upload_status(error: UploadError) -> int:
    """The HTTP status a page answers an :class:`UploadError` with, by its ``code``: too big
    (``too-large``, ``quota-exceeded``) 413, nothing sent (``empty``, ``no-file``) 400, anything
    else (wrong type, damaged content, bad text) the status of an invalid input, 422
    (:func:`portfolio.core.errors.status_for`)."""
    return _STATUS_BY_CODE.get(error.code) or status_for(error)


def _limit(name: str, default: int) -> int:
    return int(current_app.config.get(name) or default)


def max_upload_bytes() -> int:
    """``CREDFOLIO_MAX_UPLOAD_BYTES`` (default 100 MB)."""
    return _limit("CREDFOLIO_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)


def user_quota_bytes() -> int:
    """``CREDFOLIO_USER_QUOTA_BYTES`` (default 1 GB)."""
    return _limit("CREDFOLIO_USER_QUOTA_BYTES", DEFAULT_USER_QUOTA_BYTES)


#: Queries of the blobs a user's content keeps alive, one per kind of content (evidence
#: artefacts, ...): each feature that keeps uploaded files registers its own with
#: :func:`counts_towards_quota`, so that this module needs to know none of them.
_QUOTA_SOURCES: list[Callable[[User], Select[Any]]] = []


def counts_towards_quota(source: Callable[[User], Select[Any]]) -> Callable[[User], Select[Any]]:
    """Register ``source(owner)``: a ``SELECT`` of blob SHA-256s that count towards the owner's
    storage quota.  Usable as a decorator; registering the same function twice counts it once."""
    if source not in _QUOTA_SOURCES:
        _QUOTA_SOURCES.append(source)
    return source


def _user_blob_shas(owner: User) -> Select[Any]:
    """The distinct blobs that count towards ``owner``'s quota (every registered source)."""
    queries = [source(owner) for source in _QUOTA_SOURCES]
    if not queries:
        return select(Blob.sha256).where(false())
    found = union(*queries).subquery()
    return select(found.c[0]).distinct()


def used_bytes(owner: User) -> int:
    """The sum of the sizes of the distinct blobs the user's content keeps alive (see
    :func:`counts_towards_quota`; thumbnails, which the service makes, are not counted)."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(Blob.size), 0)).where(Blob.sha256.in_(_user_blob_shas(owner)))
    )
    return int(total or 0)


def _spool(upload: FileStorage, limit: int) -> tuple[IO[bytes], str, int]:
    """Copy the upload into an anonymous temporary file in chunks, hashing as it goes and
    stopping as soon as it passes ``limit``: a huge upload never sits in memory or on disk
    whole.  Returns ``(file, sha256, size)``; raises ``UploadError``."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115  (returned open; the caller closes it)
    digest = hashlib.sha256()
    size = 0
    try:
        while chunk := upload.stream.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise UploadError(
                    "too-large",
                    _l("This file is larger than the limit of %(size)s.", size=_megabytes(limit)),
                )
            digest.update(chunk)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, digest.hexdigest(), size


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _allowed(kind: media.Kind, allowed: frozenset[str] | None) -> bool:
    if allowed is None:
        return True
    return kind.media_type in allowed or kind.category in allowed


def _validate_content(kind: media.Kind, spool: IO[bytes]) -> bytes | None:
    """Deeper checks of images and PDFs, before anything is stored; returns a PDF's thumbnail,
    drawn while it was checked (in a child process with memory and time limits: see
    ``media.inspect_pdf``)."""
    if kind.category == "image":
        max_pixels = int(current_app.config.get("CREDFOLIO_MAX_IMAGE_PIXELS") or 0)
        media.check_image(spool, max_pixels=max_pixels or media.MAX_IMAGE_PIXELS)
    elif kind is media.PDF:
        return media.inspect_pdf(spool).thumbnail
    return None


def store_content(spool: IO[bytes], sha256: str, size: int, media_type: str) -> Blob:
    """The ``Blob`` for checked content: the existing row for a duplicate (the bytes are stored
    once), else a new one; the bytes are written to storage only now, after every check."""
    backend = storage()
    if not backend.exists(sha256):
        spool.seek(0)
        backend.put_stream(sha256, spool)
    return ensure_blob(sha256, size, media_type)


def ensure_blob(sha256: str, size: int, media_type: str) -> Blob:
    """The ``Blob`` row for ``sha256``, inserted if missing.

    Two first uploads of the same content at once both find no row; the insert runs in a
    savepoint, so the one that loses the race reuses the winner's row instead of failing.
    """
    blob = db.session.get(Blob, sha256)
    if blob is not None:
        return blob
    try:
        with db.session.begin_nested():
            blob = Blob(sha256=sha256, size=size, media_type=media_type)
            db.session.add(blob)
    except IntegrityError:
        blob = db.session.get(Blob, sha256)
        if blob is None:
            raise
    return blob


def checked_upload(
    upload: FileStorage, *, owner: User, allowed: frozenset[str] | None
) -> tuple[IO[bytes], str, int, media.Kind, str, bytes | None]:
    """Spool and check an upload; returns ``(spool, sha256, size, kind, display name, a PDF's
    thumbnail)``, the spool open at its start.  Nothing is stored.  Raises ``UploadError``."""
    if upload is None or upload.stream is None:
        raise UploadError("no-file", _l("Choose a file to upload."))
    name = media.safe_filename(upload.filename)
    spool, sha256, size = _spool(upload, max_upload_bytes())
    try:
        if size == 0:
            raise UploadError("empty", _l("“%(name)s” is empty.", name=name))
        try:
            kind = media.classify(spool, name)
        except media.MediaError as error:
            raise UploadError(error.code, in_reader_language(error.message)) from None
        if not _allowed(kind, allowed):
            raise UploadError(
                "not-allowed-here",
                _l(
                    "“%(name)s” is %(label)s, not allowed here.",
                    name=name,
                    label=in_reader_language(kind.label),
                ),
            )
        if sha256 not in set(db.session.scalars(_user_blob_shas(owner))):
            used = used_bytes(owner)
            if used + size > user_quota_bytes():
                raise UploadError(
                    "quota-exceeded",
                    _l(
                        "“%(name)s” (%(size)s) does not fit in your storage: you use %(used)s "
                        "of %(quota)s.",
                        name=name,
                        size=_megabytes(size),
                        used=_megabytes(used),
                        quota=_megabytes(user_quota_bytes()),
                    ),
                )
        try:
            drawn = _validate_content(kind, spool)
        except media.MediaError as error:
            raise UploadError(
                error.code,
                _l("“%(name)s”: %(problem)s", name=name, problem=in_reader_language(error.message)),
            ) from None
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, sha256, size, kind, name, drawn


def store_blob(upload: FileStorage, *, owner: User, allowed: frozenset[str] | None = None) -> Blob:
    """Check an upload and store it content-addressed; returns its ``Blob`` (the existing one
    for content already stored).  ``allowed`` narrows the types: media types (e.g.
    ``media.IMAGE_TYPES``) or categories (``image``, ``audio``, ``video``, ``document``).

    Adds to ``db.session`` without committing.  Raises ``UploadError``; then nothing was added
    and no bytes were stored.
    """
    spool, sha256, size, kind, _, _ = checked_upload(upload, owner=owner, allowed=allowed)
    with spool:
        return store_content(spool, sha256, size, kind.media_type)


def check_link(url: str) -> str:
    """An external link as stored: ``http``/``https`` with a host, no credentials, no character
    a URI may not carry unescaped, at most 2048 characters.  Raises ``UploadError``
    (``bad-url``)."""
    url = (url or "").strip()
    # Only web links: javascript:, data: and file: URLs could run script or reach local files
    # when someone clicks them on a portfolio page.  Blanks, controls and the characters
    # RFC 3986 never allows unescaped (<>"{}|\^`) are refused too: such a link could not be
    # signed into a credential (credentials.build refuses it, so endorsing the evidence or the
    # competency it is part of would fail), and a quote never reaches an attribute.
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in {"http", "https"}
        or not host
        or parts.username is not None
        or len(url) > 2048
        or re.search(r"[\x00-\x20\x7f<>\"{}|\\^`]", url)
        or not is_absolute_iri(url)  # RFC 3987 (a stray "%", "[" in a path): not signable
    ):
        raise UploadError("bad-url", _l("Enter a web address starting with https:// or http://."))
    return url


# -- Serving -------------------------------------------------------------------------------


def _disposition(kind: str, filename: str | None) -> str:
    if not filename:
        return kind
    name = media.safe_filename(filename)
    ascii_name = name.encode("ascii", "replace").decode("ascii").replace("?", "_")
    # No "%" either: some user agents percent-decode the plain parameter (RFC 6266 appendix D),
    # which would turn "%0d%0a" back into a line break.
    ascii_name = ascii_name.replace("\\", "_").replace('"', "_").replace("%", "_")
    # RFC 6266: a plain ASCII fallback, and the exact name in RFC 8187 encoding.
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


#: Byte positions beyond any stored file: longer numbers in a Range header mean "past the end"
#: (a 5,000-digit one is more than ``int()`` will convert).
_FAR_PAST_THE_END = 10**18


def _position(digits: str) -> int:
    """A byte position or length from a Range header's ASCII digits, capped far past any file."""
    return whole_number(digits, at_most=_FAR_PAST_THE_END) or (
        0 if not digits.strip("0") else _FAR_PAST_THE_END
    )


def _parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """A single ``bytes`` range as ``(first, last)`` (RFC 9110 §14.1.2); ``None`` when the header
    is to be ignored (another unit, several ranges, bad syntax); ``"unsatisfiable"``."""
    # DIGIT is ASCII (RFC 9110 §14.1.1); \d alone would take any Unicode digit.
    match = re.fullmatch(r"\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*", header, re.ASCII)
    if not match or (not match[1] and not match[2]):
        return None
    if not match[1]:  # suffix range: the last N bytes
        length = _position(match[2])
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    first = _position(match[1])
    last = _position(match[2]) if match[2] else size - 1
    if match[2] and last < first:
        return None  # invalid: RFC 9110 says ignore the header
    if first >= size:
        return "unsatisfiable"
    return first, min(last, size - 1)


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    # Weak comparison (RFC 9110 §13.1.2): W/ prefixes are ignored.
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return etag in tags


def send_blob(blob: Blob, *, filename: str | None, inline: bool) -> Response:
    """The blob as an HTTP response for the current request: its stored type, security headers
    (``nosniff``, a sandboxing Content-Security-Policy), a ``Content-Disposition`` (attachment for
    anything but images, audio, video and — when ``inline`` is asked — PDFs), ETag = SHA-256
    with conditional GET (304), and single byte ranges (206, 416).  Aborts with 404 when the
    bytes are missing from storage.
    """
    backend = storage()
    etag = f'"{blob.sha256}"'
    size = blob.size
    headers = _blob_headers(blob, etag, filename=filename, inline=inline)

    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and _etag_matches(if_none_match, etag):
        response = Response(status=304)
        for name in ("ETag", "Cache-Control", "Content-Security-Policy", "X-Content-Type-Options"):
            response.headers[name] = headers[name]
        return response

    byte_range = _requested_range(etag, size)
    if byte_range == "unsatisfiable":
        response = Response(status=416)
        response.headers.update(headers)
        response.headers["Content-Range"] = f"bytes */{size}"
        return response
    if isinstance(byte_range, tuple):
        first, last = byte_range
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    else:
        first, last, status = 0, size - 1, 200

    def chunks() -> Iterator[bytes]:
        position = first
        while position <= last:
            end = min(position + _CHUNK - 1, last)
            yield backend.read_range(blob.sha256, position, end)
            position = end + 1

    if not backend.exists(blob.sha256):
        # A row without its bytes (storage restored from an older backup, say): not found,
        # rather than a half-sent response.
        current_app.logger.error("blob %s is missing from storage", blob.sha256)
        abort(404)
    response = Response(chunks(), status=status, direct_passthrough=True)
    response.headers.update(headers)
    response.headers["Content-Length"] = str(last - first + 1)
    return response


def _blob_headers(blob: Blob, etag: str, *, filename: str | None, inline: bool) -> dict[str, str]:
    """The type, security, disposition and caching headers of every response for the blob."""
    media_type = blob.media_type
    base = media_type.split(";")[0].strip().lower()
    # Anything that might run script (HTML, SVG, XML, JavaScript, unknown types) is always an
    # attachment; images, audio and video play in the page when asked; PDFs only when asked.
    show_inline = inline and (base in _INLINE_TYPES or base == "application/pdf")
    headers = {
        "Content-Type": media_type
        if base.startswith("text/") or base in media.ALLOWED_TYPES
        else "application/octet-stream",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Content-Disposition": _disposition("inline" if show_inline else "attachment", filename),
        "Accept-Ranges": "bytes",
        "ETag": etag,
        # Private evidence: no shared caches; browsers revalidate (a cheap 304) so a withdrawn
        # permission takes effect.
        "Cache-Control": "private, no-cache",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Referrer-Policy": "no-referrer",
    }
    if base.startswith("text/") and "charset" not in media_type:
        headers["Content-Type"] = f"{media_type}; charset=utf-8"
    if base in {"text/html", "image/svg+xml", "application/xhtml+xml"} or base.endswith("+xml"):
        headers["Content-Type"] = "application/octet-stream"
    return headers


def _requested_range(etag: str, size: int) -> tuple[int, int] | str | None:
    """The current request's byte range, as :func:`_parse_range` gives it; None when there is
    none, or an If-Range no longer matches the content."""
    range_header = request.headers.get("Range")
    if range_header is None or request.method not in {"GET", "HEAD"}:
        return None
    if_range = request.headers.get("If-Range")
    # If-Range with a strong ETag: send the range only if the content is still the same.
    if if_range is None or if_range.strip() == etag:
        return _parse_range(range_header, size)
    return None
