"""The ``Verifier``: every check on a credential, each reported by name with a reason.

Follows Open Badges 3.0 "Verification and Validation" (conformance, proof, status, endorsements)
and VC Data Model 2.0 / Data Integrity 1.0 verification.  Dependencies are keyword-only callables
so the same verifier runs offline in the CLI and against the database in the service:

* ``resolve_key(verification_method_id) -> ResolvedMethod`` (raises ``CannotDecideError`` when the
  key's DID document cannot be obtained, ``VerificationFailure`` when it does not exist);
* ``resolve_status_list(url) -> dict`` (a BitstringStatusListCredential, or ``CannotDecideError``);
* ``now() -> datetime``.

Malformed input raises :class:`~credentials.errors.MalformedInputError` (carrying the checks run so
far); an untrustworthy credential returns a result with ``verified == False``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from issuer_keys import did as dids
from issuer_keys.errors import IssuerKeyError
from issuer_keys.multikey import decode_public_key

from . import (
    rdfc,
    schema,
    schema_conformance,
    status,
    status_check,
    status_list_2021,
    vc_rules,
    verification_methods,
)
from .budget import WorkBudget, WorkBudgetExceeded
from .data_model import VC_1_1, VC_2_0, data_model_of, vc11_validity
from .errors import (
    CannotDecideError,
    CredentialError,
    MalformedInputError,
    VerificationFailure,
)
from .foreign_formats import foreign_format_error
from .issuer_trust import CHECK_NAME as ISSUER_TRUST
from .issuer_trust import IssuerTrustPolicy, TrustedIssuer, claimed_name, trust_detail
from .jsonld import DocumentLoader, canonicalize, check_contexts, check_structure
from .legacy_proofs import legacy_label, suite_for
from .proof import LEGACY_FIRST_CONTEXTS, Eddsa2022Suite, parse_datetime, proofs_of
from .proof_policy import issuer_of_proofs

PASSED = "passed"
FAILED = "failed"
NOT_APPLICABLE = "not-applicable"
UNKNOWN = "unknown"
#: A departure the specifications permit but a strict validator reports (the ``schema`` check of
#: a credential whose ``credentialStatus`` is a list): shown, never counted as passed, and it does
#: not make the credential unverified.
WARNING = "warning"

OB_CREDENTIAL_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential"})
ENDORSEMENT_TYPE = "EndorsementCredential"
MAX_PROOFS = 8
MAX_NESTING = 2  # status list credentials and embedded endorsements are verified one level down
#: Work units (credentials/budget.py) of the checks every credential costs whatever its size:
#: contexts, the JSON Schema, dates (a few milliseconds).
UNITS_PER_CREDENTIAL = 2_000
#: Checks that inform but do not decide ``verified``: who vouches for the issuer is a question
#: apart from whether the credential is genuine and in force (docs/verification.md, "Issuer
#: trust").
ADVISORY_CHECKS = frozenset({ISSUER_TRUST})
#: The checks that establish who signed a credential and that nothing changed since it was
#: signed (``proof[1]``... count too); validity dates, status and schema do not bear on that.
SIGNATURE_CHECKS = frozenset(
    {"contexts", "terms", "vc-data-model", "proof", "issuer", "key-status"}
)
#: ``VerificationResult.verdict`` values.
VERDICT_VERIFIED = "verified"
VERDICT_ISSUER_NOT_CONFIRMED = "genuine-issuer-not-confirmed"
VERDICT_NOT_VERIFIED = "not-verified"


@dataclass(frozen=True)
class Check:
    """One named check: ``passed``, ``failed``, ``not-applicable``, ``unknown`` or ``warning``."""

    name: str
    status: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


@dataclass
class VerificationResult:
    """Every check that ran.  ``verified`` only when none failed or stayed unknown."""

    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    credential: dict[str, Any] | None = None
    #: "VC 2.0" or "VC 1.1" (credentials/data_model.py), known once the contexts are checked.
    data_model: str = VC_2_0
    #: Proofs of a kind that predates Data Integrity 1.0, by name (credentials/legacy_proofs.py).
    legacy_proofs: list[str] = field(default_factory=list)
    #: Who vouches for the issuer (the ``issuer-trust`` check), when someone does.
    trusted_issuer: TrustedIssuer | None = None

    @property
    def verified(self) -> bool:
        """Genuine and in force: every deciding check passed or does not apply (the advisory
        ``issuer-trust`` check is not one of them; see :attr:`verdict`)."""
        deciding = [c for c in self.checks if c.name not in ADVISORY_CHECKS]
        proofs_passed = any(c.name.startswith("proof") and c.status == PASSED for c in deciding)
        return proofs_passed and all(
            c.status in (PASSED, NOT_APPLICABLE, WARNING) for c in deciding
        )

    @property
    def genuine(self) -> bool:
        """Signed by the issuer's key and unchanged since: every :data:`SIGNATURE_CHECKS` check
        passed (a revoked or expired credential can be genuine, its issuer proven)."""
        relevant = [
            c for c in self.checks if c.name in SIGNATURE_CHECKS or c.name.startswith("proof[")
        ]
        proofs_passed = any(c.name.startswith("proof") and c.status == PASSED for c in relevant)
        return proofs_passed and all(
            c.status in (PASSED, NOT_APPLICABLE, WARNING) for c in relevant
        )

    @property
    def issuer_confirmed(self) -> bool:
        """``issuer-trust`` passed: a source the verifier trusts vouches for the issuer's id."""
        found = self.check(ISSUER_TRUST)
        return found is not None and found.status == PASSED

    @property
    def verdict(self) -> str:
        """``verified`` (genuine, in force, issuer confirmed), ``genuine-issuer-not-confirmed``
        (a good signature by an issuer no trusted source vouches for) or ``not-verified``."""
        if not self.verified:
            return VERDICT_NOT_VERIFIED
        return VERDICT_VERIFIED if self.issuer_confirmed else VERDICT_ISSUER_NOT_CONFIRMED

    @property
    def errors(self) -> list[str]:
        return [
            f"{c.name}: {c.detail}"
            for c in self.checks
            if c.status in (FAILED, UNKNOWN) and c.name not in ADVISORY_CHECKS
        ]

    def check(self, name: str) -> Check | None:
        """The check with that name, if it ran."""
        return next((c for c in self.checks if c.name == name), None)

    def add(self, name: str, status_: str, detail: str) -> None:
        self.checks.append(Check(name, status_, detail))

    def to_dict(self) -> dict[str, Any]:
        """The object the verify API and ``credfolio verify --json`` return."""
        body: dict[str, Any] = {
            "verified": self.verified,
            "checks": [c.to_dict() for c in self.checks],
            "warnings": list(self.warnings),
            "errors": self.errors,
            "dataModel": self.data_model,
            "legacyProofs": list(self.legacy_proofs),
        }
        if self.check(ISSUER_TRUST) is not None:
            body["verdict"] = self.verdict
            body["issuer"] = self._issuer_dict()
        return body

    def _issuer_dict(self) -> dict[str, Any]:
        """Who issued it, said as truthfully as the checks allow: a confirmed name comes from
        the source that vouches for the issuer, never from the credential itself."""
        document = self.credential or {}
        trusted = self.trusted_issuer
        try:
            identifier: str | None = issuer_id(document)
        except MalformedInputError:
            identifier = None
        if trusted is not None and self.issuer_confirmed:
            return {
                "id": identifier,
                "confirmed": True,
                "name": trusted.name,
                "source": trusted.source,
            }
        return {"id": identifier, "confirmed": False, "claimedName": claimed_name(document)}


