"""Plain-language explanations of the verifier's checks, for people who are not experts.

Pure: a check's name and status in, a sentence out (see docs/verification.md for the checks).
"""

from __future__ import annotations

import re
from typing import Any

from portfolio.core.i18n import lazy_gettext as _l

PASSED = "passed"
FAILED = "failed"
NOT_APPLICABLE = "not-applicable"
UNKNOWN = "unknown"
WARNING = "warning"

#: How each status is said in words (the panel never relies on colour alone).
STATUS_LABELS = {
    PASSED: _l("Passed"),
    FAILED: _l("Failed"),
    NOT_APPLICABLE: _l("Not applicable"),
    UNKNOWN: _l("Could not be checked"),
    WARNING: _l("Passed with a warning"),
}

#: check name -> (title, {status: sentence}).
EXPLANATIONS: dict[str, tuple[Any, dict[str, Any]]] = {
    "contexts": (
        _l("Vocabulary"),
        {
            PASSED: _l("The credential uses only well-known, published vocabularies."),
            FAILED: _l(
                "The credential relies on a vocabulary we do not recognise, so it cannot "
                "be checked safely."
            ),
        },
    ),
    "terms": (
        _l("Every field is covered"),
        {
            PASSED: _l(
                "Every piece of information in the credential is covered by the issuer's "
                "signature; nothing could be slipped in unsigned."
            ),
            FAILED: _l(
                "Some information in the credential is not defined, so it would not be "
                "protected by the signature."
            ),
        },
    ),
    "vc-data-model": (
        _l("Credential rules"),
        {
            PASSED: _l(
                "The credential follows the rules every W3C Verifiable Credential must follow."
            ),
            FAILED: _l(
                "The credential breaks a rule every W3C Verifiable Credential must follow "
                "(for example an identifier that is not a web address, an empty recipient, or a "
                "linked file whose fingerprint does not match)."
            ),
        },
    ),
    "schema": (
        _l("Open Badges format"),
        {
            PASSED: _l("The credential follows the official Open Badges 3.0 format."),
            FAILED: _l(
                "The credential does not follow the Open Badges 3.0 format: a required "
                "field is missing or has the wrong kind of value."
            ),
            NOT_APPLICABLE: _l(
                "This is not an Open Badges credential (or uses an older format), "
                "so the Open Badges format rules do not apply."
            ),
            WARNING: _l(
                "The credential uses a form the standards allow (for example more than "
                "one status entry) but the official Open Badges 3.0 format checker rejects, so "
                "some other verifiers will report it as invalid."
            ),
        },
    ),
    "subject": (
        _l("Recipient"),
        {
            PASSED: _l("The credential says who received it."),
            FAILED: _l("The credential does not say who received it."),
            NOT_APPLICABLE: _l("This kind of credential does not need to name a recipient."),
        },
    ),
    "proof": (
        _l("Signature"),
        {
            PASSED: _l(
                "The issuer's digital signature is valid: nothing has been changed since "
                "the credential was issued."
            ),
            FAILED: _l(
                "The digital signature does not match: the credential was changed after it "
                "was issued, or someone else signed it."
            ),
            UNKNOWN: _l(
                "The issuer's public key could not be obtained, so the signature could not "
                "be checked."
            ),
        },
    ),
    "issuer": (
        _l("Issuer"),
        {
            PASSED: _l("The key that signed the credential belongs to the issuer named in it."),
            FAILED: _l(
                "The key that signed the credential does not belong to the issuer named in it."
            ),
            UNKNOWN: _l("We could not confirm who owns the signing key."),
            NOT_APPLICABLE: _l("There was no signature whose owner could be checked."),
        },
    ),
    "key-status": (
        _l("Signing key"),
        {
            PASSED: _l(
                "The issuer's signing key was in good standing when the credential was signed."
            ),
            FAILED: _l(
                "The issuer has withdrawn the signing key, or the key was used after it was "
                "retired."
            ),
            UNKNOWN: _l("We could not find out whether the signing key is still in good standing."),
            NOT_APPLICABLE: _l("There was no signing key to check."),
        },
    ),
    "valid-from": (
        _l("Start date"),
        {
            PASSED: _l("The credential's start date has been reached."),
            FAILED: _l("The credential is not valid yet: its start date is in the future."),
            NOT_APPLICABLE: _l("The credential has no start date."),
        },
    ),
    "valid-until": (
        _l("Expiry date"),
        {
            PASSED: _l("The credential has not expired."),
            FAILED: _l("The credential has expired."),
            NOT_APPLICABLE: _l("The credential does not expire."),
        },
    ),
    "revocation": (
        _l("Revocation"),
        {
            PASSED: _l("The issuer has not revoked the credential."),
            FAILED: _l("The issuer has revoked the credential: it is no longer valid."),
            UNKNOWN: _l(
                "The issuer's revocation list could not be read, so we cannot tell "
                "whether the credential was revoked."
            ),
            NOT_APPLICABLE: _l("The issuer does not publish revocations for this credential."),
        },
    ),
    "suspension": (
        _l("Suspension"),
        {
            PASSED: _l("The credential is not suspended."),
            FAILED: _l("The issuer has suspended the credential for now."),
            UNKNOWN: _l(
                "The issuer's suspension list could not be read, so we cannot tell "
                "whether the credential is suspended."
            ),
            NOT_APPLICABLE: _l("The issuer does not publish suspensions for this credential."),
        },
    ),
    "endorsements": (
        _l("Endorsements"),
        {
            PASSED: _l("Every endorsement attached to the credential is genuine."),
            FAILED: _l("At least one endorsement attached to the credential is not genuine."),
            UNKNOWN: _l("Some endorsements could not be checked."),
            NOT_APPLICABLE: _l("The credential carries no endorsements."),
        },
    ),
    "issuer-trust": (
        _l("Who the issuer is"),
        {
            PASSED: _l(
                "A source this service trusts confirms who the issuer is: this service "
                "itself, or a trust list its administrators chose."
            ),
            UNKNOWN: _l(
                "No source this service trusts confirms who the issuer is. Anyone can "
                "sign a credential under any name, so the issuer's name is only its own claim."
            ),
        },
    ),
}

_GENERIC = {
    PASSED: _l("This check passed."),
    FAILED: _l("This check failed."),
    NOT_APPLICABLE: _l("This check does not apply to this credential."),
    UNKNOWN: _l("This check could not be completed, so it does not count as passed."),
    WARNING: _l(
        "This check found something other verifiers may object to; it does not make the "
        "credential untrustworthy."
    ),
}

_PROOF_INDEX = re.compile(r"proof\[(\d+)\]")


def title(name: str) -> str:
    """A short human title for a check (``proof[1]`` -> "Signature 2"); the name itself for a
    check we do not know."""
    match = _PROOF_INDEX.fullmatch(name)
    if match:
        return str(_l("Signature %(number)s", number=int(match.group(1)) + 1))
    entry = EXPLANATIONS.get(name)
    return str(entry[0]) if entry else name


def explain(name: str, status: str) -> str:
    """One sentence a non-expert understands, for check ``name`` ending with ``status``.

    Unknown names or statuses get a generic sentence; never raises.
    """
    key = "proof" if _PROOF_INDEX.fullmatch(name) else name
    entry = EXPLANATIONS.get(key)
    if entry and status in entry[1]:
        return str(entry[1][status])
    return str(_GENERIC.get(status, _l("This check ended with an unexpected result.")))


def status_label(status: str) -> str:
    """The status in words ("Passed", "Failed", "Not applicable", "Could not be checked")."""
    return str(STATUS_LABELS.get(status, status))
