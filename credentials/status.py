"""W3C Bitstring Status List v1.0: the bitstring, its encoding, status entries and list credentials.

Pure functions only: fetching a list credential and checking its proof belong to the verifier.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from credentials.errors import StatusListError

__all__ = [
    "DEFAULT_SIZE",
    "MAX_DECOMPRESSED_BYTES",
    "MAX_ENCODED_CHARS",
    "MIN_SIZE",
    "PARSEABLE_PURPOSES",
    "PURPOSES",
    "StatusEntry",
    "StatusList",
    "build_status_list_credential",
    "parse_status_entry",
    "read_status",
    "status_entry",
]

#: §3.1 step 1: "the minimum bitstring length is 131,072 bits" (16 KB) — the herd-privacy size.
MIN_SIZE = 131_072
DEFAULT_SIZE = MIN_SIZE

#: Decompression-bomb guard for §3.2: a 16 MiB bitstring is 134 million entries, far beyond any
#: list we issue; a few KB of gzip can otherwise expand to gigabytes.
MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024
#: An encoded list longer than this cannot be an honest gzip of at most 16 MiB (deflate expands
#: incompressible data by well under 1 %; base64 adds a third).
MAX_ENCODED_CHARS = (MAX_DECOMPRESSED_BYTES * 4) // 3 + 64 * 1024

#: Purposes our issuer writes (§2.1 statusPurpose).
PURPOSES = frozenset({"revocation", "suspension"})
#: Purposes we accept when reading someone else's entry (§2.1 also defines refresh and message).
PARSEABLE_PURPOSES = PURPOSES | {"refresh", "message"}

ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_SUBJECT_TYPE = "BitstringStatusList"
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"

# Multibase base64url without padding (§2.2 encodedList): the RFC 4648 §5 alphabet only.
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_DECIMAL = re.compile(r"(0|[1-9][0-9]*)")
# Spec error names (§3.3 and "Processing Errors"), used as the StatusListError code.
_MALFORMED = "MALFORMED_VALUE_ERROR"
_LENGTH = "STATUS_LIST_LENGTH_ERROR"
_RANGE = "RANGE_ERROR"
_VERIFICATION = "STATUS_VERIFICATION_ERROR"


def _check_status_size(status_size: object) -> None:
    """Raise ``StatusListError`` unless ``status_size`` is 1, the only size we implement."""
    if status_size != 1 or isinstance(status_size, bool):
        raise StatusListError(
            f"statusSize {status_size!r} is not supported: Credfolio implements only 1-bit "
            "status entries (§2.1 statusSize default)",
            code=_MALFORMED,
        )


class StatusList:
    """A bitstring of status entries, one bit each; index 0 is the most significant bit of
    byte 0 (§3.1: "the left-most bit of the bitstring is at position 0")."""

    __slots__ = ("_bytes",)

    def __init__(self, data: bytes | bytearray) -> None:
        """Wrap an uncompressed bitstring.  Raises ``StatusListError`` if it is shorter than
        ``MIN_SIZE`` bits (STATUS_LIST_LENGTH_ERROR)."""
        if len(data) * 8 < MIN_SIZE:
            raise StatusListError(
                f"status list has {len(data) * 8} entries; the minimum is {MIN_SIZE} (§3.1)",
                code=_LENGTH,
            )
        self._bytes = bytearray(data)

    @classmethod
    def new(cls, size: int = DEFAULT_SIZE, *, status_size: int = 1) -> StatusList:
        """Return an all-zero list of ``size`` entries.

        Raises ``StatusListError`` if ``size`` is below ``MIN_SIZE``, not a multiple of 8 (the
        bitstring is a whole number of bytes), above the decoding cap, or if ``status_size`` is
        not 1.
        """
        _check_status_size(status_size)
        if isinstance(size, bool) or not isinstance(size, int):
            raise StatusListError(f"status list size must be an integer, not {size!r}")
        if size < MIN_SIZE:
            raise StatusListError(
                f"status list size {size} is below the minimum of {MIN_SIZE} entries (§3.1)",
                code=_LENGTH,
            )
        if size % 8:
            raise StatusListError(f"status list size {size} is not a multiple of 8")
        if size // 8 > MAX_DECOMPRESSED_BYTES:
            raise StatusListError(
                f"status list size {size} exceeds the {MAX_DECOMPRESSED_BYTES * 8} entries we "
                "can decode"
            )
        return cls(bytes(size // 8))

    @classmethod
    def decode(cls, encoded_list: str) -> StatusList:
        """§3.2 Bitstring Expansion Algorithm: decode an ``encodedList`` value.

        Returns the list.  Raises ``StatusListError`` (code MALFORMED_VALUE_ERROR) when the value
        is not multibase base64url without padding (prefix ``u``), not GZIP, truncated, followed
        by trailing data, or decompresses to more than ``MAX_DECOMPRESSED_BYTES``; and with code
        STATUS_LIST_LENGTH_ERROR when it holds fewer than ``MIN_SIZE`` entries.
        """
        if not isinstance(encoded_list, str):
            raise StatusListError("encodedList must be a string", code=_MALFORMED)
        if len(encoded_list) > MAX_ENCODED_CHARS:
            raise StatusListError("encodedList is too long", code=_MALFORMED)
        # §3.2 step 1: multibase-decode.  Only the base64url-no-pad prefix "u" is allowed
        # (§2.2 encodedList).
        if not encoded_list.startswith("u"):
            prefix = encoded_list[:1] or "(empty)"
            raise StatusListError(
                f"encodedList must be multibase base64url without padding (prefix 'u'), "
                f"not prefix {prefix!r}",
                code=_MALFORMED,
            )
        body = encoded_list[1:]
        if not _BASE64URL.fullmatch(body) or len(body) % 4 == 1:
            raise StatusListError(
                "encodedList is not valid base64url without padding", code=_MALFORMED
            )
        try:
            compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as exc:
            raise StatusListError(
                "encodedList is not valid base64url without padding", code=_MALFORMED
            ) from exc
        # §3.2 step 2: GZIP-decompress, with a cap so a small input cannot exhaust memory.
        return cls(_gunzip_capped(compressed, MAX_DECOMPRESSED_BYTES))

    def encode(self) -> str:
        """§3.1 Bitstring Generation Algorithm steps 3–4: return the ``encodedList`` value
        (GZIP, then multibase base64url without padding)."""
        # mtime=0 keeps the encoding deterministic, so re-publishing an unchanged list yields
        # the same bytes (and the same signature input).  Level 6 (zlib's default), not 9: on a
        # 131,072-entry list with 1 % of its bits set, level 9 takes ~25 ms per encoding (every
        # revocation re-encodes the list) and level 6 ~1.5 ms, for a 14 % longer encodedList
        # (bench/scale.py, docs/performance.md "Scale").
        compressed = gzip.compress(bytes(self._bytes), compresslevel=6, mtime=0)
        return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")

    def to_bytes(self) -> bytes:
        """Return the uncompressed bitstring."""
        return bytes(self._bytes)

    def __len__(self) -> int:
        """The number of entries (bits)."""
        return len(self._bytes) * 8

    def _check_index(self, index: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int):
            raise StatusListError(f"status list index must be an integer, not {index!r}")
        if not 0 <= index < len(self):
            # §3.3 step 12: an index outside the bitstring is a RANGE_ERROR.
            raise StatusListError(
                f"status list index {index} is outside the list of {len(self)} entries",
                code=_RANGE,
            )

    def get(self, index: int) -> bool:
        """Return whether the bit at ``index`` is set.  Raises ``StatusListError``
        (RANGE_ERROR) for an index outside the list."""
        self._check_index(index)
        return bool(self._bytes[index >> 3] & (0x80 >> (index & 7)))

    def set(self, index: int, value: bool) -> None:
        """Set (``True``) or clear (``False``) the bit at ``index``.  Raises
        ``StatusListError`` (RANGE_ERROR) for an index outside the list."""
        self._check_index(index)
        if not isinstance(value, bool):
            raise StatusListError(f"status value must be a bool, not {value!r}")
        mask = 0x80 >> (index & 7)
        if value:
            self._bytes[index >> 3] |= mask
        else:
            self._bytes[index >> 3] &= ~mask & 0xFF

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatusList):
            return NotImplemented
        return self._bytes == other._bytes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"<StatusList {len(self)} entries, {sum(map(int.bit_count, self._bytes))} set>"


def _gunzip_capped(data: bytes, cap: int) -> bytes:
    """Return the GZIP-decompressed ``data``; raise ``StatusListError`` if it is not a single
    complete GZIP member or would expand beyond ``cap`` bytes."""
    # wbits 16 + MAX_WBITS: GZIP framing only (header and CRC-32 checked); raw zlib is refused.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, cap + 1)
    except zlib.error as exc:
        raise StatusListError("encodedList is not valid GZIP data", code=_MALFORMED) from exc
    if len(out) > cap:
        raise StatusListError(
            f"encodedList decompresses to more than {cap} bytes; refusing it", code=_MALFORMED
        )
    if not inflater.eof:
        raise StatusListError("encodedList is truncated GZIP data", code=_MALFORMED)
    if inflater.unused_data:
        raise StatusListError("encodedList has data after the GZIP stream", code=_MALFORMED)
    return out


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """A parsed ``BitstringStatusListEntry`` (§2.1): which bit of which list, and why."""

    url: str
    index: int
    purpose: str


def _check_purpose(purpose: object, allowed: frozenset[str]) -> str:
    if not isinstance(purpose, str) or purpose not in allowed:
        raise StatusListError(
            f"statusPurpose {purpose!r} is not one of {sorted(allowed)}", code=_MALFORMED
        )
    return purpose


def _check_absolute_url(url: object, what: str) -> str:
    if not isinstance(url, str):
        raise StatusListError(f"{what} must be a URL string", code=_MALFORMED)
    parts = urlsplit(url)
    if not parts.scheme or not (parts.netloc or parts.scheme in {"did", "urn"}):
        raise StatusListError(f"{what} {url!r} is not an absolute URL", code=_MALFORMED)
    if any(ch.isspace() for ch in url):
        raise StatusListError(f"{what} {url!r} contains whitespace", code=_MALFORMED)
    return url


def _types(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def status_entry(list_credential_url: str, index: int, purpose: str) -> dict[str, Any]:
    """§2.1: return a ``BitstringStatusListEntry`` for a credential's ``credentialStatus``.

    Raises ``StatusListError`` for a URL that is not absolute, a negative or non-integer index,
    or a purpose other than ``revocation`` or ``suspension``.
    """
    _check_absolute_url(list_credential_url, "statusListCredential")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise StatusListError(f"statusListIndex must be a non-negative integer, not {index!r}")
    _check_purpose(purpose, PURPOSES)
    return {
        "id": f"{list_credential_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        # §2.1: "statusListIndex ... MUST be a string representation of an integer".
        "statusListIndex": str(index),
        "statusListCredential": list_credential_url,
    }


def build_status_list_credential(
    *,
    list_id: str,
    issuer: str,
    purpose: str,
    status_list: StatusList,
    valid_from: str,
    valid_until: str | None = None,
) -> dict[str, Any]:
    """§2.2: return an unsigned VC 2.0 ``BitstringStatusListCredential`` carrying
    ``status_list``.  Raises ``StatusListError`` for a bad ``list_id`` or purpose."""
    _check_absolute_url(list_id, "status list id")
    _check_purpose(purpose, PURPOSES)
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": list_id,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": valid_from,
    }
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = {
        "id": f"{list_id}#list",
        "type": LIST_SUBJECT_TYPE,
        "statusPurpose": purpose,
        "encodedList": status_list.encode(),
    }
    return credential


def parse_status_entry(entry: Mapping[str, Any]) -> StatusEntry:
    """§2.1: validate a ``credentialStatus`` entry and return it as a ``StatusEntry``.

    Raises ``StatusListError`` when it is not a ``BitstringStatusListEntry``, its index is not
    a non-negative base-10 integer, its ``statusListCredential`` is not an absolute URL, its
    purpose is unknown, or it asks for a ``statusSize`` other than 1.
    """
    if not isinstance(entry, Mapping):
        raise StatusListError("credentialStatus entry must be an object", code=_MALFORMED)
    if ENTRY_TYPE not in _types(entry.get("type")):
        raise StatusListError(
            f"credentialStatus type {entry.get('type')!r} does not include {ENTRY_TYPE}",
            code=_MALFORMED,
        )
    purpose = _check_purpose(entry.get("statusPurpose"), PARSEABLE_PURPOSES)
    raw_index = entry.get("statusListIndex")
    if isinstance(raw_index, str) and _DECIMAL.fullmatch(raw_index) and len(raw_index) <= 18:
        index = int(raw_index)
    elif isinstance(raw_index, int) and not isinstance(raw_index, bool) and raw_index >= 0:
        # Not what §2.1 asks for (a string), but unambiguous: be liberal in what we accept.
        index = raw_index
    else:
        raise StatusListError(
            f"statusListIndex {raw_index!r} is not a non-negative base-10 integer (§2.1)",
            code=_MALFORMED,
        )
    url = _check_absolute_url(entry.get("statusListCredential"), "statusListCredential")
    if "statusSize" in entry:
        _check_status_size(entry["statusSize"])
    return StatusEntry(url=url, index=index, purpose=purpose)


def read_status(
    entry: StatusEntry,
    list_credential: Mapping[str, Any],
    *,
    bitstring: StatusList | None = None,
) -> bool:
    """§3.3 Validate Algorithm, the steps after retrieval and proof checking: return whether
    ``entry``'s bit is set in ``list_credential``.

    The caller must already have verified the list credential's proof (§3.3 step 8).
    Raises ``StatusListError`` with code STATUS_VERIFICATION_ERROR when the credential is not a
    ``BitstringStatusListCredential`` for the entry's purpose, RANGE_ERROR when the index is
    outside the list, and MALFORMED_VALUE_ERROR / STATUS_LIST_LENGTH_ERROR when the list
    cannot be decoded (§3.2).  ``bitstring`` is the list's already expanded ``encodedList``
    (a request expands each list once: ``credentials/status_check.py``).
    """
    if not isinstance(list_credential, Mapping):
        raise StatusListError("status list credential must be an object", code=_MALFORMED)
    if LIST_CREDENTIAL_TYPE not in _types(list_credential.get("type")):
        raise StatusListError(
            f"status list credential type does not include {LIST_CREDENTIAL_TYPE}",
            code=_VERIFICATION,
        )
    # §3.2 does not compare the list's `id` with the entry's URL (VC DM 2.0 §4.4: `id` is
    # optional): what was dereferenced at that URL, or given for it, stands for it.
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        raise StatusListError(
            "status list credential must have one credentialSubject object", code=_MALFORMED
        )
    if LIST_SUBJECT_TYPE not in _types(subject.get("type")):
        raise StatusListError(
            f"status list credentialSubject type does not include {LIST_SUBJECT_TYPE}",
            code=_MALFORMED,
        )
    # §3.3 step 9: the entry's purpose must be one of the list's purposes.
    list_purposes = _types(subject.get("statusPurpose"))
    if entry.purpose not in list_purposes:
        raise StatusListError(
            f"status entry purpose {entry.purpose!r} does not match the list's statusPurpose "
            f"{subject.get('statusPurpose')!r}",
            code=_VERIFICATION,
        )
    # §3.3 steps 10–11: expand the bitstring (§3.2).
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        raise StatusListError("encodedList must be a string", code=_MALFORMED)
    status_list = bitstring if bitstring is not None else StatusList.decode(encoded)
    # §3.3 step 12: index × statusSize (always 1 here) must fall inside the bitstring.
    if entry.index >= len(status_list):
        raise StatusListError(
            f"statusListIndex {entry.index} is outside the list of {len(status_list)} entries",
            code=_RANGE,
        )
    # §3.3 step 13: the status is the bit at that position.
    return status_list.get(entry.index)
