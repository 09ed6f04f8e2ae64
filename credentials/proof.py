"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (VC-DI-EdDSA 1.0 §3.2).

Signing and proof verification only; deciding whether the *key* may sign for the *issuer* is the
verifier's job (``verify.py``).  Proofs are always emitted as an array (the 1EdTech schema
requires it); a single proof object and proof sets are accepted on input.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from issuer_keys.errors import InvalidKeyError
from issuer_keys.multikey import multibase_decode, multibase_encode

from . import rdfc
from .budget import WorkBudget
from .errors import MalformedInputError, UnsupportedProofError
from .jsonld import VC_V1_CONTEXT, VC_V2_CONTEXT, DocumentLoader, canonicalize, check_contexts
from .proof_chains import chained_document

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
#: VC 1.1 documents may carry a Data Integrity proof only with the Data Integrity context.
LEGACY_FIRST_CONTEXTS = (VC_V2_CONTEXT, VC_V1_CONTEXT)

#: Work units (credentials/budget.py) of one Ed25519 signature check (about 0.1 ms).
_UNITS_PER_SIGNATURE = 100

_PROOF_OPTION_KEYS = (
    "id",
    "type",
    "cryptosuite",
    "created",
    "expires",
    "verificationMethod",
    "proofPurpose",
    "challenge",
    "domain",
    "nonce",
    "previousProof",
)


def xsd_datetime(moment: datetime) -> str:
    """An XML Schema dateTimeStamp in UTC with ``Z`` and whole seconds."""
    if moment.tzinfo is None:
        raise MalformedInputError("datetimes must be timezone-aware", code="INVALID_DATETIME")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: Any, *, field: str) -> datetime:
    """Parse an XML Schema dateTimeStamp (offset required); raises MalformedInputError."""
    if not isinstance(value, str):
        raise MalformedInputError(f"{field} must be a date-time string", code="INVALID_DATETIME")
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise MalformedInputError(
            f"{field} is not a valid date-time: {value!r}", code="INVALID_DATETIME"
        ) from None
    if moment.tzinfo is None:
        raise MalformedInputError(
            f"{field} must include a time zone (e.g. 'Z'): {value!r}", code="INVALID_DATETIME"
        )
    return moment


