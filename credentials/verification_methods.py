"""Verification method URLs: which kind a proof's ``verificationMethod`` is, and reading a method
from an HTTP(S) controller document.

Data Integrity 1.0 §2.1: ``verificationMethod`` is a URL.  Open Badges 3.0 (§8.2 "Data
Integrity") allows a DID URL or an HTTP(S) URL that dereferences to a controller document (W3C
Controlled Identifiers 1.0, "CID") and requires HTTP URL support.  Anything else — no scheme, a
relative reference, a scheme that names no kind of verification method — is a malformed proof
(``MALFORMED_PROOF_ERROR``), which the verifier reports as a failed proof, never as "could not
check".  Pure; no Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from issuer_keys.errors import IssuerKeyError
from issuer_keys.multikey import decode_public_key

from .errors import VerificationFailure

#: The kinds of verification method we resolve.
DID, HTTP = "did", "http"
MALFORMED_PROOF = "MALFORMED_PROOF_ERROR"

# RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":".
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def kind_of(verification_method: str) -> str:
    """``DID`` or ``HTTP``; raises :class:`VerificationFailure` (code ``MALFORMED_PROOF_ERROR``)
    for a method with no scheme or a scheme that names no kind of verification method."""
    match = _SCHEME.match(verification_method)
    if match is None:
        raise VerificationFailure(
            f"malformed proof: verificationMethod {verification_method!r} is not a URL (it has "
            "no scheme); it must be a DID URL or an HTTP(S) URL",
            code=MALFORMED_PROOF,
        )
    scheme = match.group(1).lower()
    if scheme == "did":
        return DID
    if scheme in ("https", "http") and verification_method[match.end() :].startswith("//"):
        return HTTP
    raise VerificationFailure(
        f"malformed proof: verificationMethod {verification_method!r} has the scheme "
        f"{scheme!r}; a verification method is a DID URL or an HTTP(S) URL",
        code=MALFORMED_PROOF,
    )


def did_key_url(verification_method: str) -> str:
    """A ``did:key`` method with its fragment: a bare ``did:key:z6Mk…`` names its only key,
    ``did:key:z6Mk…#z6Mk…`` (did:key Method v0.9 §3.1.2, "Document Creation")."""
    if "#" in verification_method:
        return verification_method
    return f"{verification_method}#{verification_method.removeprefix('did:key:')}"


def document_url(verification_method: str) -> str:
    """The controller document's URL: the method's URL without its fragment (CID §3.3 step 2)."""
    return verification_method.split("#", 1)[0]


def _absolute(reference: Any, base: str) -> Any:
    """A reference inside a controller document made absolute (``#key-1`` is relative)."""
    if isinstance(reference, str) and reference.startswith("#"):
        return base + reference
    return reference


def method_in_controller_document(
    document: Mapping[str, Any], verification_method: str
) -> tuple[str, Ed25519PublicKey, bool]:
    """(controller, public key, listed under ``assertionMethod``) of an HTTP(S) method.

    CID 1.0 §3.3 "Retrieve Verification Method": the document's ``id`` is the method's URL
    without the fragment (step 5); the method is found by its fragment (step 6), is an Ed25519
    Multikey with ``publicKeyMultibase`` (step 7), and its ``controller`` is the document
    (step 8).  Whether it may assert (step 9) is returned, for the issuer binding to judge.
    Raises :class:`VerificationFailure` naming the step that fails.
    """
    url = document_url(verification_method)
    if document.get("id") != url:
        raise VerificationFailure(
            f"the controller document for {verification_method} has the id "
            f"{document.get('id')!r}, not {url}"
        )
    if "#" not in verification_method:
        raise VerificationFailure(
            f"verificationMethod {verification_method!r} has no fragment naming a method in "
            "its controller document"
        )
    candidates: list[Any] = list(document.get("verificationMethod") or [])
    candidates += [m for m in document.get("assertionMethod") or [] if isinstance(m, Mapping)]
    method = next(
        (
            m
            for m in candidates
            if isinstance(m, Mapping) and _absolute(m.get("id"), url) == verification_method
        ),
        None,
    )
    if method is None:
        raise VerificationFailure(
            f"the controller document {url} has no verification method {verification_method}"
        )
    if _absolute(method.get("controller"), url) != url:
        raise VerificationFailure(
            f"the verification method {verification_method} is controlled by "
            f"{method.get('controller')!r}, not by the document that lists it ({url})"
        )
    try:
        public_key = decode_public_key(method["publicKeyMultibase"])
    except (KeyError, TypeError):
        raise VerificationFailure(
            f"verification method {verification_method!r} has no Ed25519 publicKeyMultibase"
        ) from None
    except IssuerKeyError as exc:
        raise VerificationFailure(exc.message, code=exc.code) from None
    listed = document.get("assertionMethod") or []
    authorized = any(
        _absolute(entry.get("id") if isinstance(entry, Mapping) else entry, url)
        == verification_method
        for entry in (listed if isinstance(listed, list) else [listed])
    )
    return url, public_key, authorized
