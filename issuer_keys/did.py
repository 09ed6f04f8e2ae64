"""DID methods: did:key (resolved offline) and did:web (URL mapping and our own DID document),
plus verification-method dereferencing and proof-purpose checks on a DID document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from . import multikey
from .errors import InvalidDidError, InvalidKeyError, IssuerKeyError, KeyNotFoundError
from .keys import verification_method_id

DID_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]

# DID Core §5.3 verification relationships.
VERIFICATION_RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "keyAgreement",
    "capabilityInvocation",
    "capabilityDelegation",
)

# Multicodec names for the did:key types people are likely to hand us, for clearer errors.
_KNOWN_MULTICODECS = {
    0xE7: "secp256k1-pub",
    0xEC: "x25519-pub",
    0xED: "ed25519-pub",
    0x1200: "p256-pub",
    0x1201: "p384-pub",
    0x1202: "p521-pub",
    0x1205: "rsa-pub",
    0x1300: "ed25519-priv",
}

# RFC 3986 "segment" characters (unreserved / sub-delims / ":" "@") plus percent-encodings;
# ":" is excluded because it separates did:web path segments.
_SEGMENT = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=@]|%[0-9A-Fa-f]{2})+$")
_HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


# --------------------------------------------------------------------------- did:key


def did_key_for(public_key_multibase: str) -> str:
    """``did:key:<publicKeyMultibase>`` for an Ed25519 Multikey.

    Raises :class:`InvalidKeyError` if the value is not an Ed25519 public key.
    """
    multikey.decode_public_key(public_key_multibase)
    return f"did:key:{public_key_multibase}"


def _read_varint(data: bytes) -> int | None:
    value = 0
    for i, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value
    return None


def resolve_did_key(did_or_did_url: str) -> dict[str, Any]:
    """Resolve a did:key (or a DID URL under one) to its DID document, offline.

    Implements the did:key Method v0.9 "Document Creation Algorithm" for Ed25519 keys,
    expressed as a Multikey verification method (CID 1.0 §2.2.2).  The fragment of a DID URL
    is ignored; use :func:`dereference_verification_method` to pick a method.

    Returns the DID document.  Raises :class:`InvalidDidError` for anything that is not a
    did:key over an Ed25519 public key (other key types are refused with their multicodec name).
    """
    if not isinstance(did_or_did_url, str) or not did_or_did_url.startswith("did:key:"):
        raise InvalidDidError("not a did:key DID")
    did = split_did_url(did_or_did_url)[0]
    msid = did[len("did:key:") :]
    if ":" in msid:
        raise InvalidDidError("did:key with a version or extra segments is not supported")
    if not msid.startswith("z"):
        raise InvalidDidError("did:key must use multibase base58btc ('z…')")
    try:
        data = multikey.multibase_decode(msid)
    except InvalidKeyError as exc:
        raise InvalidDidError(f"did:key is not valid base58btc: {exc.message}") from None
    codec = _read_varint(data)
    if codec != 0xED:
        name = _KNOWN_MULTICODECS.get(codec, "unknown") if codec is not None else "unreadable"
        shown = f"0x{codec:x}" if codec is not None else "?"
        raise InvalidDidError(
            f"did:key: only Ed25519 public keys (z6Mk…) are supported, got multicodec "
            f"{name} ({shown})"
        )
    try:
        multikey.decode_public_key(msid)
    except InvalidKeyError:
        raise InvalidDidError("did:key: Ed25519 public key must be exactly 32 bytes") from None
    vm_id = verification_method_id(did, msid)
    return {
        "@context": list(DID_CONTEXT),
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": msid}
        ],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityInvocation": [vm_id],
        "capabilityDelegation": [vm_id],
    }


# --------------------------------------------------------------------------- DID URLs


def split_did_url(did_url: str) -> tuple[str, str | None]:
    """Split ``did:…#fragment`` into ``(did, fragment)``; the fragment may be None.

    Raises :class:`InvalidDidError` for a DID URL with a path or query (not used here).
    """
    if not isinstance(did_url, str) or not did_url.startswith("did:"):
        raise InvalidDidError("not a DID URL")
    did, sep, fragment = did_url.partition("#")
    if "?" in did or "/" in did:
        raise InvalidDidError("DID URLs with a path or query are not supported")
    if did.count(":") < 2 or any(c.isspace() for c in did_url):
        raise InvalidDidError("malformed DID")
    if sep and not fragment:
        raise InvalidDidError("empty DID URL fragment")
    return did, (fragment if sep else None)


# --------------------------------------------------------------------------- did:web


def _check_host(host: str) -> None:
    if host != host.lower():
        # A DID is compared as a string; two spellings of one host would be two issuers.
        raise InvalidDidError("did:web host must be lower-case")
    labels = host.split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise InvalidDidError("did:web host is not a valid domain name")


def _check_segments(segments: list[str]) -> None:
    for segment in segments:
        if segment == "":
            raise InvalidDidError("did:web path has an empty segment")
        if unquote(segment) in (".", ".."):
            # Dot segments would let a DID resolve outside its owner's path.
            raise InvalidDidError("did:web path must not contain '.' or '..' segments")
        if not _SEGMENT.match(segment) or "%2f" in segment.lower():
            raise InvalidDidError("did:web path segment has characters that are not allowed")


def did_web_from_url(url: str) -> str:
    """The did:web DID for an https base URL (did:web Method Specification §3.2 "Create").

    ``https://example.org:8443/path/to`` → ``did:web:example.org%3A8443:path:to``.  The host
    is lower-cased; a trailing ``/`` is ignored.  Raises :class:`InvalidDidError` for
    non-https URLs, credentials, queries, fragments, IP-literal hosts, empty or dot segments.
    """
    if not isinstance(url, str):
        raise InvalidDidError("URL must be a string")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidDidError("malformed URL") from None
    if parts.scheme != "https":
        raise InvalidDidError("did:web requires an https URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidDidError("did:web URL must not contain credentials")
    if parts.query or parts.fragment or "#" in url or "?" in url:
        raise InvalidDidError("did:web URL must not have a query or fragment")
    host = parts.hostname or ""
    if not host or host.startswith("[") or ":" in host:
        raise InvalidDidError("did:web URL needs a domain name host")
    _check_host(host)
    if port is not None and not 0 < port < 65536:
        raise InvalidDidError("did:web port must be a number between 1 and 65535")
    path = parts.path
    if path.endswith("/"):
        path = path[:-1]
    segments = path.split("/")[1:] if path else []
    _check_segments(segments)
    if segments and segments[-1] == "did.json":
        raise InvalidDidError("pass the base URL, not the DID document URL")
    authority = host if port is None else f"{host}%3A{port}"
    return ":".join(["did:web", authority, *segments])


def did_web_to_url(did: str) -> str:
    """The URL of the DID document for a did:web DID (did:web spec §3.2 "Read/Resolve").

    ``did:web:example.org`` → ``https://example.org/.well-known/did.json``;
    ``did:web:example.org%3A8443:path:to`` → ``https://example.org:8443/path/to/did.json``.
    Raises :class:`InvalidDidError` for DID URLs, upper-case hosts, bad ports, empty or dot
    segments.
    """
    if not isinstance(did, str) or not did.startswith("did:web:"):
        raise InvalidDidError("not a did:web DID")
    if any(c in did for c in "#?/") or any(c.isspace() for c in did):
        raise InvalidDidError("expected a did:web DID, not a DID URL")
    authority, *segments = did[len("did:web:") :].split(":")
    host, sep, port = authority.partition("%3A")
    if not sep:
        host, sep, port = authority.partition("%3a")
    _check_host(host)
    if sep:
        if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidDidError("did:web port must be a number between 1 and 65535")
        host = f"{host}:{int(port)}"
    elif "%" in authority:
        raise InvalidDidError("did:web host may only percent-encode the port separator")
    _check_segments(segments)
    if not segments:
        return f"https://{host}/.well-known/did.json"
    return f"https://{host}/{'/'.join(segments)}/did.json"


class KeyRecordLike(Protocol):
    """What :func:`did_web_document` needs from a key record (see ``store.KeyRecord``)."""

    @property
    def controller(self) -> str: ...
    @property
    def public_key_multibase(self) -> str: ...
    @property
    def status(self) -> str: ...


def did_web_document(
    did: str, keys: Iterable[KeyRecordLike], *, website: str | None = None
) -> dict[str, Any]:
    """Our did:web DID document, served at :func:`did_web_to_url`.

    ``website`` (the issuer's web site, from its profile) becomes a ``LinkedDomains`` service
    (DID Core §5.4; DIF Well Known DID Configuration) so that a verifier can find the school.

    Every key that is not revoked (active and retired) becomes a Multikey verification method
    and is listed under ``assertionMethod``, so credentials signed before a rotation still
    verify.  Only the active key is listed under ``authentication``.  Revoked (compromised)
    keys are left out entirely, so nothing signed with them verifies any more.

    Raises :class:`InvalidDidError` if ``did`` is not a valid did:web DID or a key belongs to
    another controller; :class:`IssuerKeyError` if more than one key is active.
    """
    did_web_to_url(did)  # validates
    methods: list[dict[str, Any]] = []
    active: list[str] = []
    for record in keys:
        if record.controller != did:
            raise InvalidDidError("a key in the list belongs to another controller")
        if record.status == "revoked":
            continue
        if record.status not in ("active", "retired"):
            raise IssuerKeyError(f"unknown key status {record.status!r}")
        vm_id = verification_method_id(did, record.public_key_multibase)
        methods.append(
            {
                "id": vm_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": record.public_key_multibase,
            }
        )
        if record.status == "active":
            active.append(vm_id)
    if len(active) > 1:
        raise IssuerKeyError("more than one active key", code="KEY_STORE_INCONSISTENT")
    # Active key first: some verifiers try methods in order.
    methods.sort(key=lambda m: m["id"] not in active)
    document: dict[str, Any] = {
        "@context": list(DID_CONTEXT),
        "id": did,
        "verificationMethod": methods,
        "authentication": active,
        "assertionMethod": [m["id"] for m in methods],
    }
    if website:
        document["service"] = [
            {"id": f"{did}#website", "type": "LinkedDomains", "serviceEndpoint": website}
        ]
    return document


# --------------------------------------------------------------------------- dereferencing


def _absolute(ref: str, did: str) -> str:
    """A verification-method reference made absolute (relative ``#frag`` refs are allowed)."""
    return did + ref if ref.startswith("#") else ref


def dereference_verification_method(did_document: Mapping[str, Any], vm_id: str) -> dict[str, Any]:
    """Find the verification method ``vm_id`` in ``did_document`` (DID Core §7.2.2).

    Looks in ``verificationMethod`` and in embedded methods under the verification
    relationships.  Returns a copy of the method.  Raises :class:`InvalidDidError` when
    ``vm_id`` is not a DID URL under the document's DID, or when the method's ``controller``
    is not that DID (a document must not vouch for someone else's key);
    :class:`KeyNotFoundError` when no such method exists.
    """
    doc_id = did_document.get("id")
    if not isinstance(doc_id, str):
        raise InvalidDidError("DID document has no id")
    did, fragment = split_did_url(vm_id)
    if fragment is None:
        raise InvalidDidError("verification method id must have a fragment")
    if did != doc_id:
        raise InvalidDidError("verification method belongs to a different DID than the document")
    candidates: list[Any] = list(did_document.get("verificationMethod") or [])
    for relationship in VERIFICATION_RELATIONSHIPS:
        candidates.extend(e for e in did_document.get(relationship) or [] if isinstance(e, dict))
    for method in candidates:
        if not isinstance(method, Mapping) or not isinstance(method.get("id"), str):
            continue
        if _absolute(method["id"], doc_id) != vm_id:
            continue
        if method.get("controller") != doc_id:
            raise InvalidDidError("verification method controller does not match the DID")
        return dict(method)
    raise KeyNotFoundError("verification method not found in the DID document")


def is_authorized(
    did_document: Mapping[str, Any], vm_id: str, purpose: str = "assertionMethod"
) -> bool:
    """Whether ``vm_id`` may be used for ``purpose`` (a DID Core verification relationship).

    True only if the method is listed under ``purpose`` (by reference or embedded) and
    dereferences with a matching controller.  Returns False rather than raising for
    anything untrustworthy; raises :class:`ValueError` for an unknown ``purpose``.
    """
    if purpose not in VERIFICATION_RELATIONSHIPS:
        raise ValueError(f"unknown verification relationship {purpose!r}")
    doc_id = did_document.get("id")
    entries = did_document.get(purpose)
    if not isinstance(doc_id, str) or not isinstance(entries, list):
        return False
    listed = False
    for entry in entries:
        ref = entry.get("id") if isinstance(entry, Mapping) else entry
        if isinstance(ref, str) and _absolute(ref, doc_id) == vm_id:
            listed = True
            break
    if not listed:
        return False
    try:
        dereference_verification_method(did_document, vm_id)
    except IssuerKeyError:
        return False
    return True
