"""The VC Data Model 2.0 MUSTs that JSON-LD processing and the JSON Schemas do not enforce.

One list of rules for both sides: the issuing service refuses a credential that breaks one
(400, the rule's code), and the ``Verifier`` reports it as its ``vc-data-model`` check.  Pure:
no pyld, no network.  A related resource's digest is compared only when its bytes are at hand
(``resource`` returns them: a bundled context, or what the service fetched where fetching is
enabled); otherwise only the digest's form is checked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from issuer_keys.errors import InvalidKeyError
from issuer_keys.multikey import multibase_decode

from .errors import CannotDecideError, MalformedInputError
from .iri import is_absolute_iri

#: At most this many broken rules are reported (a hostile list would otherwise give thousands).
MAX_VIOLATIONS = 10

#: Returns the bytes of a related resource, or ``None`` when they are not at hand.
ResourceLookup = Callable[[str], bytes | None]

# Properties whose every object MUST have a `type` (VC DM 2.0 §4.10 Status, §5.2 Data Schemas,
# §5.4 Refreshing, §5.5 Terms of Use, §5.6 Evidence).
TYPED_PROPERTIES = (
    "credentialStatus",
    "credentialSchema",
    "refreshService",
    "termsOfUse",
    "evidence",
)

# SRI §3.5 hash-expression algorithms (CSP hash-algorithm) and their hashlib names.
_SRI_ALGORITHMS = {"sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
_SRI_STRENGTH = {"sha256": 1, "sha384": 2, "sha512": 3}
# Multihash codes (multicodec table) of the digests we can compute: code -> (name, length).
_MULTIHASH = {
    0x12: ("sha256", 32),
    0x20: ("sha384", 48),
    0x13: ("sha512", 64),
    0x16: ("sha3_256", 32),
    0x15: ("sha3_384", 48),
    0x14: ("sha3_512", 64),
}


class VcRuleViolation(MalformedInputError):
    """A credential breaks a VC Data Model 2.0 MUST; ``code`` names the rule."""

    code = "VC_DATA_MODEL_VIOLATION"


@dataclass(frozen=True)
class Violation:
    """One broken rule: a stable ``code`` and a message safe to show anyone."""

    code: str
    message: str


def check(document: Mapping[str, Any], *, resource: ResourceLookup | None = None) -> None:
    """Raise :class:`VcRuleViolation` (with the rule's code) for the first broken rule."""
    found = violations(document, resource=resource)
    if found:
        raise VcRuleViolation(found[0].message, code=found[0].code)


def violations(
    document: Mapping[str, Any], *, resource: ResourceLookup | None = None
) -> list[Violation]:
    """The VC Data Model 2.0 rules ``document`` breaks, in document order (the first
    :data:`MAX_VIOLATIONS`)."""
    found: list[Violation] = []
    _check_id(document.get("id"), "the credential's id", found, present="id" in document)
    _check_issuer(document, found)
    _check_subjects(document, found)
    for name in TYPED_PROPERTIES:
        if name in document:
            _check_typed(name, document[name], found)
    if "credentialSchema" in document:
        _check_schema_ids(document["credentialSchema"], found)
    if "relatedResource" in document:
        _check_related_resources(document["relatedResource"], resource, found)
    return found[:MAX_VIOLATIONS]


# -- §4.4 Identifiers, §4.7 Issuer, §4.8 Credential Subject --------------------------------------


def _check_id(value: Any, what: str, found: list[Violation], *, present: bool = True) -> None:
    # §4.4: "If present, the value of the id property MUST be a single URL".
    if not present:
        return
    if not isinstance(value, str) or not is_absolute_iri(value):
        found.append(Violation("INVALID_ID", f"{what} must be a single URL, not {_shown(value)}"))


def _check_issuer(document: Mapping[str, Any], found: list[Violation]) -> None:
    # §4.7: issuer is a URL, or an object whose id is a URL.
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        _check_id(issuer.get("id"), "the issuer's id", found)
    elif issuer is not None:
        _check_id(issuer, "the issuer", found)


def _check_subjects(document: Mapping[str, Any], found: list[Violation]) -> None:
    # §4.8: credentialSubject is one or more objects, each the subject of one or more claims.
    subjects = document.get("credentialSubject")
    items = subjects if isinstance(subjects, list) else [subjects]
    if subjects is None or not items:
        found.append(Violation("EMPTY_SUBJECT", "credentialSubject is missing or empty"))
        return
    for index, subject in enumerate(items):
        where = _where("credentialSubject", index, len(items), subjects)
        if not isinstance(subject, dict):
            found.append(Violation("EMPTY_SUBJECT", f"{where} must be an object"))
        elif not subject:
            found.append(
                Violation("EMPTY_SUBJECT", f"{where} is an empty object: it makes no claim")
            )
        elif "id" in subject:
            _check_id(subject["id"], f"the id of {where}", found)


# -- §4.10, §5.2, §5.4, §5.5, §5.6: objects that MUST say their type -----------------------------


def _check_typed(name: str, value: Any, found: list[Violation]) -> None:
    items = value if isinstance(value, list) else [value]
    if not items:
        found.append(Violation("INVALID_" + _upper(name), f"{name} is an empty list"))
    for index, item in enumerate(items):
        where = _where(name, index, len(items), value)
        if not isinstance(item, dict):
            found.append(Violation("INVALID_" + _upper(name), f"{where} must be an object"))
            continue
        if not _has_type(item.get("type")):
            found.append(Violation("MISSING_TYPE", f"{where} has no type (VC Data Model 2.0)"))
        if "id" in item and name != "credentialSchema":
            _check_id(item["id"], f"the id of {where}", found)


def _check_schema_ids(value: Any, found: list[Violation]) -> None:
    # §5.2: each credentialSchema MUST have an id that is a URL identifying the schema file.
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        if isinstance(item, dict):
            where = _where("credentialSchema", index, len(items), value)
            if "id" not in item:
                found.append(
                    Violation("INVALID_CREDENTIAL_SCHEMA", f"{where} has no id (a URL is required)")
                )
            else:
                _check_id(item["id"], f"the id of {where}", found)


def _has_type(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return bool(values) and all(isinstance(v, str) and v for v in values)


# -- §5.3 Integrity of Related Resources ---------------------------------------------------------


def _check_related_resources(
    value: Any, resource: ResourceLookup | None, found: list[Violation]
) -> None:
    # "The value of the relatedResource property MUST be one or more objects" (a single object
    # is a list of one, as everywhere in JSON-LD), each with an id unique among them and at
    # least a digestSRI or a digestMultibase.
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, dict) for item in items):
        found.append(
            Violation("INVALID_RELATED_RESOURCE", "relatedResource must be one or more objects")
        )
        return
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = _where("relatedResource", index, len(items), value)
        if "id" not in item:
            found.append(Violation("INVALID_RELATED_RESOURCE", f"{where} has no id"))
            continue
        url = item["id"]
        before = len(found)
        _check_id(url, f"the id of {where}", found)
        if len(found) > before:
            continue
        if url in seen:
            found.append(Violation("INVALID_RELATED_RESOURCE", f"{where} repeats the id {url!r}"))
            continue
        seen.add(url)
        if "digestSRI" not in item and "digestMultibase" not in item:
            found.append(
                Violation(
                    "INVALID_RELATED_RESOURCE", f"{where} has neither digestSRI nor digestMultibase"
                )
            )
            continue
        _check_digests(item, where, resource(url) if resource is not None else None, found)


