"""Verifying proofs made before Data Integrity 1.0: ``Ed25519Signature2020`` and the
``eddsa-2022`` cryptosuite name.  Verification only — Credfolio signs with ``eddsa-rdfc-2022``.

Many Open Badges 3.0 credentials in circulation (the 1EdTech CLR 2.0 samples among them) were
signed with these.  Both hash and sign exactly as ``eddsa-rdfc-2022`` does (VC-DI-EdDSA §3.2.3–
§3.2.6: RDFC-1.0 = URDNA2015 of the proof options — with the document's ``@context`` — and of the
document, SHA-256 of each, proof hash first, Ed25519, ``proofValue`` multibase base58btc), so they
reuse :class:`~credentials.proof.Eddsa2022Suite` and differ only in what a proof must look like:

* ``Ed25519Signature2020`` (W3C CCG "Ed25519 Signature 2020", §4 "Proof Representations"): proof
  ``type`` ``Ed25519Signature2020``, no ``cryptosuite``; the document must carry the suite context
  ``https://w3id.org/security/suites/ed25519-2020/v1`` (jsonld-signatures' "ensure suite context"),
  which defines the proof's terms.
* ``eddsa-2022``: the name the VC-DI-EdDSA drafts of 2022–2023 gave the suite that became
  ``eddsa-rdfc-2022`` (proof ``type`` ``DataIntegrityProof``), used with the Data Integrity v1
  context ``https://w3id.org/security/data-integrity/v1`` in VC 1.1 documents.

:func:`suite_for` picks the suite by the proof's ``type`` and ``cryptosuite``; an
``eddsa-rdfc-2022`` proof gets the current suite itself (no copy, no extra work).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .budget import WorkBudget
from .errors import UnsupportedProofError
from .jsonld import VC_V2_CONTEXT, context_urls
from .proof import CRYPTOSUITE, PROOF_TYPE, Eddsa2022Suite, ProofVerification

ED25519_SIGNATURE_2020 = "Ed25519Signature2020"
ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"
EDDSA_2022 = "eddsa-2022"
DATA_INTEGRITY_V1_CONTEXT = "https://w3id.org/security/data-integrity/v1"
DATA_INTEGRITY_V2_CONTEXT = "https://w3id.org/security/data-integrity/v2"

_Suite = TypeVar("_Suite", bound="_LegacySuite")


class _LegacySuite(Eddsa2022Suite):
    """A suite that verifies like ``eddsa-rdfc-2022`` but accepts another proof shape."""

    #: The proof's name, and how a result names it ("legacy" tells the reader why it is listed).
    name = ""
    label = ""
    #: The document must carry one of these contexts: they define the proof's terms.
    suite_contexts: tuple[str, ...] = ()

    @classmethod
    def like(cls: type[_Suite], current: Eddsa2022Suite) -> _Suite:
        """This suite with everything ``current`` carries (loader, limits, and whatever else a
        request gives the current suite), so a legacy proof is held to the same bounds."""
        clone = copy.copy(current)
        clone.__class__ = cls
        return clone  # type: ignore[return-value]

    @staticmethod
    def check_proof_shape(proof: Mapping[str, Any]) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def verify_proof(
        self,
        document: Mapping[str, Any],
        proof: Mapping[str, Any],
        *,
        public_key: Ed25519PublicKey,
        canonical_document: str | None = None,
        budget: WorkBudget | None = None,
    ) -> ProofVerification:
        self.check_proof_shape(proof)
        contexts = context_urls(document)
        if not any(context in contexts for context in self.suite_contexts):
            return ProofVerification(
                dict(proof),
                False,
                f"an {self.name} proof needs the context "
                f"{' or '.join(self.suite_contexts)} in the credential's @context, which defines "
                "the proof's terms; without it the proof cannot be checked",
            )
        return super().verify_proof(
            document,
            proof,
            public_key=public_key,
            canonical_document=canonical_document,
            budget=budget,
        )


class Ed25519Signature2020Suite(_LegacySuite):
    """``Ed25519Signature2020`` (W3C CCG), verification only."""

    name = ED25519_SIGNATURE_2020
    label = "Ed25519Signature2020 (legacy proof type)"
    suite_contexts = (ED25519_2020_CONTEXT,)

    @staticmethod
    def check_proof_shape(proof: Mapping[str, Any]) -> None:
        if proof.get("type") != ED25519_SIGNATURE_2020:
            raise UnsupportedProofError(f"proof type {proof.get('type')!r} is not supported")
        if "cryptosuite" in proof:
            raise UnsupportedProofError(
                "an Ed25519Signature2020 proof has no cryptosuite (that is a DataIntegrityProof)"
            )
        # Every other rule (verificationMethod, proofPurpose, proofValue, dates, previousProof)
        # is the current suite's.
        Eddsa2022Suite.check_proof_shape({**proof, "type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE})


class Eddsa2022NameSuite(_LegacySuite):
    """``DataIntegrityProof`` with the draft cryptosuite name ``eddsa-2022``, verification only."""

    name = EDDSA_2022
    label = "eddsa-2022 (legacy cryptosuite name of eddsa-rdfc-2022)"
    # The Data Integrity v1 context of its day, or a context that defines DataIntegrityProof
    # the same way today (Data Integrity v2, or the VC 2.0 context that includes it).
    suite_contexts = (DATA_INTEGRITY_V1_CONTEXT, DATA_INTEGRITY_V2_CONTEXT, VC_V2_CONTEXT)

    @staticmethod
    def check_proof_shape(proof: Mapping[str, Any]) -> None:
        if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != EDDSA_2022:
            raise UnsupportedProofError("not a DataIntegrityProof with cryptosuite 'eddsa-2022'")
        Eddsa2022Suite.check_proof_shape({**proof, "cryptosuite": CRYPTOSUITE})


def suite_for(proof: Mapping[str, Any], *, current: Eddsa2022Suite) -> Eddsa2022Suite:
    """The suite that verifies ``proof``: ``current`` for ``eddsa-rdfc-2022`` (and for anything
    unsupported, whose shape check then names what is wrong), a legacy suite otherwise."""
    kind, cryptosuite = proof.get("type"), proof.get("cryptosuite")
    if kind == PROOF_TYPE and cryptosuite == CRYPTOSUITE:
        return current
    if kind == ED25519_SIGNATURE_2020:
        return Ed25519Signature2020Suite.like(current)
    if kind == PROOF_TYPE and cryptosuite == EDDSA_2022:
        return Eddsa2022NameSuite.like(current)
    return current


def legacy_label(proof: Mapping[str, Any]) -> str | None:
    """How to name a legacy proof in a result (``None`` for a current one)."""
    if proof.get("type") == ED25519_SIGNATURE_2020:
        return Ed25519Signature2020Suite.label
    if proof.get("type") == PROOF_TYPE and proof.get("cryptosuite") == EDDSA_2022:
        return Eddsa2022NameSuite.label
    return None