@dataclass(frozen=True)
class ResolvedMethod:
    """A verification method as resolved from its controller's DID document (or key store)."""

    id: str
    controller: str
    public_key: Ed25519PublicKey
    #: Listed under the controller's ``assertionMethod`` (may sign credentials).
    assertion_method: bool
    #: ``active``, ``retired`` (rotated out; still verifies what it signed) or ``revoked``.
    status: str = "active"
    retired_at: datetime | None = None


class KeyResolver(Protocol):
    def __call__(self, verification_method: str) -> ResolvedMethod: ...


class StatusListResolver(Protocol):
    def __call__(self, url: str) -> Mapping[str, Any]: ...


class OfflineKeyResolver:
    """Resolves ``did:key`` for any Ed25519 key offline (a bare ``did:key`` too), and DIDs and
    HTTP(S) verification methods whose DID or controller documents it was given (keyed by id).

    ``key_status`` optionally reports the status of a verification method the service itself
    manages (``active``/``retired``/``revoked``), e.g. from the key store.
    """

    def __init__(
        self,
        *,
        did_documents: Mapping[str, Mapping[str, Any]] | None = None,
        key_status: Callable[[str], tuple[str, datetime | None] | None] | None = None,
    ) -> None:
        self._documents = dict(did_documents or {})
        self._key_status = key_status

    def __call__(self, verification_method: str) -> ResolvedMethod:
        # No scheme or an unknown one: a malformed proof (VerificationFailure), not "unknown".
        kind = verification_methods.kind_of(verification_method)
        did = verification_method.split("#", 1)[0]
        try:
            if did.startswith("did:key:"):
                controller, public_key, authorized = _did_key_method(
                    verification_methods.did_key_url(verification_method)
                )
            elif kind == verification_methods.HTTP:
                controller, public_key, authorized = self._http_method(verification_method)
            elif did in self._documents:
                controller, public_key, authorized = _method_in(
                    dict(self._documents[did]), verification_method
                )
            elif did.startswith("did:"):
                raise CannotDecideError(
                    f"the DID document of {did} is not available offline (fetching is disabled)"
                )
            else:
                raise CannotDecideError(f"verification method {verification_method!r} is not a DID")
        except IssuerKeyError as exc:
            raise VerificationFailure(exc.message, code=exc.code) from None
        except (KeyError, TypeError):
            raise VerificationFailure(
                f"verification method {verification_method!r} has no Ed25519 publicKeyMultibase"
            ) from None
        key_status, retired_at = ("active", None)
        if self._key_status is not None:
            known = self._key_status(verification_method)
            if known is not None:
                key_status, retired_at = known
        return ResolvedMethod(
            id=verification_method,
            controller=controller,
            public_key=public_key,
            assertion_method=authorized,
            status=key_status,
            retired_at=retired_at,
        )

    def _http_method(self, verification_method: str) -> tuple[str, Ed25519PublicKey, bool]:
        url = verification_methods.document_url(verification_method)
        if url not in self._documents:
            raise CannotDecideError(
                f"the controller document {url} of the verification method is not at hand "
                "(give it to the verifier, or enable fetching)"
            )
        return verification_methods.method_in_controller_document(
            self._documents[url], verification_method
        )