def _check_digests(
    item: Mapping[str, Any], where: str, content: bytes | None, found: list[Violation]
) -> None:
    for name, parse in (("digestSRI", _parse_sri), ("digestMultibase", _parse_multibase)):
        if name not in item:
            continue
        values = item[name] if isinstance(item[name], list) else [item[name]]
        for text in values:
            try:
                expected = parse(text)
            except ValueError as exc:
                found.append(Violation("INVALID_DIGEST", f"{name} of {where}: {exc}"))
                continue
            if content is not None and not _matches(expected, content):
                found.append(
                    Violation(
                        "DIGEST_MISMATCH",
                        f"{name} of {where} does not match the resource {item['id']!r}: "
                        "it is not the resource the issuer signed for",
                    )
                )


# A parsed digest: the acceptable (hash name, digest) pairs; matching any one is a match.
_Digest = list[tuple[str, bytes]]


def _parse_sri(text: Any) -> _Digest:
    """SRI §3.5: whitespace-separated ``hash-algo "-" base64-value ["?" options]``; the
    strongest algorithm present decides (§3.3.3 "get the strongest metadata"), unknown
    algorithms are ignored."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("must be a Subresource Integrity string such as 'sha384-…'")
    known: _Digest = []
    for token in text.split():
        algorithm, dash, rest = token.partition("-")
        if not dash:
            raise ValueError(f"{token[:40]!r} is not 'algorithm-base64'")
        if algorithm not in _SRI_ALGORITHMS:
            continue
        encoded = rest.split("?", 1)[0]
        try:
            digest = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"the {algorithm} value is not base64") from None
        if len(digest) != hashlib.new(_SRI_ALGORITHMS[algorithm]).digest_size:
            raise ValueError(f"the {algorithm} value has the wrong length")
        known.append((algorithm, digest))
    if not known:
        raise ValueError("names no hash algorithm Credfolio can check (sha256, sha384, sha512)")
    strongest = max(_SRI_STRENGTH[name] for name, _ in known)
    return [(_SRI_ALGORITHMS[n], d) for n, d in known if _SRI_STRENGTH[n] == strongest]


def _parse_multibase(text: Any) -> _Digest:
    """Data Integrity 1.0 §2.6: a multibase-encoded multihash (``u`` base64url or ``z``
    base58btc), here one of the SHA-2 and SHA-3 functions of the multicodec table."""
    if not isinstance(text, str) or len(text) < 2:
        raise ValueError("must be a multibase-encoded multihash string")
    prefix, body = text[0], text[1:]
    try:
        if prefix == "u":
            data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != body:
                raise ValueError
        elif prefix == "z":
            data = multibase_decode(text)
        else:
            raise ValueError
    except (ValueError, binascii.Error, InvalidKeyError):
        raise ValueError("is not a base64url ('u…') or base58btc ('z…') multibase value") from None
    if len(data) < 2 or data[0] not in _MULTIHASH:
        raise ValueError("is not a multihash of SHA-256, SHA-384, SHA-512 or SHA3")
    name, length = _MULTIHASH[data[0]]
    if data[1] != length or len(data) != 2 + length:
        raise ValueError(f"the {name} multihash has the wrong length")
    return [(name, data[2:])]


def _matches(expected: _Digest, content: bytes) -> bool:
    return any(hashlib.new(name, content).digest() == digest for name, digest in expected)


# -- wording -----------------------------------------------------------------------------------


def _where(name: str, index: int, count: int, value: Any) -> str:
    return f"{name}[{index}]" if isinstance(value, list) and count > 1 else name


def _upper(name: str) -> str:
    return "".join("_" + c if c.isupper() else c.upper() for c in name)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value[:80])
    return {dict: "an object", list: "a list", type(None): "null"}.get(
        type(value), "a " + type(value).__name__
    )


def first_at_hand(*sources: ResourceLookup | None) -> ResourceLookup:
    """A lookup asking each source in turn; one that cannot obtain the resource
    (``CannotDecideError``: fetching refused or failed) counts as not having it."""

    def lookup(url: str) -> bytes | None:
        for source in sources:
            if source is None:
                continue
            try:
                data = source(url)
            except CannotDecideError:
                continue
            if data is not None:
                return data
        return None

    return lookup
