"""Name what a submission holds when it is not a credential we can verify.

"Not valid JSON" is true but useless to someone who pasted a VC-JWT or chose a PDF.  When text or
bytes cannot be read as a JSON credential, :func:`describe` says what they are, if we can tell:

* a Compact JWS (RFC 7515 §7.1, three base64url parts) whose header or payload says it secures a
  credential — VC-JWT (VC Data Model 1.1 §6.3.1, ``vc`` claim), VC-JOSE-COSE (``typ``
  ``vc+jwt``/``vc+ld+jwt``) — or a presentation, or an SD-JWT credential (``~``-separated
  disclosures, ``typ`` ``vc+sd-jwt``/``dc+sd-jwt``); any other JWS is "a JSON Web Token";
* a JWE (five parts): an encrypted token;
* a few binary formats by their first bytes (PDF, JPEG, GIF, WebP, ZIP, gzip).

Pure (no Flask); :func:`describe` never raises, and decodes no more of a token than its
header and payload.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from .errors import MalformedInputError

_B64URL = r"[A-Za-z0-9_-]+"
_COMPACT_JWS = re.compile(rf"({_B64URL})\.({_B64URL})\.({_B64URL})?")
_COMPACT_JWE = re.compile(rf"{_B64URL}\.{_B64URL}?\.{_B64URL}\.{_B64URL}\.{_B64URL}")
#: A token's header and payload are read only up to this size (a credential is far smaller).
_MAX_TOKEN_PART = 256 * 1024

_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"\xff\xd8\xff", "a JPEG image (only PNG and SVG images can carry a baked credential)"),
    (b"GIF87a", "a GIF image (only PNG and SVG images can carry a baked credential)"),
    (b"GIF89a", "a GIF image (only PNG and SVG images can carry a baked credential)"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip-compressed file"),
)

JWT_CREDENTIAL = "a JWT-secured credential (VC-JWT)"
SD_JWT_CREDENTIAL = "an SD-JWT credential (selective disclosure)"
JWT_PRESENTATION = "a JWT-secured presentation"
JWT = "a JSON Web Token that is not a credential"
JWE = "an encrypted JSON Web Token (JWE)"


def _json_part(part: str) -> dict[str, Any] | None:
    if len(part) > _MAX_TOKEN_PART:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def describe_token(text: str) -> str | None:
    """What a compact JOSE token holds, or ``None`` when ``text`` is not one."""
    token = text.strip()
    if _COMPACT_JWE.fullmatch(token):
        return JWE
    jws, _, disclosures = token.partition("~")
    match = _COMPACT_JWS.fullmatch(jws)
    if match is None:
        return None
    header = _json_part(match.group(1))
    if header is None or not isinstance(header.get("alg"), str):
        return None  # three dotted words, not a JOSE header
    payload = _json_part(match.group(2)) or {}
    media_type = str(header.get("typ", "")).lower()
    if disclosures or media_type in ("vc+sd-jwt", "dc+sd-jwt"):
        return SD_JWT_CREDENTIAL
    if media_type in ("vp+jwt", "vp+ld+jwt") or "vp" in payload:
        return JWT_PRESENTATION
    if media_type in ("vc+jwt", "vc+ld+jwt") or "vc" in payload:
        return JWT_CREDENTIAL
    if "VerifiableCredential" in json.dumps(payload.get("type", "")):
        return JWT_CREDENTIAL  # VC-JOSE-COSE: the payload is the credential itself
    return JWT


def describe(data: bytes | str) -> str | None:
    """What ``data`` holds when it is not JSON, or ``None`` when we cannot tell."""
    if isinstance(data, bytes | bytearray):
        raw = bytes(data)
        for magic, what in _MAGIC:
            if raw.startswith(magic):
                return what
        if raw.startswith(b"RIFF") and raw[8:12] == b"WEBP":
            return "a WebP image (only PNG and SVG images can carry a baked credential)"
        try:
            data = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return describe_token(data.removeprefix("\ufeff"))


def foreign_format_error(data: bytes | str) -> MalformedInputError | None:
    """The error for a submission that holds something we recognize but cannot verify, naming
    it (code ``UNSUPPORTED_FORMAT``); ``None`` when we cannot tell what it holds."""
    what = describe(data)
    if what is None:
        return None
    return MalformedInputError(
        f"this holds {what}, not a JSON credential: Credfolio verifies credentials secured "
        "with an embedded Data Integrity proof",
        code="UNSUPPORTED_FORMAT",
    )
