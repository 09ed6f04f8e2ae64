"""Plain-language explanations of the verifier's checks, for people who are not experts.

Pure: a check's name and status in, a sentence out (see docs/verification.md for the checks).
"""

from __future__ import annotations

import re

PASSED = "passed"
FAILED = "failed"
NOT_APPLICABLE = "not-applicable"
UNKNOWN = "unknown"
WARNING = "warning"

#: How each status is said in words (the panel never relies on colour alone).
STATUS_LABELS = {
    PASSED: "Passed",
    FAILED: "Failed",
    NOT_APPLICABLE: "Not applicable",
    UNKNOWN: "Could not be checked",
    WARNING: "Passed with a warning",
}

#: check name -> (title, {status: sentence}).
EXPLANATIONS: dict[str, tuple[str, dict[str, str]]] = {
    "contexts": (
        "Vocabulary",
        {
            PASSED: "The credential uses only well-known, published vocabularies.",
            FAILED: "The credential relies on a vocabulary we do not recognise, so it cannot "
            "be checked safely.",
        },
    ),
    "terms": (
        "Every field is covered",
        {
            PASSED: "Every piece of information in the credential is covered by the issuer's "
            "signature; nothing could be slipped in unsigned.",
            FAILED: "Some information in the credential is not defined, so it would not be "
            "protected by the signature.",
        },
    ),
    "vc-data-model": (
        "Credential rules",
        {
            PASSED: "The credential follows the rules every W3C Verifiable Credential must follow.",
            FAILED: "The credential breaks a rule every W3C Verifiable Credential must follow "
            "(for example an identifier that is not a web address, an empty recipient, or a "
            "linked file whose fingerprint does not match).",
        },
    ),
    "schema": (
        "Open Badges format",
        {
            PASSED: "The credential follows the official Open Badges 3.0 format.",
            FAILED: "The credential does not follow the Open Badges 3.0 format: a required "
            "field is missing or has the wrong kind of value.",
            NOT_APPLICABLE: "This is not an Open Badges credential (or uses an older format), "
            "so the Open Badges format rules do not apply.",
            WARNING: "The credential uses a form the standards allow (for example more than "
            "one status entry) but the official Open Badges 3.0 format checker rejects, so "
            "some other verifiers will report it as invalid.",
        },
    ),
    "subject": (
        "Recipient",
        {
            PASSED: "The credential says who received it.",
            FAILED: "The credential does not say who received it.",
            NOT_APPLICABLE: "This kind of credential does not need to name a recipient.",
        },
    ),
    "proof": (
        "Signature",
        {
            PASSED: "The issuer's digital signature is valid: nothing has been changed since "
            "the credential was issued.",
            FAILED: "The digital signature does not match: the credential was changed after it "
            "was issued, or someone else signed it.",
            UNKNOWN: "The issuer's public key could not be obtained, so the signature could not "
            "be checked.",
        },
    ),
    "issuer": (
        "Issuer",
        {
            PASSED: "The key that signed the credential belongs to the issuer named in it.",
            FAILED: "The key that signed the credential does not belong to the issuer named in it.",
            UNKNOWN: "We could not confirm who owns the signing key.",
            NOT_APPLICABLE: "There was no signature whose owner could be checked.",
        },
    ),
    "key-status": (
        "Signing key",
        {
            PASSED: "The issuer's signing key was in good standing when the credential was signed.",
            FAILED: "The issuer has withdrawn the signing key, or the key was used after it was "
            "retired.",
            UNKNOWN: "We could not find out whether the signing key is still in good standing.",
            NOT_APPLICABLE: "There was no signing key to check.",
        },
    ),
    "valid-from": (
        "Start date",
        {
            PASSED: "The credential's start date has been reached.",
            FAILED: "The credential is not valid yet: its start date is in the future.",
            NOT_APPLICABLE: "The credential has no start date.",
        },
    ),
    "valid-until": (
        "Expiry date",
        {
            PASSED: "The credential has not expired.",
            FAILED: "The credential has expired.",
            NOT_APPLICABLE: "The credential does not expire.",
        },
    ),
    "revocation": (
        "Revocation",
        {
            PASSED: "The issuer has not revoked the credential.",
            FAILED: "The issuer has revoked the credential: it is no longer valid.",
            UNKNOWN: "The issuer's revocation list could not be read, so we cannot tell "
            "whether the credential was revoked.",
            NOT_APPLICABLE: "The issuer does not publish revocations for this credential.",
        },
    ),
    "suspension": (
        "Suspension",
        {
            PASSED: "The credential is not suspended.",
            FAILED: "The issuer has suspended the credential for now.",
            UNKNOWN: "The issuer's suspension list could not be read, so we cannot tell "
            "whether the credential is suspended.",
            NOT_APPLICABLE: "The issuer does not publish suspensions for this credential.",
        },
    ),
    "endorsements": (
        "Endorsements",
        {
            PASSED: "Every endorsement attached to the credential is genuine.",
            FAILED: "At least one endorsement attached to the credential is not genuine.",
            UNKNOWN: "Some endorsements could not be checked.",
            NOT_APPLICABLE: "The credential carries no endorsements.",
        },
    ),
}

_GENERIC = {
    PASSED: "This check passed.",
    FAILED: "This check failed.",
    NOT_APPLICABLE: "This check does not apply to this credential.",
    UNKNOWN: "This check could not be completed, so it does not count as passed.",
    WARNING: "This check found something other verifiers may object to; it does not make the "
    "credential untrustworthy.",
}

_PROOF_INDEX = re.compile(r"proof\[(\d+)\]")


def title(name: str) -> str:
    """A short human title for a check (``proof[1]`` -> "Signature 2"); the name itself for a
    check we do not know."""
    match = _PROOF_INDEX.fullmatch(name)
    if match:
        return f"Signature {int(match.group(1)) + 1}"
    entry = EXPLANATIONS.get(name)
    return entry[0] if entry else name


def explain(name: str, status: str) -> str:
    """One sentence a non-expert understands, for check ``name`` ending with ``status``.

    Unknown names or statuses get a generic sentence; never raises.
    """
    key = "proof" if _PROOF_INDEX.fullmatch(name) else name
    entry = EXPLANATIONS.get(key)
    if entry and status in entry[1]:
        return entry[1][status]
    return _GENERIC.get(status, "This check ended with an unexpected result.")


def status_label(status: str) -> str:
    """The status in words ("Passed", "Failed", "Not applicable", "Could not be checked")."""
    return STATUS_LABELS.get(status, status)
