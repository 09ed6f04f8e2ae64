"""What an uploaded file really is (from its bytes, never its name), image and PDF checks,
thumbnails and audio durations.  Pure: no Flask, no database.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from typing import IO

THUMBNAIL_SIZE = 400
#: Images larger than this many pixels are refused (decompression bombs); Pillow's own default.
MAX_IMAGE_PIXELS = 89_478_485
_CHUNK = 1024 * 1024


class MediaError(Exception):
    """The content is not an allowed, readable file; ``code`` is stable, ``message`` readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Kind:
    """An allowed type: its media type, a readable label and the file extensions it may have."""

    media_type: str
    label: str
    extensions: frozenset[str]

    @property
    def category(self) -> str:
        """``image``, ``audio``, ``video`` or ``document``."""
        major = self.media_type.split("/")[0]
        return major if major in {"image", "audio", "video"} else "document"


def _kind(media_type: str, label: str, *extensions: str) -> Kind:
    return Kind(media_type, label, frozenset(extensions))


MP3 = _kind("audio/mpeg", "an MP3 audio file", "mp3")
OGG = _kind("audio/ogg", "an Ogg audio file", "ogg", "oga", "opus")
WAV = _kind("audio/wav", "a WAV audio file", "wav", "wave")
M4A = _kind("audio/mp4", "an M4A audio file", "m4a", "mp4", "m4b")
MP4 = _kind("video/mp4", "an MP4 video", "mp4", "m4v", "m4a")
WEBM = _kind("video/webm", "a WebM video", "webm", "weba")
PNG = _kind("image/png", "a PNG image", "png")
JPEG = _kind("image/jpeg", "a JPEG image", "jpg", "jpeg", "jpe", "jfif")
WEBP = _kind("image/webp", "a WebP image", "webp")
GIF = _kind("image/gif", "a GIF image", "gif")
PDF = _kind("application/pdf", "a PDF document", "pdf")
TEXT = _kind("text/plain", "a text file", "txt", "text")
MARKDOWN = _kind("text/markdown", "a Markdown text", "md", "markdown")

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
_FTYP_OTHERS = {
    b"heic": "a HEIC image", b"heix": "a HEIC image", b"mif1": "a HEIF image",
    b"msf1": "a HEIF image", b"avif": "an AVIF image", b"avis": "an AVIF image",
    b"qt  ": "a QuickTime movie (.mov)", b"3gp4": "a 3GP video", b"3gp5": "a 3GP video",
    b"crx ": "a Canon raw photo",
}  # fmt: skip
_CONTAINERS = (
    (b"PK\x03\x04", "a ZIP archive (or a file built on one, such as an Office document)"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"#!", "a script"),
)
# Script-capable markup: refused even when it is valid text (a browser could run it).
_MARKUP = re.compile(
    rb"^\s*(<\?xml|<!doctype\s+html|<html|<svg|<script|<head|<body|<iframe)", re.IGNORECASE
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


def _describe_unknown(head: bytes) -> str:
    """A readable name for content that is not an allowed type (puremagic's best guess)."""
    if not head:
        return "an empty file"
    if _MARKUP.match(head):
        lowered = head[:512].lower()
        if b"<svg" in lowered:
            return "an SVG image"
        if b"<html" in lowered or b"<!doctype html" in lowered:
            return "an HTML page"
        return "an XML document"
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
            ext = f" (.{match.extension.lstrip('.')})" if match.extension else ""
            return f"a file of type “{name}”{ext}"
    return "a file of unknown type"


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


def sniff(stream: IO[bytes]) -> tuple[Kind | None, str]:
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
        return None, "a Matroska video (.mkv)"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AUDIO_BRANDS:
            return M4A, M4A.label
        if brand in _VIDEO_BRANDS:
            return MP4, MP4.label
        return None, _FTYP_OTHERS.get(brand, "an MP4-family file of an unsupported kind")
    if head.startswith(b"ID3"):
        return MP3, MP3.label
    # An MPEG audio frame header: 11 sync bits, a version that is not "reserved" (01) and a
    # layer that is not 00 (00 is ADTS AAC, which is not an allowed type).
    if (
        len(head) >= 2
        and head[0] == 0xFF
        and head[1] & 0xE0 == 0xE0
        and (head[1] >> 3) & 0b11 != 0b01
        and (head[1] >> 1) & 0b11 != 0
    ):
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
            f"“{filename}” is {label}, which cannot be uploaded. Allowed: audio (MP3, Ogg, WAV, "
            "M4A), video (MP4, WebM), images (PNG, JPEG, WebP, GIF) and documents (PDF, text, "
            "Markdown).",
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
            f"“{filename}” is named like a .{ext} file but it is really {label}. Rename it "
            "or upload the right file.",
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
            with Image.open(_file(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise MediaError(
                        "image-too-large",
                        f"This image claims {width}×{height} pixels, more than we accept "
                        f"({max_pixels:,} pixels). It may be a decompression bomb.",
                    )
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaError(
            "image-too-large",
            "This image has too many pixels to open safely (a possible decompression bomb).",
        ) from None
    except MediaError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise MediaError("damaged-image", "This image is damaged and cannot be read.") from None
    return width, height


def check_pdf(data: bytes | IO[bytes]) -> int:
    """The PDF's page count.  Raises ``MediaError`` (``damaged-pdf``) for a PDF that cannot be
    opened (damaged or password-protected) or has no pages."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(_file(data))
    except pypdfium2.PdfiumError:
        raise MediaError(
            "damaged-pdf", "This PDF is damaged or password-protected and cannot be read."
        ) from None
    try:
        pages = len(document)
    finally:
        document.close()
    if pages < 1:
        raise MediaError("damaged-pdf", "This PDF has no pages.")
    return pages


def _file(data: bytes | IO[bytes]) -> IO[bytes]:
    """A binary file at its start: large uploads are read from their spool file, not memory."""
    if isinstance(data, bytes | bytearray):
        return io.BytesIO(data)
    data.seek(0)
    return data


def _png(image: object) -> bytes:
    from PIL import Image

    assert isinstance(image, Image.Image)  # noqa: S101  (narrowing for the type checker)
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
        with Image.open(_file(data)) as image:
            image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale
            image.seek(0)
            frame = ImageOps.exif_transpose(image)
            frame.thumbnail((size, size))
            return _png(frame)
    except (OSError, SyntaxError, ValueError):
        raise MediaError("damaged-image", "This image is damaged and cannot be read.") from None


def pdf_thumbnail(data: bytes | IO[bytes], *, size: int = THUMBNAIL_SIZE) -> bytes:
    """A PNG of the PDF's first page, at most ``size`` pixels on each side.  Raises
    ``MediaError`` (``damaged-pdf``)."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(_file(data))
    except pypdfium2.PdfiumError:
        raise MediaError("damaged-pdf", "This PDF cannot be read.") from None
    try:
        page = document[0]
        width, height = page.get_size()
        # The scale is computed from the page size in points, so a page claiming an enormous
        # size still renders to at most size×size pixels.
        scale = min(size / max(width, height, 1.0), 4.0)
        bitmap = page.render(scale=scale)
        image = bitmap.to_pil()
        image.thumbnail((size, size))
        return _png(image)
    except pypdfium2.PdfiumError:
        raise MediaError("damaged-pdf", "This PDF cannot be read.") from None
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
            "bad-captions", "Captions must be a WebVTT file (its first line is “WEBVTT”)."
        )
