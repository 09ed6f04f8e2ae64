"""Verifiable Presentations (VC Data Model 2.0 §4.13): the embedded credentials, and the
holder's Data Integrity proof (proofPurpose ``authentication``, ``challenge`` and ``domain``).

Pure: the DID documents of holders come from a resolver passed in, as for :class:`Verifier`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from issuer_keys import did as dids
from issuer_keys.errors import IssuerKeyError
from issuer_keys.multikey import decode_public_key

from . import verification_methods
from .budget import WorkBudgetExceeded
from .errors import CannotDecideError, MalformedInputError
from .jsonld import check_contexts
from .legacy_proofs import suite_for
from .proof import LEGACY_FIRST_CONTEXTS, parse_datetime, proofs_of
from .verify import (
    FAILED,
    NOT_APPLICABLE,
    PASSED,
    UNKNOWN,
    Check,
    VerificationResult,
    Verifier,
    types_of,
)

PRESENTATION_TYPE = "VerifiablePresentation"
#: Data Integrity §2.1 / DID Core §5.3.1: a holder proves control of a DID with this purpose.
AUTHENTICATION = "authentication"
MAX_CREDENTIALS = 32
MAX_PROOFS = 4

#: Resolves a DID to its DID document; raises ``CannotDecideError`` when it cannot be obtained.
DidResolver = Callable[[str], Mapping[str, Any]]

_SEVERITY = {FAILED: 3, UNKNOWN: 2, PASSED: 1, NOT_APPLICABLE: 0}


def resolve_did_key_only(did: str) -> Mapping[str, Any]:
    """A :data:`DidResolver` for ``did:key`` (offline); any other DID cannot be decided."""
    if did.startswith("did:key:"):
        return dids.resolve_did_key(did)
    raise CannotDecideError(f"the DID document of {did} is not available offline")


def parse_presentation(data: Any) -> dict[str, Any]:
    """Check the presentation's shape (VC DM 2.0 §4.13); return it.

    Raises :class:`MalformedInputError` when it is not an object, its ``type`` lacks
    ``VerifiablePresentation``, or ``verifiableCredential`` / ``holder`` have the wrong shape.
    """
    if not isinstance(data, dict):
        raise MalformedInputError("a presentation must be a JSON object", code="NOT_AN_OBJECT")
    if PRESENTATION_TYPE not in types_of(data):
        raise MalformedInputError(f"type must include {PRESENTATION_TYPE!r}", code="INVALID_TYPE")
    credentials_of(data)
    holder = data.get("holder")
    if holder is not None and holder_id(data) is None:
        raise MalformedInputError(
            "holder must be a URL or an object with an id", code="INVALID_HOLDER"
        )
    return data


def credentials_of(presentation: Mapping[str, Any]) -> list[Any]:
    """``verifiableCredential`` as a list (one object is accepted).

    Raises :class:`MalformedInputError` for anything but objects, or more than
    :data:`MAX_CREDENTIALS` of them.
    """
    value = presentation.get("verifiableCredential")
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, dict) for item in items):
        raise MalformedInputError(
            "verifiableCredential must be a credential object or an array of them",
            code="INVALID_PRESENTATION",
        )
    if len(items) > MAX_CREDENTIALS:
        raise MalformedInputError(
            f"more than {MAX_CREDENTIALS} credentials in one presentation",
            code="TOO_MANY_CREDENTIALS",
        )
    return items


def holder_id(presentation: Mapping[str, Any]) -> str | None:
    """The holder's id (``holder`` may be a URL or an object), or None."""
    holder = presentation.get("holder")
    if isinstance(holder, dict):
        holder = holder.get("id")
    return holder if isinstance(holder, str) and holder else None


