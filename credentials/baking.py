"""Open Badges 3.0 baking ("Open Badges Document Formats"): put a credential into a PNG or SVG
image and take it out again.  Hostile files are refused with ``BakingError``.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

import defusedxml
import defusedxml.ElementTree as safe_et

from credentials.errors import BakingError
from credentials.svg_doctype import check_doctype

__all__ = [
    "MAX_CREDENTIAL_BYTES",
    "MAX_IMAGE_BYTES",
    "OB3_NAMESPACE",
    "PNG_KEYWORD",
    "bake",
    "bake_png",
    "bake_svg",
    "png_chunk_types",
    "sniff_image_type",
    "unbake",
    "unbake_png",
    "unbake_svg",
]

#: Largest image we bake or unbake: more than any badge needs, small enough to parse safely.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
#: Cap on a (liberally accepted) compressed iTXt chunk's decompressed text: bomb protection.
MAX_CREDENTIAL_BYTES = 10 * 1024 * 1024

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = b"openbadgecredential"
OB3_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
PNG_MEDIA_TYPE = "image/png"
SVG_MEDIA_TYPE = "image/svg+xml"

Credential = dict[str, Any] | str

# A Compact JWS (RFC 7515 §7.1): three base64url parts.  Used to tell a VC-JWT from JSON.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# Characters JSON may leave raw inside strings but XML 1.0 §2.2 forbids (and lone surrogates,
# which UTF-8 cannot encode): written as JSON \u escapes instead, which mean the same string.
_NOT_XML_CHAR = re.compile("[\ud800-\udfff\ufffe\uffff]")
_XML_DECLARATION = re.compile(rb"<\?xml\s[^?]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


# --------------------------------------------------------------------------------------------
# Credential text
# --------------------------------------------------------------------------------------------


def _credential_text(credential: Credential) -> str:
    """Return the text to bake: compact JSON for an embedded-proof credential, or the Compact
    JWS itself.  Raises ``BakingError`` for anything else."""
    if isinstance(credential, str):
        jws = credential.strip()
        if not _COMPACT_JWS.fullmatch(jws):
            raise BakingError(
                "a credential given as a string must be a Compact JWS (header.payload.signature)"
            )
        return jws
    if not isinstance(credential, dict):
        raise BakingError("the credential must be a JSON object or a Compact JWS string")
    try:
        text = json.dumps(credential, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise BakingError(f"the credential cannot be serialized as JSON: {exc}") from exc
    text = _NOT_XML_CHAR.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    if len(text.encode("utf-8")) > MAX_CREDENTIAL_BYTES:
        raise BakingError(f"the credential is larger than {MAX_CREDENTIAL_BYTES} bytes")
    return text


def _parse_credential_text(text: str) -> Credential:
    """Return the baked credential: a dict for JSON, the string for a Compact JWS.

    Raises ``BakingError`` if the text is neither a JSON object nor a Compact JWS.
    """
    stripped = text.strip()
    if not stripped:
        raise BakingError("the baked credential is empty")
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except (ValueError, RecursionError) as exc:
            raise BakingError("the baked credential is not valid JSON") from exc
        if not isinstance(value, dict):  # pragma: no cover - "{" guarantees an object
            raise BakingError("the baked credential is not a JSON object")
        return value
    if _COMPACT_JWS.fullmatch(stripped):
        return stripped
    raise BakingError("the baked credential is neither a JSON object nor a Compact JWS")


def _check_size(data: bytes) -> None:
    if len(data) > MAX_IMAGE_BYTES:
        raise BakingError(f"the image is larger than {MAX_IMAGE_BYTES} bytes; refusing it")


# --------------------------------------------------------------------------------------------
# PNG (PNG spec 3rd ed. §5 datastream, §11.3.3.4 iTXt)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Chunk:
    type: bytes
    data: bytes
    raw: bytes  # length + type + data + CRC, exactly as read


def _png_chunks(png: bytes) -> list[_Chunk]:
    """Split a PNG into its chunks, checking the signature, every chunk's length and CRC, and
    that IHDR comes first and IEND last.  Raises ``BakingError`` on any defect."""
    if not isinstance(png, bytes | bytearray | memoryview):
        raise BakingError("a PNG image must be given as bytes")
    png = bytes(png)
    _check_size(png)
    if not png.startswith(PNG_SIGNATURE):
        raise BakingError("not a PNG image: the PNG signature is missing")
    chunks: list[_Chunk] = []
    pos = len(PNG_SIGNATURE)
    while pos < len(png):
        if len(png) - pos < 12:
            raise BakingError(f"PNG chunk header at byte {pos} is truncated")
        (length,) = struct.unpack_from(">I", png, pos)
        ctype = png[pos + 4 : pos + 8]
        # §5.3: length is at most 2**31 - 1; chunk types are four ASCII letters.
        if length > 0x7FFFFFFF or pos + 12 + length > len(png):
            raise BakingError(f"PNG chunk at byte {pos} runs past the end of the file")
        if not (ctype.isascii() and ctype.isalpha()):
            raise BakingError(f"PNG chunk at byte {pos} has an invalid type {ctype!r}")
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", png, pos + 8 + length)
        if zlib.crc32(ctype + data) != crc:
            raise BakingError(f"PNG chunk {ctype.decode('ascii')} at byte {pos} has a bad CRC")
        chunks.append(_Chunk(ctype, data, png[pos : pos + 12 + length]))
        pos += 12 + length
        if ctype == b"IEND":
            break
    # §5.6 chunk ordering: IHDR first (13 bytes), IEND last, nothing after it.
    if not chunks or chunks[0].type != b"IHDR" or len(chunks[0].data) != 13:
        raise BakingError("malformed PNG: the first chunk must be a 13-byte IHDR")
    if chunks[-1].type != b"IEND":
        raise BakingError("malformed PNG: the IEND chunk is missing")
    if pos != len(png):
        raise BakingError("malformed PNG: there is data after the IEND chunk")
    if any(c.type == b"IHDR" for c in chunks[1:]):
        raise BakingError("malformed PNG: more than one IHDR chunk")
    if not any(c.type == b"IDAT" for c in chunks):
        raise BakingError("malformed PNG: there is no IDAT chunk")
    return chunks


def _is_credential_chunk(chunk: _Chunk) -> bool:
    return chunk.type == b"iTXt" and chunk.data.startswith(PNG_KEYWORD + b"\x00")


def _itxt_text(data: bytes) -> str:
    """Return the text of an ``openbadgecredential`` iTXt chunk (PNG §11.3.3.4).  Raises
    ``BakingError`` if it is malformed, uses an unknown compression, or inflates too far."""
    rest = data[len(PNG_KEYWORD) + 1 :]
    if len(rest) < 2:
        raise BakingError("the openbadgecredential iTXt chunk is truncated")
    flag, method = rest[0], rest[1]
    parts = rest[2:].split(b"\x00", 2)
    if len(parts) != 3:
        raise BakingError("the openbadgecredential iTXt chunk is malformed")
    text = parts[2]
    if flag == 1 and method == 0:
        # The spec says MUST NOT compress, but reading a compressed chunk is harmless as long
        # as a small chunk cannot inflate into gigabytes.
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(text, MAX_CREDENTIAL_BYTES + 1)
        except zlib.error as exc:
            raise BakingError("the compressed openbadgecredential text is corrupt") from exc
        if len(text) > MAX_CREDENTIAL_BYTES:
            raise BakingError(
                f"the compressed openbadgecredential text inflates past {MAX_CREDENTIAL_BYTES} "
                "bytes; refusing it"
            )
        if not inflater.eof:
            raise BakingError("the compressed openbadgecredential text is truncated")
    elif flag != 0:
        raise BakingError(
            f"the openbadgecredential iTXt chunk uses unknown compression (flag {flag}, "
            f"method {method})"
        )
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BakingError("the openbadgecredential text is not UTF-8") from exc


def _make_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def bake_png(png: bytes, credential: Credential) -> bytes:
    """Return ``png`` with ``credential`` baked into one uncompressed ``openbadgecredential``
    iTXt chunk placed right after IHDR.  Any existing such chunk is replaced (the spec allows
    "error or overwrite"; we overwrite).  Every other chunk is kept byte for byte.

    Raises ``BakingError`` if ``png`` is not a well-formed PNG or the credential is neither a
    JSON object nor a Compact JWS.
    """
    chunks = _png_chunks(png)
    text = _credential_text(credential)
    # Keyword, NUL, compression flag 0, method 0, empty language tag + NUL, empty translated
    # keyword + NUL, then the UTF-8 text ("Open Badges Document Formats", PNG).
    itxt = _make_chunk(b"iTXt", PNG_KEYWORD + b"\x00\x00\x00\x00\x00" + text.encode("utf-8"))
    kept = [c.raw for c in chunks[1:] if not _is_credential_chunk(c)]
    baked = b"".join([PNG_SIGNATURE, chunks[0].raw, itxt, *kept])
    _check_size(baked)
    return baked


def unbake_png(png: bytes) -> Credential:
    """Return the credential in the first ``openbadgecredential`` iTXt chunk: a dict for JSON,
    a string for a Compact JWS.

    Raises ``BakingError`` if ``png`` is not a well-formed PNG, holds no credential, or the
    chunk is malformed.
    """
    for chunk in _png_chunks(png):
        if _is_credential_chunk(chunk):
            return _parse_credential_text(_itxt_text(chunk.data))
    raise BakingError("the PNG image holds no baked credential (no openbadgecredential chunk)")


# --------------------------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------------------------


def _svg_bytes(svg: bytes | str) -> bytes:
    """Return ``svg`` as UTF-8 bytes.  Raises ``BakingError`` for other encodings: we insert
    UTF-8 text at byte offsets, which is only sound in a UTF-8 document."""
    if isinstance(svg, str):
        try:
            svg = svg.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise BakingError("the SVG text is not valid Unicode") from exc
    elif isinstance(svg, bytearray | memoryview):
        svg = bytes(svg)
    if not isinstance(svg, bytes):
        raise BakingError("an SVG image must be given as bytes or str")
    _check_size(svg)
    if svg.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00<", b"<\x00")):
        raise BakingError("only UTF-8 SVG images can be baked (this one is UTF-16)")
    declared = _XML_DECLARATION.match(svg.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        raise BakingError(
            f"only UTF-8 SVG images can be baked (this one declares "
            f"{declared.group(1).decode('ascii')!r})"
        )
    return svg


def _parse_svg(svg: bytes) -> Element:
    """Parse ``svg`` safely and return its root.

    Raises ``BakingError`` for a DTD other than the standard SVG DOCTYPE line (so no entity
    declarations: billion laughs; no external DTD: XXE — see ``svg_doctype``), any entity or
    external reference, for XML that is not well formed, and for a root that is not ``<svg>``.
    """
    check_doctype(svg)
    try:
        root: Element = safe_et.fromstring(
            svg, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DTDForbidden as exc:
        raise BakingError("refusing hostile SVG: it has a DTD (DOCTYPE declaration)") from exc
    except defusedxml.EntitiesForbidden as exc:
        raise BakingError("refusing hostile SVG: it declares XML entities") from exc
    except defusedxml.ExternalReferenceForbidden as exc:
        raise BakingError("refusing hostile SVG: it references an external resource") from exc
    except defusedxml.DefusedXmlException as exc:
        raise BakingError("refusing hostile SVG: forbidden XML construct") from exc
    except (ParseError, ValueError) as exc:
        raise BakingError("not an SVG image: the XML is not well formed") from exc
    if root.tag not in (f"{{{SVG_NAMESPACE}}}svg", "svg"):
        raise BakingError(f"not an SVG image: the root element is {root.tag!r}, not <svg>")
    return root


def _refuse(*_: object) -> None:
    raise BakingError("refusing hostile SVG: entities are not allowed")


def _tag_end(data: bytes, start: int) -> int:
    """Return the index just past the tag that starts at ``data[start] == '<'``.  Only called
    on XML the parser has accepted, where '>' outside quoted attribute values ends a tag."""
    quote = 0
    for i in range(start + 1, len(data)):
        byte = data[i]
        if quote:
            if byte == quote:
                quote = 0
        elif byte in (0x22, 0x27):  # " or '
            quote = byte
        elif byte == 0x3E:  # >
            return i + 1
    raise BakingError("not an SVG image: unterminated tag")  # pragma: no cover - parser-checked


@dataclass(slots=True)
class _SvgLayout:
    """Byte offsets found by a second, offset-reporting parse of an already validated SVG."""

    root_start: int = -1
    root_end: int = -1  # just past the root start tag
    root_self_closing: bool = False
    root_namespaces: dict[str, str] = field(default_factory=dict)
    #: [start, end) of each outermost credential element, in document order.
    credentials: list[tuple[int, int]] = field(default_factory=list)


def _svg_layout(svg: bytes) -> _SvgLayout:
    """Return where the root start tag and the ``openbadges:credential`` elements are."""
    layout = _SvgLayout()
    parser = expat.ParserCreate(namespace_separator=" ")
    # Defence in depth: _parse_svg has already refused every DTD but the standard SVG DOCTYPE
    # line (svg_doctype), and every entity; this parser must never expand or fetch anything
    # either.
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse  # type: ignore[assignment]
    depth = 0
    open_credentials: list[int] = []
    pending_namespaces: dict[str, str] = {}

    def start_ns(prefix: str | None, uri: str) -> None:
        if depth == 0:
            pending_namespaces[prefix or ""] = uri

    def start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal depth
        offset = parser.CurrentByteIndex
        if depth == 0:
            layout.root_start = offset
            layout.root_end = _tag_end(svg, offset)
            layout.root_self_closing = svg[layout.root_end - 2 : layout.root_end] == b"/>"
            layout.root_namespaces = dict(pending_namespaces)
        if name == f"{OB3_NAMESPACE} credential":
            open_credentials.append(offset)
        else:
            open_credentials.append(-1)
        depth += 1

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1
        start_offset = open_credentials.pop()
        if start_offset < 0:
            return
        tag_end = _tag_end(svg, start_offset)
        if svg[tag_end - 2 : tag_end] == b"/>":
            element_end = tag_end
        else:  # the event is reported at the start of the end tag
            element_end = _tag_end(svg, parser.CurrentByteIndex)
        layout.credentials.append((start_offset, element_end))

    parser.StartNamespaceDeclHandler = start_ns
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(svg, True)
    except expat.ExpatError as exc:  # pragma: no cover - _parse_svg has accepted it
        raise BakingError("not an SVG image: the XML is not well formed") from exc
    # End events arrive innermost first; keep only outermost ranges, in document order.
    outermost: list[tuple[int, int]] = []
    for rng in sorted(layout.credentials):
        if not outermost or rng[0] >= outermost[-1][1]:
            outermost.append(rng)
    layout.credentials = outermost
    return layout


def _svg_element(text: str, *, is_jws: bool) -> bytes:
    """Return the ``<openbadges:credential>`` element for ``text``."""
    if is_jws:
        # A Compact JWS is base64url and dots only: nothing to escape in an attribute.
        return f'<openbadges:credential verify="{text}"></openbadges:credential>'.encode()
    # "]]>" can occur inside a JSON string; it would end the CDATA section early.  Split it
    # across two sections: "]]" ends the first, ">" starts the second.
    body = text.replace("]]>", "]]]]><![CDATA[>")
    return f"<openbadges:credential><![CDATA[{body}]]></openbadges:credential>".encode()


def bake_svg(svg: bytes | str, credential: Credential) -> bytes:
    """Return ``svg`` (UTF-8 bytes) with ``credential`` baked in: ``xmlns:openbadges`` on the
    root and one ``<openbadges:credential>`` right after the ``<svg>`` start tag (JSON in
    CDATA, or an empty element with ``verify="<JWS>"``).  Existing credential elements are
    removed; every other byte of the image is kept.

    Raises ``BakingError`` for hostile or malformed XML, a root that is not ``<svg>``, a
    non-UTF-8 document, an ``openbadges`` prefix bound to another namespace, or a credential
    that is neither a JSON object nor a Compact JWS.
    """
    data = _svg_bytes(svg)
    _parse_svg(data)
    text = _credential_text(credential)
    element = _svg_element(text, is_jws=isinstance(credential, str))
    layout = _svg_layout(data)
    bound = layout.root_namespaces.get("openbadges")
    if bound is not None and bound != OB3_NAMESPACE:
        raise BakingError(
            f"the SVG binds the prefix 'openbadges' to {bound!r}, not the Open Badges 3.0 "
            f"namespace {OB3_NAMESPACE!r}"
        )

    # Rebuild the root start tag: add the namespace declaration before its closing ">" / "/>".
    root_tag = data[layout.root_start : layout.root_end]
    close = b"/>" if layout.root_self_closing else b">"
    head = root_tag[: -len(close)]
    stripped_head = head.rstrip(b" \t\r\n")
    if bound is None:
        head = (
            stripped_head
            + f' xmlns:openbadges="{OB3_NAMESPACE}"'.encode()
            + head[len(stripped_head) :]
        )
    if layout.root_self_closing:
        root_name = re.split(rb"[\s/>]", root_tag[1:], maxsplit=1)[0]
        new_root = head + b">" + element + b"</" + root_name + b">"
    else:
        new_root = head + b">" + element

    # Copy the rest, skipping every existing credential element (re-baking overwrites).
    parts = [data[: layout.root_start], new_root]
    pos = layout.root_end
    for start, end in layout.credentials:
        parts.append(data[pos:start])
        pos = end
    parts.append(data[pos:])
    baked = b"".join(parts)
    _check_size(baked)
    return baked


def unbake_svg(svg: bytes | str) -> Credential:
    """Return the credential in the first ``openbadges:credential`` element (matched by
    namespace, whatever its prefix): the ``verify`` attribute's Compact JWS if present,
    otherwise the element's JSON text as a dict.

    Raises ``BakingError`` for hostile or malformed XML, a root that is not ``<svg>``, or no
    baked credential.
    """
    data = _svg_bytes(svg)
    root = _parse_svg(data)
    element = next(root.iter(f"{{{OB3_NAMESPACE}}}credential"), None)
    if element is None:
        raise BakingError("the SVG image holds no baked credential (no openbadges:credential)")
    verify = element.get("verify")
    if verify is not None:
        if not _COMPACT_JWS.fullmatch(verify.strip()):
            raise BakingError("the openbadges:credential verify attribute is not a Compact JWS")
        return verify.strip()
    return _parse_credential_text("".join(element.itertext()))


# --------------------------------------------------------------------------------------------
# Either format
# --------------------------------------------------------------------------------------------


def _looks_like_xml(data: bytes) -> bool:
    return data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith(b"<")


def sniff_image_type(data: bytes) -> Literal["png", "svg"] | None:
    """Return ``"png"`` for the PNG signature, ``"svg"`` for safely parsed XML whose root is
    ``<svg>``, and ``None`` otherwise (including hostile or oversized XML).  Never raises for
    bytes input."""
    if not isinstance(data, bytes | bytearray):
        return None
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if not _looks_like_xml(data):
        return None
    try:
        _parse_svg(_svg_bytes(data))
    except BakingError:
        return None
    return "svg"


def bake(image: bytes, credential: Credential) -> tuple[bytes, str]:
    """Bake ``credential`` into a PNG or SVG ``image``; return the baked bytes and their media
    type (``image/png`` or ``image/svg+xml``).

    Raises ``BakingError`` if the image is neither a PNG nor a (safe, UTF-8) SVG, or as
    ``bake_png`` / ``bake_svg`` do.
    """
    if not isinstance(image, bytes | bytearray):
        raise BakingError("an image must be given as bytes")
    if image.startswith(PNG_SIGNATURE):
        return bake_png(image, credential), PNG_MEDIA_TYPE
    if _looks_like_xml(image):
        return bake_svg(image, credential), SVG_MEDIA_TYPE
    raise BakingError("only PNG and SVG images can be baked")


def unbake(data: bytes) -> Credential:
    """Return the credential baked into a PNG or SVG image (dict for JSON, str for a JWS).

    Raises ``BakingError`` if the data is neither image type, is hostile, or holds no
    credential.
    """
    if not isinstance(data, bytes | bytearray):
        raise BakingError("an image must be given as bytes")
    if data.startswith(PNG_SIGNATURE):
        return unbake_png(data)
    if _looks_like_xml(data):
        return unbake_svg(data)
    raise BakingError("only PNG and SVG images can be unbaked")


def png_chunk_types(png: bytes) -> list[str]:
    """Return the chunk types of a well-formed PNG, in order (for diagnostics and tests).
    Raises ``BakingError`` as ``unbake_png`` does for a malformed PNG."""
    return [chunk.type.decode("ascii") for chunk in _png_chunks(png)]