def proofs_of(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The document's proofs as a list (a single object is accepted); raises if malformed."""
    proof = document.get("proof")
    if proof is None:
        return []
    proofs = proof if isinstance(proof, list) else [proof]
    if not proofs or not all(isinstance(p, dict) for p in proofs):
        raise MalformedInputError("proof must be an object or a non-empty array of objects")
    return proofs


class Signer(Protocol):
    """What signs a proof: an Ed25519 private key, or anything that signs like one without
    handing out its secret (``issuer_keys.keys.IssuerKey``)."""

    def sign(self, data: bytes, /) -> bytes: ...


@dataclass(frozen=True)
class ProofVerification:
    """The outcome of checking one proof's signature (not yet whether the key is trusted)."""

    proof: dict[str, Any]
    verified: bool
    detail: str


# Resolves a verification method id to an Ed25519 public key (the verifier supplies it).
PublicKeyResolver = Callable[[str], Ed25519PublicKey]


class Eddsa2022Suite:
    """The ``eddsa-rdfc-2022`` cryptosuite bound to a document loader and canonicalization limits.

    ``loader`` is passed explicitly (never a global): it is the allow-list of contexts.
    """

    def __init__(self, *, loader: DocumentLoader, limits: rdfc.CanonLimits | None = None) -> None:
        self.loader = loader
        self.limits = limits

    # -- VC-DI-EdDSA §3.2.1 Create Proof (eddsa-rdfc-2022) ------------------------------------

    def create_proof(
        self,
        document: Mapping[str, Any],
        *,
        key: Signer,
        verification_method: str,
        created: datetime | None = None,
        proof_purpose: str = "assertionMethod",
        extra_options: Mapping[str, Any] | None = None,
        budget: WorkBudget | None = None,
    ) -> dict[str, Any]:
        """Sign ``document`` and return a copy with the new proof appended to ``proof`` (array).

        Existing proofs are kept (a proof set): the new proof signs the document without them,
        or with those its ``previousProof`` option names (a chain; Data Integrity §4.5).
        Raises :class:`MalformedInputError` for anything that cannot be signed exactly (unknown
        contexts, undefined terms, relative IRIs, a ``previousProof`` the document lacks).
        """
        # eddsa-rdfc-2022 signs either data model (VC-DI-EdDSA §2.2); callers choose which.
        check_contexts(document, loader=self.loader, first=LEGACY_FIRST_CONTEXTS)
        existing = proofs_of(document)
        unsecured = {k: v for k, v in document.items() if k != "proof"}
        # 1-2. proofConfig: the proof options; "created" is an XML dateTimeStamp.
        options: dict[str, Any] = {
            "type": PROOF_TYPE,
            "cryptosuite": CRYPTOSUITE,
            "created": xsd_datetime(created or datetime.now(UTC)),
            "verificationMethod": verification_method,
            "proofPurpose": proof_purpose,
        }
        for name, value in (extra_options or {}).items():
            if name not in _PROOF_OPTION_KEYS:
                raise MalformedInputError(f"unsupported proof option {name!r}")
            options[name] = value
        # 3-4. Hash the canonical proof configuration and the canonical document (for a chained
        # proof, the document with the proofs previousProof names: Data Integrity §4.5).
        hash_data = self._hash_data(
            chained_document(unsecured, existing, options), options, budget=budget
        )
        # 5. proofBytes = Ed25519 signature over hashData; 6. proofValue = base58btc multibase.
        signature = key.sign(hash_data)
        proof = {**options, "proofValue": multibase_encode(signature)}
        signed = copy.deepcopy(dict(unsecured))
        signed["proof"] = [*copy.deepcopy(existing), proof]
        return signed

    # -- VC-DI-EdDSA §3.2.2 Verify Proof (eddsa-rdfc-2022) ------------------------------------

    def verify_proof(
        self,
        document: Mapping[str, Any],
        proof: Mapping[str, Any],
        *,
        public_key: Ed25519PublicKey,
        canonical_document: str | None = None,
        budget: WorkBudget | None = None,
    ) -> ProofVerification:
        """Check one proof's signature over ``document``.

        Raises :class:`UnsupportedProofError` (malformed) for a proof that is not a complete
        ``eddsa-rdfc-2022`` proof, and :class:`MalformedInputError` when the document cannot be
        canonicalized exactly.  A signature that does not match is *not* an exception: the
        result says ``verified=False``.  The work is charged to ``budget``, the request's
        (a fresh one per canonicalization if none is given).
        """
        self.check_proof_shape(proof)
        # 1. unsecuredDocument: the document without `proof` (for a chain, with the proofs
        #    that `previousProof` names — Data Integrity §4.5 step 3).
        unsecured = {k: v for k, v in document.items() if k != "proof"}
        previous = proof.get("previousProof")
        if previous is not None:
            wanted = [previous] if isinstance(previous, str) else list(previous)
            matching = [p for p in proofs_of(document) if p.get("id") in wanted]
            if len(matching) != len(wanted):
                return ProofVerification(
                    dict(proof), False, "a proof named by previousProof is missing"
                )
            unsecured["proof"] = matching
            canonical_document = None
        options = {k: v for k, v in proof.items() if k != "proofValue"}
        # 2-3. If the proof carries an @context, the document's @context must start with it.
        proof_context = options.pop("@context", None)
        if proof_context is not None:
            doc_context = document.get("@context")
            doc_list = doc_context if isinstance(doc_context, list) else [doc_context]
            want = proof_context if isinstance(proof_context, list) else [proof_context]
            if doc_list[: len(want)] != want:
                return ProofVerification(
                    dict(proof), False, "the proof's @context does not match the document's"
                )
        try:
            signature = multibase_decode(proof["proofValue"])
        except InvalidKeyError:
            raise UnsupportedProofError(
                "proofValue must be a base58btc multibase string ('z…')"
            ) from None
        if len(signature) != 64:
            return ProofVerification(
                dict(proof), False, "proofValue is not a 64-byte Ed25519 signature"
            )
        # 4-6. Same transformation and hashing as when signing, then verify the signature.
        hash_data = self._hash_data(unsecured, options, canonical_document, budget=budget)
        if budget is not None:
            budget.charge(_UNITS_PER_SIGNATURE, "signature verification")
        try:
            public_key.verify(signature, hash_data)
        except InvalidSignature:
            return ProofVerification(
                dict(proof),
                False,
                "the signature does not match the document: the credential or its proof was "
                "changed after signing, or another key signed it",
            )
        return ProofVerification(dict(proof), True, "the Ed25519 signature is valid")

    @staticmethod
    def check_proof_shape(proof: Mapping[str, Any]) -> None:
        """Refuse proofs we cannot verify at all (Data Integrity §4.3 step 1-2 checks)."""
        if proof.get("type") != PROOF_TYPE:
            raise UnsupportedProofError(
                f"proof type {proof.get('type')!r} is not supported (expected {PROOF_TYPE})"
            )
        if proof.get("cryptosuite") != CRYPTOSUITE:
            raise UnsupportedProofError(
                f"cryptosuite {proof.get('cryptosuite')!r} is not supported "
                f"(expected {CRYPTOSUITE})"
            )
        for field in ("verificationMethod", "proofPurpose", "proofValue"):
            if not isinstance(proof.get(field), str) or not proof.get(field):
                raise UnsupportedProofError(f"the proof has no {field}")
        # Data Integrity §2.1.2: previousProof is one proof id or a set of them.
        previous = proof.get("previousProof")
        if previous is not None and not (
            isinstance(previous, str)
            or (isinstance(previous, list) and all(isinstance(p, str) for p in previous))
        ):
            raise UnsupportedProofError("previousProof must be a proof id or a list of proof ids")
        if "created" in proof:
            parse_datetime(proof["created"], field="proof.created")
        if "expires" in proof:
            parse_datetime(proof["expires"], field="proof.expires")

    def canonical_forms(
        self,
        unsecured: Mapping[str, Any],
        options: Mapping[str, Any],
        *,
        budget: WorkBudget | None = None,
    ) -> tuple[str, str]:
        """The canonical N-Quads of the proof configuration and of the unsecured document.

        §3.2.4 Proof Configuration: ``proofConfig.@context = unsecuredDocument.@context``;
        §3.2.3 Transformation: RDFC-1.0 of the document without its proof.
        """
        proof_config = {**options, "@context": unsecured.get("@context")}
        canonical_config = canonicalize(
            proof_config, loader=self.loader, limits=self.limits, budget=budget
        )
        canonical_document = canonicalize(
            unsecured, loader=self.loader, limits=self.limits, budget=budget
        )
        return canonical_config, canonical_document

    def _hash_data(
        self,
        unsecured: Mapping[str, Any],
        options: Mapping[str, Any],
        canonical_document: str | None = None,
        *,
        budget: WorkBudget | None = None,
    ) -> bytes:
        if canonical_document is None:
            canonical_config, canonical_document = self.canonical_forms(
                unsecured, options, budget=budget
            )
        else:
            proof_config = {**options, "@context": unsecured.get("@context")}
            canonical_config = canonicalize(
                proof_config, loader=self.loader, limits=self.limits, budget=budget
            )
        # §3.2.6 Hashing: hashData = SHA-256(proofConfig) ‖ SHA-256(document), proof hash first.
        return (
            hashlib.sha256(canonical_config.encode("utf-8")).digest()
            + hashlib.sha256(canonical_document.encode("utf-8")).digest()
        )