@dataclass
class PresentationResult:
    """The presentation's own checks and one verification result per embedded credential."""

    checks: list[Check] = field(default_factory=list)
    credential_results: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        """Every check passed or does not apply, every credential verified, and something was
        actually verified (a holder's proof or at least one credential)."""
        own = all(c.status in (PASSED, NOT_APPLICABLE) for c in self.checks)
        credentials = all(r.get("verified") is True for r in self.credential_results)
        proved = any(c.name == "presentation-proof" and c.status == PASSED for c in self.checks)
        return own and credentials and (proved or bool(self.credential_results))

    @property
    def errors(self) -> list[str]:
        errors = [f"{c.name}: {c.detail}" for c in self.checks if c.status in (FAILED, UNKNOWN)]
        for index, result in enumerate(self.credential_results):
            errors.extend(f"verifiableCredential[{index}] {e}" for e in result.get("errors", []))
        return errors

    def check(self, name: str) -> Check | None:
        """The presentation check with that name, if it ran."""
        return next((c for c in self.checks if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """The body of the VC-API's ``POST /presentations/verify``."""
        return {
            "verified": self.verified,
            "checks": [c.to_dict() for c in self.checks],
            "credentialResults": list(self.credential_results),
            "warnings": list(self.warnings),
            "errors": self.errors,
        }


def credential_result(verifier: Verifier, credential: Any) -> dict[str, Any]:
    """One credential's verification as a dict: the result, or for malformed input
    :func:`refusal_body`.  Raises :class:`~credentials.budget.WorkBudgetExceeded`: the request's
    work budget is spent, so the whole request is refused, not this credential alone."""
    try:
        return verifier.verify(credential).to_dict()
    except WorkBudgetExceeded:
        raise
    except MalformedInputError as exc:
        return refusal_body(exc)


def refusal_body(exc: MalformedInputError) -> dict[str, Any]:
    """The partial checks of a refused credential plus ``{"error", "detail"}``, with
    ``verified: false``."""
    partial = exc.result if isinstance(exc.result, VerificationResult) else None
    body = partial.to_dict() if partial else {"checks": [], "warnings": []}
    body.update(verified=False, errors=[exc.message], **exc.to_dict())
    return body


def verify_presentation(
    presentation: Any,
    *,
    verifier: Verifier,
    resolve_did_document: DidResolver = resolve_did_key_only,
    challenge: str | None = None,
    domain: str | None = None,
) -> PresentationResult:
    """Verify a presentation: its contexts, its proof(s) and every embedded credential.

    ``challenge`` / ``domain`` are what the verifier expects (Data Integrity §2.1): when given,
    a proof must carry exactly them.  Returns a :class:`PresentationResult`.  Raises
    :class:`MalformedInputError` when the presentation itself cannot be judged (a malformed
    embedded credential is reported in its ``credentialResults`` entry instead).
    """
    document = parse_presentation(presentation)
    result = PresentationResult()
    # VC DM 2.0 §4.3: the first context is the VC context; everything else must be bundled.
    check_contexts(document, loader=verifier.loader, first=LEGACY_FIRST_CONTEXTS)
    result.checks.append(
        Check(
            "presentation-contexts", PASSED, "every JSON-LD context is one of the bundled contexts"
        )
    )
    result.checks.extend(
        presentation_proof_checks(
            document,
            verifier=verifier,
            resolve_did_document=resolve_did_document,
            challenge=challenge,
            domain=domain,
        )
    )
    if not any(c.name == "presentation-proof" and c.status == PASSED for c in result.checks):
        result.warnings.append("the presentation is not signed by its holder")
    for credential in credentials_of(document):
        result.credential_results.append(credential_result(verifier, credential))
    if not result.credential_results:
        result.warnings.append("the presentation contains no credentials")
    return result


def presentation_proof_checks(
    presentation: Mapping[str, Any],
    *,
    verifier: Verifier,
    resolve_did_document: DidResolver = resolve_did_key_only,
    challenge: str | None = None,
    domain: str | None = None,
) -> list[Check]:
    """The checks of the holder's proof(s): ``presentation-proof``, ``holder``, ``challenge``,
    ``domain``.  Several proofs (a proof set) must each pass; each check reports the worst.

    Raises :class:`MalformedInputError` (``UnsupportedProofError``) for a proof that is not a
    complete ``eddsa-rdfc-2022`` proof, or when the presentation cannot be canonicalized.
    """
    proofs = proofs_of(presentation)
    if len(proofs) > MAX_PROOFS:
        raise MalformedInputError(f"more than {MAX_PROOFS} proofs", code="TOO_MANY_PROOFS")
    if not proofs:
        unsigned = "the presentation has no proof"
        return [
            Check(
                "presentation-proof", NOT_APPLICABLE, unsigned + ": the holder is not authenticated"
            ),
            Check("holder", NOT_APPLICABLE, unsigned),
            _unprovable("challenge", challenge, unsigned),
            _unprovable("domain", domain, unsigned),
        ]
    per_name: dict[str, list[Check]] = {
        "presentation-proof": [],
        "holder": [],
        "challenge": [],
        "domain": [],
    }
    for proof in proofs:
        for check in _one_proof(
            presentation, proof, verifier, resolve_did_document, challenge, domain
        ):
            per_name[check.name].append(check)
    return [_worst(name, checks) for name, checks in per_name.items()]


def _unprovable(name: str, expected: str | None, why: str) -> Check:
    if expected is None:
        return Check(name, NOT_APPLICABLE, f"no {name} was requested")
    return Check(name, FAILED, f"a {name} was requested, but {why}")


def _one_proof(
    presentation: Mapping[str, Any],
    proof: Mapping[str, Any],
    verifier: Verifier,
    resolve: DidResolver,
    challenge: str | None,
    domain: str | None,
) -> list[Check]:
    # Holders of the VC 1.1 era signed with Ed25519Signature2020 or eddsa-2022 (legacy_proofs).
    suite = suite_for(proof, current=verifier.suite)
    suite.check_proof_shape(proof)
    checks = [_challenge(proof, challenge), _domain(proof, domain)]
    vm_id = proof["verificationMethod"]
    if vm_id.startswith("did:key:"):
        vm_id = verification_methods.did_key_url(vm_id)  # a bare did:key names its only key
    # Data Integrity §4.3 step 4 (proof purpose): a holder authenticates; a proof made for
    # assertionMethod (an issuer's) must not be replayed as the holder's login.
    if proof["proofPurpose"] != AUTHENTICATION:
        detail = (
            f"proofPurpose is {proof['proofPurpose']!r}; a presentation needs {AUTHENTICATION!r}"
        )
        return [
            Check("presentation-proof", FAILED, detail),
            Check("holder", FAILED, detail),
            *checks,
        ]
    try:
        did = dids.split_did_url(vm_id)[0]
        document = resolve(did)
        method = dids.dereference_verification_method(document, vm_id)
        public_key = decode_public_key(method["publicKeyMultibase"])
        authorized = dids.is_authorized(document, vm_id, AUTHENTICATION)
    except CannotDecideError as exc:
        return [
            Check("presentation-proof", UNKNOWN, exc.message),
            Check("holder", UNKNOWN, exc.message),
            *checks,
        ]
    except (IssuerKeyError, KeyError, TypeError) as exc:
        reason = getattr(exc, "message", "it has no Ed25519 publicKeyMultibase")
        detail = f"the verification method {vm_id!r} cannot be used: {reason}"
        return [
            Check("presentation-proof", FAILED, detail),
            Check("holder", FAILED, detail),
            *checks,
        ]
    outcome = suite.verify_proof(
        presentation, proof, public_key=public_key, budget=verifier.request_budget()
    )
    proof_check = Check(
        "presentation-proof", PASSED if outcome.verified else FAILED, outcome.detail
    )
    if outcome.verified and not authorized:
        proof_check = Check(
            "presentation-proof", FAILED, f"{vm_id} is not listed under {did}'s authentication"
        )
    elif (
        outcome.verified
        and "expires" in proof
        and verifier.now() > parse_datetime(proof["expires"], field="proof.expires")
    ):
        proof_check = Check(
            "presentation-proof", FAILED, f"the proof expired on {proof['expires']}"
        )
    return [proof_check, _holder(presentation, did), *checks]


def _holder(presentation: Mapping[str, Any], signer: str) -> Check:
    # VC DM 2.0 §4.13: when a holder is named, the proof must come from the holder's key.
    holder = holder_id(presentation)
    if holder is None:
        return Check("holder", PASSED, f"signed by {signer} (the presentation names no holder)")
    if holder != signer:
        return Check("holder", FAILED, f"signed by {signer}, but the holder is {holder}")
    return Check("holder", PASSED, f"signed by the holder {holder}")


def _challenge(proof: Mapping[str, Any], expected: str | None) -> Check:
    got = proof.get("challenge")
    if expected is None:
        detail = "no challenge was requested" + (
            " (the proof carries one; not checked)" if got else ""
        )
        return Check("challenge", NOT_APPLICABLE, detail)
    if got != expected:
        return Check("challenge", FAILED, "the proof's challenge is not the one requested")
    return Check("challenge", PASSED, "the proof answers the requested challenge")


def _domain(proof: Mapping[str, Any], expected: str | None) -> Check:
    got = proof.get("domain")
    if expected is None:
        detail = "no domain was requested" + (" (the proof names one; not checked)" if got else "")
        return Check("domain", NOT_APPLICABLE, detail)
    # Data Integrity §2.1: domain is a string or an unordered set of strings.
    domains = got if isinstance(got, list) else [got]
    if expected not in domains:
        return Check("domain", FAILED, f"the proof is not for the domain {expected!r}")
    return Check("domain", PASSED, f"the proof is for the domain {expected!r}")


def _worst(name: str, checks: list[Check]) -> Check:
    worst = max(checks, key=lambda c: _SEVERITY[c.status])
    return Check(name, worst.status, worst.detail)
