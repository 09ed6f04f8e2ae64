"""What an uploaded file really is (from its bytes, never its name), image and PDF checks,
thumbnails and audio durations.  Pure: no Flask, no database.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import subprocess
import sys
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage


class Text(str):
    """An English message that remembers its message id and values, so that the web app can
    say it in the reader's language (:func:`portfolio.files.uploads.in_reader_language`): this
    module stays pure, without Flask or gettext."""

    msgid: str
    variables: dict[str, Any]

    def __new__(cls, msgid: str, **variables: Any) -> Text:
        text = super().__new__(cls, msgid % variables if variables else msgid)
        text.msgid = msgid
        text.variables = variables
        return text


def _l(msgid: str, **variables: Any) -> Text:
    """Mark a message for the catalogues (``scripts/translations extract`` reads ``_l``)."""
    return Text(msgid, **variables)


THUMBNAIL_SIZE = 400
#: Limits of the child process that opens PDFs and draws their first page (:func:`inspect_pdf`).
PDF_MEMORY_BYTES = 512 * 1024 * 1024
PDF_SECONDS = 20
_TOO_COMPLEX = _l(
    "This PDF needs too much memory or time to open (it may be a decompression bomb). Try "
    "saving it again, or splitting it."
)
_DAMAGED = _l("This PDF is damaged or password-protected and cannot be read.")
_NO_PAGES = _l("This PDF has no pages.")
_NOT_DRAWN = _l("This PDF's first page cannot be drawn.")
#: The messages the PDF child process may write back, by their English text.
_CHILD_MESSAGES = {str(text): text for text in (_DAMAGED, _NO_PAGES, _NOT_DRAWN)}
_CHILD_DAMAGED = 3
_LIMITS = "CREDFOLIO_PDF_CHILD_LIMITS"
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)
#: Images larger than this many pixels are refused (decompression bombs); Pillow's own default.
MAX_IMAGE_PIXELS = 89_478_485
_CHUNK = 1024 * 1024
#: The only Pillow decoders ever run on uploads (the allowed image types): Pillow would otherwise
#: try each of its dozens of plugins on content the one for its magic bytes refused.
_PILLOW_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")


class MediaError(Exception):
    """The content is not an allowed, readable file; ``code`` is stable, ``message`` readable.

    Not one of :mod:`portfolio.core.errors`' kinds on purpose: this module stays pure (it runs
    as the PDF child process, where importing Flask and SQLAlchemy would only cost memory and
    time); :class:`portfolio.files.uploads.UploadError` carries its code and message to pages."""

    def __init__(self, code: str, message: str | Text) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Kind:
    """An allowed type: its media type, a readable label and the file extensions it may have."""

    media_type: str
    label: Text
    extensions: frozenset[str]

    @property
    def category(self) -> str:
        """``image``, ``audio``, ``video`` or ``document``."""
        major = self.media_type.split("/")[0]
        return major if major in {"image", "audio", "video"} else "document"


def _kind(media_type: str, label: Text, *extensions: str) -> Kind:
    return Kind(media_type, label, frozenset(extensions))


MP3 = _kind("audio/mpeg", _l("an MP3 audio file"), "mp3")
OGG = _kind("audio/ogg", _l("an Ogg audio file"), "ogg", "oga", "opus")
WAV = _kind("audio/wav", _l("a WAV audio file"), "wav", "wave")
M4A = _kind("audio/mp4", _l("an M4A audio file"), "m4a", "mp4", "m4b")
MP4 = _kind("video/mp4", _l("an MP4 video"), "mp4", "m4v", "m4a")
WEBM = _kind("video/webm", _l("a WebM video"), "webm", "weba")
PNG = _kind("image/png", _l("a PNG image"), "png")
JPEG = _kind("image/jpeg", _l("a JPEG image"), "jpg", "jpeg", "jpe", "jfif")
WEBP = _kind("image/webp", _l("a WebP image"), "webp")
GIF = _kind("image/gif", _l("a GIF image"), "gif")
PDF = _kind("application/pdf", _l("a PDF document"), "pdf")
TEXT = _kind("text/plain", _l("a text file"), "txt", "text")
MARKDOWN = _kind("text/markdown", _l("a Markdown text"), "md", "markdown")

ALLOWED_KINDS = (MP3, OGG, WAV, M4A, MP4, WEBM, PNG, JPEG, WEBP, GIF, PDF, TEXT, MARKDOWN)
IMAGE_TYPES = frozenset(k.media_type for k in ALLOWED_KINDS if k.category == "image")
AUDIO_TYPES = frozenset(k.media_type for k in ALLOWED_KINDS if k.category == "audio")
VIDEO_TYPES = frozenset(k.media_type for k in ALLOWED_KINDS if k.category == "video")
DOCUMENT_TYPES = frozenset(k.media_type for k in ALLOWED_KINDS if k.category == "document")
ALLOWED_TYPES = IMAGE_TYPES | AUDIO_TYPES | VIDEO_TYPES | DOCUMENT_TYPES

#: Extensions of types that are never allowed, so that ``notes.html`` holding text is refused as
#: a contradiction instead of being kept under a name that suggests a web page.
_FOREIGN_EXTENSIONS = frozenset({
    "html", "htm", "xhtml", "shtml", "svg", "svgz", "xml", "xsl", "js", "mjs", "css", "exe",
    "dll", "bat", "cmd", "com", "sh", "ps1", "vbs", "jar", "apk", "zip", "gz", "tgz", "7z", "rar",
    "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "rtf", "swf", "php", "py", "rb", "pl",
    "heic", "avif", "tif", "tiff", "bmp", "ico", "mkv", "mov", "avi", "flac", "aac", "vtt",
    "json", "csv",
})  # fmt: skip
_KNOWN_EXTENSIONS = frozenset().union(*(k.extensions for k in ALLOWED_KINDS)) | _FOREIGN_EXTENSIONS

_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_VIDEO_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
    b"M4VH", b"M4VP", b"dash", b"mmp4", b"MSNV", b"f4v ", b"av01",
}  # fmt: skip
_FTYP_OTHERS: dict[bytes, Text] = {
    b"heic": _l("a HEIC image"), b"heix": _l("a HEIC image"), b"mif1": _l("a HEIF image"),
    b"msf1": _l("a HEIF image"), b"avif": _l("an AVIF image"), b"avis": _l("an AVIF image"),
    b"qt  ": _l("a QuickTime movie (.mov)"), b"3gp4": _l("a 3GP video"), b"3gp5": _l("a 3GP video"),
    b"crx ": _l("a Canon raw photo"),
}  # fmt: skip
_CONTAINERS = (
    (b"PK\x03\x04", _l("a ZIP archive (or a file built on one, such as an Office document)")),
    (b"MZ", _l("a Windows program")),
    (b"\x7fELF", _l("a Linux program")),
    (b"#!", _l("a script")),
)
# Script-capable markup: refused even when it is valid text (a browser could run it).  A UTF-8
# byte order mark in front changes nothing for a browser, so it changes nothing here either.
_MARKUP = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(<\?xml|<!doctype|<html|<svg|<script|<head|<body|<iframe)",
    re.IGNORECASE,
)


def extension(filename: str | None) -> str:
    """The lower-cased extension of a file name, without the dot (``""`` if none)."""
    if not filename or "." not in filename.strip("."):
        return ""
    return filename.rsplit(".", 1)[1].lower()


def safe_filename(filename: str | None, *, max_length: int = 200) -> str:
    """A display name safe to show and to put in a header: no directories, no control or
    formatting characters, no leading dots, at most ``max_length`` characters (keeping the
    extension).  Never used as a storage path.  ``"upload"`` when nothing is left.
    """
    name = unicodedata.normalize("NFC", filename or "")
    # Both separators: a name from Windows ("C:\\Users\\..\\x.png") or a hostile "../../x".
    name = re.split(r"[\\/]", name)[-1]
    # Control characters (Cc) and formatting ones (Cf) such as U+202E RIGHT-TO-LEFT OVERRIDE,
    # which can make "gpj.exe" display as "exe.jpg", are dropped.
    name = re.sub(r"[^\S\x1c-\x1f]+", " ", name)  # whitespace, but not the C0 separators
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cc", "Cf", "Zl", "Zp"})
    name = name.strip().lstrip(".").strip()
    name = name.replace('"', "'")
    if len(name) > max_length:
        ext = extension(name)
        keep = f".{ext}" if ext and len(ext) <= 10 else ""
        name = name[: max_length - len(keep)].rstrip() + keep
    return name or "upload"


def _describe_unknown(head: bytes) -> Text:
    """A readable name for content that is not an allowed type (puremagic's best guess)."""
    if not head:
        return _l("an empty file")
    if _MARKUP.match(head):
        lowered = head[:512].lower()
        if b"<svg" in lowered:
            return _l("an SVG image")
        if b"<html" in lowered or b"<!doctype html" in lowered:
            return _l("an HTML page")
        return _l("an XML document")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _l("UTF-16 text (text must be saved as UTF-8)")
    # Common containers first: puremagic would guess one of the formats built on them.
    for magic, label in _CONTAINERS:
        if head.startswith(magic):
            return label
    import puremagic

    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        matches = []
    for match in matches:
        name = str(match.name or "").strip()
        if name:
            if match.extension:
                return _l(
                    "a file of type “%(name)s” (.%(ext)s)",
                    name=name,
                    ext=match.extension.lstrip("."),
                )
            return _l("a file of type “%(name)s”", name=name)
    return _l("a file of unknown type")


def _is_text(stream: IO[bytes]) -> bool:
    """Whether the whole stream is UTF-8 text without NULs or other control characters."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    stream.seek(0)
    try:
        while chunk := stream.read(_CHUNK):
            text = decoder.decode(chunk)
            # Tab, line feed, form feed and carriage return are text; NUL and the other C0
            # controls (and DEL) mean binary content dressed up as text.
            if re.search(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", text):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


# Bit rates (kbit/s) by bit-rate index, for MPEG-1 and for MPEG-2/2.5, per layer (ISO/IEC
# 11172-3 §2.4.2.3, 13818-3 §2.4.2.3); sampling rates (Hz) by version.
_MPEG_BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}  # fmt: skip
_MPEG_SAMPLE_RATES = {0b11: (44100, 48000, 32000), 0b10: (22050, 24000, 16000),
                      0b00: (11025, 12000, 8000)}  # fmt: skip


def _mpeg_frame(header: bytes) -> tuple[int, int, int] | None:
    """``(version bits, layer, frame length in bytes)`` of an MPEG audio frame header (length 0
    for the rare "free format"), or ``None`` when the four bytes are not one: 11 sync bits, no
    reserved version, layer (00 is ADTS AAC, not an allowed type), bit rate or sampling rate."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = (header[1] >> 3) & 0b11
    layer = 4 - ((header[1] >> 1) & 0b11)  # 11 → Layer I, 10 → II, 01 → III
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 0b11
    if version == 0b01 or layer == 4 or bitrate_index == 0b1111 or rate_index == 0b11:
        return None
    bitrate = _MPEG_BITRATES[(version == 0b11, layer)][bitrate_index] * 1000
    rate = _MPEG_SAMPLE_RATES[version][rate_index]
    padding = (header[2] >> 1) & 1
    if layer == 1:
        length = (12 * bitrate // rate + padding) * 4
    elif layer == 3 and version != 0b11:
        length = 72 * bitrate // rate + padding
    else:
        length = 144 * bitrate // rate + padding
    return version, layer, length


def _is_mpeg_audio(head: bytes) -> bool:
    """Whether ``head`` starts with an MPEG audio frame, followed by another one of the same
    version and layer where the first one ends (when the head reaches that far).

    The second header matters: ``FF FE`` is both an MPEG sync word and the UTF-16 byte order
    mark, so text or markup in UTF-16 would otherwise pass for an MP3 (a polyglot).
    """
    first = _mpeg_frame(head[:4])
    if first is None:
        return False
    version, layer, length = first
    if length == 0 or length + 4 > len(head):
        return True  # free format, or a single (short) frame: nothing more to compare
    second = _mpeg_frame(head[length : length + 4])
    return second is not None and second[:2] == (version, layer)


def sniff(stream: IO[bytes]) -> tuple[Kind | None, Text]:
    """What the content is, from its magic bytes: ``(kind, label)``, kind ``None`` when it is not
    an allowed type (the label then says what it seems to be).  Text is told apart from binary by
    reading the whole stream; Markdown and plain text cannot be told apart and come back as
    :data:`TEXT`.
    """
    stream.seek(0)
    head = stream.read(4096)
    if head.startswith(b"%PDF-"):
        return PDF, PDF.label
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG, PNG.label
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG, JPEG.label
    if head[:6] in {b"GIF87a", b"GIF89a"}:
        return GIF, GIF.label
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP, WEBP.label
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV, WAV.label
    if head[:4] == b"OggS":
        return OGG, OGG.label
    if head[:4] == b"\x1a\x45\xdf\xa3":
        if b"webm" in head[:64]:
            return WEBM, WEBM.label
        return None, _l("a Matroska video (.mkv)")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AUDIO_BRANDS:
            return M4A, M4A.label
        if brand in _VIDEO_BRANDS:
            return MP4, MP4.label
        return None, _FTYP_OTHERS.get(brand, _l("an MP4-family file of an unsupported kind"))
    if head.startswith(b"ID3"):
        return MP3, MP3.label
    if _is_mpeg_audio(head):
        return MP3, MP3.label
    if head and not _MARKUP.match(head) and _is_text(stream):
        return TEXT, TEXT.label
    return None, _describe_unknown(head)


def classify(stream: IO[bytes], filename: str) -> Kind:
    """The allowed kind of an upload, checked against its name's extension.

    Raises ``MediaError`` (``type-not-allowed``) when the content is not an allowed type, and
    (``type-mismatch``) when the name claims another type than the content has.
    """
    kind, label = sniff(stream)
    if kind is None:
        raise MediaError(
            "type-not-allowed",
            _l(
                "“%(name)s” is %(label)s, which cannot be uploaded. Allowed: audio (MP3, Ogg, "
                "WAV, M4A), video (MP4, WebM), images (PNG, JPEG, WebP, GIF) and documents (PDF, "
                "text, Markdown).",
                name=filename,
                label=label,
            ),
        )
    ext = extension(filename)
    if kind is TEXT and ext in MARKDOWN.extensions:
        return MARKDOWN
    if kind is M4A and ext in {"mp4", "m4v"}:
        return MP4
    if kind is MP4 and ext in {"m4a", "m4b"}:
        # An audio-only MP4 written with a generic brand (isom, mp42): the name decides.
        return M4A
    if ext in _KNOWN_EXTENSIONS and ext not in kind.extensions:
        raise MediaError(
            "type-mismatch",
            _l(
                "“%(name)s” is named like a .%(ext)s file but it is really %(label)s. Rename it "
                "or upload the right file.",
                name=filename,
                ext=ext,
                label=label,
            ),
        )
    return kind


def check_image(data: bytes | IO[bytes], *, max_pixels: int = MAX_IMAGE_PIXELS) -> tuple[int, int]:
    """The image's ``(width, height)`` after checking that it is not a decompression bomb and
    that its structure is sound.  Raises ``MediaError`` (``image-too-large``, ``damaged-image``).
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow warns between MAX_IMAGE_PIXELS and twice that, and raises above: make both
            # an error, and check our own limit from the header before any pixel is decoded.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(_file(data), formats=_PILLOW_FORMATS) as image:
                width, height = image.size
                if width * height > max_pixels:
                    most = f"{max_pixels:,}"
                    raise MediaError(
                        "image-too-large",
                        _l(
                            "This image claims %(width)s×%(height)s pixels, more than we accept "
                            "(%(most)s pixels). It may be a decompression bomb.",
                            width=width,
                            height=height,
                            most=most,
                        ),
                    )
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaError(
            "image-too-large",
            _l("This image has too many pixels to open safely (a possible decompression bomb)."),
        ) from None
    except MediaError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise MediaError("damaged-image", _l("This image is damaged and cannot be read.")) from None
    return width, height


def _file(data: bytes | IO[bytes]) -> IO[bytes]:
    """A binary file at its start: large uploads are read from their spool file, not memory."""
    if isinstance(data, bytes | bytearray):
        return io.BytesIO(data)
    data.seek(0)
    return data


def _png(image: PILImage) -> bytes:
    if image.mode not in {"RGB", "RGBA", "L", "LA"}:
        image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
    output = io.BytesIO()
    image.save(output, format="PNG", optimize=True)
    return output.getvalue()


def image_thumbnail(data: bytes | IO[bytes], *, size: int = THUMBNAIL_SIZE) -> bytes:
    """A PNG at most ``size`` pixels on each side (the first frame of an animation).  The image
    must have passed :func:`check_image`.  Raises ``MediaError`` (``damaged-image``)."""
    from PIL import Image, ImageOps

    try:
        with Image.open(_file(data), formats=_PILLOW_FORMATS) as image:
            image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale
            image.seek(0)
            frame = ImageOps.exif_transpose(image)
            frame.thumbnail((size, size))
            return _png(frame)
    except Image.DecompressionBombError:
        # Defence in depth: check_image refuses these first.
        raise MediaError(
            "image-too-large",
            _l("This image has too many pixels to open safely (a possible decompression bomb)."),
        ) from None
    except (OSError, SyntaxError, ValueError):
        raise MediaError("damaged-image", _l("This image is damaged and cannot be read.")) from None


@dataclass(frozen=True)
class PdfInfo:
    """What :func:`inspect_pdf` found: the page count and a PNG of the first page (``None``
    when that page cannot be drawn)."""

    pages: int
    thumbnail: bytes | None


def inspect_pdf(
    data: bytes | IO[bytes],
    *,
    size: int = THUMBNAIL_SIZE,
    memory_bytes: int | None = None,
    seconds: int | None = None,
) -> PdfInfo:
    """Open the PDF, count its pages and draw its first page (at most ``size`` pixels a side),
    in a child process that may use at most ``memory_bytes`` of memory and ``seconds`` of time
    (:data:`PDF_MEMORY_BYTES` and :data:`PDF_SECONDS` unless given).

    Security: pdfium inflates object streams to find the pages and content streams and images
    to draw them, and a PDF of a few hundred kilobytes can inflate to gigabytes (pdfium then
    aborts its process).  In a child process such a PDF costs the child, never the web worker.

    Raises ``MediaError``: ``damaged-pdf`` (cannot be opened — damaged or password-protected —
    or has no pages), ``pdf-too-complex`` (the child hit a limit).
    """
    memory_bytes = memory_bytes or PDF_MEMORY_BYTES
    seconds = seconds or PDF_SECONDS
    source = _file(data)
    feed: dict[str, Any]
    try:
        feed = {"stdin": source.fileno()}  # a spooled upload: the child reads the file itself
    except (OSError, ValueError):  # in memory (io.BytesIO): sent through a pipe
        feed = {"input": source.read()}
    try:
        done = subprocess.run(  # noqa: S603  (this interpreter, our module, fixed arguments)
            [sys.executable, "-m", "portfolio.files.media", "inspect-pdf", str(size)],
            **feed,
            capture_output=True,
            timeout=seconds + 5,
            cwd=_PACKAGE_PARENT,
            # Not a setting: an internal variable handed to our own child process (which has no
            # app), on top of the environment it inherits anyway.
            env={**os.environ, _LIMITS: f"{memory_bytes} {seconds}"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise MediaError("pdf-too-complex", _TOO_COMPLEX) from None
    output = bytes(done.stdout)
    if done.returncode == 0 and len(output) >= 4:
        return PdfInfo(int.from_bytes(output[:4], "big"), output[4:] or None)
    if done.returncode == _CHILD_DAMAGED:
        text = output.decode("utf-8", "replace")
        raise MediaError("damaged-pdf", _CHILD_MESSAGES.get(text, text or _DAMAGED))
    # Killed (out of memory: pdfium aborts; out of CPU time: SIGXCPU) or failed otherwise.
    raise MediaError("pdf-too-complex", _TOO_COMPLEX)


def check_pdf(data: bytes | IO[bytes]) -> int:
    """The PDF's page count (see :func:`inspect_pdf`).  Raises ``MediaError``."""
    return inspect_pdf(data).pages


def pdf_thumbnail(data: bytes | IO[bytes], *, size: int = THUMBNAIL_SIZE) -> bytes:
    """A PNG of the PDF's first page (see :func:`inspect_pdf`).  Raises ``MediaError``."""
    thumbnail = inspect_pdf(data, size=size).thumbnail
    if thumbnail is None:
        raise MediaError("damaged-pdf", _NOT_DRAWN)
    return thumbnail


def _inspect_pdf_here(data: IO[bytes], size: int) -> PdfInfo:
    """:func:`inspect_pdf`'s work, done in the child process.  Raises ``MediaError``."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        raise MediaError("damaged-pdf", _DAMAGED) from None
    try:
        pages = len(document)
        if pages < 1:
            raise MediaError("damaged-pdf", _NO_PAGES)
        try:
            page = document[0]
            width, height = page.get_size()
            # The scale is computed from the page size in points, so a page claiming an
            # enormous size still renders to at most size×size pixels.
            scale = min(size / max(width, height, 1.0), 4.0)
            image = page.render(scale=scale).to_pil()
            image.thumbnail((size, size))
            return PdfInfo(pages, _png(image))
        except pypdfium2.PdfiumError:
            return PdfInfo(pages, None)
    finally:
        document.close()


def audio_duration(stream: IO[bytes]) -> float | None:
    """The length in seconds read from the file's headers and tags (mutagen), or ``None`` when
    it cannot be read."""
    import mutagen

    stream.seek(0)
    try:
        info = mutagen.File(stream)
    except Exception:  # mutagen raises many kinds; a missing duration is fine
        return None
    length = getattr(getattr(info, "info", None), "length", None)
    if not isinstance(length, int | float) or length <= 0:
        return None
    return round(float(length), 3)


def check_webvtt(text: str) -> None:
    """Check that captions are WebVTT (the ``WEBVTT`` signature line, no NULs).  Raises
    ``MediaError`` (``bad-captions``)."""
    body = text.removeprefix("\ufeff")
    if not re.match(r"WEBVTT(?:[ \t][^\n\r]*)?(?:\r\n|\r|\n|$)", body) or "\x00" in body:
        raise MediaError(
            "bad-captions", _l("Captions must be a WebVTT file (its first line is “WEBVTT”).")
        )


def _child(size: int) -> int:
    """``python -m portfolio.files.media inspect-pdf SIZE``, with the limits in the environment: the
    PDF on standard input; on standard output the page count (4 bytes, big-endian) and the
    first page's PNG (exit 0), or why it is damaged (exit 3)."""
    import resource

    # The limits our parent put in this child's environment (see inspect_pdf): no app here.
    memory, seconds = (int(value) for value in os.environ[_LIMITS].split())
    # First of all, before any byte of the PDF is read: the limits.
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
    source = sys.stdin.buffer
    data: IO[bytes] = source if source.seekable() else io.BytesIO(source.read())
    try:
        info = _inspect_pdf_here(data, size)
    except MediaError as error:
        sys.stdout.buffer.write(error.message.encode("utf-8"))
        return _CHILD_DAMAGED
    sys.stdout.buffer.write(info.pages.to_bytes(4, "big") + (info.thumbnail or b""))
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["inspect-pdf"]:
    sys.exit(_child(int(sys.argv[2])))