def _method_in(
    document: Mapping[str, Any], verification_method: str
) -> tuple[str, Ed25519PublicKey, bool]:
    """(controller, public key, listed under assertionMethod) of a method in a DID document.

    Raises ``IssuerKeyError`` (no such method, not Ed25519...) or ``KeyError``/``TypeError``
    (no ``publicKeyMultibase``).
    """
    did = verification_method.split("#", 1)[0]
    method = dids.dereference_verification_method(document, verification_method)
    public_key = decode_public_key(method["publicKeyMultibase"])
    authorized = dids.is_authorized(document, verification_method, "assertionMethod")
    return str(method.get("controller", did)), public_key, authorized


@functools.lru_cache(maxsize=1024)
def _did_key_method(verification_method: str) -> tuple[str, Ed25519PublicKey, bool]:
    # A did:key document is derived from the key itself (did:key Method v0.9), so the same
    # DID URL always resolves to the same method: derive it once.  Failures are not cached.
    return _method_in(dids.resolve_did_key(verification_method), verification_method)


class StatusListMap:
    """A status-list resolver over documents already at hand (files given on the command line)."""

    def __init__(self, lists: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._lists = dict(lists or {})

    def __call__(self, url: str) -> Mapping[str, Any]:
        try:
            return self._lists[url]
        except KeyError:
            raise CannotDecideError(
                f"status list {url} is not available offline (fetching is disabled)"
            ) from None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def parse_credential(data: Any) -> dict[str, Any]:
    """Accept a dict, or JSON text/bytes; raise :class:`MalformedInputError` otherwise."""
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise foreign_format_error(data) or MalformedInputError(
                "the credential is not UTF-8 text", code="NOT_JSON"
            ) from None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise foreign_format_error(data) or MalformedInputError(
                f"the credential is not valid JSON: {exc}", code="NOT_JSON"
            ) from None
        except RecursionError:
            raise MalformedInputError(
                "the credential is not valid JSON: it is nested too deeply", code="NOT_JSON"
            ) from None
        except ValueError:
            # Python refuses to convert integers of more than 4,300 digits (CVE-2020-10735).
            raise MalformedInputError(
                "the credential is not valid JSON: a number has too many digits", code="NOT_JSON"
            ) from None
    if not isinstance(data, dict):
        raise MalformedInputError("a credential must be a JSON object", code="NOT_AN_OBJECT")
    return data


def types_of(node: Mapping[str, Any]) -> list[str]:
    """``type`` as a list of strings."""
    value = node.get("type")
    values = value if isinstance(value, list) else [value] if value is not None else []
    return [v for v in values if isinstance(v, str)]


def issuer_id(credential: Mapping[str, Any]) -> str:
    """The issuer's id (``issuer`` may be a URL or a Profile object)."""
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if not isinstance(issuer, str) or not issuer:
        raise MalformedInputError("the credential has no issuer id", code="MISSING_ISSUER")
    return issuer


class Verifier:
    """Runs every check on a credential and reports each one.

    Construct directly with resolvers, or with :meth:`offline` for the CLI and tests.
    """

    def __init__(
        self,
        *,
        loader: DocumentLoader,
        resolve_key: KeyResolver,
        resolve_status_list: StatusListResolver | None = None,
        now: Callable[[], datetime] = _utcnow,
        limits: rdfc.CanonLimits | None = None,
        budget: WorkBudget | None = None,
        resolve_related_resource: vc_rules.ResourceLookup | None = None,
        trust: IssuerTrustPolicy | None = None,
    ) -> None:
        self.loader = loader
        #: The request's work budget, when this verifier serves one request (the service makes
        #: one verifier per request); otherwise each :meth:`verify` call gets a fresh one.
        self.budget = budget
        # relatedResource digests are compared with bundled contexts, then with what this gives.
        self.related_resource = vc_rules.first_at_hand(
            loader.published_bytes, resolve_related_resource
        )
        self.resolve_key = resolve_key
        self.resolve_status_list = resolve_status_list
        self.now = now
        #: Who vouches for issuers (``issuer-trust``); None: no one, the check is ``unknown``.
        self.trust = trust
        self.suite = Eddsa2022Suite(loader=loader, limits=limits)

    @classmethod
    def offline(
        cls,
        *,
        loader: DocumentLoader | None = None,
        did_documents: Mapping[str, Mapping[str, Any]] | None = None,
        status_lists: Mapping[str, Mapping[str, Any]] | None = None,
        now: Callable[[], datetime] = _utcnow,
        budget: WorkBudget | None = None,
    ) -> Verifier:
        """A verifier that never touches the network: did:key, given DID documents and lists."""
        return cls(
            loader=loader or DocumentLoader.bundled(),
            resolve_key=OfflineKeyResolver(did_documents=did_documents),
            resolve_status_list=StatusListMap(status_lists),
            now=now,
            budget=budget,
        )

    def verify(self, credential: Any) -> VerificationResult:
        """Verify a credential (dict, JSON text or bytes).

        Returns a :class:`VerificationResult`; raises :class:`MalformedInputError` when the input
        cannot be judged (its ``result`` holds the checks run before that), including
        :class:`~credentials.budget.WorkBudgetExceeded` when checking it would need more work
        than one request may use (credentials/budget.py).
        """
        return self._verify(parse_credential(credential), depth=0, budget=self.request_budget())

    def request_budget(self) -> WorkBudget:
        """The budget to draw on: the request's, or a fresh one for a verifier not made for one."""
        return self.budget if self.budget is not None else WorkBudget()

    # -- the checks, in the order of OB 3.0 §Verification --------------------------------------

    def _verify(
        self, document: dict[str, Any], *, depth: int, budget: WorkBudget
    ) -> VerificationResult:
        result = VerificationResult(credential=document)
        try:
            budget.charge(UNITS_PER_CREDENTIAL, "credential checks")
            self._check_shape(document)
            self._check_contexts(document, result)
            canonical = self._check_terms(document, result, budget)
            self._check_vc_rules(document, result)
            self._check_schema(document, result)
            budget.check_clock("the JSON Schema check")
            self._check_subject(document, result)
            self._check_proofs(document, result, canonical, budget)
            self._check_validity(document, result)
            self._check_status(document, result, depth=depth, budget=budget)
            self._check_endorsements(document, result, depth=depth, budget=budget)
            if depth == 0:
                self._check_issuer_trust(document, result)
        except MalformedInputError as exc:
            exc.result = result
            raise
        return result

    @staticmethod
    def _check_shape(document: Mapping[str, Any]) -> None:
        # Before anything reads (or repeats in a message) a value: JSON that JSON-LD processing
        # cannot take safely (too deep, lone surrogates) is refused as a whole.
        check_structure(document)
        # VC DM 2.0 §4: a credential has @context, type (with VerifiableCredential), issuer and
        # credentialSubject.  Missing any of them is malformed input, not a failed check.
        if "VerifiableCredential" not in types_of(document):
            raise MalformedInputError(
                "type must include 'VerifiableCredential'", code="INVALID_TYPE"
            )
        issuer_id(document)
        subject = document.get("credentialSubject")
        if not isinstance(subject, dict | list) or not subject:
            raise MalformedInputError(
                "the credential has no credentialSubject", code="MISSING_SUBJECT"
            )
        if len(proofs_of(document)) > MAX_PROOFS:
            raise MalformedInputError(f"more than {MAX_PROOFS} proofs", code="TOO_MANY_PROOFS")

    def _check_contexts(self, document: Mapping[str, Any], result: VerificationResult) -> None:
        try:
            check_contexts(document, loader=self.loader, first=LEGACY_FIRST_CONTEXTS)
        except MalformedInputError as exc:
            result.add("contexts", FAILED, exc.message)
            raise
        result.data_model = data_model_of(document)
        if result.data_model == VC_1_1:
            result.warnings.append("VC Data Model 1.1 credential (legacy context)")
        result.add("contexts", PASSED, "every JSON-LD context is one of the bundled contexts")

    def _check_terms(
        self, document: Mapping[str, Any], result: VerificationResult, budget: WorkBudget
    ) -> str:
        unsecured = {k: v for k, v in document.items() if k != "proof"}
        try:
            # _check_shape ran check_structure on the whole document just before.
            canonical = canonicalize(
                unsecured,
                loader=self.loader,
                limits=self.suite.limits,
                structure_checked=True,
                budget=budget,
            )
        except WorkBudgetExceeded:
            raise  # not a verdict on the terms: the request as a whole is refused
        except MalformedInputError as exc:
            result.add("terms", FAILED, exc.message)
            raise
        result.add("terms", PASSED, "every property is defined, so every property is signed")
        return canonical

    def _check_vc_rules(self, document: Mapping[str, Any], result: VerificationResult) -> None:
        # VC Data Model 2.0 MUSTs (credentials/vc_rules.py; the list is in docs/verification.md).
        found = vc_rules.violations(document, resource=self.related_resource)
        if found:
            result.add("vc-data-model", FAILED, "; ".join(v.message for v in found[:3]))
        else:
            result.add("vc-data-model", PASSED, "follows the VC Data Model 2.0 rules")

    @staticmethod
    def _check_schema(document: Mapping[str, Any], result: VerificationResult) -> None:
        try:
            kind = schema.schema_for(document)
        except CredentialError as exc:
            result.add("schema", FAILED, exc.message)
            return
        if kind is None:
            result.add("schema", NOT_APPLICABLE, "not an Open Badges credential")
            return
        if data_model_of(document) == VC_1_1:
            result.add(
                "schema",
                NOT_APPLICABLE,
                "the 1EdTech JSON Schema describes VC Data Model 2.0 credentials only",
            )
            return
        # OB 3.0 Verification step 1: the document exactly as published against the schema as
        # published; the validator's own errors are reported (schema_conformance.py).
        verdict = schema_conformance.judge(document, kind)
        if verdict.matches:
            result.add("schema", PASSED, f"matches the 1EdTech {kind} JSON Schema as published")
        elif verdict.permitted:
            result.add(
                "schema",
                WARNING,
                f"does not match the 1EdTech {kind} JSON Schema as published: "
                f"{verdict.summary()}. Permitted: {'; '.join(verdict.permitted_by)}; "
                "strict OB 3.0 validators report it as invalid",
            )
        else:
            result.add("schema", FAILED, f"does not match the {kind} schema: {verdict.summary()}")

    @staticmethod
    def _check_subject(document: Mapping[str, Any], result: VerificationResult) -> None:
        # OB 3.0 Verification step 1: the subject is identified by `id` and/or `identifier`.
        if not OB_CREDENTIAL_TYPES.intersection(types_of(document)):
            result.add("subject", NOT_APPLICABLE, "not an achievement credential")
            return
        subjects = document["credentialSubject"]
        subjects = subjects if isinstance(subjects, list) else [subjects]
        if all(isinstance(s, dict) and (s.get("id") or s.get("identifier")) for s in subjects):
            result.add("subject", PASSED, "the recipient is identified by id or identifier")
        else:
            result.add("subject", FAILED, "credentialSubject has neither an id nor an identifier")

    def _check_proofs(
        self,
        document: Mapping[str, Any],
        result: VerificationResult,
        canonical: str,
        budget: WorkBudget,
    ) -> None:
        proofs = proofs_of(document)
        if not proofs:
            result.add("proof", FAILED, "the credential has no proof")
            return
        issuer = issuer_id(document)
        key_checks: list[Check] = []
        issuer_bindings: list[tuple[str, str, str]] = []
        for index, proof in enumerate(proofs):
            name = "proof" if index == 0 else f"proof[{index}]"
            suite = suite_for(proof, current=self.suite)
            suite.check_proof_shape(proof)
            label = legacy_label(proof)
            if label is not None and label not in result.legacy_proofs:
                result.legacy_proofs.append(label)
            vm_id = proof["verificationMethod"]
            try:
                method = self.resolve_key(vm_id)
            except CannotDecideError as exc:
                result.add(name, UNKNOWN, exc.message)
                key_checks.append(Check("key-status", UNKNOWN, exc.message))
                issuer_bindings.append((name, UNKNOWN, exc.message))
                continue
            except VerificationFailure as exc:
                result.add(name, FAILED, f"the verification method cannot be used: {exc.message}")
                key_checks.append(Check("key-status", FAILED, exc.message))
                issuer_bindings.append((name, FAILED, exc.message))
                continue
            outcome = suite.verify_proof(
                document,
                proof,
                public_key=method.public_key,
                canonical_document=canonical,
                budget=budget,
            )
            status_ = PASSED if outcome.verified else FAILED
            detail = outcome.detail
            if outcome.verified:
                detail, status_ = self._proof_policy(proof, detail)
            result.add(name, status_, detail)
            binding = self._issuer_binding(issuer, method, proof)
            issuer_bindings.append((name, binding.status, binding.detail))
            key_checks.append(self._key_status(method, proof))
        # Proof sets and chains: at least one proof is the issuer's (credentials/proof_policy.py).
        result.add("issuer", *issuer_of_proofs(issuer_bindings))
        result.checks.append(_worst("key-status", key_checks))

    def _proof_policy(self, proof: Mapping[str, Any], detail: str) -> tuple[str, str]:
        if proof.get("proofPurpose") != "assertionMethod":
            return (
                f"proofPurpose is {proof.get('proofPurpose')!r}; a credential needs "
                "'assertionMethod'",
                FAILED,
            )
        if "expires" in proof:
            expires = parse_datetime(proof["expires"], field="proof.expires")
            if self.now() > expires:
                return f"the proof expired on {proof['expires']}", FAILED
        return detail, PASSED

    @staticmethod
    def _issuer_binding(issuer: str, method: ResolvedMethod, proof: Mapping[str, Any]) -> Check:
        # VC DM 2.0 §4.7 / Data Integrity §4.5: the verification method's controller must be the
        # issuer, and the issuer's DID document must list it under assertionMethod.
        if method.controller != issuer:
            return Check(
                "issuer",
                FAILED,
                f"signed with a key controlled by {method.controller}, but the issuer is {issuer}",
            )
        if not method.assertion_method:
            return Check(
                "issuer",
                FAILED,
                f"{method.id} is not listed under {issuer}'s assertionMethod",
            )
        return Check("issuer", PASSED, f"the signing key belongs to the issuer {issuer}")

    @staticmethod
    def _key_status(method: ResolvedMethod, proof: Mapping[str, Any]) -> Check:
        if method.status == "revoked":
            return Check("key-status", FAILED, f"the issuer revoked the key {method.id}")
        if method.status == "retired":
            if method.retired_at and "created" in proof:
                created = parse_datetime(proof["created"], field="proof.created")
                if created > method.retired_at:
                    return Check(
                        "key-status",
                        FAILED,
                        "the proof was created after its key was retired",
                    )
            return Check(
                "key-status",
                PASSED,
                "the key has been rotated out; it still verifies what it signed before",
            )
        return Check("key-status", PASSED, "the key is current")

    def _check_issuer_trust(self, document: Mapping[str, Any], result: VerificationResult) -> None:
        # Advisory (ADVISORY_CHECKS): passed when a trusted source lists the issuer's id,
        # unknown otherwise; the name a credential gives its issuer is only a claim.
        trusted = self.trust(issuer_id(document)) if self.trust is not None else None
        result.trusted_issuer = trusted
        detail = trust_detail(trusted, claimed=claimed_name(document))
        result.add(ISSUER_TRUST, PASSED if trusted is not None else UNKNOWN, detail)

    def _check_validity(self, document: Mapping[str, Any], result: VerificationResult) -> None:
        # OB 3.0 Verification step 4 / VC DM 2.0 §4.9; VC 1.1 uses issuanceDate/expirationDate.
        now = self.now()
        if result.data_model == VC_1_1:
            checks, warnings = vc11_validity(document, now=now)
            result.warnings.extend(warnings)
            for name, outcome, detail in checks:
                result.add(name, outcome, detail)
            return
        start_field = "validFrom" if "validFrom" in document else "issuanceDate"
        end_field = "validUntil" if "validUntil" in document else "expirationDate"
        if start_field in document:
            start = parse_datetime(document[start_field], field=start_field)
            if now < start:
                result.add(
                    "valid-from", FAILED, f"not valid yet: valid from {document[start_field]}"
                )
            else:
                result.add("valid-from", PASSED, f"valid since {document[start_field]}")
        else:
            result.add("valid-from", NOT_APPLICABLE, "no validFrom date")
        if end_field in document:
            end = parse_datetime(document[end_field], field=end_field)
            if start_field in document and end < parse_datetime(
                document[start_field], field=start_field
            ):
                result.add(
                    "valid-until", FAILED, f"{end_field} is before {start_field}: never valid"
                )
            elif now > end:
                result.add("valid-until", FAILED, f"expired on {document[end_field]}")
            else:
                result.add("valid-until", PASSED, f"valid until {document[end_field]}")
        else:
            result.add("valid-until", NOT_APPLICABLE, "no expiry date")

    def _check_status(
        self,
        document: Mapping[str, Any],
        result: VerificationResult,
        *,
        depth: int,
        budget: WorkBudget,
    ) -> None:
        raw = document.get("credentialStatus")
        entries = raw if isinstance(raw, list) else [raw] if raw is not None else []
        found: dict[str, list[Check]] = {"revocation": [], "suspension": []}
        for entry in entries:
            if not isinstance(entry, dict):
                raise MalformedInputError("credentialStatus entries must be objects")
            if "1EdTechRevocationList" in types_of(entry):
                found["revocation"].append(
                    Check(
                        "revocation",
                        UNKNOWN,
                        "1EdTechRevocationList status cannot be checked offline",
                    )
                )
                continue
            if status_list_2021.is_entry(entry):
                continue  # VC 1.1 era: read below, each list once (status_list_2021.py)
            parsed = status.parse_status_entry(entry)
            if parsed.purpose not in found:
                result.warnings.append(f"status purpose {parsed.purpose!r} is not checked")
                continue
            found[parsed.purpose].append(
                self._read_status(document, parsed, depth=depth, budget=budget)
            )
        for ruling in self._status_list_2021(document, entries, depth=depth, budget=budget):
            found[ruling.purpose].append(Check(ruling.purpose, ruling.outcome, ruling.detail))
        for purpose, checks in found.items():
            if checks:
                result.checks.append(_worst(purpose, checks))
            else:
                result.add(purpose, NOT_APPLICABLE, f"the credential has no {purpose} status")

    def _status_list_2021(
        self,
        document: Mapping[str, Any],
        entries: list[Any],
        *,
        depth: int,
        budget: WorkBudget,
    ) -> list[status_list_2021.Ruling]:
        legacy = [entry for entry in entries if status_list_2021.is_entry(entry)]
        if not legacy:
            return []
        checkable = self.resolve_status_list is not None and depth < MAX_NESTING
        budget.charge(len(legacy) * status_check.UNITS_PER_ENTRY, "status entries")
        issuer = issuer_id(document)

        def verify_list(list_credential: dict[str, Any]) -> str | None:
            inner = self._verify(list_credential, depth=depth + 1, budget=budget)
            return None if inner.verified else "; ".join(inner.errors)

        return status_list_2021.check_entries(
            legacy,
            issuer=issuer,
            resolve=self.resolve_status_list if checkable else None,
            verify_list=verify_list if checkable else None,
            # Each list fetched and verified once per request, not only per credential.
            lists=budget.once(("status-list-2021", issuer), dict),
        )

    def _read_status(
        self,
        document: Mapping[str, Any],
        entry: status.StatusEntry,
        *,
        depth: int,
        budget: WorkBudget,
    ) -> Check:
        name = entry.purpose
        if self.resolve_status_list is None or depth >= MAX_NESTING:
            return Check(name, UNKNOWN, "status lists are not checked by this verifier")
        # Each list is dereferenced, verified and expanded once per request (status_check.py).
        verdict = status_check.list_verdict(
            entry.url,
            budget=budget,
            verify_list=lambda url: self._verify_status_list(url, depth=depth, budget=budget),
        )
        is_set, why = status_check.entry_outcome(entry, verdict, budget=budget)
        if is_set is None:
            return Check(name, UNKNOWN, why)
        # Bitstring Status List §3.2 never compares the list's issuer with the credential's
        # (a status service may sign lists for issuers): said, not required.
        signer = issuer_id(verdict.credential) if verdict.credential else None
        notes = [why] if why else []
        if signer is not None and signer != issuer_id(document):
            notes.insert(0, f"the list is signed by {signer}, not by the credential's issuer")
        said = f"; {'; '.join(notes)}" if notes else ""
        if is_set:
            word = "revoked" if name == "revocation" else "suspended"
            return Check(name, FAILED, f"{word} (status list {entry.url}){said}")
        word = "not revoked" if name == "revocation" else "not suspended"
        return Check(name, PASSED, f"{word} (status list {entry.url}){said}")

    def _verify_status_list(
        self, url: str, *, depth: int, budget: WorkBudget
    ) -> status_check.ListVerdict:
        try:
            list_credential = dict(self.resolve_status_list(url))  # type: ignore[misc]
        except CannotDecideError as exc:
            return status_check.ListVerdict(url, problem=exc.message)
        try:
            list_result = self._verify(list_credential, depth=depth + 1, budget=budget)
        except WorkBudgetExceeded:
            raise
        except MalformedInputError as exc:
            return status_check.ListVerdict(
                url, problem=f"the status list {url} is malformed: {exc.message}"
            )
        # §3.2 step 4: "ensure that all proofs verify successfully" (each proof, by a key its
        # issuer controls and has not revoked) -- else STATUS_VERIFICATION_ERROR.  The list's
        # other checks (dates, schema, its own status) are not asked for: said, not required.
        proofs = [
            c for c in list_result.checks if c.name in _LIST_PROOF_CHECKS or c.name[:6] == "proof["
        ]
        failing = [c for c in proofs if c.status != PASSED]
        if failing or not any(c.name == "proof" for c in proofs):
            details = "; ".join(f"{c.name}: {c.detail}" for c in failing) or "it has no proof"
            return status_check.ListVerdict(
                url, problem=f"the status list {url} does not verify: {details}"
            )
        others = [
            f"the list's own {c.name} check: {c.detail}"
            for c in list_result.checks
            if c not in proofs and c.status in (FAILED, UNKNOWN)
        ]
        return status_check.ListVerdict(url, list_credential, note="; ".join(others))

    def _check_endorsements(
        self,
        document: Mapping[str, Any],
        result: VerificationResult,
        *,
        depth: int,
        budget: WorkBudget,
    ) -> None:
        # OB 3.0 Verification step 6: verify every embedded EndorsementCredential.
        endorsements = document.get("endorsement") or []
        if not isinstance(endorsements, list):
            endorsements = [endorsements]
        if not endorsements:
            result.add("endorsements", NOT_APPLICABLE, "no embedded endorsements")
            return
        if depth >= MAX_NESTING:
            result.add("endorsements", UNKNOWN, "endorsements nested too deeply to check")
            return
        failures = []
        for index, endorsement in enumerate(endorsements):
            if not isinstance(endorsement, dict) or ENDORSEMENT_TYPE not in types_of(endorsement):
                failures.append(f"endorsement {index + 1} is not an EndorsementCredential")
                continue
            try:
                inner = self._verify(endorsement, depth=depth + 1, budget=budget)
            except WorkBudgetExceeded:
                raise  # the request as a whole is refused, not this endorsement
            except MalformedInputError as exc:
                failures.append(f"endorsement {index + 1} is malformed: {exc.message}")
                continue
            if not inner.verified:
                failures.append(f"endorsement {index + 1}: {'; '.join(inner.errors)}")
        if failures:
            result.add("endorsements", FAILED, "; ".join(failures))
        else:
            result.add("endorsements", PASSED, f"{len(endorsements)} endorsement(s) verified")


_SEVERITY = {FAILED: 4, UNKNOWN: 3, WARNING: 2, PASSED: 1, NOT_APPLICABLE: 0}
#: The checks of a status list credential that make up "all proofs verify successfully"
#: (Bitstring Status List §3.2 step 4), besides ``proof[1]``, ``proof[2]``...
_LIST_PROOF_CHECKS = frozenset({"proof", "issuer", "key-status"})


def _worst(name: str, checks: list[Check]) -> Check:
    """Combine several checks of one kind (one per proof or status entry) into one."""
    worst = max(checks, key=lambda c: _SEVERITY[c.status])
    return Check(name, worst.status, worst.detail)
